//! VRRP blocks: `vrrp_instance`, `vrrp_script`, `vrrp_track_file`, `vrrp_sync_group`, and the
//! address, route and rule lines they share with `static_*`.

use std::net::IpAddr;
use std::time::Duration;

use super::{apply, ignored, removed, set, Ctx, Table};
use crate::model::{
    AuthType, Authentication, Config, InitialState, Notify, Route, RouteKind, Rule, Scope, SyncGroup, Track, TrackFile,
    UnicastPeer, VirtualAddress, VrrpInstance, VrrpScript,
};
use crate::tree::Statement;

pub(crate) static INSTANCE: Table<VrrpInstance> = Table::new(&[
    set("state", |c, s, i| {
        c.at_most(s, 1);
        match c.arg(s, 0).map(|w| (w.text.as_str(), w.span.clone())) {
            Some(("MASTER", _)) => (i.state, i.state_configured) = (InitialState::Master, true),
            Some(("BACKUP", _)) => (i.state, i.state_configured) = (InitialState::Backup, true),
            Some((other, span)) => c.error("bad-value", &span, format!("state '{other}' is not MASTER or BACKUP")),
            None => {}
        }
    }),
    set("interface", |c, s, i| {
        c.at_most(s, 1);
        if let Some(w) = c.arg(s, 0) {
            i.interface = Some((w.text.to_string(), w.span.clone()))
        }
    }),
    set("virtual_router_id", |c, s, i| {
        if let Some(v) = c.num(s, 1, 255) {
            i.virtual_router_id = v
        }
    }),
    set("priority", |c, s, i| {
        if let Some(v) = c.num(s, 1, 255) {
            i.priority = v
        }
    }),
    set("advert_int", |c, s, i| {
        if let Some(t) = c.timer(s, 255.0) {
            if t.is_zero() {
                c.error("out-of-range", s.span(), "advert_int must be greater than 0");
            } else {
                i.advert_int = t
            }
        }
    }),
    set("version", |c, s, i| {
        if let Some(v) = c.num(s, 2, 3) {
            i.version = v
        }
    }),
    set("nopreempt", |c, s, i| {
        c.at_most(s, 0);
        i.nopreempt = true
    }),
    set("preempt", |c, s, i| {
        c.at_most(s, 0);
        i.nopreempt = false
    }),
    set("preempt_delay", |c, s, i| {
        if let Some(t) = c.timer(s, 1000.0) {
            i.preempt_delay = t
        }
    }),
    set("authentication", |c, s, i| i.authentication = authentication(c, s)),
    set("virtual_ipaddress", |c, s, i| {
        let items = c.block(s);
        i.virtual_ipaddress.extend(items.iter().filter_map(|a| address(c, a)))
    }),
    set("virtual_ipaddress_excluded", |c, s, i| {
        let items = c.block(s);
        i.virtual_ipaddress_excluded.extend(items.iter().filter_map(|a| address(c, a)))
    }),
    set("virtual_routes", |c, s, i| {
        let items = c.block(s);
        i.virtual_routes.extend(items.iter().filter_map(|r| route(c, r)))
    }),
    set("virtual_rules", |c, s, i| {
        let items = c.block(s);
        i.virtual_rules.extend(items.iter().filter_map(|r| rule(c, r)))
    }),
    set("track_interface", |c, s, i| i.track_interface.extend(tracks(c, s))),
    set("track_script", |c, s, i| i.track_script.extend(tracks(c, s))),
    set("track_file", |c, s, i| i.track_file.extend(tracks(c, s))),
    set("dont_track_primary", |c, s, i| i.dont_track_primary = c.flag(s)),
    set("unicast_src_ip", |c, s, i| i.unicast_src_ip = c.ip(s)),
    set("unicast_peer", |c, s, i| {
        i.unicast_peer_span = Some(s.keyword.span.clone());
        let items = c.block(s);
        i.unicast_peer.extend(items.iter().filter_map(|p| unicast_peer(c, p)))
    }),
    set("unicast_ttl", |c, s, i| i.unicast_ttl = c.num(s, 1, 255)),
    set("mcast_src_ip", |c, s, i| i.mcast_src_ip = c.ip(s)),
    set("garp_master_delay", |c, s, i| {
        if let Some(t) = c.timer(s, 86400.0) {
            i.garp_master_delay = t
        }
    }),
    set("garp_master_repeat", |c, s, i| {
        if let Some(v) = c.num(s, 0, i64::from(u32::MAX)) {
            i.garp_master_repeat = v
        }
    }),
    set("garp_master_refresh", |c, s, i| {
        if let Some(t) = c.timer(s, 86400.0) {
            i.garp_master_refresh = t
        }
    }),
    set("garp_master_refresh_repeat", |c, s, i| {
        if let Some(v) = c.num(s, 0, i64::from(u32::MAX)) {
            i.garp_master_refresh_repeat = v
        }
    }),
    removed(
        "lvs_sync_daemon_interface",
        "keepalived 2.x deprecated it in vrrp_instance; use 'lvs_sync_daemon INTERFACE INSTANCE' in global_defs (Vigil still reads it)",
        Some(|c, s, i| {
            c.at_most(s, 1);
            i.lvs_sync_daemon_interface = c.string(s)
        }),
    ),
    removed("linkbeat_use_polling", "keepalived 2.x deprecated it in vrrp_instance; use a linkbeat_interfaces block", None),
    set("smtp_alert", |c, s, i| i.smtp_alert = Some(c.flag(s))),
    set("notify_master", |c, s, i| i.notify.master = c.script(s)),
    set("notify_backup", |c, s, i| i.notify.backup = c.script(s)),
    set("notify_fault", |c, s, i| i.notify.fault = c.script(s)),
    set("notify_stop", |c, s, i| i.notify.stop = c.script(s)),
    set("notify_deleted", |c, s, i| i.notify.deleted = c.script(s)),
    set("notify", |c, s, i| i.notify.any = c.script(s)),
    set("notify_master_rx_lower_pri", |c, s, i| i.notify.master_rx_lower_pri = c.script(s)),
    set("notify_priority_changes", |c, s, i| i.notify.priority_changes = c.flag(s)),
    set("use_vmac", |c, s, i| {
        c.at_most(s, 1);
        i.use_vmac = Some(s.args.first().map(|w| w.text.to_string()))
    }),
    set("vmac_xmit_base", |c, s, i| i.vmac_xmit_base = c.flag(s)),
    set("native_ipv6", |c, s, i| i.native_ipv6 = c.flag(s)),
    set("accept", |c, s, i| {
        c.at_most(s, 0);
        i.accept = Some(true)
    }),
    set("no_accept", |c, s, i| {
        c.at_most(s, 0);
        i.accept = Some(false)
    }),
    set("skip_check_adv_addr", |c, s, i| i.skip_check_adv_addr = c.flag(s)),
    set("v3_checksum_as_v2", |c, s, i| i.v3_checksum_as_v2 = c.flag(s)),
    set("old_unicast_checksum", |c, s, i| {
        c.at_most(s, 1);
        i.old_unicast_checksum = match s.args.first() {
            None => Some(true),
            Some(w) if w.text == "never" => Some(false),
            Some(w) => {
                c.error("bad-value", &w.span, format!("old_unicast_checksum: '{}' is not 'never'", w.text));
                None
            }
        }
    }),
    set("strict_mode", |c, s, i| i.strict_mode = Some(c.flag(s))),
    set("check_unicast_src", |c, s, i| i.check_unicast_src = c.flag(s)),
    ignored("vrf"),
    ignored("use_vmac_addr"),
    ignored("use_ipvlan"),
    ignored("track_process"),
    ignored("track_bfd"),
    ignored("mcast_dst_ip"),
    ignored("track_src_ip"),
    ignored("unicast_fault_no_peer"),
    ignored("garp_lower_prio_delay"),
    ignored("garp_lower_prio_repeat"),
    ignored("garp_extra_if"),
    ignored("down_timer_adverts"),
    ignored("lower_prio_no_advert"),
    ignored("higher_prio_send_advert"),
    ignored("promote_secondaries"),
    ignored("debug"),
    ignored("kernel_rx_buf_size"),
]);

