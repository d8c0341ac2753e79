//! `vigilctl realserver start|stop|status`: what the seeds' `lvs_real` / `lvs-dr-conf.sh`
//! scripts do on an LVS-DR real server, done so that it can be run twice and undone: the VIPs
//! as host addresses on `lo`, and `arp_ignore=1` / `arp_announce=2` on `all` and `lo` so that
//! the real server never answers ARP for a VIP.  What `start` changed (the sysctls' former
//! values, the addresses it added) is recorded per network namespace under /run/vigil, and
//! `stop` puts back exactly that.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use vigil_vrrp::io::{AddOutcome, Addresses, RemoveOutcome, Vip};

/// The sysctls a DR real server needs (under /proc/sys) and their values.
pub const SYSCTLS: [(&str, &str); 4] = [
    ("net/ipv4/conf/all/arp_ignore", "1"),
    ("net/ipv4/conf/all/arp_announce", "2"),
    ("net/ipv4/conf/lo/arp_ignore", "1"),
    ("net/ipv4/conf/lo/arp_announce", "2"),
];

/// What `start` changed and `stop` undoes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    /// Sysctls `start` changed, with the value they had before.
    pub sysctls: Vec<(String, String)>,
    /// VIPs `start` added to lo (not the ones that were there already).
    pub vips: Vec<IpAddr>,
}

impl Record {
    /// The record's file: one `sysctl PATH VALUE` or `vip ADDRESS` per line.
    pub fn parse(text: &str) -> Record {
        let mut r = Record::default();
        for line in text.lines() {
            let mut words = line.split_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some("sysctl"), Some(path), Some(value)) => r.sysctls.push((path.into(), value.into())),
                (Some("vip"), Some(addr), None) => r.vips.extend(addr.parse::<IpAddr>().ok()),
                _ => {}
            }
        }
        r
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for (path, value) in &self.sysctls {
            let _ = writeln!(out, "sysctl {path} {value}");
        }
        for vip in &self.vips {
            let _ = writeln!(out, "vip {vip}");
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.sysctls.is_empty() && self.vips.is_empty()
    }
}

/// `sysctl` spelling of a /proc/sys path: `net.ipv4.conf.all.arp_ignore`.
fn dotted(path: &str) -> String {
    path.replace('/', ".")
}

fn prefix(ip: IpAddr) -> u8 {
    if ip.is_ipv4() {
        32
    } else {
        128
    }
}

/// The record of this network namespace (namespaces share /run).
fn record_path() -> anyhow::Result<PathBuf> {
    let id = vigil_vrrp::io::netns_id().context("reading /proc/self/ns/net")?;
    Ok(PathBuf::from(format!("/run/vigil/realserver-net{id}.state")))
}

fn load(path: &Path) -> anyhow::Result<Record> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Record::parse(&t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Record::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn save(path: &Path, r: &Record) -> anyhow::Result<()> {
    if r.is_empty() {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e).context("removing the record"),
            _ => Ok(()),
        };
    }
    let dir = path.parent().unwrap_or(Path::new("/run"));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, r.render()).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

fn read_sysctl(path: &str) -> anyhow::Result<String> {
    let full = Path::new("/proc/sys").join(path);
    Ok(std::fs::read_to_string(&full).with_context(|| format!("reading {}", dotted(path)))?.trim().to_string())
}

fn write_sysctl(path: &str, value: &str) -> anyhow::Result<()> {
    std::fs::write(Path::new("/proc/sys").join(path), value).with_context(|| format!("setting {}", dotted(path)))
}

async fn lo_index(a: &Addresses) -> anyhow::Result<u32> {
    Ok(a.link_by_name("lo").await.context("finding lo")?.ifindex)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the runtime")
}

/// `start`: makes this host a DR real server for `vips`; prints what it changed.
pub fn start(vips: &[IpAddr]) -> anyhow::Result<String> {
    let path = record_path()?;
    let mut record = load(&path)?;
    let mut out = String::new();
    for (p, want) in SYSCTLS {
        let was = read_sysctl(p)?;
        if was != want {
            if !record.sysctls.iter().any(|(q, _)| q == p) {
                record.sysctls.push((p.to_string(), was.clone()));
            }
            write_sysctl(p, want)?;
            let _ = writeln!(out, "{} {was} -> {want}", dotted(p));
        }
    }
    // Recorded before the addresses: a failure there still leaves a record that undoes this.
    save(&path, &record)?;
    runtime()?.block_on(async {
        let a = Addresses::new().context("opening rtnetlink")?;
        let lo = lo_index(&a).await?;
        for &vip in vips {
            match a.add(lo, &Vip::new(vip, prefix(vip))).await.with_context(|| format!("adding {vip} to lo"))? {
                AddOutcome::Added => {
                    if !record.vips.contains(&vip) {
                        record.vips.push(vip);
                    }
                    let _ = writeln!(out, "added {vip}/{} to lo", prefix(vip));
                }
                AddOutcome::AlreadyPresent => {}
            }
            save(&path, &record)?;
        }
        anyhow::Ok(())
    })?;
    if out.is_empty() {
        out.push_str("already a DR real server for these VIPs: nothing changed\n");
    }
    Ok(out)
}

