//! The top level and `global_defs`.

use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

use super::{alias, apply, checked, ignored, lvs, removed, set, vrrp, Ctx, Table};
use crate::model::{
    BfdInstance, Config, GlobalDefs, LvsFlushOnStop, LvsSyncDaemon, LvsTimeouts, Scheduling, Script, SmtpServer,
};
use crate::tree::Statement;

pub(crate) static TOP: Table<Config> = Table::new(&[
    set("global_defs", |c, s, cfg| {
        cfg.global.span = Some(s.span().clone());
        let items = c.block(s);
        apply(c, &GLOBAL, "global_defs", items, &mut cfg.global)
    }),
    set("static_ipaddress", |c, s, cfg| {
        let items = c.block(s);
        cfg.static_ipaddress.extend(items.iter().filter_map(|i| vrrp::address(c, i)))
    }),
    set("static_routes", |c, s, cfg| {
        let items = c.block(s);
        cfg.static_routes.extend(items.iter().filter_map(|i| vrrp::route(c, i)))
    }),
    set("static_rules", |c, s, cfg| {
        let items = c.block(s);
        cfg.static_rules.extend(items.iter().filter_map(|i| vrrp::rule(c, i)))
    }),
    set("vrrp_script", |c, s, cfg| cfg.vrrp_scripts.push(vrrp::script_block(c, s))),
    set("track_file", |c, s, cfg| cfg.track_files.push(vrrp::track_file_block(c, s))),
    alias("vrrp_track_file", "track_file", |c, s, cfg| cfg.track_files.push(vrrp::track_file_block(c, s))),
    set("vrrp_sync_group", |c, s, cfg| cfg.sync_groups.push(vrrp::sync_group(c, s))),
    set("vrrp_instance", |c, s, cfg| cfg.instances.push(vrrp::instance(c, s))),
    set("virtual_server_group", |c, s, cfg| cfg.virtual_server_groups.push(lvs::group(c, s))),
    set("virtual_server", |c, s, cfg| {
        if let Some(vs) = lvs::virtual_server(c, s) {
            cfg.virtual_servers.push(Arc::new(vs))
        }
    }),
    set("vrrp_track_process", vrrp::track_process),
    set("bfd_instance", |c, s, cfg| {
        if let Some(b) = bfd_instance(c, s, &cfg.bfd_instances) {
            cfg.bfd_instances.push(b)
        }
    }),
    set("garp_group", vrrp::garp_group),
    checked("track_group", |c, s, _| vrrp::track_group(c, s)),
    set("interface_up_down_delays", vrrp::interface_up_down_delays),
    ignored("linkbeat_interfaces"),
    set("SSL", lvs::ssl),
    checked("child_wait_time", |c, s, _| {
        c.at_most(s, 1);
        c.lenient_int(s, 0, 0, i64::from(u32::MAX));
    }),
    // keepalived 2.2.7 reads these outside global_defs only (inside it they are unknown).
    // keepalived logs both mistakes and still exits 0 from -t: notes, not warnings.
    set("net_namespace", |c, s, cfg| match (s.args.first(), &cfg.global.net_namespace) {
        (None, _) => c.diags.note("missing-value", s.span(), "net_namespace name missing - ignoring"),
        (Some(w), Some(_)) => {
            c.diags.note("duplicate", s.span(), format!("Duplicate net_namespace definition {} - ignoring", w.text))
        }
        (Some(w), None) => cfg.global.net_namespace = Some(w.text.to_string()),
    }),
    ignored("net_namespace_ipvs"),
    ignored("namespace_with_ipsets"),
    ignored("use_pid_dir"),
    ignored("instance"),
    ignored("linkbeat_use_polling"),
]);

