//! The `hearth` command: wires configuration, the store, the model and the coach together and runs
//! the sub-commands. `main.rs` only parses arguments and reports errors.

pub mod bench;
pub mod cli;
pub mod config;
mod terminal;

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use hearth_coach::{Coach, TurnRequest};
use hearth_core::LOCAL_USER;
use hearth_llm::{ChatModel, Embedded, EmbeddedConfig, OpenAi, OpenAiConfig, Scripted};
use hearth_models::{IndicatifProgress, Provisioner};
use hearth_store::{SqliteStore, Store};
use serde_json::json;

use crate::cli::{Cli, Command, ModelCommand};
use crate::config::{Backend, EXAMPLE, Settings};

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::DefaultConfig = cli.command {
        print!("{EXAMPLE}");
        return Ok(());
    }
    let mut settings = Settings::load(cli.global.config.as_deref(), &cli.global.overrides())?;
    match cli.command {
        Command::DefaultConfig => Ok(()),
        Command::Triage { json, jsonl } => triage(json, jsonl),
        Command::Model { command } => model_command(&settings, command),
        Command::History { conversation } => history(&settings, conversation).await,
        Command::Ask { json, conversation, text } => {
            let coach = open_coach(&settings).await?;
            ask(&coach, conversation, text.join(" "), json).await
        }
        Command::Chat { conversation } => {
            let coach = open_coach(&settings).await?;
            terminal::chat(&coach, conversation).await
        }
        Command::Serve { bind } => {
            if let Some(bind) = bind {
                settings.server.bind = bind;
            }
            serve(&settings).await
        }
        Command::Bench(args) => bench::run(&settings, &args).await,
    }
}

/// Opens the store in the data directory, creating it on first use.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!("could not create the data directory {}", settings.data_dir.display())
    })?;
    let store = SqliteStore::open(&settings.database_path()).await?;
    Ok(Arc::new(store))
}

/// The path of the embedded model's GGUF file, provisioning it first if it is missing.
pub fn model_file(settings: &Settings) -> anyhow::Result<PathBuf> {
    if let Some(path) = &settings.model.path {
        anyhow::ensure!(path.is_file(), "the model file {} does not exist", path.display());
        return Ok(path.clone());
    }
    let provisioner = Provisioner::new(settings.models_dir());
    let path = provisioner.ensure(&settings.model.name, &IndicatifProgress::new())?;
    Ok(path)
}

/// Loads the embedded model (off the async runtime: it takes seconds).
pub async fn load_embedded(settings: &Settings) -> anyhow::Result<Arc<Embedded>> {
    let path = {
        let settings = settings.clone();
        tokio::task::spawn_blocking(move || model_file(&settings)).await??
    };
    let name = match &settings.model.path {
        Some(path) => {
            path.file_stem().map_or_else(|| "custom".into(), |s| s.to_string_lossy().into_owned())
        }
        None => settings.model.name.clone(),
    };
    let mut config = EmbeddedConfig::new(path, name);
    config.threads = settings.model.threads;
    config.context_tokens = settings.model.context_tokens;
    config.prefix_cache_dir = directories::ProjectDirs::from("", "", "hearth")
        .map(|dirs| dirs.cache_dir().join("prefix"));
    let model = tokio::task::spawn_blocking(move || Embedded::load(config)).await??;
    Ok(Arc::new(model))
}

/// The configured model backend.
pub async fn open_model(settings: &Settings) -> anyhow::Result<Arc<dyn ChatModel>> {
    Ok(match settings.model.backend {
        Backend::Embedded => load_embedded(settings).await?,
        Backend::Openai => {
            let mut config = OpenAiConfig::new(
                settings.model.openai_url.clone(),
                settings.model.openai_model.clone(),
            );
            config.api_key = settings.model.openai_api_key.clone();
            Arc::new(OpenAi::new(config)?)
        }
        Backend::Scripted => Arc::new(Scripted::echo()),
    })
}

pub async fn open_coach(settings: &Settings) -> anyhow::Result<Coach> {
    let store = open_store(settings).await?;
    let model = open_model(settings).await?;
    let coach = Coach::new(store, model, settings.coach.clone());
    // A cold cache only costs time, so a failure here is logged, not fatal.
    if let Err(err) = coach.prepare().await {
        tracing::warn!(error = %err, "could not prepare the model's prompt cache");
    }
    Ok(coach)
}

