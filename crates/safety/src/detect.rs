//! The matching engine: finds which lexicon rules fire in a message, drops the ones that are
//! negated ("I would never hurt myself"), someone else's words ("do you want to die?", a quoted
//! line, a story), or laughed off ("I could kill him lol"), and weighs what is left into a level
//! per category. Conversation context reuses the same weighing over several turns.

use std::sync::LazyLock;

use regex::Regex;

use crate::lexicon::{LEXICON, Lexicon, Rule, Signal, Subject};
use crate::normalize::{Normalized, ceil_boundary, floor_boundary};
use crate::{Category, Evidence, Level, Triage};

/// One rule that fired and survived the filters.
#[derive(Clone, Debug)]
pub(crate) struct Fired {
    pub(crate) category: Option<Category>,
    pub(crate) signal: Signal,
    /// The lexicon rule that fired, for debugging and review.
    #[allow(dead_code)]
    pub(crate) rule: &'static str,
    /// The phrase as the person wrote it.
    pub(crate) phrase: String,
    /// Byte offsets into the original message (of the turn it came from).
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// 0 for the message being triaged, 1 for the one before it, and so on.
    pub(crate) age: usize,
}

/// Words that negate a phrase when they come just before it ("not", "never", "don't").
const NEGATORS: &[&str] = &[
    "not", "never", "dont", "doesnt", "didnt", "wont", "wouldnt", "isnt", "arent", "wasnt",
    "werent", "havent", "hasnt", "hadnt", "shouldnt", "nor", "no", "neither", "aint", "nothing",
];
/// Words that may sit between a negator and the phrase without breaking the negation
/// ("not going to", "never ever", "don't really feel").
#[rustfmt::skip]
const NEGATION_BRIDGE: &[&str] = &[
    "i", "im", "really", "ever", "even", "actually", "going", "gonna", "to", "want", "wanna",
    "would", "will", "be", "been", "truly", "try", "trying", "intend", "plan", "planning", "feel",
    "feeling", "felt", "am", "a", "being", "do", "that", "so", "very", "at", "all", "like",
    "longer", "anymore", "seriously", "consider", "considering", "thinking", "think", "about",
    "of", "again", "currently", "now", "totally", "in", "any", "way", "myself", "intention",
    "intentions", "urge", "urges", "desire", "thoughts",
];
/// Subjects that make a first-person phrase someone else's ("people who want to die").
#[rustfmt::skip]
const OTHER_SUBJECTS: &[&str] = &[
    "you", "u", "ya", "youre", "youve", "youd", "youll", "he", "she", "they", "hes", "shes",
    "theyre", "hed", "shed", "theyd", "someone", "somebody", "anyone", "anybody", "people", "ppl",
    "everyone", "everybody", "nobody", "who", "friend", "friends", "we", "person", "others",
    "kids", "teens", "whoever", "op", "patients", "users", "folks", "yourself", "man", "guy",
    "girl", "woman", "son", "daughter", "brother", "sister", "mom", "dad", "mum", "boyfriend",
    "girlfriend", "husband", "wife", "partner", "bf", "gf",
];
const FIRST_SUBJECTS: &[&str] =
    &["i", "im", "ive", "id", "ill", "me", "my", "myself", "mine", "imma"];

static LAUGH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u:\b)(?:lol+|lmf?ao+|rofl|ha(?:ha)+h?|he(?:he)+|jk|jking|just kidding|kidding|joking|xd)(?-u:\b)|[\x{1F602}\x{1F923}\x{1F606}\x{1F605}\x{1F61C}\x{1F643}\x{1F61D}]|:p(?-u:\b)",
    )
    .expect("static regex")
});

/// Sentences that frame what follows as a story, a song, a hypothetical or someone else's case.
static FICTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u:\b)(?:hypothetical(?:ly)?|in (?:a|the|my|this) (?:story|novel|book|movie|film|show|series|song|game|video game|script|screenplay|poem|play|fanfic|episode|scene)|(?:a|my|the|main) character|lyrics?|song goes|for (?:a|my) (?:class|essay|story|novel|paper|project|assignment|screenplay|script)|role ?play|what would you (?:say|do|tell) (?:if|to)|if (?:someone|somebody|a (?:friend|client|person|user)) (?:said|says|told you|tells you|wrote))(?-u:\b)",
    )
    .expect("static regex")
});

