//! A reloaded configuration keeps the running one's virtual servers that did not change.
//!
//! At 100,000 real servers a configuration holds tens of megabytes. Between the moment a
//! reload has read the new file and the moment the running configuration is let go, both are
//! alive, with the plans and boards built from them: a virtual server that says the same in
//! both is then held once, the running one's. "Says the same" leaves out where it is written:
//! a line added above it moves it without changing it, and it keeps the running one's
//! positions (which only the diagnostics of the reading that made it used).
//!
//! A reload reads the new file with the running configuration at hand ([`Running`]): each
//! virtual server read that says the same as the running one and sits where it sat, or moved
//! as a whole by some lines, is replaced by the running one as soon as it is read, so that the
//! reading never holds the whole file's virtual servers beside the running ones (the reload's
//! peak). The diagnostics given after the reading place them where this file has them
//! ([`Moved`]). [`keep_unchanged`] then takes the rest that says the same.

use std::sync::Arc;

use crate::in_order::InOrder;
use crate::model::{CheckKind, Config, Protocol, RealServer, Script, VirtualServer, VsKey};
use crate::span::Span;

/// The running configuration's virtual servers, for a reading to take as it goes.
pub(crate) struct Running<'a> {
    old: &'a [Arc<VirtualServer>],
    finder: InOrder<'a, Arc<VirtualServer>, VsKeyOf>,
}

/// What the running virtual servers are found by: their key and protocol.
type VsKeyOf = fn(&Arc<VirtualServer>) -> (VsKey, Protocol);

fn vs_key(vs: &Arc<VirtualServer>) -> (VsKey, Protocol) {
    (vs.key.clone(), vs.protocol)
}

impl<'a> Running<'a> {
    pub fn new(old: &'a Config) -> Running<'a> {
        Running { old: &old.virtual_servers, finder: InOrder::new(&old.virtual_servers, vs_key) }
    }

    /// The running virtual server of `vs`'s key and protocol, asked in the new file's order.
    fn find(&mut self, vs: &VirtualServer) -> Option<&'a Arc<VirtualServer>> {
        let at = self.finder.find((vs.key.clone(), vs.protocol))?;
        self.old.get(at)
    }

    /// Replaces `vs` by the running virtual server of its key when that one says the same and
    /// every position of `vs` is that one's moved by one number of lines (in the same file and
    /// column); returns that number.
    pub fn share(&mut self, vs: &mut Arc<VirtualServer>) -> Option<i64> {
        let old = self.find(vs)?;
        let by = moved_by(vs, old)?;
        *vs = old.clone();
        Some(by)
    }
}

/// By how many lines `new` is `old` moved: `None` unless the two say the same and every
/// position moved by that many lines, in the same file and column.
fn moved_by(new: &VirtualServer, old: &VirtualServer) -> Option<i64> {
    if new == old {
        return Some(0);
    }
    if new.real_servers.len() != old.real_servers.len() {
        return None;
    }
    let ((a, at_new), (b, at_old)) = (unplaced_at(new, &new.span), unplaced_at(old, &new.span));
    if a != b || at_new.len() != at_old.len() {
        return None;
    }
    let by = i64::from(new.span.line) - i64::from(old.span.line);
    let shifted =
        |(n, o): (&Span, &Span)| n.file == o.file && n.col == o.col && i64::from(n.line) - i64::from(o.line) == by;
    at_new.iter().zip(&at_old).all(shifted).then_some(by)
}

/// The virtual servers a reading took from the running configuration ([`Running::share`])
/// that the file moved: their index and by how many lines, in order of index.
#[derive(Debug, Default)]
pub(crate) struct Moved(Vec<(usize, i64)>);

impl Moved {
    /// Notes that the virtual server at `vs` is the running one moved by `by` lines.
    pub fn record(&mut self, vs: usize, by: i64) {
        if by != 0 {
            self.0.push((vs, by));
        }
    }

