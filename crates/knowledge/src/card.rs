//! One knowledge card: a short, cited piece of relationship science with a concrete step.
//!
//! Cards are Markdown files with TOML front matter between `+++` lines. The coach pastes a card's
//! core idea and one step into a small model's prompt, so the parsed form keeps the sections
//! addressable (`section`, `first_step`) instead of handing out one blob of text.

use serde::{Deserialize, Serialize};

/// The fixed topic vocabulary. Every card's topics and every detected topic come from this list;
/// other crates count recurring themes by these names, so treat them as a stable interface.
pub const TOPICS: &[&str] = &[
    "attachment",
    "conflict",
    "communication",
    "repair",
    "connection",
    "trust",
    "infidelity",
    "jealousy",
    "boundaries",
    "codependency",
    "vulnerability",
    "long_distance",
    "technology",
    "chores",
    "money",
    "family",
    "in_laws",
    "culture",
    "lgbtq",
    "parenting",
    "intimacy",
    "loneliness",
    "dating",
    "breakup",
    "grief",
    "friendship",
    "parents",
    "therapy",
    "safety",
    "emotions",
    "self_worth",
    "appreciation",
    "commitment",
];

/// The body sections every card must have, in this order.
pub const REQUIRED_SECTIONS: &[&str] = &["Core idea", "Try this", "When it does not apply"];

/// A research source a card rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Citation {
    /// Authors in reference-list form: `"Gottman, J. M., & Silver, N."`.
    pub author: String,
    pub year: u16,
    pub title: String,
}

impl Citation {
    /// A short human source line: `"Gottman & Silver (1999), The Seven Principles for Making
    /// Marriage Work"`; three or more authors become `"Aron et al. (1997), …"`.
    pub fn source(&self) -> String {
        format!("{} ({}), {}", self.short_authors(), self.year, self.title)
    }

    /// Surnames only: one, two joined by `&`, or the first followed by `et al.`.
    pub fn short_authors(&self) -> String {
        let surnames = surnames(&self.author);
        match surnames.as_slice() {
            [] => self.author.trim().to_string(),
            [one] => one.clone(),
            [first, second] => format!("{first} & {second}"),
            [first, ..] => format!("{first} et al."),
        }
    }
}

/// Picks the surnames out of a reference-list author string ("Surname, I. I., Surname, I., & …").
/// A comma-separated part that is only initials belongs to the surname before it; an author
/// string without initials (an organisation) is kept whole.
fn surnames(author: &str) -> Vec<String> {
    let mut names = Vec::new();
    for part in author.split(',') {
        let part = part.trim().trim_start_matches('&').trim();
        if part.is_empty() || part == "et al." || is_initials(part) {
            continue;
        }
        names.push(part.to_string());
    }
    names
}

fn is_initials(part: &str) -> bool {
    part.contains('.') && part.chars().all(|c| c.is_uppercase() || matches!(c, '.' | '-' | ' '))
}

/// A parsed knowledge card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    /// Kebab-case id, equal to the file stem.
    pub id: String,
    pub title: String,
    /// Topics from [`TOPICS`], the main one first.
    pub topics: Vec<String>,
    /// One or two sentences: the core idea.
    pub summary: String,
    /// Words and phrases a person would actually use about this subject.
    pub keywords: Vec<String>,
    /// Id of a concrete exercise or ritual this card suggests.
    pub exercise: Option<String>,
    pub citations: Vec<Citation>,
    /// The Markdown body after the front matter.
    pub body: String,
}

/// Why a card file could not be parsed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CardError {
    #[error("the card does not start with a `+++` front matter block")]
    MissingFrontMatter,
    #[error("the front matter block is not closed by a `+++` line")]
    UnclosedFrontMatter,
    #[error("invalid front matter")]
    FrontMatter(#[from] toml::de::Error),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    id: String,
    title: String,
    topics: Vec<String>,
    summary: String,
    #[serde(default)]
    keywords: Vec<String>,
    exercise: Option<String>,
    #[serde(default)]
    citations: Vec<Citation>,
}

impl Card {
    /// Parses a card file: `+++`, TOML front matter, `+++`, Markdown body.
    pub fn parse(text: &str) -> Result<Card, CardError> {
        let text = text.trim_start_matches('\u{feff}');
        let mut lines = text.split_inclusive('\n');
        let first = lines.next().ok_or(CardError::MissingFrontMatter)?;
        if first.trim_end() != "+++" {
            return Err(CardError::MissingFrontMatter);
        }
        let front_start = first.len();
        let mut offset = front_start;
        let mut front_end = None;
        for line in lines {
            if line.trim_end() == "+++" {
                front_end = Some((offset, offset + line.len()));
                break;
            }
            offset += line.len();
        }
        let (front_end, body_start) = front_end.ok_or(CardError::UnclosedFrontMatter)?;
        let front: FrontMatter = toml::from_str(&text[front_start..front_end])?;
        Ok(Card {
            id: front.id,
            title: front.title,
            topics: front.topics,
            summary: front.summary.trim().to_string(),
            keywords: front.keywords,
            exercise: front.exercise,
            citations: front.citations,
            body: text[body_start..].trim().to_string(),
        })
    }

