//! ldirectord.cf to keepalived.conf.
//!
//! [`parse`] reads the file's structure the way ldirectord does (a `virtual =` line at column
//! 0, then its directives indented by at least 4 spaces or a tab; `#` starts a comment), but
//! where ldirectord would stop with "Unknown command" on a directive that plainly belongs to the
//! virtual service above it (not indented, or after a blank line), it takes it as such and says
//! so. [`convert`] then gives each virtual service ldirectord's settings, a per-virtual value
//! overriding the global one, and builds the keepalived statements.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::emit::{writable, Item};
use super::{service_port, Conversion, Issue, Method, Severity, SCHEDULERS};

/// One `key = value` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    pub line: usize,
    pub key: String,
    /// The value, comment and surrounding blanks removed.
    pub value: String,
    /// The line as written (trimmed), for the comments of the output.
    pub text: String,
}

/// A `virtual =` or `virtual6 =` line and the directives under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Virtual {
    pub head: Directive,
    pub body: Vec<Directive>,
}

/// An ldirectord.cf, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct File {
    pub globals: Vec<Directive>,
    pub virtuals: Vec<Virtual>,
}

/// Directives ldirectord accepts outside a virtual service.
const GLOBAL_KEYS: &[&str] = &[
    "checktimeout",
    "connecttimeout",
    "negotiatetimeout",
    "checkinterval",
    "checkcount",
    "failurecount",
    "fallback",
    "fallback6",
    "fallbackcommand",
    "autoreload",
    "callback",
    "logfile",
    "execute",
    "fork",
    "supervised",
    "quiescent",
    "readdquiescent",
    "emailalert",
    "emailalertfreq",
    "emailalertstatus",
    "emailalertfrom",
    "cleanstop",
    "smtp",
    "maintenancedir",
];

/// Directives ldirectord accepts inside a virtual service.
const VIRTUAL_KEYS: &[&str] = &[
    "real",
    "real6",
    "request",
    "receive",
    "checktype",
    "checkcommand",
    "checktimeout",
    "connecttimeout",
    "negotiatetimeout",
    "checkcount",
    "failurecount",
    "checkinterval",
    "checkport",
    "login",
    "passwd",
    "database",
    "secret",
    "load",
    "scheduler",
    "persistent",
    "netmask",
    "protocol",
    "ops",
    "service",
    "httpmethod",
    "virtualhost",
    "fallback",
    "fallback6",
    "fallbackcommand",
    "quiescent",
    "emailalert",
    "emailalertfreq",
    "emailalertstatus",
    "monitorfile",
    "cleanstop",
    "smtp",
];

/// The line without its comment: from the first `#` outside double quotes (ldirectord cuts at
/// any `#` in a virtual section; keeping a quoted one lets `receive = "#1"` through).
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '#' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

fn directive(line: usize, raw: &str) -> Directive {
    let body = strip_comment(raw).trim();
    let (key, value) = match body.split_once('=') {
        Some((k, v)) => (k.trim(), v.trim()),
        None => (body, ""),
    };
    Directive { line, key: key.to_string(), value: value.to_string(), text: raw.trim().to_string() }
}

/// Indentation width with a tab counted as 4 spaces, as ldirectord expands it.
fn indent_width(raw: &str) -> usize {
    raw.chars().take_while(|c| *c == ' ' || *c == '\t').map(|c| if c == '\t' { 4 } else { 1 }).sum()
}

/// The structure of an ldirectord.cf.
pub fn parse(text: &str) -> (File, Vec<Issue>) {
    let mut file = File::default();
    let mut issues = Vec::new();
    // Where ldirectord's reading of the current virtual section stopped (a blank line, or a
    // directive at column 0), if it did.
    let mut ended_at: Option<usize> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            if !file.virtuals.is_empty() && ended_at.is_none() {
                ended_at = Some(line);
            }
            continue;
        }
        if trimmed.starts_with('#') {
            continue;
        }
        let d = directive(line, raw);
        let indented = indent_width(raw) > 0;
        if !indented && (d.key == "virtual" || d.key == "virtual6") {
            file.virtuals.push(Virtual { head: d, body: Vec::new() });
            ended_at = None;
            continue;
        }
        let Some(current) = file.virtuals.last_mut() else {
            if indented && VIRTUAL_KEYS.contains(&d.key.as_str()) && !GLOBAL_KEYS.contains(&d.key.as_str()) {
                issues.push(Issue::new(line, Severity::Dropped, format!("'{}' outside any virtual service", d.key)));
            } else if GLOBAL_KEYS.contains(&d.key.as_str()) {
                if indented {
                    issues.push(Issue::new(
                        line,
                        Severity::Guessed,
                        format!(
                            "'{}' is indented but no virtual service precedes it; taken as a global setting",
                            d.key
                        ),
                    ));
                }
                file.globals.push(d);
            } else {
                issues.push(Issue::new(line, Severity::Dropped, format!("unknown directive '{}'", d.key)));
            }
            continue;
        };
        let start = current.head.line;
        if indented {
            if let Some(end) = ended_at {
                issues.push(Issue::new(
                    line,
                    Severity::Guessed,
                    format!(
                        "ldirectord ends the virtual service of line {start} at line {end} and stops here (Unknown command); taken as part of that virtual service"
                    ),
                ));
            } else if indent_width(raw) < 4 {
                issues.push(Issue::new(
                    line,
                    Severity::Guessed,
                    format!(
                        "indented by fewer than 4 spaces: ldirectord stops here (Unknown command); taken as part of the virtual service of line {start}"
                    ),
                ));
            }
            current.body.push(d);
            continue;
        }
        let key = d.key.as_str();
        if GLOBAL_KEYS.contains(&key) {
            // ldirectord reads it as a global setting, whatever comes before it.
            ended_at.get_or_insert(line);
            file.globals.push(d);
        } else if VIRTUAL_KEYS.contains(&key) {
            issues.push(Issue::new(
                line,
                Severity::Guessed,
                format!(
                    "'{key}' is not indented: ldirectord stops here (Unknown command); taken as part of the virtual service of line {start}"
                ),
            ));
            current.body.push(d);
        } else {
            issues.push(Issue::new(line, Severity::Dropped, format!("unknown directive '{key}'")));
        }
    }
    (file, issues)
}

// ---------------------------------------------------------------------------------------------
// Values

/// A quoted value's inside (ldirectord strips one pair of quotes), else the value.
fn unquote(v: &str) -> &str {
    v.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(v)
}

/// A number as ldirectord reads it: the first run of digits in the value. Whatever else the
/// value holds is lost, in ldirectord and here, so it is reported.
fn number(d: &Directive, issues: &mut Vec<Issue>, zero_ok: bool) -> Option<u32> {
    let start = d.value.find(|c: char| c.is_ascii_digit());
    let Some(start) = start else {
        issues.push(Issue::new(d.line, Severity::Dropped, format!("{}: '{}' is not a number", d.key, d.value)));
        return None;
    };
    let digits: String = d.value[start..].chars().take_while(char::is_ascii_digit).collect();
    let rest = format!("{}{}", &d.value[..start], &d.value[start + digits.len()..]);
    let Ok(n) = digits.parse::<u32>() else {
        issues.push(Issue::new(d.line, Severity::Dropped, format!("{}: {digits} is too large", d.key)));
        return None;
    };
    if n == 0 && !zero_ok {
        issues.push(Issue::new(d.line, Severity::Dropped, format!("{}: 0 is not allowed", d.key)));
        return None;
    }
    if !rest.trim().is_empty() {
        issues.push(Issue::new(
            d.line,
            Severity::Dropped,
            format!(
                "{}: read as {n}; the rest of the line ('{}') is ignored, as ldirectord ignores it",
                d.key,
                rest.trim()
            ),
        ));
    }
    Some(n)
}

fn yes_no(d: &Directive, issues: &mut Vec<Issue>) -> Option<bool> {
    match d.value.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        other => {
            issues.push(Issue::new(
                d.line,
                Severity::Dropped,
                format!("{} must be 'yes' or 'no', not '{other}'", d.key),
            ));
            None
        }
    }
}

