//! VRRP blocks: `vrrp_instance`, `vrrp_script`, `vrrp_track_file`, `vrrp_sync_group`, and the
//! address, route and rule lines they share with `static_*`.

use std::net::IpAddr;
use std::time::Duration;

use super::{apply, checked, ignored, removed, set, Ctx, Table};
use crate::model::{
    AuthType, Authentication, BfdInstance, Config, GarpGroup, InitialState, Notify, ParamMatch, Route, RouteKind, Rule,
    Scope, SyncGroup, Track, TrackFile, TrackProcess, UnicastPeer, VirtualAddress, VrrpInstance, VrrpScript,
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
    removed(
        "vmac_garp_intvl",
        "keepalived 2.2.3 renamed it 'garp_extra_if' (Vigil does not act on either yet)",
        Some(|c, s, _| garp_extra_if(c, s, 0)),
    ),
    set("smtp_alert", |c, s, i| i.smtp_alert = Some(c.flag(s))),
    set("notify_master", |c, s, i| c.first_script(s, &mut i.notify.master, &format!("({}) ", i.name))),
    set("notify_backup", |c, s, i| c.first_script(s, &mut i.notify.backup, &format!("({}) ", i.name))),
    set("notify_fault", |c, s, i| c.first_script(s, &mut i.notify.fault, &format!("({}) ", i.name))),
    set("notify_stop", |c, s, i| c.first_script(s, &mut i.notify.stop, &format!("({}) ", i.name))),
    set("notify_deleted", |c, s, i| notify_deleted(c, s, &mut i.notify, &format!("({}) ", i.name))),
    set("notify", |c, s, i| c.first_script(s, &mut i.notify.any, &format!("({}) ", i.name))),
    set("notify_master_rx_lower_pri", |c, s, i| c.first_script(s, &mut i.notify.master_rx_lower_pri, &format!("({}) ", i.name))),
    set("notify_priority_changes", |c, s, i| i.notify.priority_changes = c.flag(s)),
    set("use_vmac", |c, s, i| {
        c.at_most(s, 2);
        i.use_vmac = Some(vmac_name(c, s));
        i.use_vmac_span = Some(s.keyword.span.clone());
    }),
    set("vmac_xmit_base", |c, s, i| {
        i.vmac_xmit_base = c.flag(s);
        i.vmac_xmit_base_span = Some(s.keyword.span.clone());
    }),
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
    set("track_process", |c, s, i| i.track_process.extend(tracks(c, s))),
    set("track_bfd", |c, s, i| i.track_bfd.extend(tracks(c, s))),
    set("master_down_bfd", |c, s, i| {
        c.at_most(s, 1);
        c.diags.note(
            "vigil-extension",
            s.span(),
            "master_down_bfd is a Vigil extension: keepalived 2.2.7 warns 'Unknown keyword' and ignores it",
        );
        if let Some(w) = c.arg(s, 0) {
            i.master_down_bfd = Some((w.text.to_string(), w.span.clone()));
        }
    }),
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
    set("notify_master", |c, s, g| c.first_script(s, &mut g.notify.master, &format!("vrrp group {}: ", g.name))),
    set("notify_backup", |c, s, g| c.first_script(s, &mut g.notify.backup, &format!("vrrp group {}: ", g.name))),
    set("notify_fault", |c, s, g| c.first_script(s, &mut g.notify.fault, &format!("vrrp group {}: ", g.name))),
    set("notify_stop", |c, s, g| c.first_script(s, &mut g.notify.stop, &format!("vrrp group {}: ", g.name))),
    set("notify_deleted", |c, s, g| notify_deleted(c, s, &mut g.notify, &format!("vrrp group {}: ", g.name))),
    set("notify", |c, s, g| c.first_script(s, &mut g.notify.any, &format!("vrrp group {}: ", g.name))),
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
    set("track_process", |c, s, g| g.track_process.extend(tracks(c, s))),
    set("track_bfd", |c, s, g| g.track_bfd.extend(tracks(c, s))),
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
        track_bfd: Vec::new(),
        track_process: Vec::new(),
        master_down_bfd: None,
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
        use_vmac_span: None,
        vmac_xmit_base: false,
        vmac_xmit_base_span: None,
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
        track_bfd: Vec::new(),
        track_process: Vec::new(),
        span: s.span().clone(),
    };
    let items = c.block(s);
    apply(c, &SYNC_GROUP, "vrrp_sync_group", items, &mut g);
    g
}

