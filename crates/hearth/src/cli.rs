//! Command-line arguments. Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{Backend, CoachOverrides, ModelOverrides, Overrides, ServerOverrides};

/// Hearth: a private relationship coach that runs on your own machine.
#[derive(Debug, Parser)]
#[command(name = "hearth", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Directory for the database and the model cache.
    #[arg(long, global = true, env = "HEARTH_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Configuration file (default: <data-dir>/hearth.toml).
    #[arg(long, global = true, env = "HEARTH_CONFIG")]
    pub config: Option<PathBuf>,
    /// Which backend answers: embedded, openai or scripted.
    #[arg(long, global = true, env = "HEARTH_BACKEND", value_enum)]
    pub backend: Option<Backend>,
    /// Known model to run on the embedded backend (see `hearth model list`).
    #[arg(long, global = true, env = "HEARTH_MODEL")]
    pub model: Option<String>,
    /// A GGUF file to run instead of a known model.
    #[arg(long, global = true, env = "HEARTH_MODEL_PATH")]
    pub model_path: Option<PathBuf>,
    /// Directory of downloaded models (default: ~/.local/share/hearth/models).
    #[arg(long, global = true, env = "HEARTH_MODELS_DIR")]
    pub models_dir: Option<PathBuf>,
    /// CPU threads for the embedded model (default: every core).
    #[arg(long, global = true, env = "HEARTH_THREADS")]
    pub threads: Option<usize>,
    /// Base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1.
    #[arg(long, global = true, env = "HEARTH_OPENAI_URL")]
    pub openai_url: Option<String>,
    /// Model name on the OpenAI-compatible server.
    #[arg(long, global = true, env = "HEARTH_OPENAI_MODEL")]
    pub openai_model: Option<String>,
    /// API key for the OpenAI-compatible server.
    #[arg(long, global = true, env = "HEARTH_OPENAI_API_KEY", hide_env_values = true)]
    pub openai_api_key: Option<String>,
    /// Locale for crisis and abuse resources (us, gb, ie, ca, au, nz, in, de, fr, es).
    #[arg(long, global = true, env = "HEARTH_LOCALE")]
    pub locale: Option<String>,
}

impl Global {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            data_dir: self.data_dir.clone(),
            model: ModelOverrides {
                backend: self.backend,
                name: self.model.clone(),
                path: self.model_path.clone(),
                cache_dir: self.models_dir.clone(),
                threads: self.threads,
                openai_url: self.openai_url.clone(),
                openai_model: self.openai_model.clone(),
                openai_api_key: self.openai_api_key.clone(),
            },
            coach: CoachOverrides { locale: self.locale.clone() },
            server: ServerOverrides::default(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web app and API (provisions the model on first run).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "HEARTH_BIND")]
        bind: Option<String>,
    },
    /// Talk with the coach in the terminal.
    Chat {
        /// Continue this conversation (see `hearth history`).
        #[arg(long)]
        conversation: Option<String>,
    },
    /// One coaching turn: prints the reply, or with --json the whole outcome.
    Ask {
        /// Print one JSON object (reply, safety, topics, citations, exercise, model, timings).
        #[arg(long)]
        json: bool,
        /// Continue this conversation.
        #[arg(long)]
        conversation: Option<String>,
        /// The message.
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Safety triage of text, without any model.
    Triage {
        /// Triage TEXT and print one JSON object.
        #[arg(long, value_name = "TEXT", conflicts_with = "jsonl")]
        json: Option<String>,
        /// Read JSON lines {"id","text"} on stdin; write one result line each.
        #[arg(long)]
        jsonl: bool,
    },
    /// Past conversations, or one conversation's messages.
    History {
        /// A conversation id.
        conversation: Option<String>,
    },
    /// Manage local models.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Measure the embedded model's speed and memory (optionally against llama.cpp's llama-bench).
    Bench(BenchArgs),
    /// Print a commented example configuration file.
    DefaultConfig,
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Known models and whether they are present.
    List,
    /// Download and verify a model (default: the configured one).
    Pull {
        /// Model name.
        name: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Prompt length for the prompt-processing figure, in tokens.
    #[arg(long, default_value_t = 512)]
    pub prompt_tokens: usize,
    /// Tokens to generate for the generation figure.
    #[arg(long, default_value_t = 128)]
    pub gen_tokens: u32,
    /// Repetitions of each measurement (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub repetitions: usize,
    /// Turns in the conversation used for the turn-1 versus turn-N first-token latency.
    #[arg(long, default_value_t = 10)]
    pub turns: usize,
    /// Path to llama.cpp's llama-bench, to measure llama.cpp itself on the same model and threads.
    #[arg(long, env = "HEARTH_LLAMA_BENCH")]
    pub llama_bench: Option<PathBuf>,
    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,
}