/// Who opens a quotation: someone else, or a medium ("he said", "the song goes").
static OTHER_SPEAKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u:\b)(?:he|she|they|him|her|them|his \w+|her \w+|their \w+|my \w+|the \w+|someone|somebody|character|song|lyrics?|movie|film|book|show|quote|meme|says|said|goes)(?-u:\b)[^.!?\n]{0,30}$",
    )
    .expect("static regex")
});
static SELF_SPEAKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)i (?:said|say|told|tell|wrote|write|texted|text|keep saying)(?-u:\b)[^.!?\n]{0,30}$").expect("static regex")
});

/// Finds the rules that fire in `text`, after negation, subject, jokes and framing are weighed.
pub(crate) fn scan(text: &str, age: usize) -> Vec<Fired> {
    let lexicon: &'static Lexicon = &LEXICON;
    let norm = Normalized::new(text);
    let t = norm.text.as_str();
    let mut fired = Vec::new();
    let candidates = lexicon.candidates(t);
    if candidates.is_empty() {
        return fired;
    }
    let mut laughs: Option<bool> = None;
    for index in candidates {
        let rule: &'static Rule = &lexicon.rules[index];
        for m in rule.regex.find_iter(t) {
            let (start, end) = (m.start(), m.end());
            if !at_word_edges(t, start, end) {
                continue;
            }
            if rule.jokey && *laughs.get_or_insert_with(|| LAUGH.is_match(t)) {
                continue;
            }
            if rule.negatable && negated(t, start) {
                continue;
            }
            if rule.subject == Subject::First
                && !starts_first_person(&t[start..end])
                && someone_else(t, start)
            {
                continue;
            }
            if let Some(before) = &rule.unless_before {
                if before.is_match(&t[floor_boundary(t, start.saturating_sub(80))..start]) {
                    continue;
                }
            }
            if let Some(after) = &rule.unless_after {
                if after.is_match(&t[end..ceil_boundary(t, end + 80)]) {
                    continue;
                }
            }
            let framed_category =
                matches!(rule.category, Some(Category::SelfHarm | Category::HarmToOthers));
            if framed_category && !rule.signal.is_escalator() && framed_as_other(t, start) {
                continue;
            }
            let (s, e) = norm.original_span(start, end);
            fired.push(Fired {
                category: rule.category,
                signal: rule.signal,
                rule: rule.id.as_str(),
                phrase: text[s..e].to_string(),
                start: s,
                end: e,
                age,
            });
        }
    }
    fired
}

/// True unless the match starts or ends inside a word ("die" in "diet", "hit me" in "white me").
fn at_word_edges(t: &str, start: usize, end: usize) -> bool {
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let inner_first = t[start..].chars().next();
    let inner_last = t[..end].chars().next_back();
    let before = t[..start].chars().next_back();
    let after = t[end..].chars().next();
    let starts_inside = word(inner_first) && word(before);
    let ends_inside = word(inner_last) && word(after);
    !(starts_inside || ends_inside)
}

/// The clause that ends at `at`: text after the last sentence or clause break.
fn clause_before(t: &str, at: usize) -> &str {
    let prefix = &t[..at];
    let cut =
        prefix.rfind(['.', '!', '?', ';', '\n', ',', ':', '"', '(', ')']).map_or(0, |i| i + 1);
    let clause = &prefix[cut..];
    // "but" and "and" start a new clause too: "I'm not sad but I want to die".
    match [" but ", " and ", " though ", " because ", " cause ", " cuz ", " so "]
        .iter()
        .filter_map(|w| clause.rfind(w).map(|i| i + w.len()))
        .max()
    {
        Some(i) => &clause[i..],
        None => clause,
    }
}

fn words_before(t: &str, at: usize) -> impl Iterator<Item = &str> {
    clause_before(t, at).split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).rev()
}

/// True when a negator governs the phrase starting at `at`.
fn negated(t: &str, at: usize) -> bool {
    for word in words_before(t, at).take(5) {
        if NEGATORS.contains(&word) {
            return true;
        }
        if !NEGATION_BRIDGE.contains(&word) {
            return false;
        }
    }
    false
}