/// An `authentication` block while it is read.
#[derive(Default)]
pub(crate) struct AuthDraft {
    kind: Option<AuthType>,
    pass: Option<String>,
}

pub(crate) static AUTHENTICATION: Table<AuthDraft> = Table::new(&[
    set("auth_type", |c, item, a| {
        c.at_most(item, 1);
        a.kind = match c.arg(item, 0).map(|w| (w.text.as_str(), w.span.clone())) {
            Some(("PASS", _)) => Some(AuthType::Pass),
            Some(("AH", _)) => Some(AuthType::Ah),
            Some((other, span)) => {
                c.error("bad-value", &span, format!("auth_type '{other}' is not PASS or AH"));
                None
            }
            None => None,
        }
    }),
    set("auth_pass", |c, item, a| {
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
            a.pass = Some(p);
        }
    }),
]);

fn authentication(c: &mut Ctx, s: &Statement) -> Option<Authentication> {
    let mut a = AuthDraft::default();
    let items = c.block(s);
    apply(c, &AUTHENTICATION, "authentication", items, &mut a);
    match (a.kind, a.pass) {
        (Some(kind), Some(pass)) => Some(Authentication { kind, pass, span: s.span().clone() }),
        (Some(_), None) => {
            c.warning("auth-no-pass", s.span(), "Authentication specified but no password given. Ignoring");
            None
        }
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

/// keepalived's VRRP process knows the `bfd_instance`s that send it events; a `track_bfd` of
/// any other name is ignored with its warning, and so is a second one of the same name.
fn check_track_bfd(c: &mut Ctx, bfds: &[BfdInstance], owner: &str, list: &[Track]) {
    for (n, t) in list.iter().enumerate() {
        if !bfds.iter().any(|b| b.name == t.name && b.to_vrrp) {
            c.warning("unknown-reference", &t.span, format!("({owner}) track bfd {} not found, ignoring...", t.name));
        } else if list[..n].iter().any(|o| o.name == t.name) {
            c.warning("duplicate", &t.span, format!("({owner}) duplicate track_bfd {} - ignoring", t.name));
        }
    }
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
                _ => {
                    // keepalived 2.2.7 drops the whole route and runs on (`track`, for one,
                    // came in a later release).
                    c.warning("bad-route", &w.span, format!("unknown route keyword {word} - skipping the route"));
                    return None;
                }
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
            other => {
                // keepalived drops the rule and runs on.
                c.warning("bad-rule", &w.span, format!("Unknown rule option {other} - skipping the rule"));
                return None;
            }
        }
    }
    if r.priority.is_none() {
        c.warning(
            "rule-no-priority",
            &r.span,
            "Rule has no preference specified - keepalived sets 16384, one less for each further such rule; this is probably not what you want",
        );
    }
    Some(r)
}

/// `use_vmac [NAME] [MAC]`'s name, as keepalived 2.2.7 takes it: the two words in either
/// order, a word with `:` being a MAC address, which Vigil does not support (the virtual router
/// MAC is used); a name the kernel would refuse is ignored, with keepalived's warning (the
/// default name is used).
fn vmac_name(c: &mut Ctx, s: &Statement) -> Option<String> {
    let mut name = None;
    for w in s.args.iter().take(2) {
        let word = w.text.as_str();
        if word.contains(':') {
            c.diags.note(
                "not-implemented",
                &w.span,
                format!("use_vmac: a MAC address ({word}) is not supported; the virtual router MAC is used"),
            );
            continue;
        }
        if name.is_some() {
            c.warning("bad-value", &w.span, "VMAC interface name already specified");
            continue;
        }
        let valid =
            word.len() <= 15 && word != "." && word != ".." && !word.chars().any(|ch| ch == '/' || ch.is_whitespace());
        if !valid {
            c.warning(
                "bad-value",
                &w.span,
                format!("VMAC interface name '{word}' too long or invalid characters - ignoring"),
            );
            continue;
        }
        name = Some(word.to_string());
    }
    name
}

