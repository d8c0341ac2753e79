//! Every keyword keepalived 2.2.7 installs, in the block it installs it in, has a row in the
//! Vigil table that reads that block. The list of keepalived's keywords is generated from its
//! source by `tests/conformance/keywords/extract.py` (and checked against the binary by
//! `verify.py` beside it); a keyword missing from Vigil's tables fails here.

use std::collections::{BTreeMap, BTreeSet};

use super::{global, lvs, vrrp, Action, Table};

const TREE: &str = include_str!("../../tests/data/keepalived-2.2.7-keywords.tsv");

/// How Vigil places a keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    /// Read and acted on.
    Set,
    /// Another name for a keyword Vigil reads.
    Alias,
    /// Read (values checked where keepalived checks them) with a "not implemented" note.
    Ignored,
    /// keepalived's deprecated or removed spelling: a warning.
    Removed,
}

fn class<T>(table: &'static Table<T>, name: &str) -> Option<Class> {
    table.get(name).map(|kw| match kw.action {
        Action::Set(_) => Class::Set,
        Action::Alias { .. } => Class::Alias,
        Action::Ignored(_) => Class::Ignored,
        Action::Removed { .. } => Class::Removed,
    })
}

/// The Vigil table that reads a keepalived block (its path of enclosing keywords).
fn place(block: &str, keyword: &str) -> Option<Class> {
    let last = block.rsplit('/').next().unwrap_or(block);
    match (block, last) {
        ("-", _) => class(&global::TOP, keyword),
        ("global_defs", _) => class(&global::GLOBAL, keyword),
        ("track_group", _) => class(&vrrp::TRACK_GROUP, keyword),
        ("garp_group", _) => class(&vrrp::GARP_GROUP, keyword),
        ("vrrp_instance", _) => class(&vrrp::INSTANCE, keyword),
        ("vrrp_instance/authentication", _) => class(&vrrp::AUTHENTICATION, keyword),
        ("vrrp_script", _) => class(&vrrp::SCRIPT, keyword),
        ("vrrp_sync_group", _) => class(&vrrp::SYNC_GROUP, keyword),
        ("vrrp_track_process", _) => class(&vrrp::TRACK_PROCESS, keyword),
        ("track_file" | "vrrp_track_file", _) => class(&vrrp::TRACK_FILE, keyword),
        ("bfd_instance", _) => class(&global::BFD_INSTANCE, keyword),
        ("SSL", _) => class(&lvs::SSL, keyword),
        ("virtual_server", _) => class(&lvs::VIRTUAL_SERVER, keyword),
        ("virtual_server/real_server", _) => class(&lvs::REAL_SERVER, keyword),
        (_, "url") => class(&lvs::URL, keyword),
        (_, "host") => class(&lvs::SMTP_HOST, keyword),
        (path, _) if path.starts_with("virtual_server/real_server/") => class(&lvs::CHECKER, keyword),
        _ => None,
    }
}

#[test]
fn every_keepalived_keyword_is_placed() {
    let mut missing = Vec::new();
    let mut counts: BTreeMap<Class, usize> = BTreeMap::new();
    let mut rows = 0;
    let mut names = BTreeSet::new();
    for line in TREE.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 4, "malformed row: {line}");
        let (block, keyword, debian) = (cols[0], cols[1], cols[3]);
        // Not built into Debian's keepalived: it reports these as unknown, and so may Vigil.
        if debian != "yes" {
            continue;
        }
        rows += 1;
        names.insert(keyword);
        match place(block, keyword) {
            Some(c) => *counts.entry(c).or_default() += 1,
            None => missing.push(format!("{block}: {keyword}")),
        }
    }
    assert!(missing.is_empty(), "keepalived 2.2.7 keywords Vigil does not know:\n{}", missing.join("\n"));
    // The table is generated, not hand-written: a truncated file must not pass as complete.
    assert!(rows > 450, "only {rows} keywords read from the keyword table");
    println!("{rows} block/keyword rows ({} distinct names) placed: {counts:?}", names.len());
}

#[test]
fn placing_fails_for_an_unknown_keyword() {
    assert_eq!(place("vrrp_instance", "no_such_keyword"), None);
    assert_eq!(place("virtual_server/real_server/SMTP_CHECK/host", "helo_name"), None);
    assert_eq!(place("vrrp_instance", "priority"), Some(Class::Set));
}
