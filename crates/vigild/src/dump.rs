//! keepalived's dumps: SIGUSR1 writes the state to /tmp/keepalived.data, SIGUSR2 the
//! counters to /tmp/keepalived.stats, in the same layout of sections and `Name = value`
//! lines, so the habits (and the greps) of keepalived's users carry over; keepalived's JSON
//! signal writes /tmp/keepalived.json ([`json`]). As keepalived, an absolute `TMPDIR` replaces
//! /tmp.

pub mod json;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::status::Document;

/// The file SIGUSR1 writes, as keepalived.
pub const DATA_FILE: &str = "keepalived.data";
/// The file SIGUSR2 writes, as keepalived.
pub const STATS_FILE: &str = "keepalived.stats";

/// Where the dump `name` goes: in `TMPDIR` when it is an absolute path, else in /tmp (as
/// keepalived's make_tmp_filename).
pub fn path(name: &str) -> PathBuf {
    dir(std::env::var_os("TMPDIR").as_deref().map(Path::new)).join(name)
}

fn dir(tmpdir: Option<&Path>) -> PathBuf {
    match tmpdir {
        Some(d) if d.is_absolute() => d.to_path_buf(),
        _ => PathBuf::from("/tmp"),
    }
}

/// The data dump.
pub fn data(doc: &Document) -> String {
    let mut out = String::new();
    let d = &doc.daemon;
    let _ = writeln!(out, "------< Global definitions >------");
    let _ = writeln!(out, " Vigil version = {}", d.version);
    let _ = writeln!(out, " Pid = {}", d.pid);
    let _ = writeln!(out, " Configuration file = {}", d.config_file);
    let _ = writeln!(out, " Reloads = {} ok, {} failed", d.reloads_ok, d.reloads_failed);
    if let Some(r) = &d.last_reload {
        let _ = writeln!(out, " Last reload = {} ({})", r.at, if r.ok { "ok" } else { "failed" });
        for e in &r.errors {
            let _ = writeln!(out, "   {e}");
        }
    }
    let _ = writeln!(out, "------< VRRP Topology >------");
    for i in &doc.vrrp {
        let _ = writeln!(out, " VRRP Instance = {}", i.name);
        let _ = writeln!(out, "   VRRP Version = {}", i.version);
        let _ = writeln!(out, "   State = {}", i.state);
        let _ = writeln!(out, "   Last transition = {}", i.since);
        if let Some(t) = &i.last_transition {
            let _ = writeln!(out, "   Last transition reason = {} -> {} ({})", t.from, t.to, t.reason);
        }
        let _ = writeln!(out, "   Interface = {}", i.interface);
        let _ = writeln!(out, "   Virtual Router ID = {}", i.vrid);
        let _ = writeln!(out, "   Priority = {}", i.priority);
        let _ = writeln!(out, "   Effective priority = {}", i.effective_priority);
        match i.master {
            Some(m) => {
                let _ = writeln!(out, "   Master router = {m}");
            }
            None => {
                let _ = writeln!(out, "   Master router = (unknown)");
            }
        }
        let _ = writeln!(out, "   Virtual IP ({}):", i.vips.len());
        for v in &i.vips {
            let _ = writeln!(out, "     {v}");
        }
        for p in &i.peers {
            match (p.priority, p.last_seen) {
                (Some(prio), Some(at)) => {
                    let _ = writeln!(out, "   Peer = {} priority {prio} last seen {at}", p.address);
                }
                _ => {
                    let _ = writeln!(out, "   Peer = {} never heard", p.address);
                }
            }
        }
    }
    let _ = writeln!(out, "------< LVS Topology >------");
    for vs in &doc.virtual_servers {
        let _ = writeln!(out, " VIRTUAL SERVER = {}", vs.name);
        for rs in &vs.real_servers {
            let _ = writeln!(out, "   REAL SERVER = {}", rs.name);
            let _ = writeln!(out, "     Alive = {}", if rs.up { "yes" } else { "no" });
            let _ = writeln!(out, "     Weight = {}", rs.weight);
            let _ = writeln!(out, "     Since = {}", rs.since);
            for c in &rs.checks {
                let last = c.last.as_ref().map_or("never run".to_string(), |l| {
                    format!("{} after {:.1} ms at {}", l.result, l.latency_ms, l.at)
                });
                let _ = writeln!(
                    out,
                    "     Checker = {} {} ({}, {} runs, last: {last})",
                    c.kind,
                    c.name,
                    if c.up { "up" } else { "down" },
                    c.runs
                );
            }
        }
    }
    if let Some(services) = &doc.ipvs {
        let _ = writeln!(out, "------< IPVS table >------");
        for s in services {
            let persistent = s.persistence.map_or(String::new(), |t| format!(" persistent {t}"));
            let _ = writeln!(out, " {} {}{persistent}", s.service, s.scheduler);
            for d in &s.destinations {
                let _ = writeln!(out, "   -> {}:{} {} weight {}", d.address, d.port, d.forwarding, d.weight);
            }
        }
    }
    out
}

