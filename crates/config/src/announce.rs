//! Vigil's route announcements (`/etc/vigil/announce.conf`): which VIPs vigild puts as host
//! routes in a kernel table for BIRD or FRR to announce by BGP, while their virtual servers
//! are healthy. keepalived never reads this file, so the keepalived.conf beside it stays
//! keepalived's and a director can go back to keepalived without an edit.
//!
//! ```text
//! announce {
//!     table 100            # the kernel routing table of the host routes
//!     protocol 200         # the routes' protocol number (rtnetlink), which marks them as ours
//!     interface lo         # the VIPs are added on it as /32 or /128 ("none": not added)
//!     local_route          # instead: made local by `ip route add local VIP dev lo table local`
//!     metric 0             # the routes' metric, unless a vip line gives one
//!     vip 10.0.0.200 metric 100
//! }
//! ```
//! Without `vip` lines, every address of a virtual server (and of a virtual_server_group) is
//! announced.

use std::net::IpAddr;
use std::path::Path;

use crate::diag::{Diagnostic, Diagnostics};
use crate::lexer::{self, Token};
use crate::model::{Config, GroupMember, VsKey};
use crate::span::{FileId, Span};

/// The default table: what the docs' BIRD and FRR snippets read.
pub const DEFAULT_TABLE: u32 = 100;
/// The default route protocol number: unassigned in /etc/iproute2/rt_protos.
pub const DEFAULT_PROTOCOL: u8 = 200;
/// Protocol numbers below this are the kernel's and routing daemons' own (boot, static, ...).
const FIRST_FREE_PROTOCOL: u8 = 5;

/// The file's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announce {
    pub table: u32,
    pub protocol: u8,
    /// Where the VIPs are added; `None` when the operator adds them (`interface none`).
    pub interface: Option<String>,
    /// `local_route`: the VIPs are made local with a `local` route on the interface (in the
    /// kernel's local table) instead of an address. FRR 8.4's zebra prefers the connected
    /// route an address gives over the imported announcement, and then announces nothing.
    pub local_route: bool,
    pub metric: u32,
    /// The `vip` lines; empty: every virtual server address.
    pub vips: Vec<AnnouncedVip>,
}

/// One `vip ADDR [metric N]` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnouncedVip {
    pub addr: IpAddr,
    pub metric: Option<u32>,
    pub span: Span,
}

impl Default for Announce {
    fn default() -> Self {
        Announce {
            table: DEFAULT_TABLE,
            protocol: DEFAULT_PROTOCOL,
            interface: Some("lo".into()),
            local_route: false,
            metric: 0,
            vips: Vec::new(),
        }
    }
}

/// Errors that stop the file from being used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    /// Every error found, one per line, each naming file:line:column.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Diagnostic>),
}

impl Announce {
    /// Reads the file at `path`.
    pub fn read(path: &Path) -> Result<Announce, Error> {
        let text =
            std::fs::read_to_string(path).map_err(|source| Error::Read { path: path.display().to_string(), source })?;
        Announce::parse(path, &text)
    }

    /// Reads `text`, named `path` in diagnostics.
    pub fn parse(path: &Path, text: &str) -> Result<Announce, Error> {
        let file = FileId::intern(path);
        let mut diags = Diagnostics::default();
        let mut out = Announce::default();
        let mut depth = 0u32;
        let mut seen_block = false;
        // `announce` alone on its line, its `{` on the next, as keepalived allows for blocks.
        let mut opening = false;
        for (n, raw) in text.lines().enumerate() {
            let line = u32::try_from(n + 1).unwrap_or(u32::MAX);
            let tokens = match lexer::tokenize(lexer::strip_comment(raw)) {
                Ok(t) => t,
                Err(e) => {
                    diags.error("announce-syntax", &Span::new(file, line, 1), e.to_string());
                    continue;
                }
            };
            let mut words = Vec::new();
            for t in tokens {
                match t {
                    Token::Open { .. }
                        if depth == 0 && (words_are(&words, "announce") || opening && words.is_empty()) =>
                    {
                        depth = 1;
                        seen_block = true;
                        words.clear();
                    }
                    Token::Open { col } => {
                        diags.error("announce-syntax", &Span::new(file, line, col), "unexpected '{'");
                    }
                    Token::Close { .. } if depth == 1 => {
                        out.statement(&words, &mut diags);
                        words.clear();
                        depth = 0;
                    }
                    Token::Close { col } => {
                        diags.error("announce-syntax", &Span::new(file, line, col), "unexpected '}'");
                    }
                    Token::Word { text, col } => words.push((text.to_string(), Span::new(file, line, col))),
                }
            }
            opening = depth == 0 && (words_are(&words, "announce") || opening && words.is_empty());
            match depth {
                1 => out.statement(&words, &mut diags),
                _ if words.is_empty() || opening => {}
                _ => {
                    diags.error("announce-syntax", &words[0].1, format!("'{}' outside the announce block", words[0].0))
                }
            }
        }
        if depth != 0 {
            diags.error("announce-syntax", &Span::new(file, 0, 0), "the announce block is not closed");
        }
        if !seen_block {
            diags.error("announce-syntax", &Span::new(file, 0, 0), "no announce { } block");
        }
        let found = diags.into_vec();
        if found.is_empty() {
            Ok(out)
        } else {
            Err(Error::Invalid(found))
        }
    }

