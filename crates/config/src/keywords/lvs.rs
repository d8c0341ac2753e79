//! LVS blocks: `virtual_server_group`, `virtual_server`, `real_server` and the checkers.

use std::net::IpAddr;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

use super::{alias, apply, checked, ignored, removed, set, Ctx, Table};
use crate::model::{
    CheckCommon, CheckKind, Checker, Config, DnsCheck, DnsType, FileCheck, Forwarding, GroupMember, HttpCheck,
    MiscCheck, Protocol, RealServer, RealServerExtra, ReplyPattern, SchedFlags, Scheduler, SorryServer, Tunnel,
    TunnelChecksum, TunnelKind, UrlCheck, VirtualServer, VirtualServerGroup, VsKey, DEFAULT_MAX_REPLY_LENGTH,
};
use crate::reuse::Moved;
use crate::span::Word;
use crate::tree::Statement;

/// keepalived's longest timer, in microseconds (its `TIMER_MAXIMUM`, `ULONG_MAX - 1`).
const TIMER_MAXIMUM: u64 = u64::MAX - 1;

/// keepalived's `persistence_timeout` when given without a value.
const DEFAULT_PERSISTENCE: u32 = 360;

fn scheduler(c: &mut Ctx, s: &Statement, vs: &mut VirtualServer) {
    c.at_most(s, 1);
    let Some(w) = c.arg(s, 0) else { return };
    match Scheduler::ALL.iter().find(|(n, _)| *n == w.text) {
        Some((_, sched)) => vs.scheduler = *sched,
        None => c.diags.push(crate::diag::Diagnostic {
            severity: crate::diag::Severity::Error,
            code: "bad-scheduler",
            span: w.span.clone(),
            message: format!("unknown scheduler '{}' for {}", w.text, s.name()),
            suggestion: super::closest(&w.text, Scheduler::ALL.iter().map(|(n, _)| *n)).map(str::to_string),
            security: false,
        }),
    }
}

fn forwarding_word(c: &mut Ctx, what: &str, w: &Word) -> Option<Forwarding> {
    match w.text.as_str() {
        "NAT" => Some(Forwarding::Nat),
        "DR" => Some(Forwarding::Dr),
        "TUN" => Some(Forwarding::Tun(Tunnel::default())),
        other => {
            c.error("bad-forwarding", &w.span, format!("{what} '{other}' is not NAT, DR or TUN"));
            None
        }
    }
}

fn forwarding(c: &mut Ctx, s: &Statement) -> Option<Forwarding> {
    let w = c.arg(s, 0)?;
    match forwarding_word(c, s.name(), w)? {
        Forwarding::Tun(_) => tunnel(c, s).map(Forwarding::Tun),
        f => {
            if let Some(extra) = s.args.get(1) {
                c.error("bad-value", &extra.span, format!("Invalid tunnel option {} for {}", extra.text, s.name()));
            }
            Some(f)
        }
    }
}

/// The words after `TUN`, in any order as keepalived takes them: `type ipip|gue|gre`,
/// `port PORT` (GUE, which needs it), and `nocsum` (the default), `csum` or `remcsum` (GUE;
/// GRE without `remcsum`).
fn tunnel(c: &mut Ctx, s: &Statement) -> Option<Tunnel> {
    let (mut kind, mut port, mut checksum) = (TunnelKind::Ipip, None, None);
    let mut words = s.args.iter().skip(1);
    while let Some(w) = words.next() {
        match w.text.as_str() {
            "type" => {
                let Some(k) = words.next() else {
                    c.error("missing-value", s.span(), "missing tunnel type after 'type' (ipip, gue or gre)");
                    return None;
                };
                kind = match k.text.as_str() {
                    "ipip" => TunnelKind::Ipip,
                    "gue" => TunnelKind::Gue,
                    "gre" => TunnelKind::Gre,
                    other => {
                        c.error("bad-value", &k.span, format!("unknown tunnel type '{other}' (ipip, gue or gre)"));
                        return None;
                    }
                }
            }
            "port" => {
                let Some(p) = words.next() else {
                    c.error("missing-value", s.span(), "missing tunnel port after 'port'");
                    return None;
                };
                port = Some(u16::try_from(c.int_word("gue tunnel port", p, 1, 65535)?).ok()?);
            }
            "nocsum" => checksum = Some((TunnelChecksum::NoCsum, w)),
            "csum" => checksum = Some((TunnelChecksum::Csum, w)),
            "remcsum" => checksum = Some((TunnelChecksum::RemCsum, w)),
            other => {
                c.error(
                    "bad-value",
                    &w.span,
                    format!("invalid tunnel option '{other}' (type, port, nocsum, csum, remcsum)"),
                );
                return None;
            }
        }
    }
    if (kind == TunnelKind::Gue) != port.is_some() {
        c.error("bad-value", s.span(), "a gue tunnel needs 'port PORT', and only a gue tunnel takes a port");
        return None;
    }
    match (kind, checksum) {
        (TunnelKind::Ipip, Some((TunnelChecksum::Csum | TunnelChecksum::RemCsum, w))) => {
            c.error("bad-value", &w.span, "an ipip tunnel has no checksum option");
            None
        }
        (TunnelKind::Gre, Some((TunnelChecksum::RemCsum, w))) => {
            c.error("bad-value", &w.span, "a gre tunnel has no remote checksum option (remcsum)");
            None
        }
        _ => Some(Tunnel { kind, port: port.unwrap_or(0), checksum: checksum.map(|(k, _)| k).unwrap_or_default() }),
    }
}

fn vs_check(v: &mut VirtualServer) -> &mut CheckCommon {
    v.check.get_or_insert_with(Box::default)
}

fn rs_check(r: &mut RealServer) -> &mut CheckCommon {
    &mut r.extra_mut().check
}

fn checker_common(k: &mut CheckerDraft) -> &mut CheckCommon {
    &mut k.common
}

/// A table that starts with the keywords shared by virtual_server, real_server and checkers
/// (timing), reached through `$get`.
macro_rules! table_with_timing {
    ($get:expr, $retry_min:expr; $($row:expr),* $(,)?) => {
        Table::new(&[
            set("connect_timeout", |c, s, t| $get(t).connect_timeout = c.ka_timer(s, 1, u64::from(u32::MAX))),
            set("retry", |c, s, t| {
                $get(t).retry = c.ka_unsigned(s, $retry_min, u64::from(u32::MAX)).and_then(|v| u32::try_from(v).ok())
            }),
            removed(
                "nb_get_retry",
                "keepalived 2.x renamed it 'retry' and rejects the old name; Vigil reads it as 'retry'",
                Some(|c, s, t| $get(t).retry = c.num(s, 0, i64::from(u32::MAX))),
            ),
            set("delay_before_retry", |c, s, t| $get(t).delay_before_retry = c.ka_timer(s, 0, TIMER_MAXIMUM)),
            set("warmup", |c, s, t| $get(t).warmup = c.ka_timer(s, 0, TIMER_MAXIMUM)),
            set("delay_loop", |c, s, t| $get(t).delay_loop = c.ka_timer(s, 1, TIMER_MAXIMUM)),
            $($row),*
        ])
    };
}

