//! The keyword tables: one row per keyword with its handler, and the helpers that turn words
//! into values with keepalived's rules (a refused value reports and keeps the default).

mod global;
mod lvs;
mod vrrp;

use std::collections::HashMap;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::model::{Config, Script};
use crate::span::{Span, Word};
use crate::tree::Statement;

/// A keyword's handler: reads the statement into the target.
pub(crate) type Handler<T> = fn(&mut Ctx, &Statement, &mut T);

/// What a keyword does.
pub(crate) enum Action<T: 'static> {
    /// A keyword Vigil acts on.
    Set(Handler<T>),
    /// An older spelling keepalived still accepts; Vigil notes the current one.
    Alias { current: &'static str, handler: Handler<T> },
    /// A keyword keepalived accepts that Vigil reads but does not act on (yet).
    Ignored,
    /// A keyword keepalived 2.2 removed or deprecated (and complains about): a warning saying
    /// what replaced it; Vigil still honours it when it can.
    Removed { advice: &'static str, handler: Option<Handler<T>> },
}

/// One row of a keyword table.
pub(crate) struct Kw<T: 'static> {
    pub name: &'static str,
    pub action: Action<T>,
}

/// FNV-1a: keyword names are short and trusted, so a simple hash beats SipHash here.
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FnvMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fnv>>;

/// A block's keywords, with an index built on first use.
pub(crate) struct Table<T: 'static> {
    pub rows: &'static [Kw<T>],
    index: OnceLock<FnvMap<&'static str, usize>>,
}

impl<T> Table<T> {
    pub const fn new(rows: &'static [Kw<T>]) -> Self {
        Table { rows, index: OnceLock::new() }
    }

    fn get(&self, name: &str) -> Option<&Kw<T>> {
        let index = self.index.get_or_init(|| self.rows.iter().enumerate().map(|(i, k)| (k.name, i)).collect());
        index.get(name).map(|&i| &self.rows[i])
    }
}

pub(crate) const fn set<T>(name: &'static str, handler: Handler<T>) -> Kw<T> {
    Kw { name, action: Action::Set(handler) }
}

pub(crate) const fn alias<T>(name: &'static str, current: &'static str, handler: Handler<T>) -> Kw<T> {
    Kw { name, action: Action::Alias { current, handler } }
}

pub(crate) const fn ignored<T>(name: &'static str) -> Kw<T> {
    Kw { name, action: Action::Ignored }
}

pub(crate) const fn removed<T>(name: &'static str, advice: &'static str, handler: Option<Handler<T>>) -> Kw<T> {
    Kw { name, action: Action::Removed { advice, handler } }
}

/// Everything a handler needs besides its statement and target.
pub(crate) struct Ctx<'a> {
    pub diags: &'a mut Diagnostics,
    /// Names of every keyword of every block, for "belongs elsewhere" hints.
    pub all_blocks: &'static [(&'static str, &'static [&'static str])],
}

/// Reads one top-level statement into the configuration.
pub(crate) fn top(ctx: &mut Ctx, stmt: &Statement, config: &mut Config) {
    apply(ctx, &global::TOP, "top level", std::slice::from_ref(stmt), config);
}

/// Resolves defaults and checks references once everything is read.
pub(crate) fn finish(ctx: &mut Ctx, config: &mut Config) {
    vrrp::finish(ctx, config);
    lvs::finish(ctx, config);
}

/// The table names used in messages and their keyword names.
pub(crate) fn block_index() -> &'static [(&'static str, &'static [&'static str])] {
    global::block_index()
}

/// Runs every statement of a block through its table.
pub(crate) fn apply<T>(ctx: &mut Ctx, table: &'static Table<T>, block: &str, items: &[Statement], target: &mut T) {
    for stmt in items {
        match table.get(stmt.name()) {
            Some(kw) => match &kw.action {
                Action::Set(h) => h(ctx, stmt, target),
                Action::Alias { current, handler } => {
                    ctx.diags.note(
                        "old-keyword",
                        stmt.span(),
                        format!("'{}' is the old name of '{current}'; both work", stmt.name()),
                    );
                    handler(ctx, stmt, target)
                }
                Action::Removed { advice, handler } => {
                    ctx.diags.warning(
                        "removed-keyword",
                        stmt.span(),
                        format!("'{}' is obsolete: {advice}", stmt.name()),
                    );
                    if let Some(h) = handler {
                        h(ctx, stmt, target)
                    }
                }
                Action::Ignored => ctx.not_implemented(stmt),
            },
            None => unknown(ctx, table, block, stmt),
        }
    }
}