/// `HOST[:PORT]` or `[V6][:PORT]`; the port stays `None` when absent.
fn host_port(s: &str, v6: bool) -> Result<(IpAddr, Option<u16>), String> {
    let (host, port) = if v6 {
        let inner =
            s.strip_prefix('[').ok_or_else(|| format!("'{s}' is not a bracketed IPv6 address ([2001:db8::1]:80)"))?;
        let (addr, rest) = inner.split_once(']').ok_or_else(|| format!("'{s}' lacks the closing ']'"))?;
        let port = match rest {
            "" => None,
            r => Some(r.strip_prefix(':').ok_or_else(|| format!("'{s}': expected ':PORT' after ']'"))?),
        };
        (addr, port)
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let ip: IpAddr = if v6 {
        host.parse::<Ipv6Addr>().map(IpAddr::V6).map_err(|_| format!("'{host}' is not an IPv6 address"))?
    } else {
        host.parse::<Ipv4Addr>()
            .map(IpAddr::V4)
            .map_err(|_| format!("'{host}' is not an IPv4 address (host names are not resolved: write the address)"))?
    };
    let port = match port {
        None => None,
        Some(p) => Some(service_port(p).ok_or_else(|| format!("unknown port or service name '{p}'"))?),
    };
    Ok((ip, port))
}

/// Where a virtual service listens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    Addr(IpAddr, u16),
    Fwmark(u32),
}

fn virtual_key(d: &Directive) -> Result<Key, String> {
    let v6 = d.key == "virtual6";
    let word = d.value.split_whitespace().next().unwrap_or("");
    if !word.is_empty() && word.chars().all(|c| c.is_ascii_digit()) {
        return match word.parse::<u32>() {
            Ok(m) if m > 0 => Ok(Key::Fwmark(m)),
            _ => Err(format!("firewall mark '{word}' is not a number from 1")),
        };
    }
    if !v6 && word.starts_with('[') {
        return Err("an IPv6 address needs 'virtual6 =', as ldirectord requires".into());
    }
    match host_port(word, v6)? {
        (ip, Some(port)) => Ok(Key::Addr(ip, port)),
        (_, None) => Err(format!("'{word}' has no port")),
    }
}

/// `real = IP[->IP][:PORT] gate|masq|ipip [WEIGHT] ["REQUEST", "RECEIVE"]`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Real {
    ips: Vec<IpAddr>,
    port: u16,
    method: Method,
    weight: u32,
    request: Option<String>,
    receive: Option<String>,
}

/// More addresses than this in one range are refused: a typo, not a pool.
const MAX_RANGE: u32 = 4096;

fn forward(word: &str) -> Option<Method> {
    match word {
        "gate" => Some(Method::Dr),
        "masq" => Some(Method::Nat),
        "ipip" => Some(Method::TUN),
        _ => None,
    }
}

fn parse_real(value: &str, v6: bool) -> Result<Real, String> {
    let value = value.trim();
    let (addr, flags) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
    let (first, last_port) = match addr.split_once("->") {
        Some((a, b)) => (a, Some(b)),
        None => (addr, None),
    };
    let (ips, port) = match last_port {
        None => {
            let (ip, port) = host_port(first, v6)?;
            (vec![ip], port)
        }
        Some(last) => {
            if v6 {
                return Err("address ranges are IPv4 only, as in ldirectord".into());
            }
            let (a, _) = host_port(first, false)?;
            let (b, port) = host_port(last, false)?;
            let (IpAddr::V4(a), IpAddr::V4(b)) = (a, b) else { return Err("not an IPv4 range".into()) };
            let (a, b) = (u32::from(a), u32::from(b));
            if a > b {
                return Err(format!("range {addr}: the first address is above the last"));
            }
            if b - a >= MAX_RANGE {
                return Err(format!("range {addr} holds more than {MAX_RANGE} addresses"));
            }
            ((a..=b).map(|i| IpAddr::V4(Ipv4Addr::from(i))).collect(), port)
        }
    };
    let mut words = flags.trim_start();
    let (fwd, rest) = words.split_once(char::is_whitespace).unwrap_or((words, ""));
    let method = forward(fwd).ok_or_else(|| format!("forward method must be gate, masq or ipip, not '{fwd}'"))?;
    words = rest.trim_start();
    let mut weight = 1;
    let digits: String = words.chars().take_while(char::is_ascii_digit).collect();
    if !digits.is_empty() {
        weight = digits.parse::<u32>().map_err(|_| format!("weight {digits} is too large"))?;
        words = words[digits.len()..].trim_start();
    }
    let (mut request, mut receive) = (None, None);
    if let Some(inner) = words.strip_prefix('"') {
        let (req, rest) = inner.split_once('"').ok_or("unterminated request string")?;
        let rest = rest.trim_start().strip_prefix(',').unwrap_or(rest).trim_start();
        let rec_inner = rest.strip_prefix('"').ok_or("a request string needs a receive string after it")?;
        let (rec, rest) = rec_inner.rsplit_once('"').ok_or("unterminated receive string")?;
        request = Some(if req.starts_with('/') { req.to_string() } else { format!("/{req}") });
        receive = Some(rec.to_string());
        words = rest.trim();
    }
    if !words.is_empty() {
        return Err(format!("unexpected text '{words}'"));
    }
    Ok(Real { ips, port: port.unwrap_or(0), method, weight, request, receive })
}

/// `fallback = HOST[:PORT] [gate|masq|ipip]`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Fallback {
    ip: IpAddr,
    port: Option<u16>,
    method: Method,
    line: usize,
    text: String,
}

fn parse_fallback(d: &Directive) -> Result<Fallback, String> {
    let v6 = d.key == "fallback6";
    let mut words = d.value.split_whitespace();
    let server = words.next().ok_or("no server given")?;
    let method = match words.next() {
        None => Method::Dr,
        Some(w) => forward(w).ok_or_else(|| format!("forward method must be gate, masq or ipip, not '{w}'"))?,
    };
    if let Some(extra) = words.next() {
        return Err(format!("unexpected text '{extra}'"));
    }
    let (ip, port) = host_port(server, v6)?;
    Ok(Fallback { ip, port, method, line: d.line, text: d.text.clone() })
}

// ---------------------------------------------------------------------------------------------
// Settings, global and per virtual

/// Settings that may be global or per virtual service (the virtual's win).
#[derive(Clone, Debug, Default)]
struct Common {
    checktimeout: Option<u32>,
    negotiatetimeout: Option<u32>,
    checkinterval: Option<(u32, usize)>,
    checkcount: Option<u32>,
    failurecount: Option<u32>,
    fallback: Option<Fallback>,
    fallback6: Option<Fallback>,
    fallbackcommand: Option<(String, usize)>,
    quiescent: Option<bool>,
    emailalert: Option<(Vec<String>, usize, String)>,
    smtp: Option<(String, usize, String)>,
}

/// Applies a directive both levels know; false when it is not one of them.
fn common(d: &Directive, c: &mut Common, issues: &mut Vec<Issue>) -> bool {
    match d.key.as_str() {
        "checktimeout" => c.checktimeout = number(d, issues, false).or(c.checktimeout),
        "negotiatetimeout" => c.negotiatetimeout = number(d, issues, false).or(c.negotiatetimeout),
        "connecttimeout" => {
            issues.push(Issue::new(
                d.line,
                Severity::Guessed,
                "ldirectord refuses connecttimeout (deprecated in favour of negotiatetimeout); read as negotiatetimeout",
            ));
            c.negotiatetimeout = number(d, issues, false).or(c.negotiatetimeout);
        }
        "checkinterval" => {
            if let Some(n) = number(d, issues, false) {
                c.checkinterval = Some((n, d.line));
            }
        }
        "checkcount" => c.checkcount = number(d, issues, false).or(c.checkcount),
        "failurecount" => c.failurecount = number(d, issues, false).or(c.failurecount),
        "fallback" | "fallback6" => match parse_fallback(d) {
            Ok(f) if d.key == "fallback" => c.fallback = Some(f),
            Ok(f) => c.fallback6 = Some(f),
            Err(e) => issues.push(Issue::new(d.line, Severity::Dropped, format!("{}: {e}", d.key))),
        },
        "fallbackcommand" => {
            let cmd = unquote(&d.value);
            if cmd.is_empty() || !writable(cmd) {
                issues.push(Issue::new(d.line, Severity::Dropped, "fallbackcommand: no usable command"));
            } else {
                c.fallbackcommand = Some((cmd.to_string(), d.line));
            }
        }
        "quiescent" => c.quiescent = yes_no(d, issues).or(c.quiescent),
        "emailalert" => {
            let addrs: Vec<String> =
                unquote(&d.value).split(',').map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect();
            let (good, bad): (Vec<String>, Vec<String>) = addrs.into_iter().partition(|a| is_email(a));
            // keepalived wants the bare address.
            let good: Vec<String> = good.iter().map(|a| a.trim_matches(['<', '>']).to_string()).collect();
            for b in &bad {
                issues.push(Issue::new(
                    d.line,
                    Severity::Dropped,
                    format!("emailalert: '{b}' is not an e-mail address (a web page's hidden-address placeholder?)"),
                ));
            }
            c.emailalert = Some((good, d.line, d.text.clone()));
        }
        "emailalertfreq" => {
            if number(d, issues, true).is_some_and(|n| n > 0) {
                issues.push(Issue::new(
                    d.line,
                    Severity::Dropped,
                    "emailalertfreq: keepalived mails once per state change and sends no reminders",
                ));
            }
        }
        "emailalertstatus" => {
            if d.value.split(',').map(str::trim).any(|s| s != "all") {
                issues.push(Issue::new(
                    d.line,
                    Severity::Dropped,
                    "emailalertstatus: keepalived alerts on every real server change, whatever the daemon is doing",
                ));
            }
        }
        "smtp" => {
            let host = d.value.split_whitespace().next().unwrap_or("");
            if host.is_empty() {
                issues.push(Issue::new(d.line, Severity::Dropped, "smtp: no server given"));
            } else {
                c.smtp = Some((host.to_string(), d.line, d.text.clone()));
            }
        }
        "cleanstop" => {
            if yes_no(d, issues) == Some(false) {
                issues.push(Issue::new(
                    d.line,
                    Severity::Note,
                    "cleanstop = no: a command-line setting for vigild: run it with -I (--dont-release-ipvs)",
                ));
            }
        }
        _ => return false,
    }
    true
}