    /// Where `span`, a position in the virtual server at `vs`, is in the file read.
    pub fn place(&self, vs: usize, span: &Span) -> Span {
        let mut placed = span.clone();
        if let Ok(k) = self.0.binary_search_by_key(&vs, |&(i, _)| i) {
            placed.line = u32::try_from(i64::from(span.line) + self.0[k].1).unwrap_or(span.line);
        }
        placed
    }
}

/// Replaces each virtual server of `new` that says the same as one of `old` (the same key and
/// protocol, and every setting and real server equal) by `old`'s. Returns how many were kept.
pub fn keep_unchanged(new: &mut Config, old: &Config) -> usize {
    let mut running = Running::new(old);
    let mut kept = 0;
    for vs in &mut new.virtual_servers {
        let Some(old_vs) = running.find(vs) else { continue };
        if !Arc::ptr_eq(vs, old_vs) && same_but_where(vs, old_vs) {
            *vs = old_vs.clone();
            kept += 1;
        }
    }
    kept
}

/// Whether `a` and `b` are equal but for their positions.
fn same_but_where(a: &VirtualServer, b: &VirtualServer) -> bool {
    if a.real_servers.len() != b.real_servers.len() {
        return false;
    }
    unplaced(a, &a.span) == unplaced(b, &a.span)
}

/// A copy of `vs` with every position at `here`.
fn unplaced(vs: &VirtualServer, here: &Span) -> VirtualServer {
    unplaced_at(vs, here).0
}

/// [`unplaced`], with the positions `vs` had, in order.
fn unplaced_at(vs: &VirtualServer, here: &Span) -> (VirtualServer, Vec<Span>) {
    let (mut vs, mut positions) = (vs.clone(), Vec::new());
    spans_mut(&mut vs, &mut |s| positions.push(std::mem::replace(s, here.clone())));
    (vs, positions)
}

/// Every position written in a virtual server.
fn spans_mut(vs: &mut VirtualServer, f: &mut impl FnMut(&mut Span)) {
    f(&mut vs.span);
    if let Some(s) = &mut vs.protocol_span {
        f(s);
    }
    if let Some(extra) = &mut vs.extra {
        if let Some(s) = &mut extra.sorry_server {
            f(&mut s.span);
        }
        for script in [&mut extra.quorum_up, &mut extra.quorum_down].into_iter().flatten() {
            f(&mut script.span);
        }
    }
    for rs in &mut vs.real_servers {
        real_server_spans(rs, f);
    }
}

