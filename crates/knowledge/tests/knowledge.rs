//! Integration tests for the built-in knowledge base: the cards themselves (validity, coverage of
//! the subjects the coach relies on), retrieval on realistic messages, and topic detection.
//!
//! One test binary on purpose: the cards and the index are built once per process.

use hearth_knowledge::{Card, Citation, Knowledge, TOPICS, bench_retrieval, detect_topics};

fn kb() -> &'static Knowledge {
    Knowledge::builtin()
}

/// Ids of the top `k` cards for a message, as the coach retrieves them (topics detected first).
fn top(query: &str, k: usize) -> Vec<&'static str> {
    let topics = detect_topics(query);
    kb().search_with_topics(query, &topics, k).iter().map(|hit| hit.card.id.as_str()).collect()
}

fn plain_top(query: &str, k: usize) -> Vec<&'static str> {
    kb().search(query, k).iter().map(|hit| hit.card.id.as_str()).collect()
}

// ---- the cards -------------------------------------------------------------------------------

#[test]
fn all_cards_validate() {
    if let Err(problems) = kb().validate() {
        panic!("invalid cards:\n{}", problems.join("\n"));
    }
}

#[test]
fn at_least_sixty_cards() {
    let n = kb().cards().len();
    assert!(n >= 60, "only {n} cards");
}

#[test]
fn every_required_subject_has_a_card() {
    let required = [
        // attachment
        "attachment-styles",
        "secure-attachment",
        "anxious-attachment",
        "avoidant-attachment",
        "disorganized-attachment",
        "pursue-withdraw-cycle",
        // the four horsemen and their antidotes
        "criticism",
        "contempt",
        "defensiveness",
        "stonewalling",
        "gentle-startup",
        "repair-attempts",
        "aftermath-of-a-fight",
        "bids-for-connection",
        "flooding-and-breaks",
        "self-soothing",
        "validation",
        "emotional-mirroring",
        "i-feel-statements",
        "meta-communication",
        "feeling-unheard",
        // closeness and separateness
        "space-and-boundaries",
        "codependency",
        "vulnerability",
        // trust
        "rebuilding-trust",
        "discovering-an-affair",
        "jealousy",
        "suspicion-without-surveillance",
        "social-media-boundaries",
        // daily life
        "long-distance",
        "phones-and-phubbing",
        "chores-and-fairness",
        "mental-load",
        "money-conflicts",
        "in-laws",
        "holidays-and-family-stress",
        "cultural-differences",
        "queer-couples-minority-stress",
        "family-acceptance",
        "chosen-family",
        "open-and-non-monogamous-relationships",
        "new-parents",
        "desire-mismatch",
        "loneliness-in-a-relationship",
        // dating, endings, other bonds
        "first-dates",
        "texting-anxiety",
        "breakup-grief",
        "life-after-a-breakup",
        "friendship-drift",
        "making-friends-as-an-adult",
        "estranged-parents",
        "adult-children-and-parents",
        "grief-of-a-loved-one",
        "loneliness-after-a-move",
        // help and safety
        "when-to-seek-therapy",
        "unsafe-relationship-signs",
        // Gottman's house and other skills
        "fondness-and-admiration",
        "love-maps",
        "perpetual-vs-solvable-problems",
        "rituals-and-shared-meaning",
        "accepting-influence",
        "self-compassion",
        "apologies-that-work",
        "forgiveness",
        "perspective-taking",
        "recurring-conflicts",
        "decisions-as-a-couple",
        "moving-in-together",
        "capitalizing-on-good-news",
        "staying-or-leaving",
        "self-worth-and-reassurance",
    ];
    let missing: Vec<&str> =
        required.iter().copied().filter(|id| kb().card(id).is_none()).collect();
    assert!(missing.is_empty(), "missing cards: {missing:?}");
}

#[test]
fn every_topic_has_a_card() {
    for topic in TOPICS {
        assert!(kb().by_topic(topic).next().is_some(), "no card lists topic {topic}");
    }
}

#[test]
fn safety_card_points_to_help_and_warns_against_couples_techniques() {
    let card = kb().card("unsafe-relationship-signs").expect("safety card exists");
    let body = card.body.to_lowercase();
    assert!(body.contains("hotline"), "names a hotline");
    assert!(body.contains("emergency"), "names emergency services");
    let limits = card.section("When it does not apply").expect("has limits").to_lowercase();
    assert!(limits.contains("do not use couples communication techniques"));
    assert!(card.topics.iter().any(|t| t == "safety"));
}

