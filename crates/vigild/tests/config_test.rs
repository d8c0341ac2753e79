//! `vigild -t` exits as `keepalived -t` does and prints diagnostics with file:line; `-v` prints
//! the version. (The keepalived comparison itself is tests/conformance/run.sh.)

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output};

fn vigild(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigild")).args(args).output().expect("vigild runs")
}

/// A configuration file whose name ends in `name`, removed when the test ends, pass or fail.
fn write(name: &str, text: &str) -> tempfile::NamedTempFile {
    let mut conf =
        tempfile::Builder::new().prefix("vigild-t-").suffix(&format!("-{name}")).tempfile().expect("temp file");
    conf.write_all(text.as_bytes()).expect("write config");
    conf
}

#[test]
fn version() {
    let out = vigild(&["-v"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Vigil v"));
}

#[test]
fn clean_config_exits_0_silently() {
    let conf = write("clean.conf", "global_defs {\n router_id lb1\n}\n");
    let path = conf.path();
    let out = vigild(&["-t", "-f", path.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty());
}

#[test]
fn errors_name_file_and_line_and_exit_5() {
    let conf = write("bad.conf", "global_defs {\n router_id lb1\n  priorty 100\n}\n");
    let path = conf.path();
    let out = vigild(&["-t", "-f", path.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:3:3: warning: unknown keyword 'priorty'", path.display())), "{err}");
}

#[test]
fn json_diagnostics_for_pipelines() {
    let conf = write("json.conf", "vrrp_instance VI_1 {\n priority 300\n}\n");
    let path = conf.path();
    let out = vigild(&["-t", "--json", "-f", path.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(5));
    let text = String::from_utf8_lossy(&out.stdout);
    let first: serde_json::Value = serde_json::from_str(text.lines().next().expect("a diagnostic")).expect("JSON");
    for key in ["file", "line", "column", "severity", "code", "message"] {
        assert!(first.get(key).is_some(), "missing {key} in {first}");
    }
}

#[test]
fn strict_makes_notes_count() {
    let conf = write(
        "note.conf",
        "vrrp_instance VI_1 {\n state BACKUP\n interface lo\n virtual_router_id 1\n priority 255\n}\n",
    );
    let path = conf.path();
    let p = path.to_str().expect("utf-8 path");
    let plain = vigild(&["-t", "-f", p]);
    let strict = vigild(&["-t", "--strict", "-f", p]);
    assert_ne!(plain.status.code(), Some(0), "lo is refused anyway");
    assert_eq!(strict.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&strict.stderr).contains("backup-priority-255"));
}

#[test]
fn missing_file_is_an_error() {
    let out = vigild(&["-t", "-f", Path::new("/nonexistent/keepalived.conf").to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read configuration file"));
}
