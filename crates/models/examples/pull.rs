//! Provision one model into a cache directory and report how long it took:
//! `cargo run -p hearth-models --example pull -- <name> <cache_dir>`.

use std::process::ExitCode;
use std::time::Instant;

use hearth_models::{DEFAULT_MODEL, IndicatifProgress, Provisioner, default_cache_dir};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| DEFAULT_MODEL.to_owned());
    let Some(cache_dir) = args.next().map(Into::into).or_else(default_cache_dir) else {
        eprintln!("usage: pull <model> <cache_dir>");
        return ExitCode::FAILURE;
    };
    let provisioner = Provisioner::new(cache_dir);
    let started = Instant::now();
    match provisioner.ensure(&name, &IndicatifProgress::new()) {
        Ok(path) => {
            println!("{name}: {} ({:.1} s)", path.display(), started.elapsed().as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