/// keepalived 2.2.7's warnings about `use_vmac` that need the whole instance or the instances
/// before it: a name another instance uses already, and `vmac_xmit_base` as it takes effect
/// (unicast turns it on, strict mode off, and it needs a vmac). `named` holds the names of the
/// earlier instances' vmacs.
fn vmac_checks(c: &mut Ctx, i: &mut VrrpInstance, strict: bool, named: &mut Vec<(String, String)>) {
    let Some(vmac_span) = i.use_vmac_span.clone() else {
        if i.vmac_xmit_base {
            let span = i.vmac_xmit_base_span.as_ref().unwrap_or(&i.span);
            c.warning("bad-value", span, format!("({}) vmac_xmit_base is only valid with a vmac", i.name));
        }
        return;
    };
    if let Some(Some(name)) = &i.use_vmac {
        if let Some((owner, _)) = named.iter().find(|(_, n)| n == name) {
            let message = format!("({}) VRRP instance {owner} is already using {name} - ignoring name", i.name);
            c.warning("bad-value", &vmac_span, message);
            i.use_vmac = Some(None);
        } else {
            named.push((i.name.clone(), name.clone()));
        }
    }
    let mut xmit_base = i.vmac_xmit_base;
    if i.unicast_peer_span.is_some() && !xmit_base {
        let message = format!("({}) unicast with use_vmac requires vmac_xmit_base - setting", i.name);
        c.warning("bad-value", &vmac_span, message);
        xmit_base = true;
    }
    if strict && xmit_base {
        let span = i.vmac_xmit_base_span.as_ref().unwrap_or(&vmac_span);
        c.warning("bad-value", span, format!("({}) xmit_base is incompatible with strict mode - resetting", i.name));
    }
}

/// `garp_extra_if` / `vmac_garp_intvl` (instance, at least `min` seconds) and
/// `vrrp_garp_extra_if` / `vrrp_vmac_garp_intvl` (global_defs, from 1): `[all] SECONDS`.
pub(crate) fn garp_extra_if(c: &mut Ctx, s: &Statement, min: i64) {
    let mut have_delay = false;
    for (i, w) in s.args.iter().enumerate() {
        if w.text == "all" {
            continue;
        }
        if c.lenient_int(s, i, min, 86400).is_none() {
            return;
        }
        have_delay = true;
    }
    if !have_delay {
        c.warning("missing-value", s.span(), format!("{} specified without time - ignoring", s.name()));
    }
}

/// `track_group NAME { group { INSTANCE... } }`: keepalived's static track groups, which Vigil
/// does not implement.
pub(crate) static TRACK_GROUP: Table<()> = Table::new(&[checked("group", |c, s, _| {
    c.block(s);
})]);

pub(crate) fn track_group(c: &mut Ctx, s: &Statement) {
    c.block_name(s);
    let items = c.block(s);
    apply(c, &TRACK_GROUP, "track_group", items, &mut ());
}

fn garp_group_interval(c: &mut Ctx, s: &Statement, g: &mut GarpGroup) {
    c.at_most(s, 1);
    // keepalived reads microseconds into an int.
    if let Some(v) = c.lenient_decimal(s, 0, 0.0, f64::from(i32::MAX) / 1e6, 6) {
        if v >= 1.0 {
            c.diags.note("garp-interval", s.span(), format!("the {} is very large - {v} seconds", s.name()));
        }
        let value = Some(Duration::from_micros((v * 1e6).round() as u64));
        if s.name() == "garp_interval" {
            g.garp_interval = value;
        } else {
            g.gna_interval = value;
        }
    }
}

/// `garp_group { garp_interval S gna_interval S interface IF | interfaces { IF... } }`
pub(crate) static GARP_GROUP: Table<GarpGroup> = Table::new(&[
    set("garp_interval", garp_group_interval),
    set("gna_interval", garp_group_interval),
    set("interface", |c, s, g| {
        c.at_most(s, 1);
        if let Some(w) = c.arg(s, 0) {
            g.interfaces.push(w.text.to_string());
        }
    }),
    set("interfaces", |c, s, g| {
        let items = c.block(s);
        if items.is_empty() && s.block.is_some() {
            c.warning("empty-block", s.span(), "Warning - empty garp_group interfaces block");
        }
        g.interfaces.extend(items.iter().flat_map(|i| i.words().map(|w| w.text.to_string())));
    }),
]);

