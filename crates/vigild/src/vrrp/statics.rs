//! `static_ipaddress`: addresses put on their interfaces at start whatever the instances'
//! states, as keepalived 2.2.7 does: added at start, put back when something else deletes
//! them (`Restoring deleted static address ...`), changed on reload by removing those the new
//! file no longer has and adding the new ones, and removed at stop.
//!
//! An address without `dev` goes on keepalived's default interface, `eth0` (Vigil does not
//! read `default_interface`). Only what Vigil added is removed: an address already on its
//! interface at start is left alone, unless a previous run added it (the `vips` record, see
//! [`super::owned`]). keepalived instead deletes and re-adds it.

use std::net::IpAddr;

use vigil_config::model::{Config, VirtualAddress};
use vigil_vrrp::io::{AddOutcome, Addresses, RemoveOutcome, Vip};

use super::owned::{self, Owned};
use super::setup;

/// keepalived's default interface (`DFLT_INT`), for an address written without `dev`.
const DEFAULT_INTERFACE: &str = "eth0";

/// One static address, where it goes, and whether Vigil holds it.
#[derive(Debug)]
struct Static {
    ifname: String,
    /// The interface's index; `None` while it does not exist.
    ifindex: Option<u32>,
    vip: Vip,
    /// Vigil added it (or a previous run did) and may remove it.
    added: bool,
    /// Put back when deleted (no `no_track`).
    restore: bool,
}

/// The `static_ipaddress` block as it stands in the kernel.
#[derive(Debug, Default)]
pub struct StaticAddresses {
    entries: Vec<Static>,
}

/// Where an address goes, what is put there and whether it is put back when deleted: two
/// entries are the same address when these are equal, whatever line they were written on.
type Key = (String, Vip, bool);

fn key(a: &VirtualAddress) -> Key {
    (a.dev.clone().unwrap_or_else(|| DEFAULT_INTERFACE.to_string()), setup::vip(a), !a.no_track)
}

/// A reload's changes: the positions in `old` to remove, and the positions in `new` to add;
/// addresses in both stay as they are.
pub fn diff(old: &[VirtualAddress], new: &[VirtualAddress]) -> (Vec<usize>, Vec<usize>) {
    let old_keys: Vec<_> = old.iter().map(key).collect();
    let new_keys: Vec<_> = new.iter().map(key).collect();
    let removed = (0..old.len()).filter(|&i| !new_keys.contains(&old_keys[i])).collect();
    let added = (0..new.len()).filter(|&i| !old_keys.contains(&new_keys[i])).collect();
    (removed, added)
}

impl Static {
    fn is(&self, (ifname, vip, restore): &Key) -> bool {
        self.ifname == *ifname && self.vip == *vip && self.restore == *restore
    }
}

impl StaticAddresses {
    /// Adds every static address of `config`.
    pub async fn install(config: &Config, kernel: &Addresses, record: &mut Owned) -> StaticAddresses {
        let mut entries = Vec::with_capacity(config.static_ipaddress.len());
        for a in &config.static_ipaddress {
            entries.push(add(a, kernel, record).await);
        }
        StaticAddresses { entries }
    }

    /// Applies a reload from `old` (the configuration these were installed from) to `new`:
    /// only the addresses that differ are touched.
    pub async fn reload(&mut self, old: &Config, new: &Config, kernel: &Addresses, record: &mut Owned) {
        let (removed, added) = diff(&old.static_ipaddress, &new.static_ipaddress);
        let mut before: Vec<Option<Static>> = std::mem::take(&mut self.entries).into_iter().map(Some).collect();
        for i in removed {
            if let Some(s) = before.get_mut(i).and_then(Option::take) {
                remove(s, kernel, record).await;
            }
        }
        for (i, a) in new.static_ipaddress.iter().enumerate() {
            let entry = if added.contains(&i) {
                Some(add(a, kernel, record).await)
            } else {
                let k = key(a);
                before.iter_mut().find(|s| s.as_ref().is_some_and(|s| s.is(&k))).and_then(Option::take)
            };
            self.entries.extend(entry);
        }
    }

    /// Puts back a static address Vigil added when the kernel reports it gone, unless it is
    /// `no_track`.
    pub async fn restore(&mut self, ifindex: u32, ip: IpAddr, kernel: &Addresses, record: &mut Owned) {
        for s in
            self.entries.iter_mut().filter(|s| s.added && s.restore && s.ifindex == Some(ifindex) && s.vip.ip == ip)
        {
            let text = describe(&s.ifname, &s.vip);
            match kernel.add(ifindex, &s.vip).await {
                Ok(_) => tracing::info!("Restoring deleted static address {text}"),
                Err(e) => {
                    tracing::error!("cannot restore deleted static address {text}: {e}");
                    s.added = false;
                    record.record(&owned::vip(&s.ifname, s.vip.ip), false);
                }
            }
        }
    }

