//! keepalived's dumps: SIGUSR1 writes the state to /tmp/keepalived.data, SIGUSR2 the
//! counters to /tmp/keepalived.stats, in the same layout of sections and `Name = value`
//! lines, so the habits (and the greps) of keepalived's users carry over.

use std::fmt::Write as _;
use std::path::Path;

use crate::status::Document;

/// Where SIGUSR1 writes, as keepalived.
pub const DATA_FILE: &str = "/tmp/keepalived.data";
/// Where SIGUSR2 writes, as keepalived.
pub const STATS_FILE: &str = "/tmp/keepalived.stats";

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
        let _ = writeln!(out, "  Authentication Errors:");
        let _ = writeln!(out, "    Failure: {}", drop("auth_mismatch"));
    }
    out
}

/// Writes `text` to `path`, readable by root only (the dump names addresses and scripts).
/// A symbolic link at `path` is refused: /tmp is writable by everyone.
pub fn write(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(path)?;
    f.write_all(text.as_bytes())
}