/// The statistics dump.
pub fn stats(doc: &Document) -> String {
    let mut out = String::new();
    for i in &doc.vrrp {
        let drop = |reason: &str| i.drops.get(reason).copied().unwrap_or(0);
        let _ = writeln!(out, "VRRP Instance: {}", i.name);
        let _ = writeln!(out, "  Advertisements:");
        let _ = writeln!(out, "    Received: {}", i.adverts_received);
        let _ = writeln!(out, "    Sent: {}", i.adverts_sent);
        let _ = writeln!(out, "  Became master: {}", i.became_master);
        let _ = writeln!(out, "  Released master: {}", i.released_master);
        let _ = writeln!(out, "  Transitions: {}", i.transitions);
        let _ = writeln!(out, "  VIPs restored: {}", i.vips_restored);
        let _ = writeln!(out, "  Adverts from another MASTER: {}", i.conflicts);
        let _ = writeln!(out, "  Packet Errors:");
        let _ = writeln!(out, "    Malformed: {}", drop("malformed"));
        let _ = writeln!(out, "    TTL: {}", drop("bad_ttl"));
        let _ = writeln!(out, "    Version: {}", drop("version_mismatch"));
        let _ = writeln!(out, "    Advertisement Interval: {}", drop("advert_interval"));
        let _ = writeln!(out, "    Address List: {}", drop("address_list"));
        let _ = writeln!(out, "  Authentication Errors:");
        let _ = writeln!(out, "    Failure: {}", drop("auth_mismatch"));
    }
    out
}

/// Writes `text` to `path` atomically, readable by root only (the dumps name addresses,
/// scripts and passwords): into a new file beside it, then renamed over it, so a reader never
/// sees half a dump. The new file is created exclusively and a rename replaces a symbolic
/// link rather than following it: /tmp is writable by everyone.
pub fn write(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let (dir, name) = match (path.parent(), path.file_name()) {
        (Some(d), Some(n)) => (d, n.to_string_lossy()),
        _ => return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path")),
    };
    let mut attempt = 0u32;
    let (tmp, mut f) = loop {
        let tmp = dir.join(format!(".{name}.{}.{attempt}", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
            .open(&tmp)
        {
            Ok(f) => break (tmp, f),
            // Left by a run that died between creating and renaming it, or planted: try
            // another name rather than write through someone else's file.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 8 => attempt += 1,
            Err(e) => return Err(e),
        }
    };
    let done = f.write_all(text.as_bytes()).and_then(|()| std::fs::rename(&tmp, path));
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    /// keepalived.stats' packet error lines, the state machine's drops among them.
    #[test]
    fn stats_count_each_kind_of_dropped_advert() {
        let mut doc = crate::status::tests::sample();
        doc.vrrp[0].drops = [("malformed", 1), ("bad_ttl", 2), ("advert_interval", 3), ("address_list", 4)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let text = stats(&doc);
        for line in ["    Malformed: 1", "    TTL: 2", "    Advertisement Interval: 3", "    Address List: 4"] {
            assert!(text.lines().any(|l| l == line), "no line {line:?} in\n{text}");
        }
    }

    #[test]
    fn tmpdir_replaces_tmp_only_when_absolute() {
        assert_eq!(dir(None), PathBuf::from("/tmp"));
        assert_eq!(dir(Some(Path::new("relative/dir"))), PathBuf::from("/tmp"));
        assert_eq!(dir(Some(Path::new(""))), PathBuf::from("/tmp"));
        assert_eq!(dir(Some(Path::new("/run/dumps"))), PathBuf::from("/run/dumps"));
    }

    #[test]
    fn write_replaces_the_file_whole_and_leaves_nothing_behind() {
        use std::os::unix::fs::PermissionsExt as _;
        let d = tempfile::Builder::new().prefix("vigil-dump-").tempdir().expect("a directory");
        let file = d.path().join(json::FILE_NAME);
        write(&file, "[1,2,3]").expect("first write");
        write(&file, "[]").expect("second write");
        assert_eq!(std::fs::read_to_string(&file).expect("readable"), "[]");
        let mode = std::fs::metadata(&file).expect("there").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // A symbolic link at the dump's path is replaced, not written through.
        let target = d.path().join("target");
        std::fs::write(&target, "untouched").expect("the target");
        std::fs::remove_file(&file).expect("removed");
        std::os::unix::fs::symlink(&target, &file).expect("a link");
        write(&file, "dump").expect("written over the link");
        assert_eq!(std::fs::read_to_string(&target).expect("the target"), "untouched");
        assert!(!std::fs::symlink_metadata(&file).expect("there").file_type().is_symlink());
        let names: Vec<String> = std::fs::read_dir(d.path())
            .expect("listed")
            .map(|e| e.expect("an entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
        d.close().expect("cleaned up");
    }
}