fn real_server_spans(rs: &mut RealServer, f: &mut impl FnMut(&mut Span)) {
    f(&mut rs.span);
    if let Some(extra) = &mut rs.extra {
        for script in [&mut extra.notify_up, &mut extra.notify_down].into_iter().flatten() {
            f(&mut script.span);
        }
    }
    for checker in &mut rs.checkers {
        f(&mut checker.span);
        match &mut checker.kind {
            CheckKind::Http(http) => {
                for url in &mut http.urls {
                    f(&mut url.span);
                }
            }
            CheckKind::Misc(misc) => {
                if let Some(Script { span, .. }) = &mut misc.path {
                    f(span);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_str, Options};

    fn read(text: &str) -> Config {
        let parsed = parse_str("k.conf", text, &Options::default(), None);
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        parsed.config
    }

    /// A virtual server as the tests write it: its address's last byte, delay_loop, and each
    /// real server's last byte and weight.
    #[derive(Clone, PartialEq)]
    struct Vs {
        at: u8,
        delay: u32,
        servers: Vec<(u8, u32)>,
    }

    /// The text of `list`, with `blank` empty lines before the virtual server of each index.
    fn text(list: &[Vs], blank: &[usize]) -> String {
        let mut out = String::new();
        for (i, vs) in list.iter().enumerate() {
            out.extend(blank.iter().filter(|&&b| b == i).map(|_| "\n"));
            out += &format!("virtual_server 10.1.0.{} 80 {{\n    delay_loop {}\n", vs.at, vs.delay);
            for (rs, weight) in &vs.servers {
                out += &format!("    real_server 10.2.{}.{rs} 80 {{\n        weight {weight}\n        TCP_CHECK {{\n            connect_timeout 3\n        }}\n    }}\n", vs.at);
            }
            out += "}\n";
        }
        out
    }

    #[test]
    fn a_virtual_server_that_moved_or_did_not_change_is_the_running_one() {
        let list: Vec<Vs> = (1..=3).map(|at| Vs { at, delay: 6, servers: vec![(1, 1), (2, 1)] }).collect();
        let old = read(&text(&list, &[]));
        let mut edited = list.clone();
        edited[1].servers[0].1 = 7;
        let mut new = read(&text(&edited, &[0, 0, 2]));
        let moved_line = new.virtual_servers[2].span.line;
        assert_eq!(keep_unchanged(&mut new, &old), 2);
        let kept: Vec<bool> =
            new.virtual_servers.iter().zip(&old.virtual_servers).map(|(n, o)| Arc::ptr_eq(n, o)).collect();
        assert_eq!(kept, [true, false, true]);
        assert_eq!(new.virtual_servers[1].real_servers[0].weight, 7);
        assert_ne!(new.virtual_servers[2].span.line, moved_line, "a kept one keeps where the running one was");
    }

    #[test]
    fn any_position_or_setting_that_differs_is_seen() {
        let base = "virtual_server 10.1.0.1 80 {\n delay_loop 6\n quorum_up \"/bin/true\"\n sorry_server 10.3.0.1 80\n real_server 10.2.0.1 80 {\n  notify_up /bin/true\n  HTTP_GET {\n   url {\n    path /\n    status_code 200\n   }\n  }\n  MISC_CHECK {\n   misc_path /bin/true\n  }\n }\n}\n";
        let old = read(base);
        let cases = [
            ("moved down", format!("\n\n{base}"), true),
            ("its quorum_up", base.replace("quorum_up \"/bin/true\"", "quorum_up \"/bin/false\""), false),
            ("its sorry server", base.replace("10.3.0.1", "10.3.0.2"), false),
            ("a notify_up", base.replace("notify_up /bin/true", "notify_up /bin/false"), false),
            ("a url", base.replace("path /\n", "path /x\n"), false),
            ("a misc_path", base.replace("misc_path /bin/true", "misc_path /bin/false"), false),
            ("a real server's port", base.replace("10.2.0.1 80", "10.2.0.1 81"), false),
        ];
        for (name, text, same) in cases {
            let mut new = read(&text);
            assert_eq!(keep_unchanged(&mut new, &old) == 1, same, "{name}");
        }
    }

    /// Six virtual servers, then one to three seeded random edits of them (a delay_loop, a real
    /// server added or removed, a weight, a virtual server added at the top, two swapped), and
    /// where blank lines go before some: (before, after, blank lines).
    fn seeded_edits(rng: &mut fastrand::Rng) -> (Vec<Vs>, Vec<Vs>, Vec<usize>) {
        let before: Vec<Vs> =
            (1..=6).map(|at| Vs { at, delay: 6, servers: (1..=rng.u8(1..=3)).map(|r| (r, 1)).collect() }).collect();
        let mut list = before.clone();
        for _ in 0..rng.u8(1..=3) {
            let i = rng.usize(..list.len());
            match rng.u8(..6) {
                0 => list[i].delay += 1,
                1 => list[i].servers.push((rng.u8(50..100), 1)),
                2 if list[i].servers.len() > 1 => {
                    list[i].servers.remove(0);
                }
                3 => list[i].servers[0].1 += 1,
                4 => list.insert(0, Vs { at: rng.u8(100..200), delay: 6, servers: vec![(1, 1)] }),
                _ => {
                    let j = rng.usize(..list.len());
                    list.swap(i, j);
                }
            }
        }
        list.dedup_by_key(|v| v.at);
        let blank = (0..rng.u8(..4)).map(|_| rng.usize(..list.len())).collect();
        (before, list, blank)
    }

    /// Whether `spec` is written as one virtual server of `before` was, the only one of its address.
    fn unchanged(before: &[Vs], spec: &Vs) -> bool {
        before.iter().any(|b| b == spec) && before.iter().filter(|b| b.at == spec.at).count() == 1
    }

    /// A host with none of the virtual servers' addresses, no `/bin/missing` and no user
    /// `nobody2`: each of them is a diagnostic given after the reading.
    struct Bare;

    impl crate::Host for Bare {
        fn interface_exists(&self, _: &str) -> bool {
            true
        }
        fn local_addresses(&self) -> Vec<std::net::IpAddr> {
            Vec::new()
        }
        fn executable(&self, path: &std::path::Path) -> Option<bool> {
            Some(!path.ends_with("missing"))
        }
        fn user_exists(&self, name: &str) -> bool {
            name != "nobody2"
        }
    }

    /// [`text`], with what the diagnostics given after the reading point into: every other
    /// virtual server has a real server with a missing MISC_CHECK script run as an unknown user
    /// and a FILE_CHECK of an unknown track_file, and every third one lists a real server twice.
    fn noted_text(list: &[Vs], blank: &[usize]) -> String {
        let plain = text(list, blank);
        let mut out = String::new();
        let mut vs = list.iter();
        for line in plain.split_inclusive('\n') {
            out += line;
            if !line.starts_with("virtual_server") {
                continue;
            }
            let Some(at) = vs.next().map(|v| v.at) else { continue };
            if at % 2 == 0 {
                out += &format!("    real_server 10.2.{at}.250 80 {{\n        MISC_CHECK {{\n            misc_path /bin/missing\n            user nobody2\n        }}\n        FILE_CHECK {{\n            track_file none\n        }}\n    }}\n");
            }
            if at % 3 == 0 {
                out += &format!(
                    "    real_server 10.2.{at}.251 80 {{\n    }}\n    real_server 10.2.{at}.251 80 {{\n    }}\n"
                );
            }
        }
        out
    }

    /// A reload's reading over the running configuration, after [`seeded_edits`]. Each
    /// virtual server written the same, wherever it moved, is the running one as soon as it is
    /// read; every one says what the file says; and the diagnostics are a fresh reading's, at
    /// this file's lines (a running one taken keeps its own positions).
    #[test]
    fn seeded_edits_read_over_the_running_one_say_and_place_what_the_file_says() {
        let host: Option<&dyn crate::Host> = Some(&Bare);
        let mut moved_and_noted = 0;
        for seed in 0..300 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let (before, list, blank) = seeded_edits(&mut rng);
            let old = crate::parse_str("k.conf", &noted_text(&before, &[]), &Options::default(), host).config;
            let written = noted_text(&list, &blank);
            let fresh = crate::parse_str("k.conf", &written, &Options::default(), host);
            let read = crate::reparse_str("k.conf", &written, host, &old);
            assert_eq!(read.diagnostics, fresh.diagnostics, "seed {seed}: the same diagnostics at the same lines");
            for ((vs, f), spec) in read.config.virtual_servers.iter().zip(&fresh.config.virtual_servers).zip(&list) {
                assert!(
                    unplaced(vs, &f.span) == unplaced(f, &f.span),
                    "seed {seed}: 10.1.0.{} says what the file says",
                    spec.at
                );
                let running = old.virtual_servers.iter().zip(&before).find(|(_, b)| b.at == spec.at);
                let taken = running.is_some_and(|(o, _)| Arc::ptr_eq(o, vs));
                assert_eq!(
                    taken,
                    unchanged(&before, spec),
                    "seed {seed}: 10.1.0.{} taken when and only when unchanged",
                    spec.at
                );
                if taken && vs.span != f.span && spec.at % 2 == 0 {
                    moved_and_noted += 1;
                }
            }
        }
        assert!(moved_and_noted > 100, "the edits move virtual servers with diagnostics: {moved_and_noted}");
    }

    /// The diagnostics that look outside a virtual server (a BFD_CHECK's instance read before
    /// it, a group, a fwmark's protocol) place a moved one where the new file has it, and a
    /// virtual server whose BFD_CHECK stands is not copied by the check that drops the others.
    #[test]
    fn checks_across_blocks_place_a_moved_virtual_server() {
        let old_text = "bfd_instance b1 {\n neighbor_ip 192.0.2.4\n}\n\
                        virtual_server 192.0.2.10 80 {\n real_server 192.0.2.20 80 {\n  BFD_CHECK {\n   name b1\n  }\n  BFD_CHECK {\n   name b2\n  }\n }\n}\n\
                        virtual_server 192.0.2.11 80 {\n real_server 192.0.2.21 80 {\n  BFD_CHECK {\n   name b1\n  }\n }\n}\n\
                        virtual_server fwmark 7 {\n protocol TCP\n real_server 192.0.2.22 80 {\n }\n}\n\
                        virtual_server group g1 {\n real_server 192.0.2.23 80 {\n }\n}\n\
                        bfd_instance b2 {\n neighbor_ip 192.0.2.5\n}\n";
        let old = crate::parse_str("k.conf", old_text, &Options::default(), None).config;
        // Moved down three lines, and b2 now read before the first virtual server.
        let new_text = format!(
            "bfd_instance b2 {{\n neighbor_ip 192.0.2.5\n}}\n{}",
            old_text.replace("bfd_instance b2 {\n neighbor_ip 192.0.2.5\n}\n", "")
        );
        let fresh = crate::parse_str("k.conf", &new_text, &Options::default(), None);
        let read = crate::reparse_str("k.conf", &new_text, None, &old);
        assert_eq!(read.diagnostics, fresh.diagnostics);
        assert!(read.diagnostics.iter().any(|d| d.message.contains("not a virtual_server_group")));
        assert!(read.diagnostics.iter().any(|d| d.message.contains("protocol is ignored")));
        let taken: Vec<bool> =
            read.config.virtual_servers.iter().zip(&old.virtual_servers).map(|(n, o)| Arc::ptr_eq(n, o)).collect();
        // The first had b2 dropped in the running reading and keeps it now: it differs.
        assert_eq!(taken, [false, true, true, true]);
        assert_eq!(read.config.virtual_servers[0].real_servers[0].checkers.len(), 2);
        assert_eq!(old.virtual_servers[0].real_servers[0].checkers.len(), 1);
    }

    /// Seeded random edits: what is kept always says what the file says, and every virtual
    /// server written the same (wherever it moved) is the running one.
    #[test]
    fn seeded_edits_keep_only_what_says_the_same() {
        for seed in 0..300 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let (before, list, blank) = seeded_edits(&mut rng);
            let old = read(&text(&before, &[]));
            let written = text(&list, &blank);
            let fresh = read(&written);
            let mut new = read(&written);
            keep_unchanged(&mut new, &old);
            for ((vs, f), spec) in new.virtual_servers.iter().zip(&fresh.virtual_servers).zip(&list) {
                assert!(
                    unplaced(vs, &f.span) == unplaced(f, &f.span),
                    "seed {seed}: 10.1.0.{} says what the file says",
                    spec.at
                );
                let running = old.virtual_servers.iter().zip(&before).find(|(_, b)| b.at == spec.at);
                assert_eq!(
                    running.is_some_and(|(o, _)| Arc::ptr_eq(o, vs)),
                    unchanged(&before, spec),
                    "seed {seed}: 10.1.0.{} kept when and only when unchanged",
                    spec.at
                );
            }
        }
    }
}
