//! The exposition parses as the Prometheus text format and has the lines the docs promise; the
//! shipped dashboard and alert rules name only metrics it has.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::render;
use crate::status::Document;

/// A document with every kind of object: a BACKUP instance with a VIP and drops, a MASTER
/// without VIPs whose name needs escaping, real servers up and down, a check with latencies,
/// a failed reload.
fn every_kind() -> Document {
    let mut doc = crate::status::tests::sample();
    let mut master = doc.vrrp[0].clone();
    master.name = "VI \"2\"".into();
    master.interface = "eth1".into();
    master.vrid = 52;
    master.state = "MASTER".into();
    master.vips.clear();
    master.adverts_sent = 40;
    master.became_master = 1;
    master.conflicts = 3;
    master.drops = [("auth_mismatch", 4), ("malformed", 5), ("address_list", 6), ("advert_interval", 7)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    doc.vrrp.push(master);
    let (_, latencies) =
        doc.virtual_servers.iter_mut().flat_map(|vs| vs.latencies.iter_mut()).next().expect("the sample has a check");
    latencies.buckets[0] = 2;
    latencies.buckets[9] = 1;
    latencies.over = 1;
    latencies.sum = Duration::from_millis(12_500);
    doc
}

/// One sample: its name, labels and value.
#[derive(Debug, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn is_name(s: &str, colon: bool) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

/// Parses the Prometheus text format (version 0.0.4) strictly: names, quoting and escapes,
/// values, one TYPE per family before its samples, each family's samples together, the
/// histogram suffixes, no series twice.
fn parse(text: &str) -> Result<Vec<Sample>, String> {
    let mut samples = Vec::new();
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut closed: BTreeSet<String> = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        let err = |what: &str| format!("line {}: {what}: {line}", n + 1);
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').ok_or_else(|| err("TYPE without a type"))?;
            if !is_name(name, true) || !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                return Err(err("bad TYPE"));
            }
            if types.insert(name.to_string(), kind.to_string()).is_some() {
                return Err(err("second TYPE"));
            }
            if let Some(previous) = current.replace(name.to_string()) {
                closed.insert(previous);
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or_default();
            if !is_name(name, true) {
                return Err(err("bad HELP"));
            }
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (name, rest) = match line.find(['{', ' ']) {
            Some(i) => line.split_at(i),
            None => return Err(err("no value")),
        };
        if !is_name(name, true) {
            return Err(err("bad metric name"));
        }
        let mut labels = BTreeMap::new();
        let mut rest = rest;
        if let Some(mut body) = rest.strip_prefix('{') {
            loop {
                if let Some(after) = body.strip_prefix('}') {
                    rest = after;
                    break;
                }
                let (label, after) = body.split_once("=\"").ok_or_else(|| err("label without a quoted value"))?;
                if !is_name(label, false) {
                    return Err(err("bad label name"));
                }
                let mut value = String::new();
                let mut chars = after.char_indices();
                let end = loop {
                    match chars.next() {
                        Some((i, '"')) => break i,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, '\\')) => value.push('\\'),
                            Some((_, '"')) => value.push('"'),
                            Some((_, 'n')) => value.push('\n'),
                            _ => return Err(err("bad escape")),
                        },
                        Some((_, '\n')) | None => return Err(err("unterminated label value")),
                        Some((_, c)) => value.push(c),
                    }
                };
                if labels.insert(label.to_string(), value).is_some() {
                    return Err(err("label twice"));
                }
                body = &after[end + 1..];
                body = body.strip_prefix(',').unwrap_or(body);
            }
        }
        let mut words = rest.strip_prefix(' ').ok_or_else(|| err("no space before the value"))?.split(' ');
        let value = match words.next() {
            Some("+Inf") => f64::INFINITY,
            Some("-Inf") => f64::NEG_INFINITY,
            Some("NaN") => f64::NAN,
            Some(v) => v.parse::<f64>().map_err(|_| err("bad value"))?,
            None => return Err(err("no value")),
        };
        if let Some(timestamp) = words.next() {
            timestamp.parse::<i64>().map_err(|_| err("bad timestamp"))?;
        }
        if words.next().is_some() {
            return Err(err("trailing text"));
        }
        let family = current.as_deref().ok_or_else(|| err("sample before any TYPE"))?;
        let kind = types.get(family).map(String::as_str).unwrap_or_default();
        let belongs = match kind {
            "histogram" => {
                ["_bucket", "_sum", "_count"].iter().any(|s| name.strip_suffix(s) == Some(family))
                    && (!name.ends_with("_bucket") || labels.contains_key("le"))
            }
            _ => name == family,
        };
        if !belongs || closed.contains(family) {
            return Err(err("sample outside its family"));
        }
        if !seen.insert((name.to_string(), labels.clone())) {
            return Err(err("series twice"));
        }
        samples.push(Sample { name: name.to_string(), labels, value });
    }
    Ok(samples)
}

