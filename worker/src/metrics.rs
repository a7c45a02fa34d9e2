//! What the worker counts, for Prometheus: in the api's `/metrics` when
//! the worker runs inside it, else on the worker's own `METRICS_PORT`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    /// `EMAIL` or `WEBHOOK`.
    pub channel: String,
    /// `delivered`, `retry` (failed, another attempt queued) or `dead`.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DigestLabels {
    /// `daily` or `weekly`.
    pub kind: &'static str,
    /// `sent`, `nothing_to_report` or `already_sent`.
    pub outcome: &'static str,
}

/// The worker's counters; clones count into the same series.
#[derive(Clone, Default)]
pub struct WorkerMetrics {
    pub deliveries: Family<DeliveryLabels, Counter>,
    pub digests: Family<DigestLabels, Counter>,
    /// Live alerts and kick-off reminders written (one per user).
    pub alerts: Counter,
    /// Digest and reminder jobs that failed every attempt.
    pub dead_jobs: Counter,
}

impl WorkerMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "deliveries",
            "Email and webhook delivery attempts, by channel and outcome",
            self.deliveries.clone(),
        );
        registry.register(
            "digest_runs",
            "Digest runs, by kind and outcome",
            self.digests.clone(),
        );
        registry.register(
            "alerts",
            "Live alerts and kick-off reminders written, one per user",
            self.alerts.clone(),
        );
        registry.register(
            "dead_jobs",
            "Digest and reminder jobs that failed every attempt",
            self.dead_jobs.clone(),
        );
    }

    pub fn delivery(&self, channel: entity::DeliveryChannel, outcome: &'static str) {
        let channel = match channel {
            entity::DeliveryChannel::Email => "EMAIL",
            entity::DeliveryChannel::Webhook => "WEBHOOK",
            entity::DeliveryChannel::InApp => "IN_APP",
        };
        self.deliveries
            .get_or_create(&DeliveryLabels {
                channel: channel.to_owned(),
                outcome,
            })
            .inc();
    }
}

/// The metrics in the OpenMetrics text format.
pub fn encode(registry: &Registry) -> Option<String> {
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, registry).ok()?;
    Some(body)
}