#[test]
fn sections_first_step_and_sources() {
    let card = kb().card("gentle-startup").expect("gentle-startup exists");
    assert!(card.core_idea().contains("start-up"));
    let step = card.first_step().expect("has a step");
    assert!(step.starts_with("Use the shape"), "{step}");
    assert!(!step.starts_with('-'));
    assert_eq!(
        card.citations[0].source(),
        "Gottman & Silver (1999), The Seven Principles for Making Marriage Work"
    );
    assert_eq!(card.citations[1].short_authors(), "Gottman et al.");
    assert!(card.section("No such heading").is_none());
}

#[test]
fn card_round_trips_through_json() {
    let card = kb().card("bids-for-connection").expect("card exists");
    let json = serde_json::to_string(card).expect("serialises");
    let back: Card = serde_json::from_str(&json).expect("deserialises");
    assert_eq!(&back, card);
    let citation: Citation = serde_json::from_str(
        r#"{"author":"Hall, J. A.","year":2019,"title":"How many hours does it take to make a friend?"}"#,
    )
    .expect("citation parses");
    assert_eq!(citation.short_authors(), "Hall");
}

#[test]
fn validate_reports_broken_cards() {
    let broken = "+++\nid = \"Bad Id\"\ntitle = \"T\"\ntopics = [\"feelings\"]\nsummary = \"S\"\n+++\n## Core idea\nx\n";
    let kb = Knowledge::from_sources([("other-name", broken), ("no-front", "# hi")]);
    let problems = kb.validate().expect_err("must fail");
    let all = problems.join("\n");
    assert!(all.contains("no-front.md"), "{all}");
    assert!(all.contains("unknown topic \"feelings\""), "{all}");
    assert!(all.contains("differs from file name"), "{all}");
    assert!(all.contains("no citations"), "{all}");
    assert!(all.contains("missing section \"## Try this\""), "{all}");
    assert!(all.contains("not kebab-case"), "{all}");
}

// ---- retrieval -------------------------------------------------------------------------------

