//! Measures triage on the shared evaluation data (`../shared/eval/`, see its README): the
//! chat-shaped `safety-dev.jsonl` for every category, clinician-labelled C-SSRS Reddit users for
//! self-harm recall by severity, and the Reddit Mental Health Dataset for recall on r/SuicideWatch
//! and false alarms on unrelated forums. None of the data is compiled in.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{Category, Level, Triage, triage};

/// Forums unrelated to mental health: any self-harm flag there is a false alarm.
pub const CONTROL_FORUMS: [&str; 9] = [
    "personalfinance",
    "UKPersonalFinance",
    "teaching",
    "guns",
    "conspiracy",
    "ukpolitics",
    "unitedkingdom",
    "legaladvice",
    "mindfulness",
];
/// Forums reported for information only (distress without a suicide label).
pub const INFO_FORUMS: [&str; 3] = ["depression", "lonely", "divorce"];
/// C-SSRS labels in order of severity.
pub const CSSRS_LABELS: [&str; 5] = ["Supportive", "Indicator", "Ideation", "Behavior", "Attempt"];
/// C-SSRS labels that should be flagged `self_harm`.
pub const CSSRS_AT_RISK: [&str; 3] = ["Ideation", "Behavior", "Attempt"];

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} line {line} is not a valid eval row")]
    Json {
        path: PathBuf,
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path} is not valid CSV")]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("{path} line {line}: unknown expected category {value:?}")]
    Label { path: PathBuf, line: usize, value: String },
}

/// One line of `safety-dev.jsonl`.
#[derive(Clone, Debug, Deserialize)]
pub struct DevRow {
    pub id: String,
    pub text: String,
    pub expect: String,
    #[serde(default)]
    pub level: Option<String>,
    #[serde(default)]
    pub injection: bool,
}

/// Precision and recall counts for one category on `safety-dev`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CategoryScore {
    pub category: Option<Category>,
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
}

impl CategoryScore {
    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_positives)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_negatives)
    }
}

/// A `safety-dev` row whose triage did not meet its label.
#[derive(Clone, Debug)]
pub struct DevFailure {
    pub row: DevRow,
    pub got: Triage,
}

#[derive(Clone, Debug, Default)]
pub struct DevReport {
    pub rows: usize,
    pub per_category: Vec<CategoryScore>,
    /// Rows marked `level: urgent`, and how many of them came out urgent.
    pub urgent_marked: usize,
    pub urgent_found: usize,
    /// Rows not marked urgent that came out urgent.
    pub urgent_overcalls: usize,
    /// `none` rows, and how many got any category (idioms, ordinary conflict, injections).
    pub none_rows: usize,
    pub none_false_alarms: usize,
    pub failures: Vec<DevFailure>,
}

/// Users (C-SSRS) or posts (RMHD) in one group, and how many were flagged `self_harm`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupRate {
    pub group: String,
    pub total: usize,
    pub flagged: usize,
}

impl GroupRate {
    pub fn rate(&self) -> f64 {
        ratio(self.flagged, self.total)
    }
}

#[derive(Clone, Debug, Default)]
pub struct CssrsReport {
    /// Users per label, flagged when any one of their posts is flagged (post by post).
    pub by_label: Vec<GroupRate>,
    /// The same with all of a user's posts joined into one text, for comparison.
    pub by_label_joined: Vec<GroupRate>,
}

impl CssrsReport {
    /// Recall over Ideation, Behavior and Attempt users (post-by-post reading).
    pub fn at_risk_recall(&self) -> f64 {
        combined(&self.by_label, &CSSRS_AT_RISK)
    }
    /// Share of Supportive users flagged (post-by-post reading).
    pub fn supportive_false_alarm(&self) -> f64 {
        combined(&self.by_label, &["Supportive"])
    }
}

#[derive(Clone, Debug, Default)]
pub struct RmhdReport {
    pub by_forum: Vec<GroupRate>,
}

