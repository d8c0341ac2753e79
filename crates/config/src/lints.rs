//! Checks across the whole configuration: keepalived's own (interfaces, script security) and
//! Vigil's notes (addresses nobody carries, clashing VRIDs, dubious priorities, duplicates).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;

use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::model::{CheckKind, Config, GroupMember, InitialState, Script, VsKey};
use crate::reuse::Moved;
use crate::span::Span;
use crate::Host;

/// `moved` places the virtual servers a reload's reading took from the running configuration.
pub(crate) fn run(cfg: &Config, diags: &mut Diagnostics, host: Option<&dyn Host>, moved: &Moved) {
    duplicate_instances(cfg, diags);
    vrid_clashes(cfg, diags);
    backup_at_255(cfg, diags);
    duplicate_real_servers(cfg, diags, moved);
    script_security(cfg, diags, host, moved);
    unicast_self_only(cfg, diags, host);
    if let Some(host) = host {
        interfaces(cfg, diags, host);
        unowned_virtual_servers(cfg, diags, host, moved);
        misc_check_users(cfg, diags, host, moved);
        cpu_affinity(cfg, diags, host);
    }
}

/// keepalived takes a `*_cpu_affinity` naming a CPU the host does not have online as an error
/// and leaves that process's affinity alone.
fn cpu_affinity(cfg: &Config, diags: &mut Diagnostics, host: &dyn Host) {
    let Some(online) = host.cpus_online() else { return };
    let g = &cfg.global;
    for (process, sched) in
        [("vrrp", &g.vrrp_scheduling), ("checker", &g.checker_scheduling), ("bfd", &g.bfd_scheduling)]
    {
        if let Some(id) = sched.cpu_affinity.iter().find(|&&id| id >= online) {
            let span = g.span.clone().unwrap_or_else(|| Span::detached("global_defs"));
            diags.warning("bad-value", &span, format!("Invalid cpu_id:{id} specified for {process} process"));
        }
    }
}

/// keepalived looks a MISC_CHECK's `user` (and group) up when it reads the file and drops the
/// checker when either is unknown (its `-t` then exits 5).
fn misc_check_users(cfg: &Config, diags: &mut Diagnostics, host: &dyn Host, moved: &Moved) {
    let checks = cfg
        .virtual_servers
        .iter()
        .enumerate()
        .flat_map(|(i, vs)| vs.real_servers.iter().flat_map(|rs| &rs.checkers).map(move |k| (i, k)));
    for (i, k) in checks {
        let CheckKind::Misc(m) = &k.kind else { continue };
        let Some((user, group)) = &m.user else { continue };
        if host.user_exists(user) && group.as_deref().is_none_or(|g| host.group_exists(g)) {
            continue;
        }
        let script = m.path.as_ref().map(|p| p.argv.join(" ")).unwrap_or_default();
        diags.warning(
            "unknown-user",
            &moved.place(i, &k.span),
            format!("Failed to set uid/gid for misc checker script '{script}' - removing"),
        );
    }
}

fn duplicate_instances(cfg: &Config, diags: &mut Diagnostics) {
    let mut seen: HashMap<&str, &crate::span::Span> = HashMap::new();
    for i in &cfg.instances {
        if let Some(first) = seen.insert(&i.name, &i.span) {
            diags.error(
                "duplicate-instance",
                &i.span,
                format!("vrrp_instance {} is defined twice (first at {first})", i.name),
            );
        }
    }
}

fn vrid_clashes(cfg: &Config, diags: &mut Diagnostics) {
    let mut seen: HashMap<(&str, u8, bool), &crate::model::VrrpInstance> = HashMap::new();
    for i in &cfg.instances {
        let Some((ifname, _)) = &i.interface else { continue };
        if i.virtual_router_id == 0 {
            continue;
        }
        let v6 = i.virtual_ipaddress.first().is_some_and(|a| a.addr.is_ipv6());
        if let Some(other) = seen.insert((ifname, i.virtual_router_id, v6), i) {
            diags.warning(
                "vrid-clash",
                &i.span,
                format!(
                    "({}) virtual_router_id {} on {ifname} is also used by ({}) at {}; their adverts will collide",
                    i.name, i.virtual_router_id, other.name, other.span
                ),
            );
        }
    }
}

fn backup_at_255(cfg: &Config, diags: &mut Diagnostics) {
    for i in &cfg.instances {
        if i.state == InitialState::Backup && i.priority == 255 {
            diags.note(
                "backup-priority-255",
                &i.span,
                format!(
                    "({}) has state BACKUP but priority 255, which makes it the address owner and always MASTER",
                    i.name
                ),
            );
        }
    }
}

fn duplicate_real_servers(cfg: &Config, diags: &mut Diagnostics, moved: &Moved) {
    for (i, vs) in cfg.virtual_servers.iter().enumerate() {
        let mut seen: BTreeMap<(IpAddr, u16), Span> = BTreeMap::new();
        for rs in &vs.real_servers {
            let at = moved.place(i, &rs.span);
            if let Some(first) = seen.insert((rs.ip, rs.port), at.clone()) {
                diags.warning(
                    "duplicate-real-server",
                    &at,
                    format!(
                        "real_server {} {} is listed twice in this virtual_server (first at {first}); the second is ignored",
                        rs.ip, rs.port
                    ),
                );
            }
        }
    }
}

