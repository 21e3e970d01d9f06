//! Measures triage throughput on one core: the chat-shaped dev messages (cycled), unseen
//! chat-length sentences cut from RMHD posts (each triaged once, after a warm-up on other
//! sentences, so the regex caches do not flatter the number), and whole Reddit posts.
//!
//! `cargo run -p hearth-safety --example safety_bench -- [EVAL_DIR]`

use std::path::PathBuf;
use std::time::Instant;

use hearth_safety::{bench, eval, triage};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/eval"))
    });
    let chat: Vec<String> =
        eval::load_safety_dev(&dir.join("safety-dev.jsonl"))?.into_iter().map(|r| r.text).collect();
    let posts: Vec<String> =
        eval::load_rmhd(&dir.join("data/rmhd-dev.csv"))?.into_iter().map(|p| p.post).collect();
    let mean = |v: &[String]| v.iter().map(String::len).sum::<usize>() / v.len().max(1);

    println!(
        "dev chat messages (mean {} bytes): {:.0} msgs/s",
        mean(&chat),
        bench::throughput(&chat, 2.0)
    );

    let sentences: Vec<String> = posts
        .iter()
        .flat_map(|p| p.split_inclusive(['.', '!', '?', '\n']))
        .map(str::trim)
        .filter(|s| s.len() >= 20)
        .map(str::to_string)
        .collect();
    let (warm, fresh) = sentences.split_at(sentences.len() / 2);
    for s in warm {
        std::hint::black_box(triage(s));
    }
    let start = Instant::now();
    for s in fresh {
        std::hint::black_box(triage(s));
    }
    let rate = fresh.len() as f64 / start.elapsed().as_secs_f64();
    println!(
        "unseen sentences ({} of mean {} bytes, once each): {rate:.0} msgs/s",
        fresh.len(),
        mean(fresh)
    );

    println!(
        "reddit posts (mean {} bytes): {:.0} msgs/s",
        mean(&posts),
        bench::throughput(&posts, 2.0)
    );
    Ok(())
}