fn is_email(a: &str) -> bool {
    let a = a.trim_matches(['<', '>']);
    match a.split_once('@') {
        Some((user, host)) => {
            !user.is_empty() && !host.is_empty() && !a.contains(char::is_whitespace) && !host.contains('@')
        }
        None => false,
    }
}

/// Global settings only ldirectord's own process uses, and the rest.
#[derive(Clone, Debug, Default)]
struct Globals {
    common: Common,
    fork: bool,
    emailalertfrom: Option<(String, usize)>,
    lines: Vec<(usize, String)>,
}

fn globals(file: &File, issues: &mut Vec<Issue>) -> Globals {
    let mut g = Globals::default();
    for d in &file.globals {
        if common(d, &mut g.common, issues) {
            continue;
        }
        let (severity, message) = match d.key.as_str() {
            "autoreload" => match yes_no(d, issues) {
                Some(true) => (
                    Severity::Note,
                    "keepalived does not watch its own file: enable the reload path unit (docs/migrating.md) for the same effect",
                ),
                _ => continue,
            },
            "callback" => (Severity::Dropped, "keepalived runs no command when its file changes"),
            "logfile" => (Severity::Note, "vigild logs to syslog (the journal under systemd); there is no log file setting"),
            "execute" => {
                (Severity::Dropped, "execute starts ldirectord for another file: convert that file too, and merge the output")
            }
            "fork" => {
                g.fork = yes_no(d, issues) == Some(true);
                if !g.fork {
                    continue;
                }
                (Severity::Note, "vigild checks all real servers concurrently; fork has no equivalent and needs none")
            }
            "supervised" => match yes_no(d, issues) {
                Some(true) => (Severity::Note, "run vigild in the foreground with -n (--dont-fork) instead"),
                _ => continue,
            },
            "readdquiescent" => match yes_no(d, issues) {
                Some(true) => (Severity::Dropped, "keepalived does not add back a real server removed by hand"),
                _ => continue,
            },
            "emailalertfrom" => {
                let from = unquote(&d.value);
                // keepalived takes a bare address; ldirectord also accepts `"Name" <address>`.
                let addr = match (from.rfind('<'), from.rfind('>')) {
                    (Some(a), Some(b)) if a < b => &from[a + 1..b],
                    _ => from,
                };
                if is_email(addr) && writable(addr) {
                    g.emailalertfrom = Some((addr.to_string(), d.line));
                    g.lines.push((d.line, d.text.clone()));
                    if addr != from {
                        (Severity::Note, "keepalived takes the bare address; the display name is left out")
                    } else {
                        continue;
                    }
                } else {
                    (Severity::Dropped, "emailalertfrom: not an e-mail address")
                }
            }
            "maintenancedir" => (Severity::Dropped, "keepalived has no maintenance directory; set a real server's weight to 0 instead"),
            _ => (Severity::Dropped, "not a global directive"),
        };
        issues.push(Issue::new(d.line, severity, format!("{}: {message}", d.key)));
    }
    g
}

// ---------------------------------------------------------------------------------------------
// Checks

/// ldirectord's checktype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CheckType {
    Connect,
    Negotiate,
    /// A number N: N connect checks, then one negotiate check.
    Combined(u32),
    Ping,
    External,
    ExternalPerl,
    On,
    Off,
}

fn checktype(value: &str) -> Option<CheckType> {
    // ldirectord takes any value holding digits as the combined check.
    let digits: String = value.chars().skip_while(|c| !c.is_ascii_digit()).take_while(char::is_ascii_digit).collect();
    if let Ok(n) = digits.parse::<u32>() {
        return Some(CheckType::Combined(n));
    }
    let word: String = value.chars().take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_').collect();
    Some(match word.as_str() {
        "connect" => CheckType::Connect,
        "negotiate" => CheckType::Negotiate,
        "ping" => CheckType::Ping,
        "external" => CheckType::External,
        "external-perl" => CheckType::ExternalPerl,
        "on" => CheckType::On,
        "off" => CheckType::Off,
        _ => return None,
    })
}

const SERVICES: &[&str] = &[
    "dns",
    "ftp",
    "http",
    "https",
    "http_proxy",
    "imap",
    "imaps",
    "ldap",
    "nntp",
    "mysql",
    "none",
    "oracle",
    "pop",
    "pops",
    "radius",
    "pgsql",
    "sip",
    "smtp",
    "submission",
    "simpletcp",
];

/// ldirectord's service for a port it knows (ld_port_to_service).
fn port_service(port: u16) -> &'static str {
    match port {
        21 => "ftp",
        25 => "smtp",
        53 => "dns",
        80 => "http",
        110 => "pop",
        119 => "nntp",
        143 => "imap",
        389 => "ldap",
        443 => "https",
        587 => "submission",
        993 => "imaps",
        995 => "pops",
        1521 => "oracle",
        1812 => "radius",
        3128 => "http_proxy",
        3306 => "mysql",
        5060 => "sip",
        5432 => "pgsql",
        _ => "none",
    }
}

/// ldirectord's port for a service (ld_service_to_port).
fn service_default_port(service: &str) -> Option<u16> {
    Some(match service {
        "ftp" => 21,
        "smtp" => 25,
        "dns" => 53,
        "http" => 80,
        "pop" => 110,
        "nntp" => 119,
        "imap" => 143,
        "ldap" => 389,
        "https" => 443,
        "submission" => 587,
        "imaps" => 993,
        "pops" => 995,
        "oracle" => 1521,
        "radius" => 1812,
        "http_proxy" => 3128,
        "mysql" => 3306,
        "sip" => 5060,
        "pgsql" => 5432,
        _ => return None,
    })
}

/// What a real server is checked with.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Probe {
    Tcp,
    Udp,
    Http { tls: bool },
    Smtp,
    Dns,
    Ping,
    Misc(String),
}

/// Everything needed to build one virtual_server.
struct VirtualSettings {
    key: Key,
    udp: bool,
    checktype: CheckType,
    service: String,
    checkcommand: String,
    request: String,
    receive: String,
    virtualhost: Option<String>,
    checkport: Option<u16>,
    check_timeout: u32,
    negotiate_timeout: u32,
    interval: u32,
    retry: u32,
    line: usize,
}

impl VirtualSettings {
    /// The negotiate probe for the service, and why it falls short of ldirectord's if it does.
    fn negotiate_probe(&self) -> (Option<Probe>, Option<String>) {
        let s = self.service.as_str();
        match s {
            "none" => (None, None),
            "http" => (Some(Probe::Http { tls: false }), None),
            "https" => (Some(Probe::Http { tls: true }), None),
            "smtp" | "submission" => (Some(Probe::Smtp), None),
            "dns" => (Some(Probe::Dns), None),
            _ => {
                let probe = if self.udp { Probe::Udp } else { Probe::Tcp };
                let what = if self.udp { "a UDP_CHECK" } else { "a TCP connect check (TCP_CHECK)" };
                (
                    Some(probe),
                    Some(format!("keepalived has no {s} check; {what} stands in for ldirectord's {s} negotiation")),
                )
            }
        }
    }
}