pub(crate) static SCRIPT: Table<VrrpScript> = Table::new(&[
    set("script", |c, s, v| v.script = c.script(s)),
    set("interval", |c, s, v| {
        if let Some(t) = c.timer(s, 86400.0) {
            v.interval = t.max(Duration::from_micros(1))
        }
    }),
    set("timeout", |c, s, v| v.timeout = c.timer(s, 86400.0)),
    set("weight", |c, s, v| {
        c.at_most(s, 2);
        if let Some(w) = c.int_at(s, 0, -253, 253) {
            v.weight = i32::try_from(w).unwrap_or(0);
        }
        v.weight_reverse = reverse(c, s, 1);
    }),
    set("rise", |c, s, v| {
        if let Some(n) = c.num(s, 1, i64::from(u32::MAX)) {
            v.rise = n
        }
    }),
    set("fall", |c, s, v| {
        if let Some(n) = c.num(s, 1, i64::from(u32::MAX)) {
            v.fall = n
        }
    }),
    set("user", |c, s, v| v.user = c.user_group(s)),
    set("init_fail", |c, s, v| {
        c.at_most(s, 0);
        v.init_fail = true
    }),
]);

pub(crate) static TRACK_FILE: Table<TrackFile> = Table::new(&[
    set("file", |c, s, t| {
        c.at_most(s, 1);
        t.file = c.string(s)
    }),
    set("weight", |c, s, t| {
        c.at_most(s, 2);
        if let Some(w) = c.int_at(s, 0, -254, 254) {
            t.weight = i32::try_from(w).unwrap_or(1);
        }
        t.weight_reverse = reverse(c, s, 1);
    }),
    set("init_file", |c, s, t| {
        c.at_most(s, 2);
        let mut value = 0;
        let mut overwrite = false;
        for w in &s.args {
            if w.text == "overwrite" {
                overwrite = true;
            } else if let Some(v) = c.int_word("init_file", w, i64::from(i32::MIN), i64::from(i32::MAX)) {
                value = v;
            }
        }
        t.init_file = Some((value, overwrite))
    }),
]);

