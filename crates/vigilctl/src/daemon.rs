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
        other => format!("{other} {e}"),
    };
    format!("{:>5} {time}Z {what}", s(&e["seq"]))
}

/// Colours for a terminal, none otherwise (or with NO_COLOR set).
struct Paint(bool);

impl Paint {
    fn detect() -> Paint {
        Paint(std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none())
    }

    /// `text` in the colour its word calls for, padded to `width`.
    fn word(&self, text: &str, width: usize) -> String {
        let code = match text {
            "MASTER" | "up" | "ok" => "32",
            "BACKUP" => "33",
            "FAULT" | "down" | "failed" => "31",
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

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// "3m12s ago" from a Unix time in seconds.
fn ago(at: &Value) -> String {
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
fn table(out: &mut String, header: &[&str], rows: &[Vec<String>], coloured: &[usize], paint: &Paint, indent: &str) {
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
                    vec![s(&rs["name"]), up.into(), s(&rs["weight"]), checks.join("; "), ago(&rs["since"])]
                })
                .collect();
            table(&mut out, &["REAL SERVER", "STATE", "WEIGHT", "LAST CHECK", "SINCE"], &rows, &[1], &paint, "  ");
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
    out
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
        out.push_str("reload failed; vigild still runs the previous configuration:\n");
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
    fn events_read_as_one_line_each() {
        let e = serde_json::json!({"seq": 12, "at": 3_600.5, "type": "INSTANCE", "name": "VI_1", "state": "MASTER", "priority": 150});
        assert_eq!(render_event(&e), "   12 01:00:00.500Z INSTANCE VI_1 MASTER priority 150");
        let e = serde_json::json!({"seq": 3, "at": 0.0, "type": "RS", "rs": "[10.0.0.7]:tcp:80", "vs": "[10.0.0.3]:tcp:80", "state": "DOWN"});
        assert_eq!(render_event(&e), "    3 00:00:00.000Z RS [10.0.0.7]:tcp:80 of VS [10.0.0.3]:tcp:80 DOWN");
    }
}