pub(crate) static VIRTUAL_SERVER: Table<VirtualServer> = table_with_timing!(vs_check, 1;
        set("lvs_sched", scheduler),
        alias("lb_algo", "lvs_sched", scheduler),
        set("lvs_method", |c, s, v| {
            if let Some(f) = forwarding(c, s) {
                v.forwarding = f
            }
        }),
        alias("lb_kind", "lvs_method", |c, s, v| {
            if let Some(f) = forwarding(c, s) {
                v.forwarding = f
            }
        }),
        set("persistence_timeout", |c, s, v| {
            v.persistence_timeout = match s.args.first() {
                None => Some(DEFAULT_PERSISTENCE),
                // keepalived's LVS_MAX_TIMEOUT: 31 days.
                Some(_) => c.num(s, 1, 2_678_400),
            }
        }),
        set("persistence_granularity", |c, s, v| {
            let v6 = match v.key {
                VsKey::Addr { ip, .. } => Some(ip.is_ipv6()),
                _ => v.ip_family.map(|f| f == 6),
            };
            v.persistence_granularity = granularity(c, s, v6)
        }),
        set("persistence_engine", |c, s, v| v.extra_mut().persistence_engine = c.string(s)),
        set("protocol", |c, s, v| {
            c.at_most(s, 1);
            v.protocol_span = Some(s.span().clone());
            match c.arg(s, 0).map(|w| (w.text.to_ascii_uppercase(), w.span.clone())) {
                Some((p, _)) if p == "TCP" => v.protocol = Protocol::Tcp,
                Some((p, _)) if p == "UDP" => v.protocol = Protocol::Udp,
                Some((p, _)) if p == "SCTP" => v.protocol = Protocol::Sctp,
                Some((p, span)) => c.error("bad-value", &span, format!("protocol '{p}' is not TCP, UDP or SCTP")),
                None => {}
            }
        }),
        set("ops", |c, s, v| {
            c.at_most(s, 0);
            v.ops = true
        }),
        set("virtualhost", |c, s, v| v.extra_mut().virtualhost = c.string(s)),
        set("sorry_server", |c, s, v| {
            c.at_most(s, 2);
            let Some(ip) = c.arg(s, 0) else { return };
            // keepalived takes a sorry server without a port (port 0: the service's port).
            let port = match s.args.get(1) {
                Some(p) => c.port_word("sorry_server port", p),
                None => Some(0),
            };
            let ip = c.host_word("sorry_server", ip);
            if let (Some(ip), Some(port)) = (ip, port) {
                v.extra_mut().sorry_server = Some(SorryServer { ip, port, forwarding: None, span: s.span().clone() })
            }
        }),
        set("sorry_server_inhibit", |c, s, v| {
            let on = c.flag(s);
            if v.extra().sorry_server.is_none() {
                c.warning("order", s.span(), "Ignoring sorry_server inhibit used before or without sorry_server");
                return;
            }
            v.sorry_server_inhibit = on
        }),
        set("sorry_server_lvs_method", |c, s, v| {
            let f = forwarding(c, s);
            match v.extra.as_mut().and_then(|e| e.sorry_server.as_mut()) {
                Some(ss) => ss.forwarding = f,
                None => c.warning("order", s.span(), "sorry_server_lvs_method before sorry_server is ignored"),
            }
        }),
        set("quorum", |c, s, v| {
            if let Some(q) = c.num(s, 1, i64::from(u32::MAX)) {
                v.quorum = q
            }
        }),
        set("hysteresis", |c, s, v| {
            if let Some(h) = c.ka_num(s, 0, u64::from(u32::MAX)) {
                v.hysteresis = h
            }
        }),
        set("quorum_up", |c, s, v| {
            let owner = group_owner(&v.key);
            c.first_script(s, &mut v.extra_mut().quorum_up, &owner)
        }),
        set("quorum_down", |c, s, v| {
            let owner = group_owner(&v.key);
            c.first_script(s, &mut v.extra_mut().quorum_down, &owner)
        }),
        set("alpha", |c, s, v| v.alpha = c.flag_any_word(s)),
        set("omega", |c, s, v| v.omega = c.flag_any_word(s)),
        set("ha_suspend", |c, s, v| v.ha_suspend = c.flag_any_word(s)),
        set("inhibit_on_failure", |c, s, v| v.inhibit_on_failure = c.flag_any_word(s)),
        set("smtp_alert", |c, s, v| v.smtp_alert = Some(c.flag(s))),
        set("ip_family", |c, s, v| {
            c.at_most(s, 1);
            match c.arg(s, 0).map(|w| (w.text.as_str(), w.span.clone())) {
                Some((name @ ("inet" | "inet6"), span)) => {
                    let family = if name == "inet" { 4 } else { 6 };
                    match v.key {
                        VsKey::Addr { ip, .. } if ip.is_ipv4() != (family == 4) => c.error(
                            "family-mismatch",
                            &span,
                            format!("Virtual server specified family {name} conflicts with server family"),
                        ),
                        _ => v.ip_family = Some(family),
                    }
                }
                Some((other, span)) => c.error("bad-value", &span, format!("ip_family '{other}' is not inet or inet6")),
                None => {}
            }
        }),
        set("flag-1", |c, s, v| v.sched_flags.flag1 = c.flag(s)),
        set("flag-2", |c, s, v| v.sched_flags.flag2 = c.flag(s)),
        set("flag-3", |c, s, v| v.sched_flags.flag3 = c.flag(s)),
        set("sh-port", sched_flag),
        set("sh-fallback", sched_flag),
        set("mh-port", sched_flag),
        set("mh-fallback", sched_flag),
        // IPVS's "hashed" flag is the kernel's own: keepalived 2.2.7 never sets it, and only
        // complains when the scheduler is not sh or mh. Vigil does the same.
        set("hashed", sched_flag),
        checked("weight", |c, s, _| {
            c.at_most(s, 1);
            c.lenient_int(s, 0, 1, i64::from(i32::MAX));
        }),
        set("real_server", |c, s, v| {
            let outer = std::mem::replace(&mut c.rs_owner, group_owner(&v.key));
            let rs = real_server(c, s);
            c.rs_owner = outer;
            if let Some(rs) = rs {
                v.real_servers.push(rs)
            }
        }),
        removed("nat_mask", "keepalived 2.x removed it (IPVS never used it); delete the line", None),
        checked("snmp_name", snmp_name),
        ignored("lvs_method_tun_type"),

);

/// How keepalived starts a virtual server's "already specified" warnings: `(G) ` for a
/// `virtual_server group G`; nothing for another (keepalived prints `((null)) `).
fn group_owner(key: &VsKey) -> String {
    match key {
        VsKey::Group { name } => format!("({name}) "),
        VsKey::Addr { .. } | VsKey::Fwmark { .. } => String::new(),
    }
}

/// Sets one of a real server's rare settings: only a value read boxes them (a rejected one,
/// already reported, leaves what was there, as keepalived does).
fn set_extra<T>(r: &mut RealServer, value: Option<T>, put: impl FnOnce(&mut RealServerExtra, T)) {
    if let Some(v) = value {
        put(r.extra_mut(), v);
    }
}

pub(crate) static REAL_SERVER: Table<RealServer> = table_with_timing!(rs_check, 1;
        set("weight", |c, s, r| {
            if let Some(w) = c.num(s, 0, i64::from(i32::MAX)) {
                r.weight = w
            }
        }),
        set("lvs_method", |c, s, r| r.forwarding = forwarding(c, s)),
        set("inhibit_on_failure", |c, s, r| r.inhibit_on_failure = Some(c.flag(s))),
        // Read through `extra()`: looking for an earlier script must not make the box.
        set("notify_up", |c, s, r| match r.extra().notify_up {
            Some(_) => c.script_given(s, &c.rs_owner.clone()),
            None => set_extra(r, c.script(s), |e, v| e.notify_up = Some(v)),
        }),
        set("notify_down", |c, s, r| match r.extra().notify_down {
            Some(_) => c.script_given(s, &c.rs_owner.clone()),
            None => set_extra(r, c.script(s), |e, v| e.notify_down = Some(v)),
        }),
        set("uthreshold", |c, s, r| set_extra(r, c.ka_num(s, 0, u64::from(u32::MAX)), |e, v| e.uthreshold = Some(v))),
        set("lthreshold", |c, s, r| set_extra(r, c.ka_num(s, 0, u64::from(u32::MAX)), |e, v| e.lthreshold = Some(v))),
        set("smtp_alert", |c, s, r| r.smtp_alert = Some(c.flag(s))),
        set("alpha", |c, s, r| r.alpha = Some(c.flag(s))),
        set("virtualhost", |c, s, r| set_extra(r, c.string(s), |e, v| e.virtualhost = Some(v))),
        set("TCP_CHECK", |c, s, r| checker(c, s, r, CheckKind::Tcp)),
        set("HTTP_GET", |c, s, r| checker(c, s, r, CheckKind::Http(Box::default()))),
        set("SSL_GET", |c, s, r| checker(c, s, r, CheckKind::Http(Box::new(HttpCheck { tls: true, ..HttpCheck::default() })))),
        set("MISC_CHECK", |c, s, r| {
            checker(c, s, r, CheckKind::Misc(Box::new(MiscCheck { path: None, timeout: None, dynamic: false, user: None })))
        }),
        set("SMTP_CHECK", |c, s, r| checker(c, s, r, CheckKind::Smtp(Box::default()))),
        set("DNS_CHECK", |c, s, r| checker(c, s, r, CheckKind::Dns(Box::new(DnsCheck { query_type: DnsType::Soa, name: ".".into() })))),
        set("UDP_CHECK", |c, s, r| {
            let kind =
                CheckKind::Udp(Box::default());
            checker(c, s, r, kind)
        }),
        set("PING_CHECK", |c, s, r| checker(c, s, r, CheckKind::Ping)),
        set("FILE_CHECK", |c, s, r| {
            checker(c, s, r, CheckKind::File(Box::new(FileCheck { track_file: None, weight: 1, weight_reverse: false })))
        }),
        set("BFD_CHECK", |c, s, r| checker(c, s, r, CheckKind::Bfd(Box::default()))),
        checked("snmp_name", snmp_name),

);

