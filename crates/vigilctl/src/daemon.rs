//! Talking to a running vigild over its control socket: `status`, `reload`, `dump`, `events`.

use std::io::{IsTerminal, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use serde_json::Value;

/// Sends `command` to the vigild listening on `socket` and returns its answer.
pub fn ask(socket: &Path, command: &str) -> anyhow::Result<String> {
    let mut stream = UnixStream::connect(socket)
        .with_context(|| format!("connecting to vigild at {} (is it running? are you root?)", socket.display()))?;
    // A reload of a large configuration takes seconds; nothing takes minutes.
    stream.set_read_timeout(Some(Duration::from_secs(120))).context("setting a timeout")?;
    stream.write_all(format!("{command}\n").as_bytes()).context("sending the command")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).context("reading the answer")?;
    if let Some(e) = answer.strip_prefix("error: ") {
        anyhow::bail!("vigild: {}", e.trim_end());
    }
    Ok(answer)
}

/// Prints vigild's events as they come (JSON lines with `json`, else one line each) until the
/// daemon closes the stream.
pub fn follow_events(socket: &Path, json: bool) -> anyhow::Result<()> {
    use std::io::BufRead as _;
    let mut stream = UnixStream::connect(socket)
        .with_context(|| format!("connecting to vigild at {} (is it running? are you root?)", socket.display()))?;
    stream.write_all(b"events\n").context("sending the command")?;
    let mut out = std::io::stdout().lock();
    for line in std::io::BufReader::new(stream).lines() {
        let line = line.context("reading the events")?;
        if let Some(e) = line.strip_prefix("error: ") {
            anyhow::bail!("vigild: {e}");
        }
        let text = if json {
            line
        } else {
            let event: Value = serde_json::from_str(&line).context("reading an event")?;
            render_event(&event)
        };
        // A closed pipe (`vigilctl events | head`) ends the command quietly.
        if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
            break;
        }
    }
    Ok(())
}

/// `   12 14:03:07.412 INSTANCE VI_1 MASTER priority 150`, time of day in UTC.
fn render_event(e: &Value) -> String {
    let at = e["at"].as_f64().unwrap_or(0.0);
    let ms = (at * 1000.0) as u64 % 86_400_000;
    let time = format!("{:02}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    let what = match e["type"].as_str().unwrap_or("") {
        "INSTANCE" => format!("INSTANCE {} {} priority {}", s(&e["name"]), s(&e["state"]), s(&e["priority"])),
        "GROUP" => format!("GROUP {} {}", s(&e["name"]), s(&e["state"])),
        "VS" => format!("VS {} {}", s(&e["vs"]), s(&e["state"])),
        "RS" => format!("RS {} of VS {} {}", s(&e["rs"]), s(&e["vs"]), s(&e["state"])),
        "MAINTENANCE" => {
            let target = match (e["vs"].as_str(), e["rs"].as_str()) {
                (Some(vs), Some(rs)) => format!("RS {rs} of VS {vs}"),
                (Some(vs), None) => format!("VS {vs}"),
                _ => "the director".into(),
            };
            let mode = e["mode"].as_str().map_or(String::new(), |m| format!(" ({m})"));
            let reason = e["reason"].as_str().map_or(String::new(), |r| format!(": {r}"));
            format!("MAINTENANCE {} {target}{mode}{reason}", s(&e["state"]))
        }
        "WEIGHT" => match e["weight"].as_i64() {
            Some(w) => format!("WEIGHT RS {} of VS {} set to {w}", s(&e["rs"]), s(&e["vs"])),
            None => format!("WEIGHT RS {} of VS {} override cleared", s(&e["rs"]), s(&e["vs"])),
        },
        "DRAIN" => format!("DRAIN {} {}", e["vip"].as_str().unwrap_or("every VIP"), s(&e["state"])),
        "ANNOUNCE" => format!("ANNOUNCE {} {} ({})", s(&e["vip"]), s(&e["state"]), s(&e["reason"])),
        other => format!("{other} {e}"),
    };
    format!("{:>5} {time}Z {what}", s(&e["seq"]))
}

/// Colours for a terminal, none otherwise (or with NO_COLOR set).
pub(crate) struct Paint(bool);