/// `stop`: takes back what `start` did: the given VIPs (all it added when none are given),
/// and the sysctls once no VIP it added is left.
pub fn stop(vips: &[IpAddr]) -> anyhow::Result<String> {
    let path = record_path()?;
    let mut record = load(&path)?;
    let mut out = String::new();
    let remove: Vec<IpAddr> = record.vips.iter().copied().filter(|v| vips.is_empty() || vips.contains(v)).collect();
    let not_ours: Vec<IpAddr> = vips.iter().copied().filter(|v| !record.vips.contains(v)).collect();
    runtime()?.block_on(async {
        let a = Addresses::new().context("opening rtnetlink")?;
        let lo = lo_index(&a).await?;
        for vip in remove {
            match a.remove(lo, vip, prefix(vip)).await.with_context(|| format!("removing {vip} from lo"))? {
                RemoveOutcome::Removed => {
                    let _ = writeln!(out, "removed {vip}/{} from lo", prefix(vip));
                }
                RemoveOutcome::Absent => {}
            }
            record.vips.retain(|v| *v != vip);
            save(&path, &record)?;
        }
        anyhow::Ok(())
    })?;
    for v in not_ours {
        let _ = writeln!(out, "{v} was not added by vigilctl: left as it is");
    }
    if record.vips.is_empty() {
        for (p, value) in std::mem::take(&mut record.sysctls) {
            write_sysctl(&p, &value)?;
            let _ = writeln!(out, "{} back to {value}", dotted(&p));
        }
    }
    save(&path, &record)?;
    if out.is_empty() {
        out.push_str("nothing to undo\n");
    }
    Ok(out)
}

/// `status`: whether this host is ready to be a DR real server (for `vips`, or for the VIPs
/// `start` recorded); the text, and whether it is ready.
pub fn status(vips: &[IpAddr]) -> anyhow::Result<(String, bool)> {
    let record = load(&record_path()?)?;
    let mut out = String::new();
    let mut ready = true;
    for (p, want) in SYSCTLS {
        let have = read_sysctl(p)?;
        let ok = have == want;
        ready &= ok;
        let verdict = if ok { "ok".to_string() } else { format!("NOT SET (needs {want})") };
        let _ = writeln!(out, "{:<34} {have:<3} {verdict}", dotted(p));
    }
    let on_lo: Vec<IpAddr> = runtime()?.block_on(async {
        let a = Addresses::new().context("opening rtnetlink")?;
        let addrs = a.list(lo_index(&a).await?).await.context("listing lo's addresses")?;
        anyhow::Ok(addrs.into_iter().map(|(ip, _)| ip).collect())
    })?;
    let wanted: Vec<IpAddr> = if vips.is_empty() { record.vips.clone() } else { vips.to_vec() };
    if wanted.is_empty() {
        ready = false;
        out.push_str("no VIP given or recorded: pass --vip\n");
    }
    for v in &wanted {
        let ok = on_lo.contains(v);
        ready &= ok;
        let _ = writeln!(out, "VIP {v:<30} {}", if ok { "on lo" } else { "NOT on lo" });
    }
    out.push_str(if ready { "ready to be an LVS-DR real server\n" } else { "not ready\n" });
    Ok((out, ready))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_round_trips_and_ignores_garbage() {
        let r = Record {
            sysctls: vec![("net/ipv4/conf/all/arp_ignore".into(), "0".into())],
            vips: vec!["10.0.0.100".parse().expect("ip"), "2001:db8::100".parse().expect("ip")],
        };
        assert_eq!(Record::parse(&r.render()), r);
        assert_eq!(Record::parse("vip nonsense\nsysctl only-a-path\nfoo bar baz\n"), Record::default());
        assert!(Record::default().is_empty());
    }

    #[test]
    fn names_and_prefixes() {
        assert_eq!(dotted("net/ipv4/conf/lo/arp_announce"), "net.ipv4.conf.lo.arp_announce");
        assert_eq!(prefix("10.0.0.1".parse().expect("ip")), 32);
        assert_eq!(prefix("2001:db8::1".parse().expect("ip")), 128);
    }
}
