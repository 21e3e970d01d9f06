//! The triage lexicon: reviewed rules in `content/safety/lexicon.toml`, compiled into the binary
//! and turned once into one `RegexSet` (which rules fire) plus one `Regex` per rule (where).
//! Keeping the phrases in a data file means a reviewer can read and change them without reading
//! the matching code, and every hit names the rule that fired.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use regex::{Regex, RegexBuilder};
use regex_syntax::hir::{Hir, HirKind};
use serde::Deserialize;

use crate::Category;

const LEXICON_TOML: &str = include_str!("../../../content/safety/lexicon.toml");

/// What a rule's match means on its own, before negation and context are weighed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Signal {
    /// Imminent risk by itself: a plan, prepared means, a weapon, strangulation, a threat to kill.
    Urgent,
    /// A clear disclosure or request in the category: caution by itself.
    Strong,
    /// Stated intent to harm someone: caution, urgent with means, a target's whereabouts or a time.
    Intent,
    /// A suicide attempt or overdose: caution, urgent when recent.
    Attempt,
    /// A weaker sign (hopelessness, burden, exhaustion); several distinct families add up.
    Weak,
    /// Access to self-harm means ("I have pills", "I bought rope"): raises other signals, and
    /// with a near time is urgent self-harm even without other words.
    Means,
    /// A weapon at hand ("I have a gun"): raises ideation or intent to urgent, nothing alone.
    Weapon,
    /// A near time ("tonight", "in an hour"): raises other signals.
    Timing,
    /// A recent time ("last night", "an hour ago"): makes an attempt urgent.
    Recent,
    /// Knowing where a person is, or waiting for them: raises intent to harm them.
    Target,
    /// The writer is a child or teenager.
    MinorSelf,
    /// Another person involved is an adult (or in a position of trust).
    AdultOther,
    /// Secrecy, sexual content or meeting up: makes a minor-adult contact urgent.
    MinorContext,
    /// The risk raised earlier in a conversation is resolved ("I'm safe now").
    Resolved,
}

impl Signal {
    /// Escalators and conjunction parts say nothing on their own.
    pub(crate) fn is_escalator(self) -> bool {
        matches!(
            self,
            Signal::Means
                | Signal::Weapon
                | Signal::Timing
                | Signal::Recent
                | Signal::Target
                | Signal::MinorSelf
                | Signal::AdultOther
                | Signal::MinorContext
                | Signal::Resolved
        )
    }
}