fn notify(n: &crate::model::Notify) -> impl Iterator<Item = &Script> {
    [&n.master, &n.backup, &n.fault, &n.stop, &n.deleted, &n.any, &n.master_rx_lower_pri].into_iter().flatten()
}

/// Every script the configuration would run, each with where the file read has it.
fn scripts<'a>(cfg: &'a Config, moved: &Moved) -> Vec<(&'a Script, Span)> {
    let mut out: Vec<&Script> = Vec::new();
    for i in &cfg.instances {
        out.extend(notify(&i.notify));
    }
    for g in &cfg.sync_groups {
        out.extend(notify(&g.notify));
    }
    out.extend(cfg.vrrp_scripts.iter().filter_map(|s| s.script.as_ref()));
    let g = &cfg.global;
    out.extend(
        [
            &g.notify_fifo_script,
            &g.vrrp_notify_fifo_script,
            &g.lvs_notify_fifo_script,
            &g.startup_script,
            &g.shutdown_script,
        ]
        .into_iter()
        .flatten(),
    );
    let mut out: Vec<(&Script, Span)> = out.into_iter().map(|s| (s, s.span.clone())).collect();
    for (i, vs) in cfg.virtual_servers.iter().enumerate() {
        let mut of_vs: Vec<&Script> = vs.extra().quorum_up.iter().chain(vs.extra().quorum_down.iter()).collect();
        for rs in &vs.real_servers {
            of_vs.extend(rs.extra().notify_up.iter().chain(rs.extra().notify_down.iter()));
            for k in &rs.checkers {
                if let CheckKind::Misc(m) = &k.kind {
                    of_vs.extend(m.path.iter());
                }
            }
        }
        out.extend(of_vs.into_iter().map(|s| (s, moved.place(i, &s.span))));
    }
    out
}

/// keepalived's script rules: scripts that exist are checked against script security and the
/// user they run as; missing ones are dropped (a tracking script with a warning).
fn script_security(cfg: &Config, diags: &mut Diagnostics, host: Option<&dyn Host>, moved: &Moved) {
    let exists = |s: &Script| {
        let program = s.argv.first().map(String::as_str).unwrap_or("");
        match host {
            Some(h) if Path::new(program).is_absolute() => h.executable(Path::new(program)) != Some(false),
            _ => true,
        }
    };
    for v in &cfg.vrrp_scripts {
        if let Some(s) = v.script.as_ref().filter(|s| !exists(s)) {
            diags.warning(
                "script-missing",
                &s.span,
                format!(
                    "vrrp_script {}: '{}' does not exist or is not executable; the script is disabled",
                    v.name, s.argv[0]
                ),
            );
        }
    }
    let (present, missing): (Vec<_>, Vec<_>) = scripts(cfg, moved).into_iter().partition(|(s, _)| exists(s));
    for (s, at) in missing {
        if !cfg.vrrp_scripts.iter().any(|v| v.script.as_ref() == Some(s)) {
            diags.note(
                "script-missing",
                &at,
                format!("script '{}' does not exist or is not executable (keepalived -t does not check)", s.argv[0]),
            );
        }
    }
    if let (Some(h), Some((user, _))) = (host, &cfg.global.script_user) {
        if !h.user_exists(user) {
            let span = cfg.global.span.clone().unwrap_or_else(|| Span::detached("global_defs"));
            diags.error("unknown-user", &span, format!("script_user '{user}' does not exist"));
        }
    }
    if cfg.global.enable_script_security && cfg.global.script_user.is_none() {
        if let (Some(h), Some((_, first))) = (host, present.iter().find(|(s, _)| s.user.is_none())) {
            if !h.user_exists("keepalived_script") {
                diags.warning(
                    "script-default-user",
                    first,
                    "no script_user is set and the default user 'keepalived_script' does not exist: \
                     set 'script_user root' (or another user) in global_defs, or create the user",
                );
            }
        }
    }
    if let Some((_, first)) = present.first().filter(|_| !cfg.global.enable_script_security) {
        diags.push(Diagnostic {
            severity: Severity::Warning,
            code: "script-security",
            span: first.clone(),
            message: "SECURITY VIOLATION - scripts are being executed but script_security not enabled. \
                      Add 'enable_script_security' to global_defs (and 'script_user' if scripts must not run as root)"
                .into(),
            suggestion: None,
            security: true,
        });
    }
}