pub(crate) fn garp_group(c: &mut Ctx, s: &Statement, cfg: &mut Config) {
    let mut g = GarpGroup { garp_interval: None, gna_interval: None, interfaces: Vec::new(), span: s.span().clone() };
    let items = c.block(s);
    apply(c, &GARP_GROUP, "garp_group", items, &mut g);
    if g.garp_interval.is_none() && g.gna_interval.is_none() {
        c.warning("garp-group-no-delay", s.span(), "garp group does not have any delay set - removing");
    } else {
        cfg.garp_groups.push(g);
    }
}

/// A `vrrp_track_process` block while it is read, with keepalived's defaults.
pub(crate) struct TrackProcessDraft {
    t: TrackProcess,
    weight: bool,
}

fn process_delay(c: &mut Ctx, s: &Statement, p: &mut TrackProcessDraft) {
    c.at_most(s, 1);
    let Some(v) = c.lenient_decimal(s, 0, 0.000_001, 3600.0, 6) else { return };
    let d = Duration::from_secs_f64(v);
    if s.name() != "fork_delay" {
        p.t.terminate_delay = d;
    }
    if s.name() != "terminate_delay" {
        p.t.fork_delay = d;
    }
}

/// `vrrp_track_process NAME { process PATH [ARGS...] param_match [initial|partial] weight N
/// [reverse] quorum N quorum_max N delay S terminate_delay S fork_delay S full_command }`
pub(crate) static TRACK_PROCESS: Table<TrackProcessDraft> = Table::new(&[
    set("process", |c, s, p| {
        if p.t.process.is_some() {
            let what = s.args.first().map_or("", |w| w.text.as_str());
            c.warning(
                "duplicate-value",
                s.span(),
                format!("Process already set for track process {} - ignoring {what}", p.t.name),
            );
        } else if let Some(w) = c.arg(s, 0) {
            p.t.process = Some(w.text.to_string());
            p.t.params = s.args.iter().skip(1).map(|w| w.text.to_string()).collect();
            // Parameters imply the full command line, matched exactly unless said otherwise.
            if !p.t.params.is_empty() {
                p.t.full_command = true;
                if p.t.param_match == ParamMatch::None {
                    p.t.param_match = ParamMatch::Exact;
                }
            }
        }
    }),
    set("param_match", |c, s, p| {
        c.at_most(s, 1);
        let m = match s.args.first() {
            None => ParamMatch::Exact,
            Some(w) if w.text == "initial" => ParamMatch::Initial,
            Some(w) if w.text == "partial" => ParamMatch::Partial,
            Some(w) => {
                return c.warning("bad-value", &w.span, format!("Invalid param_match type {} - ignoring", w.text));
            }
        };
        p.t.param_match = m;
        p.t.full_command = true;
    }),
    set("weight", |c, s, p| {
        c.at_most(s, 2);
        if p.weight {
            c.warning(
                "duplicate-value",
                s.span(),
                format!("Weight already set for track process {} - ignoring", p.t.name),
            );
            return;
        }
        let Some(w) = c.lenient_int(s, 0, -254, 254) else { return };
        match s.args.get(1) {
            Some(r) if r.text == "reverse" => p.t.weight_reverse = true,
            Some(r) => c.warning(
                "bad-value",
                &r.span,
                format!("vrrp_track_process {} unknown weight option {}", p.t.name, r.text),
            ),
            None => {}
        }
        p.t.weight = i32::try_from(w).unwrap_or(0);
        p.weight = true;
    }),
    set("quorum", |c, s, p| {
        c.at_most(s, 1);
        let Some(q) = c.lenient_int(s, 0, 1, 65535) else { return };
        let q = u32::try_from(q).unwrap_or(1);
        if q > p.t.quorum_max {
            c.warning("bad-value", s.span(), "Quorum is greater than quorum_max - ignoring");
            return;
        }
        p.t.quorum = q;
    }),
    set("quorum_max", |c, s, p| {
        c.at_most(s, 1);
        let Some(max) = c.lenient_int(s, 0, 0, 65535) else { return };
        let max = u32::try_from(max).unwrap_or(0);
        // keepalived allows 0 (no process may run) when no quorum above 1 was set.
        if (max != 0 || p.t.quorum > 1) && max < p.t.quorum {
            c.warning("bad-value", s.span(), "quorum_max is less than quorum - ignoring");
            return;
        }
        p.t.quorum_max = max;
        p.t.quorum = if max == 0 { 0 } else { p.t.quorum.max(1) };
    }),
    set("delay", process_delay),
    set("terminate_delay", process_delay),
    set("fork_delay", process_delay),
    set("full_command", |c, s, p| {
        c.at_most(s, 0);
        p.t.full_command = true;
    }),
]);