impl Paint {
    pub(crate) fn detect() -> Paint {
        Paint(std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none())
    }

    /// `text` in the colour its word calls for, padded to `width`.
    fn word(&self, text: &str, width: usize) -> String {
        let code = match text {
            "MASTER" | "up" | "ok" | "announced" => "32",
            "BACKUP" => "33",
            "FAULT" | "down" | "failed" | "withdrawn" => "31",
            _ => "",
        };
        let padded = format!("{text:<width$}");
        if self.0 && !code.is_empty() {
            format!("\x1b[{code}m{padded}\x1b[0m")
        } else {
            padded
        }
    }
}

pub(crate) fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// "3m12s ago" from a Unix time in seconds.
pub(crate) fn ago(at: &Value) -> String {
    let Some(at) = at.as_f64() else { return "-".into() };
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(at);
    let secs = (now - at).max(0.0) as u64;
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let text = match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m{s:02}s"),
        (0, _, _) => format!("{h}h{m:02}m"),
        _ => format!("{d}d{h:02}h"),
    };
    format!("{text} ago")
}

/// A table: columns padded to their widest cell; `paint` colours the columns it is given.
pub(crate) fn table(
    out: &mut String,
    header: &[&str],
    rows: &[Vec<String>],
    coloured: &[usize],
    paint: &Paint,
    indent: &str,
) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let text: Vec<String> = cells
            .iter()
            .enumerate()
            .map(
                |(i, c)| {
                    if coloured.contains(&i) {
                        paint.word(c, widths[i])
                    } else {
                        format!("{c:<w$}", w = widths[i])
                    }
                },
            )
            .collect();
        format!("{indent}{}\n", text.join("  ").trim_end())
    };
    out.push_str(&line(header.iter().map(|h| (*h).to_string()).collect()));
    for r in rows {
        out.push_str(&line(r.clone()));
    }
}