/// The checker blocks of one real server, and the port the real_server line shows.
fn checkers(
    v: &VirtualSettings,
    real: &Real,
    ip: IpAddr,
    shown_port: Option<u16>,
    issues: &mut Vec<Issue>,
) -> Vec<Item> {
    let mut probes: Vec<(Probe, u32, Option<u32>)> = Vec::new(); // probe, timeout, own delay_loop
    match v.checktype {
        CheckType::On => {}
        CheckType::Off => probes.push((Probe::Misc("/bin/false".into()), v.check_timeout, None)),
        CheckType::Ping => probes.push((Probe::Ping, v.check_timeout, None)),
        CheckType::Connect if v.udp => probes.push((Probe::Ping, v.check_timeout, None)),
        CheckType::Connect => probes.push((Probe::Tcp, v.check_timeout, None)),
        CheckType::External | CheckType::ExternalPerl => {
            let (vip, vport) = match v.key {
                Key::Addr(ip, port) => (ip.to_string(), port),
                Key::Fwmark(m) => (m.to_string(), 0),
            };
            let cmd = format!("{} {vip} {vport} {ip} {}", v.checkcommand, real.port);
            probes.push((Probe::Misc(cmd), v.check_timeout, None));
        }
        CheckType::Negotiate => {
            if let (Some(p), _) = v.negotiate_probe() {
                probes.push((p, v.negotiate_timeout, None));
            }
        }
        CheckType::Combined(n) => {
            probes.push((Probe::Tcp, v.check_timeout, None));
            if let (Some(p), _) = v.negotiate_probe() {
                probes.push((p, v.negotiate_timeout, Some(v.interval.saturating_mul(n.saturating_add(1)))));
            }
        }
    }
    let check_port = v
        .checkport
        .or((real.port > 0).then_some(real.port))
        .or_else(|| service_default_port(&v.service))
        .or(shown_port);
    let mut out = Vec::new();
    for (probe, timeout, delay_loop) in probes {
        let needs_port = matches!(probe, Probe::Tcp | Probe::Udp | Probe::Http { .. } | Probe::Smtp | Probe::Dns);
        let (name, mut body) = match &probe {
            Probe::Tcp => ("TCP_CHECK", Vec::new()),
            Probe::Udp => ("UDP_CHECK", Vec::new()),
            Probe::Ping => ("PING_CHECK", Vec::new()),
            Probe::Smtp => ("SMTP_CHECK", Vec::new()),
            Probe::Dns => ("DNS_CHECK", dns_items(v, issues)),
            Probe::Http { tls } => (if *tls { "SSL_GET" } else { "HTTP_GET" }, http_items(v, real, issues)),
            Probe::Misc(cmd) => ("MISC_CHECK", vec![Item::line(&["misc_path", cmd.as_str()])]),
        };
        // A request URL already names the port to ask.
        let has_port =
            body.iter().any(|i| matches!(i, Item::Line(w) if w.first().is_some_and(|k| k == "connect_port")));
        if needs_port && !has_port {
            match check_port {
                Some(p) if p > 0 => {
                    if Some(p) != shown_port {
                        body.push(Item::line(&["connect_port".to_string(), p.to_string()]));
                    }
                }
                _ => {
                    issues.push(Issue::new(
                        v.line,
                        Severity::Dropped,
                        format!("real server {ip}: no port to check (set checkport, or a port on the real line)"),
                    ));
                    continue;
                }
            }
        }
        if let Probe::Misc(_) = probe {
            body.push(Item::line(&["misc_timeout".to_string(), timeout.to_string()]));
        } else {
            body.push(Item::line(&["connect_timeout".to_string(), timeout.to_string()]));
        }
        if let Some(d) = delay_loop {
            body.push(Item::line(&["delay_loop".to_string(), d.to_string()]));
        }
        body.push(Item::line(&["retry".to_string(), v.retry.to_string()]));
        if v.retry > 0 {
            body.push(Item::line(&["delay_before_retry".to_string(), v.interval.to_string()]));
        }
        out.push(Item::block(&[name], body));
    }
    out
}

fn http_items(v: &VirtualSettings, real: &Real, issues: &mut Vec<Issue>) -> Vec<Item> {
    let request = real.request.clone().unwrap_or_else(|| v.request.clone());
    let receive = real.receive.clone().unwrap_or_else(|| v.receive.clone());
    let mut items = Vec::new();
    let mut url = Vec::new();
    let mut path = request.clone();
    let mut virtualhost = v.virtualhost.clone();
    // A request that is a URL names the server to ask instead of the real server.
    let trimmed = request.trim_start_matches('/');
    if let Some(rest) = trimmed.strip_prefix("http://").or_else(|| trimmed.strip_prefix("https://")) {
        let (hostport, p) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
        path = p;
        let default_port = if trimmed.starts_with("https") { 443 } else { 80 };
        match host_port(hostport, hostport.starts_with('[')) {
            Ok((ip, port)) => {
                items.push(Item::line(&["connect_ip".to_string(), ip.to_string()]));
                items.push(Item::line(&["connect_port".to_string(), port.unwrap_or(default_port).to_string()]));
            }
            Err(_) => {
                let host = hostport.split(':').next().unwrap_or(hostport).to_string();
                issues.push(Issue::new(
                    v.line,
                    Severity::Dropped,
                    format!(
                        "request URL host '{host}' is a name: the real server is checked instead, with Host: {host}"
                    ),
                ));
                virtualhost.get_or_insert(host);
            }
        }
    }
    if !writable(&path) {
        issues.push(Issue::new(v.line, Severity::Dropped, "request: keepalived cannot write a path holding '\"'"));
        path = "/".into();
    }
    url.push(Item::line(&["path", path.as_str()]));
    if !receive.is_empty() {
        if writable(&receive) {
            url.push(Item::line(&["regex", receive.as_str()]));
        } else {
            issues.push(Issue::new(
                v.line,
                Severity::Dropped,
                "receive: keepalived cannot write a regex holding '\"'; the page is not matched",
            ));
        }
    }
    let mut out = vec![Item::block(&["url"], url)];
    if let Some(vh) = virtualhost.filter(|h| writable(h)) {
        out.push(Item::line(&["virtualhost", vh.as_str()]));
    }
    out.extend(items);
    out
}

fn dns_items(v: &VirtualSettings, issues: &mut Vec<Issue>) -> Vec<Item> {
    let name = v.request.trim_start_matches('/');
    if !v.receive.is_empty() {
        issues.push(Issue::new(
            v.line,
            Severity::Dropped,
            "receive: keepalived's DNS_CHECK only needs an answer; it does not compare the address",
        ));
    }
    if name.is_empty() || !writable(name) {
        return Vec::new();
    }
    if name.parse::<IpAddr>().is_ok() {
        issues.push(Issue::new(
            v.line,
            Severity::Dropped,
            "request: keepalived's DNS_CHECK has no PTR query; it asks for the root's SOA instead",
        ));
        return Vec::new();
    }
    vec![Item::line(&["type", "A"]), Item::line(&["name", name])]
}

// ---------------------------------------------------------------------------------------------
// Conversion

fn comment(file: &str, line: usize, text: &str) -> Item {
    Item::comment(format!("{file}:{line}: {text}"))
}