pub(crate) fn track_process(c: &mut Ctx, s: &Statement, cfg: &mut Config) {
    let t = TrackProcess::new(c.block_name(s), s.span().clone());
    let mut p = TrackProcessDraft { t, weight: false };
    let items = c.block(s);
    apply(c, &TRACK_PROCESS, "vrrp_track_process", items, &mut p);
    if p.t.process.is_none() {
        c.warning("missing-value", s.span(), format!("track process '{}' process name not specified", p.t.name));
        return;
    }
    cfg.track_processes.push(p.t);
}

/// `interface_up_down_delays { IF DOWN_DELAY [UP_DELAY] ... }`: seconds, at most 255.
pub(crate) fn interface_up_down_delays(c: &mut Ctx, s: &Statement, cfg: &mut Config) {
    for item in c.block(s) {
        if item.args.is_empty() {
            c.diags.note(
                "missing-value",
                item.span(),
                format!("No timeouts specified for {} up/down delays", item.name()),
            );
            continue;
        }
        if item.args.len() > 2 {
            c.diags.note(
                "extra-words",
                &item.args[2].span,
                format!("Too many parameters for {} up/down delays", item.name()),
            );
        }
        // keepalived takes the line only when both of its values are valid (the up delay is 0
        // when not given); a later line for the same interface replaces an earlier one.
        let Some(down) = c.lenient_decimal(item, 0, 0.0, 255.0, 6) else { continue };
        let up = match item.args.len() {
            1 => 0.0,
            _ => match c.lenient_decimal(item, 1, 0.0, 255.0, 6) {
                Some(up) => up,
                None => continue,
            },
        };
        cfg.interface_delays.retain(|d| d.interface != item.name());
        cfg.interface_delays.push(crate::model::InterfaceDelays {
            interface: item.name().to_string(),
            down: Duration::from_secs_f64(down),
            up: Duration::from_secs_f64(up),
            span: item.span().clone(),
        });
    }
}

