//! Hearth's knowledge base: short, cited cards of relationship science, compiled into the binary,
//! with BM25 retrieval and rule-based topic detection.
//!
//! The coaching turn retrieves cards before the model runs, so even a small model gets a grounded,
//! citable insight and one concrete step. Everything here is deterministic and takes well under a
//! millisecond per message.
//!
//! ```
//! use hearth_knowledge::{Knowledge, detect_topics};
//!
//! let kb = Knowledge::builtin();
//! let message = "We keep fighting about chores and I feel unheard";
//! let topics = detect_topics(message);
//! let hits = kb.search_with_topics(message, &topics, 3);
//! assert!(!hits.is_empty());
//! let card = hits[0].card;
//! println!("{} — {:?} ({})", card.title, card.first_step(), card.citations[0].source());
//! ```

mod card;
mod search;
mod topics;

use std::collections::HashSet;
use std::fmt;
use std::hint::black_box;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

pub use card::{Card, CardError, Citation, REQUIRED_SECTIONS, TOPICS};
pub use search::Hit;
pub use topics::{TopicScore, detect_topics, score_topics};

use search::Index;

mod generated {
    include!(concat!(env!("OUT_DIR"), "/cards.rs"));
}

/// Body length bounds in words: a card must fit a small model's prompt next to memory and the
/// conversation, and still say something.
pub const BODY_WORDS: std::ops::RangeInclusive<usize> = 100..=240;

/// How much a card gains when it shares the conversation's leading topic (as its own main topic):
/// its BM25 score is multiplied by up to `1 + TOPIC_BOOST`, less for later topics.
const TOPIC_BOOST: f32 = 0.5;

/// The card collection and its search index.
pub struct Knowledge {
    cards: Vec<Card>,
    /// File stem of each card, parallel to `cards`.
    stems: Vec<String>,
    /// Files that could not be parsed at all.
    parse_errors: Vec<String>,
    index: Index,
}

impl fmt::Debug for Knowledge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Knowledge")
            .field("cards", &self.cards.len())
            .field("parse_errors", &self.parse_errors)
            .finish_non_exhaustive()
    }
}

static BUILTIN: LazyLock<Knowledge> =
    LazyLock::new(|| Knowledge::from_sources(generated::SOURCES.iter().copied()));