pub(crate) static GLOBAL: Table<GlobalDefs> = Table::new(&[
    set("router_id", |c, s, g| {
        c.at_most(s, 1);
        g.router_id = c.string(s)
    }),
    set("notification_email", |c, s, g| {
        let items = c.block(s);
        g.notification_email.extend(items.iter().flat_map(|i| i.words().map(|w| w.text.to_string())))
    }),
    set("notification_email_from", |c, s, g| {
        c.at_most(s, 1);
        g.notification_email_from = c.string(s)
    }),
    set("smtp_server", |c, s, g| {
        c.at_most(s, 2);
        let Some(host) = c.string(s) else { return };
        let port = match s.args.get(1) {
            Some(w) => c.port_word("smtp_server port", w).unwrap_or(25),
            None => 25,
        };
        g.smtp_server = Some(SmtpServer { host, port })
    }),
    set("smtp_helo_name", |c, s, g| g.smtp_helo_name = c.string(s)),
    set("smtp_connect_timeout", |c, s, g| {
        if let Some(t) = c.timer(s, 86400.0) {
            g.smtp_connect_timeout = t
        }
    }),
    set("smtp_alert", |c, s, g| g.smtp_alert = Some(c.flag(s))),
    set("smtp_alert_vrrp", |c, s, g| g.smtp_alert_vrrp = Some(c.flag(s))),
    set("smtp_alert_checker", |c, s, g| g.smtp_alert_checker = Some(c.flag(s))),
    set("enable_script_security", |c, s, g| g.enable_script_security = c.flag(s)),
    set("script_user", |c, s, g| g.script_user = c.user_group(s)),
    set("vrrp_version", |c, s, g| {
        if let Some(v) = c.num(s, 2, 3) {
            g.vrrp_version = v
        }
    }),
    set("vrrp_mcast_group4", |c, s, g| match c.ip(s) {
        Some(IpAddr::V4(a)) if a.is_multicast() => g.vrrp_mcast_group4 = a,
        Some(a) => c.error("bad-address", s.span(), format!("vrrp_mcast_group4 {a} is not an IPv4 multicast address")),
        None => {}
    }),
    set("vrrp_mcast_group6", |c, s, g| match c.ip(s) {
        Some(IpAddr::V6(a)) if a.is_multicast() => g.vrrp_mcast_group6 = a,
        Some(a) => c.error("bad-address", s.span(), format!("vrrp_mcast_group6 {a} is not an IPv6 multicast address")),
        None => {}
    }),
    set("vrrp_garp_master_delay", |c, s, g| {
        if let Some(t) = c.timer(s, 86400.0) {
            g.vrrp_garp_master_delay = t
        }
    }),
    set("vrrp_garp_master_repeat", |c, s, g| {
        if let Some(v) = c.num(s, 0, i64::from(u32::MAX)) {
            g.vrrp_garp_master_repeat = v
        }
    }),
    set("vrrp_garp_master_refresh", |c, s, g| {
        if let Some(t) = c.timer(s, 86400.0) {
            g.vrrp_garp_master_refresh = t
        }
    }),
    set("vrrp_garp_master_refresh_repeat", |c, s, g| {
        if let Some(v) = c.num(s, 0, i64::from(u32::MAX)) {
            g.vrrp_garp_master_refresh_repeat = v
        }
    }),
    set("vrrp_garp_interval", |c, s, g| {
        if let Some(t) = c.timer(s, 1.0) {
            g.vrrp_garp_interval = t
        }
    }),
    set("vrrp_gna_interval", |c, s, g| {
        if let Some(t) = c.timer(s, 1.0) {
            g.vrrp_gna_interval = t
        }
    }),
    set("vrrp_strict", |c, s, g| g.vrrp_strict = c.flag(s)),
    set("vrrp_skip_check_adv_addr", |c, s, g| g.vrrp_skip_check_adv_addr = c.flag(s)),
    set("vrrp_check_unicast_src", |c, s, g| g.vrrp_check_unicast_src = c.flag(s)),
    set("lvs_timeouts", |c, s, g| g.lvs_timeouts = lvs_timeouts(c, s)),
    set("lvs_sync_daemon", |c, s, g| g.lvs_sync_daemon = lvs_sync_daemon(c, s)),
    set("lvs_flush", |c, s, g| g.lvs_flush = c.flag(s)),
    set("lvs_flush_on_stop", lvs_flush_on_stop),
    alias("lvs_flush_onstop", "lvs_flush_on_stop", lvs_flush_on_stop),
    set("max_auto_priority", |c, s, g| {
        g.max_auto_priority = match s.args.first() {
            None => Some(99),
            Some(w) => c.int_word("max_auto_priority", w, -1, 99).and_then(|v| i32::try_from(v).ok()),
        }
    }),
    set("dynamic_interfaces", |c, s, g| {
        c.at_most(s, 1);
        g.dynamic_interfaces = true
    }),
    set("notify_fifo", |c, s, g| first_fifo(c, s, &mut g.notify_fifo)),
    set("vrrp_notify_fifo", |c, s, g| first_fifo(c, s, &mut g.vrrp_notify_fifo)),
    set("lvs_notify_fifo", |c, s, g| first_fifo(c, s, &mut g.lvs_notify_fifo)),
    set("notify_fifo_script", |c, s, g| first_fifo_script(c, s, &mut g.notify_fifo_script)),
    set("vrrp_notify_fifo_script", |c, s, g| first_fifo_script(c, s, &mut g.vrrp_notify_fifo_script)),
    set("lvs_notify_fifo_script", |c, s, g| first_fifo_script(c, s, &mut g.lvs_notify_fifo_script)),
    removed("lvs_id", "keepalived 2.x replaced it with 'router_id'", None),
    removed(
        "lvs_sync_daemon_interface",
        "keepalived 2.x replaced it with 'lvs_sync_daemon INTERFACE VRRP_INSTANCE'",
        None,
    ),
    removed("vrrp_unicast_bind", "keepalived 2.x replaced it with 'unicast_src_ip' in vrrp_instance", None),
    removed("vrrp_unicast_peer", "keepalived 2.x replaced it with a 'unicast_peer' block in vrrp_instance", None),
    ignored("tmp_config_directory"),
    ignored("config_save_dir"),
    alias("lvs_process_name", "checker_process_name", |c, s, _| {
        c.at_most(s, 1);
        c.not_implemented(s)
    }),
    removed(
        "vrrp_vmac_garp_intvl",
        "keepalived 2.2.3 renamed it 'vrrp_garp_extra_if' (Vigil does not act on either yet)",
        Some(|c, s, _| vrrp::garp_extra_if(c, s, 1)),
    ),
    alias("vrrp_rlimit_rtime", "vrrp_rlimit_rttime", |c, s, g| rlimit_rttime(c, s, g, Process::Vrrp)),
    alias("checker_rlimit_rtime", "checker_rlimit_rttime", |c, s, g| rlimit_rttime(c, s, g, Process::Checker)),
    alias("bfd_rlimit_rtime", "bfd_rlimit_rttime", |c, s, g| rlimit_rttime(c, s, g, Process::Bfd)),
    ignored("process_names"),
    ignored("process_name"),
    ignored("vrrp_process_name"),
    ignored("checker_process_name"),
    ignored("bfd_process_name"),
    set("startup_script", |c, s, g| lifecycle_script(c, s, &mut g.startup_script, "startup")),
    set("startup_script_timeout", |c, s, g| {
        if let Some(t) = lifecycle_script_timeout(c, s, "startup") {
            g.startup_script_timeout = t
        }
    }),
    set("shutdown_script", |c, s, g| lifecycle_script(c, s, &mut g.shutdown_script, "shutdown")),
    set("shutdown_script_timeout", |c, s, g| {
        if let Some(t) = lifecycle_script_timeout(c, s, "shutdown") {
            g.shutdown_script_timeout = t
        }
    }),
    ignored("checker_log_all_failures"),
    ignored("no_email_faults"),
    set("default_interface", |c, s, g| match s.args.first() {
        Some(w) => g.default_interface = Some(w.text.to_string()),
        None => c.warning("missing-value", s.span(), "default_interface requires interface name"),
    }),
    ignored("vrrp_garp_lower_prio_delay"),
    ignored("vrrp_down_timer_adverts"),
    ignored("vrrp_garp_lower_prio_repeat"),
    ignored("vrrp_min_garp"),
    checked("vrrp_garp_extra_if", |c, s, _| vrrp::garp_extra_if(c, s, 1)),
    ignored("vrrp_lower_prio_no_advert"),
    ignored("vrrp_higher_prio_send_advert"),
    set("nftables", |c, s, g| {
        c.at_most(s, 1);
        match (&g.nftables, s.args.first()) {
            (Some(_), _) => c.warning("duplicate", s.span(), "nftables already specified - ignoring"),
            // NFT_TABLE_MAXNAMELEN
            (None, Some(w)) if w.text.len() >= 256 => {
                c.warning("bad-value", &w.span, "nftables table name too long - ignoring")
            }
            (None, name) => g.nftables = Some(name.map_or_else(|| "keepalived".to_string(), |w| w.text.to_string())),
        }
    }),
    ignored("nftables_priority"),
    ignored("nftables_counters"),
    ignored("nftables_ifindex"),
    ignored("nftables_ipvs"),
    ignored("nftables_ipvs_priority"),
    ignored("nftables_ipvs_start_fwmark"),
    ignored("vrrp_iptables"),
    ignored("disable_local_igmp"),
    ignored("vrrp_notify_priority_changes"),
    ignored("min_auto_priority_delay"),
    set("vrrp_priority", |c, s, g| nice(c, s, g, Process::Vrrp)),
    set("checker_priority", |c, s, g| nice(c, s, g, Process::Checker)),
    set("bfd_priority", |c, s, g| nice(c, s, g, Process::Bfd)),
    set("vrrp_rt_priority", |c, s, g| rt_priority(c, s, g, Process::Vrrp)),
    set("checker_rt_priority", |c, s, g| rt_priority(c, s, g, Process::Checker)),
    set("bfd_rt_priority", |c, s, g| rt_priority(c, s, g, Process::Bfd)),
    set("vrrp_rlimit_rttime", |c, s, g| rlimit_rttime(c, s, g, Process::Vrrp)),
    set("checker_rlimit_rttime", |c, s, g| rlimit_rttime(c, s, g, Process::Checker)),
    set("bfd_rlimit_rttime", |c, s, g| rlimit_rttime(c, s, g, Process::Bfd)),
    set("vrrp_no_swap", |c, s, g| no_swap(c, s, g, Process::Vrrp)),
    set("checker_no_swap", |c, s, g| no_swap(c, s, g, Process::Checker)),
    set("bfd_no_swap", |c, s, g| no_swap(c, s, g, Process::Bfd)),
    set("vrrp_cpu_affinity", |c, s, g| cpu_affinity(c, s, g, Process::Vrrp)),
    set("checker_cpu_affinity", |c, s, g| cpu_affinity(c, s, g, Process::Checker)),
    set("bfd_cpu_affinity", |c, s, g| cpu_affinity(c, s, g, Process::Bfd)),
    ignored("snmp_socket"),
    ignored("enable_snmp_vrrp"),
    ignored("enable_snmp_keepalived"),
    ignored("enable_snmp_checker"),
    ignored("enable_snmp_rfc"),
    ignored("enable_snmp_rfcv2"),
    ignored("enable_snmp_rfcv3"),
    ignored("enable_traps"),
    ignored("enable_dbus"),
    ignored("dbus_service_name"),
    ignored("fifo_write_vrrp_states_on_reload"),
    ignored("vrrp_netlink_cmd_rcv_bufs"),
    ignored("vrrp_netlink_cmd_rcv_bufs_force"),
    ignored("vrrp_netlink_monitor_rcv_bufs"),
    ignored("vrrp_netlink_monitor_rcv_bufs_force"),
    ignored("lvs_netlink_cmd_rcv_bufs"),
    ignored("lvs_netlink_cmd_rcv_bufs_force"),
    ignored("lvs_netlink_monitor_rcv_bufs"),
    ignored("lvs_netlink_monitor_rcv_bufs_force"),
    ignored("process_monitor_rcv_bufs"),
    ignored("process_monitor_rcv_bufs_force"),
    ignored("vrrp_rx_bufs_policy"),
    ignored("vrrp_rx_bufs_multiplier"),
    ignored("rs_init_notifies"),
    ignored("no_checker_emails"),
    ignored("umask"),
    ignored("vrrp_startup_delay"),
    ignored("log_unknown_vrids"),
    ignored("vmac_prefix"),
    ignored("vmac_addr_prefix"),
    ignored("random_seed"),
    ignored("reload_check_config"),
    ignored("include_check"),
    ignored("reload_time_file"),
    ignored("reload_repeat"),
    ignored("reload_file"),
    ignored("data_use_instance"),
]);

