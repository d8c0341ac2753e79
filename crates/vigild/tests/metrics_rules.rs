//! The shipped Prometheus alert rules parse (`promtool check rules`) and fire as their unit
//! tests say (`promtool test rules`: split brain, no MASTER, a MASTER conflict, quorum lost,
//! failing reloads). promtool comes with the Debian package `prometheus`; without it the test
//! prints SKIP.

use std::path::PathBuf;
use std::process::Command;

fn docs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/prometheus")
}

/// Runs promtool with `args`; `None` when it is not installed.
fn promtool(args: &[&str]) -> Option<(bool, String)> {
    let out = Command::new("promtool").args(args).current_dir(docs()).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Some((out.status.success(), text))
}

#[test]
fn the_alert_rules_parse_and_pass_their_unit_tests() {
    let Some((ok, text)) = promtool(&["check", "rules", "vigil-rules.yml"]) else {
        println!("SKIP: promtool is not installed (Debian package prometheus)");
        return;
    };
    assert!(ok, "promtool check rules:\n{text}");
    assert!(text.contains("SUCCESS: 6 rules found"), "{text}");
    let (ok, text) = promtool(&["test", "rules", "vigil-rules.test.yml"]).expect("promtool ran a moment ago");
    assert!(ok, "promtool test rules:\n{text}");
}
