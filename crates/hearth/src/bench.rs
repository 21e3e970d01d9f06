//! `hearth bench`: speed and memory of the embedded model, measured the way llama.cpp measures
//! itself, and — when a `llama-bench` binary is given — llama.cpp's own figures on the same model and
//! threads in the same run, with the ratio.
//!
//! Figures: prompt processing (tokens/s reading a prompt of `--prompt-tokens`), generation
//! (tokens/s producing `--gen-tokens`), time to first token of a coaching turn at turn 1 (cold
//! cache) and at turn N of the same conversation, and the process's peak resident memory.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use hearth_coach::{Coach, CoachConfig, TurnRequest};
use hearth_core::{ChatMessage, LOCAL_USER};
use hearth_llm::{ChatModel, ChatRequest, Embedded, SamplingParams, complete};
use hearth_store::SqliteStore;
use serde::Serialize;

use crate::cli::BenchArgs;
use crate::config::Settings;

#[derive(Debug, Default, Serialize)]
pub struct BenchReport {
    pub model: String,
    pub threads: usize,
    pub prompt_tokens: usize,
    pub gen_tokens: u32,
    pub prompt_tokens_per_s: f64,
    pub gen_tokens_per_s: f64,
    /// A first turn with nothing cached (a fresh engine that never saw the system prompt).
    pub first_token_ms_cold: u64,
    /// A first turn as Hearth runs it: the system prompt prepared at start-up.
    pub first_token_ms_turn1: u64,
    pub first_token_ms_turn_n: u64,
    pub turn_n: usize,
    pub peak_rss_mib: f64,
    pub llama_bench: Option<LlamaBenchFigures>,
}

#[derive(Debug, Default, Serialize)]
pub struct LlamaBenchFigures {
    pub prompt_tokens_per_s: f64,
    pub gen_tokens_per_s: f64,
    /// Hearth's figure divided by llama.cpp's.
    pub prompt_ratio: f64,
    pub gen_ratio: f64,
}