/// The keepalived process a scheduling keyword is for (in Vigil, a thread).
#[derive(Clone, Copy)]
enum Process {
    Vrrp,
    Checker,
    Bfd,
}

impl Process {
    fn name(self) -> &'static str {
        match self {
            Process::Vrrp => "vrrp",
            Process::Checker => "checker",
            Process::Bfd => "bfd",
        }
    }

    fn of(self, g: &mut GlobalDefs) -> &mut Scheduling {
        match self {
            Process::Vrrp => &mut g.vrrp_scheduling,
            Process::Checker => &mut g.checker_scheduling,
            Process::Bfd => &mut g.bfd_scheduling,
        }
    }

    /// VRRP's and the checkers' threads start scripts, which would inherit SCHED_RR: Vigil
    /// makes only BFD's thread real-time, and notes the others' real-time keywords.
    fn realtime(self, c: &mut Ctx, s: &Statement) {
        if !matches!(self, Process::Bfd) {
            c.diags.note(
                "not-implemented",
                s.span(),
                format!("'{}' is read but not acted on: only BFD's thread is made real-time in Vigil", s.name()),
            );
        }
    }
}

/// `PROCESS_no_swap`.
fn no_swap(c: &mut Ctx, s: &Statement, g: &mut GlobalDefs, p: Process) {
    c.at_most(s, 0);
    p.of(g).no_swap = true;
}