/// Realistic messages and the cards that should answer them: at least one of `expected` must be
/// in the top 3.
const CASES: &[(&str, &[&str])] = &[
    (
        "My partner and I keep fighting about chores and I feel unheard",
        &["chores-and-fairness", "mental-load"],
    ),
    ("he checks my phone and took my bank card", &["unsafe-relationship-signs"]),
    (
        "I texted her after our first date and she hasn't replied",
        &["texting-anxiety", "first-dates"],
    ),
    (
        "we barely talk anymore, it feels like we're roommates",
        &["loneliness-in-a-relationship", "love-maps", "bids-for-connection"],
    ),
    ("my mother-in-law criticizes everything I do and my husband says nothing", &["in-laws"]),
    (
        "I found messages on her laptop, I think she is cheating on me",
        &["discovering-an-affair", "suspicion-without-surveillance"],
    ),
    ("since the baby came we have no time for each other and no sex", &["new-parents"]),
    ("my best friend stopped answering and we drifted apart", &["friendship-drift"]),
    (
        "I get so anxious when he doesn't text back, I need constant reassurance",
        &["anxious-attachment", "texting-anxiety"],
    ),
    ("we argue about money every month, he spends and I save", &["money-conflicts"]),
    ("She rolls her eyes and mocks me whenever I talk about my job", &["contempt"]),
    (
        "When we argue he just goes silent and walks out of the room",
        &["stonewalling", "pursue-withdraw-cycle", "flooding-and-breaks"],
    ),
    (
        "my girlfriend and I are long distance and the time difference is killing us",
        &["long-distance"],
    ),
    ("he is always on his phone at dinner", &["phones-and-phubbing"]),
    ("I'm scared to tell my parents I'm gay", &["family-acceptance"]),
    ("my wife wants sex way more than I do", &["desire-mismatch"]),
    ("we broke up last month and I can't stop thinking about him", &["breakup-grief"]),
    ("I haven't spoken to my mother in five years", &["estranged-parents"]),
    ("should we try couples therapy?", &["when-to-seek-therapy"]),
    (
        "I need more time to myself but she takes it personally",
        &["space-and-boundaries", "avoidant-attachment"],
    ),
    (
        "How do I apologize for what I said last night?",
        &["apologies-that-work", "aftermath-of-a-fight"],
    ),
    ("I cheated and I want to rebuild her trust", &["rebuilding-trust"]),
    ("I feel lonely even though I'm married", &["loneliness-in-a-relationship"]),
    (
        "my family doesn't show affection like his does, we come from different cultures",
        &["cultural-differences"],
    ),
    (
        "I just moved to a new city and don't know anyone",
        &["loneliness-after-a-move", "making-friends-as-an-adult"],
    ),
    ("my dad died and my partner doesn't get why I'm still sad", &["grief-of-a-loved-one"]),
    ("I lose myself in every relationship and can't say no", &["codependency"]),
    ("he never says thank you for anything I do", &["fondness-and-admiration"]),
    ("I am thinking about moving in with my boyfriend", &["moving-in-together"]),
    ("I'm so nervous about my first date tomorrow", &["first-dates"]),
    ("he always gets defensive and makes excuses", &["defensiveness"]),
    ("he grabbed me and threatened to kill me if I leave", &["unsafe-relationship-signs"]),
    (
        "my boyfriend wants to open our relationship and I'm not sure",
        &["open-and-non-monogamous-relationships"],
    ),
    ("I'm jealous of his female coworker", &["jealousy"]),
    ("I have to remember every appointment and plan everything for the kids", &["mental-load"]),
    (
        "we're a gay couple and my partner isn't out at work, it's causing tension",
        &["queer-couples-minority-stress"],
    ),
    ("I keep beating myself up, I ruin everything", &["self-compassion"]),
    ("how do I forgive him, I still have so much resentment", &["forgiveness"]),
    ("I don't know if I should stay or leave", &["staying-or-leaving"]),
    (
        "my adult son only calls when he needs money and gives me unsolicited advice",
        &["adult-children-and-parents", "estranged-parents"],
    ),
    ("I got a promotion and he barely reacted", &["capitalizing-on-good-news"]),
    ("we fight every Christmas about whose family to visit", &["holidays-and-family-stress"]),
];

