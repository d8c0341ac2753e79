//! `static_ipaddress`: addresses put on their interfaces at start whatever the instances'
//! states, as keepalived 2.2.7 does: added at start, put back when something else deletes
//! them (`Restoring deleted static address ...`), changed on reload by removing those the new
//! file no longer has and adding the new ones, and removed at stop.
//!
//! An address without `dev` goes on `default_interface`, else on `eth0`, as keepalived's
//! does. Only what Vigil added is removed: an address already on its
//! interface at start is left alone, unless a previous run added it (the `vips` record, see
//! [`super::owned`]). keepalived instead deletes and re-adds it.

use std::net::IpAddr;

use vigil_config::model::{Config, VirtualAddress};
use vigil_vrrp::io::{AddOutcome, Addresses, RemoveOutcome, Vip};

use super::owned::{self, Owned};
use super::setup;

/// keepalived's default interface (`DFLT_INT`) when `default_interface` names none.
const DEFAULT_INTERFACE: &str = "eth0";

/// Where an address written without `dev` goes in `config`.
fn default_interface(config: &Config) -> &str {
    config.global.default_interface.as_deref().unwrap_or(DEFAULT_INTERFACE)
}

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

fn key(a: &VirtualAddress, default: &str) -> Key {
    (a.dev.as_deref().unwrap_or(default).to_string(), setup::vip(a), !a.no_track)
}

/// A reload's changes: the positions in `old`'s static addresses to remove, and the positions
/// in `new`'s to add; addresses in both stay as they are.
pub fn diff(old: &Config, new: &Config) -> (Vec<usize>, Vec<usize>) {
    let keys = |c: &Config| -> Vec<Key> { c.static_ipaddress.iter().map(|a| key(a, default_interface(c))).collect() };
    let (old_keys, new_keys) = (keys(old), keys(new));
    let removed = (0..old_keys.len()).filter(|&i| !new_keys.contains(&old_keys[i])).collect();
    let added = (0..new_keys.len()).filter(|&i| !old_keys.contains(&new_keys[i])).collect();
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
            entries.push(add(key(a, default_interface(config)), kernel, record).await);
        }
        StaticAddresses { entries }
    }

    /// Applies a reload from `old` (the configuration these were installed from) to `new`:
    /// only the addresses that differ are touched.
    pub async fn reload(&mut self, old: &Config, new: &Config, kernel: &Addresses, record: &mut Owned) {
        let (removed, added) = diff(old, new);
        let mut before: Vec<Option<Static>> = std::mem::take(&mut self.entries).into_iter().map(Some).collect();
        for i in removed {
            if let Some(s) = before.get_mut(i).and_then(Option::take) {
                remove(s, kernel, record).await;
            }
        }
        for (i, a) in new.static_ipaddress.iter().enumerate() {
            let k = key(a, default_interface(new));
            let entry = if added.contains(&i) {
                Some(add(k, kernel, record).await)
            } else {
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

/// Adds the address of `key` unless it is already on its interface; the entry says whether
/// Vigil holds it.
async fn add((ifname, vip, restore): Key, kernel: &Addresses, record: &mut Owned) -> Static {
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
        match kernel.add(index, &vip).await {
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

    /// A configuration with these static addresses (and `global_defs` lines before them).
    fn addresses(text: &str) -> Config {
        let (global, list) = text.split_once("---").unwrap_or(("", text));
        let source = format!("global_defs {{\n{global}\n}}\nstatic_ipaddress {{\n{list}\n}}\n");
        vigil_config::parse_str("keepalived.conf", &source, &vigil_config::Options::default(), None).config
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
        let default_eth1 = addresses("default_interface eth1\n---\n192.0.2.7/24");
        assert_eq!(diff(&moved, &default_eth1), (vec![], vec![]));
        assert_eq!(diff(&old, &default_eth1), (vec![0], vec![0]));
    }

    #[test]
    fn no_track_is_part_of_the_address() {
        let old = addresses("192.0.2.7/24 dev eth0");
        let new = addresses("192.0.2.7/24 dev eth0 no_track");
        assert_eq!(diff(&old, &new), (vec![0], vec![0]));
    }
}
