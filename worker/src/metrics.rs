//! What the worker counts, for Prometheus: in the api's `/metrics` when
//! the worker runs inside it, else on the worker's own `METRICS_PORT`.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Latency buckets, in seconds, from 5 ms to a minute: a job or a
/// delivery takes from a few milliseconds (a database write) to the
/// delivery timeout (a slow peer).
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0,
];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// A family of latency histograms, one per label set.
pub type Latency<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency<L: Clone + std::hash::Hash + Eq>() -> Latency<L> {
    let histogram: fn() -> Histogram = latency_histogram;
    Family::new_with_constructor(histogram)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    /// `digests`, `deliveries`, `reminders` or `outbox` (one outbox row).
    pub queue: &'static str,
    /// `ok` or `error`.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
    pub queue: &'static str,
    /// `pending` (queued, due now or later) or `running` (taken).
    pub state: &'static str,
}

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
#[derive(Clone)]
pub struct WorkerMetrics {
    /// How long each job (and each outbox row) took, by queue and outcome.
    pub job_seconds: Latency<JobLabels>,
    /// How long each delivery attempt took, by channel and outcome.
    pub delivery_seconds: Latency<DeliveryLabels>,
    /// Outbox rows waiting for the worker, and the age of the oldest,
    /// as of the last scrape.
    pub outbox_backlog: Gauge,
    pub outbox_oldest_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    /// Jobs in each queue, by state, as of the last scrape.
    pub queue_jobs: Family<QueueLabels, Gauge>,
    pub deliveries: Family<DeliveryLabels, Counter>,
    pub digests: Family<DigestLabels, Counter>,
    /// Live alerts and kick-off reminders written (one per user).
    pub alerts: Counter,
    /// Digest and reminder jobs that failed every attempt.
    pub dead_jobs: Counter,
}

impl Default for WorkerMetrics {
    fn default() -> Self {
        Self {
            job_seconds: latency(),
            delivery_seconds: latency(),
            outbox_backlog: Gauge::default(),
            outbox_oldest_seconds: Gauge::default(),
            queue_jobs: Family::default(),
            deliveries: Family::default(),
            digests: Family::default(),
            alerts: Counter::default(),
            dead_jobs: Counter::default(),
        }
    }
}

impl WorkerMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "job_duration_seconds",
            "How long each job took, by queue and outcome (queue `outbox`: one outbox row)",
            self.job_seconds.clone(),
        );
        registry.register(
            "delivery_duration_seconds",
            "How long each email or webhook delivery attempt took, by channel and outcome",
            self.delivery_seconds.clone(),
        );
        registry.register(
            "outbox_backlog",
            "Outbox rows (committed match changes) the worker has not handled yet, \
             dead-lettered rows aside",
            self.outbox_backlog.clone(),
        );
        registry.register(
            "outbox_oldest_age_seconds",
            "Age of the oldest outbox row the worker has not handled yet; 0 when none waits",
            self.outbox_oldest_seconds.clone(),
        );
        registry.register(
            "queue_jobs",
            "Jobs in each queue, by state: pending (queued, due now or later) or running (taken)",
            self.queue_jobs.clone(),
        );
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

    /// Counts a delivery attempt that took `took`.
    pub fn delivery(
        &self,
        channel: entity::DeliveryChannel,
        outcome: &'static str,
        took: Duration,
    ) {
        let channel = match channel {
            entity::DeliveryChannel::Email => "EMAIL",
            entity::DeliveryChannel::Webhook => "WEBHOOK",
            entity::DeliveryChannel::InApp => "IN_APP",
            entity::DeliveryChannel::WebPush => "WEB_PUSH",
        };
        let labels = DeliveryLabels {
            channel: channel.to_owned(),
            outcome,
        };
        self.deliveries.get_or_create(&labels).inc();
        self.delivery_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// Times a job of `queue` that took `took`.
    pub fn job(&self, queue: &'static str, ok: bool, took: Duration) {
        let outcome = if ok { "ok" } else { "error" };
        self.job_seconds
            .get_or_create(&JobLabels { queue, outcome })
            .observe(took.as_secs_f64());
    }
}

/// The metrics in the OpenMetrics text format.
pub fn encode(registry: &Registry) -> Option<String> {
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, registry).ok()?;
    Some(body)
}
