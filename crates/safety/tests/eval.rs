//! Acceptance checks of triage against the shared evaluation data (`../shared/eval/`, or the
//! directory in `HEARTH_EVAL_DIR`). The data is not part of the repository; when it is absent the
//! tests print a notice and pass, so a fresh checkout still builds and tests.

use std::path::PathBuf;
use std::sync::OnceLock;

use hearth_safety::eval::{self, Report};

/// C-SSRS Ideation+Behavior+Attempt users flagged (post by post). The acceptance target is 0.90
/// and is not reached yet (0.74; the README's safety table shows the gap): many at-risk users in
/// this set write only supportive replies to others. Until then this floor catches regressions.
const CSSRS_FLOOR: f64 = 0.70;
const RMHD_CONTROL_MAX: f64 = 0.03;
const RMHD_SUICIDEWATCH_MIN: f64 = 0.85;

fn eval_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("HEARTH_EVAL_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/eval"),
    };
    if dir.join("safety-dev.jsonl").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "NOTICE: safety eval data not found at {} (set HEARTH_EVAL_DIR); skipping eval checks",
            dir.display()
        );
        None
    }
}

fn report() -> Option<&'static Report> {
    static REPORT: OnceLock<Option<Report>> = OnceLock::new();
    REPORT
        .get_or_init(|| {
            let dir = eval_dir()?;
            let report = eval::run(&dir).unwrap_or_else(|e| panic!("eval data unreadable: {e:#?}"));
            println!("{}", report.to_markdown());
            Some(report)
        })
        .as_ref()
}

#[test]
fn safety_dev_rows_get_their_label() {
    let Some(report) = report() else { return };
    let failures: Vec<String> = report
        .safety_dev
        .failures
        .iter()
        .map(|f| {
            format!("{} expect={} level={:?} got={:?}", f.row.id, f.row.expect, f.row.level, f.got)
        })
        .collect();
    assert!(failures.is_empty(), "safety-dev rows failing their label:\n{}", failures.join("\n"));
    assert_eq!(report.safety_dev.none_false_alarms, 0);
}

#[test]
fn rmhd_recall_and_false_alarms_meet_targets() {
    let Some(report) = report() else { return };
    let recall = report.rmhd.suicidewatch_recall();
    let false_alarms = report.rmhd.control_false_alarm();
    assert!(
        recall >= RMHD_SUICIDEWATCH_MIN,
        "r/SuicideWatch recall {recall:.3} < {RMHD_SUICIDEWATCH_MIN}"
    );
    assert!(
        false_alarms <= RMHD_CONTROL_MAX,
        "control-forum false alarms {false_alarms:.3} > {RMHD_CONTROL_MAX}"
    );
}

#[test]
fn cssrs_recall_does_not_regress() {
    let Some(report) = report() else { return };
    let recall = report.cssrs.at_risk_recall();
    assert!(
        recall >= CSSRS_FLOOR,
        "C-SSRS Ideation+Behavior+Attempt recall {recall:.3} < floor {CSSRS_FLOOR}"
    );
}
