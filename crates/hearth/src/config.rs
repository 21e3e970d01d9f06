//! Configuration: defaults, then a TOML file, then environment variables and flags.
//!
//! Read once, at start-up, here; nothing deeper in the tree reads the environment.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use hearth_coach::CoachConfig;
use serde::{Deserialize, Serialize};

/// Which kind of model answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// A GGUF model run inside Hearth by llama.cpp (the default; fully offline).
    Embedded,
    /// Any OpenAI-compatible server (Ollama, vLLM, llama-server, hosted APIs).
    Openai,
    /// Deterministic echo replies, for trying the plumbing without a model.
    Scripted,
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ModelSettings {
    pub backend: Backend,
    /// A known model name (`hearth model list`) for the embedded backend.
    pub name: String,
    /// A GGUF file to use instead of a known model.
    pub path: Option<PathBuf>,
    /// Where known models are kept: shared by every data directory, so a second profile or a test
    /// does not download them again.
    pub cache_dir: PathBuf,
    /// CPU threads; unset uses every core.
    pub threads: Option<usize>,
    pub context_tokens: u32,
    pub openai_url: String,
    pub openai_model: String,
    /// Secret: never printed or logged.
    pub openai_api_key: Option<String>,
}

impl std::fmt::Debug for ModelSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelSettings")
            .field("backend", &self.backend)
            .field("name", &self.name)
            .field("path", &self.path)
            .field("cache_dir", &self.cache_dir)
            .field("threads", &self.threads)
            .field("context_tokens", &self.context_tokens)
            .field("openai_url", &self.openai_url)
            .field("openai_model", &self.openai_model)
            .field("openai_api_key", &self.openai_api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Default for ModelSettings {
    fn default() -> Self {
        Self {
            backend: Backend::Embedded,
            name: hearth_models::DEFAULT_MODEL.to_string(),
            path: None,
            cache_dir: default_models_dir(),
            threads: None,
            context_tokens: 4096,
            openai_url: "http://127.0.0.1:11434/v1".into(),
            openai_model: "llama3.2".into(),
            openai_api_key: None,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ServerSettings {
    pub bind: String,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self { bind: "127.0.0.1:7860".into() }
    }
}

/// All of Hearth's settings.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Settings {
    /// Where the database and the model cache live.
    pub data_dir: PathBuf,
    pub model: ModelSettings,
    pub coach: CoachConfig,
    pub server: ServerSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: default_data_dir(),
            model: ModelSettings::default(),
            coach: CoachConfig::default(),
            server: ServerSettings::default(),
        }
    }
}

/// The XDG data directory (`~/.local/share/hearth` on Linux), or `./.hearth-data` without a home.
pub fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "hearth")
        .map_or_else(|| PathBuf::from(".hearth-data"), |dirs| dirs.data_dir().to_path_buf())
}

/// The shared model cache (`~/.local/share/hearth/models` on Linux).
pub fn default_models_dir() -> PathBuf {
    hearth_models::default_cache_dir().unwrap_or_else(|| default_data_dir().join("models"))
}

/// The config file used when none is named: `hearth.toml` in the data directory.
pub fn default_config_path(data_dir: &Path) -> PathBuf {
    data_dir.join("hearth.toml")
}

impl Settings {
    /// Layers the settings: defaults, then the file (if it exists, or must exist when named), then
    /// `overrides` (environment variables and flags, already merged by clap).
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Self> {
        let data_dir = overrides.data_dir.clone().unwrap_or_else(default_data_dir);
        let path = match file {
            Some(path) => {
                anyhow::ensure!(path.is_file(), "config file {} does not exist", path.display());
                path.to_path_buf()
            }
            None => default_config_path(&data_dir),
        };
        let settings: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(&path))
            .merge(Serialized::defaults(overrides))
            .extract()
            .with_context(|| format!("invalid configuration in {}", path.display()))?;
        Ok(settings)
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("hearth.db")
    }

    pub fn models_dir(&self) -> PathBuf {
        self.model.cache_dir.clone()
    }
}

/// Values from flags and environment variables; only those given are set, so they override the
/// file without erasing it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "ModelOverrides::is_empty")]
    pub model: ModelOverrides,
    #[serde(skip_serializing_if = "CoachOverrides::is_empty")]
    pub coach: CoachOverrides,
    #[serde(skip_serializing_if = "ServerOverrides::is_empty")]
    pub server: ServerOverrides,
}

