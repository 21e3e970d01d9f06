//! Text normalisation for triage. People type fast and loose ("im", "dont", curly quotes, double
//! spaces, ALL CAPS), so the lexicon is written once against a canonical form: lower case,
//! apostrophes dropped, hyphens and runs of spaces folded to one space, line breaks kept as clause
//! breaks, curly double quotes folded to `"`. A byte map leads back to the original text so that
//! evidence can point at what the person actually wrote.

/// Characters treated as apostrophes and dropped, so "don't", "dont" and "don’t" all read `dont`.
const APOSTROPHES: [char; 7] = ['\'', '\u{2019}', '\u{2018}', '`', '\u{b4}', '\u{2bc}', '\u{2032}'];
/// Characters folded to a plain double quote, so quoted speech can be recognised.
const DOUBLE_QUOTES: [char; 6] =
    ['\u{201c}', '\u{201d}', '\u{201e}', '\u{ab}', '\u{bb}', '\u{2033}'];

/// A message in canonical form plus the way back to the original bytes.
#[derive(Debug)]
pub(crate) struct Normalized {
    pub(crate) text: String,
    /// For every byte of `text`, the byte range in the original input it came from.
    origin: Vec<(u32, u32)>,
}

impl Normalized {
    pub(crate) fn new(input: &str) -> Self {
        let mut text = String::with_capacity(input.len() + 8);
        let mut origin = Vec::with_capacity(input.len() + 8);
        // `pending` holds a folded separator (space or newline) not yet written, so that runs of
        // whitespace collapse and trailing whitespace disappears.
        let mut pending: Option<(char, u32, u32)> = None;
        for (at, c) in input.char_indices() {
            let span = (at as u32, (at + c.len_utf8()) as u32);
            if APOSTROPHES.contains(&c) {
                continue;
            }
            if c.is_whitespace() || matches!(c, '-' | '_' | '\u{2010}' | '\u{2011}') {
                let sep = if c == '\n' || c == '\r' { '\n' } else { ' ' };
                pending = match pending {
                    Some(('\n', s, _)) => Some(('\n', s, span.1)),
                    Some((_, s, _)) => Some((sep, s, span.1)),
                    None => Some((sep, span.0, span.1)),
                };
                continue;
            }
            if let Some((sep, s, e)) = pending.take() {
                // "dead ." reads as "dead.": a space before punctuation is dropped.
                let before_punctuation =
                    sep == ' ' && matches!(c, '.' | ',' | '!' | '?' | ';' | ':');
                if !text.is_empty() && !before_punctuation {
                    push(&mut text, &mut origin, sep, (s, e));
                }
            }
            if c.is_ascii() {
                push(&mut text, &mut origin, c.to_ascii_lowercase(), span);
            } else if DOUBLE_QUOTES.contains(&c) {
                push(&mut text, &mut origin, '"', span);
            } else if matches!(c, '\u{2013}' | '\u{2014}' | '\u{2026}') {
                // Dashes and ellipses separate clauses the way a comma does.
                push(&mut text, &mut origin, ',', span);
            } else {
                for lower in c.to_lowercase() {
                    push(&mut text, &mut origin, lower, span);
                }
            }
        }
        Self { text, origin }
    }

    /// Maps a byte range of the normalised text back to a byte range of the original input.
    pub(crate) fn original_span(&self, start: usize, end: usize) -> (usize, usize) {
        if self.origin.is_empty() || start >= end {
            return (0, 0);
        }
        let first = self.origin[start.min(self.origin.len() - 1)];
        let last = self.origin[(end - 1).min(self.origin.len() - 1)];
        (first.0 as usize, last.1 as usize)
    }
}

fn push(text: &mut String, origin: &mut Vec<(u32, u32)>, c: char, span: (u32, u32)) {
    text.push(c);
    for _ in 0..c.len_utf8() {
        origin.push(span);
    }
}

/// The largest char boundary of `s` that is `<= at`.
pub(crate) fn floor_boundary(s: &str, at: usize) -> usize {
    let mut at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The smallest char boundary of `s` that is `>= at`.
pub(crate) fn ceil_boundary(s: &str, at: usize) -> usize {
    let mut at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_apostrophes_and_spaces() {
        let n = Normalized::new("I DON\u{2019}T   want-to  die\n\n Really");
        assert_eq!(n.text, "i dont want to die\nreally");
    }

    #[test]
    fn maps_back_to_original_bytes() {
        let input = "Well\u{2026} I   can\u{2019}t go on";
        let n = Normalized::new(input);
        let at = n.text.find("cant go on").expect("normalised phrase present");
        let (s, e) = n.original_span(at, at + "cant go on".len());
        assert_eq!(&input[s..e], "can\u{2019}t go on");
    }

    #[test]
    fn non_ascii_letters_lower_case_with_spans() {
        let input = "ÉTÉ is fine";
        let n = Normalized::new(input);
        assert!(n.text.starts_with("été"));
        let (s, e) = n.original_span(0, "été".len());
        assert_eq!(&input[s..e], "ÉTÉ");
    }
}
