//! Topic detection: which subjects of the fixed vocabulary a message is about.
//!
//! Hand-written phrase rules rather than a model: they run in microseconds before retrieval, they
//! are the same on every machine, and a reviewer can read why a message got a topic. Each topic has
//! strong cues (words that nearly always mean that subject), medium cues and weak ones. Matching is
//! on lowercase words with apostrophes dropped (`won't` is `wont`), tolerant of plurals (a cue
//! `chore` matches `chores`, `boundary` matches `boundaries`); a trailing `*` makes a prefix cue
//! (`argu*` matches `argue`, `arguing`, `arguments`). "X-in-law" is read as one word, `inlaw`, so a
//! mother-in-law does not count as the person's own mother.

use std::sync::LazyLock;

struct Rule {
    topic: &'static str,
    strong: &'static [&'static str],
    medium: &'static [&'static str],
    weak: &'static [&'static str],
}

const STRONG: f32 = 3.0;
const MEDIUM: f32 = 2.0;
const WEAK: f32 = 1.0;
/// A topic needs at least one medium cue, or a weak cue plus some other cue, to count.
const THRESHOLD: f32 = 1.5;

const RULES: &[Rule] = &[
    Rule {
        topic: "attachment",
        strong: &[
            "attachment",
            "attachment style",
            "avoidant",
            "anxiously attached",
            "anxious attachment",
            "clingy",
            "needy",
            "abandon*",
            "fear of abandonment",
            "hot and cold",
        ],
        medium: &[
            "push* me away",
            "pull* away",
            "pulling away",
            "reassur*",
            "need reassurance",
            "secure",
            "too close",
            "smother*",
            "run* away when",
            "shut* me out",
            "withdraw*",
        ],
        weak: &["anxious", "insecure", "distant"],
    },
    Rule {
        topic: "conflict",
        strong: &[
            "conflict*",
            "screaming match",
            "blow up",
            "blew up",
            "same argument",
            "same fight",
            "stonewall*",
            "contempt",
        ],
        medium: &[
            "fight*",
            "fought",
            "argu*",
            "quarrel*",
            "bicker*",
            "yell*",
            "shout*",
            "scream*",
            "disagree*",
            "criticiz*",
            "criticis*",
            "defensive*",
            "eye roll*",
            "roll* her eye",
            "roll* his eye",
            "roll* their eye",
            "snap* at",
            "silent treatment",
            "harsh",
            "blame*",
            "you always",
            "you never",
            "cant agree",
        ],
        weak: &["tension", "mad at", "angry at", "annoyed", "clash*"],
    },
    Rule {
        topic: "communication",
        strong: &[
            "communicat*",
            "not listening",
            "doesnt listen",
            "dont listen",
            "never listen*",
            "talk past each other",
            "i feel statement",
            "how we talk",
            "the way we talk",
            "hard conversation",
            "difficult conversation",
        ],
        medium: &[
            "unheard",
            "not heard",
            "listen*",
            "misunderstood",
            "misunderstand*",
            "understand me",
            "bring it up",
            "bring up",
            "brought it up",
            "raise it",
            "tone",
            "explain*",
            "what to say",
            "how to say",
            "how to tell",
            "talk to him",
            "talk to her",
            "talk to them",
            "talk about it",
            "conversation",
        ],
        weak: &["talk*", "said", "say", "tell", "told"],
    },
    Rule {
        topic: "repair",
        strong: &[
            "repair*",
            "make up",
            "made up",
            "apologi*",
            "after the fight",
            "after our fight",
            "after a fight",
            "after the argument",
            "after our argument",
            "reconcil*",
            "make amends",
            "patch things up",
            "make it right",
        ],
        medium: &["sorry", "forgiv*", "regret*", "said something hurtful", "hurtful thing"],
        weak: &["fix it", "fix this"],
    },
    Rule {
        topic: "connection",
        strong: &[
            "disconnect*",
            "drifting apart",
            "drift* apart",
            "grown apart",
            "growing apart",
            "like roommates",
            "roommate",
            "like strangers",
            "barely talk",
            "dont talk anymore",
            "never talk anymore",
            "quality time",
            "date night",
            "turn toward*",
            "bid* for",
        ],
        medium: &[
            "connect*",
            "closeness",
            "feel close",
            "distant",
            "spend time",
            "time together",
            "no time for us",
            "ignore* me",
            "doesnt notice",
            "spark",
        ],
        weak: &["together", "close", "us"],
    },
    Rule {
        topic: "trust",
        strong: &[
            "trust*",
            "distrust*",
            "mistrust*",
            "betray*",
            "lied",
            "lying",
            "lie to me",
            "lies",
            "broke my trust",
            "broken trust",
        ],
        medium: &["secret*", "hid*", "hide*", "honest*", "dishonest*", "suspicious", "suspect*"],
        weak: &["believe him", "believe her", "believe them", "transparen*"],
    },
    Rule {
        topic: "infidelity",
        strong: &[
            "cheat*",
            "affair*",
            "unfaithful",
            "infidelity",
            "slept with",
            "sleeping with",
            "hooked up",
            "sexting",
            "emotional affair",
            "other woman",
            "other man",
            "behind my back",
        ],
        medium: &["texting another", "texting someone", "messaging someone", "dating app*"],
        weak: &["flirt*"],
    },
    Rule {
        topic: "jealousy",
        strong: &["jealous*", "envious", "envy"],
        medium: &[
            "flirt*",
            "his ex",
            "her ex",
            "their ex",
            "coworker",
            "co worker",
            "likes other",
            "like* other people",
            "follows other",
            "threatened by",
            "possessive",
            "compar* myself",
        ],
        weak: &["attractive", "ex"],
    },
    Rule {
        topic: "boundaries",
        strong: &[
            "boundar*",
            "need space",
            "need some space",
            "need more space",
            "personal space",
            "alone time",
            "time alone",
            "time to myself",
            "say no",
            "saying no",
            "overstep*",
            "cross* the line",
            "crossed a line",
        ],
        medium: &["space", "privacy", "pressur*", "respect my", "limit*", "intrud*"],
        weak: &["my own", "allowed", "too much"],
    },
    Rule {
        topic: "codependency",
        strong: &[
            "codependen*",
            "co dependent",
            "co dependency",
            "lose myself",
            "lost myself",
            "losing myself",
            "cant be without",
            "cant function without",
            "my whole world",
            "enabl*",
            "people pleas*",
            "fix him",
            "fix her",
            "rescue him",
            "rescue her",
        ],
        medium: &[
            "depend* on",
            "revolves around",
            "caretak*",
            "without him",
            "without her",
            "without them",
            "cant say no",
            "my identity",
            "his mood",
            "her mood",
            "their mood",
        ],
        weak: &["need him", "need her", "need them"],
    },
    Rule {
        topic: "vulnerability",
        strong: &[
            "vulnerab*",
            "open up",
            "opening up",
            "opened up",
            "let my guard down",
            "guard up",
            "walls up",
            "emotionally unavailable",
            "afraid to share",
            "scared to share",
            "share my feeling",
        ],
        medium: &[
            "hide my feeling",
            "hold back",
            "tell him how i feel",
            "tell her how i feel",
            "tell them how i feel",
            "show my feeling",
            "let anyone in",
            "let him in",
            "let her in",
            "past trauma",
            "judged",
        ],
        weak: &["afraid to", "scared to", "shame"],
    },
    Rule {
        topic: "long_distance",
        strong: &[
            "long distance",
            "ldr",
            "time zone*",
            "timezone*",
            "miles apart",
            "different city",
            "different cities",
            "different country",
            "different countries",
            "deploy*",
        ],
        medium: &[
            "far away",
            "video call*",
            "facetime",
            "visit*",
            "move away",
            "moving away",
            "moved away",
            "across the country",
            "abroad",
            "flight*",
        ],
        weak: &["miss him", "miss her", "miss them", "apart"],
    },
    Rule {
        topic: "technology",
        strong: &[
            "phubbing",
            "screen time",
            "scroll*",
            "social media",
            "instagram",
            "tiktok",
            "facebook",
            "snapchat",
            "video game*",
            "gaming",
            "on his phone",
            "on her phone",
            "on their phone",
            "on my phone",
        ],
        medium: &[
            "phone",
            "screen*",
            "notification*",
            "laptop",
            "netflix",
            "youtube",
            "reddit",
            "online",
            "post",
            "posted",
            "posting",
            "like* photo",
            "device*",
        ],
        weak: &["tv", "app", "text*", "message*"],
    },
    Rule {
        topic: "chores",
        strong: &[
            "chore*",
            "housework",
            "household",
            "dish",
            "laundry",
            "mental load",
            "division of labor",
            "division of labour",
            "around the house",
            "vacuum*",
            "groceri*",
            "grocery",
            "tidy*",
            "cleaning",
            "clean up",
            "cook*",
            "housekeeping",
            "do nothing at home",
        ],
        medium: &["clean*", "mess", "messy", "trash", "garbage", "bin", "fair share"],
        weak: &["house", "home", "kitchen", "unfair", "fair"],
    },
    Rule {
        topic: "money",
        strong: &[
            "money",
            "debt*",
            "budget*",
            "financ*",
            "bank*",
            "credit card",
            "loan*",
            "salary",
            "paycheck",
            "rent",
            "afford*",
            "income",
            "expens*",
            "splurg*",
            "spend* money",
            "spent money",
            "overspend*",
            "joint account",
            "split the cost",
        ],
        medium: &["bill", "saving*", "pay for", "pays for", "paid for", "earn*", "cheap", "stingy"],
        weak: &[
            "spend*", "spent", "pay*", "paid", "cost*", "buy*", "bought", "shopping", "price*",
            "dollar*", "cash",
        ],
    },
    Rule {
        topic: "family",
        strong: &[
            "family",
            "families",
            "sibling*",
            "relatives",
            "family gathering",
            "family dinner",
            "thanksgiving",
            "christmas",
            "diwali",
            "eid",
            "hanukkah",
            "lunar new year",
            "passover",
        ],
        medium: &[
            "brother*",
            "sister*",
            "cousin*",
            "aunt*",
            "uncle*",
            "grandparent*",
            "grandma",
            "grandpa",
            "grandmother",
            "grandfather",
            "holiday*",
            "reunion",
        ],
        weak: &["home for", "visit home"],
    },
    Rule {
        topic: "in_laws",
        strong: &[
            "inlaw",
            "his mom",
            "his mum",
            "his mother",
            "her mom",
            "her mum",
            "her mother",
            "his parent*",
            "her parent*",
            "their parent*",
            "his family",
            "her family",
            "their family",
            "partner family",
            "husband family",
            "wife family",
            "boyfriend family",
            "girlfriend family",
        ],
        medium: &[
            "his dad",
            "her dad",
            "his father",
            "her father",
            "his sister",
            "her sister",
            "his brother",
            "her brother",
            "take his side",
            "takes her side",
            "takes his side",
            "side with",
        ],
        weak: &[],
    },
    Rule {
        topic: "culture",
        strong: &[
            "culture*",
            "cultural*",
            "tradition*",
            "religion*",
            "religious",
            "immigra*",
            "interracial",
            "intercultural",
            "interfaith",
            "language barrier",
            "different background*",
            "my country",
            "his country",
            "her country",
            "arranged marriage",
            "love language*",
        ],
        medium: &[
            "background",
            "faith",
            "church",
            "mosque",
            "temple",
            "synagogue",
            "caste",
            "expressive",
            "the way i was raised",
            "where i come from",
            "where im from",
            "not affectionate",
            "doesnt say i love you",
            "never says i love you",
        ],
        weak: &["values", "language"],
    },
    Rule {
        topic: "lgbtq",
        strong: &[
            "gay",
            "lesbian",
            "bisexual",
            "queer",
            "trans",
            "transgender",
            "nonbinary",
            "non binary",
            "enby",
            "lgbt*",
            "coming out",
            "come out to",
            "came out to",
            "closeted",
            "in the closet",
            "homophob*",
            "transphob*",
            "biphob*",
            "same sex",
            "pansexual",
            "asexual",
            "two mom",
            "two dad",
            "chosen family",
        ],
        medium: &["bi", "sexuality", "gender identity", "pronoun*"],
        weak: &["pride", "came out", "come out"],
    },
    Rule {
        topic: "parenting",
        strong: &[
            "baby",
            "babies",
            "newborn",
            "pregnan*",
            "toddler*",
            "parenting",
            "co parent*",
            "coparent*",
            "new parent*",
            "postpartum",
            "diaper*",
            "maternity",
            "paternity",
            "stepkid*",
            "stepchild*",
            "step kid*",
            "stepson",
            "stepdaughter",
        ],
        medium: &[
            "kid",
            "child",
            "children",
            "son",
            "daughter",
            "bedtime",
            "sleep deprived",
            "no sleep",
            "teenager*",
            "our kid",
        ],
        weak: &["mom", "dad", "mother", "father", "school"],
    },
    Rule {
        topic: "intimacy",
        strong: &[
            "sex",
            "sexual*",
            "libido",
            "desire",
            "intimacy",
            "intimate",
            "bedroom",
            "make love",
            "making love",
            "turned on",
            "arous*",
            "dead bedroom",
            "orgasm*",
            "sex drive",
            "foreplay",
        ],
        medium: &[
            "touch*",
            "physical affection",
            "kiss*",
            "cuddl*",
            "porn*",
            "in the mood",
            "not in the mood",
            "attracted",
        ],
        weak: &["romance", "romantic", "affection*", "passion*"],
    },
    Rule {
        topic: "loneliness",
        strong: &[
            "lonely",
            "loneliness",
            "feel alone",
            "feel so alone",
            "felt alone",
            "all alone",
            "no friends",
            "no one to talk to",
            "nobody to talk to",
            "no one cares",
            "nobody cares",
            "isolated",
        ],
        medium: &[
            "alone",
            "invisible",
            "by myself",
            "new city",
            "new town",
            "just moved",
            "moved here",
            "moved to",
        ],
        weak: &["empty", "nobody", "no one"],
    },
    Rule {
        topic: "dating",
        strong: &[
            "first date",
            "second date",
            "third date",
            "dating",
            "dating app*",
            "tinder",
            "bumble",
            "hinge",
            "ghost*",
            "crush",
            "situationship",
            "talking stage",
            "ask* her out",
            "ask* him out",
            "ask* them out",
            "hasnt replied",
            "hasnt texted",
            "hasnt responded",
            "havent heard back",
            "left on read",
            "left me on read",
            "text back",
            "texted back",
            "texting back",
        ],
        medium: &[
            "date",
            "dated",
            "single",
            "swip*",
            "matched",
            "match",
            "texted her",
            "texted him",
            "texted them",
            "seeing someone",
            "met someone",
            "chemistry",
        ],
        weak: &["flirt*", "text*", "nervous", "reply", "replied", "respond*"],
    },
    Rule {
        topic: "breakup",
        strong: &[
            "break up",
            "broke up",
            "breakup*",
            "broken up",
            "breaking up",
            "split up",
            "dumped",
            "my ex",
            "ex boyfriend",
            "ex girlfriend",
            "ex partner",
            "ex husband",
            "ex wife",
            "divorc*",
            "heartbreak*",
            "heartbroken",
            "broken heart",
            "no contact",
            "left me for",
        ],
        medium: &[
            "separat*",
            "get over",
            "getting over",
            "moving on",
            "move on",
            "ended it",
            "ended things",
            "end it",
            "end things",
            "over between us",
            "get back together",
            "back together",
        ],
        weak: &["ex", "left me"],
    },
    Rule {
        topic: "grief",
        strong: &[
            "died",
            "death",
            "passed away",
            "funeral",
            "grief",
            "griev*",
            "mourn*",
            "bereave*",
            "widow*",
            "miscarriage",
            "terminal illness",
            "lost my mom",
            "lost my mum",
            "lost my dad",
            "lost my mother",
            "lost my father",
            "lost my friend",
            "lost my best friend",
            "lost my husband",
            "lost my wife",
            "lost my partner",
        ],
        medium: &["loss", "passing", "anniversary of", "cancer", "hospice", "illness", "dying"],
        weak: &["miss her", "miss him", "sick"],
    },
    Rule {
        topic: "friendship",
        strong: &[
            "friendship*",
            "best friend",
            "friend group",
            "my friend",
            "old friend",
            "childhood friend",
            "make friend",
            "making friend",
            "new friend",
            "bff",
        ],
        medium: &["friend*", "hang out", "hanging out", "group chat", "buddy", "buddies", "pal"],
        weak: &["social", "people"],
    },
    Rule {
        topic: "parents",
        strong: &[
            "my mom",
            "my mum",
            "my mother",
            "my dad",
            "my father",
            "my parent*",
            "estrang*",
            "adult child*",
            "our parents",
            "my stepmom",
            "my stepdad",
        ],
        medium: &[
            "mom",
            "mum",
            "mother",
            "dad",
            "father",
            "parent*",
            "childhood",
            "grew up",
            "raised me",
            "aging parent*",
            "elderly",
            "my son",
            "my daughter",
            "caregiv*",
        ],
        weak: &[],
    },
    Rule {
        topic: "therapy",
        strong: &[
            "therap*",
            "counsel*",
            "psycholog*",
            "psychiatr*",
            "professional help",
            "see a professional",
            "couples counseling",
            "marriage counselor",
        ],
        medium: &[
            "medication",
            "diagnos*",
            "ptsd",
            "trauma",
            "mental health",
            "support group",
            "see someone",
            "get help",
        ],
        weak: &["help"],
    },
    Rule {
        topic: "safety",
        strong: &[
            "hit me",
            "hits me",
            "hitting me",
            "slap*",
            "punch*",
            "kicked me",
            "chok* me",
            "strangl*",
            "pushed me down",
            "pushed me into",
            "pushed me against",
            "shov*",
            "threaten* to",
            "threaten* me",
            "threats",
            "afraid of him",
            "afraid of her",
            "afraid of them",
            "afraid of my",
            "scared of him",
            "scared of her",
            "scared of them",
            "scared of my",
            "abus*",
            "violent",
            "violence",
            "forced me",
            "wont let me",
            "doesnt let me",
            "dont let me",
            "check* my phone",
            "go* through my phone",
            "went through my phone",
            "read* my messages",
            "track* my",
            "control* my money",
            "control* the money",
            "control* everything",
            "coerci*",
            "took my bank card",
            "took my card",
            "take my card",
            "took my money",
            "takes my money",
            "bank card",
            "isolat* me",
            "cut me off from",
            "stalk*",
            "gun",
            "weapon",
            "knife",
            "kill me",
            "eggshell*",
            "unsafe",
            "not safe",
        ],
        medium: &[
            "hurt me",
            "hurts me",
            "force* me",
            "not allowed to",
            "my location",
            "controlling",
            "keep* me from",
            "yell* at me",
            "grabbed me",
            "locked me",
        ],
        weak: &["scared", "afraid", "fear", "hurt", "rage"],
    },
    Rule {
        topic: "emotions",
        strong: &[
            "emotion*",
            "anxiety",
            "depress*",
            "overwhelm*",
            "numb",
            "panic*",
            "sadness",
            "flooded",
            "heart racing",
        ],
        medium: &[
            "sad",
            "angry",
            "anger",
            "upset",
            "frustrat*",
            "stress*",
            "cry*",
            "cried",
            "tears",
            "hurt",
            "scared",
            "anxious",
            "resent*",
            "feelings",
            "calm down",
        ],
        weak: &["feel*", "felt", "mood"],
    },
    Rule {
        topic: "self_worth",
        strong: &[
            "not good enough",
            "self esteem",
            "self worth",
            "worthless",
            "unlovable",
            "hate myself",
            "my fault",
            "blame myself",
            "self compassion",
            "im too much",
            "too needy",
            "deserve",
            "self critic*",
            "rejection",
        ],
        medium: &[
            "ashamed",
            "shame",
            "confidence",
            "ugly",
            "failure",
            "loser",
            "compar* myself",
            "rejected",
            "not enough",
            "insecure",
            "stupid",
        ],
        weak: &["myself"],
    },
    Rule {
        topic: "appreciation",
        strong: &[
            "appreciat*",
            "unappreciated",
            "gratitude",
            "grateful",
            "taken for granted",
            "take me for granted",
            "takes me for granted",
            "compliment*",
            "admir*",
            "fondness",
            "never says thank",
            "never thanks",
        ],
        medium: &["thank*", "praise*", "acknowledg*", "notice*", "unseen", "recogni*", "good news"],
        weak: &["proud"],
    },
    Rule {
        topic: "commitment",
        strong: &[
            "commit*",
            "propos*",
            "engaged",
            "engagement",
            "wedding",
            "move in",
            "moving in",
            "moved in",
            "living together",
            "live together",
            "stay or leave",
            "should i stay",
            "should i leave",
            "leave him",
            "leave her",
            "leave them",
            "future together",
            "settle down",
            "exclusive",
            "open relationship",
            "polyamor*",
            "poly",
            "non monogam*",
            "monogam*",
            "want kids",
        ],
        medium: &["marry", "long term", "future", "serious about", "decid*", "decision*"],
        weak: &["forever", "marriage", "married"],
    },
];

