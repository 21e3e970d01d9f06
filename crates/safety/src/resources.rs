//! Reviewed safety content: crisis and abuse resources by locale, and the fixed response texts
//! (urgent replies, caution guidance for the model, the manipulation opener, the "outside
//! coaching" line). The data lives in `content/safety/*.toml`, is compiled in, and is parsed once.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::{Category, Triage};

const RESOURCES_TOML: &str = include_str!("../../../content/safety/resources.toml");
const RESPONSES_TOML: &str = include_str!("../../../content/safety/responses.toml");

/// The locale used when a person's locale has no entry.
pub const FALLBACK_LOCALE: &str = "intl";

/// One helpline, text line, website or emergency number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    pub name: String,
    /// What it is for, in a sentence.
    pub description: String,
    /// Categories it serves; empty for the emergency number, which serves all.
    #[serde(default)]
    pub serves: Vec<Category>,
    #[serde(default)]
    pub phone: Option<String>,
    /// How to reach it by text message ("988", "START to 88788").
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub hours: Option<String>,
    /// The official page where the contact details are published.
    pub source: String,
    /// When a person last checked this entry against `source` (YYYY-MM-DD).
    pub reviewed: String,
}

impl Resource {
    /// One line for a reply: "Name: call X, text Y, URL (hours)".
    pub fn render_line(&self) -> String {
        let mut ways = Vec::new();
        if let Some(phone) = &self.phone {
            ways.push(format!("call {phone}"));
        }
        if let Some(text) = &self.text {
            ways.push(format!("text {text}"));
        }
        if let Some(url) = &self.url {
            ways.push(url.clone());
        }
        let mut line = if ways.is_empty() {
            format!("- {}: {}", self.name, self.description)
        } else {
            format!("- {}: {}", self.name, ways.join(", "))
        };
        if let Some(hours) = &self.hours {
            line.push_str(&format!(" ({hours})"));
        }
        line
    }
}

/// A locale's resources.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Locale {
    pub name: String,
    pub emergency: Resource,
    #[serde(default)]
    pub resources: Vec<Resource>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourcesFile {
    locales: BTreeMap<String, Locale>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UrgentText {
    acknowledge: String,
    safety_question: String,
    resources_intro: String,
    keep_talking: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponsesFile {
    #[allow(dead_code)]
    reviewed: String,
    urgent: BTreeMap<Category, UrgentText>,
    caution: BTreeMap<Category, String>,
    manipulation_request: ManipulationText,
    medical_legal: MedicalLegalText,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManipulationText {
    opener: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MedicalLegalText {
    outside_coaching: String,
}

static RESOURCES: LazyLock<ResourcesFile> = LazyLock::new(|| {
    toml::from_str(RESOURCES_TOML)
        .expect("compiled-in resources.toml parses (checked by unit tests)")
});
static RESPONSES: LazyLock<ResponsesFile> = LazyLock::new(|| {
    toml::from_str(RESPONSES_TOML)
        .expect("compiled-in responses.toml parses (checked by unit tests)")
});

/// Locale codes with resources, e.g. `us`, `gb`, `intl`.
pub fn known_locales() -> Vec<&'static str> {
    RESOURCES.locales.keys().map(String::as_str).collect()
}

/// The locale entry for a code such as `en-GB`, `en_US`, `uk`, `de` or `fr-FR`; `None` if unknown.
/// A code with a region is matched on the region only: `es-MX` is not Spain.
pub fn locale(code: &str) -> Option<&'static Locale> {
    let code = code.trim().to_ascii_lowercase();
    let key = match code.rsplit_once(['-', '_']) {
        Some((_, region)) => region,
        None => code.as_str(),
    };
    let key = if key == "uk" { "gb" } else { key };
    RESOURCES.locales.get(key)
}

fn fallback() -> &'static Locale {
    RESOURCES
        .locales
        .get(FALLBACK_LOCALE)
        .expect("resources.toml has an intl locale (checked by unit tests)")
}

/// Resources for `category` in `locale`, falling back to `intl` when the locale is unknown or has
/// none for the category. The locale's emergency number is always last.
///
/// Resources dedicated to the category (listed first in their `serves`) come before general ones;
/// otherwise the order of `resources.toml` is kept.
pub fn resources_for(locale_code: &str, category: Category) -> Vec<&'static Resource> {
    let home = locale(locale_code).unwrap_or_else(fallback);
    let serving = |loc: &'static Locale| -> Vec<&'static Resource> {
        let mut list: Vec<&'static Resource> =
            loc.resources.iter().filter(|r| r.serves.contains(&category)).collect();
        list.sort_by_key(|r| r.serves.first() != Some(&category));
        list
    };
    let mut out = serving(home);
    if out.is_empty() {
        out = serving(fallback());
    }
    out.push(&home.emergency);
    out
}

