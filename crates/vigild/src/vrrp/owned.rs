//! What Vigil added to the kernel (VIPs, routes, rules), kept in files under /run so that a
//! vigild restarted after a crash (kill -9, OOM) knows what it left behind and removes it when
//! it is not MASTER, while what someone else configured is still never touched.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;

/// Where a record lives: one file per kind and network namespace, since several namespaces
/// (one per director in a lab) share /run. The namespace is named by its cookie, which the
/// kernel never gives twice while /run lasts: a namespace's inode can be reused, and a vigild
/// in a new namespace must not take an older one's record for its own and remove addresses
/// an admin added. `None` where the kernel has no cookie: nothing is recorded, and so nothing
/// a previous run added is ever removed by a later one.
fn path(kind: &str) -> Option<PathBuf> {
    let cookie = vigil_vrrp::io::netns_cookie()?;
    Some(PathBuf::from(format!("/run/vigild/{kind}-netns-cookie-{cookie}")))
}

/// The key of VIP `ip` on `ifname` in the `vips` record.
pub fn vip(ifname: &str, ip: IpAddr) -> String {
    format!("{ifname} {ip}")
}

/// The entries of one kind this namespace's vigild added and has not removed, one line each.
#[derive(Debug)]
pub struct Owned {
    path: Option<PathBuf>,
    set: BTreeSet<String>,
    /// Changed since the file was last written.
    dirty: bool,
}

impl Owned {
    /// Reads the record of `kind` (`vips`, `routes`) left by a previous run (empty when there
    /// is none).
    pub fn load(kind: &str) -> Owned {
        let path = path(kind);
        if path.is_none() {
            tracing::warn!(
                "this kernel does not name network namespaces (SO_NETNS_COOKIE): what vigild adds is not recorded, and a vigild started after a crash leaves its VIPs, routes and rules in place"
            );
        }
        let text = path.as_ref().and_then(|p| std::fs::read_to_string(p).ok()).unwrap_or_default();
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

    /// Writes the record; an empty one is removed, so that a clean stop leaves nothing in /run.
    fn save(&self) {
        let Some(path) = &self.path else { return };
        if self.set.is_empty() {
            if let Err(e) = std::fs::remove_file(path) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!("cannot remove {}: {e}", path.display());
                }
            }
            return;
        }
        let text: String = self.set.iter().map(|key| format!("{key}\n")).collect();
        let written =
            path.parent().map(std::fs::create_dir_all).unwrap_or(Ok(())).and_then(|()| std::fs::write(path, text));
        if let Err(e) = written {
            tracing::warn!("cannot record what Vigil added in {}: {e}", path.display());
        }
    }
}