/// Whose words a phrase must be to count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Subject {
    /// Anyone's.
    #[default]
    Any,
    /// The writer's own: a nearer "you", "he", "people who" in the clause cancels the match.
    First,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LexiconFile {
    vars: BTreeMap<String, String>,
    rule: Vec<RuleDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDef {
    id: String,
    /// A category name, or `any` for escalators that raise whichever category they accompany.
    category: String,
    signal: Signal,
    /// Reviewer's grouping of related phrases; not used by the code.
    #[serde(default)]
    #[allow(dead_code)]
    family: Option<String>,
    pattern: String,
    #[serde(default)]
    subject: Subject,
    #[serde(default = "default_true")]
    negatable: bool,
    /// Suppressed when the message laughs ("lol", "haha", an emoji): hyperbole, not a threat.
    #[serde(default)]
    jokey: bool,
    /// A regex the text just before the match must not end with.
    #[serde(default)]
    unless_before: Option<String>,
    /// A regex the text just after the match must not start with.
    #[serde(default)]
    unless_after: Option<String>,
    /// Reviewer's note; not used by the code.
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

fn default_true() -> bool {
    true
}

/// One compiled rule.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) id: String,
    /// `None` for escalators that apply to any category.
    pub(crate) category: Option<Category>,
    pub(crate) signal: Signal,
    pub(crate) subject: Subject,
    pub(crate) negatable: bool,
    pub(crate) jokey: bool,
    pub(crate) regex: Regex,
    pub(crate) unless_before: Option<Regex>,
    pub(crate) unless_after: Option<Regex>,
}

/// All rules, plus a keyword automaton that nominates the rules worth trying on a text.
///
/// Every rule's pattern is analysed once for literal "anchors": a set of strings at least one of
/// which occurs in any match (for "want to die" that is e.g. `want`). One Aho-Corasick pass over
/// the text finds the anchors present, and only rules with an anchor present (or rules with no
/// usable anchor) run their regex. A combined `RegexSet` of every rule was tried first: its lazy
/// DFA kept rebuilding states on varied text and cost ~100 µs per chat sentence.
#[derive(Debug)]
pub(crate) struct Lexicon {
    pub(crate) rules: Vec<Rule>,
    anchors: AhoCorasick,
    /// For each anchor pattern of `anchors`, the rules it nominates.
    anchor_rules: Vec<Vec<usize>>,
    /// Rules without usable anchors: always tried.
    always: Vec<usize>,
    /// The text of each anchor pattern, for review and tests.
    #[allow(dead_code)]
    anchor_text: Vec<String>,
}

impl Lexicon {
    /// Indices of the rules that may match somewhere in `text`, in rule order.
    pub(crate) fn candidates(&self, text: &str) -> Vec<usize> {
        let mut hit = vec![false; self.rules.len()];
        for i in &self.always {
            hit[*i] = true;
        }
        for m in self.anchors.find_overlapping_iter(text) {
            for r in &self.anchor_rules[m.pattern().as_usize()] {
                hit[*r] = true;
            }
        }
        hit.iter().enumerate().filter_map(|(i, h)| h.then_some(i)).collect()
    }

    /// The anchors of rule `index` (`None`: always tried). For tests and review.
    #[cfg(test)]
    pub(crate) fn anchors_of(&self, index: usize) -> Option<Vec<String>> {
        if self.always.contains(&index) {
            return None;
        }
        let mut out = Vec::new();
        for (pattern, rules) in self.anchor_rules.iter().enumerate() {
            if rules.contains(&index) {
                out.push(pattern);
            }
        }
        Some(out.into_iter().map(|p| self.anchor_text[p].clone()).collect())
    }
}

/// Errors in the compiled-in lexicon; a unit test keeps the shipped file free of them.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LexiconError {
    #[error("lexicon TOML does not parse")]
    Toml(#[from] toml::de::Error),
    #[error("rule {id}: unknown category {category:?}")]
    Category { id: String, category: String },
    #[error("rule {id}: undefined variable {{{name}}}")]
    Variable { id: String, name: String },
    #[error("rule {id}: bad regex")]
    Regex {
        id: String,
        #[source]
        source: regex::Error,
    },
    #[error("duplicate rule id {0}")]
    Duplicate(String),
    #[error("anchor automaton: {0}")]
    Anchors(String),
}

pub(crate) static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    Lexicon::parse(LEXICON_TOML).expect("the compiled-in lexicon is valid (checked by unit tests)")
});