/// `PROCESS_priority N`: a nice value in -20..=19; keepalived sets 0 (unchanged) when it is
/// missing or wrong.
fn nice(c: &mut Ctx, s: &Statement, g: &mut GlobalDefs, p: Process) {
    let (sched, process) = (p.of(g), p.name());
    c.at_most(s, 1);
    sched.nice = match s.args.first().map(|w| w.text.parse::<i8>()) {
        None => {
            c.warning("missing-value", s.span(), format!("No {process} process priority specified"));
            0
        }
        Some(Ok(n)) if (-20..=19).contains(&n) => n,
        Some(_) => {
            c.warning("bad-value", s.span(), format!("Invalid {process} process priority specified"));
            0
        }
    };
}

/// `PROCESS_rt_priority N`: SCHED_RR's priority, brought into 1..=99 as keepalived does.
fn rt_priority(c: &mut Ctx, s: &Statement, g: &mut GlobalDefs, p: Process) {
    p.realtime(c, s);
    let (sched, process) = (p.of(g), p.name());
    const MIN: i64 = 1;
    const MAX: i64 = 99;
    c.at_most(s, 1);
    let Some(w) = s.args.first() else {
        return c.warning("missing-value", s.span(), format!("No {process} process real-time priority specified"));
    };
    let Ok(n) = w.text.parse::<i32>() else {
        return c.warning("bad-value", &w.span, format!("{process} process real-time priority '{}' invalid", w.text));
    };
    let n = i64::from(n);
    let clamped = if n < MIN {
        let m = format!("{process} process real-time priority {n} less than minimum {MIN} - setting to minimum");
        c.warning("out-of-range", &w.span, m);
        MIN
    } else if n > MAX {
        let m = format!("{process} process real-time priority {n} greater than maximum {MAX} - setting to maximum");
        c.warning("out-of-range", &w.span, m);
        MAX
    } else {
        n
    };
    sched.rt_priority = u8::try_from(clamped).ok();
}