pub(crate) static SYNC_GROUP: Table<SyncGroup> = Table::new(&[
    set("group", |c, s, g| {
        let items = c.block(s);
        g.members.extend(items.iter().flat_map(|i| i.words().map(|w| (w.text.to_string(), w.span.clone()))))
    }),
    set("notify_master", |c, s, g| g.notify.master = c.script(s)),
    set("notify_backup", |c, s, g| g.notify.backup = c.script(s)),
    set("notify_fault", |c, s, g| g.notify.fault = c.script(s)),
    set("notify_stop", |c, s, g| g.notify.stop = c.script(s)),
    set("notify_deleted", |c, s, g| g.notify.deleted = c.script(s)),
    set("notify", |c, s, g| g.notify.any = c.script(s)),
    set("notify_priority_changes", |c, s, g| g.notify.priority_changes = c.flag(s)),
    set("smtp_alert", |c, s, g| g.smtp_alert = Some(c.flag(s))),
    removed(
        "global_tracking",
        "keepalived 2.x deprecated it; use track_interface/track_script/track_file on the sync group",
        Some(|c, s, g| g.global_tracking = c.flag(s)),
    ),
    set("sync_group_tracking_weight", |c, s, g| g.sync_group_tracking_weight = c.flag(s)),
    set("track_interface", |c, s, g| g.track_interface.extend(tracks(c, s))),
    set("track_script", |c, s, g| g.track_script.extend(tracks(c, s))),
    set("track_file", |c, s, g| g.track_file.extend(tracks(c, s))),
    ignored("track_process"),
    ignored("track_bfd"),
]);

fn reverse(c: &mut Ctx, s: &Statement, i: usize) -> bool {
    match s.args.get(i) {
        Some(w) if w.text == "reverse" => true,
        Some(w) => {
            c.error("bad-value", &w.span, format!("{}: '{}' is not 'reverse'", s.name(), w.text));
            false
        }
        None => false,
    }
}