/// The keepalived.conf of an ldirectord.cf; `file` names the input in comments.
pub fn convert(file: &str, text: &str) -> Conversion {
    let (parsed, mut issues) = parse(text);
    let g = globals(&parsed, &mut issues);
    let mut servers = Vec::new();
    let mut recipients: Vec<String> = Vec::new();
    let mut recipient_sets: Vec<(Vec<String>, usize)> = Vec::new();
    let mut smtp: Option<(String, usize, String)> = g.common.smtp.clone();
    let mut scripts = false;
    let mut email_lines: Vec<(usize, String)> = Vec::new();
    for v in &parsed.virtuals {
        let Some(out) = convert_virtual(file, v, &g, &mut issues) else { continue };
        if let Some((addrs, line, text)) = &out.emails {
            for a in addrs {
                if !recipients.contains(a) {
                    recipients.push(a.clone());
                }
            }
            recipient_sets.push((addrs.clone(), *line));
            email_lines.push((*line, text.clone()));
        }
        if let Some((s, line, text)) = &out.smtp {
            match &smtp {
                Some((first, _, _)) if first != s => issues.push(Issue::new(
                    *line,
                    Severity::Dropped,
                    format!("smtp: keepalived has one smtp_server for all alerts ({first} is used)"),
                )),
                Some(_) => {}
                None => smtp = Some((s.clone(), *line, text.clone())),
            }
        }
        scripts |= out.scripts;
        servers.extend(out.items);
    }
    if let Some((first, _)) = recipient_sets.first() {
        for (set, line) in &recipient_sets[1..] {
            if set != first {
                issues.push(Issue::new(
                    *line,
                    Severity::Dropped,
                    "emailalert: keepalived sends every alert to all notification_email addresses, not to each virtual service's own",
                ));
            }
        }
    }
    let mut items = vec![Item::comment(format!("keepalived.conf converted from {file} by vigilctl import ldirectord"))];
    let mut global = Vec::new();
    let mut global_lines = g.lines.clone();
    if !recipients.is_empty() {
        global_lines.extend(email_lines);
        global
            .push(Item::block(&["notification_email"], recipients.iter().map(|r| Item::line(&[r.as_str()])).collect()));
        if let Some((from, _)) = &g.emailalertfrom {
            global.push(Item::line(&["notification_email_from", from.as_str()]));
        }
        match &smtp {
            Some((host, line, text)) if writable(host) => {
                global_lines.push((*line, text.clone()));
                if host.parse::<IpAddr>().is_err() {
                    issues.push(Issue::new(
                        *line,
                        Severity::Note,
                        "smtp: a host name; keepalived resolves it when it reads the file (write the address if DNS may be down then)",
                    ));
                }
                global.push(Item::line(&["smtp_server", host.as_str()]));
            }
            _ => {
                issues.push(Issue::new(
                    0,
                    Severity::Note,
                    "no smtp set: ldirectord handed alerts to the local mailer; keepalived speaks SMTP to smtp_server 127.0.0.1",
                ));
                global.push(Item::line(&["smtp_server", "127.0.0.1"]));
            }
        }
    }
    if scripts {
        global.push(Item::comment("ldirectord ran check commands as root"));
        global.push(Item::line(&["enable_script_security"]));
        global.push(Item::line(&["script_user", "root"]));
    }
    if !global.is_empty() {
        global_lines.sort();
        global_lines.dedup();
        for (line, text) in &global_lines {
            items.push(comment(file, *line, text));
        }
        items.push(Item::block(&["global_defs"], global));
    }
    items.extend(servers);
    // A virtual-level finding is met once per real server; say it once.
    let mut unique: Vec<Issue> = Vec::with_capacity(issues.len());
    for i in issues {
        if !unique.contains(&i) {
            unique.push(i);
        }
    }
    let mut issues = unique;
    issues.sort_by_key(|i| i.line);
    Conversion { items, issues }
}

struct VirtualOut {
    items: Vec<Item>,
    emails: Option<(Vec<String>, usize, String)>,
    smtp: Option<(String, usize, String)>,
    scripts: bool,
}