pub(crate) static CHECKER: Table<CheckerDraft> = table_with_timing!(checker_common, 0;
        set("connect_ip", |c, s, k| k.common.connect_ip = c.host(s)),
        set("connect_port", |c, s, k| {
            k.common.connect_port = c.ka_unsigned(s, 1, 65535).and_then(|v| u16::try_from(v).ok())
        }),
        set("bindto", bindto),
        set("bind_port", |c, s, k| k.common.bind_port = c.ka_num(s, 1, 65535)),
        set("bind_if", bind_if),
        set("fwmark", |c, s, k| k.common.fwmark = c.ka_num(s, 0, u64::from(u32::MAX))),
        set("log_all_failures", |c, s, k| k.common.log_all_failures = Some(c.flag(s))),
        set("alpha", |c, s, k| {
            // keepalived leaves alpha as it was after an invalid value.
            let valid = s.args.first().is_none_or(|w| matches!(w.text.as_str(), "on" | "true" | "yes" | "off" | "false" | "no"));
            let value = c.flag(s);
            if let (CheckKind::Bfd(b), true) = (&mut k.kind, valid) {
                b.alpha = Some(value);
            }
        }),
        set("host", |c, s, k| match &k.kind {
            CheckKind::Smtp(_) => smtp_host(c, s, k),
            _ => wrong_checker(c, s),
        }),
        set("url", |c, s, k| match &mut k.kind {
            CheckKind::Http(h) => {
                if let Some(u) = url(c, s) {
                    h.urls.push(u)
                }
            }
            _ => wrong_checker(c, s),
        }),
        set("virtualhost", |c, s, k| match &mut k.kind {
            CheckKind::Http(h) => h.virtualhost = c.string(s),
            _ => wrong_checker(c, s),
        }),
        set("http_protocol", |c, s, k| match &mut k.kind {
            CheckKind::Http(h) => {
                c.at_most(s, 1);
                match s.args.first().map(|w| (w.text.as_str(), &w.span)) {
                    Some((v @ ("1.0" | "1.1" | "1.0C" | "1.0c"), _)) => h.http_protocol = Some(v.to_string()),
                    Some((v, span)) => c.error("bad-value", span, format!("Invalid http_protocol version {v}")),
                    None => c.error("missing-value", s.span(), "Missing http_protocol version"),
                }
            }
            _ => wrong_checker(c, s),
        }),
        set("enable_sni", |c, s, k| match &mut k.kind {
            CheckKind::Http(h) => h.enable_sni = c.flag(s),
            _ => wrong_checker(c, s),
        }),
        set("fast_recovery", |c, s, k| match &mut k.kind {
            CheckKind::Http(h) => h.fast_recovery = c.flag(s),
            _ => wrong_checker(c, s),
        }),
        set("misc_path", |c, s, k| match &mut k.kind {
            CheckKind::Misc(m) => m.path = c.script(s),
            _ => wrong_checker(c, s),
        }),
        set("misc_timeout", |c, s, k| match &mut k.kind {
            // keepalived takes whole seconds only; a fraction gets a warning (keepalived
            // refuses it) and is kept, as Vigil can time a script more finely.
            CheckKind::Misc(m) => {
                let fraction = s.args.first().filter(|w| w.text.contains('.') && !w.text.starts_with('-'));
                m.timeout = match fraction {
                    Some(w) => {
                        let t = c.timer(s, f64::from(u32::MAX / 1_000_000));
                        if t.is_some() {
                            c.warning(
                                "fractional-misc-timeout",
                                &w.span,
                                format!("misc_timeout '{}': keepalived 2.2.7 takes whole seconds only and refuses it; Vigil reads it", w.text),
                            );
                        }
                        t
                    }
                    None => c.ka_unsigned(s, 0, u64::from(u32::MAX / 1_000_000)).map(Duration::from_secs),
                }
            }
            _ => wrong_checker(c, s),
        }),
        set("misc_dynamic", |c, s, k| match &mut k.kind {
            CheckKind::Misc(m) => m.dynamic = c.flag_any_word(s),
            _ => wrong_checker(c, s),
        }),
        set("user", |c, s, k| match &mut k.kind {
            CheckKind::Misc(m) => m.user = c.user_group(s),
            _ => wrong_checker(c, s),
        }),
        set("helo_name", |c, s, k| match &mut k.kind {
            CheckKind::Smtp(m) => m.helo_name = c.string(s),
            _ => wrong_checker(c, s),
        }),
        set("type", |c, s, k| match &mut k.kind {
            CheckKind::Dns(d) => {
                let query_type = &mut d.query_type;
                c.at_most(s, 1);
                if let Some(w) = c.arg(s, 0) {
                    *query_type = match w.text.to_ascii_uppercase().as_str() {
                        "SOA" => DnsType::Soa,
                        "A" => DnsType::A,
                        "NS" => DnsType::Ns,
                        "CNAME" => DnsType::Cname,
                        "MX" => DnsType::Mx,
                        "TXT" => DnsType::Txt,
                        "AAAA" => DnsType::Aaaa,
                        other => {
                            c.error(
                                "bad-value",
                                &w.span,
                                format!("DNS_CHECK type '{other}' is not one of SOA A NS CNAME MX TXT AAAA"),
                            );
                            *query_type
                        }
                    }
                }
            }
            _ => wrong_checker(c, s),
        }),
        set("name", |c, s, k| match &mut k.kind {
            CheckKind::Bfd(_) => bfd_name(c, s, k),
            CheckKind::Dns(d) => match c.string(s) {
                Some(n) if dns_name_has_empty_label(&n) => c.error(
                    "bad-value",
                    s.span(),
                    format!("DNS_CHECK name '{n}' has empty label - ignoring"),
                ),
                Some(n) => d.name = n,
                None => {}
            },
            _ => wrong_checker(c, s),
        }),
        set("payload", |c, s, k| match &mut k.kind {
            CheckKind::Udp(_) if s.args.is_empty() => {
                c.error("missing-value", s.span(), "payload needs a hex string (keepalived: 'UDP_CHECK payload requires a payload')");
            }
            CheckKind::Udp(u) => u.payload = hex_string(c, s, false).map(|b| b.into_iter().map(|(value, _)| value).collect()),
            _ => wrong_checker(c, s),
        }),
        set("require_reply", |c, s, k| match &mut k.kind {
            CheckKind::Udp(u) if s.args.is_empty() => u.require_reply = Some(ReplyPattern::default()),
            CheckKind::Udp(u) => {
                if let Some(bytes) = hex_string(c, s, true) {
                    u.require_reply = Some(ReplyPattern { bytes });
                }
            }
            _ => wrong_checker(c, s),
        }),
        set("min_reply_length", |c, s, k| match &mut k.kind {
            CheckKind::Udp(u) => u.min_reply_length = c.ka_num(s, 0, 65535),
            _ => wrong_checker(c, s),
        }),
        set("max_reply_length", |c, s, k| match &mut k.kind {
            CheckKind::Udp(u) => u.max_reply_length = c.ka_num(s, 0, 65535),
            _ => wrong_checker(c, s),
        }),
        set("track_file", |c, s, k| match &mut k.kind {
            CheckKind::File(f) => f.track_file = c.string(s),
            _ => wrong_checker(c, s),
        }),
        set("weight", |c, s, k| match &mut k.kind {
            CheckKind::File(f) => {
                let FileCheck { weight, weight_reverse, .. } = &mut **f;
                c.at_most(s, 2);
                // keepalived's range here is IPVS's weight limit, not a VRRP priority's.
                if let Some(w) = c.int_at(s, 0, -i64::from(i32::MAX), i64::from(i32::MAX)) {
                    *weight = i32::try_from(w).unwrap_or(1);
                }
                *weight_reverse = match s.args.get(1) {
                    Some(w) if w.text == "reverse" => true,
                    Some(w) => {
                        c.warning(
                            "bad-value",
                            &w.span,
                            format!("unknown track file weight option {} - ignoring", w.text),
                        );
                        false
                    }
                    None => false,
                };
            }
            _ => wrong_checker(c, s),
        }),
        removed(
            "dynamic",
            "keepalived 2.2.7 has no 'dynamic' in FILE_CHECK (a weight makes the check change the real server's weight); delete the line",
            Some(|c, s, k| match &mut k.kind {
                CheckKind::File(_) => c.at_most(s, 0),
                _ => wrong_checker(c, s),
            }),
        ),

);

/// The rows SMTP_CHECK's `host { ... }` takes: the connection keywords, which set the host's
/// own connection, and the timing ones, which (as in keepalived) set the enclosing checker's.
pub(crate) static SMTP_HOST: Table<CheckerDraft> = table_with_timing!(checker_common, 0;
        set("connect_ip", |c, s, k| k.common.connect_ip = c.host(s)),
        set("connect_port", |c, s, k| {
            k.common.connect_port = c.ka_unsigned(s, 1, 65535).and_then(|v| u16::try_from(v).ok())
        }),
        set("bindto", bindto),
        set("bind_port", |c, s, k| k.common.bind_port = c.ka_num(s, 1, 65535)),
        set("bind_if", bind_if),
        set("fwmark", |c, s, k| k.common.fwmark = c.ka_num(s, 0, u64::from(u32::MAX))),
        set("log_all_failures", |c, s, k| k.common.log_all_failures = Some(c.flag(s))),
        checked("alpha", |c, s, _| {
            c.flag(s);
        }),
);