/// True when the phrase names the writer itself ("my suicide plans", "i want to die").
fn starts_first_person(phrase: &str) -> bool {
    let first = phrase.split(|c: char| !c.is_alphanumeric()).next().unwrap_or("");
    FIRST_SUBJECTS.contains(&first)
}

/// True when the nearest subject before the phrase is someone other than the writer.
fn someone_else(t: &str, at: usize) -> bool {
    for word in words_before(t, at).take(5) {
        if FIRST_SUBJECTS.contains(&word) {
            return false;
        }
        if OTHER_SUBJECTS.contains(&word) {
            return true;
        }
    }
    false
}

/// True when the phrase is inside a story/hypothetical sentence or a quotation by someone else.
fn framed_as_other(t: &str, at: usize) -> bool {
    let sentence_start = t[..at].rfind(['.', '!', '?', '\n']).map_or(0, |i| i + 1);
    let sentence_end = t[at..].find(['.', '!', '?', '\n']).map_or(t.len(), |i| at + i);
    if FICTION.is_match(&t[sentence_start..sentence_end]) {
        return true;
    }
    let quotes_before = t[..at].matches('"').count();
    if quotes_before % 2 == 1 {
        if let Some(open) = t[..at].rfind('"') {
            let lead = &t[floor_boundary(t, open.saturating_sub(60))..open];
            return OTHER_SPEAKER.is_match(lead) && !SELF_SPEAKER.is_match(lead);
        }
    }
    false
}

/// How many turns back an urgent disclosure still counts as urgent by itself.
const URGENT_MEMORY: usize = 2;
/// Distinct weak signs that together make a caution.
const WEAK_SIGNS_FOR_CAUTION: usize = 2;

/// Weighs fired rules (from one message or several turns) into a triage. Evidence from earlier
/// turns is kept, marked "earlier turn", with empty offsets because it is not in this text.
pub(crate) fn assess(fired: &[Fired]) -> Triage {
    // An escalator inside a phrase that already fired ("don't want to wake up tomorrow") is part
    // of that phrase, not a separate time or means.
    let inside_other = |e: &Fired| {
        fired
            .iter()
            .any(|f| f.category.is_some() && f.age == e.age && f.start <= e.start && e.end <= f.end)
    };
    let has_any = |signal: Signal| {
        fired.iter().any(|f| f.signal == signal && f.category.is_none() && !inside_other(f))
    };
    // Means and a time with no self-harm words are read as self-harm only when no intent to hurt
    // someone else explains them ("I'm going to kill him tonight, I bought a knife").
    let intent_on_others = fired
        .iter()
        .any(|f| f.category == Some(Category::HarmToOthers) && !f.signal.is_escalator());
    let means = has_any(Signal::Means);
    let weapon = has_any(Signal::Weapon);
    let timing = has_any(Signal::Timing);
    let recent = has_any(Signal::Recent);

    let mut triage = Triage::default();
    for category in Category::ALL {
        let mine: Vec<&Fired> = fired.iter().filter(|f| f.category == Some(category)).collect();
        let bare_means_and_time = means && timing && !intent_on_others;
        if mine.is_empty() && !(category == Category::SelfHarm && bare_means_and_time) {
            continue;
        }
        let has = |signal: Signal| mine.iter().any(|f| f.signal == signal);
        let urgent_now = mine.iter().any(|f| f.signal == Signal::Urgent && f.age <= URGENT_MEMORY);
        let strong = has(Signal::Strong) || has(Signal::Urgent);
        let intent = has(Signal::Intent);
        let attempt = has(Signal::Attempt);
        // Weak signs add up: distinct phrases count, a phrase repeated does not.
        let mut weak_phrases: Vec<String> = mine
            .iter()
            .filter(|f| f.signal == Signal::Weak)
            .map(|f| f.phrase.to_lowercase())
            .collect();
        weak_phrases.sort_unstable();
        weak_phrases.dedup();
        let weak = weak_phrases.len() >= WEAK_SIGNS_FOR_CAUTION;

        let (level, used_escalators): (Level, &[Signal]) = match category {
            Category::SelfHarm => {
                let disclosed = strong || intent || attempt || weak;
                if urgent_now
                    || ((strong || intent || attempt) && (means || weapon || timing))
                    || (attempt && recent)
                    || bare_means_and_time
                {
                    (
                        Level::Urgent,
                        &[Signal::Means, Signal::Weapon, Signal::Timing, Signal::Recent],
                    )
                } else if disclosed {
                    (Level::Caution, &[])
                } else {
                    (Level::None, &[])
                }
            }
            Category::HarmToOthers => {
                if urgent_now || (intent && (means || weapon || timing || has(Signal::Target))) {
                    (
                        Level::Urgent,
                        &[Signal::Means, Signal::Weapon, Signal::Timing, Signal::Target],
                    )
                } else if strong || intent {
                    (Level::Caution, &[])
                } else {
                    (Level::None, &[])
                }
            }
            Category::MinorSafety => {
                let pair = has(Signal::MinorSelf) && has(Signal::AdultOther);
                if urgent_now || (pair && has(Signal::MinorContext)) {
                    (Level::Urgent, &[Signal::MinorSelf, Signal::AdultOther, Signal::MinorContext])
                } else if strong || pair {
                    (Level::Caution, &[Signal::MinorSelf, Signal::AdultOther])
                } else {
                    (Level::None, &[])
                }
            }
            Category::Abuse | Category::ManipulationRequest | Category::MedicalLegal => {
                if urgent_now {
                    (Level::Urgent, &[])
                } else if strong || intent || attempt || weak {
                    (Level::Caution, &[])
                } else {
                    (Level::None, &[])
                }
            }
        };
        if level == Level::None {
            continue;
        }
        triage.level = triage.level.max(level);
        triage.categories.push(category);
        for f in fired {
            let counts = match f.category {
                Some(c) if c == category => {
                    !f.signal.is_escalator() || used_escalators.contains(&f.signal)
                }
                None => used_escalators.contains(&f.signal),
                Some(_) => false,
            };
            let swallowed = f.category.is_none() && inside_other(f);
            if counts && !swallowed && (f.signal != Signal::Weak || weak) {
                triage.evidence.push(evidence(category, f));
            }
        }
    }
    dedupe_evidence(&mut triage.evidence);
    triage
}