    /// One line inside the block.
    fn statement(&mut self, words: &[(String, Span)], diags: &mut Diagnostics) {
        let Some(((keyword, at), args)) = words.split_first() else { return };
        let arg = |i: usize| args.get(i).map(|(w, _)| w.as_str());
        let wrong =
            |diags: &mut Diagnostics, what: &str| diags.error("announce-value", at, format!("{keyword}: {what}"));
        match (keyword.as_str(), args.len()) {
            ("table", 1) => match arg(0).and_then(|w| w.parse::<u32>().ok()) {
                // 0 is unspecified; 253..=255 are the kernel's default, main and local tables.
                Some(t) if t != 0 && !(253..=255).contains(&t) => self.table = t,
                _ => wrong(diags, "a table number other than 0 and 253-255 (default, main, local)"),
            },
            ("protocol", 1) => match arg(0).and_then(|w| w.parse::<u8>().ok()) {
                Some(p) if p >= FIRST_FREE_PROTOCOL => self.protocol = p,
                _ => wrong(diags, "a route protocol number from 5 to 255"),
            },
            ("interface", 1) => self.interface = arg(0).filter(|&w| w != "none").map(str::to_string),
            ("local_route", 0) => self.local_route = true,
            ("local_route", _) => wrong(diags, "takes no value"),
            ("metric", 1) => match arg(0).and_then(|w| w.parse::<u32>().ok()) {
                Some(m) => self.metric = m,
                None => wrong(diags, "a number"),
            },
            ("vip", 1 | 3) => {
                let Some(addr) = arg(0).and_then(|w| w.parse::<IpAddr>().ok()) else {
                    return wrong(diags, "an IPv4 or IPv6 address");
                };
                let metric = match (arg(1), arg(2)) {
                    (None, _) => None,
                    (Some("metric"), Some(m)) => match m.parse::<u32>() {
                        Ok(m) => Some(m),
                        Err(_) => return wrong(diags, "metric takes a number"),
                    },
                    _ => return wrong(diags, "ADDR [metric N]"),
                };
                if self.vips.iter().any(|v| v.addr == addr) {
                    return wrong(diags, &format!("{addr} is given twice"));
                }
                self.vips.push(AnnouncedVip { addr, metric, span: at.clone() });
            }
            ("table" | "protocol" | "interface" | "metric", _) => wrong(diags, "takes one value"),
            ("vip", _) => wrong(diags, "ADDR [metric N]"),
            _ => diags.error("announce-keyword", at, format!("unknown keyword '{keyword}'")),
        }
    }

    /// The addresses to announce and each one's metric: the `vip` lines, or else every
    /// address of `config`'s virtual servers.
    pub fn addresses(&self, config: &Config) -> Vec<(IpAddr, u32)> {
        if !self.vips.is_empty() {
            return self.vips.iter().map(|v| (v.addr, v.metric.unwrap_or(self.metric))).collect();
        }
        let mut out: Vec<IpAddr> = config.virtual_servers.iter().flat_map(|vs| vs_addresses(config, &vs.key)).collect();
        out.sort();
        out.dedup();
        out.into_iter().map(|a| (a, self.metric)).collect()
    }
}

fn words_are(words: &[(String, Span)], what: &str) -> bool {
    matches!(words, [(w, _)] if w == what)
}