pub(crate) fn instance(c: &mut Ctx, s: &Statement) -> VrrpInstance {
    let mut i = VrrpInstance {
        name: c.block_name(s),
        span: s.span().clone(),
        state: InitialState::Backup,
        state_configured: false,
        interface: None,
        virtual_router_id: 0,
        priority: 0,
        advert_int: Duration::from_secs(1),
        version: 0,
        nopreempt: false,
        preempt_delay: Duration::ZERO,
        authentication: None,
        virtual_ipaddress: Vec::new(),
        virtual_ipaddress_excluded: Vec::new(),
        virtual_routes: Vec::new(),
        virtual_rules: Vec::new(),
        track_interface: Vec::new(),
        track_script: Vec::new(),
        track_file: Vec::new(),
        dont_track_primary: false,
        unicast_src_ip: None,
        unicast_peer: Vec::new(),
        unicast_peer_span: None,
        unicast_ttl: None,
        mcast_src_ip: None,
        garp_master_delay: Duration::MAX,
        garp_master_repeat: u32::MAX,
        garp_master_refresh: Duration::MAX,
        garp_master_refresh_repeat: u32::MAX,
        lvs_sync_daemon_interface: None,
        smtp_alert: None,
        notify: Notify::default(),
        use_vmac: None,
        vmac_xmit_base: false,
        native_ipv6: false,
        accept: None,
        skip_check_adv_addr: false,
        strict_mode: None,
        check_unicast_src: false,
        v3_checksum_as_v2: false,
        old_unicast_checksum: None,
    };
    let items = c.block(s);
    apply(c, &INSTANCE, "vrrp_instance", items, &mut i);
    if i.priority == 0 {
        // keepalived: `state MASTER` without a priority makes the address owner.
        i.priority = if i.state == InitialState::Master { 255 } else { 100 };
    }
    i
}

pub(crate) fn script_block(c: &mut Ctx, s: &Statement) -> VrrpScript {
    let mut v = VrrpScript {
        name: c.block_name(s),
        script: None,
        interval: Duration::from_secs(1),
        timeout: None,
        weight: 0,
        weight_reverse: false,
        rise: 1,
        fall: 1,
        user: None,
        init_fail: false,
        span: s.span().clone(),
    };
    let items = c.block(s);
    apply(c, &SCRIPT, "vrrp_script", items, &mut v);
    if v.script.is_none() {
        c.error("missing-value", s.span(), format!("vrrp_script {} has no 'script'", v.name));
    }
    v
}

pub(crate) fn track_file_block(c: &mut Ctx, s: &Statement) -> TrackFile {
    let mut t = TrackFile {
        name: c.block_name(s),
        file: None,
        weight: 1,
        weight_reverse: false,
        init_file: None,
        span: s.span().clone(),
    };
    let items = c.block(s);
    apply(c, &TRACK_FILE, "vrrp_track_file", items, &mut t);
    if t.file.is_none() {
        c.error("missing-value", s.span(), format!("vrrp_track_file {} has no 'file'", t.name));
    }
    t
}

pub(crate) fn sync_group(c: &mut Ctx, s: &Statement) -> SyncGroup {
    let mut g = SyncGroup {
        name: c.block_name(s),
        members: Vec::new(),
        notify: Notify::default(),
        smtp_alert: None,
        global_tracking: false,
        sync_group_tracking_weight: false,
        track_interface: Vec::new(),
        track_script: Vec::new(),
        track_file: Vec::new(),
        span: s.span().clone(),
    };
    let items = c.block(s);
    apply(c, &SYNC_GROUP, "vrrp_sync_group", items, &mut g);
    g
}

