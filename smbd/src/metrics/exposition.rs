//! The Prometheus text exposition of the server's metrics (prometheus-client's encoder):
//! the counters of [`super::Metrics`], and gauges read from the server's tables at scrape
//! time, so the request path pays nothing for them.

use std::collections::BTreeMap;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use super::LATENCY_BOUNDS_US;
use crate::conn::Connection;
use crate::state::ServerContext;

/// `Content-Type` of the exposition.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The server's metrics in the Prometheus text format (version 0.0.4).
pub fn render(ctx: &Arc<ServerContext>) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Scrape(ctx.clone())));
    let mut out = String::new();
    // Writing to a String does not fail.
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry);
    out
}

/// Reads the server at scrape time.
struct Scrape(Arc<ServerContext>);

impl std::fmt::Debug for Scrape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scrape")
    }
}

type Labels = Vec<(&'static str, String)>;

/// Writes one metric family: its descriptor, then each labelled sample.
fn family<V>(
    enc: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    kind: MetricType,
    samples: impl IntoIterator<Item = (Labels, V)>,
) -> Result<(), std::fmt::Error>
where
    V: prometheus_client::encoding::EncodeGaugeValue
        + prometheus_client::encoding::EncodeCounterValue,
{
    let mut m = enc.encode_descriptor(name, help, None, kind)?;
    for (labels, v) in samples {
        let mut sample = m.encode_family(&labels)?;
        match kind {
            MetricType::Counter => sample.encode_counter::<NoLabelSet, _, u64>(&v, None)?,
            _ => sample.encode_gauge(&v)?,
        }
    }
    Ok(())
}

fn one(name: &'static str, value: impl Into<String>) -> Labels {
    vec![(name, value.into())]
}

fn command_name(c: crate::proto::header::Command) -> String {
    c.name()
        .map_or_else(|| format!("{:#x}", c.0), str::to_ascii_lowercase)
}

impl Collector for Scrape {
    fn encode(&self, mut enc: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let ctx = &self.0;
        let m = &ctx.metrics;
        let commands = m.commands();
        family(
            &mut enc,
            "smbd_requests",
            "SMB2 requests answered, by command",
            MetricType::Counter,
            commands
                .iter()
                .map(|c| (one("command", command_name(c.command)), c.requests)),
        )?;
        family(
            &mut enc,
            "smbd_request_failures",
            "SMB2 requests answered with an error status, by command",
            MetricType::Counter,
            commands
                .iter()
                .map(|c| (one("command", command_name(c.command)), c.failures)),
        )?;
        let mut h = enc.encode_descriptor(
            "smbd_request_duration_seconds",
            "Time from a request's arrival to its answer (to the interim answer of one that goes async), by command",
            None,
            MetricType::Histogram,
        )?;
        for c in &commands {
            let bounds = LATENCY_BOUNDS_US
                .iter()
                .map(|&us| us as f64 / 1e6)
                .chain([f64::INFINITY]);
            let buckets: Vec<(f64, u64)> = bounds.zip(c.buckets.iter().copied()).collect();
            let labels = one("command", command_name(c.command));
            h.encode_family(&labels)?.encode_histogram::<NoLabelSet>(
                c.sum_seconds,
                c.requests,
                &buckets,
                None,
            )?;
        }
        family(
            &mut enc,
            "smbd_requests_in_flight",
            "SMB2 requests being handled now",
            MetricType::Gauge,
            [(Vec::new(), m.in_flight())],
        )?;
        let all = ctx.shares();
        let shares: Vec<_> = all.iter().filter(|s| !s.is_ipc()).collect();
        family(
            &mut enc,
            "smbd_share_read_bytes",
            "Bytes read from files, by share",
            MetricType::Counter,
            shares
                .iter()
                .map(|s| (one("share", s.name.clone()), s.io.totals().0)),
        )?;
        family(
            &mut enc,
            "smbd_share_written_bytes",
            "Bytes written to files, by share",
            MetricType::Counter,
            shares
                .iter()
                .map(|s| (one("share", s.name.clone()), s.io.totals().1)),
        )?;
        let mut sessions: BTreeMap<[String; 4], u64> = BTreeMap::new();
        for s in crate::status::sessions(ctx) {
            let key = [
                s.auth.to_string(),
                s.dialect,
                s.signing.to_string(),
                s.cipher.unwrap_or("none").to_string(),
            ];
            *sessions.entry(key).or_default() += 1;
        }
        family(
            &mut enc,
            "smbd_sessions",
            "Authenticated sessions, by auth method, dialect, signing algorithm and cipher",
            MetricType::Gauge,
            sessions
                .into_iter()
                .map(|([auth, dialect, signing, cipher], n)| {
                    (
                        vec![
                            ("auth", auth),
                            ("dialect", dialect),
                            ("signing", signing),
                            ("cipher", cipher),
                        ],
                        n,
                    )
                }),
        )?;
        let conns: Vec<Arc<Connection>> = ctx
            .channels
            .all()
            .into_iter()
            .filter_map(|c| c.into_any().downcast::<Connection>().ok())
            .collect();
        let (async_ops, queued) = conns.iter().fold((0u64, 0u64), |(a, q), c| {
            (
                a + c.pending.lock().unwrap().len() as u64,
                q + c.out.queued_bytes() as u64,
            )
        });
        let (locks, lock_waiters) = ctx.files.lock_counts();
        for (name, help, value) in [
            (
                "smbd_connections",
                "Open TCP connections",
                conns.len() as u64,
            ),
            (
                "smbd_open_handles",
                "Open handles, durable ones waiting for a reconnect included",
                ctx.opens.len() as u64,
            ),
            (
                "smbd_leases",
                "Lease keys in use",
                ctx.files.lease_count() as u64,
            ),
            (
                "smbd_byte_range_locks",
                "Byte-range locks held",
                locks as u64,
            ),
            (
                "smbd_byte_range_lock_waiters",
                "Lock requests waiting for a range",
                lock_waiters as u64,
            ),
            (
                "smbd_async_operations",
                "Requests answered STATUS_PENDING and waiting (change notify, blocking locks)",
                async_ops,
            ),
            (
                "smbd_send_queue_bytes",
                "Reply bytes accepted and not yet written to the clients' sockets",
                queued,
            ),
        ] {
            family(
                &mut enc,
                name,
                help,
                MetricType::Gauge,
                [(Vec::new(), value)],
            )?;
        }
        family(
            &mut enc,
            "smbd_auth_failures",
            "Failed session setups, by reason",
            MetricType::Counter,
            m.auth_failures()
                .into_iter()
                .map(|(r, n)| (one("reason", r.label()), n)),
        )?;
        family(
            &mut enc,
            "smbd_refused",
            "What a configured limit refused, by limit",
            MetricType::Counter,
            m.refusals()
                .into_iter()
                .map(|(r, n)| (one("limit", r.label()), n)),
        )?;
        family(
            &mut enc,
            "smbd_connections_closed",
            "Connections that ended, by reason",
            MetricType::Counter,
            m.closed_connections()
                .into_iter()
                .map(|(r, n)| (one("reason", r.replace(' ', "_")), n)),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::harness::client::TestClient;

    #[tokio::test]
    async fn a_scrape_shows_the_requests_and_the_tables() {
        let server = crate::harness::server::server(Arc::new(vfs::mem::MemFs::new()), 64);
        let mut c = TestClient::on_share(server.clone()).await;
        let create = c.create("a.txt");
        assert_eq!(c.call(create).await.0, 0);
        let text = super::render(&server);
        for line in [
            "smbd_requests_total{command=\"negotiate\"} 1",
            "smbd_requests_total{command=\"create\"} 1",
            "smbd_request_duration_seconds_bucket{command=\"create\",le=\"+Inf\"} 1",
            "smbd_open_handles 1",
            "smbd_share_written_bytes_total{share=\"share\"} 0",
            "# TYPE smbd_request_duration_seconds histogram",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
    }
}
