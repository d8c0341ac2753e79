//! `vigilctl maintenance` and `vigilctl weight`: the requests sent to vigild's control
//! socket (`maintenance {json}`), the expiry times they carry, and the entries for people.

use std::time::SystemTime;

use serde_json::{json, Value};

use crate::daemon::{ago, s, table, Paint};

/// What a request is about, as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Director,
    VirtualServer(String),
    RealServer(String, String),
}

impl Target {
    /// From `--director` or `VS [RS]`.
    pub fn new(director: bool, vs: Option<String>, rs: Option<String>) -> anyhow::Result<Target> {
        match (director, vs, rs) {
            (true, None, None) => Ok(Target::Director),
            (false, Some(vs), None) => Ok(Target::VirtualServer(vs)),
            (false, Some(vs), Some(rs)) => Ok(Target::RealServer(vs, rs)),
            (true, _, _) => anyhow::bail!("--director takes no virtual or real server"),
            (false, None, _) => anyhow::bail!("name a virtual server (and a real server), or give --director"),
        }
    }

    fn json(&self) -> Value {
        match self {
            Target::Director => json!({"scope": "director"}),
            Target::VirtualServer(vs) => json!({"scope": "virtual_server", "vs": vs}),
            Target::RealServer(vs, rs) => json!({"scope": "real_server", "vs": vs, "rs": rs}),
        }
    }
}

/// The control-socket line that sets maintenance on `target`.
pub fn on(target: &Target, remove: bool, reason: Option<&str>, expires: Option<f64>) -> String {
    let mode = if remove { "remove" } else { "quiescent" };
    line(json!({"op": "on", "target": target.json(), "mode": mode, "reason": reason, "expires": expires}))
}

/// The control-socket line that ends maintenance on `target`.
pub fn off(target: &Target) -> String {
    line(json!({"op": "off", "target": target.json()}))
}

/// The control-socket line that sets (or, with `None`, clears) a runtime weight.
pub fn weight(vs: &str, rs: &str, weight: Option<i32>, expires: Option<f64>) -> String {
    line(json!({"op": "weight", "vs": vs, "rs": rs, "weight": weight, "expires": expires}))
}

fn line(request: Value) -> String {
    format!("maintenance {request}")
}

/// Seconds since the Unix epoch.
pub fn now() -> f64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// `--expires`: a duration from `now` (`90s`, `15m`, `2h`, `1d`, `1h30m`, `1w`), a time in
/// UTC (`2026-12-24T18:00:00Z`, `2026-12-24 18:00`, with an offset `+01:00`), or Unix
/// seconds (`@1798135200`). Returns Unix seconds.
pub fn parse_expiry(text: &str, now: f64) -> Result<f64, String> {
    let text = text.trim();
    if let Some(unix) = text.strip_prefix('@') {
        return unix.parse::<f64>().ok().filter(|t| t.is_finite()).ok_or_else(|| bad_expiry(text));
    }
    if let Some(d) = parse_duration(text) {
        return Ok(now + d);
    }
    parse_time(text).ok_or_else(|| bad_expiry(text))
}

fn bad_expiry(text: &str) -> String {
    format!("--expires {text:?}: give a duration (90s, 15m, 2h, 1d, 1h30m), a time (2026-12-24T18:00:00Z) or @UNIX")
}

/// `1h30m` -> 5400 seconds; `None` unless it is numbers each followed by a unit.
fn parse_duration(text: &str) -> Option<f64> {
    let mut total = 0u64;
    let mut number = String::new();
    let mut any = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return None,
        };
        let n: u64 = number.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        number.clear();
        any = true;
    }
    (any && number.is_empty() && total > 0).then_some(total as f64)
}

/// `YYYY-MM-DD[T ]HH:MM[:SS](Z|±HH:MM)?`, UTC when no offset is given.
fn parse_time(text: &str) -> Option<f64> {
    let (date, rest) = text.split_at_checked(10)?;
    let rest = rest.strip_prefix(['T', ' '])?;
    let mut d = date.split('-');
    let (y, mo, da): (i64, u32, u32) = (d.next()?.parse().ok()?, d.next()?.parse().ok()?, d.next()?.parse().ok()?);
    if d.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&da) {
        return None;
    }
    let (clock, offset) = if let Some(c) = rest.strip_suffix('Z') {
        (c, 0)
    } else if let Some(i) = rest.rfind(['+', '-']) {
        let (c, off) = rest.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (h, m) = off[1..].split_once(':')?;
        (c, sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60))
    } else {
        (rest, 0)
    };
    let mut c = clock.split(':');
    let (h, mi): (i64, i64) = (c.next()?.parse().ok()?, c.next()?.parse().ok()?);
    let sec: i64 = c.next().map_or(Some(0), |s| s.parse().ok())?;
    if c.next().is_some() || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let days = days_from_civil(y, mo, da);
    Some((days * 86_400 + h * 3600 + mi * 60 + sec - offset) as f64)
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (the civil-from-days
/// algorithm run backwards: years start in March so the leap day comes last).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// One line saying what a change did, from vigild's answer.
pub fn render_answer(what: &str, answer: &Value) -> String {
    match answer["matched"].as_u64() {
        Some(n) => format!("{what}: {n} real server{}\n", if n == 1 { "" } else { "s" }),
        None => format!("{what} (the checkers are not running: kept, applied when they start)\n"),
    }
}

/// How a target reads: `RS 10.0.0.7:80 of VS 10.0.0.1:80`.
pub fn target_words(t: &Value) -> String {
    match t["scope"].as_str() {
        Some("director") => "the director".into(),
        Some("virtual_server") => format!("VS {}", s(&t["vs"])),
        Some("real_server") => format!("RS {} of VS {}", s(&t["rs"]), s(&t["vs"])),
        _ => t.to_string(),
    }
}

/// "in 1h02m" or "-".
fn until(at: &Value) -> String {
    let Some(at) = at.as_f64() else { return "-".into() };
    let secs = (at - now()).max(0.0) as u64;
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("in {s}s"),
        (0, 0, _) => format!("in {m}m{s:02}s"),
        (0, _, _) => format!("in {h}h{m:02}m"),
        _ => format!("in {d}d{h:02}h"),
    }
}