/// One cue, pre-split into words.
struct Cue {
    words: Vec<CueWord>,
    weight: f32,
}

enum CueWord {
    /// Matches the word and its plural forms.
    Exact(String),
    /// Matches any word starting with this prefix.
    Prefix(String),
}

impl CueWord {
    fn matches(&self, word: &str) -> bool {
        match self {
            CueWord::Prefix(prefix) => word.starts_with(prefix.as_str()),
            CueWord::Exact(cue) => {
                if word == cue {
                    return true;
                }
                let Some(rest) = word.strip_prefix(cue.as_str()) else {
                    // `boundary` -> `boundaries`
                    return cue.strip_suffix('y').is_some_and(|stem| {
                        word.strip_prefix(stem).is_some_and(|rest| rest == "ies")
                    });
                };
                rest == "s" || rest == "es"
            }
        }
    }
}

struct CompiledRule {
    topic: &'static str,
    cues: Vec<Cue>,
}

static COMPILED: LazyLock<Vec<CompiledRule>> = LazyLock::new(|| {
    RULES
        .iter()
        .map(|rule| {
            let tiers = [(rule.strong, STRONG), (rule.medium, MEDIUM), (rule.weak, WEAK)];
            let cues = tiers
                .iter()
                .flat_map(|(cues, weight)| cues.iter().map(move |cue| compile(cue, *weight)))
                .collect();
            CompiledRule { topic: rule.topic, cues }
        })
        .collect()
});

