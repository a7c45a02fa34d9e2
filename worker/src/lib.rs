//! The worker: digests, live alerts, kick-off reminders and their delivery
//! by email, webhook and in-app inbox. It runs as its own `worker` binary
//! next to PostgreSQL and Redis, or inside the `api` process on the
//! embedded default.
//!
//! - `queue`: the apalis job queues (Redis, or SQLite when embedded).
//! - `jobs`: the handlers, one per queue, and the digest dispatcher.
//! - `outbox`: turns committed match changes into alerts and reminders.
//! - `channels`: email and webhook senders.

pub mod channels;
pub mod jobs;
pub mod metrics;
pub mod outbox;
pub mod queue;
pub mod supervisor;

use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::*;
use apalis_cron::CronScheduler;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use service::Config;
use service::live::bus::Bus;
use service::notifications::webhook_targets::WebhookTargets;
use tokio_util::sync::CancellationToken;

pub use queue::Queue;

/// Tunables, from the shared configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    pub max_attempts: u32,
    pub retry_base: Duration,
    /// How long one attempt may hold a delivery before others may take it.
    pub lease: chrono::Duration,
    /// The longest one send may take, from the first byte to the answer.
    pub attempt_limit: Duration,
    /// How long a delivery may sit without a job before the sweep queues one.
    pub sweep_grace: chrono::Duration,
    pub reminder_lead: chrono::Duration,
    pub digest_catch_up: chrono::Duration,
    pub alert_max_age: chrono::Duration,
    pub heartbeat: Duration,
    pub poll: Duration,
    /// Names this process's workers in the job store.
    pub instance: String,
    /// Runs the minute tick (`DIGEST_CRON`).
    pub cron: bool,
}

impl Settings {
    pub fn from_config(config: &Config) -> Self {
        let n = &config.notifications;
        let heartbeat = Duration::from_secs(n.job_heartbeat_secs);
        let timeout = Duration::from_secs(n.delivery_timeout_secs);
        // An SMTP send is several exchanges of up to `timeout` each; one
        // that takes longer than two is given up.
        let attempt_limit = timeout * 2;
        // Time enough for one attempt (see `hold_suffices`), and for
        // recording its outcome.
        let lease = chrono::Duration::from_std(timeout * 3 + HOLD_SLACK).unwrap_or_default();
        // Each process needs a name of its own in the job store: jobs held
        // by a name that stopped beating are handed back to the queue by
        // the others (a restarted process is one of the others).
        let instance = format!(
            "{}-{}",
            hostname::get()
                .ok()
                .and_then(|h| h.into_string().ok())
                .unwrap_or_else(|| "worker".into()),
            std::process::id()
        );
        Self {
            max_attempts: n.delivery_max_attempts,
            retry_base: Duration::from_millis(n.delivery_retry_base_ms),
            lease,
            attempt_limit,
            sweep_grace: chrono::Duration::from_std(heartbeat * 2).unwrap_or_default() + lease,
            reminder_lead: chrono::Duration::minutes(i64::from(n.kickoff_reminder_minutes)),
            digest_catch_up: chrono::Duration::hours(i64::from(n.digest_catch_up_hours)),
            alert_max_age: chrono::Duration::hours(1),
            heartbeat,
            poll: Duration::from_millis(n.job_poll_ms),
            instance,
            cron: n.digest_cron,
        }
    }

    /// Whether a hold on a delivery until `held_until` lets an attempt
    /// start sending at `now`: the send must be over before anyone else may
    /// take the delivery, which a claim allows a second early (retries may
    /// wake early), with a second more for clocks of different machines.
    pub fn hold_suffices(&self, held_until: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        let needed = chrono::Duration::from_std(self.attempt_limit + HOLD_SLACK)
            .unwrap_or(chrono::Duration::MAX);
        held_until - now >= needed
    }

    /// Wait before retry `attempt + 1`: the base, doubled per attempt, at most ten minutes.
    pub fn backoff(&self, attempt: u32) -> chrono::Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
        let wait = self
            .retry_base
            .saturating_mul(factor)
            .min(Duration::from_secs(600));
        chrono::Duration::from_std(wait).unwrap_or_default()
    }
}

/// What the worker's jobs can reach.
#[derive(Clone)]
pub struct Context {
    pub db: DatabaseConnection,
    pub bus: Bus,
    pub queue: Queue,
    pub mailer: channels::email::Mailer,
    pub webhooks: channels::webhook::Webhooks,
    pub web_push: channels::web_push::WebPush,
    pub settings: Arc<Settings>,
    pub metrics: metrics::WorkerMetrics,
    /// Which of the worker's loops run in this process, and which are down.
    pub supervision: supervisor::Supervision,
    /// The league tables this process's weekly digests computed lately.
    pub league_tables: service::notifications::digest::LeagueTables,
}

/// Where jobs live when there is no Redis and the database is not SQLite.
/// What a hold on a delivery keeps over the longest send: a claim may take
/// a delivery a second before its hold ends, and clocks of two machines
/// may differ by about as much.
const HOLD_SLACK: Duration = Duration::from_secs(2);

