//! Understanding a message before anything answers it: what it is about, what the person feels,
//! who it concerns, and whether it tells only one side of a story.
//!
//! Deterministic word rules, fast and explainable; the model never decides these.

use serde::{Deserialize, Serialize};

/// What the coach understood of one message.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Understanding {
    /// Knowledge-base topics, strongest first.
    pub topics: Vec<String>,
    /// Feelings named or clearly implied, strongest first (at most three).
    pub feelings: Vec<&'static str>,
    /// Who the message is about: `partner`, `ex`, `date`, `friend`, `parent`, `family`, `child`.
    pub who: Option<&'static str>,
    /// The message blames the other person without their side ("he always…", "she never…").
    pub one_sided: bool,
}

/// Feeling words people use, grouped under the feeling the coach reflects back.
const FEELINGS: &[(&str, &[&str])] = &[
    (
        "unheard",
        &[
            "unheard",
            "not heard",
            "not listening",
            "doesn't listen",
            "doesnt listen",
            "don't listen",
            "ignored",
            "ignores me",
            "invisible",
            "unseen",
            "not seen",
        ],
    ),
    ("lonely", &["lonely", "alone", "isolated", "disconnected", "distant", "roommates"]),
    ("hurt", &["hurt", "wounded", "betrayed", "stung", "crushed"]),
    ("angry", &["angry", "furious", "mad at", "pissed", "resent", "rage", "livid"]),
    (
        "frustrated",
        &[
            "frustrated",
            "fed up",
            "sick of",
            "tired of",
            "annoyed",
            "irritated",
            "keep fighting",
            "same fight",
        ],
    ),
    (
        "anxious",
        &[
            "anxious",
            "anxiety",
            "worried",
            "nervous",
            "scared",
            "afraid",
            "panic",
            "overthinking",
            "insecure",
        ],
    ),
    (
        "sad",
        &[
            "sad",
            "heartbroken",
            "grief",
            "grieving",
            "miss him",
            "miss her",
            "miss them",
            "crying",
            "cry",
            "down",
        ],
    ),
    (
        "overwhelmed",
        &["overwhelmed", "exhausted", "drained", "burnt out", "burned out", "too much"],
    ),
    ("jealous", &["jealous", "jealousy", "envious"]),
    ("guilty", &["guilty", "ashamed", "my fault", "i messed up", "i screwed up", "regret"]),
    ("confused", &["confused", "don't know what", "dont know what", "mixed signals", "not sure"]),
    (
        "unappreciated",
        &[
            "unappreciated",
            "taken for granted",
            "never thanks",
            "doesn't appreciate",
            "doesnt appreciate",
        ],
    ),
    ("hopeful", &["hopeful", "hope", "excited", "want to make it work"]),
];

const WHO: &[(&str, &[&str])] = &[
    (
        "ex",
        &[
            "my ex",
            "ex-boyfriend",
            "ex-girlfriend",
            "ex-husband",
            "ex-wife",
            "ex boyfriend",
            "ex girlfriend",
        ],
    ),
    (
        "partner",
        &[
            "partner",
            "husband",
            "wife",
            "boyfriend",
            "girlfriend",
            "spouse",
            "fiance",
            "fiancé",
            "fiancée",
            "bf",
            "gf",
        ],
    ),
    (
        "date",
        &[
            "a date",
            "first date",
            "second date",
            "dating",
            "match",
            "talking stage",
            "situationship",
        ],
    ),
    (
        "parent",
        &["my mom", "my mum", "my dad", "my mother", "my father", "my parents", "my parent"],
    ),
    ("friend", &["friend", "best friend", "bestie"]),
    (
        "family",
        &[
            "sister",
            "brother",
            "in-law",
            "in law",
            "mother-in-law",
            "family",
            "cousin",
            "aunt",
            "uncle",
        ],
    ),
    ("child", &["my son", "my daughter", "my kids", "my child", "our kids", "our baby"]),
];

/// Blame that tells only one side: the other person as the whole problem.
const ONE_SIDED: &[&str] = &[
    "he always",
    "she always",
    "they always",
    "he never",
    "she never",
    "they never",
    "it's all his fault",
    "its all his fault",
    "it's all her fault",
    "its all her fault",
    "he is so selfish",
    "she is so selfish",
    "he's so selfish",
    "she's so selfish",
    "he's the problem",
    "she's the problem",
    "he is the problem",
    "she is the problem",
    "he doesn't care",
    "she doesn't care",
    "he doesnt care",
    "she doesnt care",
    "my partner always",
    "my partner never",
    "my husband always",
    "my husband never",
    "my wife always",
    "my wife never",
    "my boyfriend always",
    "my boyfriend never",
    "my girlfriend always",
    "my girlfriend never",
    "he refuses",
    "she refuses",
    "who is right",
    "am i right",
    "tell me i'm right",
    "tell me im right",
];

/// Reads one message. `topics` come from the knowledge base's topic detector.
pub fn understand(text: &str, topics: Vec<String>) -> Understanding {
    let lower = normalise(text);
    let mut feelings: Vec<(usize, &'static str)> = FEELINGS
        .iter()
        .filter_map(|(feeling, cues)| {
            let first = cues.iter().filter_map(|cue| find_phrase(&lower, cue)).min()?;
            Some((first, *feeling))
        })
        .collect();
    feelings.sort_unstable();
    let who = WHO
        .iter()
        .filter_map(|(who, cues)| {
            let first = cues.iter().filter_map(|cue| find_phrase(&lower, cue)).min()?;
            Some((first, *who))
        })
        .min()
        .map(|(_, who)| who);
    let one_sided = ONE_SIDED.iter().any(|cue| find_phrase(&lower, cue).is_some());
    Understanding {
        topics,
        feelings: feelings.into_iter().map(|(_, f)| f).take(3).collect(),
        who,
        one_sided,
    }
}

/// Lower case with typographic apostrophes made plain, so "don’t" matches "don't".
fn normalise(text: &str) -> String {
    text.to_lowercase().replace(['\u{2019}', '\u{2018}'], "'")
}

/// Finds `phrase` in `text` at word boundaries (so "mad at" does not match "nomad at").
fn find_phrase(text: &str, phrase: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(found) = text[from..].find(phrase) {
        let start = from + found;
        let end = start + phrase.len();
        let before_ok = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
        let after_ok = end == bytes.len() || !bytes[end].is_ascii_alphanumeric();
        if before_ok && after_ok {
            return Some(start);
        }
        from = start + phrase.len().max(1);
        while from < text.len() && !text.is_char_boundary(from) {
            from += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_feelings_who_and_blame() {
        let u = understand(
            "My husband never helps with chores and I feel so unheard and exhausted.",
            vec!["chores".into()],
        );
        assert_eq!(u.feelings, ["unheard", "overwhelmed"]);
        assert_eq!(u.who, Some("partner"));
        assert!(u.one_sided);
    }

    #[test]
    fn words_match_whole_words_only() {
        let u = understand("I'm a nomad at heart and I cried downtown", vec![]);
        assert!(!u.feelings.contains(&"angry"));
        assert!(!u.feelings.contains(&"sad"), "{:?}", u.feelings);
        assert!(!u.one_sided);
    }

    #[test]
    fn curly_apostrophes_count() {
        let u = understand("She doesn’t care about me", vec![]);
        assert!(u.one_sided);
    }
}