fn unknown<T>(ctx: &mut Ctx, table: &'static Table<T>, block: &str, stmt: &Statement) {
    let name = stmt.name();
    if name.is_empty() {
        return;
    }
    if ctx.diags.saturated() {
        // Past the cap only the count and the worst severity matter: skip the suggestions.
        ctx.diags.warning("unknown-keyword", stmt.span(), "unknown keyword");
        return;
    }
    let elsewhere: Vec<&str> =
        ctx.all_blocks.iter().filter(|(b, names)| *b != block && names.contains(&name)).map(|(b, _)| *b).collect();
    let plain = name.replace('\u{a0}', " ");
    let suggestion = closest(plain.trim(), table.rows.iter().map(|k| k.name));
    let message = if name.contains('\u{a0}') {
        format!(
            "unknown keyword '{name}' in {block}: it contains a no-break space (U+00A0, common in text pasted from web pages); replace it with a plain space"
        )
    } else if elsewhere.is_empty() {
        format!("unknown keyword '{name}' in {block}")
    } else {
        format!("keyword '{name}' is not valid in {block} (it belongs in {})", elsewhere.join(" or "))
    };
    ctx.diags.push(Diagnostic {
        severity: Severity::Warning,
        code: "unknown-keyword",
        span: stmt.span().clone(),
        message,
        suggestion: suggestion.map(str::to_string),
        security: false,
    });
}

