//! Prints the safety eval report; with `--misses DIR`, also writes the texts it gets wrong (missed
//! at-risk posts, flagged control posts) to files in DIR for review.
//!
//! `cargo run -p hearth-safety --example safety_eval -- [EVAL_DIR] [--misses DIR]`

use std::path::PathBuf;

use hearth_safety::{Category, eval, triage};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let misses =
        args.iter().position(|a| a == "--misses").and_then(|i| args.get(i + 1)).map(PathBuf::from);
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--") && Some(PathBuf::from(a.as_str())) != misses)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/eval"))
        });
    let report = eval::run(&dir)?;
    println!("{}", report.to_markdown());
    for f in &report.safety_dev.failures {
        println!(
            "FAIL {} expect={} level={:?} got={:?}",
            f.row.id, f.row.expect, f.row.level, f.got
        );
    }
    if let Some(out) = misses {
        std::fs::create_dir_all(&out)?;
        let mut rmhd_fn = String::new();
        let mut rmhd_fp = String::new();
        let mut info = String::new();
        for p in eval::load_rmhd(&dir.join("data/rmhd-dev.csv"))? {
            let t = triage(&p.post);
            let flagged = t.has(Category::SelfHarm);
            if p.subreddit == "suicidewatch" && !flagged {
                rmhd_fn.push_str(&format!("=== {}\n\n", p.post));
            }
            if eval::CONTROL_FORUMS.contains(&p.subreddit.as_str()) && flagged {
                rmhd_fp.push_str(&format!(
                    "=== [{}] {:?}\n{}\n\n",
                    p.subreddit,
                    phrases(&t),
                    p.post
                ));
            }
            if flagged && p.subreddit != "suicidewatch" {
                info.push_str(&format!("[{}] {:?}\n", p.subreddit, phrases(&t)));
            }
        }
        std::fs::write(out.join("rmhd_missed_suicidewatch.txt"), rmhd_fn)?;
        std::fs::write(out.join("rmhd_control_flagged.txt"), rmhd_fp)?;
        std::fs::write(out.join("rmhd_other_flagged_phrases.txt"), info)?;
        let mut c_fn = String::new();
        let mut c_fp = String::new();
        for u in eval::load_cssrs(&dir.join("data/cssrs-dev.csv"))? {
            let flagged: Vec<_> =
                u.posts.iter().map(|p| triage(p)).filter(|t| t.has(Category::SelfHarm)).collect();
            if eval::CSSRS_AT_RISK.contains(&u.label.as_str()) && flagged.is_empty() {
                c_fn.push_str(&format!("##### {} {}\n", u.user, u.label));
                for p in &u.posts {
                    c_fn.push_str(&format!("--- {p}\n"));
                }
                c_fn.push('\n');
            }
            if u.label == "Supportive" || u.label == "Indicator" {
                for t in &flagged {
                    c_fp.push_str(&format!("[{} {}] {:?}\n", u.label, u.user, phrases(t)));
                }
            }
        }
        std::fs::write(out.join("cssrs_missed.txt"), c_fn)?;
        std::fs::write(out.join("cssrs_low_flagged.txt"), c_fp)?;
    }
    Ok(())
}

fn phrases(t: &hearth_safety::Triage) -> Vec<String> {
    t.evidence.iter().map(|e| format!("{}:{}", e.category, e.phrase)).collect()
}