fn compile(cue: &str, weight: f32) -> Cue {
    let words = words(cue)
        .into_iter()
        .map(|word| match word.strip_suffix('*') {
            Some(prefix) => CueWord::Prefix(prefix.to_string()),
            None => CueWord::Exact(word),
        })
        .collect();
    Cue { words, weight }
}

const IN_LAW_RELATIVES: &[&str] = &[
    "mother",
    "mothers",
    "father",
    "fathers",
    "brother",
    "brothers",
    "sister",
    "sisters",
    "son",
    "sons",
    "daughter",
    "daughters",
    "parent",
    "parents",
    "mom",
    "mum",
    "dad",
    "child",
    "children",
];

/// Lowercase words, apostrophes dropped, everything else non-alphanumeric a separator (a `*` is
/// kept so cues can be split with the same function); "X in law(s)" becomes one word `inlaw`.
fn words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() || c == '*' {
            current.extend(c.to_lowercase());
        } else if c == '\'' || c == '\u{2019}' {
            // Dropped: "won't" -> "wont", "partner's" -> "partners" (a plural of "partner").
        } else if !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    let mut joined = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let relative_in_law = IN_LAW_RELATIVES.contains(&words[i].as_str())
            && words.get(i + 1).is_some_and(|w| w == "in")
            && words.get(i + 2).is_some_and(|w| w == "law" || w == "laws");
        if relative_in_law {
            // "mother-in-law", "brothers-in-law"
            joined.push("inlaw".to_string());
            i += 3;
        } else if words[i] == "in" && words.get(i + 1).is_some_and(|w| w == "law" || w == "laws") {
            joined.push("inlaw".to_string());
            i += 2;
        } else {
            joined.push(std::mem::take(&mut words[i]));
            i += 1;
        }
    }
    joined
}

