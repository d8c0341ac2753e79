//! What a newcomer sees when the command line or the file is wrong: each cause once, a hint
//! where one helps, flags that mean nothing without -t refused, and `-t --json` answering on
//! stdout even when there is nothing to parse.

use std::process::{Command, Output};

fn vigild(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigild")).args(args).output().expect("vigild runs")
}

const MISSING: &str = "/nonexistent/vigil-cli-messages/keepalived.conf";

#[test]
fn a_missing_file_names_its_cause_once() {
    let out = vigild(&["-t", "-f", MISSING]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("cannot read configuration file {MISSING}")), "{err}");
    assert_eq!(err.matches("(os error 2)").count(), 1, "{err}");
    // The user gave -f already: no hint to use it.
    assert!(!err.contains("-f FILE"), "{err}");
}

#[test]
fn a_missing_default_file_suggests_f() {
    let default = std::path::Path::new("/etc/keepalived/keepalived.conf");
    if default.exists() {
        println!("SKIP a_missing_default_file_suggests_f: {} exists on this machine", default.display());
        return;
    }
    let out = vigild(&["-t"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("give your configuration file with -f FILE"), "{err}");
    assert_eq!(err.matches("(os error 2)").count(), 1, "{err}");
}

#[test]
fn json_and_strict_without_t_are_refused() {
    for flag in ["--json", "--strict"] {
        // -n: were the flag accepted, vigild would stay in the foreground and fail on the
        // missing file (exit 1) rather than go to the background.
        let out = vigild(&[flag, "-n", "-l", "-f", MISSING]);
        assert_eq!(out.status.code(), Some(2), "{flag}");
        assert!(out.stdout.is_empty(), "{flag}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("{flag} goes with -t (--config-test)")), "{err}");
    }
}

#[test]
fn json_reports_an_unreadable_file_on_stdout() {
    let out = vigild(&["-t", "--json", "-f", MISSING]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let line: serde_json::Value = serde_json::from_str(lines.next().expect("a JSON line")).expect("JSON");
    assert_eq!(lines.next(), None, "one line: {text}");
    assert_eq!(line["file"], MISSING);
    assert_eq!(line["line"], 0);
    assert_eq!(line["column"], 0);
    assert_eq!(line["severity"], "error");
    assert_eq!(line["code"], "config-unreadable");
    let message = line["message"].as_str().expect("a message");
    assert!(message.starts_with(&format!("cannot read configuration file {MISSING}: ")), "{message}");
    assert_eq!(message.matches("(os error 2)").count(), 1, "{message}");
    assert!(line["suggestion"].is_null(), "{line}");
}
