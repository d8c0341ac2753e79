//! `vigilctl import`: keepalived.conf from the configuration of another LVS manager
//! (ldirectord.cf, or an `ipvsadm-save` table). Pure: text in, configuration text and a list of
//! what could not be carried over out; reading files and printing is the caller's.

pub mod emit;
pub mod ipvsadm;
pub mod ldirectord;

use std::fmt;

/// How much an input line lost on the way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Carried over, with something worth knowing (an ldirectord-only setting that keepalived
    /// does not need, or a close equivalent).
    Note,
    /// The input is not what the source program accepts, and the importer guessed what was
    /// meant (an unindented directive under `virtual =`, say).
    Guessed,
    /// Not carried over: the output behaves differently on this point.
    Dropped,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Note => "note",
            Severity::Guessed => "guessed",
            Severity::Dropped => "dropped",
        })
    }
}

/// One finding about one input line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// 1-based line of the input (0: the file as a whole).
    pub line: usize,
    pub severity: Severity,
    pub message: String,
}

impl Issue {
    pub fn new(line: usize, severity: Severity, message: impl Into<String>) -> Issue {
        Issue { line, severity, message: message.into() }
    }

    /// `FILE:LINE: severity: message`, as compilers print it.
    pub fn render(&self, file: &str) -> String {
        if self.line == 0 {
            format!("{file}: {}: {}", self.severity, self.message)
        } else {
            format!("{file}:{}: {}: {}", self.line, self.severity, self.message)
        }
    }
}

/// The outcome of an import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversion {
    pub items: Vec<emit::Item>,
    pub issues: Vec<Issue>,
}

impl Conversion {
    /// keepalived.conf text.
    pub fn text(&self) -> String {
        emit::render(&self.items)
    }

    /// `vigilctl import`'s exit status: 0 when everything was carried over (notes allowed),
    /// 1 when something was dropped or guessed. (2, a usage or read error, is the caller's.)
    pub fn exit_code(&self) -> u8 {
        u8::from(self.issues.iter().any(|i| i.severity >= Severity::Guessed))
    }
}

/// keepalived 2.2.7's schedulers (check_parser.c's list), for the names other tools accept.
pub const SCHEDULERS: [&str; 14] =
    ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh", "fo", "ovf", "twos"];

/// Ports of the service names both tools may print instead of numbers (the common entries of
/// /etc/services; the importers do not read the host's file, so output does not depend on it).
pub fn service_port(name: &str) -> Option<u16> {
    const PORTS: &[(&str, u16)] = &[
        ("ftp", 21),
        ("ssh", 22),
        ("telnet", 23),
        ("smtp", 25),
        ("domain", 53),
        ("http", 80),
        ("www", 80),
        ("pop3", 110),
        ("nntp", 119),
        ("imap", 143),
        ("imap2", 143),
        ("ldap", 389),
        ("https", 443),
        ("submission", 587),
        ("ldaps", 636),
        ("imaps", 993),
        ("pop3s", 995),
        ("ms-sql-s", 1433),
        ("radius", 1812),
        ("mysql", 3306),
        ("sip", 5060),
        ("postgresql", 5432),
        ("http-alt", 8080),
    ];
    match name.parse::<u16>() {
        Ok(p) => Some(p),
        Err(_) => PORTS.iter().find(|(n, _)| *n == name).map(|(_, p)| *p),
    }
}

/// The IPVS forwarding method, keepalived's way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Nat,
    Dr,
    Tun { kind: TunKind, port: u16, csum: Checksum },
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TunKind {
    #[default]
    Ipip,
    Gue,
    Gre,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Checksum {
    /// `nocsum`, the default.
    #[default]
    None,
    /// `csum`.
    On,
    /// `remcsum`.
    Remote,
}

impl Method {
    pub const TUN: Method = Method::Tun { kind: TunKind::Ipip, port: 0, csum: Checksum::None };

    /// The words after `lvs_method`.
    pub fn words(self) -> Vec<String> {
        match self {
            Method::Nat => vec!["NAT".into()],
            Method::Dr => vec!["DR".into()],
            Method::Tun { kind: TunKind::Ipip, .. } => vec!["TUN".into()],
            Method::Tun { kind, port, csum } => {
                let mut w: Vec<String> = vec!["TUN".into(), "type".into()];
                match kind {
                    TunKind::Gue => w.extend(["gue".to_string(), "port".into(), port.to_string()]),
                    _ => w.push("gre".into()),
                }
                match csum {
                    Checksum::None => {}
                    Checksum::On => w.push("csum".into()),
                    Checksum::Remote => w.push("remcsum".into()),
                }
                w
            }
        }
    }

    /// The method most real servers use (the first seen on a tie): the virtual server's
    /// `lvs_method`, so only the others need their own.
    pub fn most_common(methods: impl IntoIterator<Item = Method>) -> Option<Method> {
        let mut counts: Vec<(Method, usize)> = Vec::new();
        for m in methods {
            match counts.iter_mut().find(|(c, _)| *c == m) {
                Some((_, n)) => *n += 1,
                None => counts.push((m, 1)),
            }
        }
        let best = counts.iter().map(|(_, n)| *n).max()?;
        counts.into_iter().find(|(_, n)| *n == best).map(|(m, _)| m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_ports() {
        for (name, port) in [("80", Some(80)), ("http", Some(80)), ("domain", Some(53)), ("nosuch", None)] {
            assert_eq!(service_port(name), port, "{name}");
        }
    }

    #[test]
    fn method_words() {
        let gue = Method::Tun { kind: TunKind::Gue, port: 6080, csum: Checksum::On };
        let gre = Method::Tun { kind: TunKind::Gre, port: 0, csum: Checksum::None };
        for (m, words) in [
            (Method::Nat, "NAT"),
            (Method::Dr, "DR"),
            (Method::TUN, "TUN"),
            (gue, "TUN type gue port 6080 csum"),
            (gre, "TUN type gre"),
        ] {
            assert_eq!(m.words().join(" "), words);
        }
    }

    #[test]
    fn most_common_method() {
        assert_eq!(Method::most_common([Method::Nat, Method::Dr, Method::Dr]), Some(Method::Dr));
        assert_eq!(Method::most_common([Method::Nat, Method::Dr]), Some(Method::Nat));
        assert_eq!(Method::most_common([]), None);
    }

    #[test]
    fn exit_codes() {
        let with = |s| Conversion { items: Vec::new(), issues: vec![Issue::new(3, s, "x")] };
        assert_eq!(with(Severity::Note).exit_code(), 0);
        assert_eq!(with(Severity::Guessed).exit_code(), 1);
        assert_eq!(with(Severity::Dropped).exit_code(), 1);
        assert_eq!(Issue::new(3, Severity::Dropped, "why").render("a.cf"), "a.cf:3: dropped: why");
    }
}