/// How many resources per category an urgent reply lists (plus the emergency number): enough
/// to choose from, few enough to read in a crisis.
const URGENT_RESOURCES_PER_CATEGORY: usize = 3;

/// The order in which an urgent reply's opening is chosen when several categories fired.
const URGENT_PRIORITY: [Category; 6] = [
    Category::SelfHarm,
    Category::Abuse,
    Category::MinorSafety,
    Category::HarmToOthers,
    Category::MedicalLegal,
    Category::ManipulationRequest,
];

/// The complete fixed reply for an urgent triage: acknowledgement, a direct question about
/// safety, resources for every category that fired (in the person's locale, with the emergency
/// number), and an invitation to keep talking. Never depends on a model.
pub fn urgent_response(locale_code: &str, triage: &Triage) -> String {
    let primary =
        URGENT_PRIORITY.into_iter().find(|c| triage.has(*c)).unwrap_or(Category::SelfHarm);
    let text = &RESPONSES.urgent[&primary];
    let mut lines = Vec::new();
    let mut seen = Vec::new();
    let mut categories: Vec<Category> =
        URGENT_PRIORITY.into_iter().filter(|c| triage.has(*c)).collect();
    if categories.is_empty() {
        categories.push(primary);
    }
    let home = locale(locale_code).unwrap_or_else(fallback);
    for category in categories {
        let listed = resources_for(locale_code, category)
            .into_iter()
            .filter(|r| !std::ptr::eq(*r, &home.emergency))
            .take(URGENT_RESOURCES_PER_CATEGORY);
        for r in listed {
            if !seen.contains(&r.name) {
                seen.push(r.name.clone());
                lines.push(r.render_line());
            }
        }
    }
    lines.push(home.emergency.render_line_emergency());
    format!(
        "{}\n\n{}\n\n{}\n{}\n\n{}",
        text.acknowledge,
        text.safety_question,
        text.resources_intro,
        lines.join("\n"),
        text.keep_talking
    )
}

impl Resource {
    fn render_line_emergency(&self) -> String {
        match &self.phone {
            Some(phone) => {
                format!("- If you are in danger right now: call {phone} ({})", self.name)
            }
            None => {
                let mut chars = self.description.chars();
                let first = chars.next().map(|c| c.to_lowercase().to_string()).unwrap_or_default();
                format!("- If you are in danger right now: {first}{}", chars.as_str())
            }
        }
    }
}

/// Guidance for the model's system prompt when `category` fires at caution level.
pub fn caution_guidance(category: Category) -> &'static str {
    RESPONSES.caution.get(&category).map_or("", |s| s.trim())
}

/// The fixed opener for a manipulation request: decline, then turn to the need underneath.
pub fn manipulation_opener() -> &'static str {
    RESPONSES.manipulation_request.opener.trim()
}

