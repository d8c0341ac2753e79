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
    /// A keyword keepalived accepts that Vigil reads but does not act on (yet): a note says so,
    /// and the handler, if any, checks the value as keepalived checks it.
    Ignored(Option<Handler<T>>),
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

    pub(crate) fn get(&self, name: &str) -> Option<&Kw<T>> {
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
    Kw { name, action: Action::Ignored(None) }
}

/// A keyword Vigil does not act on whose value it still checks as keepalived does.
pub(crate) const fn checked<T>(name: &'static str, handler: Handler<T>) -> Kw<T> {
    Kw { name, action: Action::Ignored(Some(handler)) }
}

pub(crate) const fn removed<T>(name: &'static str, advice: &'static str, handler: Option<Handler<T>>) -> Kw<T> {
    Kw { name, action: Action::Removed { advice, handler } }
}

/// Everything a handler needs besides its statement and target.
pub(crate) struct Ctx<'a> {
    pub diags: &'a mut Diagnostics,
    /// Names of every keyword of every block, for "belongs elsewhere" hints.
    pub all_blocks: &'static [(&'static str, &'static [&'static str])],
    /// How many `{ ... }` blocks handlers have taken ([`Ctx::block`]): a handler that leaves a
    /// statement's block untouched does not take one.
    pub blocks_read: usize,
    /// While a real server's block is read, how keepalived starts its "already specified"
    /// warnings: its virtual server's (`(G) ` in a `virtual_server group G`).
    pub rs_owner: String,
}

/// Reads one top-level statement into the configuration.
pub(crate) fn top(ctx: &mut Ctx, stmt: &Statement, config: &mut Config) {
    apply(ctx, &global::TOP, "top level", std::slice::from_ref(stmt), config);
}

/// Resolves defaults and checks references once everything is read.
/// `moved` places the virtual servers a reload's reading took from the running configuration.
pub(crate) fn finish(ctx: &mut Ctx, config: &mut Config, moved: &crate::reuse::Moved) {
    vrrp::finish(ctx, config);
    vrrp::sync_group_tracking(ctx, config);
    lvs::finish(ctx, config, moved);
}

/// The table names used in messages and their keyword names.
pub(crate) fn block_index() -> &'static [(&'static str, &'static [&'static str])] {
    global::block_index()
}

