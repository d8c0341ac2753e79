//! Carries out `use_vmac` as `vigil_vrrp::vmac` decides it: the instance's macvlan interface is
//! chosen among the kernel's, made (or reused, updated, replaced), given its settings and
//! brought up before the instance opens its socket, and removed when the instance stops; what
//! the vmacs changed on the host (parents' ARP settings, `rp_filter`) is put back.

use std::net::IpAddr;

use vigil_config::model::VrrpInstance;
use vigil_vrrp::io::{self, Addresses, Vip};
use vigil_vrrp::plan::Vmac;
use vigil_vrrp::vmac::{self, Choice, Existing, Parents, RpFilterSaved, RpFilterWrite, Step, Want, VMAC_IPV4};
use vigil_vrrp::wire::Family;

/// What the vmacs changed on the host, to put back.
#[derive(Debug, Default)]
pub struct HostChanges {
    /// The parents' `arp_ignore` and `arp_filter`.
    parents: Parents,
    /// `rp_filter` of `all`, `default` and the interfaces.
    rp_filter: Option<RpFilterSaved>,
}

/// A vmac an instance uses, to remove when it stops.
#[derive(Debug)]
pub struct Made {
    /// Its name.
    pub name: String,
    /// Its index.
    pub ifindex: u32,
    /// Its parent's index.
    parent: u32,
    /// It was created (or updated) with IPv4 settings, so its parent's `arp_ignore` and
    /// `arp_filter` are counted in [`HostChanges`].
    parent_counted: bool,
}

/// The vmac instance `i` on interface `parent` would use among `existing`, with `taken` the
/// names the other instances' vmacs use.
pub fn choose(i: &VrrpInstance, family: Family, parent: u32, existing: &[Existing], taken: &[String]) -> Choice {
    let name = i.use_vmac.clone().flatten();
    vmac::choose(&Want { vrid: i.virtual_router_id, family, name, parent }, existing, taken)
}

/// The vmac instance `i` would use after a reload, where it ran as `was` on the vmac `own`: as
/// [`choose`], but a name the configuration changed to one its vmac does not have does not find
/// that vmac again by its MAC, so that the instance restarts on the new name as keepalived does
/// (the old vmac is deleted).
pub fn choose_again(
    i: &VrrpInstance,
    (was, own): (&VrrpInstance, Option<&Made>),
    family: Family,
    parent: u32,
    existing: &[Existing],
    taken: &[String],
) -> Choice {
    let configured = i.use_vmac.clone().flatten();
    let changed = was.use_vmac.clone().flatten() != configured;
    let renamed = |m: &&Made| changed && configured.as_ref().is_some_and(|n| *n != m.name);
    match own.filter(renamed) {
        Some(m) => {
            let others: Vec<Existing> = existing.iter().filter(|e| e.ifindex != m.ifindex).cloned().collect();
            choose(i, family, parent, &others, taken)
        }
        None => choose(i, family, parent, existing, taken),
    }
}

/// Makes the vmac of instance `instance` (of `family`) as `choice` says and as `plan` describes
/// it, on the interface `parent`: created (or updated, replaced) in private mode with the
/// virtual router MAC, IPv4 settings on it and on its parent when it is new, IPv6 on or off,
/// no IPv6 address of its own but the link-local address it sends from, then up.
pub async fn make(
    addresses: &Addresses,
    host: &mut HostChanges,
    instance: &str,
    choice: &Choice,
    family: Family,
    plan: &Vmac,
    parent: u32,
) -> Result<Made, io::Error> {
    for note in &choice.notes {
        tracing::info!("({instance}) {note}");
    }
    let name = choice.name.as_str();
    let created = match choice.step {
        Step::Reuse { .. } => false,
        Step::Create => {
            addresses.create_macvlan(name, parent, choice.mac).await.inspect_err(|_| unable(instance, name))?;
            tracing::info!("({instance}): Success creating VMAC interface {name}");
            true
        }
        Step::Update { ifindex } => {
            tracing::info!("({instance}) Update old VMAC interface {name} due to wrong MAC/mode");
            addresses.update_macvlan(ifindex, choice.mac).await.inspect_err(|_| unable(instance, name))?;
            tracing::info!("({instance}): Success updating VMAC interface {name}");
            true
        }
        Step::Replace { ifindex } => {
            tracing::info!("({instance}) Removing old VMAC interface {name} due to conflicting interface");
            addresses.delete_link(ifindex).await.inspect_err(|_| {
                tracing::error!("({instance}) Error removing VMAC interface {name}");
            })?;
            addresses.create_macvlan(name, parent, choice.mac).await.inspect_err(|_| unable(instance, name))?;
            tracing::info!("({instance}): Success creating VMAC interface {name}");
            true
        }
    };
    let ifindex = match addresses.link_by_name(name).await {
        Ok(link) => link.ifindex,
        Err(e) => {
            // Made, but not found again: nothing would remove it.
            if matches!(choice.step, Step::Create | Step::Replace { .. }) {
                if let Err(e) = addresses.delete_link_by_name(name).await {
                    tracing::error!("({instance}) Error removing VMAC interface {name}: {e}");
                }
            }
            return Err(e);
        }
    };
    let mut made = Made { name: name.to_string(), ifindex, parent, parent_counted: false };
    // As keepalived, only a vmac it made gets these; one found as it is keeps its own.
    if created && family == Family::Ipv4 {
        clear_rp_filter(host);
        if let Err(e) = addresses.set_ipv4_conf(ifindex, &VMAC_IPV4).await {
            tracing::warn!("({instance}) Unable to set parameters for {name}: {e}");
        }
        made.parent_counted = true;
        match addresses.arp_conf(parent).await {
            Ok(Some(current)) => {
                if let Some(set) = host.parents.acquire(parent, current) {
                    if let Err(e) = addresses.set_ipv4_conf(parent, &set.settings()).await {
                        tracing::warn!("({instance}) Set base flags on {} failed for VMAC {name}: {e}", plan.parent);
                    }
                }
            }
            Ok(None) => made.parent_counted = false,
            Err(e) => {
                made.parent_counted = false;
                tracing::warn!("({instance}) cannot read the ARP settings of {}: {e}", plan.parent);
            }
        }
    }
    if let Err(e) = io::set_ipv6_disabled(name, !plan.ipv6) {
        tracing::warn!("({instance}) cannot turn IPv6 {} on {name}: {e}", if plan.ipv6 { "on" } else { "off" });
    }
    if let Err(e) = addresses.disable_address_generation(ifindex).await {
        tracing::warn!("({instance}) Error setting ADDR_GEN_MODE to NONE on {name}: {e}");
    }
    if let Err(e) = addresses.set_link_up(ifindex).await {
        tracing::warn!("({instance}) cannot bring {name} up: {e}");
    }
    if let Some(ll) = plan.link_local {
        // Usable at once: detection would hold it tentative, and the socket cannot bind it.
        let vip = Vip { nodad: true, ..Vip::new(IpAddr::V6(ll), 64) };
        if let Err(e) = addresses.add(ifindex, &vip).await {
            tracing::warn!("({instance}) adding link-local address to {name} failed: {e}");
        }
    }
    Ok(made)
}