pub const FALLBACK_JOBS_URL: &str = "sqlite://./data/jobs.db?mode=rwc";

impl Context {
    /// Connects the job queue and the channels.
    pub async fn connect(
        config: &Config,
        db: DatabaseConnection,
        bus: Bus,
    ) -> anyhow::Result<Self> {
        let settings = Settings::from_config(config);
        let queue_settings = queue::QueueSettings {
            prefix: config.bus_channel_prefix.clone(),
            heartbeat: settings.heartbeat,
        };
        let queue = match &config.queue_redis() {
            Some(url) => Queue::redis(url, &queue_settings).await?,
            None => Queue::sqlite(&db, FALLBACK_JOBS_URL, &queue_settings).await?,
        };
        let n = &config.notifications;
        let mailer = channels::email::Mailer::new(
            n.smtp_url.as_deref(),
            &n.mail_from,
            n.mail_outbox_dir.clone(),
            Duration::from_secs(n.delivery_timeout_secs),
            n.smtp_connections as usize,
        )?;
        let webhooks = channels::webhook::Webhooks::new(
            Duration::from_secs(n.delivery_timeout_secs),
            WebhookTargets::from_setting(n.allow_private_webhooks),
        )?;
        let web_push = channels::web_push::WebPush::new(
            Duration::from_secs(n.delivery_timeout_secs),
            WebhookTargets::from_setting(n.allow_private_webhooks),
            service::notifications::web_push::Vapid::from_config(config)?,
        )?;
        Ok(Self {
            db,
            bus,
            queue,
            mailer,
            webhooks,
            web_push,
            settings: Arc::new(settings),
            metrics: metrics::WorkerMetrics::default(),
            supervision: supervisor::Supervision::default(),
            league_tables: Default::default(),
        })
    }
}

/// Runs the job workers, the digest cron and the outbox consumer until
/// `shutdown` is cancelled; jobs in flight then finish or go back to the
/// queue. Each loop is supervised: one that stops on an error (its queue
/// failed under it) starts again after a backoff.
pub async fn run(ctx: Context, shutdown: CancellationToken) -> anyhow::Result<()> {
    tracing::info!(instance = %ctx.settings.instance, "worker started");
    let supervision = ctx.supervision.clone();
    let outbox = {
        let ctx = ctx.clone();
        let stop = shutdown.clone();
        supervision.supervise(outbox::LOOP, shutdown.clone(), move |_| {
            let (ctx, stop) = (ctx.clone(), stop.clone());
            async move {
                outbox::run(ctx, stop).await;
                Ok(())
            }
        })
    };
    match ctx.queue.clone() {
        Queue::Redis(queues) => supervise_jobs!(ctx, shutdown, outbox, queues),
        Queue::Sqlite(queues) => supervise_jobs!(ctx, shutdown, outbox, queues),
    }
    tracing::info!("worker stopped");
    Ok(())
}

/// The worker as the api sees it: where deliveries are queued, and the
/// state of the loops this process runs.
impl service::jobs::JobQueue for Context {
    fn push_deliveries<'a>(
        &'a self,
        delivery_ids: &'a [i64],
    ) -> futures::future::BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(jobs::delivery::enqueue_many(&self.queue, delivery_ids))
    }

    fn loops(&self) -> Option<(bool, serde_json::Value)> {
        self.supervision.report()
    }

    fn refresh_metrics(&self) -> futures::future::BoxFuture<'_, ()> {
        Box::pin(Context::refresh_metrics(self))
    }
}

impl Context {
    /// Reads the gauges that a scrape reports (the outbox backlog, each
    /// queue's depth) from the database and the queues. Each read is
    /// bounded; one that fails or is slow leaves its gauges as they were.
    pub async fn refresh_metrics(&self) {
        const READ_TIMEOUT: Duration = Duration::from_millis(800);
        let outbox = tokio::time::timeout(READ_TIMEOUT, service::outbox::backlog(&self.db));
        let queues = tokio::time::timeout(READ_TIMEOUT, self.queue.depths());
        let (outbox, queues) = tokio::join!(outbox, queues);
        match outbox {
            Ok(Ok((waiting, oldest))) => {
                self.metrics.outbox_backlog.set(waiting as i64);
                let age = oldest.map_or(0.0, |at| {
                    (chrono::Utc::now() - at).num_milliseconds().max(0) as f64 / 1000.0
                });
                self.metrics.outbox_oldest_seconds.set(age);
            }
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "metrics: could not read the outbox backlog")
            }
            Err(_) => tracing::warn!("metrics: reading the outbox backlog timed out"),
        }
        match queues {
            Ok(Ok(depths)) => {
                for (queue, depth) in depths {
                    for (state, jobs) in [("pending", depth.pending), ("running", depth.running)] {
                        self.metrics
                            .queue_jobs
                            .get_or_create(&metrics::QueueLabels { queue, state })
                            .set(jobs);
                    }
                }
            }
            Ok(Err(err)) => tracing::warn!(
                error = format!("{err:#}"),
                "metrics: could not read the queues' depth"
            ),
            Err(_) => tracing::warn!("metrics: reading the queues' depth timed out"),
        }
    }

    /// Registers the worker's counters, the restarts of its loops among them.
    pub fn register_metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        self.metrics.register(registry);
        registry.register(
            "worker_restarts",
            "Worker loops started again after they stopped on an error, by loop",
            self.supervision.restarts.clone(),
        );
    }
}

