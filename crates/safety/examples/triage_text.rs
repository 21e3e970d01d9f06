//! Triage texts given as arguments (or lines on stdin) and print the result as JSON lines.

use std::io::BufRead;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let texts: Vec<String> = if args.is_empty() {
        std::io::stdin().lock().lines().map_while(Result::ok).collect()
    } else {
        args
    };
    for t in texts {
        let r = hearth_safety::triage(&t);
        println!("{}\t{}", serde_json::to_string(&r).unwrap_or_default(), t);
    }
}