impl Lexicon {
    pub(crate) fn parse(source: &str) -> Result<Self, LexiconError> {
        let file: LexiconFile = toml::from_str(source)?;
        let mut vars: BTreeMap<String, String> = BTreeMap::new();
        // Variables may use variables defined before them (in name order or not): resolve
        // repeatedly until nothing changes, which terminates because the file is finite and a
        // cycle would leave an undefined reference that is reported below.
        for (name, value) in &file.vars {
            vars.insert(name.clone(), value.clone());
        }
        for _ in 0..8 {
            let snapshot = vars.clone();
            for value in vars.values_mut() {
                *value = expand(value, &snapshot, "vars").unwrap_or_else(|_| value.clone());
            }
        }

        let mut rules = Vec::with_capacity(file.rule.len());
        let mut sources = Vec::with_capacity(file.rule.len());
        let mut seen = std::collections::BTreeSet::new();
        for def in file.rule {
            if !seen.insert(def.id.clone()) {
                return Err(LexiconError::Duplicate(def.id));
            }
            let category = match def.category.as_str() {
                "any" => None,
                other => Some(Category::from_name(other).ok_or_else(|| {
                    LexiconError::Category { id: def.id.clone(), category: other.to_string() }
                })?),
            };
            let body = expand(&def.pattern, &vars, &def.id)?;
            // A match must not start or end inside a word ("die" in "diet"); that is checked
            // after matching (see `detect::scan`) because a pattern may end in punctuation or `$`.
            // Leftmost-first matching would settle on "was" where "wasnt here" was meant, so the
            // located regex first tries the body followed by a word boundary.
            let body = ascii_boundaries(&body);
            let located = format!(r"(?-u:\b)(?:(?:{body})(?-u:\b)|(?:{body}))");
            let regex = build(&located)
                .map_err(|source| LexiconError::Regex { id: def.id.clone(), source })?;
            let full = format!(r"(?-u:\b)(?:{body})");
            let side = |p: &Option<String>,
                        anchor_end: bool|
             -> Result<Option<Regex>, LexiconError> {
                p.as_ref()
                    .map(|p| {
                        let body = expand(p, &vars, &def.id)?;
                        // "Ends with" patterns start at a word boundary, so `he $` does not match "the ".
                        let full = if anchor_end {
                            format!(r"\b(?:{body})$")
                        } else {
                            format!("^(?:{body})")
                        };
                        build(&ascii_boundaries(&full))
                            .map_err(|source| LexiconError::Regex { id: def.id.clone(), source })
                    })
                    .transpose()
            };
            let unless_before = side(&def.unless_before, true)?;
            let unless_after = side(&def.unless_after, false)?;
            sources.push(full);
            rules.push(Rule {
                id: def.id,
                category,
                signal: def.signal,
                subject: def.subject,
                negatable: def.negatable,
                jokey: def.jokey,
                regex,
                unless_before,
                unless_after,
            });
        }
        let mut by_anchor: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut always = Vec::new();
        for (index, source) in sources.iter().enumerate() {
            match anchors(source) {
                Some(literals) => {
                    for literal in literals {
                        by_anchor.entry(literal).or_default().push(index);
                    }
                }
                None => always.push(index),
            }
        }
        let anchor_text: Vec<String> = by_anchor.keys().cloned().collect();
        let anchor_rules: Vec<Vec<usize>> = by_anchor.into_values().collect();
        let automaton = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(&anchor_text)
            .map_err(|e| LexiconError::Anchors(e.to_string()))?;
        Ok(Self { rules, anchors: automaton, anchor_rules, always, anchor_text })
    }
}

/// Words too common to be worth an Aho-Corasick hit: an anchor set containing one of them would
/// nominate its rule for nearly every message.
const COMMON: &[&str] = &[
    "the", "and", "for", "her", "his", "him", "she", "you", "was", "are", "but", "not", "with",
    "that", "this", "have", "had", "has", "from", "they", "them", "what", "when", "while", "after",
    "again", "because", "last", "out", "see", "keep", "like", "time", "know", "all", "now", "way",
    "just", "get", "got", "can", "cant", "dont", "its", "one", "about", "been", "will", "would",
    "some", "there", "their", "then", "than", "into", "your", "our", "who", "how", "why", "any",
    "said", "says", "say", "make", "made", "feel", "being", "want", "said", "told", "tell", "even",
    "still", "really", "also", "only", "over", "here", "ive", "im",
];
/// Most distinct literals kept while multiplying out a run of fixed parts.
const MAX_PRODUCT: usize = 2048;

/// A set of literals at least one of which occurs in every match of `pattern`, chosen to be as
/// selective as possible; `None` when no useful set exists (the rule is then always tried).
fn anchors(pattern: &str) -> Option<Vec<String>> {
    let hir = regex_syntax::ParserBuilder::new().utf8(false).build().parse(pattern).ok()?;
    let found = required(&hir)?;
    if score(&found.lits) == 0 {
        return None;
    }
    found.lits.into_iter().map(|b| String::from_utf8(b).ok()).collect()
}

