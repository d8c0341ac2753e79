//! Vigil's own metrics (`vigil_*`): names, types and labels as docs/status.md lists them.

use prometheus_client::encoding::DescriptorEncoder;
use vigil_check::status::LATENCY_BOUNDS;

use super::{counters, gauges, histograms, Histogram, Labels};
use crate::status::{BfdStatus, Document, InstanceStatus, RsStatus, VsStatus};

/// The states `vigil_vrrp_state` has a series for, each instance in one of them.
const STATES: [&str; 4] = ["INIT", "BACKUP", "MASTER", "FAULT"];

/// A per-instance counter.
type InstanceCounter = fn(&InstanceStatus) -> u64;

/// The states `vigil_bfd_session_state` has a series for (RFC 5880).
const BFD_STATES: [&str; 4] = ["AdminDown", "Down", "Init", "Up"];

/// A per-session counter.
type SessionCounter = fn(&BfdStatus) -> u64;

/// Writes every `vigil_*` family.
pub(super) fn encode(doc: &Document, encoder: &mut DescriptorEncoder) -> std::fmt::Result {
    let instance = |i: &InstanceStatus| -> Labels { vec![("instance", i.name.clone())] };
    gauges::<u32>(
        encoder,
        "vigil_vrrp_state",
        "1 for the state the vrrp_instance is in.",
        doc.vrrp.iter().flat_map(|i| {
            STATES.iter().map(move |s| {
                let mut labels = instance(i);
                labels.push(("state", (*s).to_string()));
                (labels, (i.state == *s).into())
            })
        }),
    )?;
    gauges::<u32>(
        encoder,
        "vigil_vrrp_priority",
        "Configured priority.",
        doc.vrrp.iter().map(|i| (instance(i), i.priority.into())),
    )?;
    gauges::<u32>(
        encoder,
        "vigil_vrrp_effective_priority",
        "Priority with tracking weights.",
        doc.vrrp.iter().map(|i| (instance(i), i.effective_priority.into())),
    )?;
    let per_instance: [(&str, &str, InstanceCounter); 6] = [
        ("vigil_vrrp_transitions_total", "State changes.", |i| i.transitions),
        ("vigil_vrrp_adverts_sent_total", "Adverts sent.", |i| i.adverts_sent),
        ("vigil_vrrp_adverts_received_total", "Adverts received.", |i| i.adverts_received),
        ("vigil_vrrp_became_master_total", "Times the instance became MASTER.", |i| i.became_master),
        ("vigil_vrrp_vips_restored_total", "VIPs re-added after being removed behind our back.", |i| i.vips_restored),
        ("vigil_vrrp_conflicts_total", "Adverts heard from another router while MASTER.", |i| i.conflicts),
    ];
    for (name, help, value) in per_instance {
        counters(encoder, name, help, doc.vrrp.iter().map(|i| (instance(i), value(i))))?;
    }
    counters(
        encoder,
        "vigil_vrrp_dropped_total",
        "VRRP packets dropped, by reason.",
        doc.vrrp.iter().flat_map(|i| {
            i.drops.iter().map(move |(reason, n)| {
                let mut labels = instance(i);
                labels.push(("reason", reason.clone()));
                (labels, *n)
            })
        }),
    )?;
    let session = |b: &BfdStatus| -> Labels { vec![("session", b.name.clone()), ("neighbor", b.neighbor.to_string())] };
    gauges::<u32>(
        encoder,
        "vigil_bfd_session_state",
        "1 for the state the bfd_instance's session is in.",
        doc.bfd.iter().flat_map(|b| {
            BFD_STATES.iter().map(move |s| {
                let mut labels = session(b);
                labels.push(("state", (*s).to_string()));
                (labels, (b.state == *s).into())
            })
        }),
    )?;
    gauges(
        encoder,
        "vigil_bfd_tx_interval_seconds",
        "The transmit interval in use (negotiated while Up).",
        doc.bfd.iter().map(|b| (session(b), b.tx_interval_ms / 1000.0)),
    )?;
    gauges(
        encoder,
        "vigil_bfd_detection_time_seconds",
        "The Detection Time, while the remote system is heard.",
        doc.bfd.iter().filter_map(|b| b.detection_time_ms.map(|ms| (session(b), ms / 1000.0))),
    )?;
    counters(
        encoder,
        "vigil_bfd_dropped_total",
        "BFD packets no session took, by reason.",
        doc.daemon.bfd_dropped.iter().map(|(reason, n)| (vec![("reason", reason.clone())], *n)),
    )?;
    let per_session: [(&str, &str, SessionCounter); 5] = [
        ("vigil_bfd_packets_sent_total", "Control packets sent.", |b| b.sent),
        ("vigil_bfd_packets_received_total", "Control packets received.", |b| b.received),
        ("vigil_bfd_packets_discarded_total", "Control packets the session discarded.", |b| b.discarded),
        ("vigil_bfd_up_total", "Times the session came Up.", |b| b.went_up),
        ("vigil_bfd_down_total", "Times the session fell from Up.", |b| b.went_down),
    ];
    for (name, help, value) in per_session {
        counters(encoder, name, help, doc.bfd.iter().map(|b| (session(b), value(b))))?;
    }
    let servers = || doc.virtual_servers.iter().flat_map(|vs| vs.real_servers.iter().map(move |rs| (vs, rs)));
    let server = |vs: &VsStatus, rs: &RsStatus| -> Labels { vec![("vs", vs.name.clone()), ("rs", rs.name.clone())] };
    gauges::<u32>(
        encoder,
        "vigil_realserver_up",
        "1 while the real server is up.",
        servers().map(|(vs, rs)| (server(vs, rs), rs.up.into())),
    )?;
    gauges(
        encoder,
        "vigil_realserver_weight",
        "The real server's weight.",
        servers().map(|(vs, rs)| (server(vs, rs), rs.weight)),
    )?;
    histograms(
        encoder,
        "vigil_check_latency_seconds",
        "How long the checks' attempts took, by virtual server and checker.",
        doc.virtual_servers.iter().flat_map(|vs| {
            vs.latencies.iter().map(|(kind, h)| {
                let labels = vec![("vs", vs.name.clone()), ("check", kind.to_string())];
                let histogram =
                    Histogram { bounds: &LATENCY_BOUNDS, buckets: &h.buckets, over: h.over, sum: h.sum.as_secs_f64() };
                (labels, histogram)
            })
        }),
    )?;
    gauges::<u32>(
        encoder,
        "vigil_announced",
        "1 while the VIP's route is in the announcement table (docs/scale-out.md).",
        doc.announce.iter().flatten().map(|a| (vec![("vip", a.vip.to_string())], a.announced.into())),
    )?;
    let d = &doc.daemon;
    counters(
        encoder,
        "vigil_ipvs_repairs_total",
        "IPVS writes that undid changes made to vigild's services behind its back.",
        [(Labels::new(), d.ipvs_repairs)],
    )?;
    counters(
        encoder,
        "vigil_reloads_total",
        "Configuration reloads, by outcome.",
        [
            (vec![("outcome", "ok".to_string())], d.reloads_ok),
            (vec![("outcome", "failed".to_string())], d.reloads_failed),
        ],
    )?;
    let ok = d.last_reload.as_ref().is_none_or(|r| r.ok);
    gauges::<u32>(
        encoder,
        "vigil_config_last_reload_successful",
        "1 when the last reload succeeded (or none was tried).",
        [(Labels::new(), ok.into())],
    )
}