/// Keeps one piece of evidence per phrase: two rules matching the same words ("tonight" as a
/// time and as recent), or one phrase inside a longer one ("want to die" in "I want to die"),
/// are reported once, by the longer phrase.
fn dedupe_evidence(evidence: &mut Vec<Evidence>) {
    let covered = |e: &Evidence, by: &Evidence| {
        e.category == by.category
            && if e.start == e.end && by.start == by.end {
                e.phrase == by.phrase
            } else {
                by.start <= e.start && e.end <= by.end && by.end - by.start > e.end - e.start
            }
    };
    let mut kept: Vec<Evidence> = Vec::with_capacity(evidence.len());
    for e in evidence.drain(..) {
        let duplicate = kept.iter().any(|k| {
            k.category == e.category && k.start == e.start && k.end == e.end && k.phrase == e.phrase
        });
        if !duplicate {
            kept.push(e);
        }
    }
    let all = kept.clone();
    kept.retain(|e| !all.iter().any(|by| covered(e, by)));
    kept.sort_by_key(|e| (e.category, e.start, e.end));
    *evidence = kept;
}

fn evidence(category: Category, f: &Fired) -> Evidence {
    if f.age == 0 {
        Evidence { category, phrase: f.phrase.clone(), start: f.start, end: f.end }
    } else {
        Evidence { category, phrase: format!("earlier turn: {}", f.phrase), start: 0, end: 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negation_needs_a_bridge() {
        let t = "i would never ever hurt myself";
        assert!(negated(t, t.find("hurt").expect("present")));
        let t = "i dont know why i want to die";
        assert!(!negated(t, t.find("want").expect("present")));
        let t = "im not sad, i want to die";
        assert!(!negated(t, t.find("i want").expect("present")));
    }

    #[test]
    fn subject_is_nearest_pronoun() {
        let t = "do you ever want to die";
        assert!(someone_else(t, t.find("want").expect("present")));
        let t = "he makes me want to die";
        assert!(!someone_else(t, t.find("want").expect("present")));
    }

    #[test]
    fn quotes_and_stories_are_framed() {
        let t = "the song goes \"i want to die\" and its stuck in my head";
        assert!(framed_as_other(t, t.find("i want").expect("present")));
        let t = "i told him \"i want to die\"";
        assert!(!framed_as_other(t, t.find("i want").expect("present")));
    }
}