/// A checker while its block is read, with SMTP_CHECK's `host` blocks: each host becomes an
/// SMTP checker of its own when the block ends, as keepalived 2.2.7 does with them.
pub(crate) struct CheckerDraft {
    checker: Checker,
    /// The checker's own options while its block is read (the checker keeps them only when
    /// one is set).
    common: CheckCommon,
    hosts: Vec<CheckCommon>,
    /// The real server's address: where the checker connects unless `connect_ip` says.
    rs_ip: IpAddr,
    /// keepalived drops the checker (BFD_CHECK after a bad `name`).
    dropped: bool,
}

/// `bindto`: keepalived refuses a source of the other family than the destination so far
/// (`connect_ip`, else the real server).
fn bindto(c: &mut Ctx, s: &Statement, k: &mut CheckerDraft) {
    let Some(addr) = c.host(s) else { return };
    // SMTP_CHECK takes the real server's address only when its block ends.
    let dest = match k.kind {
        CheckKind::Smtp(_) => k.common.connect_ip,
        _ => Some(k.common.connect_ip.unwrap_or(k.rs_ip)),
    };
    if dest.is_some_and(|d| addr.is_ipv4() != d.is_ipv4()) {
        c.warning(
            "family-mismatch",
            s.span(),
            format!("bindto address {addr} does not match address family of connect_ip - skipping"),
        );
        return;
    }
    k.common.bindto = Some(addr);
}

/// `bind_if`: an interface name fits IFNAMSIZ (15 characters) or keepalived ignores it.
fn bind_if(c: &mut Ctx, s: &Statement, k: &mut CheckerDraft) {
    let Some(name) = c.string(s) else { return };
    if name.len() >= 16 {
        c.error("bad-value", s.span(), format!("Interface name {name} is too long - ignoring"));
        return;
    }
    k.common.bind_if = Some(name);
}

/// keepalived 2.2.7's test for an empty label in a DNS_CHECK name: a leading dot (unless the
/// name is just "."), or a dot right after the first character or after another dot. The
/// first test also refuses a one-character first label such as `a.example.org`.
fn dns_name_has_empty_label(name: &str) -> bool {
    let b = name.as_bytes();
    if b.first() == Some(&b'.') && b.len() > 1 {
        return true;
    }
    let dots = b.iter().enumerate().filter(|(_, ch)| **ch == b'.').map(|(i, _)| i);
    std::iter::once(0).chain(dots).any(|i| b.get(i + 1) == Some(&b'.'))
}

impl Deref for CheckerDraft {
    type Target = Checker;
    fn deref(&self) -> &Checker {
        &self.checker
    }
}

impl DerefMut for CheckerDraft {
    fn deref_mut(&mut self) -> &mut Checker {
        &mut self.checker
    }
}

/// Moves the connection settings (the ones a `host` block has of its own) out of `from`.
fn take_connection(from: &mut CheckCommon) -> CheckCommon {
    CheckCommon {
        connect_ip: from.connect_ip.take(),
        connect_port: from.connect_port.take(),
        bindto: from.bindto.take(),
        bind_port: from.bind_port.take(),
        bind_if: from.bind_if.take(),
        fwmark: from.fwmark.take(),
        connect_timeout: from.connect_timeout.take(),
        ..CheckCommon::default()
    }
}

fn put_connection(to: &mut CheckCommon, mut from: CheckCommon) {
    let c = take_connection(&mut from);
    to.connect_ip = c.connect_ip;
    to.connect_port = c.connect_port;
    to.bindto = c.bindto;
    to.bind_port = c.bind_port;
    to.bind_if = c.bind_if;
    to.fwmark = c.fwmark;
    to.connect_timeout = c.connect_timeout;
}

/// `host { connect_ip ... }` in SMTP_CHECK: read with the checker's own connection set aside
/// (keepalived swaps it out the same way), so timing keywords still land on the checker.
fn smtp_host(c: &mut Ctx, s: &Statement, k: &mut CheckerDraft) {
    c.at_most(s, 0);
    let own = take_connection(&mut k.common);
    let items = c.block(s);
    apply(c, &SMTP_HOST, "host", items, k);
    let host = take_connection(&mut k.common);
    put_connection(&mut k.common, own);
    k.hosts.push(host);
}

/// keepalived's `snmp_name` (virtual and real servers): exactly one word.
fn snmp_name<T>(c: &mut Ctx, s: &Statement, _: &mut T) {
    if s.args.len() != 1 {
        c.warning("bad-value", s.span(), format!("{} missing or extra parameters", s.name()));
    }
}

/// `persistence_granularity`: for an IPv6 service a prefix length 1-128 (kept as the mask it
/// stands for), for IPv4 a mask in any form C's `inet_aton` reads (`255.255.255.0`, `24` as
/// the number 0.0.0.24, ...: keepalived checks no more). A service of no address yet goes by
/// whether the value has a dot, as in keepalived.
fn granularity(c: &mut Ctx, s: &Statement, v6: Option<bool>) -> Option<IpAddr> {
    c.at_most(s, 1);
    let w = c.arg(s, 0)?;
    if v6.unwrap_or(!w.text.contains('.')) {
        let len = c.ka_num::<u8>(s, 1, 128).map(u32::from);
        if len.is_none() {
            c.error("bad-value", &w.span, format!("Invalid IPv6 persistence_granularity specified - {}", w.text));
        }
        return len.map(|l| IpAddr::V6(std::net::Ipv6Addr::from(u128::MAX << (128 - l))));
    }
    match inet_aton(&w.text) {
        Some(mask) => Some(IpAddr::V4(mask)),
        None => {
            c.error("bad-value", &w.span, format!("Invalid IPv4 persistence_granularity specified - {}", w.text));
            None
        }
    }
}

