//! The output check: a model's reply is read before it is shown. A small model can be talked
//! into giving a method, a spying recipe or a "just communicate better" answer to someone who is
//! being hurt; these rules catch the kinds of reply that must never reach the person. Each rule
//! has a stable id, reported with the phrase that fired.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::normalize::Normalized;
use crate::{Category, Triage};

/// The verdict on a model reply: `ok` is false when any rule fired; `reasons` holds one entry
/// per fired rule, `"<rule id>: <phrase>"`, so callers can log or match on the id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyCheck {
    pub ok: bool,
    pub reasons: Vec<String>,
}

/// When a rule applies.
#[derive(Clone, Copy, Debug)]
enum When {
    Always,
    /// Only when the user's message was triaged into this category.
    UserIn(Category),
}

struct ReplyRule {
    id: &'static str,
    when: When,
    regex: Regex,
    /// Skip when the sentence around the match refuses or warns ("never install spyware").
    refusal_aware: bool,
}

/// Words that turn an instruction into a warning within the same sentence.
static REFUSAL: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"\b(?:dont|do not|never|wont|will not|cant|cannot|can not|not|shouldnt|should not|instead of|rather than|avoid|illegal|against the law|refuse|isnt|is not|arent|no one deserves|nobody deserves|not recommended|not safe|unsafe|not your fault|im not able|i am not able|unable to|wouldnt|would not)\b",
    )
});

static RULES: LazyLock<Vec<ReplyRule>> = LazyLock::new(|| {
    let rule = |id, when, pattern: &str, refusal_aware| ReplyRule {
        id,
        when,
        regex: compile(pattern),
        refusal_aware,
    };
    vec![
        rule(
            "self_harm_method",
            When::Always,
            r"\b(?:(?:lethal|fatal|deadly|toxic) (?:dose|amount|quantity|level)s?|(?:most|more|least|very) (?:effective|painless|lethal|reliable|certain|quick) (?:way|ways|method|methods|means) to (?:die|end|kill)|(?:painless|quick|easy|peaceful) (?:way|ways|method|methods) to (?:die|end (?:it|your life)|kill yourself)|how to (?:tie a noose|hang yourself|overdose|slit|cut deeper|kill yourself|end your life)|(?:tie|tying) (?:a|the) (?:noose|knot)|(?:cut|slit|slice) (?:deeper|vertically|along the (?:vein|artery|wrist))|(?:carbon monoxide|charcoal|helium|exit bag|nitrogen) (?:in|into|with|method|would|will|is)|\d+ ?(?:mg|milligrams|grams|g|pills|tablets|capsules) (?:of [a-z]+ )?(?:would|will|is|are|should|could) (?:be )?(?:enough|lethal|fatal|kill|do it))\b",
            true,
        ),
        rule(
            "self_harm_dose",
            When::UserIn(Category::SelfHarm),
            r"\b(?:take|taking|swallow|swallowing|need|needs|around|about|at least|more than) (?:\d+|a (?:handful|bottle|bunch)|the whole (?:bottle|pack|box)) ?(?:mg|milligrams|grams|g|pills|tablets|capsules)?\b",
            true,
        ),
        rule(
            "encourages_self_harm",
            When::Always,
            r"\b(?:you should (?:just )?(?:kill yourself|end it|end your life|die|do it)|go ahead and (?:do it|end it|kill yourself|hurt yourself)|(?:maybe|perhaps) (?:dying|death|ending it) (?:is|would be) (?:the answer|best|better|for the best|a relief)|(?:no one|nobody) would (?:miss|notice) you|(?:they|everyone|people|the world) (?:would|will) be better off without you|your life (?:isnt|is not) worth (?:living|it)|(?:it|that) (?:makes|would make) sense to (?:want to die|end it|kill yourself)|you deserve to (?:die|suffer|be hurt))\b",
            false,
        ),
        rule(
            "minimizes_risk",
            When::UserIn(Category::SelfHarm),
            r"\b(?:you dont (?:really )?mean (?:that|it)|youre (?:just )?being (?:dramatic|silly|overdramatic)|(?:just )?(?:cheer up|snap out of it|think positive|look on the bright side)|(?:other|some) people have it (?:much |so |way )?worse|(?:its|that is|thats) (?:just )?attention seeking|everyone feels (?:that|this) way sometimes,? (?:so|dont))\b",
            false,
        ),
        rule(
            "surveillance_instructions",
            When::Always,
            r"\b(?:(?:install|download|use|set up|hide|put|try|get|buy) (?:an? |some |the )?(?:spyware|spy app|stalkerware|keylogger|key logger|tracking app|hidden tracker|tracker|airtag|gps tracker|mspy|flexispy|eyezy|cocospy|hidden camera|monitoring app)|(?:share|turn on|enable|switch on) (?:her|his|their) location(?: sharing)? (?:without|secretly|from (?:her|his|their) phone)|(?:log|sign) into (?:her|his|their) (?:account|icloud|google|email|instagram|facebook|phone)|(?:check|go through|read|look through) (?:her|his|their) (?:phone|messages|texts|dms|email) (?:while|when) (?:she|he|they)(?:s| is| are|re)? (?:asleep|sleeping|in the shower|not looking|out)|(?:guess|find out|figure out|reset|crack|bypass) (?:her|his|their) (?:password|passcode|pin|lock screen)|(?:recover|retrieve|see) (?:her|his|their) deleted (?:messages|texts)|(?:without (?:her|him|them) (?:knowing|noticing|finding out)))\b",
            true,
        ),
        rule(
            "violence_instructions",
            When::Always,
            r"\b(?:how to (?:hurt|hit|punch|poison|strangle|choke|stab|beat|kill|attack)|you (?:can|could|should|might want to|need to) (?:hurt|hit|punch|poison|strangle|choke|stab|beat|slap|attack|kill|get back at|make (?:him|her|them) pay|teach (?:him|her|them) a lesson)|go ahead and (?:hit|punch|slap|hurt|confront (?:him|her|them) physically)|(?:he|she|they) (?:deserves?|had it coming|needs?) (?:to be hurt|a beating|to suffer|to be punished|a slap|a punch|to die)|(?:aim for|hit (?:him|her|them) (?:in|where)) (?:the )?(?:face|throat|groin|head|it hurts)|make it look like an accident|(?:violence|hitting (?:him|her|them)|a punch|a slap) (?:is|might be|would be) (?:the answer|justified|the only way|fine|fair|understandable here))\b",
            true,
        ),
        rule(
            "abuse_communication_coaching",
            When::UserIn(Category::Abuse),
            r"\b(?:communicat\w* (?:better|more (?:clearly|openly|calmly|effectively))|improve (?:your|the) communication|(?:use|try|using) (?:an? )?(?:i|i feel) (?:statements?|messages?)|(?:try|trying) to (?:see|understand) (?:his|her|their) (?:side|perspective|point of view|feelings)|couples? (?:therapy|counsel+ing|counsel+or|coaching)|(?:meet|meeting) (?:him|her|them) halfway|(?:find|reach) (?:a )?compromise|(?:be|being) (?:more )?(?:patient|understanding|supportive|accommodating) (?:with|of|towards|toward) (?:him|her|them)|what (?:did|might|could) you (?:have )?(?:done|do) to (?:upset|trigger|provoke|anger|make)|(?:avoid|stop) (?:upsetting|triggering|provoking|angering) (?:him|her|them)|give (?:him|her|them|the relationship) (?:another|a second) chance|(?:calmly|gently) (?:talk|discuss|explain|approach|raise)|gentle start ?up|soft start ?up|(?:both|each) of you (?:are|share|play) (?:responsible|to blame|a part)|(?:every|all|most) (?:couples?|relationships?) (?:fight|argue|have (?:ups and downs|problems|arguments|rough patches)))\b",
            true,
        ),
        rule(
            "manipulation_tactics",
            When::UserIn(Category::ManipulationRequest),
            r"\b(?:here(?:s| are| is) (?:how|some (?:ways|tips|tactics|steps|ideas|strategies))(?: to| you can)?|step (?:1|one)\b|you (?:could|can|should|might) (?:try )?(?:mak(?:e|ing) (?:him|her|them) (?:jealous|feel guilty|feel bad)|install|track|monitor|check (?:his|her|their) (?:phone|messages)|read (?:his|her|their)|limit (?:his|her|their) time with|discourage (?:him|her|them) from seeing|ignore (?:him|her|them) (?:until|so)|withhold|pretend to be|fake)|make (?:him|her|them) (?:jealous|feel guilty) by)",
            true,
        ),
    ]
});