fn unable(instance: &str, name: &str) {
    tracing::error!("({instance}): Unable to create VMAC interface {name}");
}

/// Removes the vmac `made` of instance `instance`, after putting back its parent's ARP
/// settings if it was the last vmac there that changed them.
pub async fn remove(addresses: &Addresses, host: &mut HostChanges, instance: &str, made: &Made) {
    if made.parent_counted {
        if let Some(saved) = host.parents.release(made.parent) {
            if let Err(e) = addresses.set_ipv4_conf(made.parent, &saved.settings()).await {
                tracing::warn!("({instance}) reset interface flags on ifindex {} failed: {e}", made.parent);
            }
        }
    }
    match addresses.delete_link(made.ifindex).await {
        Ok(()) => tracing::info!("({instance}) Success removing VMAC interface {}", made.name),
        Err(e) => tracing::error!("({instance}) Error removing VMAC interface {}: {e}", made.name),
    }
}

/// Every interface's `rp_filter` that can be read.
fn interface_rp_filters() -> Vec<(String, u32)> {
    let names = io::ipv4_interfaces().unwrap_or_default();
    names.into_iter().filter_map(|n| io::ipv4_sysctl(&n, "rp_filter").ok().map(|v| (n, v))).collect()
}

/// Lowers `net.ipv4.conf.all.rp_filter` to 0 for the IPv4 vmacs, once, as keepalived does
/// (see [`vmac::clear_rp_filter`]).
fn clear_rp_filter(host: &mut HostChanges) {
    if host.rp_filter.is_some() {
        return;
    }
    let all = match io::ipv4_sysctl("all", "rp_filter") {
        Ok(all) => all,
        Err(e) => {
            tracing::warn!("Unable to read sysctl net.ipv4.conf.all.rp_filter: {e}");
            return;
        }
    };
    // Unreadable: never below `all`, so never raised.
    let default = io::ipv4_sysctl("default", "rp_filter").unwrap_or(u32::MAX);
    if let Some((writes, saved)) = vmac::clear_rp_filter(all, default, &interface_rp_filters()) {
        for w in &writes {
            if w.name == "all" || w.name == "default" {
                tracing::info!("NOTICE: setting sysctl net.ipv4.conf.{}.rp_filter from {} to {}", w.name, w.from, w.to);
            }
            write_rp_filter(w);
        }
        host.rp_filter = Some(saved);
    }
}

/// Puts back what the vmacs changed on the host and is still as they left it: `rp_filter`
/// (the parents' ARP settings go back with their last vmac).
pub fn restore(host: &mut HostChanges) {
    let Some(saved) = host.rp_filter.take() else { return };
    let all = match io::ipv4_sysctl("all", "rp_filter") {
        Ok(all) => all,
        Err(e) => {
            tracing::warn!("Unable to read sysctl net.ipv4.conf.all.rp_filter ({e}): not reset");
            return;
        }
    };
    let default = io::ipv4_sysctl("default", "rp_filter")
        .inspect_err(|e| tracing::warn!("Unable to read sysctl net.ipv4.conf.default.rp_filter ({e}): not reset"))
        .ok();
    for w in vmac::restore_rp_filter(&saved, all, default, &interface_rp_filters()) {
        if w.name == "all" || w.name == "default" {
            tracing::info!("NOTICE: resetting sysctl net.ipv4.conf.{}.rp_filter to {}", w.name, w.to);
        }
        write_rp_filter(&w);
    }
}

fn write_rp_filter(w: &RpFilterWrite) {
    if let Err(e) = io::set_ipv4_sysctl(&w.name, "rp_filter", w.to) {
        tracing::warn!("cannot set net.ipv4.conf.{}.rp_filter to {}: {e}", w.name, w.to);
    }
}

#[cfg(test)]
mod tests;