#[test]
fn the_parser_rejects_what_prometheus_rejects() {
    let ok = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\\\"\"} 2\n";
    assert_eq!(parse(ok).map(|s| s.len()), Ok(1));
    for bad in [
        "a 1\n",
        "# TYPE a gauge\na{x=1} 1\n",
        "# TYPE a gauge\na{x=\"1\"} one\n",
        "# TYPE a gauge\na{x=\"1\"} 1\na{x=\"1\"} 2\n",
        "# TYPE a gauge\n# TYPE b gauge\na 1\n",
        "# TYPE a gauge\n# TYPE a gauge\n",
        "# TYPE a gauge\na{x=\"\\t\"} 1\n",
        "# TYPE h histogram\nh_bucket 1\n",
    ] {
        assert!(parse(bad).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn the_exposition_parses_and_has_the_documented_lines() {
    let text = render(&every_kind());
    let samples = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    for want in [
        "# TYPE vigil_vrrp_transitions_total counter",
        "# TYPE vigil_check_latency_seconds histogram",
        "# TYPE keepalived_vrrp_state gauge",
        "# TYPE keepalived_vrrp_advert_rcvd untyped",
        "vigil_vrrp_state{instance=\"VI_1\",state=\"BACKUP\"} 1",
        "vigil_vrrp_state{instance=\"VI_1\",state=\"MASTER\"} 0",
        "vigil_vrrp_state{instance=\"VI \\\"2\\\"\",state=\"MASTER\"} 1",
        "vigil_vrrp_priority{instance=\"VI_1\"} 100",
        "vigil_vrrp_effective_priority{instance=\"VI_1\"} 90",
        "vigil_vrrp_adverts_received_total{instance=\"VI_1\"} 12",
        "vigil_vrrp_conflicts_total{instance=\"VI \\\"2\\\"\"} 3",
        "vigil_vrrp_dropped_total{instance=\"VI_1\",reason=\"bad_ttl\"} 2",
        "vigil_realserver_up{vs=\"FWM 1\",rs=\"[10.0.1.3]:tcp:80\"} 0",
        "vigil_realserver_weight{vs=\"FWM 1\",rs=\"[10.0.1.3]:tcp:80\"} 0",
        "vigil_check_latency_seconds_bucket{vs=\"[10.0.0.3]:tcp:80\",check=\"TCP_CHECK\",le=\"0.001\"} 2",
        "vigil_check_latency_seconds_bucket{vs=\"[10.0.0.3]:tcp:80\",check=\"TCP_CHECK\",le=\"1\"} 3",
        "vigil_check_latency_seconds_bucket{vs=\"[10.0.0.3]:tcp:80\",check=\"TCP_CHECK\",le=\"+Inf\"} 4",
        "vigil_check_latency_seconds_sum{vs=\"[10.0.0.3]:tcp:80\",check=\"TCP_CHECK\"} 12.5",
        "vigil_check_latency_seconds_count{vs=\"[10.0.0.3]:tcp:80\",check=\"TCP_CHECK\"} 4",
        "vigil_check_latency_seconds_bucket{vs=\"FWM 1\",check=\"HTTP_GET\",le=\"+Inf\"} 0",
        "vigil_ipvs_repairs_total 2",
        "vigil_reloads_total{outcome=\"ok\"} 1",
        "vigil_reloads_total{outcome=\"failed\"} 1",
        "vigil_config_last_reload_successful 0",
        "keepalived_up 1",
        "keepalived_vrrp_state{iname=\"VI_1\",intf=\"eth0\",vrid=\"51\",ip_address=\"192.0.2.100\"} 1",
        "keepalived_vrrp_state{iname=\"VI \\\"2\\\"\",intf=\"eth1\",vrid=\"52\",ip_address=\"\"} 2",
        "keepalived_advertisements_received_total{iname=\"VI_1\",intf=\"eth0\",vrid=\"51\"} 12",
        "keepalived_advertisements_sent_total{iname=\"VI \\\"2\\\"\",intf=\"eth1\",vrid=\"52\"} 40",
        "keepalived_become_master_total{iname=\"VI \\\"2\\\"\",intf=\"eth1\",vrid=\"52\"} 1",
        "keepalived_release_master_total{iname=\"VI_1\",intf=\"eth0\",vrid=\"51\"} 0",
        "keepalived_ip_ttl_errors_total{iname=\"VI_1\",intf=\"eth0\",vrid=\"51\"} 2",
        "keepalived_packet_length_errors_total{iname=\"VI \\\"2\\\"\",intf=\"eth1\",vrid=\"52\"} 5",
        "keepalived_authentication_failure_total{iname=\"VI \\\"2\\\"\",intf=\"eth1\",vrid=\"52\"} 4",
        "keepalived_address_list_errors_total{iname=\"VI \\\"2\\\"\",intf=\"eth1\",vrid=\"52\"} 6",
        "keepalived_advertisements_interval_errors_total{iname=\"VI \\\"2\\\"\",intf=\"eth1\",vrid=\"52\"} 7",
        "keepalived_vrrp_addr_list_err{name=\"VI \\\"2\\\"\",intf=\"eth1\",vrid=\"52\",state=\"MASTER\"} 6",
        "keepalived_vrrp_advert_rcvd{name=\"VI_1\",intf=\"eth0\",vrid=\"51\",state=\"BACKUP\"} 12",
        "keepalived_vrrp_ip_ttl_err{name=\"VI_1\",intf=\"eth0\",vrid=\"51\",state=\"BACKUP\"} 2",
        "keepalived_vrrp_auth_failure{name=\"VI \\\"2\\\"\",intf=\"eth1\",vrid=\"52\",state=\"MASTER\"} 4",
    ] {
        assert!(text.lines().any(|l| l == want), "no line {want}\n{text}");
    }
    // What the exporters have and the document does not is left out, not written as 0.
    let names: BTreeSet<&str> = samples.iter().map(|s| s.name.as_str()).collect();
    for absent in ["keepalived_priority_zero_sent_total", "keepalived_script_status", "keepalived_lvs_vip_conn"] {
        assert!(!names.contains(absent), "{absent} is written");
    }
    // Each instance is in exactly one state.
    for i in ["VI_1", "VI \"2\""] {
        let on = samples
            .iter()
            .filter(|s| s.name == "vigil_vrrp_state" && s.labels["instance"] == i && s.value == 1.0)
            .count();
        assert_eq!(on, 1, "{i}");
    }
}

/// promtool's own parser and linter, when it is installed (Debian package `prometheus`).
#[test]
fn promtool_accepts_the_exposition() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        println!("SKIP: promtool is not installed (Debian package prometheus)");
        return;
    };
    let text = render(&every_kind());
    child.stdin.take().expect("piped").write_all(text.as_bytes()).expect("promtool reads its input");
    let out = child.wait_with_output().expect("promtool runs");
    let complaints = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "promtool check metrics: {complaints}");
}