/// keepalived #2458: a unicast_peer list naming only this director (its unicast_src_ip or an
/// address of this host: the file copied from the other node unchanged) reaches no peer.
fn unicast_self_only(cfg: &Config, diags: &mut Diagnostics, host: Option<&dyn Host>) {
    let local = host.map(|h| h.local_addresses()).unwrap_or_default();
    for i in &cfg.instances {
        let own = |ip: &IpAddr| local.contains(ip) || i.unicast_src_ip.as_ref() == Some(ip);
        if i.unicast_peer.is_empty() || !i.unicast_peer.iter().all(|p| own(&p.addr)) {
            continue;
        }
        let list: Vec<String> = i.unicast_peer.iter().map(|p| p.addr.to_string()).collect();
        diags.error(
            "unicast-self-only",
            i.unicast_peer_span.as_ref().unwrap_or(&i.span),
            format!(
                "({}) unicast_peer lists only this director's own address ({}): no other router would hear it; list the other director's address",
                i.name,
                list.join(", ")
            ),
        );
    }
}

fn interfaces(cfg: &Config, diags: &mut Diagnostics, host: &dyn Host) {
    if cfg.global.dynamic_interfaces {
        return;
    }
    for i in &cfg.instances {
        if let Some((name, span)) = &i.interface {
            if !host.interface_exists(name) {
                diags.error("unknown-interface", span, format!("({}) interface {name} does not exist", i.name));
            }
        }
        for t in &i.track_interface {
            if !host.interface_exists(&t.name) {
                diags.error(
                    "unknown-interface",
                    &t.span,
                    format!("({}) track_interface {} does not exist", i.name, t.name),
                );
            }
        }
    }
    // keepalived only warns about a static address's missing interface, but refuses one that
    // has no `dev` when the default interface is missing.
    let default = cfg.global.default_interface.as_deref().unwrap_or("eth0");
    for a in &cfg.static_ipaddress {
        match &a.dev {
            Some(dev) if !host.interface_exists(dev) => diags.warning(
                "unknown-interface",
                &a.span,
                format!("interface {dev} for static address {}/{} does not exist", a.addr, a.prefix),
            ),
            None if !host.interface_exists(default) => diags.error(
                "unknown-interface",
                &a.span,
                format!(
                    "static address {}/{} has no dev and the default interface {default} does not exist: add 'dev IF' or set default_interface",
                    a.addr, a.prefix
                ),
            ),
            _ => {}
        }
    }
}

/// How many [`unowned_virtual_servers`] notes name their virtual server; one more says how
/// many others there are. A director of 10,000 virtual servers that owns none of their
/// addresses (a checkers-only node) would otherwise log 10,000 notes at each start and
/// reload, and hold them all at the reload's peak (megabytes).
const UNOWNED_NOTES: usize = 10;

/// A virtual_server address should be a VIP, a static address or a local address; otherwise
/// no packet for it reaches this director (seed 004's BACKUP shows the mistake).
fn unowned_virtual_servers(cfg: &Config, diags: &mut Diagnostics, host: &dyn Host, moved: &Moved) {
    let mut owned: Vec<IpAddr> = host.local_addresses();
    owned.extend(cfg.static_ipaddress.iter().map(|a| a.addr));
    for i in &cfg.instances {
        owned.extend(i.virtual_ipaddress.iter().chain(&i.virtual_ipaddress_excluded).map(|a| a.addr));
    }
    let (mut unowned, mut more) = (0, None);
    for (i, vs) in cfg.virtual_servers.iter().enumerate() {
        let addrs: Vec<IpAddr> = match &vs.key {
            VsKey::Addr { ip, .. } => vec![*ip],
            VsKey::Fwmark { .. } => continue,
            VsKey::Group { name } => cfg
                .virtual_server_groups
                .iter()
                .filter(|g| &g.name == name)
                .flat_map(|g| &g.members)
                .filter_map(|m| match m {
                    GroupMember::Range { first, .. } => Some(*first),
                    GroupMember::Fwmark { .. } => None,
                })
                .collect(),
        };
        for ip in addrs {
            if !ip.is_unspecified() && !owned.contains(&ip) {
                unowned += 1;
                if unowned > UNOWNED_NOTES {
                    more.get_or_insert_with(|| moved.place(i, &vs.span));
                    continue;
                }
                let vips: Vec<String> =
                    cfg.instances.iter().flat_map(|i| &i.virtual_ipaddress).map(|a| a.addr.to_string()).collect();
                diags.push(Diagnostic {
                    severity: Severity::Note,
                    code: "vs-address-unowned",
                    span: moved.place(i, &vs.span),
                    message: format!(
                        "virtual_server address {ip} is not a virtual_ipaddress of any vrrp_instance, a static_ipaddress, or an address of this host"
                    ),
                    suggestion: crate::keywords::closest(&ip.to_string(), vips.iter().map(String::as_str))
                        .map(str::to_string),
                    security: false,
                });
            }
        }
    }
    if let Some(span) = more {
        diags.push(Diagnostic {
            severity: Severity::Note,
            code: "vs-address-unowned",
            span,
            message: format!(
                "{} more virtual_server addresses, the first here, are not a virtual_ipaddress of any vrrp_instance, a static_ipaddress, or an address of this host",
                unowned - UNOWNED_NOTES
            ),
            suggestion: None,
            security: false,
        });
    }
}
