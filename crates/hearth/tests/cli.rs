//! The `hearth` binary as a person or a script uses it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn hearth(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hearth"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::var_os("HOME").unwrap_or_default())
        .env("HEARTH_DATA_DIR", data_dir)
        .env("HF_HUB_OFFLINE", "1");
    // Where the models were provisioned (by `scripts/test`) must stay visible.
    for kept in ["HEARTH_MODELS_DIR", "XDG_DATA_HOME", "XDG_CACHE_HOME", "HEARTH_WHEEL_DIR"] {
        if let Some(value) = std::env::var_os(kept) {
            command.env(kept, value);
        }
    }
    command
}

fn run(command: &mut Command) -> Output {
    command.output().expect("hearth runs")
}

fn stdout_json(output: &Output) -> Value {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!("not JSON ({err}): {}", String::from_utf8_lossy(&output.stdout))
    })
}

/// Every field of DESIGN.md's `hearth ask --json` contract.
fn assert_ask_contract(outcome: &Value) {
    for field in
        ["reply", "safety", "topics", "citations", "suggested_exercise", "model", "timings"]
    {
        assert!(outcome.get(field).is_some(), "missing {field}: {outcome}");
    }
    assert!(outcome["safety"]["level"].is_string());
    assert!(outcome["safety"]["categories"].is_array());
    for citation in outcome["citations"].as_array().expect("citations") {
        for field in ["id", "title", "source"] {
            assert!(citation[field].is_string(), "citation {field}: {citation}");
        }
    }
    for field in ["triage_ms", "retrieval_ms", "first_token_ms", "total_ms", "tokens"] {
        assert!(outcome["timings"].get(field).is_some(), "timings.{field}: {outcome}");
    }
}

#[test]
fn ask_json_meets_the_contract_and_the_conversation_persists() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(hearth(dir.path()).args([
        "--backend",
        "scripted",
        "ask",
        "--json",
        "My partner and I keep fighting about chores and I feel unheard. What can I do?",
    ]));
    let outcome = stdout_json(&output);
    assert_ask_contract(&outcome);
    assert_eq!(outcome["model"], "scripted");
    assert_eq!(outcome["safety"]["level"], "none");
    assert!(!outcome["citations"].as_array().expect("citations").is_empty());

    // A new process sees yesterday's conversation.
    let id = outcome["conversation_id"].as_str().expect("id");
    let history = run(hearth(dir.path()).args(["history", id]));
    assert!(history.status.success());
    let text = String::from_utf8_lossy(&history.stdout);
    assert!(text.contains("fighting about chores"), "{text}");
}

#[test]
fn triage_speaks_its_json_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    let one =
        stdout_json(&run(hearth(dir.path()).args(["triage", "--json", "I want to end my life"])));
    assert_eq!(one["categories"][0], "self_harm");
    assert!(one["evidence"].as_array().is_some_and(|e| !e.is_empty()));

    let mut child = hearth(dir.path())
        .args(["triage", "--jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let input = concat!(
        "{\"id\":\"a\",\"text\":\"I could kill him lol, he ate my fries\"}\n",
        "not json\n",
        "{\"id\":\"b\",\"text\":\"He hit me and took my phone\"}\n",
    );
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write");
    let output = child.wait_with_output().expect("wait");
    assert!(output.status.success());
    let lines: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!((lines[0]["id"].as_str(), lines[0]["level"].as_str()), (Some("a"), Some("none")));
    assert_eq!(lines[1]["error"]["code"], "invalid_json");
    assert_eq!(lines[2]["id"], "b");
    assert!(lines[2]["categories"].as_array().is_some_and(|c| c.iter().any(|c| c == "abuse")));
}

#[test]
fn default_config_and_errors_are_clear() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(hearth(dir.path()).arg("default-config"));
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("[model]"));

    let output = run(hearth(dir.path()).args(["--backend", "scripted", "ask", "   "]));
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("empty"));

    let output = run(hearth(dir.path()).args(["--model", "no-such-model", "model", "pull"]));
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("qwen2.5-coder-0.5b"),
        "known names listed"
    );

    let output = run(hearth(dir.path()).args(["--config", "/no/such/file.toml", "model", "list"]));
    assert!(!output.status.success());
}

#[test]
fn model_list_shows_the_known_models() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(hearth(dir.path()).args(["model", "list"]));
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("qwen2.5-coder-1.5b") && text.contains("qwen2.5-coder-0.5b"), "{text}");
}

/// One whole turn on the real small model, from the command line.
#[test]
fn ask_json_on_the_embedded_small_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(hearth(dir.path()).args([
        "--model",
        "qwen2.5-coder-0.5b",
        "ask",
        "--json",
        "My partner and I keep fighting about chores and I feel unheard. What can I do?",
    ]));
    let outcome = stdout_json(&output);
    assert_ask_contract(&outcome);
    assert_eq!(outcome["model"], "qwen2.5-coder-0.5b");
    let reply = outcome["reply"].as_str().expect("reply");
    assert!(reply.split_whitespace().count() >= 15, "reply too short: {reply}");
    assert!(outcome["timings"]["tokens"].as_u64().unwrap_or(0) > 0);
    assert!(outcome["timings"]["first_token_ms"].as_u64().is_some());
}

#[test]
fn chat_in_the_terminal_keeps_history_and_starts_over_on_new() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = hearth(dir.path())
        .args(["--backend", "scripted", "chat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let script =
        "We fight about money.\nIt happened again.\n/new\nA different worry.\n/bogus\n/quit\n";
    child.stdin.take().expect("stdin").write_all(script.as_bytes()).expect("write");
    let output = child.wait_with_output().expect("wait");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout);
    // The scripted model echoes; each message was answered in turn.
    assert!(text.contains("You said: We fight about money."), "{text}");
    assert!(text.contains("You said: It happened again."), "{text}");
    assert!(text.contains("Started a new conversation."), "{text}");
    assert!(text.contains("Unknown command"), "{text}");

    // Two conversations were stored: the first with two exchanges, the second with one.
    let listed = run(hearth(dir.path()).arg("history"));
    let ids: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_string))
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    let sizes: Vec<usize> = ids
        .iter()
        .map(|id| {
            let shown = run(hearth(dir.path()).args(["history", id]));
            String::from_utf8_lossy(&shown.stdout).matches("user:").count()
        })
        .collect();
    assert_eq!(sizes, [1, 2], "newest first");
}