/// The metric names a PromQL expression reads: every identifier that is not a function, a
/// keyword, or a label in a matcher or a grouping list.
fn metric_names(expr: &str) -> Vec<String> {
    const KEYWORDS: [&str; 7] = ["and", "or", "unless", "bool", "offset", "inf", "nan"];
    const GROUPING: [&str; 6] = ["by", "without", "on", "ignoring", "group_left", "group_right"];
    // Aggregations may put their grouping before the parenthesis: `count by (vrid) (x)`.
    const AGGREGATIONS: [&str; 12] = [
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
    ];
    let chars: Vec<char> = expr.chars().collect();
    let mut names = Vec::new();
    let mut i = 0;
    // Skips to the character after the one closing what starts at `i`, strings included.
    let skip = |mut i: usize, close: char| -> usize {
        let mut quote = None;
        while i < chars.len() {
            match (quote, chars[i]) {
                (Some(_), '\\') => i += 1,
                (Some(q), c) if c == q => quote = None,
                (None, '"' | '\'' | '`') => quote = Some(chars[i]),
                (None, c) if c == close => return i + 1,
                _ => {}
            }
            i += 1;
        }
        i
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '{' => i = skip(i + 1, '}'),
            '[' => i = skip(i + 1, ']'),
            '"' | '\'' | '`' => i = skip(i + 1, c),
            c if c.is_ascii_digit() || c == '.' => {
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let mut next = i;
                while next < chars.len() && chars[next].is_whitespace() {
                    next += 1;
                }
                let call = chars.get(next) == Some(&'(');
                if GROUPING.contains(&word.as_str()) {
                    if call {
                        i = skip(next + 1, ')');
                    }
                } else if !call
                    && !AGGREGATIONS.contains(&word.as_str())
                    && !KEYWORDS.contains(&word.to_ascii_lowercase().as_str())
                {
                    names.push(word);
                }
            }
            _ => i += 1,
        }
    }
    names
}