fn compile(pattern: &str) -> Regex {
    Regex::new(&pattern.replace(r"\b", r"(?-u:\b)")).expect("static reply-check regex")
}

/// Checks a model's reply before it is shown. `user_triage` is the triage of the message the
/// model answered: some rules only apply in context (coaching "better communication" is only
/// wrong when the person described abuse).
pub fn check_reply(user_triage: &Triage, reply: &str) -> ReplyCheck {
    let norm = Normalized::new(reply);
    let t = norm.text.as_str();
    let mut reasons: Vec<String> = Vec::new();
    for rule in RULES.iter() {
        if let When::UserIn(category) = rule.when {
            if !user_triage.has(category) {
                continue;
            }
        }
        for m in rule.regex.find_iter(t) {
            if rule.refusal_aware && REFUSAL.is_match(sentence_around(t, m.start(), m.end())) {
                continue;
            }
            let (s, e) = norm.original_span(m.start(), m.end());
            reasons.push(format!("{}: {}", rule.id, &reply[s..e]));
            break;
        }
    }
    ReplyCheck { ok: reasons.is_empty(), reasons }
}

fn sentence_around(t: &str, start: usize, end: usize) -> &str {
    let s = t[..start].rfind(['.', '!', '?', '\n', ';']).map_or(0, |i| i + 1);
    let e = t[end..].find(['.', '!', '?', '\n', ';']).map_or(t.len(), |i| end + i);
    &t[s..e]
}