impl RmhdReport {
    pub fn suicidewatch_recall(&self) -> f64 {
        combined(&self.by_forum, &["suicidewatch"])
    }
    pub fn control_false_alarm(&self) -> f64 {
        combined(&self.by_forum, &CONTROL_FORUMS)
    }
    pub fn rate(&self, forum: &str) -> f64 {
        combined(&self.by_forum, &[forum])
    }
}

/// Everything measured by [`run`].
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub safety_dev: DevReport,
    pub cssrs: CssrsReport,
    pub rmhd: RmhdReport,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn combined(groups: &[GroupRate], names: &[&str]) -> f64 {
    let (flagged, total) = groups
        .iter()
        .filter(|g| names.iter().any(|n| n.eq_ignore_ascii_case(&g.group)))
        .fold((0, 0), |(f, t), g| (f + g.flagged, t + g.total));
    ratio(flagged, total)
}

/// Reads the eval files under `eval_dir` and measures triage on them.
pub fn run(eval_dir: &Path) -> Result<Report, EvalError> {
    Ok(Report {
        safety_dev: run_safety_dev(&eval_dir.join("safety-dev.jsonl"))?,
        cssrs: run_cssrs(&eval_dir.join("data/cssrs-dev.csv"))?,
        rmhd: run_rmhd(&eval_dir.join("data/rmhd-dev.csv"))?,
    })
}

/// Reads `safety-dev.jsonl`.
pub fn load_safety_dev(path: &Path) -> Result<Vec<DevRow>, EvalError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| EvalError::Io { path: path.to_path_buf(), source })?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: DevRow = serde_json::from_str(line).map_err(|source| EvalError::Json {
            path: path.to_path_buf(),
            line: i + 1,
            source,
        })?;
        if row.expect != "none" && Category::from_name(&row.expect).is_none() {
            return Err(EvalError::Label {
                path: path.to_path_buf(),
                line: i + 1,
                value: row.expect,
            });
        }
        rows.push(row);
    }
    Ok(rows)
}

fn run_safety_dev(path: &Path) -> Result<DevReport, EvalError> {
    let rows = load_safety_dev(path)?;
    let mut report = DevReport { rows: rows.len(), ..DevReport::default() };
    let mut scores: BTreeMap<Category, CategoryScore> = Category::ALL
        .into_iter()
        .map(|c| (c, CategoryScore { category: Some(c), ..CategoryScore::default() }))
        .collect();
    for row in rows {
        let got = triage(&row.text);
        let expected = Category::from_name(&row.expect);
        for (category, score) in scores.iter_mut() {
            match (expected == Some(*category), got.has(*category)) {
                (true, true) => score.true_positives += 1,
                (true, false) => score.false_negatives += 1,
                (false, true) => score.false_positives += 1,
                (false, false) => {}
            }
        }
        let marked_urgent = row.level.as_deref() == Some("urgent");
        if marked_urgent {
            report.urgent_marked += 1;
            if got.level == Level::Urgent {
                report.urgent_found += 1;
            }
        } else if got.level == Level::Urgent {
            report.urgent_overcalls += 1;
        }
        if expected.is_none() {
            report.none_rows += 1;
            if !got.categories.is_empty() {
                report.none_false_alarms += 1;
            }
        }
        let ok = match expected {
            Some(c) => got.has(c) && (!marked_urgent || got.level == Level::Urgent),
            None => got.categories.is_empty(),
        };
        if !ok {
            report.failures.push(DevFailure { row, got });
        }
    }
    report.per_category = scores.into_values().collect();
    Ok(report)
}

/// A C-SSRS user: label and posts.
#[derive(Clone, Debug)]
pub struct CssrsUser {
    pub user: String,
    pub label: String,
    pub posts: Vec<String>,
}

