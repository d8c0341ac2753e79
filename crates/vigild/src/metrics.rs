//! Prometheus metrics over HTTP (hyper), off unless `--metrics` names an address: every
//! scrape asks the daemon for its status document and renders it in the Prometheus text format
//! (version 0.0.4) with the `prometheus-client` crate. Two sets of names come out of one
//! document: Vigil's own (`vigil_*`, [`vigil`]) and those of the keepalived exporters
//! (`keepalived_*`, [`keepalived`]), so dashboards and alerts written for keepalived work
//! unchanged. docs/status.md lists both.

mod keepalived;
#[cfg(test)]
mod tests;
mod vigil;

use std::net::SocketAddr;

use anyhow::Context;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper::{Request as HttpRequest, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{prometheus_text, DescriptorEncoder, EncodeGaugeValue, EncodeMetric, MetricEncoder};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use crate::control::{Command, Request};
use crate::status::Document;

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
            hyper::header::HeaderValue::from_static(prometheus_text::CONTENT_TYPE),
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

/// The document in the Prometheus text format.
pub fn render(doc: &Document) -> String {
    // A collector must own what it encodes: the registry keeps it for later scrapes.
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Snapshot(doc.clone())));
    let mut text = String::new();
    prometheus_text::encode(&mut text, &registry)
        .expect("writing to a String never fails, and the collector only writes to the encoder");
    text
}

/// One status document, encoded as it is on every scrape.
#[derive(Debug)]
struct Snapshot(Document);

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        vigil::encode(&self.0, &mut encoder)?;
        keepalived::encode(&self.0, &mut encoder)
    }
}

/// A series' labels, in the order they are written.
type Labels = Vec<(&'static str, String)>;

/// Writes a gauge family: its HELP and TYPE lines, then one sample per series.
fn gauges<V: EncodeGaugeValue>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    series: impl IntoIterator<Item = (Labels, V)>,
) -> std::fmt::Result {
    family(encoder, name, help, MetricType::Gauge, series.into_iter().map(|(l, v)| (l, ConstGauge::new(v))))
}

/// Writes a counter family. `name` is the full name, `_total` included: the library adds the
/// suffix itself, so it is taken off here.
fn counters(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    series: impl IntoIterator<Item = (Labels, u64)>,
) -> std::fmt::Result {
    let base = name.strip_suffix("_total").unwrap_or(name);
    family(encoder, base, help, MetricType::Counter, series.into_iter().map(|(l, v)| (l, ConstCounter::new(v))))
}

/// Writes an untyped family: for the names an exporter declared as counters without the
/// `_total` suffix, which the library would add to a counter.
fn untyped(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    series: impl IntoIterator<Item = (Labels, u64)>,
) -> std::fmt::Result {
    family(encoder, name, help, MetricType::Unknown, series.into_iter().map(|(l, v)| (l, Untyped(v))))
}

/// Writes a family of `kind`: its HELP and TYPE lines, even with no series (as for a daemon
/// without VRRP instances), then each series in the order given.
fn family<M: EncodeMetric>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    series: impl Iterator<Item = (Labels, M)>,
) -> std::fmt::Result {
    let mut metric = encoder.encode_descriptor(name, help, None, kind)?;
    for (labels, value) in series {
        value.encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

/// A sample with no type: written as a gauge's value, declared `untyped`.
#[derive(Debug)]
struct Untyped(u64);

impl EncodeMetric for Untyped {
    fn encode(&self, mut encoder: MetricEncoder) -> std::fmt::Result {
        encoder.encode_gauge(&self.0)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Unknown
    }
}

/// A histogram family: per series, the non-cumulative count of each bucket with its upper
/// bound, the count above the last bound, and the sum.
fn histograms<'a>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    series: impl IntoIterator<Item = (Labels, Histogram<'a>)>,
) -> std::fmt::Result {
    family(encoder, name, help, MetricType::Histogram, series.into_iter())
}

/// A histogram's data, borrowed from the document.
#[derive(Debug)]
struct Histogram<'a> {
    bounds: &'a [f64],
    buckets: &'a [u64],
    over: u64,
    sum: f64,
}

impl EncodeMetric for Histogram<'_> {
    fn encode(&self, mut encoder: MetricEncoder) -> std::fmt::Result {
        let buckets: Vec<(f64, u64)> = self.bounds.iter().copied().zip(self.buckets.iter().copied()).collect();
        let count = self.buckets.iter().sum::<u64>() + self.over;
        encoder.encode_histogram::<prometheus_client::encoding::NoLabelSet>(self.sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}