/// The fixed line for medical and legal questions: outside coaching, who can help.
pub fn outside_coaching_line() -> &'static str {
    RESPONSES.medical_legal.outside_coaching.trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUIRED: [&str; 11] =
        ["us", "gb", "ie", "ca", "au", "nz", "in", "de", "fr", "es", "intl"];

    #[test]
    fn data_files_parse() {
        assert!(!RESOURCES.locales.is_empty());
        for category in Category::ALL {
            assert!(RESPONSES.urgent.contains_key(&category), "no urgent text for {category}");
            assert!(!caution_guidance(category).is_empty(), "no caution guidance for {category}");
        }
        assert!(manipulation_opener().contains("can't help"));
        assert!(outside_coaching_line().contains("outside"));
    }

    #[test]
    fn required_locales_have_self_harm_abuse_and_emergency() {
        for code in REQUIRED {
            let loc =
                RESOURCES.locales.get(code).unwrap_or_else(|| panic!("missing locale {code}"));
            if code != "intl" {
                assert!(loc.emergency.phone.is_some(), "{code} has no emergency number");
                for category in [Category::SelfHarm, Category::Abuse] {
                    assert!(
                        loc.resources.iter().any(|r| r.serves.contains(&category)),
                        "{code} has no {category} resource"
                    );
                }
            }
            for category in Category::ALL {
                let list = resources_for(code, category);
                // Manipulation requests get no helpline of their own; medical and legal
                // questions have none in `intl`. Every list ends with the emergency number.
                let optional =
                    matches!(category, Category::ManipulationRequest | Category::MedicalLegal);
                assert!(list.len() >= 2 || optional, "{code}/{category}");
                assert_eq!(list.last().map(|r| &r.name), Some(&loc.emergency.name));
            }
        }
    }

    #[test]
    fn every_entry_is_sourced_reviewed_and_reachable() {
        for (code, loc) in &RESOURCES.locales {
            for r in loc.resources.iter().chain(std::iter::once(&loc.emergency)) {
                assert!(r.source.starts_with("https://"), "{code}/{}: source", r.name);
                assert_eq!(r.reviewed, "2026-11-21", "{code}/{}", r.name);
                assert!(!r.description.is_empty(), "{code}/{}", r.name);
                let is_intl_emergency = code == "intl" && std::ptr::eq(r, &loc.emergency);
                assert!(
                    r.phone.is_some() || r.text.is_some() || r.url.is_some() || is_intl_emergency,
                    "{code}/{}: no way to reach it",
                    r.name
                );
                if !std::ptr::eq(r, &loc.emergency) {
                    assert!(!r.serves.is_empty(), "{code}/{}: serves nothing", r.name);
                }
            }
        }
    }

    #[test]
    fn known_numbers_are_where_they_should_be() {
        let phones = |code: &str, c: Category| -> Vec<String> {
            resources_for(code, c).iter().filter_map(|r| r.phone.clone()).collect()
        };
        assert!(phones("us", Category::SelfHarm).contains(&"988".to_string()));
        assert!(phones("en-US", Category::Abuse).contains(&"1-800-799-7233".to_string()));
        assert!(phones("en_GB", Category::SelfHarm).contains(&"116 123".to_string()));
        assert!(phones("uk", Category::SelfHarm).contains(&"999".to_string()));
        assert!(phones("au", Category::Abuse).contains(&"1800 737 732".to_string()));
        assert!(phones("fr-FR", Category::Abuse).contains(&"3919".to_string()));
        assert!(phones("es", Category::SelfHarm).contains(&"024".to_string()));
        assert!(phones("in", Category::SelfHarm).contains(&"14416".to_string()));
        assert!(phones("nz", Category::SelfHarm).contains(&"111".to_string()));
    }

    #[test]
    fn unknown_locale_falls_back_to_intl() {
        assert!(locale("es-MX").is_none(), "a region picks the country, not the language");
        assert_eq!(locale("en_GB").map(|l| l.name.as_str()), Some("United Kingdom"));
        let list = resources_for("xx-YY", Category::SelfHarm);
        assert!(list.iter().any(|r| r.url.as_deref() == Some("https://findahelpline.com/")));
        assert!(known_locales().contains(&"intl"));
    }

    #[test]
    fn urgent_response_has_every_part() {
        let triage = crate::triage("I have the pills counted out on the table right now.");
        let reply = urgent_response("us", &triage);
        assert!(reply.contains("are you safe right now"), "{reply}");
        assert!(reply.contains("988"));
        assert!(reply.contains("911"));
        assert!(reply.contains("keep talking"));
        let abuse = crate::triage("He threatened to kill me if I ever tell anyone.");
        let reply = urgent_response("gb", &abuse);
        assert!(reply.contains("0808 2000 247"), "{reply}");
        assert!(reply.contains("not your fault"));
        assert!(reply.contains("999"));
    }
}