fn authentication(c: &mut Ctx, s: &Statement) -> Option<Authentication> {
    let mut kind = None;
    let mut pass = None;
    for item in c.block(s) {
        match item.name() {
            "auth_type" => {
                c.at_most(item, 1);
                kind = match c.arg(item, 0).map(|w| (w.text.as_str(), w.span.clone())) {
                    Some(("PASS", _)) => Some(AuthType::Pass),
                    Some(("AH", _)) => Some(AuthType::Ah),
                    Some((other, span)) => {
                        c.error("bad-value", &span, format!("auth_type '{other}' is not PASS or AH"));
                        None
                    }
                    None => None,
                }
            }
            "auth_pass" => {
                c.at_most(item, 1);
                if let Some(w) = c.arg(item, 0) {
                    let mut p = w.text.to_string();
                    if p.len() > 8 {
                        c.warning(
                            "auth-pass-truncated",
                            &w.span,
                            format!("auth_pass is {} characters; only the first 8 are used", p.len()),
                        );
                        let mut cut = 8;
                        while !p.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        p.truncate(cut);
                    }
                    pass = Some(p);
                }
            }
            other => c.warning("unknown-keyword", item.span(), format!("unknown keyword '{other}' in authentication")),
        }
    }
    match (kind, pass) {
        (Some(kind), pass) => Some(Authentication { kind, pass: pass.unwrap_or_default(), span: s.span().clone() }),
        (None, Some(_)) => {
            c.warning("bad-value", s.span(), "authentication has auth_pass but no auth_type; it is ignored");
            None
        }
        (None, None) => None,
    }
}

/// One `track_*` block: a name per line, with `weight N [reverse]`.
fn tracks(c: &mut Ctx, s: &Statement) -> Vec<Track> {
    let mut out = Vec::new();
    for item in c.block(s) {
        let mut t = Track { name: item.name().to_string(), weight: None, reverse: false, span: item.span().clone() };
        let mut words = item.args.iter();
        while let Some(w) = words.next() {
            match w.text.as_str() {
                "weight" => match words.next() {
                    Some(v) => t.weight = c.int_word("weight", v, -254, 254).and_then(|v| i32::try_from(v).ok()),
                    None => c.error("missing-value", &w.span, "weight needs a number"),
                },
                "reverse" => t.reverse = true,
                other => c.warning("extra-words", &w.span, format!("{}: unknown option '{other}'", s.name())),
            }
        }
        out.push(t);
    }
    out
}

fn unicast_peer(c: &mut Ctx, item: &Statement) -> Option<UnicastPeer> {
    let addr = c.ip_word("unicast_peer", &item.keyword)?;
    let mut p = UnicastPeer { addr, min_ttl: None, max_ttl: None, span: item.span().clone() };
    let mut words = item.args.iter();
    while let Some(w) = words.next() {
        let slot = match w.text.as_str() {
            "min_ttl" => &mut p.min_ttl,
            "max_ttl" => &mut p.max_ttl,
            other => {
                c.error("bad-value", &w.span, format!("unicast_peer: unknown option '{other}'"));
                continue;
            }
        };
        match words.next() {
            Some(v) => *slot = c.int_word(&w.text, v, 0, 255).and_then(|v| u8::try_from(v).ok()),
            None => c.error("missing-value", &w.span, format!("{} needs a number", w.text)),
        }
    }
    Some(p)
}

fn scope(c: &mut Ctx, w: &crate::span::Word) -> Option<Scope> {
    Some(match w.text.as_str() {
        "global" | "universe" => Scope::Global,
        "site" => Scope::Site,
        "link" => Scope::Link,
        "host" => Scope::Host,
        "nowhere" => Scope::Nowhere,
        n => match n.parse::<u8>() {
            Ok(v) => Scope::Other(v),
            Err(_) => {
                c.error("bad-value", &w.span, format!("unknown scope '{n}'"));
                return None;
            }
        },
    })
}

