//! Golden conformance cases for the VRRP state machine (STYLE rule 4).
//!
//! Each directory under `tests/conformance/` is one case:
//!
//! * `README.md`: what the case shows and the RFC 3768 / RFC 5798 rule (or keepalived
//!   behaviour) it pins down;
//! * `config.json`: a [`Config`], keepalived's defaults for what it leaves out;
//! * `inputs.jsonl`: one [`Input`] a line, `{"at_ms": 1000, "type": "Advert", ...}`, in time
//!   order; a line `{"at_ms": N, "type": "Advance"}` only lets the clock run to N;
//! * `actions.jsonl`: the expected [`Action`]s, one a line, `{"at_ms": 3609.375, "type": ...}`,
//!   stamped with the time they were produced (microsecond precision).
//!
//! Before each input, every timer due by its time fires, each at its own deadline; after the
//! last line nothing more runs. `VIGIL_BLESS=1 cargo test --test conformance` rewrites
//! `actions.jsonl` from the machine's output, to be reviewed by hand before committing.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use vigil_vrrp::fsm::{Action, Config, Input, Instance};

/// The clock's origin for every case: only offsets from it are ever written or compared.
#[allow(clippy::disallowed_methods)]
fn epoch() -> Instant {
    Instant::now()
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("conformance")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// One line of `inputs.jsonl`.
enum Step {
    Input(Input),
    Advance,
}

fn parse_inputs(path: &Path) -> Vec<(u64, Step)> {
    let mut steps = Vec::new();
    let mut last = 0;
    for (number, line) in read(path).lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
        let context = format!("{}:{}", path.display(), number + 1);
        let mut value: Value = serde_json::from_str(line).unwrap_or_else(|error| panic!("{context}: {error}"));
        let object = value.as_object_mut().unwrap_or_else(|| panic!("{context}: not an object"));
        let at = object
            .remove("at_ms")
            .and_then(|at| at.as_u64())
            .unwrap_or_else(|| panic!("{context}: at_ms must be whole milliseconds"));
        assert!(at >= last, "{context}: inputs go forward in time");
        last = at;
        let step = if object.get("type").and_then(Value::as_str) == Some("Advance") {
            Step::Advance
        } else {
            Step::Input(serde_json::from_value(value).unwrap_or_else(|error| panic!("{context}: {error}")))
        };
        steps.push((at, step));
    }
    steps
}

/// Runs a case and returns its actions, each with the microseconds since the epoch at which it
/// was produced.
fn replay(config: Config, steps: Vec<(u64, Step)>) -> Vec<(u64, Action)> {
    let epoch = epoch();
    let micros = |at: Instant| u64::try_from((at - epoch).as_micros()).expect("cases last less than forever");
    let mut vrrp = Instance::new(config).expect("the case's config is valid");
    let mut actions = Vec::new();
    for (at_ms, step) in steps {
        let now = epoch + Duration::from_millis(at_ms);
        while let Some(deadline) = vrrp.poll_timeout().filter(|deadline| *deadline <= now) {
            vrrp.handle_timeout(deadline);
            actions.extend(std::iter::from_fn(|| vrrp.poll_action()).map(|action| (micros(deadline), action)));
        }
        if let Step::Input(input) = step {
            vrrp.handle(now, input);
            actions.extend(std::iter::from_fn(|| vrrp.poll_action()).map(|action| (micros(now), action)));
        }
    }
    actions
}

/// `3609375` µs as `3609.375` ms.
fn format_ms(micros: u64) -> String {
    let (whole, frac) = (micros / 1_000, micros % 1_000);
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:03}").trim_end_matches('0').to_owned()
    }
}

fn render(actions: &[(u64, Action)]) -> String {
    let mut out = String::new();
    for (at, action) in actions {
        let json = serde_json::to_string(action).expect("actions serialize");
        let fields = json.strip_prefix('{').expect("actions serialize as objects");
        writeln!(out, "{{\"at_ms\":{},{fields}", format_ms(*at)).expect("writing to a String");
    }
    out
}

fn parse_actions(path: &Path) -> Vec<(u64, Action)> {
    let text = if path.exists() { read(path) } else { String::new() };
    let mut actions = Vec::new();
    for (number, line) in text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
        let context = format!("{}:{}", path.display(), number + 1);
        let mut value: Value = serde_json::from_str(line).unwrap_or_else(|error| panic!("{context}: {error}"));
        let object = value.as_object_mut().unwrap_or_else(|| panic!("{context}: not an object"));
        let at = object.remove("at_ms").and_then(|at| at.as_f64()).unwrap_or_else(|| panic!("{context}: no at_ms"));
        let micros = (at * 1_000.0).round();
        assert!(micros >= 0.0 && (at * 1_000.0 - micros).abs() < 1e-6, "{context}: at_ms has at most 3 decimals");
        let action = serde_json::from_value(value).unwrap_or_else(|error| panic!("{context}: {error}"));
        actions.push((micros as u64, action));
    }
    actions
}

/// Runs one case; `Err` describes how it went wrong.
fn check(dir: &Path, bless: bool) -> Result<(), String> {
    let readme = dir.join("README.md");
    if !readme.exists() || read(&readme).trim().is_empty() {
        return Err("README.md must say which rule the case covers".into());
    }
    let config_path = dir.join("config.json");
    let config: Config = serde_json::from_str(&read(&config_path)).map_err(|error| format!("config.json: {error}"))?;
    let actual = replay(config, parse_inputs(&dir.join("inputs.jsonl")));
    let expected_path = dir.join("actions.jsonl");
    if bless {
        fs::write(&expected_path, render(&actual)).map_err(|error| error.to_string())?;
        return Ok(());
    }
    let expected = parse_actions(&expected_path);
    if actual == expected {
        return Ok(());
    }
    Err(format!("expected:\n{}actual:\n{}", render(&expected), render(&actual)))
}

#[test]
fn conformance_cases() {
    let bless = std::env::var_os("VIGIL_BLESS").is_some();
    let mut dirs: Vec<_> = fs::read_dir(cases_dir())
        .expect("tests/conformance exists")
        .map(|entry| entry.expect("readable directory").path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 15, "at least 15 cases, found {}", dirs.len());
    let failures: Vec<_> = dirs
        .iter()
        .filter_map(|dir| check(dir, bless).err().map(|error| format!("== {}\n{error}", dir.display())))
        .collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), dirs.len(), failures.join("\n"));
}

#[test]
fn times_format_to_the_microsecond() {
    assert_eq!(format_ms(3_609_375), "3609.375");
    assert_eq!(format_ms(3_605_468), "3605.468");
    assert_eq!(format_ms(3_000_000), "3000");
    assert_eq!(format_ms(1_500_000 + 304_690), "1804.69");
}