/// The known name closest to a misspelling, if one is close enough to be what was meant.
pub(crate) fn closest<'n>(word: &str, names: impl Iterator<Item = &'n str>) -> Option<&'n str> {
    let lower = word.to_ascii_lowercase();
    names
        .map(|n| (strsim::damerau_levenshtein(&lower, &n.to_ascii_lowercase()), n))
        .filter(|(d, n)| *d <= 2.max(n.len() / 5) && *d < n.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

impl Ctx<'_> {
    /// The `i`-th argument, or an error that it is missing.
    pub fn arg<'s>(&mut self, s: &'s Statement, i: usize) -> Option<&'s Word> {
        let w = s.args.get(i);
        if w.is_none() {
            self.diags.error("missing-value", s.span(), format!("'{}' needs a value", s.name()));
        }
        w
    }

    /// The first argument as text.
    pub fn string(&mut self, s: &Statement) -> Option<String> {
        self.arg(s, 0).map(|w| w.text.to_string())
    }

    /// Notes words after the `n` a keyword takes (keepalived ignores them silently).
    pub fn at_most(&mut self, s: &Statement, n: usize) {
        if let Some(extra) = s.args.get(n) {
            self.diags.note(
                "extra-words",
                &extra.span,
                format!("'{}' takes {n} value(s); '{}' and what follows are ignored", s.name(), extra.text),
            );
        }
    }

    /// A whole number in `lo..=hi` at argument `i`.
    pub fn int_at(&mut self, s: &Statement, i: usize, lo: i64, hi: i64) -> Option<i64> {
        let w = self.arg(s, i)?;
        self.int_word(s.name(), w, lo, hi)
    }

    pub fn int_word(&mut self, what: &str, w: &Word, lo: i64, hi: i64) -> Option<i64> {
        match w.text.parse::<i64>() {
            Ok(v) if (lo..=hi).contains(&v) => Some(v),
            Ok(_) => {
                self.diags.error("out-of-range", &w.span, format!("{what} {} out of range {lo}..={hi}", w.text));
                None
            }
            Err(_) => {
                self.diags.error("not-a-number", &w.span, format!("{what}: '{}' is not a number", w.text));
                None
            }
        }
    }

    /// A number that must fit `T` and lie in `lo..=hi`.
    pub fn num<T: TryFrom<i64>>(&mut self, s: &Statement, lo: i64, hi: i64) -> Option<T> {
        self.at_most(s, 1);
        self.int_at(s, 0, lo, hi).and_then(|v| T::try_from(v).ok())
    }

    /// A time in seconds, fractions allowed (keepalived's TIMER), at most `max` seconds.
    pub fn timer(&mut self, s: &Statement, max: f64) -> Option<Duration> {
        self.at_most(s, 1);
        let w = self.arg(s, 0)?;
        self.timer_word(s.name(), w, max)
    }

    pub fn timer_word(&mut self, what: &str, w: &Word, max: f64) -> Option<Duration> {
        // Whole seconds, the usual case, without going through floating point.
        if let Ok(secs) = w.text.parse::<u32>() {
            if f64::from(secs) <= max {
                return Some(Duration::from_secs(u64::from(secs)));
            }
        }
        match w.text.parse::<f64>() {
            Ok(v) if v.is_finite() && (0.0..=max).contains(&v) => Some(Duration::from_secs_f64(v)),
            Ok(_) => {
                self.diags.error("out-of-range", &w.span, format!("{what} {} out of range 0..={max} seconds", w.text));
                None
            }
            Err(_) => {
                self.diags.error("not-a-number", &w.span, format!("{what}: '{}' is not a time in seconds", w.text));
                None
            }
        }
    }

    /// A flag that keepalived sets whatever word follows it (a virtual server's `alpha`,
    /// `omega`, `ha_suspend`, `inhibit_on_failure`; `misc_dynamic`): on/off/true/false/yes/no
    /// read as [`Ctx::flag`] reads them (off/false/no with a note that keepalived 2.2.7 sets
    /// the flag there), any other word gets a note and sets it.
    pub fn flag_any_word(&mut self, s: &Statement) -> bool {
        let Some(w) = s.args.first() else { return self.flag(s) };
        let (on, how) = match w.text.to_ascii_lowercase().as_str() {
            "on" | "true" | "yes" => return self.flag(s),
            "off" | "false" | "no" => (self.flag(s), "turns it off here; keepalived 2.2.7 sets it whatever the word"),
            _ => {
                self.at_most(s, 1);
                (true, "is ignored and the flag set, as keepalived does")
            }
        };
        self.diags.note("flag-word", &w.span, format!("{}: '{}' {how}", s.name(), w.text));
        on
    }

    /// A flag keyword: alone it means true; it may also take on/off/true/false/yes/no.
    pub fn flag(&mut self, s: &Statement) -> bool {
        self.at_most(s, 1);
        match s.args.first() {
            None => true,
            Some(w) => match w.text.to_ascii_lowercase().as_str() {
                "on" | "true" | "yes" => true,
                "off" | "false" | "no" => false,
                _ => {
                    self.diags.error(
                        "bad-bool",
                        &w.span,
                        format!("{}: '{}' is not one of on|off|true|false|yes|no", s.name(), w.text),
                    );
                    true
                }
            },
        }
    }

    /// An IP address word.
    pub fn ip_word(&mut self, what: &str, w: &Word) -> Option<IpAddr> {
        match IpAddr::from_str(&w.text) {
            Ok(a) => Some(a),
            Err(_) => {
                self.diags.error("bad-address", &w.span, format!("{what}: '{}' is not a valid IP address", w.text));
                None
            }
        }
    }

    pub fn ip(&mut self, s: &Statement) -> Option<IpAddr> {
        self.at_most(s, 1);
        let w = self.arg(s, 0)?;
        self.ip_word(s.name(), w)
    }

    /// The address of a virtual, real or sorry server, or a checker's `connect_ip` / `bindto`:
    /// keepalived also takes `IP/...` there and ignores whatever follows the slash; so does
    /// Vigil, with a note.
    pub fn host_word(&mut self, what: &str, w: &Word) -> Option<IpAddr> {
        if let Some((addr, rest)) = w.text.split_once('/') {
            if let Ok(ip) = IpAddr::from_str(addr) {
                self.diags.note(
                    "address-prefix",
                    &w.span,
                    format!("{what}: the /{rest} of '{}' is ignored, as keepalived ignores it", w.text),
                );
                return Some(ip);
            }
        }
        self.ip_word(what, w)
    }

    pub fn host(&mut self, s: &Statement) -> Option<IpAddr> {
        self.at_most(s, 1);
        let w = self.arg(s, 0)?;
        self.host_word(s.name(), w)
    }

    /// `persistence_granularity`: an IPv4 netmask, or (for IPv6 services, as keepalived
    /// takes it) a prefix length 1-128, kept as the IPv6 mask it stands for.
    pub fn granularity(&mut self, s: &Statement) -> Option<IpAddr> {
        self.at_most(s, 1);
        let w = self.arg(s, 0)?;
        match w.text.parse::<u8>() {
            Ok(len @ 1..=128) => Some(IpAddr::V6(std::net::Ipv6Addr::from(u128::MAX << (128 - u32::from(len))))),
            Ok(_) => {
                self.diags.error(
                    "bad-number",
                    &w.span,
                    format!("persistence_granularity: prefix length '{}' is not in 1-128", w.text),
                );
                None
            }
            Err(_) => self.ip_word(s.name(), w),
        }
    }

    /// `IP[/PREFIX]`, the prefix defaulting to the full length.
    pub fn prefix_word(&mut self, what: &str, w: &Word) -> Option<(IpAddr, u8)> {
        let (addr, len) = match w.text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (w.text.as_str(), None),
        };
        let ip = match IpAddr::from_str(addr) {
            Ok(ip) => ip,
            Err(_) => {
                self.diags.error("bad-address", &w.span, format!("{what}: '{}' is not a valid IP address", w.text));
                return None;
            }
        };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        match len.map(str::parse::<u8>) {
            None => Some((ip, max)),
            Some(Ok(l)) if l <= max => Some((ip, l)),
            Some(_) => {
                self.diags.error(
                    "bad-prefix",
                    &w.span,
                    format!("{what}: '{}' has an invalid prefix length (0..={max})", w.text),
                );
                None
            }
        }
    }

    /// A port number.
    pub fn port_word(&mut self, what: &str, w: &Word) -> Option<u16> {
        self.int_word(what, w, 0, 65535).and_then(|v| u16::try_from(v).ok())
    }

    /// The block of a statement; an error when the keyword needs one and has none.
    pub fn block<'s>(&mut self, s: &'s Statement) -> &'s [Statement] {
        if s.block.is_none() {
            self.diags.error("missing-block", s.span(), format!("'{}' needs a {{ ... }} block", s.name()));
        }
        s.items()
    }

    /// The name of a named block (`vrrp_instance NAME {`).
    pub fn block_name(&mut self, s: &Statement) -> String {
        match s.args.first() {
            Some(w) => w.text.to_string(),
            None => {
                self.diags.error("missing-name", s.span(), format!("'{}' needs a name", s.name()));
                String::new()
            }
        }
    }

    /// A script: `PATH|"PATH ARGS"` `[USER [GROUP]]`.
    pub fn script(&mut self, s: &Statement) -> Option<Script> {
        let cmd = self.arg(s, 0)?;
        let argv = split_command(&cmd.text);
        if argv.is_empty() {
            self.diags.error("missing-value", &cmd.span, format!("'{}' has an empty command", s.name()));
            return None;
        }
        if s.args.len() > 3 {
            self.diags.warning(
                "extra-words",
                &s.args[3].span,
                format!("'{}' takes a command, a user and a group; quote the command if it has arguments", s.name()),
            );
        }
        Some(Script {
            argv,
            user: s.args.get(1).map(|w| w.text.to_string()),
            group: s.args.get(2).map(|w| w.text.to_string()),
            span: s.span().clone(),
        })
    }

    /// `USER [GROUP]`
    pub fn user_group(&mut self, s: &Statement) -> Option<(String, Option<String>)> {
        self.at_most(s, 2);
        let user = self.arg(s, 0)?.text.to_string();
        Some((user, s.args.get(1).map(|w| w.text.to_string())))
    }

    /// Reports an error at a span.
    pub fn error(&mut self, code: &'static str, span: &Span, message: impl Into<String>) {
        self.diags.error(code, span, message);
    }

    pub fn warning(&mut self, code: &'static str, span: &Span, message: impl Into<String>) {
        self.diags.warning(code, span, message);
    }

    /// Notes a keepalived keyword that is read but not acted on.
    pub fn not_implemented(&mut self, s: &Statement) {
        self.diags.note(
            "not-implemented",
            s.span(),
            format!("'{}' is a keepalived keyword that Vigil accepts but does not act on", s.name()),
        );
    }
}

/// Splits a command line on unquoted spaces; single quotes keep spaces inside an argument.
pub(crate) fn split_command(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quote = false;
    let mut has = false;
    for c in cmd.chars() {
        match c {
            '\'' => {
                in_quote = !in_quote;
                has = true;
            }
            c if c.is_whitespace() && !in_quote => {
                if has {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            c => {
                cur.push(c);
                has = true;
            }
        }
    }
    if has {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_names() {
        let names = ["lvs_sync_daemon_interface", "priority", "virtual_router_id"];
        assert_eq!(closest("lvs_sync_daemon_inteface", names.into_iter()), Some("lvs_sync_daemon_interface"));
        assert_eq!(closest("priorty", names.into_iter()), Some("priority"));
        assert_eq!(closest("weight", names.into_iter()), None);
    }

    #[test]
    fn commands() {
        assert_eq!(split_command("/bin/x a 'b c'"), ["/bin/x", "a", "b c"]);
        assert_eq!(split_command("  "), Vec::<String>::new());
    }
}

#[cfg(test)]
mod cases;