/// C's `inet_aton`: one to four parts separated by dots, each decimal, octal (leading 0) or
/// hex (leading 0x); the last part fills the remaining bytes.
fn inet_aton(text: &str) -> Option<std::net::Ipv4Addr> {
    let parts: Vec<u32> = text
        .split('.')
        .map(|p| {
            let (digits, radix) = match p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
                Some(hex) => (hex, 16),
                None if p.len() > 1 && p.starts_with('0') => (&p[1..], 8),
                None => (p, 10),
            };
            if digits.is_empty() && radix != 8 {
                return None;
            }
            if digits.is_empty() {
                return Some(0);
            }
            u32::from_str_radix(digits, radix).ok().filter(|_| digits.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        .collect::<Option<_>>()?;
    let (last, head) = parts.split_last()?;
    if head.len() > 3 || head.iter().any(|p| *p > 255) {
        return None;
    }
    let room = 32 - 8 * u32::try_from(head.len()).ok()?;
    if u64::from(*last) >= 1u64 << room {
        return None;
    }
    let value = head.iter().fold(0u64, |acc, p| acc << 8 | u64::from(*p)) << room | u64::from(*last);
    u32::try_from(value).ok().map(std::net::Ipv4Addr::from)
}

/// `hashed`, `sh-port`, `sh-fallback`, `mh-port`, `mh-fallback`: keepalived sets the sh and mh
/// flags only when the scheduler read so far is that one, and warns unless it is sh or mh.
fn sched_flag(c: &mut Ctx, s: &Statement, v: &mut VirtualServer) {
    let on = c.flag(s);
    match (v.scheduler, s.name()) {
        (Scheduler::Sh, "sh-port") | (Scheduler::Mh, "mh-port") => v.sched_flags.flag2 = on,
        (Scheduler::Sh, "sh-fallback") | (Scheduler::Mh, "mh-fallback") => v.sched_flags.flag1 = on,
        (Scheduler::Sh | Scheduler::Mh, _) => {}
        (_, name) => c.warning("sched-flag", s.span(), format!("{name} only applies to sh scheduler - ignoring")),
    }
}

/// `SSL { password P ca FILE certificate FILE key FILE }`: the client context of SSL_GET.
/// keepalived reads the names only; the files are loaded when the checkers start.
fn ssl_file(c: &mut Ctx, s: &Statement, d: &mut crate::model::SslSettings) {
    c.at_most(s, 1);
    let (what, slot) = match s.name() {
        "ca" => ("cafile", &mut d.ca),
        "certificate" => ("certfile", &mut d.certificate),
        "key" => ("keyfile", &mut d.key),
        _ => ("password", &mut d.password),
    };
    let Some(value) = s.args.first() else {
        c.warning("missing-value", s.span(), format!("SSL {what} missing"));
        return;
    };
    if slot.is_some() {
        c.warning("duplicate-value", s.span(), format!("SSL {what} already specified - replacing"));
    }
    *slot = Some(value.text.to_string());
}

pub(crate) static SSL: Table<crate::model::SslSettings> =
    Table::new(&[set("password", ssl_file), set("ca", ssl_file), set("certificate", ssl_file), set("key", ssl_file)]);

/// A second `SSL` block starts again from nothing, as keepalived's does.
pub(crate) fn ssl(c: &mut Ctx, s: &Statement, cfg: &mut Config) {
    if cfg.ssl.is_some() {
        c.warning("duplicate-value", s.span(), "SSL context already specified - replacing");
    }
    let items = c.block(s);
    let mut settings =
        crate::model::SslSettings { password: None, ca: None, certificate: None, key: None, span: s.span().clone() };
    apply(c, &SSL, "SSL", items, &mut settings);
    cfg.ssl = Some(settings);
}

/// BFD_CHECK's `name`: one word, once. keepalived drops the checker after a bad one, and
/// after a second one; what it names is looked up when everything is read ([`finish`]).
fn bfd_name(c: &mut Ctx, s: &Statement, k: &mut CheckerDraft) {
    let CheckKind::Bfd(b) = &mut k.checker.kind else { return };
    let name = &mut b.name;
    if k.dropped {
        return;
    }
    match (s.args.as_slice(), name.as_deref()) {
        ([w], None) => *name = Some(w.text.to_string()),
        ([w], Some(before)) => {
            c.warning("duplicate", s.span(), format!("BFD_CHECK - BFD {} already specified as {before}", w.text));
            k.dropped = true;
        }
        _ => {
            c.warning("bad-value", s.span(), "BFD_CHECK - No or too many names specified - skipping checker");
            k.dropped = true;
        }
    }
}

fn wrong_checker(c: &mut Ctx, s: &Statement) {
    c.warning("unknown-keyword", s.span(), format!("'{}' does not apply to this checker", s.name()));
}

/// `payload` / `require_reply`: a HEX_STR as keepalived reads it. Each word (a quoted one
/// split at its spaces) goes by pairs of digits, and a word's odd last digit is a byte of its
/// own: `Ab12f 3 456` is AB 12 0F 03 45 06. With `wildcard` (require_reply), a digit written
/// `X` or `x` matches any value. Returns each byte with its mask (0xff where every bit counts).
fn hex_string(c: &mut Ctx, s: &Statement, wildcard: bool) -> Option<Vec<(u8, u8)>> {
    let byte = |(hi, hi_mask): (u8, u8), (lo, lo_mask): (u8, u8)| ((hi << 4) | lo, (hi_mask << 4) | lo_mask);
    let mut bytes = Vec::new();
    for word in &s.args {
        for part in word.text.split([' ', '\t']).filter(|p| !p.is_empty()) {
            if wildcard && (part.starts_with("0x") || part.starts_with("0X")) {
                c.diags.note(
                    "hex-prefix",
                    &word.span,
                    format!(
                        "{}: '{part}' reads as 0X (X: any digit) followed by the rest, not as a 0x number",
                        s.name()
                    ),
                );
            }
            let mut high = None;
            for ch in part.chars() {
                let nibble = match ch.to_digit(16).and_then(|d| u8::try_from(d).ok()) {
                    Some(d) => (d, 0xf),
                    None if wildcard && (ch == 'x' || ch == 'X') => (0, 0),
                    None => {
                        let allowed = if wildcard { "hex digits, and X for any" } else { "hex digits only" };
                        c.error(
                            "bad-value",
                            &word.span,
                            format!("{}: '{}' is not a hex string ({allowed})", s.name(), word.text),
                        );
                        return None;
                    }
                };
                match high.take() {
                    None => high = Some(nibble),
                    Some(hi) => bytes.push(byte(hi, nibble)),
                }
            }
            if let Some(lo) = high {
                bytes.push(byte((0, 0xf), lo));
            }
        }
    }
    match bytes.last() {
        None => {
            c.error("bad-value", s.span(), format!("{}: no hex digits", s.name()));
            return None;
        }
        Some((0xff, _)) => c.warning(
            "hex-ends-ff",
            s.span(),
            format!(
                "{}: keepalived 2.2.7 rejects a hex string whose last byte is FF (fixed in later releases); Vigil reads it as written",
                s.name()
            ),
        ),
        Some(_) => {}
    }
    Some(bytes)
}

/// A shared checker keyword, and how to undo what it set.
type Undo = (&'static str, fn(&mut CheckCommon));

/// Shared checker keywords that keepalived 2.2.7 does not know in MISC_CHECK (these) and
/// FILE_CHECK (these and the timing ones).
const CONNECTION_KEYWORDS: &[Undo] = &[
    ("connect_ip", |c| c.connect_ip = None),
    ("connect_port", |c| c.connect_port = None),
    ("bindto", |c| c.bindto = None),
    ("bind_port", |c| c.bind_port = None),
    ("bind_if", |c| c.bind_if = None),
    ("fwmark", |c| c.fwmark = None),
    ("connect_timeout", |c| c.connect_timeout = None),
];
const TIMING_KEYWORDS: &[Undo] = &[
    ("retry", |c| c.retry = None),
    ("delay_before_retry", |c| c.delay_before_retry = None),
    ("warmup", |c| c.warmup = None),
    ("delay_loop", |c| c.delay_loop = None),
    ("log_all_failures", |c| c.log_all_failures = None),
];

fn checker(c: &mut Ctx, s: &Statement, r: &mut RealServer, kind: CheckKind) {
    let mut k = CheckerDraft {
        checker: Checker::new(kind, CheckCommon::default(), s.span().clone()),
        common: CheckCommon::default(),
        hosts: Vec::new(),
        rs_ip: r.ip,
        dropped: false,
    };
    let items = c.block(s);
    apply(c, &CHECKER, s.name(), items, &mut k);
    let foreign: &[&[Undo]] = match k.kind {
        CheckKind::Misc(_) => &[CONNECTION_KEYWORDS],
        CheckKind::File(_) | CheckKind::Bfd(_) => &[CONNECTION_KEYWORDS, TIMING_KEYWORDS],
        _ => &[],
    };
    for item in items {
        let Some((_, clear)) = foreign.iter().copied().flatten().find(|(name, _)| *name == item.name()) else {
            continue;
        };
        c.warning(
            "unknown-keyword",
            item.span(),
            format!("'{}' does not apply to {} (keepalived 2.2.7: unknown keyword); ignored", item.name(), s.name()),
        );
        clear(&mut k.common);
    }
    match &k.kind {
        CheckKind::Http(h) if h.urls.is_empty() => {
            c.error("missing-value", s.span(), format!("{} has no url block", s.name()))
        }
        CheckKind::Misc(m) if m.path.is_none() => c.error("missing-value", s.span(), "MISC_CHECK has no misc_path"),
        CheckKind::File(f) if f.track_file.is_none() => {
            c.error("missing-value", s.span(), "FILE_CHECK has no track_file")
        }
        CheckKind::Udp(u) => {
            let (min, max) = (u.min_reply_length.unwrap_or(0), u.max_reply_length.unwrap_or(DEFAULT_MAX_REPLY_LENGTH));
            if min > max {
                let default = if u.max_reply_length.is_none() { " (the default)" } else { "" };
                c.warning(
                    "reply-length",
                    s.span(),
                    format!(
                        "UDP_CHECK min_reply_length {min} > max_reply_length {max}{default}: the check always fails"
                    ),
                );
            }
        }
        _ => {}
    }
    if k.dropped {
        return;
    }
    // keepalived's check_conn_opts() (checkers that connect): a link-local destination needs
    // an interface.
    let connects = !matches!(k.kind, CheckKind::Misc(_) | CheckKind::File(_) | CheckKind::Bfd(_));
    if let (IpAddr::V6(dest), true) = (k.common.connect_ip.unwrap_or(r.ip), connects) {
        if dest.segments()[0] & 0xffc0 == 0xfe80 && k.common.bind_if.is_none() {
            c.warning(
                "link-local-needs-bind-if",
                s.span(),
                format!("Checker link local address {dest} requires a bind_if; the checker is dropped"),
            );
            return;
        }
    }
    let CheckerDraft { checker, common, hosts, .. } = k;
    push_with_hosts(c, s, r, (checker, common), hosts);
}

/// keepalived 2.2.7 turns SMTP_CHECK's hosts into checkers: the first host replaces the
/// checker's own connection unless the checker sets one itself, and each further host is a
/// copy of the checker with that host's connection.
fn push_with_hosts(
    c: &mut Ctx,
    s: &Statement,
    r: &mut RealServer,
    (checker, mut common): (Checker, CheckCommon),
    hosts: Vec<CheckCommon>,
) {
    let Checker { kind, span, .. } = checker;
    if hosts.is_empty() {
        r.checkers.push(Checker::new(kind, common, span));
        return;
    }
    c.diags.note("smtp-host", s.span(), "The SMTP_CHECK host block is deprecated. Please define additional checkers.");
    let template = common.clone();
    let mut hosts = hosts.into_iter();
    if take_connection(&mut common.clone()) == CheckCommon::default() {
        if let Some(first) = hosts.next() {
            put_connection(&mut common, first);
        }
    }
    r.checkers.push(Checker::new(kind.clone(), common, span.clone()));
    for host in hosts {
        let mut copy = template.clone();
        put_connection(&mut copy, host);
        r.checkers.push(Checker::new(kind.clone(), copy, span.clone()));
    }
}

/// A `url` block while it is read.
pub(crate) struct UrlDraft {
    url: UrlCheck,
    have_path: bool,
}

pub(crate) static URL: Table<UrlDraft> = Table::new(&[
    set("path", |c, item, u| {
        c.at_most(item, 1);
        if let Some(p) = c.string(item) {
            u.url.path = p;
            u.have_path = true;
        }
    }),
    set("digest", |c, item, u| {
        c.at_most(item, 1);
        let Some(w) = c.arg(item, 0) else { return };
        let bytes: Option<Vec<u8>> = (w.text.len() == 32)
            .then(|| (0..32).step_by(2).map(|i| u8::from_str_radix(w.text.get(i..i + 2)?, 16).ok()).collect())
            .flatten();
        match bytes.and_then(|b| <[u8; 16]>::try_from(b).ok()) {
            Some(d) => u.url.digest = Some(d),
            None => c.error("bad-digest", &w.span, format!("digest '{}' is not 32 hex digits (an MD5 sum)", w.text)),
        }
    }),
    set("status_code", |c, item, u| status_code(c, item, &mut u.url)),
    set("regex", |c, item, u| {
        if item.args.is_empty() {
            c.diags.note("missing-value", item.span(), "regex without a value is ignored")
        } else {
            u.url.regex = c.string(item)
        }
    }),
    set("regex_no_match", |c, item, u| u.url.regex_no_match = c.flag(item)),
    set("virtualhost", |c, item, u| u.url.virtualhost = c.string(item)),
    ignored("regex_options"),
    ignored("regex_stack"),
    ignored("regex_min_offset"),
    ignored("regex_max_offset"),
]);

fn status_code(c: &mut Ctx, item: &Statement, u: &mut UrlCheck) {
    for w in &item.args {
        if w.text.is_empty() {
            c.error("bad-value", &w.span, "status_code: an empty string is not an HTTP status");
        } else if w.text.contains(',') {
            c.warning(
                "status-code-commas",
                &w.span,
                format!("status_code '{}': keepalived 2.2.7 refuses commas (write the codes apart, with spaces); Vigil reads them", w.text),
            );
        }
        for part in w.text.split(',').filter(|p| !p.is_empty()) {
            let range = match part.split_once('-') {
                Some((a, b)) => a.parse::<u16>().ok().zip(b.parse::<u16>().ok()),
                None => part.parse::<u16>().ok().map(|v| (v, v)),
            };
            match range {
                Some((a, b)) if (100..=599).contains(&a) && (a..=599).contains(&b) => u.status_code.push((a, b)),
                _ => c.error(
                    "bad-value",
                    &w.span,
                    format!("status_code '{part}' is not an HTTP status or range (100-599)"),
                ),
            }
        }
    }
    if item.args.is_empty() {
        c.diags.note("missing-value", item.span(), "status_code without a value: the default, 200-299, applies");
    }
}

fn url(c: &mut Ctx, s: &Statement) -> Option<UrlCheck> {
    let mut u = UrlDraft {
        url: UrlCheck {
            path: String::new(),
            digest: None,
            status_code: Vec::new(),
            regex: None,
            regex_no_match: false,
            virtualhost: None,
            span: s.span().clone(),
        },
        have_path: false,
    };
    let items = c.block(s);
    apply(c, &URL, "url", items, &mut u);
    if !u.have_path {
        c.error("missing-value", s.span(), "url has no path");
        return None;
    }
    Some(u.url)
}

/// `virtual_server IP PORT | fwmark N | group NAME { ... }`
pub(crate) fn virtual_server(c: &mut Ctx, s: &Statement) -> Option<VirtualServer> {
    let key = vs_key(c, s);
    let mut vs = VirtualServer {
        key: key.clone().unwrap_or(VsKey::Group { name: String::new() }),
        span: s.span().clone(),
        delay_loop: Duration::from_secs(60),
        scheduler: Scheduler::default(),
        sched_flags: SchedFlags::default(),
        forwarding: Forwarding::default(),
        persistence_timeout: None,
        persistence_granularity: None,
        protocol: Protocol::default(),
        protocol_span: None,
        ops: false,
        sorry_server_inhibit: false,
        quorum: 1,
        hysteresis: 0,
        alpha: false,
        omega: false,
        ha_suspend: false,
        inhibit_on_failure: false,
        smtp_alert: None,
        ip_family: None,
        check: None,
        extra: None,
        real_servers: Vec::new(),
    };
    let items = c.block(s);
    // Sized up front: thousands of real servers are common, and growing moves each one.
    vs.real_servers.reserve_exact(items.iter().filter(|i| i.name() == "real_server").count());
    apply(c, &VIRTUAL_SERVER, "virtual_server", items, &mut vs);
    let has = |names: &[&str]| items.iter().any(|i| names.contains(&i.name()));
    let label = vs_label(&vs.key);
    if !matches!(vs.key, VsKey::Fwmark { .. }) && !has(&["protocol"]) {
        vs.protocol = Protocol::Udp;
        c.warning(
            "lvs-default",
            s.span(),
            format!(
                "{label}: no protocol set; keepalived defaults to UDP and so does Vigil (add 'protocol TCP' for TCP)"
            ),
        );
    }
    if !has(&["lvs_sched", "lb_algo"]) {
        c.warning("lvs-default", s.span(), format!("{label}: no lvs_sched set; using wlc"));
    }
    if !has(&["lvs_method", "lb_kind"]) {
        c.warning("lvs-default", s.span(), format!("{label}: no lvs_method set; using NAT"));
    }
    match (&vs.key, vs.ip_family) {
        (VsKey::Addr { ip, .. }, _) => same_family(c, &label, *ip, &mut vs),
        // A fwmark service's family is its ip_family, when given.
        (VsKey::Fwmark { .. }, Some(4)) => same_family(c, &label, IpAddr::from([0, 0, 0, 0]), &mut vs),
        (VsKey::Fwmark { .. }, Some(_)) => same_family(c, &label, IpAddr::from([0u16; 8]), &mut vs),
        _ => {}
    }
    if vs.real_servers.is_empty() && vs.extra().sorry_server.is_none() {
        c.warning("no-real-servers", s.span(), format!("{label} has no real servers"));
    }
    if !vs.real_servers.is_empty() {
        quorum_within_weights(c, s, &label, &mut vs);
    }
    if let Some(ops) = items.iter().find(|i| i.name() == "ops").filter(|_| vs.protocol != Protocol::Udp) {
        vs.ops = false;
        c.warning("ops-needs-udp", ops.span(), format!("{label}: one-packet scheduling (ops) requires UDP; ignored"));
    }
    if let VsKey::Addr { port: 0, .. } = vs.key {
        if vs.persistence_timeout.is_none() {
            c.warning("zero-port", s.span(), format!("{label}: port 0 is only valid for a persistent service"));
        }
    }
    if let VsKey::Fwmark { .. } = vs.key {
        // keepalived 2.2.7: "real server ... has port specified - clearing"; its checkers were
        // made before, with the port as their default, and keep it.
        let vs_port = vs.common().connect_port;
        for rs in &mut vs.real_servers {
            if rs.port != 0 {
                c.warning(
                    "fwmark-rs-port",
                    &rs.span,
                    format!(
                        "{label}: real_server {} has a port; a fwmark service's real servers have none, so it is cleared (as keepalived does); its checkers still connect to port {}",
                        rs.ip, rs.port
                    ),
                );
                if vs_port.is_none() && rs.common().connect_port.is_none() {
                    for checker in &mut rs.checkers {
                        checker.own.get_or_insert_with(Box::default).connect_port.get_or_insert(rs.port);
                    }
                }
                rs.port = 0;
            }
        }
    }
    // The virtual server's delay_loop is its own field: its checkers fall back on it, and
    // the box of options is dropped when that was the only one (as it usually is).
    if let Some(check) = vs.check.as_mut() {
        if let Some(d) = check.delay_loop.take() {
            vs.delay_loop = d;
        }
        if **check == CheckCommon::default() {
            vs.check = None;
        }
    }
    key.map(|_| vs)
}

/// keepalived skips a real server or sorry server of the other address family than the
/// virtual server's, unless it is reached through a tunnel (IPVS tunnels may cross families).
fn same_family(c: &mut Ctx, label: &str, vip: IpAddr, vs: &mut VirtualServer) {
    let vs_method = vs.forwarding;
    let crosses = |ip: IpAddr, method: Option<Forwarding>| {
        ip.is_ipv4() != vip.is_ipv4() && !matches!(method.unwrap_or(vs_method), Forwarding::Tun(_))
    };
    vs.real_servers.retain(|rs| {
        let keep = !crosses(rs.ip, rs.forwarding);
        if !keep {
            c.warning(
                "family-mismatch",
                &rs.span,
                format!("{label}: real_server {} is not of the virtual server's address family; skipped, as keepalived skips it", rs.ip),
            );
        }
        keep
    });
    if let Some(sorry) = vs.extra.as_mut().and_then(|e| e.sorry_server.take_if(|s| crosses(s.ip, s.forwarding))) {
        c.warning(
            "family-mismatch",
            &sorry.span,
            format!("{label}: sorry_server {} is not of the virtual server's address family; skipped, as keepalived skips it", sorry.ip),
        );
    }
}

/// keepalived lowers a quorum above the real servers' total weight to that total, and a
/// hysteresis not below the quorum to one less than it; Vigil does the same, with a warning.
fn quorum_within_weights(c: &mut Ctx, s: &Statement, label: &str, vs: &mut VirtualServer) {
    let total: i64 = vs.real_servers.iter().map(|rs| i64::from(rs.weight)).sum();
    let total = u32::try_from(total.max(0)).unwrap_or(u32::MAX);
    if vs.quorum > total {
        c.warning(
            "quorum-above-weights",
            s.span(),
            format!("{label}: quorum {} exceeds the real servers' total weight {total}; lowered to {total}, as keepalived does", vs.quorum),
        );
        vs.quorum = total;
    }
    if vs.hysteresis > 0 && vs.hysteresis >= vs.quorum {
        let lowered = vs.quorum.saturating_sub(1);
        // With a quorum of 0, keepalived 2.2.7's unsigned arithmetic gives 4294967295.
        let how = if vs.quorum == 0 { "keepalived 2.2.7 makes it 4294967295" } else { "as keepalived does" };
        c.warning(
            "hysteresis-above-quorum",
            s.span(),
            format!(
                "{label}: hysteresis {} is not below quorum {}; lowered to {lowered} ({how})",
                vs.hysteresis, vs.quorum
            ),
        );
        vs.hysteresis = lowered;
    }
}

fn vs_label(key: &VsKey) -> String {
    match key {
        VsKey::Addr { ip: IpAddr::V6(ip), port } => format!("virtual_server [{ip}]:{port}"),
        VsKey::Addr { ip, port } => format!("virtual_server {ip}:{port}"),
        VsKey::Fwmark { mark } => format!("virtual_server fwmark {mark}"),
        VsKey::Group { name } => format!("virtual_server group {name}"),
    }
}

fn vs_key(c: &mut Ctx, s: &Statement) -> Option<VsKey> {
    let first = c.arg(s, 0)?;
    match first.text.as_str() {
        "fwmark" => {
            let w = c.arg(s, 1)?;
            let mark = c.int_word("fwmark", w, 1, i64::from(u32::MAX)).and_then(|v| u32::try_from(v).ok())?;
            Some(VsKey::Fwmark { mark })
        }
        "group" => Some(VsKey::Group { name: c.arg(s, 1)?.text.to_string() }),
        _ => {
            let ip = c.host_word("virtual_server", first)?;
            let port = match s.args.get(1) {
                Some(w) => c.port_word("virtual_server port", w)?,
                None => 0,
            };
            Some(VsKey::Addr { ip, port })
        }
    }
}

fn real_server(c: &mut Ctx, s: &Statement) -> Option<RealServer> {
    c.at_most(s, 2);
    let ip_word = c.arg(s, 0)?;
    let ip = c.host_word("real_server", ip_word);
    let port = match s.args.get(1) {
        Some(w) => c.port_word("real_server port", w),
        None => Some(0),
    };
    let mut rs = RealServer {
        ip: ip.unwrap_or(IpAddr::from([0, 0, 0, 0])),
        port: port.unwrap_or(0),
        span: s.span().clone(),
        weight: 1,
        forwarding: None,
        inhibit_on_failure: None,
        smtp_alert: None,
        alpha: None,
        extra: None,
        checkers: Default::default(),
    };
    let items = c.block(s);
    rs.checkers
        .reserve_exact(items.iter().filter(|i| i.name().ends_with("_CHECK") || i.name().ends_with("_GET")).count());
    apply(c, &REAL_SERVER, "real_server", items, &mut rs);
    ip.and(port).map(|_| rs)
}

/// `virtual_server_group NAME { IP[-LAST] PORT | fwmark N }`
pub(crate) fn group(c: &mut Ctx, s: &Statement) -> VirtualServerGroup {
    let mut g = VirtualServerGroup { name: c.block_name(s), members: Vec::new(), span: s.span().clone() };
    for item in c.block(s) {
        if item.name() == "fwmark" {
            if let Some(w) = c.arg(item, 0) {
                if let Some(mark) = c.int_word("fwmark", w, 1, i64::from(u32::MAX)).and_then(|v| u32::try_from(v).ok())
                {
                    g.members.push(GroupMember::Fwmark { mark, span: item.span().clone() });
                }
            }
            continue;
        }
        let (addr, last) = match item.keyword.text.split_once('-') {
            Some((a, l)) => (a, Some(l)),
            None => (item.keyword.text.as_str(), None),
        };
        let word = Word { text: addr.into(), span: item.keyword.span.clone() };
        let Some(first) = c.ip_word("virtual_server_group", &word) else { continue };
        let last_octet = match last {
            Some(l) => match u16::from_str_radix(l, if first.is_ipv6() { 16 } else { 10 }) {
                Ok(v) => Some(v),
                Err(_) => {
                    c.error(
                        "bad-address",
                        item.span(),
                        format!("'{}' is not a valid address range", item.keyword.text),
                    );
                    continue;
                }
            },
            None => None,
        };
        let port = match item.args.first() {
            Some(w) => c.port_word("virtual_server_group port", w),
            None => Some(0),
        };
        if let Some(port) = port {
            g.members.push(GroupMember::Range { first, last_octet, port, span: item.span().clone() });
        }
    }
    g
}

/// keepalived's name for the BFD_CHECK of a real server: `[ip]:proto:port`.
fn rs_trio(rs: &RealServer, protocol: Protocol) -> String {
    let proto = match protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Sctp => "sctp",
    };
    format!("[{}]:{proto}:{}", rs.ip, rs.port)
}

/// keepalived's checker process looks BFD_CHECK's name up among the `bfd_instance`s it has
/// read so far that send it events (`checker`, or neither `checker` nor `vrrp`), and drops
/// the checker, with its warning, when there is none, when the name is too long for an
/// instance, or when the real server already follows that instance. "So far" is told apart
/// within one file only: across included files any `bfd_instance` counts.
fn check_bfd_checks(c: &mut Ctx, cfg: &mut Config, moved: &Moved) {
    /// keepalived's BFD_INAME_MAX, with the terminating NUL.
    const NAME_MAX: usize = 32;
    let bfds = &cfg.bfd_instances;
    for (i, vs) in cfg.virtual_servers.iter_mut().enumerate() {
        // Decided on the virtual server as read, which a reload's reading may share with the
        // running configuration: it is copied only when a checker goes.
        let mut dropped: Vec<(usize, usize)> = Vec::new();
        for (r, rs) in vs.real_servers.iter().enumerate() {
            let mut followed: Vec<&String> = Vec::new();
            for (n, k) in rs.checkers.iter().enumerate() {
                let CheckKind::Bfd(b) = &k.kind else { continue };
                let at = moved.place(i, &k.span);
                let trio = || rs_trio(rs, vs.protocol);
                let Some(name) = &b.name else {
                    let line = format!("({}) No name has been specified for BFD_CHECKER - skipping", trio());
                    c.warning("missing-value", &at, line);
                    dropped.push((r, n));
                    continue;
                };
                let before = |b: &crate::model::BfdInstance| {
                    b.span.file != at.file || (b.span.line, b.span.col) < (at.line, at.col)
                };
                let problem = if !bfds.iter().any(|b| &b.name == name && b.to_checker && before(b)) {
                    Some(("unknown-reference", format!("({}) BFD_CHECK - BFD {name} not configured", trio())))
                } else if name.len() >= NAME_MAX {
                    Some(("bad-value", format!("({}) BFD_CHECK - BFD name {name} too long", trio())))
                } else if followed.contains(&name) {
                    Some(("duplicate", format!("({}) BFD_CHECK - RS already monitoring {name}", trio())))
                } else {
                    None
                };
                match problem {
                    Some((code, line)) => {
                        c.warning(code, &at, line);
                        dropped.push((r, n));
                    }
                    None => followed.push(name),
                }
            }
        }
        if dropped.is_empty() {
            continue;
        }
        let vs = Arc::make_mut(vs);
        for (r, n) in dropped.into_iter().rev() {
            if let Some(rs) = vs.real_servers.get_mut(r) {
                rs.checkers.remove(n);
            }
        }
    }
}

/// Cross-block checks for LVS: groups referenced, checker inheritance.
pub(crate) fn finish(c: &mut Ctx, cfg: &mut Config, moved: &Moved) {
    check_bfd_checks(c, cfg, moved);
    // keepalived looks FILE_CHECK's track_file up among the track_file blocks and drops the
    // checker when there is none of that name (the checker planner leaves it out too).
    let files: Vec<&str> = cfg.track_files.iter().map(|t| t.name.as_str()).collect();
    for (i, vs) in cfg.virtual_servers.iter().enumerate() {
        for k in vs.real_servers.iter().flat_map(|rs| rs.checkers.iter()) {
            let CheckKind::File(f) = &k.kind else { continue };
            let Some(name) = f.track_file.as_ref() else { continue };
            if !files.contains(&name.as_str()) {
                c.warning(
                    "unknown-reference",
                    &moved.place(i, &k.span),
                    format!("track_file {name} not found; FILE_CHECK has no track_file specified - ignoring"),
                );
            }
        }
    }
    for (i, vs) in cfg.virtual_servers.iter().enumerate() {
        if let VsKey::Group { name } = &vs.key {
            if !cfg.virtual_server_groups.iter().any(|g| &g.name == name) {
                c.error(
                    "unknown-reference",
                    &moved.place(i, &vs.span),
                    format!("virtual_server group '{name}' is not a virtual_server_group"),
                );
            }
        }
        if let (VsKey::Fwmark { .. }, Some(span)) = (&vs.key, &vs.protocol_span) {
            c.warning("protocol-on-fwmark", &moved.place(i, span), "protocol is ignored for a fwmark virtual_server");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{dns_name_has_empty_label, inet_aton};
    use crate::model::CheckKind;
    use crate::{parse_str, Options, Severity};

    /// A second notify_up, notify_down, quorum_up or quorum_down is reported and ignored: the
    /// first one stands, as in keepalived, which names a virtual server's group first.
    #[test]
    fn the_first_notify_and_quorum_script_stands() {
        let text = "virtual_server 192.0.2.10 80 {\n quorum_up /bin/q1\n quorum_up /bin/q2\n \
                    real_server 192.0.2.20 80 {\n notify_up /bin/u1\n notify_down /bin/d1\n notify_up /bin/u2\n \
                    notify_down /bin/d2\n }\n}\n";
        let parsed = parse_str("k.conf", text, &Options::default(), None);
        let vs = &parsed.config.virtual_servers[0];
        let rs = vs.real_servers[0].extra();
        let argv0 = |s: &Option<crate::model::Script>| s.as_ref().map(|s| s.argv[0].clone());
        assert_eq!(argv0(&vs.extra().quorum_up), Some("/bin/q1".into()));
        assert_eq!((argv0(&rs.notify_up), argv0(&rs.notify_down)), (Some("/bin/u1".into()), Some("/bin/d1".into())));
        let said = super::super::said_about(text, "already");
        let warned = |line, m: &str| (line, Severity::Warning, m.to_string());
        assert_eq!(
            said,
            [
                warned(3, "quorum_up script already specified - ignoring /bin/q2"),
                warned(7, "notify_up script already specified - ignoring /bin/u2"),
                warned(8, "notify_down script already specified - ignoring /bin/d2"),
            ]
        );
        // In a `virtual_server group`, a real server's is reported with the group's name first,
        // as keepalived does (its virtual server's name).
        let text = "virtual_server_group G {\n 192.0.2.10 80\n}\nvirtual_server group G {\n \
                    real_server 192.0.2.20 80 {\n notify_up /bin/u1\n notify_up /bin/u2\n }\n}\n";
        let said = super::super::said_about(text, "already");
        assert_eq!(said, [warned(7, "(G) notify_up script already specified - ignoring /bin/u2")]);
    }

    /// BFD_CHECK keeps a checker only for a `bfd_instance` read before it that sends the
    /// checkers events; the warning is keepalived's, and the checker is gone from the model.
    #[test]
    fn bfd_check_names_a_checker_bfd_instance_read_before_it() {
        let bfd = |name: &str, extra: &str| format!("bfd_instance {name} {{\n neighbor_ip 192.0.2.4\n{extra}}}\n");
        let vs = |checks: &str| {
            format!("virtual_server 192.0.2.10 80 {{\n protocol UDP\n real_server 192.0.2.20 80 {{\n{checks} }}\n}}\n")
        };
        let check = |name: &str| format!(" BFD_CHECK {{\n name {name}\n }}\n");
        let long = "b".repeat(32);
        /// What, the text, the names of the BFD_CHECKs kept, and the warning.
        type Case<'a> = (&'a str, String, Vec<Option<&'a str>>, Option<String>);
        let cases: Vec<Case> = vec![
            ("no events named: checker", format!("{}{}", bfd("b1", ""), vs(&check("b1"))), vec![Some("b1")], None),
            ("checker", format!("{}{}", bfd("b1", " checker\n vrrp\n"), vs(&check("b1"))), vec![Some("b1")], None),
            (
                "vrrp only",
                format!("{}{}", bfd("b1", " vrrp\n"), vs(&check("b1"))),
                vec![],
                Some("([192.0.2.20]:udp:80) BFD_CHECK - BFD b1 not configured".into()),
            ),
            (
                "read after the checker",
                format!("{}{}", vs(&check("b1")), bfd("b1", "")),
                vec![],
                Some("([192.0.2.20]:udp:80) BFD_CHECK - BFD b1 not configured".into()),
            ),
            (
                "unknown",
                format!("{}{}", bfd("b1", ""), vs(&check("b2"))),
                vec![],
                Some("([192.0.2.20]:udp:80) BFD_CHECK - BFD b2 not configured".into()),
            ),
            (
                "twice on one real server",
                format!("{}{}", bfd("b1", ""), vs(&format!("{}{}", check("b1"), check("b1")))),
                vec![Some("b1")],
                Some("([192.0.2.20]:udp:80) BFD_CHECK - RS already monitoring b1".into()),
            ),
            (
                "no name",
                format!("{}{}", bfd("b1", ""), vs(" BFD_CHECK {\n alpha\n }\n")),
                vec![],
                Some("([192.0.2.20]:udp:80) No name has been specified for BFD_CHECKER - skipping".into()),
            ),
            (
                "too long",
                format!("{}{}", bfd(&long, ""), vs(&check(&long))),
                vec![],
                Some(format!("([192.0.2.20]:udp:80) BFD_CHECK - BFD name {long} too long")),
            ),
        ];
        for (what, text, kept, warning) in cases {
            let parsed = parse_str("bfd.conf", &text, &Options::default(), None);
            let names: Vec<Option<&str>> = parsed.config.virtual_servers[0].real_servers[0]
                .checkers
                .iter()
                .map(|k| match &k.kind {
                    CheckKind::Bfd(b) => b.name.as_deref(),
                    _ => Some("not a BFD_CHECK"),
                })
                .collect();
            assert_eq!(names, kept, "{what}");
            let warnings: Vec<&str> = parsed
                .diagnostics
                .iter()
                .filter(|d| d.severity >= Severity::Warning && d.message.contains("BFD"))
                .map(|d| d.message.as_str())
                .collect();
            assert_eq!(warnings, warning.iter().map(String::as_str).collect::<Vec<_>>(), "{what}");
        }
    }

    #[test]
    fn bfd_check_alpha_is_its_own() {
        let text = "bfd_instance b1 {\n neighbor_ip 192.0.2.4\n}\nvirtual_server 192.0.2.10 80 {\n real_server 192.0.2.20 80 {\n alpha\n BFD_CHECK {\n name b1\n }\n BFD_CHECK {\n name b1\n alpha off\n }\n }\n real_server 192.0.2.21 80 {\n BFD_CHECK {\n name b1\n alpha\n alpha maybe\n }\n }\n}\n";
        let parsed = parse_str("bfd.conf", text, &Options::default(), None);
        let alphas: Vec<Option<bool>> = parsed.config.virtual_servers[0]
            .real_servers
            .iter()
            .flat_map(|rs| rs.checkers.iter())
            .filter_map(|k| match &k.kind {
                CheckKind::Bfd(b) => Some(b.alpha),
                _ => None,
            })
            .collect();
        // The second checker of the first server is dropped (already monitoring b1).
        assert_eq!(alphas, [None, Some(true)]);
    }

    #[test]
    fn masks_read_as_inet_aton_reads_them() {
        let ok = |t: &str| inet_aton(t).map(|a| a.to_string());
        assert_eq!(ok("255.255.255.0").as_deref(), Some("255.255.255.0"));
        assert_eq!(ok("24").as_deref(), Some("0.0.0.24"));
        assert_eq!(ok("0").as_deref(), Some("0.0.0.0"));
        assert_eq!(ok("256").as_deref(), Some("0.0.1.0"));
        assert_eq!(ok("0xff.0377.1").as_deref(), Some("255.255.0.1"));
        assert_eq!(ok("4294967295").as_deref(), Some("255.255.255.255"));
        for bad in ["4294967296", "1.2.3.256", "1.2.3.4.5", "", "a", "1..2", "2001:db8::", "08"] {
            assert_eq!(inet_aton(bad), None, "{bad}");
        }
    }

    #[test]
    fn empty_dns_labels_as_keepalived_finds_them() {
        for ok in ["example.org", "example.org.", ".", "ab.c"] {
            assert!(!dns_name_has_empty_label(ok), "{ok}");
        }
        for bad in ["a..b", ".example.org", "example..org", "..", "*.example.org", "a.b."] {
            assert!(dns_name_has_empty_label(bad), "{bad}");
        }
    }
}