    /// The text under a `## heading` of the body (case-insensitive), up to the next `## ` heading,
    /// trimmed. `None` when the card has no such section.
    pub fn section(&self, heading: &str) -> Option<&str> {
        let mut offset = 0;
        let mut start = None;
        for line in self.body.split_inclusive('\n') {
            let trimmed = line.trim();
            if let Some(title) = trimmed.strip_prefix("## ") {
                if let Some(start) = start {
                    return Some(self.body[start..offset].trim());
                }
                if title.trim().eq_ignore_ascii_case(heading.trim()) {
                    start = Some(offset + line.len());
                }
            }
            offset += line.len();
        }
        start.map(|start| self.body[start..].trim())
    }

    /// The first bullet of "Try this" without its marker: the one concrete step the coach offers.
    pub fn first_step(&self) -> Option<&str> {
        let section = self.section("Try this")?;
        let mut lines = section.lines();
        let first = lines.find_map(|line| {
            let line = line.trim_start();
            line.strip_prefix("- ")
                .or_else(|| line.strip_prefix("* "))
                .or_else(|| strip_ordinal(line))
        })?;
        Some(first.trim())
    }

    /// The core idea section, falling back to the summary.
    pub fn core_idea(&self) -> &str {
        self.section("Core idea").unwrap_or(&self.summary)
    }

    /// Number of words in the body (for keeping cards prompt-sized).
    pub fn body_words(&self) -> usize {
        self.body.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).count()
    }

    /// Every problem with this card on its own: unknown topics, missing sections or citations,
    /// malformed ids. Checks that need the whole collection (unique ids) live in `Knowledge`.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let id = &self.id;
        if !is_kebab_case(id) {
            problems.push(format!("{id}: id is not kebab-case"));
        }
        if self.title.trim().is_empty() {
            problems.push(format!("{id}: empty title"));
        }
        if self.summary.trim().is_empty() {
            problems.push(format!("{id}: empty summary"));
        }
        if self.topics.is_empty() {
            problems.push(format!("{id}: no topics"));
        }
        for topic in &self.topics {
            if !TOPICS.contains(&topic.as_str()) {
                problems.push(format!("{id}: unknown topic {topic:?}"));
            }
        }
        if self.keywords.is_empty() {
            problems.push(format!("{id}: no keywords"));
        }
        if let Some(exercise) = &self.exercise
            && !is_kebab_case(exercise)
        {
            problems.push(format!("{id}: exercise {exercise:?} is not kebab-case"));
        }
        if self.citations.is_empty() {
            problems.push(format!("{id}: no citations"));
        }
        for citation in &self.citations {
            if citation.author.trim().is_empty() || citation.title.trim().is_empty() {
                problems.push(format!("{id}: citation without author or title"));
            }
            if !(1900..=2100).contains(&citation.year) {
                problems.push(format!("{id}: implausible citation year {}", citation.year));
            }
        }
        for heading in REQUIRED_SECTIONS {
            match self.section(heading) {
                None => problems.push(format!("{id}: missing section \"## {heading}\"")),
                Some("") => {
                    problems.push(format!("{id}: empty section \"## {heading}\""));
                }
                Some(_) => {}
            }
        }
        if self.section("Try this").is_some() && self.first_step().is_none() {
            problems.push(format!("{id}: \"Try this\" has no bullet"));
        }
        problems
    }
}

fn strip_ordinal(line: &str) -> Option<&str> {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    line[digits..].strip_prefix(". ")
}

fn is_kebab_case(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "+++\nid = \"x\"\ntitle = \"X\"\ntopics = [\"conflict\"]\nsummary = \"S.\"\nkeywords = [\"k\"]\n[[citations]]\nauthor = \"Gottman, J. M., & Silver, N.\"\nyear = 1999\ntitle = \"The Seven Principles for Making Marriage Work\"\n+++\n## Core idea\nCore.\n\n## Try this\n- Say \"hi\".\n- Two.\n\n## When it does not apply\n- Never.\n";

    #[test]
    fn parses_sections_and_first_step() {
        let card = Card::parse(SAMPLE).expect("sample parses");
        assert_eq!(card.section("core idea"), Some("Core."));
        assert_eq!(card.first_step(), Some("Say \"hi\"."));
        assert_eq!(card.section("When it does not apply"), Some("- Never."));
        assert!(card.problems().is_empty(), "{:?}", card.problems());
    }

    #[test]
    fn short_sources() {
        let two = Citation {
            author: "Gottman, J. M., & Silver, N.".into(),
            year: 1999,
            title: "The Seven Principles for Making Marriage Work".into(),
        };
        assert_eq!(
            two.source(),
            "Gottman & Silver (1999), The Seven Principles for Making Marriage Work"
        );
        let many = Citation {
            author: "Ainsworth, M. D. S., Blehar, M. C., Waters, E., & Wall, S.".into(),
            year: 1978,
            title: "Patterns of Attachment".into(),
        };
        assert_eq!(many.short_authors(), "Ainsworth et al.");
        let one = Citation { author: "Laurenceau, J.-P.".into(), year: 1998, title: "T".into() };
        assert_eq!(one.short_authors(), "Laurenceau");
    }

    #[test]
    fn rejects_missing_front_matter() {
        assert!(matches!(Card::parse("# no front matter"), Err(CardError::MissingFrontMatter)));
        assert!(matches!(Card::parse("+++\nid = \"x\"\n"), Err(CardError::UnclosedFrontMatter)));
    }
}
