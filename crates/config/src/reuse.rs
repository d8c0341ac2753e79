//! A reloaded configuration keeps the running one's virtual servers that did not change.
//!
//! At 100,000 real servers a configuration holds tens of megabytes. Between the moment a
//! reload has read the new file and the moment the running configuration is let go, both are
//! alive, with the plans and boards built from them: a virtual server that says the same in
//! both is then held once, the running one's. "Says the same" leaves out where it is written:
//! a line added above it moves it without changing it, and it keeps the running one's
//! positions (which only the diagnostics of the reading that made it used).

use std::sync::Arc;

use crate::in_order::InOrder;
use crate::model::{CheckKind, Config, RealServer, Script, VirtualServer};
use crate::span::Span;

/// Replaces each virtual server of `new` that says the same as one of `old` (the same key and
/// protocol, and every setting and real server equal) by `old`'s. Returns how many were kept.
pub fn keep_unchanged(new: &mut Config, old: &Config) -> usize {
    let mut finder = InOrder::new(&old.virtual_servers, |o| (o.key.clone(), o.protocol));
    let mut kept = 0;
    for vs in &mut new.virtual_servers {
        let Some(at) = finder.find((vs.key.clone(), vs.protocol)) else { continue };
        let old_vs = &old.virtual_servers[at];
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
    let mut vs = vs.clone();
    spans_mut(&mut vs, &mut |s| *s = here.clone());
    vs
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

    /// Seeded random edits: what is kept always says what the file says, and every virtual
    /// server written the same (wherever it moved) is the running one.
    #[test]
    fn seeded_edits_keep_only_what_says_the_same() {
        for seed in 0..300 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut list: Vec<Vs> =
                (1..=6).map(|at| Vs { at, delay: 6, servers: (1..=rng.u8(1..=3)).map(|r| (r, 1)).collect() }).collect();
            let old = read(&text(&list, &[]));
            let before = list.clone();
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
            let blank: Vec<usize> = (0..rng.u8(..4)).map(|_| rng.usize(..list.len())).collect();
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
                let unchanged =
                    before.iter().any(|b| b == spec) && before.iter().filter(|b| b.at == spec.at).count() == 1;
                assert_eq!(
                    running.is_some_and(|(o, _)| Arc::ptr_eq(o, vs)),
                    unchanged,
                    "seed {seed}: 10.1.0.{} kept when and only when unchanged",
                    spec.at
                );
            }
        }
    }
}