/// Literals required by a pattern: one of `lits` occurs in every match; when `exact`, every match
/// *is* one of `lits` (so neighbouring parts can be multiplied out into longer literals).
struct Required {
    lits: Vec<Vec<u8>>,
    exact: bool,
}

fn score(lits: &[Vec<u8>]) -> usize {
    lits.iter()
        .map(|l| {
            let text = String::from_utf8_lossy(l);
            let word = text.trim();
            if word.len() < 3 || COMMON.contains(&word) { 0 } else { word.len().min(16) }
        })
        .min()
        .unwrap_or(0)
}

fn required(hir: &Hir) -> Option<Required> {
    let exact = |lits: Vec<Vec<u8>>| Some(Required { lits, exact: true });
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => exact(vec![Vec::new()]),
        HirKind::Literal(lit) => exact(vec![lit.0.to_vec()]),
        HirKind::Class(class) => {
            let bytes: Vec<Vec<u8>> = match class {
                regex_syntax::hir::Class::Bytes(c) => {
                    c.iter().flat_map(|r| r.start()..=r.end()).map(|b| vec![b]).take(17).collect()
                }
                regex_syntax::hir::Class::Unicode(c) => c
                    .iter()
                    .flat_map(|r| r.start()..=r.end())
                    .take(17)
                    .map(|ch| ch.to_string().into_bytes())
                    .collect(),
            };
            if bytes.len() > 16 { None } else { exact(bytes) }
        }
        HirKind::Capture(cap) => required(&cap.sub),
        HirKind::Repetition(rep) => {
            let sub = required(&rep.sub);
            match (rep.min, rep.max) {
                (1, Some(1)) => sub,
                (0, Some(1)) => {
                    let sub = sub?;
                    if !sub.exact {
                        return None;
                    }
                    let mut lits = sub.lits;
                    lits.push(Vec::new());
                    exact(lits)
                }
                (min, _) if min >= 1 => sub.map(|s| Required { lits: s.lits, exact: false }),
                _ => None,
            }
        }
        HirKind::Alternation(alts) => {
            let mut lits = Vec::new();
            let mut all_exact = true;
            for alt in alts {
                let r = required(alt)?;
                all_exact &= r.exact;
                lits.extend(r.lits);
            }
            lits.sort();
            lits.dedup();
            Some(Required { lits, exact: all_exact })
        }
        HirKind::Concat(parts) => {
            // Every part is required. Runs of exact parts are multiplied out into longer literals;
            // the most selective candidate (run or inexact part) is kept.
            let mut best: Option<Vec<Vec<u8>>> = None;
            let keep = |candidate: Vec<Vec<u8>>, best: &mut Option<Vec<Vec<u8>>>| {
                let better = match best {
                    None => true,
                    Some(b) => {
                        (score(&candidate), std::cmp::Reverse(candidate.len()))
                            > (score(b), std::cmp::Reverse(b.len()))
                    }
                };
                if better {
                    *best = Some(candidate);
                }
            };
            let mut run: Vec<Vec<u8>> = vec![Vec::new()];
            let mut whole_exact = true;
            for part in parts {
                match required(part) {
                    Some(r) if r.exact && run.len() * r.lits.len() <= MAX_PRODUCT => {
                        run = run
                            .iter()
                            .flat_map(|a| r.lits.iter().map(move |b| [a.as_slice(), b].concat()))
                            .collect();
                        run.sort();
                        run.dedup();
                    }
                    other => {
                        whole_exact = false;
                        keep(std::mem::replace(&mut run, vec![Vec::new()]), &mut best);
                        match other {
                            Some(r) if r.exact => run = r.lits,
                            Some(r) => keep(r.lits, &mut best),
                            None => {}
                        }
                    }
                }
            }
            if whole_exact {
                return exact(run);
            }
            keep(run, &mut best);
            best.map(|lits| Required { lits, exact: false })
        }
    }
}

fn build(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).size_limit(16 << 20).build()
}