/// `IP[/P][-LAST] [brd IP] [dev IF] [scope S] [label L] [peer IP/P] [home] [-nodad]
/// [noprefixroute] [no_track] ...` from one line of an address block.
pub(crate) fn address(c: &mut Ctx, item: &Statement) -> Option<VirtualAddress> {
    let (addr, prefix) = c.prefix_word("address", &item.keyword)?;
    let mut a = VirtualAddress {
        addr,
        prefix,
        brd: None,
        peer: None,
        dev: None,
        scope: None,
        label: None,
        noprefixroute: false,
        nodad: false,
        home: false,
        no_track: false,
        span: item.span().clone(),
    };
    let mut words = item.args.iter();
    while let Some(w) = words.next() {
        let mut value = |c: &mut Ctx| {
            let v = words.next();
            if v.is_none() {
                c.error("missing-value", &w.span, format!("address option '{}' needs a value", w.text));
            }
            v
        };
        match w.text.as_str() {
            "brd" | "broadcast" => {
                if let Some(v) = value(c) {
                    match c.ip_word("brd", v) {
                        Some(IpAddr::V4(b)) => a.brd = Some(b),
                        Some(_) => c.error("bad-address", &v.span, "brd must be an IPv4 address"),
                        None => {}
                    }
                }
            }
            "dev" => a.dev = value(c).map(|v| v.text.to_string()),
            "scope" => a.scope = value(c).and_then(|v| scope(c, v)),
            "label" => a.label = value(c).map(|v| v.text.to_string()),
            "peer" => a.peer = value(c).and_then(|v| c.prefix_word("peer", v)),
            "preferred_lft" => {
                let _ = value(c);
            }
            "home" => a.home = true,
            "-nodad" => a.nodad = true,
            "noprefixroute" => a.noprefixroute = true,
            "no_track" => a.no_track = true,
            "autojoin" | "track_group" | "use_vmac" => {}
            other => c.error("bad-value", &w.span, format!("unknown address option '{other}'")),
        }
    }
    Some(a)
}

fn route_kind(word: &str) -> Option<RouteKind> {
    Some(match word {
        "blackhole" => RouteKind::Blackhole,
        "unreachable" => RouteKind::Unreachable,
        "prohibit" => RouteKind::Prohibit,
        "throw" => RouteKind::Throw,
        _ => return None,
    })
}

/// One line of `virtual_routes` / `static_routes`.
pub(crate) fn route(c: &mut Ctx, item: &Statement) -> Option<Route> {
    let mut r = Route {
        dest: None,
        kind: RouteKind::Unicast,
        src: None,
        via: None,
        dev: None,
        scope: None,
        table: None,
        metric: None,
        onlink: false,
        no_track: false,
        span: item.span().clone(),
    };
    let mut have_dest = false;
    let mut words = item.words();
    while let Some(w) = words.next() {
        let mut value = |c: &mut Ctx| {
            let v = words.next();
            if v.is_none() {
                c.error("missing-value", &w.span, format!("route option '{}' needs a value", w.text));
            }
            v
        };
        match w.text.as_str() {
            "src" => r.src = value(c).and_then(|v| c.ip_word("src", v)),
            "to" => {
                if let Some(v) = value(c) {
                    r.dest = c.prefix_word("route", v);
                    have_dest = true;
                }
            }
            "via" | "gw" => r.via = value(c).and_then(|v| c.ip_word("via", v)),
            "dev" | "oif" => r.dev = value(c).map(|v| v.text.to_string()),
            "scope" => r.scope = value(c).and_then(|v| scope(c, v)),
            "table" => {
                r.table = value(c)
                    .and_then(|v| c.int_word("table", v, 0, i64::from(u32::MAX)))
                    .and_then(|v| u32::try_from(v).ok())
            }
            "metric" | "preference" | "priority" => {
                r.metric = value(c)
                    .and_then(|v| c.int_word("metric", v, 0, i64::from(u32::MAX)))
                    .and_then(|v| u32::try_from(v).ok())
            }
            "onlink" => r.onlink = true,
            "no_track" => r.no_track = true,
            "default" if !have_dest => have_dest = true,
            "protocol" | "proto" | "mtu" | "advmss" | "rtt" | "rttvar" | "reordering" | "window" | "cwnd"
            | "ssthresh" | "realms" | "rto_min" | "initcwnd" | "initrwnd" | "features" | "quickack" | "congctl"
            | "pref" | "tos" | "dsfield" | "vrf" | "nexthop" | "hoplimit" | "fastopen_no_cookie" | "ttl-propagate"
            | "or" => {
                let _ = value(c);
            }
            "lock" => {}
            word => match route_kind(word) {
                Some(k) if !have_dest => r.kind = k,
                _ if !have_dest => {
                    r.dest = c.prefix_word("route", w);
                    have_dest = true;
                }
                _ => c.error("bad-value", &w.span, format!("unknown route option '{word}'")),
            },
        }
    }
    if !have_dest {
        c.error("missing-value", item.span(), "route has no destination");
        return None;
    }
    Some(r)
}

