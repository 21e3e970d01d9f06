//! Checks on the model's reply as it streams, sentence by sentence.
//!
//! Text is released to the person one finished sentence at a time, after the sentence passed the
//! checks, so nothing harmful or looping is ever shown and then taken back.

use hearth_safety::Triage;

/// What to do with the reply so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Show these finished sentences and keep generating.
    Release(String),
    /// The model started repeating itself: stop here; what was released stands.
    Loop,
    /// The reply broke the safety rules: replace it entirely.
    Unsafe(Vec<String>),
}

/// Buffers a streamed reply and judges each finished sentence.
#[derive(Debug)]
pub struct ReplyCheck<'t> {
    triage: &'t Triage,
    /// Everything the model wrote.
    text: String,
    /// How much of `text` has been judged and released.
    released: usize,
    /// What the person has been shown (released text with note labels removed).
    shown: String,
    sentences: Vec<String>,
}

impl<'t> ReplyCheck<'t> {
    pub fn new(triage: &'t Triage) -> Self {
        Self {
            triage,
            text: String::new(),
            released: 0,
            shown: String::new(),
            sentences: Vec::new(),
        }
    }

    /// Adds a piece of the reply; returns what may be shown now.
    pub fn push(&mut self, piece: &str) -> Verdict {
        self.text.push_str(piece);
        match sentence_end(&self.text[self.released..]) {
            Some(end) => self.judge(self.released + end),
            None => Verdict::Release(String::new()),
        }
    }

    /// The reply is complete: judges what is left.
    pub fn finish(&mut self) -> Verdict {
        self.judge(self.text.len())
    }

    /// The text released so far (what the person has seen).
    pub fn released(&self) -> &str {
        &self.shown
    }

    fn judge(&mut self, upto: usize) -> Verdict {
        let check = hearth_safety::check_reply(self.triage, &self.text[..upto]);
        if !check.ok {
            return Verdict::Unsafe(check.reasons);
        }
        let fresh = &self.text[self.released..upto];
        for sentence in split_sentences(fresh) {
            let key = sentence_key(&sentence);
            if key.len() > 12 && self.sentences.contains(&key) {
                return Verdict::Loop;
            }
            if !key.is_empty() {
                self.sentences.push(key);
            }
        }
        let shown = scrub_note_labels(fresh);
        self.released = upto;
        self.shown.push_str(&shown);
        Verdict::Release(shown)
    }
}

/// Small models sometimes copy the wording of their private plan note into the reply ("Suggest they
/// try this: …"). Those instructions are for the model, not the person: rewrite or drop them.
const NOTE_LABELS: &[(&str, &str)] = &[
    ("Suggest they try this: ", "You could try this: "),
    ("Suggest they try this:", "You could try this:"),
    ("End with one short open question: ", ""),
    ("End with one short open question:", ""),
    ("End with one short open question.", ""),
    ("Private notes for your next reply", ""),
    ("my private notes", "research"),
    ("your private notes", "research"),
];

fn scrub_note_labels(text: &str) -> String {
    NOTE_LABELS
        .iter()
        .fold(text.to_string(), |text, (label, replacement)| text.replace(label, replacement))
}

/// The byte offset just after the last sentence end in `text` (a `.`, `!`, `?` or newline followed
/// by whitespace), if any.
fn sentence_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(1))
        .rev()
        .find(|&i| {
            matches!(bytes[i], b'.' | b'!' | b'?' | b'\n') && bytes[i + 1].is_ascii_whitespace()
        })
        .map(|i| i + 1)
}

fn split_sentences(text: &str) -> Vec<String> {
    let mut sentences = Vec::new();
    let mut current = String::new();
    for ch in text.chars() {
        current.push(ch);
        if matches!(ch, '.' | '!' | '?' | '\n') {
            sentences.push(std::mem::take(&mut current));
        }
    }
    if !current.trim().is_empty() {
        sentences.push(current);
    }
    sentences
}

/// A sentence reduced to its words, so a repeat is caught despite case and punctuation.
fn sentence_key(sentence: &str) -> String {
    sentence
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Counts the questions a reply asks (for quality checks).
pub fn question_count(reply: &str) -> usize {
    reply.matches('?').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_whole_sentences_only() {
        let triage = Triage::default();
        let mut check = ReplyCheck::new(&triage);
        assert_eq!(check.push("That sounds"), Verdict::Release(String::new()));
        assert_eq!(check.push(" hard. You"), Verdict::Release("That sounds hard.".into()));
        assert_eq!(check.finish(), Verdict::Release(" You".into()));
        assert_eq!(check.released(), "That sounds hard. You");
    }

    #[test]
    fn a_repeated_sentence_stops_the_reply() {
        let triage = Triage::default();
        let mut check = ReplyCheck::new(&triage);
        let first = check.push("You could try a gentle start-up tonight. ");
        assert!(matches!(first, Verdict::Release(ref s) if !s.is_empty()));
        assert_eq!(check.push("you could try a GENTLE start-up tonight! "), Verdict::Loop);
        assert_eq!(check.released(), "You could try a gentle start-up tonight.");
    }

    #[test]
    fn plan_note_wording_never_reaches_the_person() {
        let triage = Triage::default();
        let mut check = ReplyCheck::new(&triage);
        check.push("Suggest they try this: a chore audit. ");
        check.push("End with one short open question: What feels fair to you?");
        check.finish();
        assert_eq!(check.released(), "You could try this: a chore audit. What feels fair to you?");
    }

    #[test]
    fn counts_questions() {
        assert_eq!(question_count("How? Why?"), 2);
    }
}
