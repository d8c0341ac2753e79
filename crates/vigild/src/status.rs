//! What `vigilctl status` shows, the metrics count and the dumps write: one document of the
//! daemon's state, built on request from the subsystems.  Its JSON form is the status API
//! (docs/status.md; docs/status.schema.json checks it).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::SystemTime;

use serde::Serialize;
use vigil_check::{Plan, Status};
use vigil_ipvs::reconcile::{RsId, Table};
use vigil_ipvs::Forwarding;

use crate::maintenance::{Maintenance, Runtime};

/// What a reload did to the instances, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Reloaded {
    /// Unchanged: state, timers and VIPs untouched.
    pub kept: Vec<String>,
    /// Changed in place, in the same state (priority, advert interval, VIPs, ...).
    pub changed: Vec<String>,
    /// Changed: resigned and started again.
    pub restarted: Vec<String>,
    /// New.
    pub started: Vec<String>,
    /// Gone from the configuration: resigned.
    pub stopped: Vec<String>,
}

/// What bringing the table to a configuration took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Applied {
    /// Netlink writes issued.
    pub writes: usize,
    /// Writes the kernel refused.
    pub failed: usize,
    /// Time from the reload's start to the last write's acknowledgement.
    pub ms: f64,
}

/// Seconds since the Unix epoch, to the millisecond.
pub fn unix_time(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map(|d| (d.as_millis() as f64) / 1000.0).unwrap_or(0.0)
}

/// The whole document.
#[derive(Clone, Debug, Serialize)]
pub struct Document {
    pub daemon: Daemon,
    pub vrrp: Vec<InstanceStatus>,
    /// Every `bfd_instance`'s session.
    pub bfd: Vec<BfdStatus>,
    pub virtual_servers: Vec<VsStatus>,
    /// The IPVS services Vigil manages as the kernel holds them; `None` without the checkers
    /// (`-P`, or no IPVS in the kernel).
    pub ipvs: Option<Vec<IpvsService>>,
    /// The route announcements (docs/scale-out.md); `None` without an announcement file.
    pub announce: Option<Vec<AnnounceStatus>>,
}

/// One announced VIP.
#[derive(Clone, Debug, Serialize)]
pub struct AnnounceStatus {
    pub vip: IpAddr,
    /// Whether its route is in the announcement table.
    pub announced: bool,
    /// `healthy`, `unchecked`, `drained`, `quorum`, `no-checks` or `stopping`.
    pub reason: &'static str,
    pub metric: u32,
    /// The virtual servers without their quorum, when that is the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lost_quorum: Vec<String>,
}

impl From<&crate::announce::policy::Verdict> for AnnounceStatus {
    fn from(v: &crate::announce::policy::Verdict) -> AnnounceStatus {
        use crate::announce::policy::Reason;
        let lost_quorum = match &v.reason {
            Reason::Quorum(lost) => lost.clone(),
            _ => Vec::new(),
        };
        AnnounceStatus {
            vip: v.vip,
            announced: v.reason.announced(),
            reason: v.reason.word(),
            metric: v.metric,
            lost_quorum,
        }
    }
}

/// One BFD session (`bfd_instance`).
#[derive(Clone, Debug, Serialize)]
pub struct BfdStatus {
    pub name: String,
    pub neighbor: IpAddr,
    /// RFC 5880's state: AdminDown, Down, Init or Up.
    pub state: String,
    /// The remote system's state as last heard.
    pub remote_state: String,
    /// What VRRP's `track_bfd` and the checkers' `BFD_CHECK` act on: Up as last reported.
    pub up: bool,
    pub local_discriminator: u32,
    pub remote_discriminator: u32,
    /// The negotiated transmit interval now in use.
    pub tx_interval_ms: f64,
    /// The Detection Time, while the remote system is heard.
    pub detection_time_ms: Option<f64>,
    pub received: u64,
    pub sent: u64,
    pub discarded: u64,
    /// Times the session came Up, and fell from Up.
    pub went_up: u64,
    pub went_down: u64,
}

/// The daemon itself.
#[derive(Clone, Debug, Serialize)]
pub struct Daemon {
    pub version: String,
    pub pid: u32,
    pub started: f64,
    pub config_file: String,
    pub reloads_ok: u64,
    pub reloads_failed: u64,
    pub last_reload: Option<ReloadOutcome>,
    /// IPVS writes made to undo changes made to our services behind our back.
    pub ipvs_repairs: u64,
    /// BFD packets no session took, by reason (malformed, unknown_discriminator,
    /// unknown_neighbor, session).
    pub bfd_dropped: BTreeMap<String, u64>,
}