#[test]
fn metric_names_are_found_in_promql() {
    let expr = "count by (vrid) (max by (instance, vrid) (keepalived_vrrp_state{state=~\"M.*\"} offset 5m) == 2) > 1 \
                unless on(vrid) sum(rate(vigil_vrrp_conflicts_total[5m])) without (x) or vector(0) and inf";
    assert_eq!(metric_names(expr), ["keepalived_vrrp_state", "vigil_vrrp_conflicts_total"]);
    assert_eq!(metric_names("histogram_quantile(0.99, sum by (le) (rate(a_bucket[1m])))"), ["a_bucket"]);
}

/// The PromQL expressions of a Prometheus rules file: each `expr:` value, plain, quoted or a
/// block scalar.
fn rule_expressions(yaml: &str) -> Vec<String> {
    let lines: Vec<&str> = yaml.lines().collect();
    let mut out = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let Some(at) = line.find("expr:") else { continue };
        if !line[..at].trim_start_matches(['-', ' ']).is_empty() {
            continue;
        }
        let value = line[at + "expr:".len()..].trim();
        if value.starts_with('|') || value.starts_with('>') {
            let indent = at;
            let body: Vec<&str> = lines[n + 1..]
                .iter()
                .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > indent)
                .map(|l| l.trim())
                .collect();
            out.push(body.join(" "));
        } else if let Some(quoted) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
            out.push(quoted.replace("''", "'"));
        } else if let Some(quoted) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            out.push(quoted.replace("\\\"", "\"").replace("\\\\", "\\"));
        } else {
            out.push(value.to_string());
        }
    }
    out
}

/// Every `expr` of the dashboard's targets.
fn dashboard_expressions(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("expr", serde_json::Value::String(e)) => out.push(e.clone()),
                    _ => dashboard_expressions(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| dashboard_expressions(v, out)),
        _ => {}
    }
}

#[test]
fn the_dashboard_and_the_rules_name_only_exported_metrics() {
    let exported: BTreeSet<String> =
        parse(&render(&every_kind())).expect("the exposition parses").into_iter().map(|s| s.name).collect();
    let rules = rule_expressions(include_str!("../../../../docs/prometheus/vigil-rules.yml"));
    let dashboard: serde_json::Value =
        serde_json::from_str(include_str!("../../../../docs/grafana/vigil.json")).expect("the dashboard is JSON");
    let mut panels = Vec::new();
    dashboard_expressions(&dashboard, &mut panels);
    assert!(rules.len() >= 5, "rules: {rules:?}");
    assert!(panels.len() >= 8, "dashboard: {panels:?}");
    let mut used = BTreeSet::new();
    for expr in rules.iter().chain(&panels) {
        let names = metric_names(expr);
        assert!(!names.is_empty(), "no metric in {expr}");
        for name in names {
            assert!(exported.contains(&name), "{name} (in {expr}) is not exported; exported: {exported:#?}");
            used.insert(name);
        }
    }
    // The alerts the docs promise read the series they are about.
    for name in ["keepalived_vrrp_state", "vigil_vrrp_conflicts_total", "vigil_config_last_reload_successful"] {
        assert!(used.contains(name), "nothing reads {name}");
    }
}

#[test]
fn rule_expressions_are_read_in_every_yaml_form() {
    let yaml = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: a > 1\n      - alert: B\n        \
                expr: 'b{x=\"y\"} == 0'\n      - alert: C\n        expr: |\n          sum(c)\n            > 0\n        \
                for: 1m\n      - record: d\n        expr: >-\n          rate(d_total[5m])\n";
    assert_eq!(rule_expressions(yaml), ["a > 1", "b{x=\"y\"} == 0", "sum(c) > 0", "rate(d_total[5m])"]);
}

#[test]
fn every_family_written_is_documented() {
    let docs = include_str!("../../../../docs/status.md");
    let section = &docs[docs.find("## Metrics").expect("a Metrics section")..];
    let text = render(&every_kind());
    let families: Vec<&str> =
        text.lines().filter_map(|l| l.strip_prefix("# TYPE ")).filter_map(|l| l.split(' ').next()).collect();
    assert!(families.len() > 20, "{families:?}");
    for name in families {
        assert!(section.contains(&format!("`{name}`")), "{name} is not in docs/status.md's Metrics section");
    }
}