/// Reads `cssrs-dev.csv`; the `Post` column is a Python list literal of strings.
pub fn load_cssrs(path: &Path) -> Result<Vec<CssrsUser>, EvalError> {
    #[derive(Deserialize)]
    struct Raw {
        #[serde(rename = "User")]
        user: String,
        #[serde(rename = "Post")]
        post: String,
        #[serde(rename = "Label")]
        label: String,
    }
    let csv_err = |source| EvalError::Csv { path: path.to_path_buf(), source };
    let mut reader = csv::Reader::from_path(path).map_err(csv_err)?;
    let mut users = Vec::new();
    for raw in reader.deserialize::<Raw>() {
        let raw = raw.map_err(csv_err)?;
        users.push(CssrsUser {
            user: raw.user,
            label: raw.label,
            posts: parse_post_list(&raw.post),
        });
    }
    Ok(users)
}

fn run_cssrs(path: &Path) -> Result<CssrsReport, EvalError> {
    let users = load_cssrs(path)?;
    let mut by_label: BTreeMap<&str, (GroupRate, GroupRate)> = CSSRS_LABELS
        .iter()
        .map(|l| {
            let g = GroupRate { group: (*l).to_string(), ..GroupRate::default() };
            (*l, (g.clone(), g))
        })
        .collect();
    for user in &users {
        let Some((post_wise, joined)) = by_label.get_mut(user.label.as_str()) else {
            continue;
        };
        post_wise.total += 1;
        joined.total += 1;
        if user.posts.iter().any(|p| triage(p).has(Category::SelfHarm)) {
            post_wise.flagged += 1;
        }
        if triage(&user.posts.join("\n")).has(Category::SelfHarm) {
            joined.flagged += 1;
        }
    }
    let (by_label, by_label_joined) =
        CSSRS_LABELS.iter().filter_map(|l| by_label.remove(l)).unzip();
    Ok(CssrsReport { by_label, by_label_joined })
}

/// An RMHD post: forum and text.
#[derive(Clone, Debug)]
pub struct RmhdPost {
    pub subreddit: String,
    pub post: String,
}

/// Reads `rmhd-dev.csv`.
pub fn load_rmhd(path: &Path) -> Result<Vec<RmhdPost>, EvalError> {
    #[derive(Deserialize)]
    struct Raw {
        subreddit: String,
        post: String,
    }
    let csv_err = |source| EvalError::Csv { path: path.to_path_buf(), source };
    let mut reader = csv::Reader::from_path(path).map_err(csv_err)?;
    let mut posts = Vec::new();
    for raw in reader.deserialize::<Raw>() {
        let raw = raw.map_err(csv_err)?;
        posts.push(RmhdPost { subreddit: raw.subreddit, post: raw.post });
    }
    Ok(posts)
}

fn run_rmhd(path: &Path) -> Result<RmhdReport, EvalError> {
    let posts = load_rmhd(path)?;
    let mut by_forum: BTreeMap<String, GroupRate> = BTreeMap::new();
    for p in &posts {
        let g = by_forum
            .entry(p.subreddit.clone())
            .or_insert_with(|| GroupRate { group: p.subreddit.clone(), ..GroupRate::default() });
        g.total += 1;
        if triage(&p.post).has(Category::SelfHarm) {
            g.flagged += 1;
        }
    }
    Ok(RmhdReport { by_forum: by_forum.into_values().collect() })
}

/// Parses a Python list literal of strings (`['a', "b's"]`). Tolerant of the dataset's quirks:
/// rows cut off mid-string (the CSV export truncated long cells) keep their last partial post.
pub fn parse_post_list(s: &str) -> Vec<String> {
    let mut posts = Vec::new();
    let mut chars = s.trim().chars().peekable();
    if chars.peek() == Some(&'[') {
        chars.next();
    } else {
        return vec![s.to_string()];
    }
    loop {
        // Skip separators up to the next opening quote.
        let quote = loop {
            match chars.next() {
                Some(c @ ('\'' | '"')) => break Some(c),
                Some(']') | None => break None,
                Some(_) => {}
            }
        };
        let Some(quote) = quote else { break };
        let mut post = String::new();
        let mut closed = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => post.push('\n'),
                    Some('t') => post.push('\t'),
                    Some(other) => post.push(other),
                    None => break,
                },
                c if c == quote => {
                    closed = true;
                    break;
                }
                c => post.push(c),
            }
        }
        posts.push(post);
        if !closed {
            break;
        }
    }
    posts
}