impl Knowledge {
    /// The cards compiled into this binary, parsed and indexed on first use.
    ///
    /// A card that fails to parse is left out rather than panicking on a request path;
    /// [`Knowledge::validate`] reports it (and the test suite runs `validate`).
    pub fn builtin() -> &'static Knowledge {
        &BUILTIN
    }

    /// Builds a knowledge base from `(file stem, file text)` pairs. Cards are kept sorted by id.
    pub fn from_sources<'a>(sources: impl IntoIterator<Item = (&'a str, &'a str)>) -> Knowledge {
        let mut parsed: Vec<(String, Card)> = Vec::new();
        let mut parse_errors = Vec::new();
        for (stem, text) in sources {
            match Card::parse(text) {
                Ok(card) => parsed.push((stem.to_string(), card)),
                Err(err) => parse_errors.push(format!("{stem}.md: {}", error_chain(&err))),
            }
        }
        parsed.sort_by(|a, b| a.1.id.cmp(&b.1.id).then_with(|| a.0.cmp(&b.0)));
        let (stems, cards): (Vec<String>, Vec<Card>) = parsed.into_iter().unzip();
        let index = Index::new(&cards);
        Knowledge { cards, stems, parse_errors, index }
    }

    /// All cards, sorted by id.
    pub fn cards(&self) -> &[Card] {
        &self.cards
    }

    pub fn card(&self, id: &str) -> Option<&Card> {
        self.cards.binary_search_by(|card| card.id.as_str().cmp(id)).ok().map(|i| &self.cards[i])
    }

    /// Cards that list `topic`, in id order.
    pub fn by_topic<'a>(&'a self, topic: &'a str) -> impl Iterator<Item = &'a Card> + 'a {
        self.cards.iter().filter(move |card| card.topics.iter().any(|t| t == topic))
    }

    /// Checks the whole collection: every file parses, ids are unique and equal to their file
    /// stems, topics are known, citations and the required sections are present, bodies are
    /// prompt-sized. Returns every problem found, not just the first.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut problems = self.parse_errors.clone();
        let mut seen = HashSet::new();
        for (card, stem) in self.cards.iter().zip(&self.stems) {
            if !seen.insert(card.id.as_str()) {
                problems.push(format!("{}: duplicate id", card.id));
            }
            if card.id != *stem {
                problems.push(format!("{}: id differs from file name {stem}.md", card.id));
            }
            problems.extend(card.problems());
            let words = card.body_words();
            if !BODY_WORDS.contains(&words) {
                problems.push(format!(
                    "{}: body has {words} words, expected {}..={}",
                    card.id,
                    BODY_WORDS.start(),
                    BODY_WORDS.end()
                ));
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }

    /// The `k` cards that best match `query` by BM25, best first. Cards sharing no term with the
    /// query are never returned; ties keep id order.
    pub fn search(&self, query: &str, k: usize) -> Vec<Hit<'_>> {
        let mut scored = self.index.scores(query);
        search::rank(&mut scored);
        self.hits(scored, k)
    }

    /// Like [`Knowledge::search`], but cards about the conversation's topics (as detected by
    /// [`detect_topics`], strongest first, or the running topics of a session) rank higher: a
    /// card's score is multiplied by `1 + boost`, where the boost is largest for the first topic
    /// and for a card whose main topic it is. When fewer than `k` cards match the words at all,
    /// the rest is filled with cards on those topics, below every word match.
    pub fn search_with_topics(&self, query: &str, topics: &[String], k: usize) -> Vec<Hit<'_>> {
        let mut scored = self.index.scores(query);
        for (i, score) in &mut scored {
            *score *= 1.0 + topic_boost(&self.cards[*i], topics);
        }
        search::rank(&mut scored);
        if scored.len() < k && !topics.is_empty() {
            let floor = scored.iter().map(|s| s.1).fold(f32::INFINITY, f32::min).min(1.0);
            let matched: HashSet<usize> = scored.iter().map(|s| s.0).collect();
            let mut fill: Vec<(usize, f32)> = self
                .cards
                .iter()
                .enumerate()
                .filter(|(i, _)| !matched.contains(i))
                .map(|(i, card)| (i, topic_boost(card, topics)))
                .filter(|(_, boost)| *boost > 0.0)
                .collect();
            search::rank(&mut fill);
            // Scaled under the weakest word match so a topic-only card never outranks one.
            scored.extend(
                fill.into_iter().map(|(i, boost)| (i, floor * 0.5 * boost / (1.0 + boost))),
            );
        }
        self.hits(scored, k)
    }

    fn hits(&self, scored: Vec<(usize, f32)>, k: usize) -> Vec<Hit<'_>> {
        scored.into_iter().take(k).map(|(i, score)| Hit { card: &self.cards[i], score }).collect()
    }
}

fn topic_boost(card: &Card, topics: &[String]) -> f32 {
    topics
        .iter()
        .enumerate()
        .filter_map(|(rank, topic)| {
            let position = card.topics.iter().position(|t| t == topic)?;
            let card_weight = if position == 0 { 1.0 } else { 0.6 };
            Some(TOPIC_BOOST * card_weight / (1.0 + rank as f32))
        })
        .sum()
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Realistic messages for timing retrieval; also a smoke set for `hearth bench`.
pub const BENCH_QUERIES: &[&str] = &[
    "My partner and I keep fighting about chores and I feel unheard",
    "he checks my phone and took my bank card",
    "I texted her after our first date and she hasn't replied",
    "we barely talk anymore, it feels like we're roommates",
    "my mother-in-law criticizes everything I do and my husband says nothing",
    "I found messages, I think she is cheating on me",
    "since the baby came we have no time for each other and no sex",
    "my best friend stopped answering and we drifted apart",
    "I get so anxious when he doesn't text back, I need reassurance",
    "we argue about money every month, he spends and I save",
];

/// Average wall time of one retrieval (topic detection plus `search_with_topics`, top 3) over
/// `iterations` passes through [`BENCH_QUERIES`]. The index is built before timing starts.
pub fn bench_retrieval(iterations: usize) -> Duration {
    let kb = Knowledge::builtin();
    let iterations = iterations.max(1);
    let start = Instant::now();
    for _ in 0..iterations {
        for query in BENCH_QUERIES {
            let topics = detect_topics(black_box(query));
            black_box(kb.search_with_topics(query, &topics, 3));
        }
    }
    let queries = u32::try_from(iterations.saturating_mul(BENCH_QUERIES.len())).unwrap_or(u32::MAX);
    start.elapsed() / queries
}