/// `PROCESS_rlimit_rttime N` (or the older `PROCESS_rlimit_rtime`): microseconds, 1..=2^32-1;
/// keepalived raises 1 to 2 and takes a wrong value as 0 (no limit).
fn rlimit_rttime(c: &mut Ctx, s: &Statement, g: &mut GlobalDefs, p: Process) {
    p.realtime(c, s);
    let (sched, process) = (p.of(g), p.name());
    c.at_most(s, 1);
    let text = s.args.first().map_or("", |w| w.text.as_str());
    sched.rlimit_rttime_us = match text.parse::<u64>() {
        Ok(n) if (1..=u64::from(u32::MAX)).contains(&n) => n.max(2),
        _ => {
            c.warning("bad-value", s.span(), format!("Invalid {process} real-time limit - {text}"));
            0
        }
    };
}

/// `PROCESS_cpu_affinity ID...`: CPU numbers (whether the host has them is a lint); the first
/// wrong one empties the set, as in keepalived.
fn cpu_affinity(c: &mut Ctx, s: &Statement, g: &mut GlobalDefs, p: Process) {
    let (sched, process) = (p.of(g), p.name());
    if s.args.is_empty() {
        return c.warning("missing-value", s.span(), format!("No {process} cpu_id set specified"));
    }
    sched.cpu_affinity.clear();
    for w in &s.args {
        match w.text.parse::<usize>() {
            Ok(id) if id < MAX_CPUS => sched.cpu_affinity.push(id),
            _ => {
                sched.cpu_affinity.clear();
                let m = format!("Invalid cpu_id:{} specified for {process} process", w.text);
                return c.warning("bad-value", &w.span, m);
            }
        }
    }
}

/// The CPUs a `cpu_set_t` can name.
const MAX_CPUS: usize = 1024;

/// A FIFO's name: the first one given stands, as in keepalived (`vrrp_notify_fifo already
/// specified - ignoring /run/b`).
fn first_fifo(c: &mut Ctx, s: &Statement, slot: &mut Option<String>) {
    match slot {
        Some(_) => c.already_given(s, s.name()),
        None => *slot = c.string(s),
    }
}

/// A FIFO's script: the first one given stands, as in keepalived.
fn first_fifo_script(c: &mut Ctx, s: &Statement, slot: &mut Option<Script>) {
    match slot {
        Some(_) => c.already_given(s, s.name()),
        None => *slot = c.script(s),
    }
}

/// `startup_script` / `shutdown_script` (`kind`): the first one given stands, as in keepalived.
fn lifecycle_script(c: &mut Ctx, s: &Statement, slot: &mut Option<Script>, kind: &str) {
    if slot.is_some() {
        c.warning("duplicate", s.span(), format!("{kind} script already specified"));
    } else if s.args.is_empty() {
        c.warning("missing-value", s.span(), format!("{kind} script missing"));
    } else {
        *slot = c.script(s);
    }
}

