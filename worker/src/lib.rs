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

use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::*;
use apalis_cron::CronScheduler;
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
    /// How long a delivery may sit without a job before the sweep queues one.
    pub sweep_grace: chrono::Duration,
    pub reminder_lead: chrono::Duration,
    pub digest_catch_up: chrono::Duration,
    pub alert_max_age: chrono::Duration,
    pub heartbeat: Duration,
    pub poll: Duration,
    /// Names this process's workers in the job store.
    pub instance: String,
}

impl Settings {
    pub fn from_config(config: &Config) -> Self {
        let n = &config.notifications;
        let heartbeat = Duration::from_secs(n.job_heartbeat_secs);
        let timeout = Duration::from_secs(n.delivery_timeout_secs);
        // Time enough for one attempt: connect, talk, and record the outcome.
        let lease = chrono::Duration::from_std(timeout * 3).unwrap_or_default();
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
            sweep_grace: chrono::Duration::from_std(heartbeat * 2).unwrap_or_default() + lease,
            reminder_lead: chrono::Duration::minutes(i64::from(n.kickoff_reminder_minutes)),
            digest_catch_up: chrono::Duration::hours(i64::from(n.digest_catch_up_hours)),
            alert_max_age: chrono::Duration::hours(1),
            heartbeat,
            poll: Duration::from_millis(n.job_poll_ms),
            instance,
        }
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
    pub settings: Arc<Settings>,
    pub metrics: metrics::WorkerMetrics,
}

/// Where jobs live when there is no Redis and the database is not SQLite.
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
        let queue = match &config.redis_url {
            Some(url) => Queue::redis(url.expose(), &queue_settings).await?,
            None => Queue::sqlite(&db, FALLBACK_JOBS_URL, &queue_settings).await?,
        };
        let n = &config.notifications;
        let mailer = channels::email::Mailer::new(
            n.smtp_url.as_deref(),
            &n.mail_from,
            n.mail_outbox_dir.clone(),
            Duration::from_secs(n.delivery_timeout_secs),
        )?;
        let webhooks = channels::webhook::Webhooks::new(
            Duration::from_secs(n.delivery_timeout_secs),
            WebhookTargets::from_setting(n.allow_private_webhooks),
        )?;
        Ok(Self {
            db,
            bus,
            queue,
            mailer,
            webhooks,
            settings: Arc::new(settings),
            metrics: metrics::WorkerMetrics::default(),
        })
    }
}

/// Runs the job workers, the digest cron and the outbox consumer until
/// `shutdown` is cancelled; jobs in flight then finish or go back to the queue.
pub async fn run(ctx: Context, shutdown: CancellationToken) -> anyhow::Result<()> {
    tracing::info!(instance = %ctx.settings.instance, "worker started");
    let outbox = tokio::spawn(outbox::run(ctx.clone(), shutdown.clone()));
    let monitor = match ctx.queue.clone() {
        Queue::Redis {
            digests,
            deliveries,
            reminders,
        } => register!(Monitor::new(), ctx, digests, deliveries, reminders),
        Queue::Sqlite {
            digests,
            deliveries,
            reminders,
        } => register!(Monitor::new(), ctx, digests, deliveries, reminders),
    };
    let stop = shutdown.clone();
    let result = monitor
        .shutdown_timeout(Duration::from_secs(30))
        .run_with_signal(async move {
            stop.cancelled().await;
            Ok(())
        })
        .await;
    shutdown.cancel();
    outbox.await.ok();
    tracing::info!("worker stopped");
    result.map_err(|e| anyhow::anyhow!("job workers: {e}"))
}

/// Registers the three job workers and the digest cron on a monitor; a
/// macro because the Redis and SQLite storages are different types.
macro_rules! register {
    ($monitor:expr, $ctx:expr, $digests:expr, $deliveries:expr, $reminders:expr) => {{
        let ctx = $ctx.clone();
        let poll = ctx.settings.poll;
        let name = |job: &str| format!("{job}-{}", ctx.settings.instance);
        let (digest_name, delivery_name, reminder_name, cron_name) = (
            name("digests"),
            name("deliveries"),
            name("reminders"),
            name("digest-cron"),
        );
        let (c1, c2, c3, c4) = (ctx.clone(), ctx.clone(), ctx.clone(), ctx.clone());
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
        $monitor
            .register(move |_| {
                WorkerBuilder::new(digest_name.clone())
                    .backend($digests.clone().poll_with_interval(poll))
                    .data(c1.clone())
                    .concurrency(4)
                    .retry(RetryPolicy::retries(3).with_backoff(backoff()))
                    .build(jobs::digest::handle)
            })
            .register(move |_| {
                WorkerBuilder::new(delivery_name.clone())
                    .backend($deliveries.clone().poll_with_interval(poll))
                    .data(c2.clone())
                    .concurrency(8)
                    .build(jobs::delivery::handle)
            })
            .register(move |_| {
                WorkerBuilder::new(reminder_name.clone())
                    .backend($reminders.clone().poll_with_interval(poll))
                    .data(c3.clone())
                    .retry(RetryPolicy::retries(3).with_backoff(backoff()))
                    .build(jobs::reminder::handle)
            })
            .register(move |_| {
                WorkerBuilder::new(cron_name.clone())
                    .backend(CronScheduler::new(schedule.clone()))
                    .data(c4.clone())
                    .build(jobs::digest::tick)
            })
    }};
}
use register;
