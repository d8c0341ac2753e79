//! What Vigil added to the kernel (VIPs, routes, rules), kept in files under /run so that a
//! vigild restarted after a crash (kill -9, OOM) knows what it left behind and removes it when
//! it is not MASTER, while what someone else configured is still never touched.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;

/// Where a record lives: one file per kind and network namespace, since several namespaces
/// (one per director in a lab) share /run.
fn path(kind: &str) -> PathBuf {
    let ns = vigil_vrrp::io::netns_id().unwrap_or_default();
    PathBuf::from(format!("/run/vigild/{kind}-{ns}"))
}

/// The key of VIP `ip` on `ifname` in the `vips` record.
pub fn vip(ifname: &str, ip: IpAddr) -> String {
    format!("{ifname} {ip}")
}

/// The entries of one kind this namespace's vigild added and has not removed, one line each.
#[derive(Debug)]
pub struct Owned {
    path: PathBuf,
    set: BTreeSet<String>,
    /// Changed since the file was last written.
    dirty: bool,
}

impl Owned {
    /// Reads the record of `kind` (`vips`, `routes`) left by a previous run (empty when there
    /// is none).
    pub fn load(kind: &str) -> Owned {
        let path = path(kind);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        Owned { path, set: text.lines().filter(|l| !l.is_empty()).map(str::to_string).collect(), dirty: false }
    }

    /// Whether a previous run added `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.set.contains(key)
    }

    /// Records an entry as added (`true`) or removed (`false`); the file follows at the next
    /// [`flush`](Self::flush), so that a new MASTER's gratuitous ARPs do not wait for it.
    pub fn record(&mut self, key: &str, added: bool) {
        let changed = if added { self.set.insert(key.to_string()) } else { self.set.remove(key) };
        self.dirty |= changed;
    }

    /// Writes the file if anything changed since it was last written.
    pub fn flush(&mut self) {
        if std::mem::take(&mut self.dirty) {
            self.save();
        }
    }

    fn save(&self) {
        let text: String = self.set.iter().map(|key| format!("{key}\n")).collect();
        let written = self
            .path
            .parent()
            .map(std::fs::create_dir_all)
            .unwrap_or(Ok(()))
            .and_then(|()| std::fs::write(&self.path, text));
        if let Err(e) = written {
            tracing::warn!("cannot record what Vigil added in {}: {e}", self.path.display());
        }
    }
}