/// What one reload did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ReloadOutcome {
    pub at: f64,
    /// Whether the new configuration is running, all of it.
    pub ok: bool,
    /// Errors that kept the old configuration, each `file:line: message`; or, with `vrrp`
    /// set, what kept a part on it.
    pub errors: Vec<String>,
    pub vrrp: Option<Reloaded>,
    pub ipvs: Option<Applied>,
    /// From the signal or request to the last change applied.
    pub ms: f64,
}

/// One vrrp_instance.
#[derive(Clone, Debug, Serialize)]
pub struct InstanceStatus {
    pub name: String,
    pub interface: String,
    pub vrid: u8,
    pub version: u8,
    /// MASTER, BACKUP, FAULT or INIT.
    pub state: String,
    /// As configured.
    pub priority: u8,
    /// With tracking weights.
    pub effective_priority: u8,
    /// The current Master's address: ours while MASTER, the last sender heard while BACKUP.
    pub master: Option<IpAddr>,
    pub vips: Vec<IpAddr>,
    /// RFC 5798 Accept_Mode: false with `vrrp_strict` or `no_accept` on a non-owner (where
    /// keepalived would drop traffic addressed to the VIPs; Vigil does not).
    pub accept_mode: bool,
    /// When the current state was entered.
    pub since: f64,
    pub last_transition: Option<Transition>,
    pub adverts_sent: u64,
    pub adverts_received: u64,
    pub became_master: u64,
    pub released_master: u64,
    pub transitions: u64,
    /// VIPs put back after something else removed them while MASTER.
    pub vips_restored: u64,
    /// Adverts heard from another router while MASTER (two MASTERs at once).
    pub conflicts: u64,
    /// Packets dropped, by reason.
    pub drops: BTreeMap<String, u64>,
    /// Every other speaker heard on this VRID.
    pub peers: Vec<PeerSeen>,
    /// Why `effective_priority` is what it is: each tracked item's part, in the
    /// configuration's order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub priority_terms: Vec<PriorityTerm>,
    /// The `use_vmac` interface it runs on (for the SIGUSR1 dump; not in the status).
    #[serde(skip)]
    pub vmac: Option<String>,
}

/// One tracked item's part in an instance's priority.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PriorityTerm {
    /// `interface eth1`, `script chk_web`, `file tf`.
    pub tracker: String,
    /// What it adds now (0 when its weight does not apply in its state).
    pub adds: i64,
    /// `up` or `down`.
    pub state: String,
}

/// A state change.
#[derive(Clone, Debug, Serialize)]
pub struct Transition {
    pub at: f64,
    pub from: String,
    pub to: String,
    pub reason: String,
}

/// A VRRP speaker heard.
#[derive(Clone, Debug, Serialize)]
pub struct PeerSeen {
    pub address: IpAddr,
    /// The priority of its last advert; `None` for a unicast peer never heard.
    pub priority: Option<u8>,
    pub last_seen: Option<f64>,
    /// How its VRRPv3 checksum is computed: `pseudo-header` (RFC 5798 5.2.8, the default),
    /// `v3_checksum_as_v2` (IPv4, the message alone) or `old_unicast_checksum` (the multicast
    /// group's pseudo-header on a unicast advert); `None` for VRRPv2 and peers not heard.
    pub checksum: Option<&'static str>,
}