/// Resolves defaults from global_defs and checks what spans blocks: references between
/// instances, scripts, groups and interfaces.
pub(crate) fn finish(c: &mut Ctx, cfg: &mut Config) {
    let g = cfg.global.clone();
    let mut vmac_names = Vec::new();
    for i in &mut cfg.instances {
        vmac_checks(c, i, i.strict_mode.unwrap_or(g.vrrp_strict), &mut vmac_names);
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
        known_processes(c, &cfg.track_processes, &i.name, &mut i.track_process);
        for t in &i.track_file {
            if !cfg.track_files.iter().any(|f| f.name == t.name) {
                c.warning(
                    "unknown-reference",
                    &t.span,
                    format!("({}) track_file '{}' is not a vrrp_track_file", i.name, t.name),
                );
            }
        }
        check_track_bfd(c, &cfg.bfd_instances, &i.name, &i.track_bfd);
        if let Some((name, span)) = &i.master_down_bfd {
            if !cfg.bfd_instances.iter().any(|b| &b.name == name && b.to_vrrp) {
                c.warning(
                    "unknown-reference",
                    span,
                    format!("({}) master_down_bfd: '{name}' is not a bfd_instance for VRRP; ignored", i.name),
                );
            } else if i.track_bfd.iter().any(|t| &t.name == name) {
                c.warning(
                    "master-down-bfd-tracked",
                    span,
                    format!(
                        "({}) '{name}' is both tracked (track_bfd) and the MASTER's session (master_down_bfd): when the MASTER dies the tracking puts this BACKUP in FAULT instead of taking over",
                        i.name
                    ),
                );
            }
        }
    }
    for g in &mut cfg.sync_groups {
        known_processes(c, &cfg.track_processes, &g.name, &mut g.track_process);
    }
    for g in &cfg.sync_groups {
        check_track_bfd(c, &cfg.bfd_instances, &g.name, &g.track_bfd);
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

/// keepalived 2.2.7's tracking rules for sync groups and address owners, applied to the
/// instances' lists so that the daemon runs what keepalived runs: a member of a group without
/// `sync_group_tracking_weight` (and an address owner) loses its weighted trackers (an
/// interface keeps tracking unweighted, a script or a file with a weight is dropped, a file
/// with only the default weight becomes unweighted); then the group's track_interface,
/// track_script, track_file and track_process lines apply to every member, with the group's
/// weight (cleared when a member owns its addresses) unless the member's own line is
/// unweighted. The group's track_bfd is merged where the sessions are resolved.
pub(crate) fn sync_group_tracking(c: &mut Ctx, cfg: &mut Config) {
    let owners: Vec<String> = cfg.instances.iter().filter(|i| i.priority == 255).map(|i| i.name.clone()).collect();
    for g in &mut cfg.sync_groups {
        if !g.members.iter().any(|(m, _)| owners.contains(m)) {
            continue;
        }
        let what =
            [("interface", &mut g.track_interface), ("script", &mut g.track_script), ("file", &mut g.track_file)];
        for (kind, list) in what.into_iter().chain([("process", &mut g.track_process)]) {
            for t in list.iter_mut().filter(|t| t.weight.is_some_and(|w| w != 0)) {
                c.warning(
                    "sync-group-weight",
                    &t.span,
                    format!(
                        "({}) Cannot have weighted track {kind} '{}' with member having priority 255 - clearing weight",
                        g.name, t.name
                    ),
                );
                t.weight = Some(0);
            }
        }
    }
    let groups = cfg.sync_groups.clone();
    let (scripts, files) = (cfg.vrrp_scripts.clone(), cfg.track_files.clone());
    for i in &mut cfg.instances {
        let group = groups.iter().find(|g| g.members.iter().any(|(m, _)| *m == i.name));
        let in_group = group.is_some_and(|g| !g.sync_group_tracking_weight);
        if in_group || i.priority == 255 {
            let why = if in_group { "SYNC group" } else { "address_owner" };
            let name = i.name.clone();
            i.track_interface.retain_mut(|t| {
                if t.weight.is_none_or(|w| w == 0) {
                    return true;
                }
                let (extra, why) = if in_group { ("weight ", "SYNC group") } else { ("", "address owner") };
                c.warning(
                    "sync-group-weight",
                    &t.span,
                    format!("({name}) ignoring {} tracked interface {extra}due to {why}", t.name),
                );
                t.weight = Some(0);
                in_group
            });
            i.track_script.retain(|t| {
                let def = scripts.iter().find(|d| d.name == t.name).map_or(0, |d| d.weight);
                if t.weight.unwrap_or(def) == 0 {
                    return true;
                }
                c.warning(
                    "sync-group-weight",
                    &t.span,
                    format!("({name}) ignoring tracked script {} with weights due to {why}", t.name),
                );
                false
            });
            i.track_file.retain_mut(|t| {
                let def = files.iter().find(|d| d.name == t.name);
                let file = def.and_then(|d| d.file.clone()).unwrap_or_else(|| t.name.clone());
                match t.weight.unwrap_or(def.map_or(1, |d| d.weight)) {
                    0 => true,
                    1 => {
                        c.warning(
                            "sync-group-weight",
                            &t.span,
                            format!("({name}) ignoring weight from tracked file {file} due to {why}. specify weight 0"),
                        );
                        t.weight = Some(0);
                        true
                    }
                    w => {
                        c.warning(
                            "sync-group-weight",
                            &t.span,
                            format!("({name}) ignoring tracked file {file} with weight {w} due to {why}"),
                        );
                        false
                    }
                }
            });
        }
        let Some(g) = group else { continue };
        crate::model::merge_group_tracks(&mut i.track_interface, &g.track_interface);
        crate::model::merge_group_tracks(&mut i.track_script, &g.track_script);
        crate::model::merge_group_tracks(&mut i.track_file, &g.track_file);
        crate::model::merge_group_tracks(&mut i.track_process, &g.track_process);
    }
}

/// `notify_deleted [SCRIPT]`: a flag, with a script when one is given; the first one stands,
/// as in keepalived (`(VI_1) notify_deleted already specified - ignoring /bin/x`).
fn notify_deleted(c: &mut Ctx, s: &Statement, n: &mut Notify, owner: &str) {
    if n.notify_deleted {
        return c.already_given(s, &format!("{owner}notify_deleted"));
    }
    n.notify_deleted = true;
    if !s.args.is_empty() {
        n.deleted = c.script(s);
    }
}

/// Drops (with keepalived's warning) the `track_process` lines of `owner` that name no
/// `vrrp_track_process`.
fn known_processes(c: &mut Ctx, defs: &[TrackProcess], owner: &str, lines: &mut Vec<Track>) {
    lines.retain(|t| {
        let known = defs.iter().any(|p| p.name == t.name);
        if !known {
            c.warning(
                "unknown-reference",
                &t.span,
                format!("({owner}) track process {} not found, ignoring...", t.name),
            );
        }
        known
    });
}

#[cfg(test)]
mod tests {
    use crate::model::Script;
    use crate::{parse_str, Options, Severity};

    /// What reading `config` says: each diagnostic's line, severity and message.
    fn diagnostics(config: &str) -> Vec<(u32, Severity, String)> {
        let parsed = parse_str("k.conf", config, &Options::default(), None);
        parsed.diagnostics.iter().map(|d| (d.span.line, d.severity, d.message.clone())).collect()
    }

    /// An instance `name` with the lines `lines`, which start at line 4 of its block.
    fn instance(name: &str, vrid: u8, lines: &str) -> String {
        format!(
            "vrrp_instance {name} {{\n interface eth0\n virtual_router_id {vrid}\n{lines}\n virtual_ipaddress {{\n 192.0.2.{vrid}\n }}\n}}\n"
        )
    }

    /// `use_vmac` as written in an instance: the name it keeps and what is said about line 4.
    fn read(line: &str) -> (Option<Option<String>>, Vec<(Severity, String)>) {
        let text = instance("VI_1", 51, &format!(" {line}"));
        let parsed = parse_str("k.conf", &text, &Options::default(), None);
        let said = parsed.diagnostics.iter().filter(|d| d.span.line == 4).map(|d| (d.severity, d.message.clone()));
        (parsed.config.instances.first().and_then(|i| i.use_vmac.clone()), said.collect())
    }

    #[test]
    fn a_name_the_kernel_accepts_is_kept() {
        assert_eq!(read("use_vmac"), (Some(None), vec![]));
        assert_eq!(read("use_vmac vrrp.51"), (Some(Some("vrrp.51".into())), vec![]));
        assert_eq!(read("use_vmac a234567890abcde"), (Some(Some("a234567890abcde".into())), vec![]));
    }

    #[test]
    fn a_name_it_refuses_is_ignored_as_keepalived_does() {
        let (vmac, said) = read("use_vmac a234567890abcdef");
        assert_eq!(vmac, Some(None));
        let message = "VMAC interface name 'a234567890abcdef' too long or invalid characters - ignoring";
        assert_eq!(said, [(Severity::Warning, message.to_string())]);
        assert_eq!(read("use_vmac a/b").0, Some(None));
    }

    #[test]
    fn a_mac_address_is_only_noted_as_keepalived_takes_it() {
        let (vmac, said) = read("use_vmac 02:00:00:00:00:01");
        assert_eq!(vmac, Some(None));
        assert_eq!(said.len(), 1, "{said:?}");
        assert_eq!(said[0].0, Severity::Note);
        assert!(said[0].1.contains("is not supported"), "{said:?}");
    }

    #[test]
    fn the_name_and_the_mac_come_in_either_order() {
        for line in ["use_vmac vmac1 02:00:00:00:00:01", "use_vmac 02:00:00:00:00:01 vmac1"] {
            let (vmac, said) = read(line);
            assert_eq!(vmac, Some(Some("vmac1".into())), "{line}");
            assert_eq!(said.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [Severity::Note], "{line}");
        }
        let (vmac, said) = read("use_vmac one two");
        assert_eq!(vmac, Some(Some("one".into())));
        assert_eq!(said, [(Severity::Warning, "VMAC interface name already specified".to_string())]);
    }

    #[test]
    fn the_first_notify_script_stands_as_in_keepalived() {
        let text = instance(
            "VI_1",
            51,
            " notify_master /bin/first\n notify_master /bin/second\n notify /bin/a\n notify /bin/b",
        )
            + "vrrp_sync_group G {\n group {\n VI_1\n }\n notify_backup /bin/one\n notify_backup /bin/two\n}\n";
        let parsed = parse_str("k.conf", &text, &Options::default(), None);
        let i = &parsed.config.instances[0];
        let argv0 = |s: &Option<Script>| s.as_ref().map(|s| s.argv[0].clone());
        assert_eq!((argv0(&i.notify.master), argv0(&i.notify.any)), (Some("/bin/first".into()), Some("/bin/a".into())));
        assert_eq!(argv0(&parsed.config.sync_groups[0].notify.backup), Some("/bin/one".into()));
        let said = super::super::said_about(&text, "already");
        assert_eq!(
            said,
            [
                (
                    5,
                    Severity::Warning,
                    "(VI_1) notify_master script already specified - ignoring /bin/second".to_string()
                ),
                (7, Severity::Warning, "(VI_1) notify script already specified - ignoring /bin/b".to_string()),
                (
                    17,
                    Severity::Warning,
                    "vrrp group G: notify_backup script already specified - ignoring /bin/two".to_string()
                ),
            ]
        );
    }

    #[test]
    fn notify_deleted_is_a_flag_with_an_optional_script() {
        let read = |lines: &str| {
            let text = instance("VI_1", 51, lines);
            let parsed = parse_str("k.conf", &text, &Options::default(), None);
            let n = parsed.config.instances[0].notify.clone();
            let said: Vec<_> = diagnostics(&text).into_iter().filter(|(_, s, _)| *s != Severity::Note).collect();
            (n.notify_deleted, n.deleted.map(|s| s.argv), said)
        };
        assert_eq!(read(""), (false, None, vec![]));
        assert_eq!(read(" notify_deleted"), (true, None, vec![]));
        let (on, script, said) = read(" notify_deleted\n notify_deleted /bin/x");
        assert_eq!((on, script), (true, None));
        let message = "(VI_1) notify_deleted already specified - ignoring /bin/x".to_string();
        assert_eq!(said, [(5, Severity::Warning, message)]);
        let (on, script, _) = read(" notify_deleted /bin/x");
        assert_eq!((on, script), (true, Some(vec!["/bin/x".to_string()])));
    }

    #[test]
    fn a_name_an_earlier_instance_uses_is_ignored() {
        let text = instance("VI_1", 51, " use_vmac foo") + &instance("VI_2", 52, " use_vmac foo");
        let parsed = parse_str("k.conf", &text, &Options::default(), None);
        let vmacs: Vec<_> = parsed.config.instances.iter().map(|i| i.use_vmac.clone()).collect();
        assert_eq!(vmacs, [Some(Some("foo".into())), Some(None)]);
        let message = "(VI_2) VRRP instance VI_1 is already using foo - ignoring name".to_string();
        assert_eq!(diagnostics(&text), [(12, Severity::Warning, message)]);
    }

    #[test]
    fn vmac_xmit_base_as_keepalived_settles_it() {
        let warned = |lines: &str, strict: bool| -> Vec<(u32, Severity, String)> {
            let global = if strict { "global_defs {\n vrrp_strict\n}\n" } else { "" };
            let text = format!("{global}{}", instance("VI_1", 51, lines));
            let offset = if strict { 3 } else { 0 };
            let vmac = |d: &(u32, Severity, String)| d.2.contains("xmit_base");
            diagnostics(&text).into_iter().filter(vmac).map(|(l, s, m)| (l - offset, s, m)).collect()
        };
        let w = |line: u32, m: &str| (line, Severity::Warning, format!("(VI_1) {m}"));
        assert_eq!(warned(" vmac_xmit_base", false), [w(4, "vmac_xmit_base is only valid with a vmac")]);
        assert_eq!(warned(" use_vmac\n vmac_xmit_base", false), []);
        assert_eq!(
            warned(" use_vmac\n vmac_xmit_base", true),
            [w(5, "xmit_base is incompatible with strict mode - resetting")]
        );
        assert_eq!(
            warned(" use_vmac\n unicast_peer {\n 192.0.2.2\n }", false),
            [w(4, "unicast with use_vmac requires vmac_xmit_base - setting")]
        );
        assert_eq!(warned(" use_vmac\n vmac_xmit_base\n unicast_peer {\n 192.0.2.2\n }", false), []);
    }
}