/// Position of the first match of `cue` in `words`, if any.
fn find(cue: &Cue, words: &[String]) -> Option<usize> {
    let n = cue.words.len();
    if n == 0 || words.len() < n {
        return None;
    }
    (0..=words.len() - n).find(|&start| {
        cue.words
            .iter()
            .zip(&words[start..start + n])
            .all(|(cue_word, word)| cue_word.matches(word))
    })
}

/// A detected topic with its strength and where it was first mentioned.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicScore {
    pub topic: &'static str,
    /// The strongest cue's weight plus half of every other matching cue's.
    pub score: f32,
    /// Word index of the earliest matching cue.
    pub first_at: usize,
}

/// Every topic of the vocabulary the text is about, with scores, strongest first; ties go to the
/// topic mentioned first.
pub fn score_topics(text: &str) -> Vec<TopicScore> {
    let words = words(text);
    let mut scores: Vec<TopicScore> = Vec::new();
    for rule in COMPILED.iter() {
        let mut weights: Vec<f32> = Vec::new();
        let mut first_at = usize::MAX;
        for cue in &rule.cues {
            if let Some(at) = find(cue, &words) {
                weights.push(cue.weight);
                first_at = first_at.min(at);
            }
        }
        let max = weights.iter().copied().fold(0.0_f32, f32::max);
        let score = max + (weights.iter().sum::<f32>() - max) * 0.5;
        if score >= THRESHOLD {
            scores.push(TopicScore { topic: rule.topic, score, first_at });
        }
    }
    scores.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.first_at.cmp(&b.first_at))
            .then(topic_rank(a.topic).cmp(&topic_rank(b.topic)))
    });
    scores
}

