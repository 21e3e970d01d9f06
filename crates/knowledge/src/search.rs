//! BM25 retrieval over the cards, through the `bm25` crate.
//!
//! Each card is indexed as one document: title and keywords twice (a cheap field boost, since
//! they are the words chosen to be found by), then summary, "Core idea" and "Try this". The
//! "When it does not apply" section is left out on purpose: many cards mention abuse or therapy
//! there only to point elsewhere, and indexing those words would pull every such card up for a
//! message about abuse, burying the safety card.
//!
//! The crate's default tokenizer lowercases, folds Unicode to ASCII, drops English stop words and
//! applies the Snowball English stemmer, to documents and queries alike.

use bm25::{DefaultTokenizer, Embedder, EmbedderBuilder, Language, Scorer};
use serde::Serialize;

use crate::card::Card;

/// A retrieved card and its relevance score (higher is better).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Hit<'a> {
    pub card: &'a Card,
    pub score: f32,
}

pub(crate) struct Index {
    embedder: Embedder<u32, DefaultTokenizer>,
    scorer: Scorer<usize, u32>,
}

impl Index {
    pub(crate) fn new(cards: &[Card]) -> Index {
        let documents: Vec<String> = cards.iter().map(document).collect();
        let corpus: Vec<&str> = documents.iter().map(String::as_str).collect();
        let embedder: Embedder<u32, DefaultTokenizer> =
            EmbedderBuilder::with_tokenizer_and_fit_to_corpus(
                DefaultTokenizer::new(Language::English),
                &corpus,
            )
            .build();
        let mut scorer = Scorer::<usize, u32>::new();
        for (i, text) in corpus.iter().enumerate() {
            scorer.upsert(&i, embedder.embed(text));
        }
        Index { embedder, scorer }
    }

    /// `(card index, BM25 score)` for every card sharing at least one term with the query,
    /// unordered.
    pub(crate) fn scores(&self, query: &str) -> Vec<(usize, f32)> {
        let query = self.embedder.embed(query);
        if query.is_empty() {
            return Vec::new();
        }
        self.scorer.matches(&query).into_iter().map(|m| (m.id, m.score)).collect()
    }
}

fn document(card: &Card) -> String {
    let keywords = card.keywords.join(". ");
    let sections = [card.section("Core idea"), card.section("Try this")];
    let mut text = format!(
        "{title}. {title}. {keywords}. {keywords}. {summary}",
        title = card.title,
        summary = card.summary
    );
    for section in sections.into_iter().flatten() {
        text.push('\n');
        text.push_str(section);
    }
    text
}

/// Sorts best first; equal scores keep card order (cards are sorted by id), so results are the
/// same on every run.
pub(crate) fn rank(scored: &mut [(usize, f32)]) {
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
}