/// `startup_script_timeout` / `shutdown_script_timeout`: whole seconds from 1 to 1000.
fn lifecycle_script_timeout(c: &mut Ctx, s: &Statement, kind: &str) -> Option<std::time::Duration> {
    let Some(w) = s.args.first() else {
        c.warning("missing-value", s.span(), format!("{kind}_script_timeout requires value"));
        return None;
    };
    match w.text.parse::<u64>() {
        Ok(secs @ 1..=1000) => Some(std::time::Duration::from_secs(secs)),
        _ => {
            c.warning(
                "out-of-range",
                &w.span,
                format!("{kind}_script_timeout '{}' must be in [1, 1000] - ignoring", w.text),
            );
            None
        }
    }
}

fn lvs_flush_on_stop(c: &mut Ctx, s: &Statement, g: &mut GlobalDefs) {
    c.at_most(s, 1);
    g.lvs_flush_on_stop = match s.args.first().map(|w| w.text.as_str()) {
        None | Some("VS") => Some(LvsFlushOnStop::VirtualServers),
        Some("ALL") => Some(LvsFlushOnStop::All),
        Some(other) => {
            c.error("bad-value", &s.args[0].span, format!("lvs_flush_on_stop: '{other}' is not VS or ALL"));
            None
        }
    }
}

/// A BFD interval in milliseconds with up to 3 decimals, in microseconds as keepalived keeps
/// it; `None` (after a warning) when keepalived ignores the value.
fn bfd_interval(c: &mut Ctx, s: &Statement, min: f64) -> Option<u32> {
    c.at_most(s, 1);
    let ms = c.lenient_decimal(s, 0, min, f64::from(u32::MAX / 1000), 3)?;
    // In range (at most u32::MAX / 1000 ms) and with at most 3 decimals: a whole number of
    // microseconds that fits.
    Some((ms * 1000.0).round() as u32)
}

/// A `bfd_instance` as its block is read; [`bfd_instance`] applies keepalived's end-of-block
/// checks and defaults.
#[derive(Default)]
pub(crate) struct BfdDraft {
    neighbor: Option<IpAddr>,
    /// Set when a neighbour address was malformed: keepalived drops the instance.
    bad_neighbor: bool,
    neighbor_word: Option<&'static str>,
    source: Option<IpAddr>,
    min_rx_us: Option<u32>,
    min_tx_us: Option<u32>,
    idle_tx_us: Option<u32>,
    multiplier: Option<u8>,
    passive: bool,
    ttl: Option<u8>,
    max_hops: Option<i16>,
    weight: i32,
    weight_reverse: bool,
    to_vrrp: bool,
    to_checker: bool,
}

/// `bfd_instance NAME { ... }`: checked as keepalived's BFD, VRRP and checker processes
/// check it, with the same warnings.
pub(crate) static BFD_INSTANCE: Table<BfdDraft> = Table::new(&[
    set("source_ip", |c, s, b| {
        c.at_most(s, 1);
        if let Some(w) = c.arg(s, 0) {
            match w.text.parse::<IpAddr>() {
                Ok(ip) => b.source = Some(ip),
                Err(_) => c.warning(
                    "bad-address",
                    &w.span,
                    format!("BFD instance has malformed source address {}, ignoring", w.text),
                ),
            }
        }
    }),
    set("neighbor_ip", bfd_neighbor),
    set("neighbour_ip", bfd_neighbor),
    set("min_rx", |c, s, b| b.min_rx_us = bfd_interval(c, s, 1.0).or(b.min_rx_us)),
    set("min_tx", |c, s, b| b.min_tx_us = bfd_interval(c, s, 1.0).or(b.min_tx_us)),
    set("idle_tx", |c, s, b| b.idle_tx_us = bfd_interval(c, s, 1000.0).or(b.idle_tx_us)),
    set("multiplier", |c, s, b| {
        c.at_most(s, 1);
        if let Some(v) = c.lenient_int(s, 0, 1, 255).and_then(|v| u8::try_from(v).ok()) {
            b.multiplier = Some(v);
        }
    }),
    set("passive", |c, s, b| {
        c.at_most(s, 0);
        b.passive = true;
    }),
    set("ttl", bfd_ttl),
    set("hoplimit", bfd_ttl),
    set("max_hops", |c, s, b| {
        c.at_most(s, 1);
        if let Some(v) = c.lenient_int(s, 0, -1, 255).and_then(|v| i16::try_from(v).ok()) {
            b.max_hops = Some(v);
        }
    }),
    set("weight", |c, s, b| {
        c.at_most(s, 2);
        if let Some(v) = c.lenient_int(s, 0, -253, 253).and_then(|v| i32::try_from(v).ok()) {
            b.weight = v;
        }
        match s.args.get(1) {
            Some(w) if w.text == "reverse" => b.weight_reverse = true,
            Some(w) => c.warning("bad-value", &w.span, format!("BFD instance unknown weight option {}", w.text)),
            None => {}
        }
    }),
    set("vrrp", |c, s, b| {
        c.at_most(s, 0);
        b.to_vrrp = true;
    }),
    set("checker", |c, s, b| {
        c.at_most(s, 0);
        b.to_checker = true;
    }),
]);