fn topic_rank(topic: &str) -> usize {
    crate::TOPICS.iter().position(|t| *t == topic).unwrap_or(usize::MAX)
}

/// Which topics of [`crate::TOPICS`] a message is about, strongest first.
///
/// "My partner and I keep fighting about chores and I feel unheard" gives
/// `["chores", "conflict", "communication", …]`.
pub fn detect_topics(text: &str) -> Vec<String> {
    score_topics(text).into_iter().map(|s| s.topic.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_names_a_known_topic_once() {
        for (i, rule) in RULES.iter().enumerate() {
            assert!(crate::TOPICS.contains(&rule.topic), "{}", rule.topic);
            assert!(RULES[..i].iter().all(|r| r.topic != rule.topic), "{} twice", rule.topic);
        }
        assert_eq!(RULES.len(), crate::TOPICS.len(), "a topic without rules");
    }

    #[test]
    fn words_drop_apostrophes_and_join_in_laws() {
        assert_eq!(
            words("My mother-in-law won't stop; the In-Laws’ house"),
            ["my", "inlaw", "wont", "stop", "the", "inlaw", "house"]
        );
    }

    #[test]
    fn plural_and_prefix_cues() {
        let boundary = CueWord::Exact("boundary".into());
        assert!(boundary.matches("boundaries"));
        assert!(boundary.matches("boundary"));
        assert!(!boundary.matches("bound"));
        let dish = CueWord::Exact("dish".into());
        assert!(dish.matches("dishes"));
        assert!(!dish.matches("dishonest"));
        assert!(CueWord::Prefix("argu".into()).matches("arguing"));
    }
}