/// Resolves when `shutdown` is cancelled: the signal that stops an apalis
/// worker gracefully (it finishes the jobs it holds).
async fn stopped(shutdown: CancellationToken) -> Result<(), std::io::Error> {
    shutdown.cancelled().await;
    Ok(())
}

/// Supervises the three job workers, the digest cron and `$outbox` side by
/// side until shutdown; a macro because the Redis and SQLite storages are
/// different types.
macro_rules! supervise_jobs {
    ($ctx:expr, $shutdown:expr, $outbox:expr, $queues:expr) => {{
        use jobs::delivery::DeliveryJob;
        use jobs::digest::DigestJob;
        use jobs::reminder::ReminderJob;
        use queue::Job as _;
        let ctx = $ctx.clone();
        let supervision = ctx.supervision.clone();
        let poll = ctx.settings.poll;
        // A restarted worker takes a fresh name: the job store refuses a
        // name whose last heartbeat is recent, and hands the jobs of the
        // old one back once its heartbeats stop.
        let instance = ctx.settings.instance.clone();
        let name = move |job: &str, attempt: usize| match attempt {
            0 => format!("{job}-{instance}"),
            n => format!("{job}-{instance}-r{n}"),
        };
        let schedule = cron::Schedule::from_str("0 * * * * *").expect("a valid cron expression");
        // Digest and reminder jobs fail only when the database does; retry
        // those a few times with exponential backoff before giving up.
        let backoff = || {
            use apalis::layers::retry::backoff::MakeBackoff as _;
            apalis::layers::retry::backoff::ExponentialBackoffMaker::new(
                Duration::from_millis(500),
                Duration::from_secs(30),
                0.5,
                apalis::layers::retry::HasherRng::default(),
            )
            .expect("a valid backoff")
            .make_backoff()
        };
        let stop = $shutdown.clone();
        let queue::Queues {
            digests,
            deliveries,
            reminders,
        } = $queues;
        let (c1, c2, c3, c4) = (ctx.clone(), ctx.clone(), ctx.clone(), ctx.clone());
        let (n1, n2, n3, n4) = (name.clone(), name.clone(), name.clone(), name);
        let (s1, s2, s3, s4) = (stop.clone(), stop.clone(), stop.clone(), stop.clone());
        tokio::join!(
            $outbox,
            supervision.supervise(DigestJob::NAME, stop.clone(), move |attempt| {
                let worker = WorkerBuilder::new(n1(DigestJob::NAME, attempt))
                    .backend(digests.clone().poll_with_interval(poll))
                    .data(c1.clone())
                    .concurrency(4)
                    .retry(RetryPolicy::retries(3).with_backoff(backoff()))
                    .build(jobs::digest::handle);
                let signal = stopped(s1.clone());
                async move { Ok(worker.run_until(signal).await?) }
            }),
            supervision.supervise(DeliveryJob::NAME, stop.clone(), move |attempt| {
                let worker = WorkerBuilder::new(n2(DeliveryJob::NAME, attempt))
                    .backend(deliveries.clone().poll_with_interval(poll))
                    .data(c2.clone())
                    // Above the channels' own bounds (SMTP sessions, requests
                    // per host), so claims and bookkeeping overlap the sends.
                    .concurrency(32)
                    .build(jobs::delivery::handle);
                let signal = stopped(s2.clone());
                async move { Ok(worker.run_until(signal).await?) }
            }),
            supervision.supervise(ReminderJob::NAME, stop.clone(), move |attempt| {
                let worker = WorkerBuilder::new(n3(ReminderJob::NAME, attempt))
                    .backend(reminders.clone().poll_with_interval(poll))
                    .data(c3.clone())
                    .retry(RetryPolicy::retries(3).with_backoff(backoff()))
                    .build(jobs::reminder::handle);
                let signal = stopped(s3.clone());
                async move { Ok(worker.run_until(signal).await?) }
            }),
            async {
                if !ctx.settings.cron {
                    return;
                }
                supervision
                    .supervise(jobs::digest::CRON, stop.clone(), move |attempt| {
                        let worker = WorkerBuilder::new(n4(jobs::digest::CRON, attempt))
                            .backend(CronScheduler::new(schedule.clone()))
                            .data(c4.clone())
                            .build(jobs::digest::tick);
                        let signal = stopped(s4.clone());
                        async move { Ok(worker.run_until(signal).await?) }
                    })
                    .await
            },
        );
    }};
}
use supervise_jobs;