fn bfd_ttl(c: &mut Ctx, s: &Statement, b: &mut BfdDraft) {
    c.at_most(s, 1);
    if let Some(v) = c.lenient_int(s, 0, 1, 255).and_then(|v| u8::try_from(v).ok()) {
        b.ttl = Some(v);
    }
}

fn bfd_neighbor(c: &mut Ctx, s: &Statement, b: &mut BfdDraft) {
    c.at_most(s, 1);
    b.neighbor_word = Some(if s.name() == "neighbour_ip" { "neighbour" } else { "neighbor" });
    if let Some(w) = c.arg(s, 0) {
        match w.text.parse::<IpAddr>() {
            Ok(ip) => b.neighbor = Some(ip),
            Err(_) => {
                b.bad_neighbor = true;
                c.warning(
                    "bad-address",
                    &w.span,
                    format!("BFD instance has malformed {} address {}, ignoring instance", s.name(), w.text),
                );
            }
        }
    }
}

/// Reads one `bfd_instance`; `None` when keepalived's BFD process disables it (its warning
/// given): no neighbour, a source of the other family, or the address pair of an instance
/// before it.
fn bfd_instance(c: &mut Ctx, s: &Statement, before: &[BfdInstance]) -> Option<BfdInstance> {
    let name = c.block_name(s);
    let items = c.block(s);
    let mut b = BfdDraft::default();
    apply(c, &BFD_INSTANCE, "bfd_instance", items, &mut b);
    if b.bad_neighbor {
        return None;
    }
    let word = b.neighbor_word.unwrap_or("neighbor");
    let Some(neighbor) = b.neighbor else {
        c.warning(
            "missing-value",
            s.span(),
            format!("BFD instance {name} has no {word} address set, disabling instance"),
        );
        return None;
    };
    if let Some(src) = b.source.filter(|src| src.is_ipv4() != neighbor.is_ipv4()) {
        c.warning(
            "bad-address",
            s.span(),
            format!(
                "BFD instance {name} source address {src} and {word} address {neighbor} are not of the same family, disabling instance"
            ),
        );
        return None;
    }
    if before.iter().any(|o| o.neighbor == neighbor && o.source == b.source) {
        c.warning(
            "duplicate",
            s.span(),
            format!("BFD instance {name} has duplicate {word} address {neighbor}, ignoring instance"),
        );
        return None;
    }
    let ttl = b.ttl.unwrap_or(if neighbor.is_ipv4() { 255 } else { 64 });
    let max_hops = match b.max_hops.unwrap_or(0) {
        -1 => None,
        hops => {
            let hops = u8::try_from(hops).unwrap_or(u8::MAX);
            if hops > ttl {
                c.warning(
                    "out-of-range",
                    s.span(),
                    format!("BFD instance {name}: max_hops exceeds ttl/hoplimit - setting to ttl/hoplimit"),
                );
            }
            Some(hops.min(ttl))
        }
    };
    let neither = !b.to_vrrp && !b.to_checker;
    Some(BfdInstance {
        name,
        neighbor,
        source: b.source,
        min_rx_us: b.min_rx_us.unwrap_or(10_000),
        min_tx_us: b.min_tx_us.unwrap_or(10_000),
        idle_tx_us: b.idle_tx_us.unwrap_or(1_000_000),
        multiplier: b.multiplier.unwrap_or(5),
        passive: b.passive,
        ttl,
        max_hops,
        weight: b.weight,
        weight_reverse: b.weight_reverse,
        to_vrrp: b.to_vrrp || neither,
        to_checker: b.to_checker || neither,
        span: s.span().clone(),
    })
}