pub async fn run(settings: &Settings, args: &BenchArgs) -> anyhow::Result<()> {
    let model = crate::load_embedded(settings).await?;
    let info = model.info().clone();
    eprintln!("benchmarking {} with {} threads…", info.name, info.threads);
    let repetitions = args.repetitions.max(1);

    // Prompt processing: a cold read of a prompt of the requested length, one token generated.
    let filler = prompt_of_tokens(args.prompt_tokens);
    let mut pp = Vec::new();
    for _ in 0..repetitions {
        model.clear_cache()?;
        let mut request = ChatRequest::new(vec![ChatMessage::user(filler.clone())]);
        request.sampling.max_tokens = 1;
        let done = complete(model.as_ref(), request).await?;
        pp.push(
            f64::from(done.usage.prompt_tokens) / (done.usage.prompt_ms.max(1) as f64 / 1000.0),
        );
    }

    // Generation: tokens after the first, over the time after the first.
    let mut tg = Vec::new();
    for rep in 0..repetitions {
        model.clear_cache()?;
        let mut request = ChatRequest::new(vec![ChatMessage::user(
            "Write a long, detailed story about two old friends who meet again after twenty years.",
        )]);
        request.sampling = SamplingParams {
            max_tokens: args.gen_tokens,
            seed: 7 + rep as u32,
            ..SamplingParams::default()
        };
        let done = complete(model.as_ref(), request).await?;
        let tokens = done.usage.completion_tokens.saturating_sub(1);
        let ms = done.usage.total_ms.saturating_sub(done.usage.first_token_ms).max(1);
        tg.push(f64::from(tokens) / (ms as f64 / 1000.0));
    }

    let (cold, turn1, turn_n) = conversation_latency(&model, args.turns.max(2)).await?;

    let mut report = BenchReport {
        model: info.name.clone(),
        threads: info.threads,
        prompt_tokens: args.prompt_tokens,
        gen_tokens: args.gen_tokens,
        prompt_tokens_per_s: median(&mut pp),
        gen_tokens_per_s: median(&mut tg),
        first_token_ms_cold: cold,
        first_token_ms_turn1: turn1,
        first_token_ms_turn_n: turn_n,
        turn_n: args.turns.max(2),
        peak_rss_mib: peak_rss_mib().unwrap_or(0.0),
        llama_bench: None,
    };
    // Free the model before llama-bench loads its own copy, so the two do not compete for memory.
    drop(model);

    if let Some(binary) = &args.llama_bench {
        let (pp_ref, tg_ref) = llama_bench(binary, &info.path, info.threads, args, repetitions)?;
        report.llama_bench = Some(LlamaBenchFigures {
            prompt_tokens_per_s: pp_ref,
            gen_tokens_per_s: tg_ref,
            prompt_ratio: report.prompt_tokens_per_s / pp_ref,
            gen_ratio: report.gen_tokens_per_s / tg_ref,
        });
    }

    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

/// Time to first token of a real coaching turn, through the coach (triage, retrieval, prompt,
/// KV-cache reuse and all): a first turn with an empty cache, then a conversation of `turns` turns
/// started the way Hearth starts (system prompt prepared): its turn 1 and its last turn.
async fn conversation_latency(
    model: &Arc<Embedded>,
    turns: usize,
) -> anyhow::Result<(u64, u64, u64)> {
    const MESSAGES: &[&str] = &[
        "My partner and I keep fighting about chores and I feel unheard.",
        "Last night it happened again: I asked for help with the dishes and he said I nag.",
        "I do most of the cleaning and I'm tired all the time.",
        "When I bring it up he goes quiet and watches his phone.",
        "I think he grew up in a house where his mum did everything.",
        "I don't want to be the household manager anymore.",
        "Maybe we could try a weekly planning talk on Sundays?",
        "How do I start that conversation without it turning into a fight?",
        "What if he says I'm overreacting?",
        "Thanks. I'll try it this weekend and tell you how it went.",
        "One more thing: how do I thank him when he does help?",
        "And what if we slip back into old habits?",
    ];
    let store = Arc::new(SqliteStore::in_memory().await?);
    let mut config = CoachConfig::default();
    config.sampling.max_tokens = 160;
    let chat_model: Arc<dyn ChatModel> = model.clone();
    let coach = Coach::new(store, chat_model, config);

    model.clear_cache()?;
    let cold_turn = coach
        .ask(TurnRequest {
            owner: LOCAL_USER.into(),
            conversation_id: None,
            text: MESSAGES[0].into(),
        })
        .await?;
    let cold = cold_turn.timings.first_token_ms.unwrap_or(cold_turn.timings.total_ms);
    eprintln!("  cold first turn: first token {cold} ms");

    model.clear_cache()?;
    coach.prepare().await?;
    let mut conversation = None;
    let (mut first, mut last) = (0, 0);
    for turn in 0..turns {
        let text = MESSAGES[turn % MESSAGES.len()].to_string();
        let outcome = coach
            .ask(TurnRequest {
                owner: LOCAL_USER.into(),
                conversation_id: conversation.clone(),
                text,
            })
            .await?;
        conversation = Some(outcome.conversation_id.clone());
        let ttft = outcome.timings.first_token_ms.unwrap_or(outcome.timings.total_ms);
        eprintln!(
            "  turn {:>2}: first token {ttft} ms, {} tokens",
            turn + 1,
            outcome.timings.tokens
        );
        if turn == 0 {
            first = ttft;
        }
        last = ttft;
    }
    Ok((cold, first, last))
}

/// Runs llama.cpp's `llama-bench` on the same file and threads; returns (pp, tg) tokens/s.
fn llama_bench(
    binary: &Path,
    model: &Path,
    threads: usize,
    args: &BenchArgs,
    repetitions: usize,
) -> anyhow::Result<(f64, f64)> {
    eprintln!("running {} …", binary.display());
    let output = Command::new(binary)
        .arg("-m")
        .arg(model)
        .args(["-t", &threads.to_string()])
        .args(["-p", &args.prompt_tokens.to_string()])
        .args(["-n", &args.gen_tokens.to_string()])
        .args(["-r", &repetitions.to_string()])
        .args(["-o", "json"])
        .output()
        .with_context(|| format!("could not run {}", binary.display()))?;
    if !output.status.success() {
        bail!(
            "llama-bench failed: {}",
            String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or("")
        );
    }
    let rows: Vec<serde_json::Value> =
        serde_json::from_slice(&output.stdout).context("llama-bench did not print JSON")?;
    let rate = |want_prompt: bool| {
        rows.iter()
            .find(|row| {
                let n_prompt = row["n_prompt"].as_u64().unwrap_or(0);
                let n_gen = row["n_gen"].as_u64().unwrap_or(0);
                if want_prompt { n_prompt > 0 && n_gen == 0 } else { n_gen > 0 && n_prompt == 0 }
            })
            .and_then(|row| row["avg_ts"].as_f64())
    };
    match (rate(true), rate(false)) {
        (Some(pp), Some(tg)) => Ok((pp, tg)),
        _ => bail!("llama-bench's JSON had no pp/tg rows"),
    }
}

/// A user message of about `tokens` tokens (English prose is ~1.3 tokens per word for Qwen).
fn prompt_of_tokens(tokens: usize) -> String {
    const TEXT: &str = "We had another long talk about how the week went and what we both need from each other when work gets busy and the house feels chaotic. ";
    let words_per_sentence = TEXT.split_whitespace().count();
    let sentences = (tokens as f64 / 1.25 / words_per_sentence as f64).ceil() as usize;
    TEXT.repeat(sentences.max(1))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// Peak resident memory of this process (Linux `VmHWM`).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn print_table(report: &BenchReport) {
    println!("model {} · {} threads", report.model, report.threads);
    println!("| figure | hearth | llama.cpp | ratio |");
    println!("|---|---:|---:|---:|");
    let (pp_ref, tg_ref, pp_ratio, tg_ratio) = match &report.llama_bench {
        Some(r) => (
            format!("{:.1}", r.prompt_tokens_per_s),
            format!("{:.1}", r.gen_tokens_per_s),
            format!("{:.2}", r.prompt_ratio),
            format!("{:.2}", r.gen_ratio),
        ),
        None => ("–".into(), "–".into(), "–".into(), "–".into()),
    };
    println!(
        "| prompt processing, {} tokens (tokens/s) | {:.1} | {pp_ref} | {pp_ratio} |",
        report.prompt_tokens, report.prompt_tokens_per_s
    );
    println!(
        "| generation, {} tokens (tokens/s) | {:.1} | {tg_ref} | {tg_ratio} |",
        report.gen_tokens, report.gen_tokens_per_s
    );
    println!(
        "| first token, first turn with an empty cache (ms) | {} | | |",
        report.first_token_ms_cold
    );
    println!(
        "| first token, turn 1, system prompt prepared at start (ms) | {} | | |",
        report.first_token_ms_turn1
    );
    println!(
        "| first token, turn {} (ms) | {} | | {:.2}× turn 1 |",
        report.turn_n,
        report.first_token_ms_turn_n,
        report.first_token_ms_turn_n as f64 / report.first_token_ms_turn1.max(1) as f64
    );
    println!("| peak memory (MiB) | {:.0} | | |", report.peak_rss_mib);
}
