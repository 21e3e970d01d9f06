//! Compiles the Markdown cards in `content/cards/` into the library.
//!
//! Lists the directory at build time and writes one `include_str!` entry per card, so a new card is
//! picked up by adding a file (no code list to keep in sync) and the binary needs no files at run time.

use std::{env, fmt::Write as _, fs, path::PathBuf};

fn main() {
    let manifest_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let cards_dir = manifest_dir.join("../../content/cards");
    println!("cargo:rerun-if-changed={}", cards_dir.display());
    println!("cargo:rerun-if-changed=build.rs");

    let mut cards: Vec<(String, PathBuf)> = Vec::new();
    match fs::read_dir(&cards_dir) {
        Ok(entries) => {
            for entry in entries.flatten() {
                let path = entry.path();
                let is_card = path.extension().is_some_and(|ext| ext == "md")
                    && path.file_name().is_some_and(|name| name != "README.md");
                if is_card {
                    let stem = path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let path = path.canonicalize().unwrap_or(path);
                    cards.push((stem, path));
                }
            }
        }
        Err(err) => println!(
            "cargo:warning=no knowledge cards compiled in: cannot read {}: {err}",
            cards_dir.display()
        ),
    }
    // Sorted so the card order, and with it every tie in retrieval, is the same on every machine.
    cards.sort();

    let mut out = String::from(
        "/// `(file stem, file text)` of every card in `content/cards/`, sorted by stem.\n\
         pub(crate) static SOURCES: &[(&str, &str)] = &[\n",
    );
    for (stem, path) in &cards {
        let path = path.to_string_lossy();
        writeln!(out, "    ({stem:?}, include_str!({path:?})),")
            .expect("writing to a String cannot fail");
    }
    out.push_str("];\n");

    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out_dir.join("cards.rs"), out).expect("cannot write the generated card list");
}