/// The status document for people.
pub fn render(doc: &Value) -> String {
    let paint = Paint::detect();
    let mut out = String::new();
    let d = &doc["daemon"];
    out.push_str(&format!(
        "Vigil {}, pid {}, started {}, config {} (reloads: {} ok, {} failed)\n",
        s(&d["version"]),
        s(&d["pid"]),
        ago(&d["started"]),
        s(&d["config_file"]),
        s(&d["reloads_ok"]),
        s(&d["reloads_failed"])
    ));
    if let Some(r) = d["last_reload"].as_object() {
        let ok = r.get("ok").and_then(Value::as_bool).unwrap_or(false);
        out.push_str(&format!(
            "Last reload: {} {}\n",
            paint.word(if ok { "ok" } else { "failed" }, 0),
            ago(r.get("at").unwrap_or(&Value::Null))
        ));
        for e in r.get("errors").and_then(Value::as_array).into_iter().flatten() {
            out.push_str(&format!("  {}\n", s(e)));
        }
    }
    if let Some(instances) = doc["vrrp"].as_array().filter(|a| !a.is_empty()) {
        out.push_str("\nVRRP\n");
        let rows: Vec<Vec<String>> = instances
            .iter()
            .map(|i| {
                let vips: Vec<String> = i["vips"].as_array().into_iter().flatten().map(s).collect();
                let reason = i["last_transition"]["reason"].as_str().map_or(String::new(), |r| format!(" ({r})"));
                let drops: u64 = i["drops"].as_object().into_iter().flatten().filter_map(|(_, n)| n.as_u64()).sum();
                vec![
                    s(&i["name"]),
                    s(&i["state"]),
                    format!("{}/{}", s(&i["effective_priority"]), s(&i["priority"])),
                    s(&i["vrid"]),
                    s(&i["interface"]),
                    s(&i["master"]),
                    vips.join(","),
                    format!("{}/{}", s(&i["adverts_sent"]), s(&i["adverts_received"])),
                    drops.to_string(),
                    format!("{}{reason}", ago(&i["since"])),
                ]
            })
            .collect();
        let header =
            ["INSTANCE", "STATE", "PRIO", "VRID", "INTERFACE", "MASTER", "VIPS", "SENT/RECV", "DROPS", "SINCE"];
        table(&mut out, &header, &rows, &[1], &paint, "");
        let why: Vec<String> = instances.iter().filter_map(priority_why).collect();
        if !why.is_empty() {
            out.push_str("Priority:\n");
            for line in why {
                out.push_str(&format!("  {line}\n"));
            }
        }
    }
    if let Some(sessions) = doc["bfd"].as_array().filter(|a| !a.is_empty()) {
        out.push_str("\nBFD\n");
        let rows: Vec<Vec<String>> = sessions
            .iter()
            .map(|b| {
                let detect = b["detection_time_ms"].as_f64().map_or("-".to_string(), |ms| format!("{ms} ms"));
                vec![
                    s(&b["name"]),
                    s(&b["state"]),
                    s(&b["neighbor"]),
                    s(&b["remote_state"]),
                    format!("{} ms", s(&b["tx_interval_ms"])),
                    detect,
                    format!("{}/{}", s(&b["sent"]), s(&b["received"])),
                    format!("{}/{}", s(&b["went_up"]), s(&b["went_down"])),
                ]
            })
            .collect();
        let header = ["SESSION", "STATE", "NEIGHBOR", "REMOTE", "TX", "DETECT", "SENT/RECV", "UP/DOWN"];
        table(&mut out, &header, &rows, &[1], &paint, "");
    }
    if let Some(services) = doc["virtual_servers"].as_array().filter(|a| !a.is_empty()) {
        out.push_str("\nVIRTUAL SERVERS\n");
        for vs in services {
            out.push_str(&format!("{}\n", s(&vs["name"])));
            let rows: Vec<Vec<String>> = vs["real_servers"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|rs| {
                    let checks: Vec<String> = rs["checks"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|c| match c["last"].as_object() {
                            Some(l) => format!(
                                "{} {} {:.1} ms",
                                s(&c["kind"]),
                                l.get("result").map(s).unwrap_or_default(),
                                l.get("latency_ms").and_then(Value::as_f64).unwrap_or(0.0)
                            ),
                            None => format!("{} not run yet", s(&c["kind"])),
                        })
                        .collect();
                    let up = if rs["up"].as_bool().unwrap_or(false) { "up" } else { "down" };
                    vec![
                        s(&rs["name"]),
                        up.into(),
                        weight_cell(rs),
                        admin_cell(rs),
                        checks.join("; "),
                        ago(&rs["since"]),
                    ]
                })
                .collect();
            let header = ["REAL SERVER", "STATE", "WEIGHT", "ADMIN", "LAST CHECK", "SINCE"];
            table(&mut out, &header, &rows, &[1], &paint, "  ");
        }
    }
    if let Some(services) = doc["ipvs"].as_array() {
        out.push_str("\nIPVS (the services vigild manages)\n");
        for svc in services {
            let persistent = svc["persistence"].as_u64().map_or(String::new(), |t| format!(" persistent {t}"));
            out.push_str(&format!("{} {}{persistent}\n", s(&svc["service"]), s(&svc["scheduler"])));
            for dst in svc["destinations"].as_array().into_iter().flatten() {
                out.push_str(&format!(
                    "  -> [{}]:{} {} weight {}\n",
                    s(&dst["address"]),
                    s(&dst["port"]),
                    s(&dst["forwarding"]),
                    s(&dst["weight"])
                ));
            }
        }
    }
    if let Some(vips) = doc["announce"].as_array() {
        out.push_str("\nANNOUNCEMENTS (routes for BIRD or FRR)\n");
        for a in vips {
            let state = if a["announced"].as_bool() == Some(true) { "announced" } else { "withdrawn" };
            let lost: Vec<String> = a["lost_quorum"].as_array().into_iter().flatten().map(s).collect();
            let lost = if lost.is_empty() { String::new() } else { format!(": no quorum for {}", lost.join(", ")) };
            out.push_str(&format!(
                "{} {} ({}{lost}) metric {}\n",
                s(&a["vip"]),
                paint.word(state, 9),
                s(&a["reason"]),
                s(&a["metric"])
            ));
        }
    }
    out
}