fn convert_virtual(file: &str, v: &Virtual, g: &Globals, issues: &mut Vec<Issue>) -> Option<VirtualOut> {
    let head = &v.head;
    let key = match virtual_key(head) {
        Ok(k) => k,
        Err(e) => {
            issues.push(Issue::new(head.line, Severity::Dropped, format!("virtual service not converted: {e}")));
            return None;
        }
    };
    let v6 = head.key == "virtual6";
    let mut c = Common::default();
    let mut protocol = match key {
        Key::Addr(_, 53) => "udp",
        Key::Addr(..) => "tcp",
        Key::Fwmark(_) => "fwm",
    };
    let mut scheduler = "wrr".to_string();
    let mut persistent: Option<u32> = None;
    let mut netmask: Option<(String, usize)> = None;
    let mut ops = false;
    let mut checktype_v = CheckType::Negotiate;
    let mut checkcommand = "/bin/true".to_string();
    let mut service: Option<String> = None;
    let mut request = "/".to_string();
    let mut receive = String::new();
    let mut virtualhost: Option<String> = None;
    let mut checkport: Option<u16> = None;
    let mut reals: Vec<(Real, &Directive)> = Vec::new();
    let mut login_lines: Vec<&Directive> = Vec::new();
    for d in &v.body {
        if common(d, &mut c, issues) {
            continue;
        }
        let value = d.value.as_str();
        match d.key.as_str() {
            "real" | "real6" => {
                if (d.key == "real6") != v6 {
                    let want = if v6 { "real6" } else { "real" };
                    issues.push(Issue::new(d.line, Severity::Dropped, format!("'{}' here must be '{want}'", d.key)));
                    continue;
                }
                match parse_real(value, v6) {
                    Ok(r) => reals.push((r, d)),
                    Err(e) => issues.push(Issue::new(d.line, Severity::Dropped, format!("real server not converted: {e}"))),
                }
            }
            "request" => {
                let r = unquote(value);
                if r.is_empty() {
                    issues.push(Issue::new(d.line, Severity::Dropped, "request: empty"));
                } else {
                    request = if r.starts_with('/') { r.to_string() } else { format!("/{r}") };
                }
            }
            "receive" => receive = unquote(value).to_string(),
            "checktype" => match checktype(value) {
                Some(t) => checktype_v = t,
                None => issues.push(Issue::new(
                    d.line,
                    Severity::Dropped,
                    format!("checktype '{value}' is not connect, negotiate, on, off, ping, external, external-perl or a number"),
                )),
            },
            "checkcommand" => {
                let cmd = unquote(value);
                if cmd.is_empty() || !writable(cmd) {
                    issues.push(Issue::new(d.line, Severity::Dropped, "checkcommand: no usable command"));
                } else {
                    checkcommand = cmd.to_string();
                }
            }
            "checkport" => match value.parse::<u16>() {
                Ok(p) if p > 0 => checkport = Some(p),
                _ => issues.push(Issue::new(d.line, Severity::Dropped, format!("checkport '{value}' is not a port"))),
            },
            "scheduler" => {
                let name: String = value.chars().take_while(char::is_ascii_lowercase).collect();
                if SCHEDULERS.contains(&name.as_str()) {
                    scheduler = name;
                } else {
                    issues.push(Issue::new(
                        d.line,
                        Severity::Dropped,
                        format!("scheduler '{value}' is not one keepalived knows ({}); wrr is used", SCHEDULERS.join(" ")),
                    ));
                }
            }
            "persistent" => {
                persistent = number(d, issues, true);
                if persistent == Some(0) {
                    issues.push(Issue::new(d.line, Severity::Dropped, "persistent 0: not a persistence timeout"));
                    persistent = None;
                }
            }
            "netmask" => {
                let ok = if v6 {
                    value.parse::<u8>().is_ok_and(|p| (1..=128).contains(&p))
                } else {
                    value.parse::<Ipv4Addr>().is_ok()
                };
                if ok {
                    netmask = Some((value.to_string(), d.line));
                } else {
                    issues.push(Issue::new(d.line, Severity::Dropped, format!("netmask '{value}' is not valid here")));
                }
            }
            "protocol" => {
                let p: String = value.chars().take_while(char::is_ascii_alphanumeric).collect();
                match (protocol, p.as_str()) {
                    ("fwm", "fwm") => {}
                    ("fwm", _) => issues.push(Issue::new(
                        d.line,
                        Severity::Dropped,
                        "protocol must be fwm for a firewall-mark virtual service",
                    )),
                    (_, "tcp") => protocol = "tcp",
                    (_, "udp") => protocol = "udp",
                    _ => issues.push(Issue::new(
                        d.line,
                        Severity::Dropped,
                        format!("protocol '{value}' must be tcp or udp for an address and port"),
                    )),
                }
            }
            "ops" => ops = yes_no(d, issues).unwrap_or(ops),
            "service" => {
                let s: String = value.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if SERVICES.contains(&s.as_str()) {
                    service = Some(s);
                } else {
                    issues.push(Issue::new(d.line, Severity::Dropped, format!("service '{value}' is not one ldirectord knows")));
                }
            }
            "httpmethod" => {
                if value.eq_ignore_ascii_case("head") {
                    issues.push(Issue::new(d.line, Severity::Note, "httpmethod HEAD: keepalived's HTTP_GET always sends GET"));
                }
            }
            "virtualhost" => {
                let h = unquote(value);
                if writable(h) && !h.is_empty() {
                    virtualhost = Some(h.to_string());
                }
            }
            "login" | "passwd" | "database" | "secret" | "load" => login_lines.push(d),
            "monitorfile" => issues.push(Issue::new(
                d.line,
                Severity::Dropped,
                "monitorfile: vigild logs checker results to syslog; there is no separate monitor file",
            )),
            other => issues.push(Issue::new(d.line, Severity::Dropped, format!("'{other}' is not a virtual service directive"))),
        }
    }
    let service = service.unwrap_or_else(|| match key {
        Key::Addr(_, port) => port_service(port).to_string(),
        Key::Fwmark(_) => "none".to_string(),
    });
    for d in login_lines {
        let used = matches!(
            service.as_str(),
            "ftp" | "imap" | "imaps" | "ldap" | "mysql" | "oracle" | "pop" | "pops" | "pgsql" | "sip" | "radius"
        );
        let (severity, why) = if used {
            (Severity::Dropped, format!("keepalived's checkers do not log in or query ({service})"))
        } else {
            (Severity::Note, format!("ldirectord does not use it for service {service}"))
        };
        issues.push(Issue::new(d.line, severity, format!("{}: {why}", d.key)));
    }
    let gc = &g.common;
    // ldirectord's ld_setup: each timeout falls back on the other before the global ones.
    let check_timeout = c.checktimeout.or(c.negotiatetimeout).or(gc.checktimeout).or(gc.negotiatetimeout).unwrap_or(5);
    let negotiate_timeout =
        c.negotiatetimeout.or(c.checktimeout).or(gc.negotiatetimeout).or(gc.checktimeout).unwrap_or(30);
    let interval = match (c.checkinterval, g.fork) {
        (Some((n, _)), true) => n,
        (Some((_, line)), false) => {
            issues.push(Issue::new(
                line,
                Severity::Note,
                "ldirectord ignores a virtual service's checkinterval unless fork = yes; the global one is used",
            ));
            gc.checkinterval.map_or(10, |(n, _)| n)
        }
        (None, _) => gc.checkinterval.map_or(10, |(n, _)| n),
    };
    let failurecount = c.failurecount.or(gc.failurecount).unwrap_or(1);
    let checkcount = c.checkcount.or(gc.checkcount).unwrap_or(1);
    let pinging = matches!(checktype_v, CheckType::Ping) || (checktype_v == CheckType::Connect && protocol == "udp");
    let mut retry = failurecount - 1;
    if checkcount > 1 {
        if pinging {
            retry += checkcount - 1;
        } else {
            issues.push(Issue::new(
                head.line,
                Severity::Note,
                "checkcount: ldirectord uses it for ping checks only; ignored",
            ));
        }
    }
    let settings = VirtualSettings {
        key,
        udp: protocol == "udp",
        checktype: checktype_v,
        service: service.clone(),
        checkcommand,
        request,
        receive,
        virtualhost,
        checkport,
        check_timeout,
        negotiate_timeout,
        interval,
        retry,
        line: head.line,
    };
    match checktype_v {
        CheckType::Negotiate | CheckType::Combined(_) => {
            if let (_, Some(why)) = settings.negotiate_probe() {
                issues.push(Issue::new(head.line, Severity::Dropped, why));
            }
            if service == "none" && checktype_v == CheckType::Negotiate {
                issues.push(Issue::new(
                    head.line,
                    Severity::Note,
                    "service none: ldirectord does not check these real servers, so they get no checker",
                ));
            }
            if let CheckType::Combined(n) = checktype_v {
                issues.push(Issue::new(
                    head.line,
                    Severity::Note,
                    format!("checktype {n}: a connect check every checkinterval, and the negotiate check every {} intervals", n + 1),
                ));
            }
        }
        CheckType::ExternalPerl => issues.push(Issue::new(
            head.line,
            Severity::Note,
            "external-perl: the command runs as an external check (MISC_CHECK), as ldirectord's manual allows",
        )),
        _ => {}
    }
    if reals.is_empty() {
        issues.push(Issue::new(
            head.line,
            Severity::Dropped,
            "virtual service without real servers: keepalived ignores such a virtual_server, so it is not written",
        ));
        return None;
    }
    if ops && protocol != "udp" {
        issues.push(Issue::new(
            head.line,
            Severity::Note,
            "ops: ldirectord uses one-packet scheduling for UDP only; ignored",
        ));
        ops = false;
    }

    let mut items = Vec::new();
    let method = Method::most_common(reals.iter().map(|(r, _)| r.method)).unwrap_or(Method::Dr);
    items.push(Item::line(&["delay_loop".to_string(), interval.to_string()]));
    items.push(Item::line(&["lvs_sched", scheduler.as_str()]));
    let mut lvs_method = vec!["lvs_method".to_string()];
    lvs_method.extend(method.words());
    items.push(Item::Line(lvs_method));
    match protocol {
        "tcp" => items.push(Item::line(&["protocol", "TCP"])),
        "udp" => items.push(Item::line(&["protocol", "UDP"])),
        // A fwmark carries no address to tell the family by.
        _ if v6 => items.push(Item::line(&["ip_family", "inet6"])),
        _ => {}
    }
    if let Some(p) = persistent {
        items.push(Item::line(&["persistence_timeout".to_string(), p.to_string()]));
        if let Some((mask, _)) = &netmask {
            items.push(Item::line(&["persistence_granularity", mask.as_str()]));
        }
    } else if let Some((_, line)) = netmask {
        issues.push(Issue::new(line, Severity::Note, "netmask: ldirectord uses it only with persistent; ignored"));
    }
    if ops {
        items.push(Item::line(&["ops"]));
    }
    if c.quiescent.or(gc.quiescent) == Some(true) {
        items.push(Item::line(&["inhibit_on_failure"]));
    }
    let mut scripts = false;
    if checktype_v == CheckType::Off {
        items.push(Item::comment(
            "checktype = off: ldirectord never adds these real servers; they wait for a check that always fails",
        ));
        items.push(Item::line(&["alpha"]));
        scripts = true;
    }
    if let Some((cmd, line)) = c.fallbackcommand.as_ref().or(gc.fallbackcommand.as_ref()) {
        items.push(Item::comment(format!(
            "{file}:{line}: fallbackcommand runs with 'start' when all real servers are down, 'stop' when one is back"
        )));
        items.push(Item::line(&["quorum_down".to_string(), format!("{cmd} start")]));
        items.push(Item::line(&["quorum_up".to_string(), format!("{cmd} stop")]));
        scripts = true;
    }
    let fallback =
        if v6 { c.fallback6.as_ref().or(gc.fallback6.as_ref()) } else { c.fallback.as_ref().or(gc.fallback.as_ref()) };
    if let Some(f) = fallback {
        if checktype_v == CheckType::Off {
            issues.push(Issue::new(
                f.line,
                Severity::Note,
                "fallback: checktype off activates no fallback server either",
            ));
        } else if f.ip.is_ipv6() != v6 {
            issues.push(Issue::new(f.line, Severity::Dropped, "fallback: not of the virtual service's address family"));
        } else {
            let vport = match key {
                Key::Addr(_, p) => p,
                Key::Fwmark(_) => 0,
            };
            items.push(comment(file, f.line, &f.text));
            items.push(Item::line(&[
                "sorry_server".to_string(),
                f.ip.to_string(),
                f.port.unwrap_or(vport).to_string(),
            ]));
            if f.method != method {
                let mut w = vec!["sorry_server_lvs_method".to_string()];
                w.extend(f.method.words());
                items.push(Item::Line(w));
            }
        }
    }
    let emails = c.emailalert.clone().or(gc.emailalert.clone()).filter(|(a, _, _)| !a.is_empty());
    if emails.is_some() {
        items.push(Item::line(&["smtp_alert"]));
    }
    if matches!(checktype_v, CheckType::External | CheckType::ExternalPerl) {
        scripts = true;
    }
    let mut seen: Vec<(IpAddr, u16)> = Vec::new();
    for (real, d) in &reals {
        for ip in &real.ips {
            if ip.is_ipv6() != v6 && method != Method::TUN {
                issues.push(Issue::new(
                    d.line,
                    Severity::Dropped,
                    format!("real server {ip}: not of the virtual service's address family"),
                ));
                continue;
            }
            let shown_port = match key {
                Key::Addr(_, vport) => Some(if real.port > 0 { real.port } else { vport }),
                Key::Fwmark(_) => None,
            };
            if seen.contains(&(*ip, shown_port.unwrap_or(0))) {
                issues.push(Issue::new(
                    d.line,
                    Severity::Dropped,
                    format!("real server {ip} is listed twice; the second is left out"),
                ));
                continue;
            }
            seen.push((*ip, shown_port.unwrap_or(0)));
            let mut body = vec![Item::line(&["weight".to_string(), real.weight.to_string()])];
            if real.method != method {
                let mut w = vec!["lvs_method".to_string()];
                w.extend(real.method.words());
                body.push(Item::Line(w));
            }
            body.extend(checkers(&settings, real, *ip, shown_port, issues));
            items.push(comment(file, d.line, &d.text));
            let mut words = vec!["real_server".to_string(), ip.to_string()];
            words.extend(shown_port.map(|p| p.to_string()));
            items.push(Item::Block(words, body));
        }
    }
    let words: Vec<String> = match key {
        Key::Addr(ip, port) => vec!["virtual_server".into(), ip.to_string(), port.to_string()],
        Key::Fwmark(m) => vec!["virtual_server".into(), "fwmark".into(), m.to_string()],
    };
    let smtp = c.smtp.clone();
    Some(VirtualOut {
        items: vec![comment(file, head.line, &head.text), Item::Block(words, items)],
        emails,
        smtp,
        scripts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_config::model::{CheckKind, Forwarding, VirtualServer, VsKey};
    use vigil_config::Options;

    fn keys(ds: &[Directive]) -> Vec<&str> {
        ds.iter().map(|d| d.key.as_str()).collect()
    }

    fn severities(issues: &[Issue]) -> Vec<(usize, Severity)> {
        issues.iter().map(|i| (i.line, i.severity)).collect()
    }

    #[test]
    fn structure_as_ldirectord_reads_it() {
        // (input, globals, virtual bodies, findings)
        type Case =
            (&'static str, &'static [&'static str], &'static [&'static [&'static str]], &'static [(usize, Severity)]);
        let cases: &[Case] = &[
            ("checktimeout=3\nvirtual=1.2.3.4:80\n\treal=5.6.7.8:80 gate\n", &["checktimeout"], &[&["real"]], &[]),
            (
                "virtual=1.2.3.4:80\n    real=5.6.7.8:80 gate # comment\n# c\n    service=http\n",
                &[],
                &[&["real", "service"]],
                &[],
            ),
            // A global directive after a virtual stays global, as ldirectord reads it.
            ("virtual=1.2.3.4:80\n\treal=5.6.7.8:80 gate\nquiescent=no\n", &["quiescent"], &[&["real"]], &[]),
            // Unindented virtual-only directive: guessed into the virtual.
            ("virtual=1.2.3.4:80\nreal=5.6.7.8:80 gate\n", &[], &[&["real"]], &[(2, Severity::Guessed)]),
            // Shallow indentation and a blank line end ldirectord's section.
            ("virtual=1.2.3.4:80\n  real=5.6.7.8:80 gate\n", &[], &[&["real"]], &[(2, Severity::Guessed)]),
            (
                "virtual=1.2.3.4:80\n\treal=5.6.7.8:80 gate\n\n\tscheduler=rr\n",
                &[],
                &[&["real", "scheduler"]],
                &[(4, Severity::Guessed)],
            ),
            ("bogus=1\n", &[], &[], &[(1, Severity::Dropped)]),
            ("\treal=5.6.7.8:80 gate\n", &[], &[], &[(1, Severity::Dropped)]),
            (
                "virtual=1.2.3.4:80\n\treal=5.6.7.8:80 gate\nvirtual=1.2.3.4:443\n\treal=5.6.7.8:443 gate\n",
                &[],
                &[&["real"], &["real"]],
                &[],
            ),
        ];
        for (text, globals, bodies, findings) in cases {
            let (file, issues) = parse(text);
            assert_eq!(keys(&file.globals), *globals, "{text:?}");
            let got: Vec<Vec<&str>> = file.virtuals.iter().map(|v| keys(&v.body)).collect();
            assert_eq!(got, bodies.iter().map(|b| b.to_vec()).collect::<Vec<_>>(), "{text:?}");
            assert_eq!(severities(&issues), *findings, "{text:?}: {issues:?}");
        }
    }

    #[test]
    fn comments_are_cut_outside_quotes() {
        let (file, _) = parse("virtual=1.2.3.4:80\n\tchecktype = negotiate# trailing\n\treceive = \"#1 page\" # c\n");
        let body = &file.virtuals[0].body;
        assert_eq!((body[0].value.as_str(), body[1].value.as_str()), ("negotiate", "\"#1 page\""));
    }

    #[test]
    fn numbers_as_ldirectord_reads_them() {
        let d = |v: &str| Directive { line: 4, key: "checkinterval".into(), value: v.into(), text: String::new() };
        for (value, want, lost) in [
            ("10", Some(10), false),
            ("10logfile = \"/var/log/x\"", Some(10), true),
            ("x", None, true),
            ("0", None, true),
        ] {
            let mut issues = Vec::new();
            assert_eq!(number(&d(value), &mut issues, false), want, "{value}");
            assert_eq!(issues.iter().any(|i| i.severity == Severity::Dropped), lost, "{value}");
        }
    }

    #[test]
    fn real_lines() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("an address");
        let real = |ips: &[&str], port, method, weight, rr: Option<(&str, &str)>| Real {
            ips: ips.iter().map(|s| ip(s)).collect(),
            port,
            method,
            weight,
            request: rr.map(|(a, _)| a.to_string()),
            receive: rr.map(|(_, b)| b.to_string()),
        };
        let cases: &[(&str, bool, Result<Real, ()>)] = &[
            ("10.0.0.1:80 gate", false, Ok(real(&["10.0.0.1"], 80, Method::Dr, 1, None))),
            ("10.0.0.1:8080 masq 5", false, Ok(real(&["10.0.0.1"], 8080, Method::Nat, 5, None))),
            ("10.0.0.1 ipip 0", false, Ok(real(&["10.0.0.1"], 0, Method::TUN, 0, None))),
            ("10.0.0.1:http gate", false, Ok(real(&["10.0.0.1"], 80, Method::Dr, 1, None))),
            (
                "10.0.0.8->10.0.0.10:80 gate 2",
                false,
                Ok(real(&["10.0.0.8", "10.0.0.9", "10.0.0.10"], 80, Method::Dr, 2, None)),
            ),
            (
                "10.0.0.1:80 gate 1 \"a.html\", \"ok\"",
                false,
                Ok(real(&["10.0.0.1"], 80, Method::Dr, 1, Some(("/a.html", "ok")))),
            ),
            ("10.0.0.1:80 gate \"/b\" \"x y\"", false, Ok(real(&["10.0.0.1"], 80, Method::Dr, 1, Some(("/b", "x y"))))),
            ("[2001:db8::1]:80 masq", true, Ok(real(&["2001:db8::1"], 80, Method::Nat, 1, None))),
            ("10.0.0.1:80 route", false, Err(())),
            ("10.0.0.10->10.0.0.8:80 gate", false, Err(())),
            ("web1:80 gate", false, Err(())),
            ("10.0.0.1:80 gate 1 junk", false, Err(())),
            ("[2001:db8::1]->[2001:db8::3]:80 gate", true, Err(())),
        ];
        for (text, v6, want) in cases {
            assert_eq!(parse_real(text, *v6).map_err(|_| ()), *want, "{text}");
        }
    }

    #[test]
    fn checktypes() {
        for (value, want) in [
            ("connect", Some(CheckType::Connect)),
            ("negotiate", Some(CheckType::Negotiate)),
            ("ping", Some(CheckType::Ping)),
            ("external", Some(CheckType::External)),
            ("external-perl", Some(CheckType::ExternalPerl)),
            ("on", Some(CheckType::On)),
            ("off", Some(CheckType::Off)),
            ("3", Some(CheckType::Combined(3))),
            ("sometimes", None),
        ] {
            assert_eq!(checktype(value), want, "{value}");
        }
    }

    #[test]
    fn virtual_keys() {
        let d =
            |key: &str, value: &str| Directive { line: 1, key: key.into(), value: value.into(), text: String::new() };
        let ip = |s: &str| s.parse::<IpAddr>().expect("an address");
        assert_eq!(virtual_key(&d("virtual", "10.0.0.1:80")), Ok(Key::Addr(ip("10.0.0.1"), 80)));
        assert_eq!(virtual_key(&d("virtual", "10.0.0.1:https")), Ok(Key::Addr(ip("10.0.0.1"), 443)));
        assert_eq!(virtual_key(&d("virtual", "7")), Ok(Key::Fwmark(7)));
        assert_eq!(virtual_key(&d("virtual6", "[2001:db8::1]:53")), Ok(Key::Addr(ip("2001:db8::1"), 53)));
        for (key, bad) in [
            ("virtual", "www.example.com:80"),
            ("virtual", "[2001:db8::1]:80"),
            ("virtual", "10.0.0.1"),
            ("virtual", "0"),
        ] {
            assert!(virtual_key(&d(key, bad)).is_err(), "{bad}");
        }
    }

    /// The virtual servers of a conversion, as Vigil reads them (and with nothing to warn about).
    fn converted(text: &str) -> (Vec<VirtualServer>, Vec<Issue>) {
        let c = convert("t.cf", text);
        let parsed = vigil_config::parse_str("out.conf", &c.text(), &Options::default(), None);
        assert_eq!(vigil_config::exit_code(&parsed.diagnostics, false), 0, "{}\n{:?}", c.text(), parsed.diagnostics);
        (parsed.config.virtual_servers.into_iter().map(std::sync::Arc::unwrap_or_clone).collect(), c.issues)
    }

    fn timeout(vs: &VirtualServer) -> Option<std::time::Duration> {
        vs.real_servers[0].checkers[0].common().connect_timeout
    }

    #[test]
    fn per_virtual_settings_override_global_ones() {
        let (vss, _) = converted(
            "quiescent=yes\nnegotiatetimeout=20\nfallback=127.0.0.1:80\nfailurecount=3\ncheckinterval=7\n\
             virtual=10.0.0.1:80\n\treal=10.0.1.1:80 gate\n\tchecktype=connect\n\
             virtual=10.0.0.2:80\n\treal=10.0.1.2:80 gate\n\tchecktype=connect\n\tchecktimeout=3\n\tquiescent=no\n\tfallback=10.0.9.9:8080 masq\n\tfailurecount=1\n",
        );
        let secs = |s| Some(std::time::Duration::from_secs(s));
        // checktimeout falls back on negotiatetimeout before the defaults.
        assert_eq!((timeout(&vss[0]), timeout(&vss[1])), (secs(20), secs(3)));
        assert_eq!((vss[0].inhibit_on_failure, vss[1].inhibit_on_failure), (true, false));
        let sorry =
            |vs: &VirtualServer| vs.extra().sorry_server.as_ref().map(|s| (s.ip.to_string(), s.port, s.forwarding));
        assert_eq!(sorry(&vss[0]), Some(("127.0.0.1".into(), 80, None)));
        assert_eq!(sorry(&vss[1]), Some(("10.0.9.9".into(), 8080, Some(Forwarding::Nat))));
        let retry = |vs: &VirtualServer| {
            let c = &vs.real_servers[0].checkers[0].common();
            (c.retry, c.delay_before_retry)
        };
        assert_eq!(retry(&vss[0]), (Some(2), secs(7)));
        assert_eq!(retry(&vss[1]), (Some(0), None));
        assert_eq!(vss[0].delay_loop, std::time::Duration::from_secs(7));
    }

    #[test]
    fn checkinterval_per_virtual_needs_fork() {
        for (fork, want) in [("no", 10), ("yes", 30)] {
            let (vss, issues) = converted(&format!(
                "fork={fork}\ncheckinterval=10\nvirtual=10.0.0.1:80\n\treal=10.0.1.1:80 gate\n\tchecktype=connect\n\tcheckinterval=30\n"
            ));
            assert_eq!(vss[0].delay_loop, std::time::Duration::from_secs(want), "fork={fork}");
            assert!(issues.iter().all(|i| i.severity == Severity::Note), "{issues:?}");
        }
    }

    #[test]
    fn checktypes_and_services_pick_keepalived_checkers() {
        let kind = |body: &str| -> Vec<&'static str> {
            let (vss, _) = converted(&format!("virtual=10.0.0.1:80\n\treal=10.0.1.1:80 gate\n{body}"));
            vss[0].real_servers[0]
                .checkers
                .iter()
                .map(|k| match &k.kind {
                    CheckKind::Tcp => "TCP",
                    CheckKind::Http(h) if h.tls => "SSL",
                    CheckKind::Http(_) => "HTTP",
                    CheckKind::Smtp(_) => "SMTP",
                    CheckKind::Dns(_) => "DNS",
                    CheckKind::Ping => "PING",
                    CheckKind::Misc(_) => "MISC",
                    CheckKind::Udp(_) => "UDP",
                    CheckKind::File(_) => "FILE",
                    CheckKind::Bfd(_) => "BFD",
                })
                .collect()
        };
        assert_eq!(kind(""), ["HTTP"], "negotiate on port 80 is http");
        assert_eq!(kind("\tchecktype=connect\n"), ["TCP"]);
        assert_eq!(kind("\tchecktype=ping\n"), ["PING"]);
        assert_eq!(kind("\tchecktype=external\n"), ["MISC"]);
        assert_eq!(kind("\tchecktype=on\n"), Vec::<&str>::new());
        assert_eq!(kind("\tchecktype=off\n"), ["MISC"]);
        assert_eq!(kind("\tchecktype=2\n"), ["TCP", "HTTP"]);
        assert_eq!(kind("\tservice=https\n"), ["SSL"]);
        assert_eq!(kind("\tservice=smtp\n"), ["SMTP"]);
        assert_eq!(kind("\tservice=dns\n"), ["DNS"]);
        assert_eq!(kind("\tservice=ftp\n"), ["TCP"]);
        assert_eq!(kind("\tservice=none\n"), Vec::<&str>::new());
        assert_eq!(kind("\tprotocol=udp\n\tchecktype=connect\n"), ["PING"], "connect is a ping for UDP");
    }

    #[test]
    fn fwmark_and_persistence() {
        let (vss, issues) = converted(
            "virtual=3\n\treal=10.0.1.1 gate\n\treal=10.0.1.2:443 ipip\n\tservice=https\n\tpersistent=60\n\tnetmask=255.255.0.0\n",
        );
        assert!(issues.is_empty(), "{issues:?}");
        let vs = &vss[0];
        assert_eq!(vs.key, VsKey::Fwmark { mark: 3 });
        assert_eq!((vs.persistence_timeout, vs.persistence_granularity), (Some(60), "255.255.0.0".parse().ok()));
        let ports: Vec<(u16, Option<u16>)> =
            vs.real_servers.iter().map(|r| (r.port, r.checkers[0].common().connect_port)).collect();
        assert_eq!(ports, [(0, Some(443)), (0, Some(443))], "no port on the real, the service's port checked");
    }

    #[test]
    fn email_alerts_go_to_global_defs() {
        let c = convert(
            "t.cf",
            "emailalert=\"a@example.com, [email protected]\"\nemailalertfrom=\"LB\" <lb@example.com>\nsmtp=192.0.2.25\n\
             virtual=10.0.0.1:80\n\treal=10.0.1.1:80 gate\n\tchecktype=connect\n",
        );
        let parsed = vigil_config::parse_str("out.conf", &c.text(), &Options::default(), None);
        let g = &parsed.config.global;
        assert_eq!(g.notification_email, ["a@example.com"]);
        assert_eq!(g.notification_email_from.as_deref(), Some("lb@example.com"));
        assert_eq!(g.smtp_server.as_ref().map(|s| s.host.as_str()), Some("192.0.2.25"));
        assert_eq!(parsed.config.virtual_servers[0].smtp_alert, Some(true));
        assert_eq!(severities(&c.issues), [(1, Severity::Dropped), (2, Severity::Note)]);
    }

    #[test]
    fn a_request_url_names_the_server_to_ask() {
        let (vss, issues) = converted(
            "virtual=10.0.0.1:80\n\treal=10.0.1.1:80 gate\n\tservice=http\n\trequest=\"http://10.0.2.2:8080/probe\"\n",
        );
        assert!(issues.is_empty(), "{issues:?}");
        let k = &vss[0].real_servers[0].checkers[0];
        assert_eq!((k.common().connect_ip, k.common().connect_port), ("10.0.2.2".parse().ok(), Some(8080)));
        match &k.kind {
            CheckKind::Http(h) => assert_eq!(h.urls[0].path, "/probe"),
            other => panic!("expected HTTP_GET, got {other:?}"),
        }
    }

    #[test]
    fn findings_are_said_once() {
        let messages =
            |text: &str| -> Vec<String> { convert("t.cf", text).issues.into_iter().map(|i| i.message).collect() };
        let per_real = messages("virtual=5\n\treal=10.0.1.1 gate\n\treal=10.0.1.2 gate\n\tchecktype=connect\n");
        assert_eq!(per_real.len(), 2, "one 'no port' per real server: {per_real:?}");
        assert!(per_real.iter().all(|m| m.contains("no port to check")), "{per_real:?}");
        let per_virtual = messages(
            "virtual=10.0.0.1:53\n\treal=10.0.1.1:53 gate\n\treal=10.0.1.2:53 gate\n\treal=10.0.1.3:53 gate\n\treceive=\"x\"\n",
        );
        assert_eq!(per_virtual.len(), 1, "{per_virtual:?}");
    }

    #[test]
    fn virtual_without_real_servers_is_not_written() {
        let c = convert("t.cf", "virtual=10.0.0.1:80\n\tpersistent=300\n");
        assert_eq!(c.items.len(), 1, "only the header comment");
        assert_eq!(severities(&c.issues), [(1, Severity::Dropped)]);
    }
}