#[derive(Clone, Default, Serialize)]
pub struct ModelOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<Backend>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub openai_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub openai_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub openai_api_key: Option<String>,
}

impl std::fmt::Debug for ModelOverrides {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelOverrides")
            .field("backend", &self.backend)
            .field("name", &self.name)
            .field("path", &self.path)
            .field("cache_dir", &self.cache_dir)
            .field("threads", &self.threads)
            .field("openai_url", &self.openai_url)
            .field("openai_model", &self.openai_model)
            .field("openai_api_key", &self.openai_api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ModelOverrides {
    fn is_empty(&self) -> bool {
        self.backend.is_none()
            && self.name.is_none()
            && self.path.is_none()
            && self.cache_dir.is_none()
            && self.threads.is_none()
            && self.openai_url.is_none()
            && self.openai_model.is_none()
            && self.openai_api_key.is_none()
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CoachOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

impl CoachOverrides {
    fn is_empty(&self) -> bool {
        self.locale.is_none()
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ServerOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
}

impl ServerOverrides {
    fn is_empty(&self) -> bool {
        self.bind.is_none()
    }
}

/// The commented example printed by `hearth default-config`.
pub const EXAMPLE: &str = r#"# Hearth configuration. Put it at <data_dir>/hearth.toml or pass --config FILE.
# Every setting can also be given as a flag or an environment variable (see `hearth --help`);
# flags and environment variables win over this file.

# Where the database (hearth.db) lives.
# data_dir = "~/.local/share/hearth"

[model]
# embedded: a GGUF model inside Hearth (llama.cpp, offline). openai: an OpenAI-compatible server.
backend = "embedded"
# A known model: qwen2.5-coder-1.5b (default) or qwen2.5-coder-0.5b (small, fast). See `hearth model list`.
name = "qwen2.5-coder-1.5b"
# Use your own GGUF file instead of a known model.
# path = "/models/my-model.gguf"
# Where known models are downloaded to (shared by every data directory).
# cache_dir = "~/.local/share/hearth/models"
# CPU threads for the embedded model; unset uses every core.
# threads = 4
# Context window in tokens (prompt plus reply).
context_tokens = 4096
# For backend = "openai": base URL (with /v1), model name, and an optional key (prefer the
# HEARTH_OPENAI_API_KEY environment variable for the key).
openai_url = "http://127.0.0.1:11434/v1"
openai_model = "llama3.2"

[coach]
# Crisis and abuse resources are shown for this locale: us, gb, ie, ca, au, nz, in, de, fr, es
# (anything else gets international resources).
locale = "us"
# The longest message accepted, in characters.
max_message_chars = 8000
# How much earlier conversation goes into the model's prompt, in characters.
history_chars = 6000
# How many knowledge cards are cited per reply.
cards_per_reply = 2

[coach.sampling]
temperature = 0.7
top_p = 0.9
top_k = 40
# Greedy decoding loops on small models; keep a repetition penalty above 1.0.
repeat_penalty = 1.1
repeat_last_n = 128
max_tokens = 300
seed = 42

[server]
# Address for `hearth serve`.
bind = "127.0.0.1:7860"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses_to_the_defaults() {
        let from_example: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::string(EXAMPLE))
            .extract()
            .expect("example parses");
        assert_eq!(from_example, Settings::default());
    }

    #[test]
    fn flags_override_the_file_and_keep_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("hearth.toml");
        std::fs::write(
            &file,
            "[model]\nname = \"qwen2.5-coder-0.5b\"\nthreads = 3\n[coach]\nlocale = \"gb\"\n",
        )
        .expect("write");
        let overrides = Overrides {
            model: ModelOverrides { threads: Some(1), ..ModelOverrides::default() },
            ..Overrides::default()
        };
        let settings = Settings::load(Some(&file), &overrides).expect("load");
        assert_eq!(settings.model.name, "qwen2.5-coder-0.5b");
        assert_eq!(settings.model.threads, Some(1));
        assert_eq!(settings.coach.locale, "gb");
    }

    #[test]
    fn a_named_missing_file_is_an_error() {
        let result = Settings::load(Some(Path::new("/no/such/hearth.toml")), &Overrides::default());
        assert!(result.is_err());
    }

    #[test]
    fn debug_never_shows_the_api_key() {
        let mut settings = Settings::default();
        settings.model.openai_api_key = Some("sk-very-secret".into());
        assert!(!format!("{settings:?}").contains("sk-very-secret"));
    }
}