impl Report {
    /// The report as Markdown tables, as printed by the CLI and the tests.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let d = &self.safety_dev;
        let _ = writeln!(out, "### safety-dev ({} chat messages)\n", d.rows);
        let _ = writeln!(out, "| category | precision | recall | tp | fp | fn |");
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for s in &d.per_category {
            let name = s.category.map_or("none", |c| c.as_str());
            let _ = writeln!(
                out,
                "| {name} | {:.2} | {:.2} | {} | {} | {} |",
                s.precision(),
                s.recall(),
                s.true_positives,
                s.false_positives,
                s.false_negatives
            );
        }
        let _ = writeln!(
            out,
            "\nurgent: {}/{} marked rows found, {} over-calls; `none` rows flagged (idioms, conflict, injection): {}/{}; rows failing their label: {}\n",
            d.urgent_found,
            d.urgent_marked,
            d.urgent_overcalls,
            d.none_false_alarms,
            d.none_rows,
            d.failures.len()
        );

        let c = &self.cssrs;
        let _ = writeln!(out, "### C-SSRS users flagged `self_harm`\n");
        let _ = writeln!(
            out,
            "Read post by post: a user is flagged when any one of their posts is. Joined: all posts as one text.\n"
        );
        let _ = writeln!(out, "| label | users | post by post | joined |");
        let _ = writeln!(out, "|---|---|---|---|");
        for (p, j) in c.by_label.iter().zip(&c.by_label_joined) {
            let _ =
                writeln!(out, "| {} | {} | {:.2} | {:.2} |", p.group, p.total, p.rate(), j.rate());
        }
        let _ = writeln!(
            out,
            "| **Ideation+Behavior+Attempt recall** | | **{:.2}** | {:.2} |",
            c.at_risk_recall(),
            combined(&c.by_label_joined, &CSSRS_AT_RISK)
        );
        let _ = writeln!(
            out,
            "| **Supportive false alarms** | | **{:.2}** | {:.2} |\n",
            c.supportive_false_alarm(),
            combined(&c.by_label_joined, &["Supportive"])
        );

        let r = &self.rmhd;
        let _ = writeln!(out, "### RMHD posts flagged `self_harm`\n");
        let _ = writeln!(out, "| forum | posts | flagged |");
        let _ = writeln!(out, "|---|---|---|");
        let row = |out: &mut String, name: &str, forums: &[&str]| {
            let total: usize = r
                .by_forum
                .iter()
                .filter(|g| forums.contains(&g.group.as_str()))
                .map(|g| g.total)
                .sum();
            let _ = writeln!(out, "| {name} | {total} | {:.3} |", combined(&r.by_forum, forums));
        };
        row(&mut out, "**suicidewatch (recall)**", &["suicidewatch"]);
        row(&mut out, "**control forums (false alarms)**", &CONTROL_FORUMS);
        for forum in CONTROL_FORUMS {
            row(&mut out, &format!("&nbsp;&nbsp;{forum}"), &[forum]);
        }
        for forum in INFO_FORUMS {
            row(&mut out, &format!("{forum} (information)"), &[forum]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_python_lists_including_truncated_ones() {
        assert_eq!(parse_post_list(r#"['a b', "it's", 'x\'y']"#), vec!["a b", "it's", "x'y"]);
        assert_eq!(parse_post_list("['one', 'two is cut of"), vec!["one", "two is cut of"]);
        assert_eq!(parse_post_list("[]"), Vec::<String>::new());
    }
}