    /// Removes every static address Vigil added (at stop).
    pub async fn remove_all(&mut self, kernel: &Addresses, record: &mut Owned) {
        for s in std::mem::take(&mut self.entries) {
            remove(s, kernel, record).await;
        }
    }
}

fn describe(ifname: &str, vip: &Vip) -> String {
    format!("{}/{} dev {ifname}", vip.ip, vip.prefix)
}

/// Adds `a` unless it is already on its interface; the entry says whether Vigil holds it.
async fn add(a: &VirtualAddress, kernel: &Addresses, record: &mut Owned) -> Static {
    let (ifname, vip, restore) = key(a);
    let text = describe(&ifname, &vip);
    let ifindex = match kernel.link_by_name(&ifname).await {
        Ok(l) => Some(l.ifindex),
        Err(e) => {
            tracing::error!("cannot add static address {text}: {e}");
            None
        }
    };
    let mut added = false;
    if let Some(index) = ifindex {
        let present = kernel.list(index).await.unwrap_or_default().iter().any(|(ip, _)| *ip == vip.ip);
        let outcome = if present { Ok(AddOutcome::AlreadyPresent) } else { kernel.add(index, &vip).await };
        match outcome {
            Ok(AddOutcome::Added) => added = true,
            // A previous run's, by its record: ours to remove.
            Ok(AddOutcome::AlreadyPresent) if record.contains(&owned::vip(&ifname, vip.ip)) => added = true,
            Ok(AddOutcome::AlreadyPresent) => {
                tracing::warn!("static address {text} was already on the interface; it will not be removed by Vigil");
            }
            Err(e) => tracing::error!("cannot add static address {text}: {e}"),
        }
    }
    if added {
        record.record(&owned::vip(&ifname, vip.ip), true);
    }
    Static { ifname, ifindex, vip, added, restore }
}

/// Removes `s` if Vigil added it.
async fn remove(s: Static, kernel: &Addresses, record: &mut Owned) {
    let (true, Some(index)) = (s.added, s.ifindex) else { return };
    match kernel.remove(index, s.vip.ip, s.vip.prefix).await {
        Ok(RemoveOutcome::Removed | RemoveOutcome::Absent) => record.record(&owned::vip(&s.ifname, s.vip.ip), false),
        Err(e) => tracing::error!("cannot remove static address {}/{} dev {}: {e}", s.vip.ip, s.vip.prefix, s.ifname),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addresses(text: &str) -> Vec<VirtualAddress> {
        let source = format!("static_ipaddress {{\n{text}\n}}\n");
        vigil_config::parse_str("keepalived.conf", &source, &vigil_config::Options::default(), None)
            .config
            .static_ipaddress
    }

    #[test]
    fn unchanged_addresses_are_not_touched_whatever_their_line() {
        let old = addresses("192.0.2.7/24 dev eth0\n192.0.2.8/24 dev eth1");
        let new = addresses("\n192.0.2.8/24 dev eth1\n192.0.2.7/24 dev eth0");
        assert_eq!(diff(&old, &new), (vec![], vec![]));
    }

    #[test]
    fn an_attribute_change_removes_and_adds_that_address_only() {
        let old = addresses("192.0.2.7/24 dev eth0\n192.0.2.8/24 dev eth1");
        let new = addresses("192.0.2.7/24 dev eth0 label eth0:st\n192.0.2.8/24 dev eth1\n192.0.2.9 dev eth1");
        assert_eq!(diff(&old, &new), (vec![0], vec![0, 2]));
    }

    #[test]
    fn no_dev_is_the_default_interface() {
        let old = addresses("192.0.2.7/24");
        let new = addresses("192.0.2.7/24 dev eth0");
        assert_eq!(diff(&old, &new), (vec![], vec![]));
        let moved = addresses("192.0.2.7/24 dev eth1");
        assert_eq!(diff(&old, &moved), (vec![0], vec![0]));
    }

    #[test]
    fn no_track_is_part_of_the_address() {
        let old = addresses("192.0.2.7/24 dev eth0");
        let new = addresses("192.0.2.7/24 dev eth0 no_track");
        assert_eq!(diff(&old, &new), (vec![0], vec![0]));
    }
}