/// The addresses a virtual server answers on: its own, or its group's (ranges expanded).
pub fn vs_addresses(config: &Config, key: &VsKey) -> Vec<IpAddr> {
    match key {
        VsKey::Addr { ip, .. } => vec![*ip],
        VsKey::Fwmark { .. } => Vec::new(),
        VsKey::Group { name } => config
            .virtual_server_groups
            .iter()
            .filter(|g| &g.name == name)
            .flat_map(|g| &g.members)
            .flat_map(GroupMember::addresses)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Announce, Vec<(u32, &'static str)>> {
        Announce::parse(Path::new("announce.conf"), text).map_err(|e| match e {
            Error::Invalid(d) => d.iter().map(|d| (d.span.line, d.code)).collect(),
            Error::Read { .. } => Vec::new(),
        })
    }

    #[test]
    fn every_setting_is_read() {
        let a = parse(
            "# comment\nannounce {\n  table 120\n  protocol 201\n  interface dummy0\n  local_route\n  metric 7\n  \
             vip 10.0.0.1\n  vip 2001:db8::1 metric 50 # v6\n}\n",
        )
        .expect("valid");
        assert_eq!((a.table, a.protocol, a.interface.as_deref(), a.metric), (120, 201, Some("dummy0"), 7));
        assert!(a.local_route);
        let vips: Vec<(IpAddr, Option<u32>)> = a.vips.iter().map(|v| (v.addr, v.metric)).collect();
        assert_eq!(vips, vec![(IpAddr::from([10, 0, 0, 1]), None), ("2001:db8::1".parse().expect("v6"), Some(50))]);
        assert_eq!(parse("announce {\n interface none\n}\n").expect("valid").interface, None);
        assert_eq!(parse("announce { table 5 }\n").expect("one line").table, 5);
        assert_eq!(parse("announce\n{\n}\n").expect("brace on its own line"), Announce::default());
    }

    #[test]
    fn the_shipped_sample_reads() {
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../etc/announce.conf");
        let a = Announce::read(&sample).expect("etc/announce.conf is valid");
        assert_eq!((a.table, a.protocol, a.interface.as_deref()), (100, 200, Some("lo")));
        assert_eq!(a.vips.len(), 1);
    }

    #[test]
    fn errors_name_their_line() {
        let cases: [(&str, Vec<(u32, &str)>); 7] = [
            ("announce {\n table 254\n}\n", vec![(2, "announce-value")]),
            ("announce {\n protocol 3\n}\n", vec![(2, "announce-value")]),
            ("announce {\n vip 10.0.0.1\n vip 10.0.0.1 metric 2\n}\n", vec![(3, "announce-value")]),
            ("announce {\n vip 10.0.0.x\n}\n", vec![(2, "announce-value")]),
            ("announce {\n peer 10.0.0.1\n}\n", vec![(2, "announce-keyword")]),
            ("table 100\n", vec![(1, "announce-syntax"), (0, "announce-syntax")]),
            ("announce {\n metric 1\n", vec![(0, "announce-syntax")]),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text).err(), Some(want), "{text:?}");
        }
    }

    #[test]
    fn without_vip_lines_every_virtual_server_address_is_announced() {
        let conf = crate::parse_str(
            "k.conf",
            "virtual_server_group G {\n 10.0.1.1-3 80\n fwmark 9\n}\n\
             virtual_server 10.0.0.2 80 {\n}\nvirtual_server 10.0.0.2 443 {\n}\n\
             virtual_server fwmark 1 {\n}\nvirtual_server group G {\n}\n",
            &crate::Options::default(),
            None,
        )
        .config;
        let a = Announce { metric: 3, ..Announce::default() };
        let got: Vec<String> = a.addresses(&conf).iter().map(|(ip, m)| format!("{ip}/{m}")).collect();
        assert_eq!(got, ["10.0.0.2/3", "10.0.1.1/3", "10.0.1.2/3", "10.0.1.3/3"]);
        let listed = parse("announce {\n metric 4\n vip 10.9.9.9\n vip 10.0.0.2 metric 1\n}\n").expect("valid");
        assert_eq!(listed.addresses(&conf), vec![(IpAddr::from([10, 9, 9, 9]), 4), (IpAddr::from([10, 0, 0, 2]), 1)]);
    }
}