/// Runs every statement of a block through its table.
pub(crate) fn apply<T>(ctx: &mut Ctx, table: &'static Table<T>, block: &str, items: &[Statement], target: &mut T) {
    for stmt in items {
        let Some(kw) = table.get(stmt.name()) else {
            unknown(ctx, table, block, stmt);
            continue;
        };
        let before = ctx.blocks_read;
        let handler = match &kw.action {
            Action::Set(h) => Some(h),
            Action::Alias { current, handler } => {
                ctx.diags.note(
                    "old-keyword",
                    stmt.span(),
                    format!("'{}' is the old name of '{current}'; both work", stmt.name()),
                );
                Some(handler)
            }
            Action::Removed { advice, handler } => {
                ctx.diags.warning("removed-keyword", stmt.span(), format!("'{}' is obsolete: {advice}", stmt.name()));
                handler.as_ref()
            }
            Action::Ignored(check) => {
                ctx.not_implemented(stmt);
                check.as_ref()
            }
        };
        let Some(h) = handler else { continue };
        h(ctx, stmt, target);
        // A `{` after a keyword that takes no block: keepalived says so, ignores the brace and
        // reads what the block holds as lines of the enclosing block.
        if let Some(b) = stmt.block.as_ref().filter(|_| ctx.blocks_read == before) {
            ctx.diags.warning(
                "unexpected-brace",
                &b.open,
                format!("Unexpected '{{' - ignoring ('{}' takes no block)", stmt.name()),
            );
            apply(ctx, table, block, &b.items, target);
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

impl<'a> Ctx<'a> {
    /// Reporting into `diags`, with no block read yet.
    pub fn new(diags: &'a mut Diagnostics) -> Ctx<'a> {
        Ctx { diags, all_blocks: block_index(), blocks_read: 0, rs_owner: String::new() }
    }
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

    /// A whole number in `lo..=hi` at argument `i` of a keyword keepalived checks and then
    /// ignores when wrong (it warns and runs on): a warning in keepalived's words otherwise.
    pub fn lenient_int(&mut self, s: &Statement, i: usize, lo: i64, hi: i64) -> Option<i64> {
        let w = self.arg(s, i)?;
        match w.text.parse::<i64>() {
            Ok(v) if (lo..=hi).contains(&v) => Some(v),
            Ok(_) => {
                self.warning(
                    "out-of-range",
                    &w.span,
                    format!("{}: number '{}' outside range [{lo}, {hi}]", s.name(), w.text),
                );
                None
            }
            Err(_) => {
                self.warning("not-a-number", &w.span, format!("{}: invalid number '{}'", s.name(), w.text));
                None
            }
        }
    }

    /// A decimal number of seconds (or milliseconds: the unit is the caller's) with at most
    /// `places` decimals in `lo..=hi` at argument `i`, checked as keepalived's
    /// `read_decimal_unsigned_strvec` checks it; a warning when it is not.
    pub fn lenient_decimal(&mut self, s: &Statement, i: usize, lo: f64, hi: f64, places: usize) -> Option<f64> {
        let w = self.arg(s, i)?;
        let text = w.text.as_str();
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        let well_formed = match text.split_once('.') {
            Some((int, frac)) => (int.is_empty() || digits(int)) && (frac.is_empty() || digits(frac)),
            None => digits(text),
        };
        let value = text.parse::<f64>().ok().filter(|v| well_formed && v.is_finite());
        match value {
            None => self.warning("not-a-number", &w.span, format!("{}: invalid number '{text}'", s.name())),
            Some(_) if text.split_once('.').is_some_and(|(_, f)| f.len() > places) => self.warning(
                "not-a-number",
                &w.span,
                format!("{}: number '{text}' has too many decimal places", s.name()),
            ),
            Some(v) if !(lo..=hi).contains(&v) => self.warning(
                "out-of-range",
                &w.span,
                format!("{}: number '{text}' outside range [{lo:.6}, {hi:.6}]", s.name()),
            ),
            Some(v) => return Some(v),
        }
        None
    }

    /// A whole number read as keepalived's `read_unsigned` reads it (C's `strtoul`: leading
    /// spaces and a `+` allowed, `""` is 0, no sign), within `lo..=hi`.
    pub fn ka_unsigned(&mut self, s: &Statement, lo: u64, hi: u64) -> Option<u64> {
        self.at_most(s, 1);
        let w = self.arg(s, 0)?;
        let text = crate::lexer::trim_start(&w.text);
        let digits = text.strip_prefix('+').unwrap_or(text);
        let problem = if text.starts_with('-') {
            format!("negative number '{}'", w.text)
        } else if !digits.bytes().all(|b| b.is_ascii_digit()) {
            format!("invalid number '{}'", w.text)
        } else {
            match if digits.is_empty() { Ok(0) } else { digits.parse::<u64>() } {
                Ok(v) if (lo..=hi).contains(&v) => return Some(v),
                _ => format!("number '{}' outside range [{lo}, {hi}]", w.text),
            }
        };
        self.error("bad-number", &w.span, format!("{}: {problem}", s.name()));
        None
    }

    /// [`Ctx::ka_unsigned`] into a narrower type.
    pub fn ka_num<T: TryFrom<u64>>(&mut self, s: &Statement, lo: u64, hi: u64) -> Option<T> {
        self.ka_unsigned(s, lo, hi).and_then(|v| T::try_from(v).ok())
    }

    /// A time in seconds read as keepalived's `read_timer` reads it: digits with at most six
    /// decimals (more are reported, then rounded), no sign or exponent, `""` meaning 0, within
    /// `lo_us..=hi_us` microseconds. Vigil's timers stop at a day: a longer accepted value is
    /// kept as 86400 s, with a note.
    pub fn ka_timer(&mut self, s: &Statement, lo_us: u64, hi_us: u64) -> Option<Duration> {
        self.at_most(s, 1);
        let w = self.arg(s, 0)?;
        let text = w.text.as_str();
        let bad = |c: &mut Self, msg: String| {
            c.error("bad-timer", &w.span, format!("{}: {msg}", s.name()));
            None
        };
        if text.starts_with('-') {
            return bad(self, format!("negative number '{text}'"));
        }
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        if frac.len() > 6 {
            self.error("bad-timer", &w.span, format!("{}: number '{text}' has too many decimal places", s.name()));
        }
        let round_up = frac.as_bytes().get(6).is_some_and(|d| *d >= b'5');
        let frac6: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
        let digits = format!("{}{frac6}", int.strip_prefix('+').unwrap_or(int));
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return bad(self, format!("invalid number '{text}'"));
        }
        let Some(us) = digits.parse::<u64>().ok().map(|v| v + u64::from(round_up)) else {
            return bad(self, format!("number '{text}' outside range"));
        };
        let secs = |v: u64| format!("{}.{:06}", v / 1_000_000, v % 1_000_000);
        if !(lo_us..=hi_us).contains(&us) {
            return bad(self, format!("number '{text}' outside range [{}, {}]", secs(lo_us), secs(hi_us)));
        }
        const DAY_US: u64 = 86_400_000_000;
        if us > DAY_US {
            self.diags.note(
                "timer-capped",
                &w.span,
                format!("{}: {text} s is kept as 86400 s (Vigil's longest timer)", s.name()),
            );
        }
        Some(Duration::from_micros(us.min(DAY_US)))
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
        let (on, how) = match w.text.as_str() {
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
            // keepalived compares these words case-sensitively (`YES` is refused).
            Some(w) => match w.text.as_str() {
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
        self.blocks_read += 1;
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

    /// A notify script of which keepalived keeps the first one given: a later one is reported
    /// in keepalived's words (`(VI_1) notify_master script already specified - ignoring
    /// /bin/x`) and changes nothing. `owner` starts the message: `(VI_1) `, `vrrp group G: `.
    pub fn first_script(&mut self, s: &Statement, slot: &mut Option<Script>, owner: &str) {
        if slot.is_some() {
            self.script_given(s, owner);
        } else {
            *slot = self.script(s);
        }
    }

    /// Reports `s` as a second notify script (see [`first_script`](Self::first_script)).
    pub fn script_given(&mut self, s: &Statement, owner: &str) {
        self.already_given(s, &format!("{owner}{} script", s.name()));
    }

    /// Reports `s` as a second `what` where keepalived keeps the first one, in its words:
    /// `WHAT already specified - ignoring VALUE`.
    pub fn already_given(&mut self, s: &Statement, what: &str) {
        let ignored = s.args.first().map_or("", |a| &*a.text);
        self.warning("duplicate", s.span(), format!("{what} already specified - ignoring {ignored}"));
    }

    /// A script: `PATH|"PATH ARGS"` `[USER [GROUP]]`. On a line with a `\` or a `'`,
    /// keepalived reads the words again from the raw line with escapes and both kinds of
    /// quotes (`"/bin/sh -c \"test -e /tmp\""` is one word), and so does Vigil.
    pub fn script(&mut self, s: &Statement) -> Option<Script> {
        let cmd = self.arg(s, 0)?;
        let (words, spans): (Vec<String>, Vec<&Span>) = match &s.raw {
            Some(raw) => match split_escaped(raw) {
                // The raw line starts with the keyword itself.
                Ok(w) => {
                    let spans = (1..w.len()).map(|i| s.args.get(i - 1).map_or(&cmd.span, |a| &a.span)).collect();
                    (w.into_iter().skip(1).collect(), spans)
                }
                Err(e) => {
                    self.error("bad-quote", &cmd.span, format!("String '{raw}': {e}"));
                    return None;
                }
            },
            None => (s.args.iter().map(|w| w.text.to_string()).collect(), s.args.iter().map(|w| &w.span).collect()),
        };
        let argv = match words.first().map(|c| split_escaped(c)) {
            Some(Ok(argv)) => argv,
            Some(Err(e)) => {
                self.error("bad-quote", &cmd.span, format!("'{}': {e}", s.name()));
                return None;
            }
            None => Vec::new(),
        };
        // keepalived only logs these two (exit 0 in -t): a note, not a warning.
        if argv.is_empty() {
            self.diags.note("missing-value", &cmd.span, format!("'{}' has an empty command; it is ignored", s.name()));
            return None;
        }
        if words.len() > 3 {
            self.diags.note(
                "extra-words",
                spans[3],
                format!("'{}' takes a command, a user and a group; quote the command if it has arguments", s.name()),
            );
        }
        Some(Script { argv, user: words.get(1).cloned(), group: words.get(2).cloned(), span: s.span().clone() })
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

/// Why a line could not be split into words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SplitError {
    /// A quote opened and never closed.
    #[error("missing terminating {0}")]
    Unterminated(char),
    /// A `\` with nothing after it.
    #[error("missing escape char at end")]
    TrailingBackslash,
}

/// Splits text into words as keepalived splits script command lines: whitespace separates
/// words; `"..."` and `'...'` keep spaces and join the text around them into one word; `\`
/// escapes anywhere (`\n`, `\t`, `\xHH`, `\cX`, octal `\NNN`, and any other character for
/// itself). Words stop at an unquoted `{` or `}`, which belong to the block structure.
pub(crate) fn split_escaped(text: &str) -> Result<Vec<String>, SplitError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                in_word = true;
                let Some(e) = chars.next() else { return Err(SplitError::TrailingBackslash) };
                let byte = |v: u32| char::from(u8::try_from(v & 0xff).unwrap_or(0));
                let decoded = match e {
                    'x' if chars.peek().is_some_and(char::is_ascii_hexdigit) => {
                        let mut v = 0u32;
                        while let Some(d) = chars.peek().and_then(|d| d.to_digit(16)) {
                            v = (v << 4 | d) & 0xff;
                            chars.next();
                        }
                        byte(v)
                    }
                    'c' if chars.peek().is_some() => byte(chars.next().map_or(0, u32::from) & 0x1f),
                    '0'..='7' => {
                        let mut v = e.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            match chars.peek().and_then(|d| d.to_digit(8)) {
                                Some(d) => {
                                    v = v << 3 | d;
                                    chars.next();
                                }
                                None => break,
                            }
                        }
                        byte(v)
                    }
                    'a' => '\u{7}',
                    'b' => '\u{8}',
                    'E' => '\u{1b}',
                    'f' => '\u{c}',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'v' => '\u{b}',
                    other => other,
                };
                cur.push(decoded);
            }
            q if quote == Some(q) => quote = None,
            c if quote.is_some() => cur.push(c),
            '"' | '\'' => {
                quote = Some(c);
                in_word = true;
            }
            '{' | '}' => break,
            c if crate::lexer::is_space(c) => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if let Some(q) = quote {
        return Err(SplitError::Unterminated(q));
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// What reading `text` says in messages that contain `needle`: line, severity, message.
#[cfg(test)]
pub(crate) fn said_about(text: &str, needle: &str) -> Vec<(u32, Severity, String)> {
    let parsed = crate::parse_str("k.conf", text, &crate::Options::default(), None);
    parsed
        .diagnostics
        .iter()
        .filter(|d| d.message.contains(needle))
        .map(|d| (d.span.line, d.severity, d.message.clone()))
        .collect()
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
    fn commands_split_as_keepalived_splits_scripts() {
        let ok = |t: &str| split_escaped(t).expect("well-formed");
        assert_eq!(ok("/bin/x a 'b c'"), ["/bin/x", "a", "b c"]);
        assert_eq!(ok("  "), Vec::<String>::new());
        assert_eq!(ok(r#"misc_path "/bin/sh -c \"test -e /tmp\"""#), ["misc_path", r#"/bin/sh -c "test -e /tmp""#]);
        assert_eq!(ok(r#"/bin/sh -c "test -e /tmp""#), ["/bin/sh", "-c", "test -e /tmp"]);
        assert_eq!(ok(r#"a"b c"d 'e\'f' \x41\101\cA\t"#), ["ab cd", "e'f", "AA\u{1}\t"]);
        assert_eq!(ok("x '' y"), ["x", "", "y"]);
        assert_eq!(ok("notify /bin/x } trailing"), ["notify", "/bin/x"]);
        assert_eq!(split_escaped("a 'b"), Err(SplitError::Unterminated('\'')));
        assert_eq!(split_escaped("a \"b"), Err(SplitError::Unterminated('"')));
        assert_eq!(split_escaped("a\\"), Err(SplitError::TrailingBackslash));
    }
}

#[cfg(test)]
mod cases;
#[cfg(test)]
mod keepalived_tree;