/// The entries for people; empty when there are none.
pub fn render_list(state: &Value) -> String {
    let paint = Paint::detect();
    let mut out = String::new();
    if let Some(entries) = state["maintenance"].as_array().filter(|a| !a.is_empty()) {
        out.push_str("MAINTENANCE\n");
        let rows: Vec<Vec<String>> = entries
            .iter()
            .map(|m| {
                vec![
                    target_words(&m["target"]),
                    s(&m["mode"]),
                    ago(&m["since"]),
                    until(&m["expires"]),
                    m["reason"].as_str().unwrap_or("").to_string(),
                ]
            })
            .collect();
        table(&mut out, &["TARGET", "MODE", "SINCE", "EXPIRES", "REASON"], &rows, &[], &paint, "  ");
    }
    if let Some(entries) = state["weights"].as_array().filter(|a| !a.is_empty()) {
        out.push_str("WEIGHT OVERRIDES\n");
        let rows: Vec<Vec<String>> = entries
            .iter()
            .map(|w| vec![s(&w["vs"]), s(&w["rs"]), s(&w["weight"]), ago(&w["since"]), until(&w["expires"])])
            .collect();
        table(&mut out, &["VIRTUAL SERVER", "REAL SERVER", "WEIGHT", "SINCE", "EXPIRES"], &rows, &[], &paint, "  ");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_times_read_as_durations_times_and_unix_seconds() {
        let now = 1_000_000.0;
        let cases = [
            ("90s", now + 90.0),
            ("15m", now + 900.0),
            ("1h30m", now + 5400.0),
            ("2d", now + 172_800.0),
            ("1w", now + 604_800.0),
            ("@1798135200", 1_798_135_200.0),
            ("1970-01-01T00:00:00Z", 0.0),
            ("2000-03-01 00:00", 951_868_800.0),
            ("2026-12-24T18:00:00Z", 1_798_135_200.0),
            ("2026-12-24T19:00:00+01:00", 1_798_135_200.0),
            ("2026-12-24T13:30-04:30", 1_798_135_200.0),
        ];
        for (text, want) in cases {
            assert_eq!(parse_expiry(text, now), Ok(want), "{text}");
        }
        for bad in ["", "10", "5x", "h", "0s", "2026-13-01T00:00Z", "2026-12-24", "2026-12-24T25:00Z", "@x"] {
            assert!(parse_expiry(bad, now).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn requests_are_one_json_line() {
        let target = Target::new(false, Some("10.0.0.1:80".into()), Some("10.0.0.7:80".into())).expect("a target");
        let line = on(&target, false, Some("disk swap"), Some(5.0));
        let body: Value = serde_json::from_str(line.strip_prefix("maintenance ").expect("the command")).expect("JSON");
        assert_eq!(
            body,
            json!({"op": "on", "target": {"scope": "real_server", "vs": "10.0.0.1:80", "rs": "10.0.0.7:80"},
                   "mode": "quiescent", "reason": "disk swap", "expires": 5.0})
        );
        assert!(!line.contains('\n'));
        assert_eq!(off(&Target::Director), r#"maintenance {"op":"off","target":{"scope":"director"}}"#.to_string());
        let w: Value =
            serde_json::from_str(weight("FWM 1", "10.0.0.7:80", None, None).trim_start_matches("maintenance "))
                .expect("JSON");
        assert_eq!(w["weight"], Value::Null);
        assert!(Target::new(true, Some("x".into()), None).is_err());
        assert!(Target::new(false, None, None).is_err());
    }

    #[test]
    fn the_entries_read_as_tables() {
        let state = json!({
            "maintenance": [{"target": {"scope": "virtual_server", "vs": "10.0.0.1:80"}, "mode": "remove",
                             "reason": "rack move", "since": 0.0, "expires": null}],
            "weights": [{"vs": "10.0.0.1:80", "rs": "10.0.0.7:80", "weight": 5, "since": 0.0, "expires": null}]
        });
        let text = render_list(&state);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "MAINTENANCE");
        assert!(lines[2].starts_with("  VS 10.0.0.1:80  remove  "), "{text}");
        assert!(lines[2].ends_with("-        rack move"), "{text}");
        assert_eq!(lines[3], "WEIGHT OVERRIDES");
        assert!(lines[5].starts_with("  10.0.0.1:80     10.0.0.7:80  5       "), "{text}");
        assert_eq!(render_list(&json!({"maintenance": [], "weights": []})), "");
    }
}