/// A virtual server and its real servers.
#[derive(Clone, Debug, Serialize)]
pub struct VsStatus {
    /// keepalived's name: `[10.0.0.1]:tcp:80`, `FWM 1`, `[group]`.
    pub name: String,
    pub real_servers: Vec<RsStatus>,
    /// For the metrics' histograms, by checker keyword; not in the JSON.
    #[serde(skip)]
    pub latencies: Vec<(&'static str, vigil_check::status::Latencies)>,
}

/// A real server.
#[derive(Clone, Debug, Serialize)]
pub struct RsStatus {
    pub name: String,
    pub up: bool,
    /// The weight it has (configured, or set by a dynamic checker).
    pub weight: i32,
    /// Since when it is up or down.
    pub since: f64,
    pub checks: Vec<CheckView>,
    /// The maintenance that applies to it (`vigilctl maintenance`: its own entry, its
    /// virtual server's or the director's); absent when none. Its checks still run and are
    /// shown in `up` and `checks`, but its place in the table follows this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<Maintenance>,
    /// The weight set at run time (`vigilctl weight`), in place of `weight`; absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_override: Option<i32>,
}

/// A checker of a real server.
#[derive(Clone, Debug, Serialize)]
pub struct CheckView {
    pub kind: String,
    pub name: String,
    pub up: bool,
    pub runs: u64,
    pub last: Option<LastCheck>,
}

/// A checker's last attempt.
#[derive(Clone, Debug, Serialize)]
pub struct LastCheck {
    pub at: f64,
    pub latency_ms: f64,
    /// `ok`, or why it failed in keepalived's words.
    pub result: String,
}

/// An IPVS service.
#[derive(Clone, Debug, Serialize)]
pub struct IpvsService {
    /// keepalived's form: `[10.0.0.1]:tcp:80` or `FWM 1`.
    pub service: String,
    pub scheduler: String,
    /// Persistence timeout in seconds, when persistent.
    pub persistence: Option<u32>,
    pub destinations: Vec<IpvsDest>,
}

/// An IPVS destination.
#[derive(Clone, Debug, Serialize)]
pub struct IpvsDest {
    pub address: IpAddr,
    pub port: u16,
    /// `masq`, `route`, `tunnel`, `local` or `bypass`.
    pub forwarding: String,
    pub weight: i32,
}

/// The checkers' part of the document, with the maintenance entries and overrides that apply.
pub fn virtual_servers(plan: &Plan, status: &Status) -> Vec<VsStatus> {
    virtual_servers_with(plan, status, &crate::maintenance::store().resolved())
}

/// The checkers' part of the document, `runtime` being what applies to each real server.
pub fn virtual_servers_with(plan: &Plan, status: &Status, runtime: &BTreeMap<RsId, Runtime>) -> Vec<VsStatus> {
    let checks = status.checks();
    // By name, as the groups are: the first virtual server of a name shows its histograms.
    let mut latencies: BTreeMap<Arc<str>, Vec<(&'static str, vigil_check::status::Latencies)>> = BTreeMap::new();
    for g in status.latencies() {
        latencies.entry(g.vs_name).or_default().push((g.kind, g.latencies));
    }
    let mut out: Vec<VsStatus> = Vec::new();
    let mut current = None;
    for (server, (health, since)) in plan.servers.iter().zip(status.servers_since()) {
        let id = server.id();
        let applies = runtime.get(&RsId { vs: id.vs, rs: id.rs });
        let rs = RsStatus {
            name: server.name.to_string(),
            up: health.up,
            weight: health.weight,
            since: unix_time(since),
            checks: checks
                .get(server.checks())
                .unwrap_or_default()
                .iter()
                .zip(plan.checks.get(server.checks()).unwrap_or_default())
                .map(|(c, spec)| CheckView {
                    kind: spec.kind.keyword().to_string(),
                    name: spec.name(server).to_string(),
                    up: c.up,
                    runs: c.runs,
                    last: c.last.as_ref().map(|l| LastCheck {
                        at: unix_time(l.at),
                        latency_ms: l.latency.as_secs_f64() * 1000.0,
                        result: match &l.result {
                            Ok(()) => "ok".into(),
                            Err(e) => e.to_string(),
                        },
                    }),
                })
                .collect(),
            maintenance: applies.and_then(|r| r.maintenance.clone()),
            weight_override: applies.and_then(|r| r.weight),
        };
        match out.last_mut() {
            Some(vs) if current == Some(id.vs) => vs.real_servers.push(rs),
            _ => out.push(VsStatus {
                name: plan.vs_name(server).to_string(),
                real_servers: vec![rs],
                latencies: latencies.remove(plan.vs_name(server)).unwrap_or_default(),
            }),
        }
        current = Some(id.vs);
    }
    out
}

/// The IPVS part of the document.
pub fn ipvs(table: &Table) -> Vec<IpvsService> {
    table
        .services
        .iter()
        .map(|(key, svc)| IpvsService {
            service: key.to_string(),
            scheduler: svc.service.scheduler.clone(),
            persistence: (svc.service.flags.0 & vigil_ipvs::ServiceFlags::PERSISTENT != 0)
                .then_some(svc.service.timeout),
            destinations: svc
                .dests
                .values()
                .map(|d| IpvsDest {
                    address: d.key.addr,
                    port: d.key.port,
                    forwarding: match d.forwarding {
                        Forwarding::Masq => "masq",
                        Forwarding::Local => "local",
                        Forwarding::Tunnel => "tunnel",
                        Forwarding::DirectRoute => "route",
                        Forwarding::Bypass => "bypass",
                    }
                    .into(),
                    weight: d.weight,
                })
                .collect(),
        })
        .collect()
}

/// The one-line summary for systemd's STATUS: `2 MASTER, 1 BACKUP; 18/20 real servers up`,
/// and the first error of a failed reload.
pub fn summary(vrrp: &[InstanceStatus], up: usize, servers: usize, failed: Option<&ReloadOutcome>) -> String {
    let mut parts: Vec<String> = Vec::new();
    if !vrrp.is_empty() {
        let count = |s: &str| vrrp.iter().filter(|i| i.state == s).count();
        let states: Vec<String> = ["MASTER", "BACKUP", "FAULT", "INIT"]
            .iter()
            .filter_map(|s| Some(count(s)).filter(|n| *n > 0).map(|n| format!("{n} {s}")))
            .collect();
        parts.push(states.join(", "));
    }
    if servers > 0 {
        parts.push(format!("{up}/{servers} real servers up"));
    }
    if let Some(r) = failed {
        parts.push(format!("last reload failed: {}", r.errors.first().map_or("", String::as_str)));
    }
    if parts.is_empty() {
        "running".into()
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
#[path = "../tests/support/schema.rs"]
mod schema;

#[cfg(test)]
pub(crate) mod tests {
    use serde_json::Value;

    use super::*;

    use super::schema::violations;

    /// A document with something in every part.
    pub(crate) fn sample() -> Document {
        let text = "virtual_server 10.0.0.3 80 {\n lvs_sched rr\n lvs_method DR\n protocol TCP\n \
                    real_server 10.0.1.1 80 {\n  TCP_CHECK {\n   connect_timeout 1\n  }\n }\n \
                    real_server 10.0.1.2 80 {\n }\n}\n";
        let parsed = vigil_config::parse_str("keepalived.conf", text, &vigil_config::Options::default(), None);
        let plan = vigil_check::plan(&parsed.config);
        let board = Status::new(&plan, SystemTime::UNIX_EPOCH);
        let mut servers = virtual_servers_with(&plan, &board, &BTreeMap::new());
        servers.push(VsStatus {
            name: "FWM 1".into(),
            real_servers: vec![RsStatus {
                name: "[10.0.1.3]:tcp:80".into(),
                up: false,
                weight: 0,
                since: 1.5,
                checks: vec![CheckView {
                    kind: "HTTP_GET".into(),
                    name: "[10.0.1.3]:tcp:80".into(),
                    up: false,
                    runs: 3,
                    last: Some(LastCheck { at: 2.0, latency_ms: 1.25, result: "connection refused".into() }),
                }],
                maintenance: None,
                weight_override: None,
            }],
            latencies: vec![("HTTP_GET", Default::default())],
        });
        let mut table = Table::default();
        let key =
            vigil_ipvs::ServiceKey::Addr { protocol: vigil_ipvs::Protocol::Tcp, addr: [10, 0, 0, 3].into(), port: 80 };
        let mut service = vigil_ipvs::Service::new(key, "rr");
        service.flags.0 |= vigil_ipvs::ServiceFlags::PERSISTENT;
        service.timeout = 300;
        table.apply(&vigil_ipvs::Op::AddService(service));
        let dest = vigil_ipvs::Dest::new(
            vigil_ipvs::DestKey { addr: [10, 0, 1, 1].into(), port: 80 },
            Forwarding::DirectRoute,
            1,
        );
        table.apply(&vigil_ipvs::Op::AddDest(key, dest));
        let instance = InstanceStatus {
            name: "VI_1".into(),
            interface: "eth0".into(),
            vrid: 51,
            version: 2,
            state: "BACKUP".into(),
            priority: 100,
            effective_priority: 90,
            master: Some([192, 0, 2, 2].into()),
            vips: vec![[192, 0, 2, 100].into()],
            accept_mode: true,
            since: 10.0,
            last_transition: Some(Transition {
                at: 10.0,
                from: "INIT".into(),
                to: "BACKUP".into(),
                reason: "Startup".into(),
            }),
            adverts_sent: 0,
            adverts_received: 12,
            became_master: 0,
            released_master: 0,
            transitions: 1,
            vips_restored: 0,
            conflicts: 0,
            drops: [("bad_ttl".to_string(), 2)].into_iter().collect(),
            peers: vec![PeerSeen {
                address: [192, 0, 2, 2].into(),
                priority: Some(150),
                last_seen: Some(11.0),
                checksum: Some("pseudo-header"),
            }],
            priority_terms: vec![PriorityTerm { tracker: "script chk_web".into(), adds: -10, state: "down".into() }],
            vmac: None,
        };
        let failed =
            ReloadOutcome { at: 12.0, ok: false, errors: vec!["k.conf:3:1: error: ...".into()], ..Default::default() };
        Document {
            daemon: Daemon {
                version: "0.1.0".into(),
                pid: 1,
                started: 1.0,
                config_file: "/etc/keepalived/keepalived.conf".into(),
                reloads_ok: 1,
                reloads_failed: 1,
                last_reload: Some(failed),
                ipvs_repairs: 2,
                bfd_dropped: [("malformed".to_string(), 1)].into_iter().collect(),
            },
            vrrp: vec![instance],
            bfd: vec![BfdStatus {
                name: "gw".into(),
                neighbor: [192, 0, 2, 254].into(),
                state: "Up".into(),
                remote_state: "Up".into(),
                up: true,
                local_discriminator: 0x0101_0101,
                remote_discriminator: 0x0202_0202,
                tx_interval_ms: 10.0,
                detection_time_ms: Some(30.0),
                received: 100,
                sent: 101,
                discarded: 1,
                went_up: 1,
                went_down: 0,
            }],
            virtual_servers: servers,
            ipvs: Some(ipvs(&table)),
            announce: Some(vec![AnnounceStatus {
                vip: [10, 0, 0, 1].into(),
                announced: false,
                reason: "quorum",
                metric: 0,
                lost_quorum: vec!["[10.0.0.1]:tcp:80".into()],
            }]),
        }
    }

    #[test]
    fn the_document_follows_its_schema() {
        let schema: Value = serde_json::from_str(include_str!("../../../docs/status.schema.json")).expect("the schema");
        let mut doc = sample();
        let mut out = Vec::new();
        violations(&schema, &serde_json::to_value(&doc).expect("serializable"), "$", &mut out);
        let ok = ReloadOutcome {
            ok: true,
            vrrp: Some(Reloaded::default()),
            ipvs: Some(Applied::default()),
            ..Default::default()
        };
        doc.daemon.last_reload = Some(ok);
        doc.ipvs = None;
        violations(&schema, &serde_json::to_value(&doc).expect("serializable"), "$", &mut out);
        assert!(out.is_empty(), "{out:#?}");
        // The checker caught what it should: a missing field is a violation.
        let mut broken = serde_json::to_value(&doc).expect("serializable");
        broken["vrrp"][0].as_object_mut().expect("an object").remove("state");
        violations(&schema, &broken, "$", &mut out);
        assert_eq!(out, ["$.vrrp[0]: no state"]);
    }

    #[test]
    fn maintenance_and_overrides_show_on_their_real_server_only() {
        let text = "virtual_server 10.0.0.3 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n }\n \
                    real_server 10.0.1.2 80 {\n }\n}\n";
        let parsed = vigil_config::parse_str("keepalived.conf", text, &vigil_config::Options::default(), None);
        let plan = vigil_check::plan(&parsed.config);
        let board = Status::new(&plan, SystemTime::UNIX_EPOCH);
        let entry = Maintenance {
            target: crate::maintenance::Target::Director,
            mode: crate::maintenance::Mode::Remove,
            reason: Some("move".into()),
            since: 1.0,
            expires: None,
        };
        let runtime = BTreeMap::from([(RsId { vs: 0, rs: 1 }, Runtime { maintenance: Some(entry), weight: Some(4) })]);
        let doc = serde_json::to_value(virtual_servers_with(&plan, &board, &runtime)).expect("serializable");
        let servers = &doc[0]["real_servers"];
        assert!(servers[0].get("maintenance").is_none() && servers[0].get("weight_override").is_none());
        assert_eq!(
            servers[1]["maintenance"],
            serde_json::json!({"target": {"scope": "director"}, "mode": "remove", "reason": "move", "since": 1.0, "expires": null})
        );
        assert_eq!(servers[1]["weight_override"], 4);
    }

    #[test]
    fn the_summary_reads_like_the_issue_says() {
        let doc = sample();
        assert_eq!(summary(&doc.vrrp, 1, 2, None), "1 BACKUP; 1/2 real servers up");
        let failed = doc.daemon.last_reload.as_ref();
        assert_eq!(summary(&[], 0, 0, failed), "last reload failed: k.conf:3:1: error: ...");
        assert_eq!(summary(&[], 0, 0, None), "running");
    }
}