/// `lvs_timeouts [tcp N] [tcpfin N] [udp N]`
fn lvs_timeouts(c: &mut Ctx, s: &Statement) -> Option<LvsTimeouts> {
    let mut t = LvsTimeouts::default();
    let mut words = s.args.iter();
    while let Some(k) = words.next() {
        let slot = match k.text.as_str() {
            "tcp" => &mut t.tcp,
            "tcpfin" => &mut t.tcpfin,
            "udp" => &mut t.udp,
            other => {
                c.error("bad-value", &k.span, format!("lvs_timeouts: unknown protocol '{other}' (tcp, tcpfin or udp)"));
                continue;
            }
        };
        match words.next() {
            Some(v) => *slot = c.int_word("lvs_timeouts", v, 1, 86400 * 31).and_then(|v| u32::try_from(v).ok()),
            None => c.error("missing-value", &k.span, format!("lvs_timeouts: '{}' needs a number of seconds", k.text)),
        }
    }
    Some(t)
}

/// `lvs_sync_daemon INTERFACE VRRP_INSTANCE [id N] [maxlen N] [port N] [ttl N] [group IP]`
fn lvs_sync_daemon(c: &mut Ctx, s: &Statement) -> Option<LvsSyncDaemon> {
    let interface = c.arg(s, 0)?.text.to_string();
    let instance = c.arg(s, 1)?.text.to_string();
    let mut d = LvsSyncDaemon {
        interface,
        instance,
        syncid: None,
        maxlen: None,
        port: None,
        ttl: None,
        group: None,
        span: s.span().clone(),
    };
    let mut words = s.args.iter().skip(2);
    while let Some(k) = words.next() {
        let Some(v) = words.next() else {
            c.error("missing-value", &k.span, format!("lvs_sync_daemon: '{}' needs a value", k.text));
            break;
        };
        match k.text.as_str() {
            "id" => d.syncid = c.int_word("lvs_sync_daemon id", v, 0, 255).and_then(|v| u8::try_from(v).ok()),
            "maxlen" => {
                d.maxlen = c.int_word("lvs_sync_daemon maxlen", v, 1, 65507).and_then(|v| u16::try_from(v).ok())
            }
            "port" => d.port = c.port_word("lvs_sync_daemon port", v),
            "ttl" => d.ttl = c.int_word("lvs_sync_daemon ttl", v, 1, 255).and_then(|v| u8::try_from(v).ok()),
            "group" => d.group = c.ip_word("lvs_sync_daemon group", v),
            other => c.error("bad-value", &k.span, format!("lvs_sync_daemon: unknown option '{other}'")),
        }
    }
    Some(d)
}

fn names<T>(t: &'static Table<T>) -> Vec<&'static str> {
    t.rows.iter().map(|k| k.name).collect()
}

static INDEX: LazyLock<Vec<(&'static str, &'static [&'static str])>> = LazyLock::new(|| {
    let leak = |v: Vec<&'static str>| -> &'static [&'static str] { Vec::leak(v) };
    vec![
        ("top level", leak(names(&TOP))),
        ("global_defs", leak(names(&GLOBAL))),
        ("vrrp_instance", leak(names(&vrrp::INSTANCE))),
        ("vrrp_script", leak(names(&vrrp::SCRIPT))),
        ("vrrp_sync_group", leak(names(&vrrp::SYNC_GROUP))),
        ("virtual_server", leak(names(&lvs::VIRTUAL_SERVER))),
        ("real_server", leak(names(&lvs::REAL_SERVER))),
    ]
});

/// Every block's keyword names, built once.
pub(crate) fn block_index() -> &'static [(&'static str, &'static [&'static str])] {
    INDEX.as_slice()
}

#[cfg(test)]
mod tests {
    use crate::{parse_str, Options, Severity};

    /// A second FIFO or FIFO script is reported in keepalived's words and ignored.
    #[test]
    fn the_first_fifo_and_fifo_script_stand() {
        let text = "global_defs {\n vrrp_notify_fifo /run/a\n vrrp_notify_fifo /run/b\n \
                    notify_fifo_script /bin/one\n notify_fifo_script /bin/two\n}\n";
        let parsed = parse_str("k.conf", text, &Options::default(), None);
        let g = &parsed.config.global;
        assert_eq!(g.vrrp_notify_fifo.as_deref(), Some("/run/a"));
        assert_eq!(g.notify_fifo_script.as_ref().map(|s| s.argv.clone()), Some(vec!["/bin/one".to_string()]));
        let said = super::super::said_about(text, "already");
        assert_eq!(
            said,
            [
                (3, Severity::Warning, "vrrp_notify_fifo already specified - ignoring /run/b".to_string()),
                (5, Severity::Warning, "notify_fifo_script already specified - ignoring /bin/two".to_string()),
            ]
        );
    }
}
