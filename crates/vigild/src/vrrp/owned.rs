//! Which VIPs Vigil added, kept in a file under /run so that a vigild restarted after a crash
//! (kill -9, OOM) knows the addresses it left behind and removes them when it is not MASTER,
//! while addresses someone else configured are still never touched.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;

/// Where the record lives: one file per network namespace, since several namespaces (one per
/// director in a lab) share /run.
fn path() -> PathBuf {
    let ns = std::fs::read_link("/proc/self/ns/net")
        .ok()
        .map(|p| p.to_string_lossy().chars().filter(char::is_ascii_digit).collect::<String>())
        .unwrap_or_default();
    PathBuf::from(format!("/run/vigild/vips-{ns}"))
}

/// The VIPs this namespace's vigild added and has not removed: (interface, address).
#[derive(Debug, Default)]
pub struct Owned {
    set: BTreeSet<(String, IpAddr)>,
}

impl Owned {
    /// Reads the record left by a previous run (empty when there is none).
    pub fn load() -> Owned {
        let text = std::fs::read_to_string(path()).unwrap_or_default();
        let set = text
            .lines()
            .filter_map(|l| l.split_once(' '))
            .filter_map(|(ifname, ip)| ip.parse().ok().map(|ip| (ifname.to_string(), ip)))
            .collect();
        Owned { set }
    }

    /// Whether a previous run added `ip` on `ifname`.
    pub fn contains(&self, ifname: &str, ip: IpAddr) -> bool {
        self.set.contains(&(ifname.to_string(), ip))
    }

    /// Records an address as added (`true`) or removed (`false`).
    pub fn record(&mut self, ifname: &str, ip: IpAddr, added: bool) {
        let key = (ifname.to_string(), ip);
        let changed = if added { self.set.insert(key) } else { self.set.remove(&key) };
        if changed {
            self.save();
        }
    }

    fn save(&self) {
        let p = path();
        let text: String = self.set.iter().map(|(i, ip)| format!("{i} {ip}\n")).collect();
        let written = p.parent().map(std::fs::create_dir_all).unwrap_or(Ok(())).and_then(|()| std::fs::write(&p, text));
        if let Err(e) = written {
            tracing::warn!("cannot record the VIPs Vigil holds in {}: {e}", p.display());
        }
    }
}
