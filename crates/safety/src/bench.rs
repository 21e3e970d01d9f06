//! A throughput measurement for triage, shared by the CLI's `bench` command and the tests.

use std::time::{Duration, Instant};

/// Triages `messages` round-robin for about `seconds` on the calling thread and returns messages
/// per second. Returns 0 for an empty slice.
pub fn throughput(messages: &[String], seconds: f64) -> f64 {
    if messages.is_empty() {
        return 0.0;
    }
    // Warm the lazily built lexicon and regex caches so they are not timed.
    for m in messages.iter().take(64) {
        std::hint::black_box(crate::triage(m));
    }
    let budget = Duration::from_secs_f64(seconds.max(0.001));
    let start = Instant::now();
    let mut done: u64 = 0;
    'outer: loop {
        for m in messages {
            std::hint::black_box(crate::triage(m));
            done += 1;
            if done % 256 == 0 && start.elapsed() >= budget {
                break 'outer;
            }
        }
        if start.elapsed() >= budget {
            break;
        }
    }
    done as f64 / start.elapsed().as_secs_f64()
}
