//! Conversation memory for triage. A person in crisis rarely says everything in one message:
//! "I have pills" and "tonight" may be two turns apart. The last few user turns are scanned with
//! the same lexicon and weighed together, until a turn says the risk has passed.

use crate::detect::{Fired, assess, scan};
use crate::lexicon::Signal;
use crate::{Category, Triage};

/// How many earlier user turns are remembered.
pub(crate) const CONTEXT_TURNS: usize = 4;

/// Categories whose risk persists across turns. A manipulation request or a legal question is
/// about the message that asked it; danger to a person is not.
const CARRIED: [Category; 4] =
    [Category::SelfHarm, Category::Abuse, Category::HarmToOthers, Category::MinorSafety];

pub(crate) fn triage_in_context(earlier: &[&str], text: &str) -> Triage {
    let mut fired = scan(text, 0);
    if fired.iter().any(|f| f.signal == Signal::Resolved) {
        return assess(&fired);
    }
    for (age, turn) in earlier.iter().rev().take(CONTEXT_TURNS).enumerate().map(|(i, t)| (i + 1, t))
    {
        let past = scan(turn, age);
        if past.iter().any(|f| f.signal == Signal::Resolved) {
            // Anything said before "I'm safe now" is resolved; what came after still counts.
            break;
        }
        fired.extend(past.into_iter().filter(carried));
    }
    assess(&fired)
}

fn carried(f: &Fired) -> bool {
    match f.category {
        None => true,
        Some(c) => CARRIED.contains(&c),
    }
}