/// The weight a real server is given: an override shows as `5 (was 1)`.
fn weight_cell(rs: &Value) -> String {
    match rs["weight_override"].as_i64() {
        Some(w) => format!("{w} (was {})", s(&rs["weight"])),
        None => s(&rs["weight"]),
    }
}

/// What an operator set on a real server: `maintenance quiescent (VS): disk swap`, or `-`.
/// Its STATE stays what its checks say.
fn admin_cell(rs: &Value) -> String {
    let m = &rs["maintenance"];
    let Some(mode) = m["mode"].as_str() else { return "-".into() };
    let scope = match m["target"]["scope"].as_str() {
        Some("virtual_server") => " (VS)",
        Some("director") => " (director)",
        _ => "",
    };
    let reason = m["reason"].as_str().map_or(String::new(), |r| format!(": {r}"));
    format!("maintenance {mode}{scope}{reason}")
}

/// Why an instance has its priority: `VI_1 90 = 100 configured -10 script chk_web (failing)`.
/// Each tracker's part comes from the instance's `priority_terms` (tracker, weight it adds
/// now, state); without them, only what the trackers add up to. `None` when nothing is added.
fn priority_why(i: &Value) -> Option<String> {
    let (configured, effective) = (i["priority"].as_i64()?, i["effective_priority"].as_i64()?);
    let terms = i["priority_terms"].as_array().filter(|t| !t.is_empty());
    if terms.is_none() && configured == effective {
        return None;
    }
    let mut line = format!("{} {effective} = {configured} configured", s(&i["name"]));
    match terms {
        Some(terms) => {
            for t in terms {
                let adds = t["adds"].as_i64().unwrap_or(0);
                let state = t["state"].as_str().map_or(String::new(), |st| format!(" ({st})"));
                line.push_str(&format!(" {adds:+} {}{state}", s(&t["tracker"])));
            }
            // 255 for the address owner and the 1..=254 bounds are not the trackers'.
            let sum: i64 = configured + terms.iter().filter_map(|t| t["adds"].as_i64()).sum::<i64>();
            if sum != effective {
                line.push_str(&format!(", bounded to {effective}"));
            }
        }
        None => line.push_str(&format!(" {:+} from trackers", effective - configured)),
    }
    Some(line)
}