async fn ask(
    coach: &Coach,
    conversation: Option<String>,
    text: String,
    as_json: bool,
) -> anyhow::Result<()> {
    let request = TurnRequest { owner: LOCAL_USER.into(), conversation_id: conversation, text };
    if as_json {
        let outcome = coach.ask(request).await?;
        println!("{}", serde_json::to_string_pretty(&outcome)?);
        return Ok(());
    }
    terminal::stream_turn(coach, request).await.map(|_| ())
}

fn triage(text: Option<String>, jsonl: bool) -> anyhow::Result<()> {
    let line_for = |id: serde_json::Value, text: &str| {
        let result = hearth_safety::triage(text);
        json!({
            "id": id,
            "level": result.level,
            "categories": result.categories,
            "evidence": result.evidence,
        })
    };
    if let Some(text) = text {
        println!("{}", line_for(serde_json::Value::Null, &text));
        return Ok(());
    }
    if !jsonl {
        bail!("give --json TEXT, or --jsonl with JSON lines on stdin");
    }
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (number, line) in stdin.lock().lines().enumerate() {
        let line = line.context("could not read stdin")?;
        if line.trim().is_empty() {
            continue;
        }
        let output = match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(value) => match value.get("text").and_then(|t| t.as_str()) {
                Some(text) => line_for(value.get("id").cloned().unwrap_or_default(), text),
                None => json!({
                    "id": value.get("id").cloned().unwrap_or_default(),
                    "error": { "code": "missing_text", "message": format!("line {}: no \"text\" string", number + 1) },
                }),
            },
            Err(err) => json!({
                "id": null,
                "error": { "code": "invalid_json", "message": format!("line {}: {err}", number + 1) },
            }),
        };
        writeln!(out, "{output}")?;
    }
    out.flush()?;
    Ok(())
}

fn model_command(settings: &Settings, command: ModelCommand) -> anyhow::Result<()> {
    let provisioner = Provisioner::new(settings.models_dir());
    match command {
        ModelCommand::List => {
            println!("{:<22} {:>9}  {:<8} description", "name", "size", "present");
            for status in provisioner.status() {
                let marker = if status.name == settings.model.name { "*" } else { " " };
                println!(
                    "{marker}{:<21} {:>7.0}MB  {:<8} {}",
                    status.name,
                    status.size as f64 / 1e6,
                    if status.present { "yes" } else { "no" },
                    status.description
                );
            }
            println!(
                "\nModels live in {}; * marks the configured model.",
                provisioner.cache_dir().display()
            );
            Ok(())
        }
        ModelCommand::Pull { name } => {
            let name = name.unwrap_or_else(|| settings.model.name.clone());
            let path = provisioner.ensure(&name, &IndicatifProgress::new())?;
            println!("{name} is ready at {}", path.display());
            Ok(())
        }
    }
}

async fn history(settings: &Settings, conversation: Option<String>) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    match conversation {
        None => {
            for c in store.conversations(LOCAL_USER, 50).await? {
                println!("{}  {}  {}", c.id, c.updated_at.format("%Y-%m-%d %H:%M"), c.title);
            }
        }
        Some(id) => {
            for m in store.messages(LOCAL_USER, &id).await? {
                println!(
                    "[{}] {}:\n{}\n",
                    m.created_at.format("%Y-%m-%d %H:%M"),
                    m.role.as_str(),
                    m.content
                );
            }
        }
    }
    Ok(())
}

async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let coach = Arc::new(open_coach(settings).await?);
    let listener = tokio::net::TcpListener::bind(&settings.server.bind)
        .await
        .with_context(|| format!("could not listen on {}", settings.server.bind))?;
    let address = listener.local_addr()?;
    eprintln!(
        "Hearth is running at http://{address}/ (model {}). Press Ctrl-C to stop.",
        coach.model_name()
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    hearth_server::serve(listener, hearth_server::AppState { coach }, shutdown).await?;
    Ok(())
}
