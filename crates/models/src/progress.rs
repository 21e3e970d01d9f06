//! How provisioning reports what it is doing: a trait, a terminal progress bar and a silent sink.

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Receives progress from the provisioner and its sources. Called from one thread at a time,
/// but shareable so a server can report into its own state.
pub trait Progress: Send + Sync {
    /// A new phase begins (`label`), with its total bytes when known.
    fn start(&self, label: &str, total: Option<u64>);
    /// `bytes` more of the current phase are done.
    fn advance(&self, bytes: u64);
    /// The current phase is over.
    fn finish(&self);
    /// A one-line note for the person waiting.
    fn message(&self, msg: &str);
}

/// Discards all progress.
#[derive(Debug, Default, Clone, Copy)]
pub struct SilentProgress;

impl Progress for SilentProgress {
    fn start(&self, _label: &str, _total: Option<u64>) {}
    fn advance(&self, _bytes: u64) {}
    fn finish(&self) {}
    fn message(&self, _msg: &str) {}
}

/// A progress bar on stderr (bytes, speed, ETA). Drawing is hidden when stderr is not a terminal;
/// messages are still printed then, one per line, so logs say what happened.
#[derive(Debug, Default)]
pub struct IndicatifProgress {
    bar: Mutex<Option<ProgressBar>>,
}

impl IndicatifProgress {
    /// A progress reporter with no phase started yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn with_bar(&self, f: impl FnOnce(&mut Option<ProgressBar>)) {
        // A poisoned lock only means another thread panicked mid-update; the bar is still usable.
        let mut guard = self.bar.lock().unwrap_or_else(|poison| poison.into_inner());
        f(&mut guard);
    }
}

fn bytes_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{msg} [{elapsed_precise}] [{wide_bar}] {bytes}/{total_bytes} {bytes_per_sec} (ETA {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg} [{elapsed_precise}] {bytes}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

impl Progress for IndicatifProgress {
    fn start(&self, label: &str, total: Option<u64>) {
        self.with_bar(|slot| {
            if let Some(old) = slot.take() {
                old.finish();
            }
            let bar = match total {
                Some(len) => ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr())
                    .with_style(bytes_style()),
                None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
                    .with_style(spinner_style()),
            };
            bar.set_message(label.to_owned());
            if total.is_none() {
                bar.enable_steady_tick(Duration::from_millis(120));
            }
            *slot = Some(bar);
        });
    }

    fn advance(&self, bytes: u64) {
        self.with_bar(|slot| {
            if let Some(bar) = slot {
                bar.inc(bytes);
            }
        });
    }

    fn finish(&self) {
        self.with_bar(|slot| {
            if let Some(bar) = slot.take() {
                bar.finish();
            }
        });
    }

    fn message(&self, msg: &str) {
        self.with_bar(|slot| match slot {
            // `suspend` clears the bar, prints, and redraws it; when hidden it just prints.
            Some(bar) => bar.suspend(|| eprintln!("{msg}")),
            None => eprintln!("{msg}"),
        });
    }
}

/// Copy everything from `reader` to `writer`, reporting each chunk to `progress`.
pub(crate) fn copy_reporting(
    reader: &mut impl std::io::Read,
    writer: &mut impl std::io::Write,
    progress: &dyn Progress,
) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        writer.write_all(&buf[..n])?;
        total += n as u64;
        progress.advance(n as u64);
    }
}