/// A reload's outcome for people; whether it succeeded.
pub fn render_reload(outcome: &Value) -> (String, bool) {
    let ok = outcome["ok"].as_bool().unwrap_or(false);
    let mut out = String::new();
    if ok {
        out.push_str(&format!("reloaded in {:.1} ms\n", outcome["ms"].as_f64().unwrap_or(0.0)));
        let v = &outcome["vrrp"];
        for (key, what) in [
            ("kept", "unchanged"),
            ("changed", "changed in place"),
            ("restarted", "restarted"),
            ("started", "started"),
            ("stopped", "stopped"),
        ] {
            let names: Vec<String> = v[key].as_array().into_iter().flatten().map(s).collect();
            if !names.is_empty() {
                out.push_str(&format!("  vrrp_instance {what}: {}\n", names.join(", ")));
            }
        }
        if let Some(ipvs) = outcome["ipvs"].as_object() {
            out.push_str(&format!(
                "  IPVS: {} write(s), {} refused\n",
                ipvs.get("writes").map(s).unwrap_or_default(),
                ipvs.get("failed").map(s).unwrap_or_default()
            ));
        }
    } else {
        // With VRRP reloaded, the new configuration runs but for what the errors say.
        out.push_str(if outcome["vrrp"].is_object() {
            "reload failed in part; the new configuration runs except where these say:\n"
        } else {
            "reload failed; vigild still runs the previous configuration:\n"
        });
        for e in outcome["errors"].as_array().into_iter().flatten() {
            out.push_str(&format!("  {}\n", s(e)));
        }
    }
    (out, ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_reads_as_done_failed_or_failed_in_part() {
        let done = serde_json::json!({"ok": true, "ms": 2.0, "errors": [], "vrrp": {"kept": ["VI_1"]},
            "ipvs": {"writes": 1, "failed": 0}});
        let (text, ok) = render_reload(&done);
        assert!(ok);
        assert_eq!(text, "reloaded in 2.0 ms\n  vrrp_instance unchanged: VI_1\n  IPVS: 1 write(s), 0 refused\n");
        let failed = serde_json::json!({"ok": false, "errors": ["k.conf:3: unknown keyword"], "vrrp": null});
        let (text, ok) = render_reload(&failed);
        assert!(!ok);
        assert_eq!(text, "reload failed; vigild still runs the previous configuration:\n  k.conf:3: unknown keyword\n");
        let part = serde_json::json!({"ok": false, "errors": ["the checkers' new plan could not be made"],
            "vrrp": {"kept": ["VI_1"]}});
        let (text, ok) = render_reload(&part);
        assert!(!ok);
        assert!(text.starts_with("reload failed in part; the new configuration runs"), "{text}");
    }

    #[test]
    fn maintenance_events_read_as_one_line_each() {
        let e = serde_json::json!({"seq": 4, "at": 0.0, "type": "MAINTENANCE", "scope": "real_server",
            "vs": "10.0.0.1:80", "rs": "10.0.0.7:80", "state": "ON", "mode": "quiescent", "reason": "disk swap", "expires": null});
        assert_eq!(
            render_event(&e),
            "    4 00:00:00.000Z MAINTENANCE ON RS 10.0.0.7:80 of VS 10.0.0.1:80 (quiescent): disk swap"
        );
        let e = serde_json::json!({"seq": 5, "at": 0.0, "type": "MAINTENANCE", "scope": "director",
            "vs": null, "rs": null, "state": "OFF", "mode": null, "reason": "expired", "expires": null});
        assert_eq!(render_event(&e), "    5 00:00:00.000Z MAINTENANCE OFF the director: expired");
        let e =
            serde_json::json!({"seq": 6, "at": 0.0, "type": "WEIGHT", "vs": "FWM 1", "rs": "10.0.0.7:80", "weight": 5});
        assert_eq!(render_event(&e), "    6 00:00:00.000Z WEIGHT RS 10.0.0.7:80 of VS FWM 1 set to 5");
    }

    #[test]
    fn the_status_says_why_a_priority_and_what_an_operator_set() {
        let i = serde_json::json!({"name": "VI_1", "priority": 100, "effective_priority": 80, "priority_terms": [
            {"tracker": "interface eth1", "adds": 0, "state": "up"},
            {"tracker": "script chk_web", "adds": -20, "state": "failing"}]});
        assert_eq!(
            priority_why(&i).as_deref(),
            Some("VI_1 80 = 100 configured +0 interface eth1 (up) -20 script chk_web (failing)")
        );
        let bare = serde_json::json!({"name": "VI_1", "priority": 100, "effective_priority": 90});
        assert_eq!(priority_why(&bare).as_deref(), Some("VI_1 90 = 100 configured -10 from trackers"));
        let same = serde_json::json!({"name": "VI_1", "priority": 100, "effective_priority": 100});
        assert_eq!(priority_why(&same), None);
        let rs = serde_json::json!({"weight": 1, "weight_override": 5, "maintenance": {
            "target": {"scope": "virtual_server", "vs": "10.0.0.1:80"}, "mode": "quiescent", "reason": "patching"}});
        assert_eq!(weight_cell(&rs), "5 (was 1)");
        assert_eq!(admin_cell(&rs), "maintenance quiescent (VS): patching");
        assert_eq!(admin_cell(&serde_json::json!({"weight": 1})), "-");
    }

    #[test]
    fn events_read_as_one_line_each() {
        let e = serde_json::json!({"seq": 12, "at": 3_600.5, "type": "INSTANCE", "name": "VI_1", "state": "MASTER", "priority": 150});
        assert_eq!(render_event(&e), "   12 01:00:00.500Z INSTANCE VI_1 MASTER priority 150");
        let e = serde_json::json!({"seq": 3, "at": 0.0, "type": "RS", "rs": "[10.0.0.7]:tcp:80", "vs": "[10.0.0.3]:tcp:80", "state": "DOWN"});
        assert_eq!(render_event(&e), "    3 00:00:00.000Z RS [10.0.0.7]:tcp:80 of VS [10.0.0.3]:tcp:80 DOWN");
    }
}
