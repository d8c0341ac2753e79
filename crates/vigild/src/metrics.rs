//! Prometheus metrics over HTTP (hyper), off unless `--metrics` names an address: every
//! scrape asks the daemon for its status document and renders it in the text exposition
//! format.

use std::fmt::Write as _;
use std::net::SocketAddr;

use anyhow::Context;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper::{Request as HttpRequest, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use vigil_check::status::LATENCY_BOUNDS;

use crate::control::{Command, Request};
use crate::status::{Document, InstanceStatus};

/// Serves `/metrics` on `addr` until the runtime ends.
pub async fn serve(addr: SocketAddr, requests: mpsc::Sender<Request>) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr).await.with_context(|| format!("metrics: listening on {addr}"))?;
    tracing::info!("Serving metrics on http://{addr}/metrics");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let requests = requests.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: HttpRequest<hyper::body::Incoming>| {
                    let requests = requests.clone();
                    async move { Ok::<_, std::convert::Infallible>(respond(req.uri().path(), &requests).await) }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    Ok(())
}

async fn respond(path: &str, requests: &mpsc::Sender<Request>) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        );
        r
    };
    if path != "/metrics" {
        return reply(StatusCode::NOT_FOUND, "see /metrics\n".into());
    }
    let (tx, rx) = oneshot::channel();
    if requests.send(Request { command: Command::Metrics, reply: tx }).await.is_err() {
        return reply(StatusCode::SERVICE_UNAVAILABLE, "stopping\n".into());
    }
    match rx.await {
        Ok(body) => reply(StatusCode::OK, body),
        Err(_) => reply(StatusCode::SERVICE_UNAVAILABLE, "no answer\n".into()),
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Writes a metric family's HELP and TYPE lines.
fn family(text: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A per-instance number.
type InstanceValue = fn(&InstanceStatus) -> u64;

/// The document in Prometheus' text format.
pub fn render(doc: &Document) -> String {
    let mut text = String::new();
    family(&mut text, "vigil_vrrp_state", "gauge", "1 for the state the vrrp_instance is in.");
    for i in &doc.vrrp {
        for s in ["INIT", "BACKUP", "MASTER", "FAULT"] {
            let _ = writeln!(
                text,
                "vigil_vrrp_state{{instance=\"{}\",state=\"{s}\"}} {}",
                esc(&i.name),
                u8::from(i.state == s)
            );
        }
    }
    let per_instance: [(&str, &str, &str, InstanceValue); 8] = [
        ("vigil_vrrp_priority", "gauge", "Configured priority.", |i| i.priority.into()),
        ("vigil_vrrp_effective_priority", "gauge", "Priority with tracking weights.", |i| i.effective_priority.into()),
        ("vigil_vrrp_transitions_total", "counter", "State changes.", |i| i.transitions),
        ("vigil_vrrp_adverts_sent_total", "counter", "Adverts sent.", |i| i.adverts_sent),
        ("vigil_vrrp_adverts_received_total", "counter", "Adverts received.", |i| i.adverts_received),
        ("vigil_vrrp_became_master_total", "counter", "Times the instance became MASTER.", |i| i.became_master),
        ("vigil_vrrp_vips_restored_total", "counter", "VIPs re-added after being removed behind our back.", |i| {
            i.vips_restored
        }),
        ("vigil_vrrp_conflicts_total", "counter", "Adverts heard from another router while MASTER.", |i| i.conflicts),
    ];
    for (name, kind, help, value) in per_instance {
        family(&mut text, name, kind, help);
        for i in &doc.vrrp {
            let _ = writeln!(text, "{name}{{instance=\"{}\"}} {}", esc(&i.name), value(i));
        }
    }
    family(&mut text, "vigil_vrrp_dropped_total", "counter", "VRRP packets dropped, by reason.");
    for i in &doc.vrrp {
        for (reason, n) in &i.drops {
            let _ = writeln!(
                text,
                "vigil_vrrp_dropped_total{{instance=\"{}\",reason=\"{}\"}} {n}",
                esc(&i.name),
                esc(reason)
            );
        }
    }
    let servers = || doc.virtual_servers.iter().flat_map(|vs| vs.real_servers.iter().map(move |rs| (vs, rs)));
    family(&mut text, "vigil_realserver_up", "gauge", "1 while the real server is up.");
    for (vs, rs) in servers() {
        let _ = writeln!(
            text,
            "vigil_realserver_up{{vs=\"{}\",rs=\"{}\"}} {}",
            esc(&vs.name),
            esc(&rs.name),
            u8::from(rs.up)
        );
    }
    family(&mut text, "vigil_realserver_weight", "gauge", "The real server's weight.");
    for (vs, rs) in servers() {
        let _ = writeln!(
            text,
            "vigil_realserver_weight{{vs=\"{}\",rs=\"{}\"}} {}",
            esc(&vs.name),
            esc(&rs.name),
            rs.weight
        );
    }
    let name = "vigil_check_latency_seconds";
    family(&mut text, name, "histogram", "How long the checks' attempts took.");
    for (vs, rs) in servers() {
        for c in &rs.checks {
            let labels = format!("vs=\"{}\",rs=\"{}\",check=\"{}\"", esc(&vs.name), esc(&rs.name), esc(&c.kind));
            let mut cumulative = 0;
            for (bound, n) in LATENCY_BOUNDS.iter().zip(c.latencies.buckets) {
                cumulative += n;
                let _ = writeln!(text, "{name}_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
            }
            cumulative += c.latencies.over;
            let _ = writeln!(text, "{name}_bucket{{{labels},le=\"+Inf\"}} {cumulative}");
            let _ = writeln!(text, "{name}_sum{{{labels}}} {}", c.latencies.sum.as_secs_f64());
            let _ = writeln!(text, "{name}_count{{{labels}}} {cumulative}");
        }
    }
    let d = &doc.daemon;
    family(
        &mut text,
        "vigil_ipvs_repairs_total",
        "counter",
        "IPVS writes that undid changes made to vigild's services behind its back.",
    );
    let _ = writeln!(text, "vigil_ipvs_repairs_total {}", d.ipvs_repairs);
    family(&mut text, "vigil_reloads_total", "counter", "Configuration reloads, by outcome.");
    let _ = writeln!(text, "vigil_reloads_total{{outcome=\"ok\"}} {}", d.reloads_ok);
    let _ = writeln!(text, "vigil_reloads_total{{outcome=\"failed\"}} {}", d.reloads_failed);
    family(
        &mut text,
        "vigil_config_last_reload_successful",
        "gauge",
        "1 when the last reload succeeded (or none was tried).",
    );
    let ok = d.last_reload.as_ref().is_none_or(|r| r.ok);
    let _ = writeln!(text, "vigil_config_last_reload_successful {}", u8::from(ok));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_is_well_formed() {
        let text = render(&crate::status::tests::sample());
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (series, value) = line.rsplit_once(' ').expect("a value");
            assert!(value.parse::<f64>().is_ok(), "{line}");
            assert!(series.starts_with("vigil_"), "{line}");
            assert_eq!(series.matches('{').count(), series.matches('}').count(), "{line}");
        }
        for want in [
            "vigil_vrrp_state{instance=\"VI_1\",state=\"BACKUP\"} 1",
            "vigil_vrrp_effective_priority{instance=\"VI_1\"} 90",
            "vigil_vrrp_dropped_total{instance=\"VI_1\",reason=\"bad_ttl\"} 2",
            "vigil_realserver_up{vs=\"FWM 1\",rs=\"[10.0.1.3]:tcp:80\"} 0",
            "vigil_check_latency_seconds_bucket{vs=\"FWM 1\",rs=\"[10.0.1.3]:tcp:80\",check=\"HTTP_GET\",le=\"+Inf\"} 0",
            "vigil_ipvs_repairs_total 2",
            "vigil_reloads_total{outcome=\"failed\"} 1",
            "vigil_config_last_reload_successful 0",
        ] {
            assert!(text.lines().any(|l| l == want), "no line {want}");
        }
    }
}