#[test]
fn retrieval_finds_the_right_card_for_realistic_messages() {
    let mut failures = Vec::new();
    for (query, expected) in CASES {
        let got = top(query, 3);
        if !expected.iter().any(|id| got.contains(id)) {
            failures.push(format!("{query:?}: expected one of {expected:?}, got {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} retrieval cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn plain_bm25_also_finds_the_safety_card() {
    // Regression guard: the safety card must not depend on topic boosting to surface.
    let got = plain_top("he checks my phone and took my bank card", 3);
    assert!(got.contains(&"unsafe-relationship-signs"), "{got:?}");
}

#[test]
fn chores_fight_tops_with_a_chores_card() {
    let got = top("My partner and I keep fighting about chores and I feel unheard", 3);
    let card = kb().card(got[0]).expect("hit is a card");
    assert!(card.topics.iter().any(|t| t == "chores"), "{got:?}");
}

#[test]
fn retrieval_is_deterministic_and_sorted() {
    for (query, _) in CASES {
        let topics = detect_topics(query);
        let a = kb().search_with_topics(query, &topics, 10);
        let b = kb().search_with_topics(query, &topics, 10);
        let ids = |hits: &[hearth_knowledge::Hit<'_>]| {
            hits.iter().map(|h| h.card.id.clone()).collect::<Vec<_>>()
        };
        assert_eq!(ids(&a), ids(&b));
        for pair in a.windows(2) {
            assert!(pair[0].score >= pair[1].score, "{query}: not sorted");
            if pair[0].score == pair[1].score {
                assert!(pair[0].card.id < pair[1].card.id, "{query}: tie out of id order");
            }
        }
    }
}

#[test]
fn degenerate_queries() {
    assert!(kb().search("", 3).is_empty());
    assert!(kb().search("the and of", 3).is_empty(), "stop words only");
    assert!(kb().search("chores", 0).is_empty());
    assert_eq!(kb().search("fight", 2).len(), 2);
}

#[test]
fn topics_fill_in_when_words_do_not_match() {
    // "zzqx" matches nothing, so every hit comes from the topic.
    let hits = kb().search_with_topics("zzqx", &["long_distance".to_string()], 2);
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h.card.topics.iter().any(|t| t == "long_distance")));
    assert_eq!(hits[0].card.id, "long-distance", "main-topic card first");
    // Word matches always rank above topic-only fill.
    let word_matched: Vec<String> =
        kb().search("texting", 100).iter().map(|h| h.card.id.clone()).collect();
    let mixed = kb().search_with_topics("texting", &["grief".to_string()], 100);
    assert!(mixed.len() > word_matched.len(), "grief cards were filled in");
    for (i, hit) in mixed.iter().enumerate() {
        assert_eq!(
            word_matched.contains(&hit.card.id),
            i < word_matched.len(),
            "{} at {i}",
            hit.card.id
        );
    }
}

// ---- topic detection -------------------------------------------------------------------------

#[test]
fn detects_topics_in_order_of_strength() {
    let topics = detect_topics("My partner and I keep fighting about chores and I feel unheard");
    assert_eq!(topics[..3], ["chores", "conflict", "communication"], "{topics:?}");
}

#[test]
fn topic_detection_examples() {
    let cases: &[(&str, &[&str])] = &[
        ("he checks my phone and took my bank card", &["safety"]),
        ("I texted her after our first date and she hasn't replied", &["dating"]),
        ("My mother-in-law keeps visiting unannounced", &["in_laws"]),
        ("We are long-distance, 6 time zones apart", &["long_distance"]),
        ("I think my wife is having an affair", &["infidelity"]),
        ("my girlfriend came out to her parents and they rejected her", &["lgbtq"]),
        ("since our baby was born we never have sex", &["parenting", "intimacy"]),
        ("We keep ARGUING about MONEY and debts", &["money", "conflict"]),
        ("my best friend and I drifted apart", &["friendship"]),
        ("I feel so lonely since I moved", &["loneliness"]),
        ("my dad passed away last month", &["grief"]),
        ("I'm estranged from my mother", &["parents"]),
        ("should we go to couples therapy", &["therapy"]),
        ("he never appreciates anything I do", &["appreciation"]),
        ("I need some space and alone time", &["boundaries"]),
        ("she is on her phone scrolling all evening", &["technology"]),
        ("I feel like I'm not good enough for him", &["self_worth"]),
        ("He's so jealous of my coworkers", &["jealousy"]),
        ("we broke up and I miss him", &["breakup"]),
        ("our families have different cultural traditions", &["culture", "family"]),
    ];
    for (text, expected) in cases {
        let topics = detect_topics(text);
        for topic in *expected {
            assert!(
                topics.iter().any(|t| t == topic),
                "{text:?}: expected {topic}, got {topics:?}"
            );
        }
    }
}

#[test]
fn topic_detection_avoids_common_false_friends() {
    // Regression guards for cue words that also mean something else.
    let cases: &[(&str, &str)] = &[
        ("my mother-in-law is visiting", "parents"),
        ("he pushes me away when I try to get close", "safety"),
        ("I'm dishonest with myself sometimes", "chores"),
        ("I'm sending him a message", "chores"),
        ("the transition to parenthood has been hard", "lgbtq"),
        ("we like spending time together", "money"),
        ("he left me on read", "breakup"),
        ("what a relationship we have", "commitment"),
    ];
    for (text, not_expected) in cases {
        let topics = detect_topics(text);
        assert!(
            !topics.iter().any(|t| t == not_expected),
            "{text:?}: unexpected {not_expected} in {topics:?}"
        );
    }
}

#[test]
fn detected_topics_are_in_the_vocabulary_and_empty_for_small_talk() {
    for (query, _) in CASES {
        for topic in detect_topics(query) {
            assert!(TOPICS.contains(&topic.as_str()), "{topic}");
        }
    }
    assert!(detect_topics("hello there").is_empty());
    assert!(detect_topics("").is_empty());
}

// ---- timing (printed, not asserted: CI machines vary) ----------------------------------------

#[test]
fn retrieval_timing_is_reported() {
    let _ = Knowledge::builtin();
    let per_query = bench_retrieval(200);
    println!(
        "retrieval: {:.3} ms per query (detect_topics + search_with_topics, {} cards)",
        per_query.as_secs_f64() * 1000.0,
        kb().cards().len()
    );
}
