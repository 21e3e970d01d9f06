//! Safety triage for Hearth: deterministic, explainable and fast checks that run before any
//! language model speaks (on the user's message) and after it (on the model's reply).
//!
//! `triage` reads one message; `triage_in_context` also remembers risk raised in the last few
//! turns; `check_reply` vets a model reply; `resources` holds the reviewed crisis lines and fixed
//! response texts. The phrases live in `content/safety/lexicon.toml` so they can be reviewed as
//! data; see that file for what each rule is for.

mod context;
mod detect;
mod lexicon;
mod normalize;
mod reply;

pub mod bench;
pub mod eval;
pub mod resources;

use serde::{Deserialize, Serialize};

pub use reply::{ReplyCheck, check_reply};

/// How serious a message is. Ordered, so the highest level of several categories is the `max`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Nothing that changes how the coach answers.
    #[default]
    None,
    /// A risk to name and steer around: the coach's prompt gets the category's guidance.
    Caution,
    /// Imminent risk (a plan, means, a recent attempt, a weapon, strangulation, a threat to kill):
    /// the fixed, reviewed reply with resources is shown, whatever the model would have said.
    Urgent,
}

impl Level {
    pub fn as_str(&self) -> &'static str {
        match self {
            Level::None => "none",
            Level::Caution => "caution",
            Level::Urgent => "urgent",
        }
    }
}

/// The safety policy's categories (see DESIGN.md, "Safety policy").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Suicidal thoughts, self-injury, a plan or means.
    SelfHarm,
    /// The writer is being hurt, threatened, coerced, controlled or stalked.
    Abuse,
    /// The writer intends or plans to hurt someone.
    HarmToOthers,
    /// The writer asks for help to surveil, guilt-trip, gaslight, isolate or trick a partner.
    ManipulationRequest,
    /// A minor with an adult, grooming signs.
    MinorSafety,
    /// Medication, custody, divorce law and other questions for a professional.
    MedicalLegal,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::SelfHarm,
        Category::Abuse,
        Category::HarmToOthers,
        Category::ManipulationRequest,
        Category::MinorSafety,
        Category::MedicalLegal,
    ];

    /// The snake_case name used in JSON, the lexicon and the eval files.
    pub fn as_str(&self) -> &'static str {
        match self {
            Category::SelfHarm => "self_harm",
            Category::Abuse => "abuse",
            Category::HarmToOthers => "harm_to_others",
            Category::ManipulationRequest => "manipulation_request",
            Category::MinorSafety => "minor_safety",
            Category::MedicalLegal => "medical_legal",
        }
    }

    /// The category with this snake_case name.
    pub fn from_name(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A phrase that made a category fire. Offsets are byte offsets into the triaged text; evidence
/// carried over from an earlier turn has `start == end == 0` and a phrase starting "earlier turn:".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub category: Category,
    pub phrase: String,
    pub start: usize,
    pub end: usize,
}

/// The result of triage: the highest level, the categories that fired (in `Category::ALL`
/// order) and the phrases that made them fire.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Triage {
    pub level: Level,
    pub categories: Vec<Category>,
    pub evidence: Vec<Evidence>,
}

impl Triage {
    /// True when `category` fired.
    pub fn has(&self, category: Category) -> bool {
        self.categories.contains(&category)
    }
}

/// Triage of one message on its own. Text that tries to give instructions ("ignore previous
/// instructions and …") is read like any other text: only what it says about risk counts.
pub fn triage(text: &str) -> Triage {
    detect::assess(&detect::scan(text, 0))
}

/// Conversation-aware triage: `earlier` are the user's previous messages in this conversation,
/// oldest first. Risk raised in the last few user turns is not forgotten ("I have pills", then
/// two turns later "tonight", is urgent), and an earlier disclosure keeps at least caution for a
/// few turns unless the person clearly says it has passed ("I'm safe now", "I called 988").
pub fn triage_in_context(earlier: &[&str], text: &str) -> Triage {
    context::triage_in_context(earlier, text)
}

#[cfg(test)]
mod tests;