/// One line of `virtual_rules` / `static_rules`.
pub(crate) fn rule(c: &mut Ctx, item: &Statement) -> Option<Rule> {
    let mut r = Rule {
        from: None,
        to: None,
        table: None,
        priority: None,
        fwmark: None,
        iif: None,
        oif: None,
        no_track: false,
        span: item.span().clone(),
    };
    let mut words = item.words();
    while let Some(w) = words.next() {
        let mut value = |c: &mut Ctx| {
            let v = words.next();
            if v.is_none() {
                c.error("missing-value", &w.span, format!("rule option '{}' needs a value", w.text));
            }
            v
        };
        let number = |c: &mut Ctx, v: Option<&crate::span::Word>| {
            v.and_then(|v| c.int_word("rule", v, 0, i64::from(u32::MAX))).and_then(|v| u32::try_from(v).ok())
        };
        match w.text.as_str() {
            "from" => r.from = value(c).and_then(|v| c.prefix_word("from", v)),
            "to" => r.to = value(c).and_then(|v| c.prefix_word("to", v)),
            "table" | "lookup" => {
                let v = value(c);
                r.table = number(c, v)
            }
            "priority" | "preference" | "pref" => {
                let v = value(c);
                r.priority = number(c, v)
            }
            "fwmark" => {
                let v = value(c);
                r.fwmark = number(c, v)
            }
            "iif" => r.iif = value(c).map(|v| v.text.to_string()),
            "oif" => r.oif = value(c).map(|v| v.text.to_string()),
            "no_track" => r.no_track = true,
            "tos"
            | "dsfield"
            | "realms"
            | "suppress_prefixlength"
            | "suppress_ifgroup"
            | "goto"
            | "uidrange"
            | "l3mdev"
            | "protocol"
            | "ipproto"
            | "sport"
            | "dport"
            | "tun_id" => {
                let _ = value(c);
            }
            "not" | "blackhole" | "prohibit" | "unreachable" | "nop" => {}
            other => c.error("bad-value", &w.span, format!("unknown rule option '{other}'")),
        }
    }
    Some(r)
}