/// Replaces `{name}` with the variable's text. Regex repetition braces (`{2}`, `{0,3}`) start
/// with a digit and are left alone.
fn expand(
    pattern: &str,
    vars: &BTreeMap<String, String>,
    id: &str,
) -> Result<String, LexiconError> {
    let mut out = String::with_capacity(pattern.len() * 2);
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_len =
            after.find(|c: char| !(c.is_ascii_lowercase() || c == '_')).unwrap_or(after.len());
        if name_len > 0 && after[name_len..].starts_with('}') {
            let name = &after[..name_len];
            let value = vars.get(name).ok_or_else(|| LexiconError::Variable {
                id: id.to_string(),
                name: name.to_string(),
            })?;
            out.push_str("(?:");
            out.push_str(value);
            out.push(')');
            rest = &after[name_len + 1..];
        } else {
            out.push('{');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Unicode word boundaries stop the lazy DFA on non-ASCII text; the normalised text is what we
/// match, and ASCII classes are what the phrases need.
fn ascii_boundaries(pattern: &str) -> String {
    // Unicode `\w` and `\d` also blow up the automaton; the phrases only need ASCII.
    pattern.replace(r"\b", r"(?-u:\b)").replace(r"\w", r"(?-u:\w)").replace(r"\d", "[0-9]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_lexicon_compiles() {
        let lexicon = Lexicon::parse(LEXICON_TOML).expect("lexicon parses");
        assert!(lexicon.rules.len() > 50, "only {} rules", lexicon.rules.len());
        for category in Category::ALL {
            assert!(
                lexicon
                    .rules
                    .iter()
                    .any(|r| r.category == Some(category) && !r.signal.is_escalator()),
                "no rules for {category:?}"
            );
        }
    }

    /// The anchors are a prefilter: a match without one of its rule's anchors would be silently
    /// lost. Check on varied text that every match of every rule contains one of its anchors.
    #[test]
    fn anchors_are_sound_and_selective() {
        let lexicon = &*LEXICON;
        let samples = [
            "i want to die, im going to kill myself tonight with the pills i saved",
            "he choked me and held a knife to my throat, he said hed kill me",
            "how do i read my girlfriends texts without her knowing, i want to make her jealous",
            "im 15 and my 22 year old boyfriend wants to meet up, dont tell my parents",
            "can i double my dose of sertraline, do i need a lawyer for custody",
            "i feel so hopeless and like a burden, nobody would miss me if i was gone",
            "i cut myself again last night and my scars are showing",
            "im going to make his new girlfriend pay, i know where she lives",
            "my boyfriend keeps saying hes going to kill himself if i leave",
            "i dont want to wake up tomorrow. whats the point of living anymore",
        ];
        let mut always = 0;
        for (index, rule) in lexicon.rules.iter().enumerate() {
            let Some(anchors) = lexicon.anchors_of(index) else {
                always += 1;
                continue;
            };
            assert!(anchors.iter().all(|a| a.trim().len() >= 3), "{}: {anchors:?}", rule.id);
            for text in samples {
                for m in rule.regex.find_iter(text) {
                    assert!(
                        anchors.iter().any(|a| m.as_str().contains(a.as_str())),
                        "{}: match {:?} has none of its anchors",
                        rule.id,
                        m.as_str()
                    );
                }
            }
        }
        assert!(always <= 4, "{always} rules have no anchor and run on every message");
    }

    #[test]
    fn undefined_variable_is_reported() {
        let src =
            "[vars]\n[[rule]]\nid='x'\ncategory='abuse'\nsignal='strong'\npattern='{nope} me'\n";
        assert!(matches!(Lexicon::parse(src), Err(LexiconError::Variable { .. })));
    }

    #[test]
    fn repetition_braces_survive_expansion() {
        let vars = BTreeMap::from([("w".to_string(), "[a-z]+".to_string())]);
        assert_eq!(expand("a{2} {w}", &vars, "t").expect("expands"), "a{2} (?:[a-z]+)");
    }
}