/// Resolves defaults from global_defs and checks what spans blocks: references between
/// instances, scripts, groups and interfaces.
pub(crate) fn finish(c: &mut Ctx, cfg: &mut Config) {
    let g = cfg.global.clone();
    for i in &mut cfg.instances {
        if i.version == 0 {
            i.version = g.vrrp_version;
        }
        if i.garp_master_delay == Duration::MAX {
            i.garp_master_delay = g.vrrp_garp_master_delay;
        }
        if i.garp_master_repeat == u32::MAX {
            i.garp_master_repeat = g.vrrp_garp_master_repeat;
        }
        if i.garp_master_refresh == Duration::MAX {
            i.garp_master_refresh = g.vrrp_garp_master_refresh;
        }
        if i.garp_master_refresh_repeat == u32::MAX {
            i.garp_master_refresh_repeat = g.vrrp_garp_master_refresh_repeat;
        }
        if i.virtual_router_id == 0 {
            c.error("missing-value", &i.span, format!("({}) virtual_router_id is not set", i.name));
        }
        match &i.interface {
            None => c.error("missing-value", &i.span, format!("({}) has no interface", i.name)),
            Some((name, span)) if name == "lo" => c.error(
                "loopback-interface",
                span,
                format!("({}) cannot use a loopback interface (lo) for VRRP", i.name),
            ),
            Some(_) => {}
        }
        if i.virtual_ipaddress.is_empty() {
            c.warning("no-vip", &i.span, format!("({}) has no virtual_ipaddress; at least one is sensible", i.name));
        }
        let family_v6 = i.native_ipv6 || i.virtual_ipaddress.first().is_some_and(|a| a.addr.is_ipv6());
        for a in &i.virtual_ipaddress {
            if a.addr.is_ipv6() != family_v6 {
                c.warning(
                    "vip-family",
                    &a.span,
                    format!(
                        "({}) {} is not of the instance's address family; put it in virtual_ipaddress_excluded",
                        i.name, a.addr
                    ),
                );
            }
        }
        if i.nopreempt && i.state == InitialState::Master {
            c.warning(
                "nopreempt-master",
                &i.span,
                format!("({}) nopreempt does not work with state MASTER; use state BACKUP on both sides", i.name),
            );
        }
        if i.nopreempt && !i.preempt_delay.is_zero() {
            c.warning(
                "preempt-delay-nopreempt",
                &i.span,
                format!("({}) preempt_delay has no effect with nopreempt", i.name),
            );
        }
        if let Some(a) = &i.authentication {
            if a.kind == AuthType::Ah && i.state == InitialState::Master {
                c.warning("ah-master", &a.span, format!("({}) AH authentication does not allow state MASTER", i.name));
            }
        }
        if i.strict_mode.unwrap_or(g.vrrp_strict) {
            if let Some(a) = &i.authentication {
                c.warning(
                    "strict-auth",
                    &a.span,
                    format!("({}) vrrp_strict does not allow authentication; it is ignored", i.name),
                );
            }
            if i.state == InitialState::Master && i.priority != 255 {
                c.warning(
                    "strict-master",
                    &i.span,
                    format!("({}) with vrrp_strict, state MASTER needs priority 255 (the address owner)", i.name),
                );
            }
        }
        for r in &i.virtual_rules {
            if r.priority.is_none() {
                c.warning("rule-no-priority", &r.span, "virtual_rules entry has no priority (keepalived uses 16384)");
            }
        }
        if let Some((own, _)) = &i.interface {
            for t in &i.track_interface {
                if &t.name == own {
                    c.warning(
                        "track-own-interface",
                        &t.span,
                        format!(
                            "({}) track_interface {own} is the instance's own interface; it is always tracked",
                            i.name
                        ),
                    );
                }
            }
        }
        if i.version == 3 {
            if let Some(a) = &i.authentication {
                c.warning(
                    "auth-v3",
                    &a.span,
                    format!("({}) authentication is not supported by VRRPv3; ignored", i.name),
                );
            }
        }
        if i.version == 2 && i.advert_int.subsec_nanos() != 0 {
            let whole = i.advert_int.as_secs().max(1);
            c.warning(
                "advert-int-v2",
                &i.span,
                format!("({}) VRRPv2 advert_int must be whole seconds; using {whole}", i.name),
            );
            i.advert_int = Duration::from_secs(whole);
        }
        // keepalived #2458, #1283: keepalived warns and falls back to multicast, where the other
        // director (configured for unicast) never hears this one: two MASTERs.
        if i.unicast_peer.is_empty() && (i.unicast_peer_span.is_some() || i.unicast_src_ip.is_some()) {
            let what = if i.unicast_peer_span.is_some() {
                "unicast_peer lists no peer"
            } else {
                "unicast_src_ip is set without unicast_peer"
            };
            c.error(
                "unicast-without-peer",
                i.unicast_peer_span.as_ref().unwrap_or(&i.span),
                format!(
                    "({}) {what}: keepalived falls back to multicast there, which a unicast peer never hears; list the other director's address, or remove the unicast keywords to use multicast",
                    i.name
                ),
            );
        }
        for t in &i.track_script {
            if !cfg.vrrp_scripts.iter().any(|s| s.name == t.name) {
                c.warning(
                    "unknown-reference",
                    &t.span,
                    format!("({}) track_script '{}' is not a vrrp_script", i.name, t.name),
                );
            }
        }
        for t in &i.track_file {
            if !cfg.track_files.iter().any(|f| f.name == t.name) {
                c.warning(
                    "unknown-reference",
                    &t.span,
                    format!("({}) track_file '{}' is not a vrrp_track_file", i.name, t.name),
                );
            }
        }
    }
    for g in &cfg.sync_groups {
        for (m, span) in &g.members {
            if !cfg.instances.iter().any(|i| &i.name == m) {
                c.warning(
                    "unknown-reference",
                    span,
                    format!("vrrp_sync_group {}: '{m}' is not a vrrp_instance", g.name),
                );
            }
        }
        if g.members.len() == 1 {
            c.warning(
                "sync-group-of-one",
                &g.span,
                format!("vrrp_sync_group {} has only one member; a sync group needs two or more", g.name),
            );
        }
    }
}
