//! The job queue: apalis on Redis when `REDIS_URL` is set (any number of
//! `worker` processes share it), else apalis on SQLite inside the api
//! process. Each kind of job has its own queue.

use std::time::{Duration, SystemTime};

use apalis::prelude::{TaskBuilder, TaskSink as _};
use apalis_redis::RedisStorage;
use apalis_sqlite::SqliteStorage;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use service::notifications::period::DigestKind;

/// Build one user's digest for the period `as_of` falls in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DigestJob {
    pub user_id: i64,
    pub kind: DigestKind,
    pub as_of: DateTime<Utc>,
}

/// Send one email or webhook delivery.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeliveryJob {
    pub delivery_id: i64,
}

/// Remind followers that a match kicks off soon, if it still kicks off at
/// `kickoff_at`: a reschedule queues a new reminder and this one lapses.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReminderJob {
    pub match_id: i64,
    pub kickoff_at: DateTime<Utc>,
}

/// Where jobs are pushed; cheap to clone.
#[derive(Clone)]
pub enum Queue {
    Redis {
        digests: RedisStorage<DigestJob>,
        deliveries: RedisStorage<DeliveryJob>,
        reminders: RedisStorage<ReminderJob>,
    },
    Sqlite {
        digests: SqliteStorage<DigestJob>,
        deliveries: SqliteStorage<DeliveryJob>,
        reminders: SqliteStorage<ReminderJob>,
    },
}

/// Settings shared by every queue of one deployment.
#[derive(Clone, Debug)]
pub struct QueueSettings {
    /// Namespaces the queues, as `BUS_CHANNEL_PREFIX` does the bus.
    pub prefix: String,
    pub heartbeat: Duration,
}

impl QueueSettings {
    fn name(&self, job: &str) -> String {
        format!("{}:jobs:{job}", self.prefix)
    }
}

impl Queue {
    /// Jobs in Redis.
    pub async fn redis(url: &str, settings: &QueueSettings) -> anyhow::Result<Self> {
        let conn = apalis_redis::connect(url)
            .await
            .map_err(|e| anyhow::anyhow!("REDIS_URL: cannot connect the job queue: {e}"))?;
        let config = |job: &str| {
            apalis_redis::Config::default()
                .queue(settings.name(job))
                .heartbeat_interval(settings.heartbeat)
                .missed_heartbeats(2)
        };
        Ok(Self::Redis {
            digests: RedisStorage::new(conn.clone()).with_config(config("digests")),
            deliveries: RedisStorage::new(conn.clone()).with_config(config("deliveries")),
            reminders: RedisStorage::new(conn).with_config(config("reminders")),
        })
    }

    /// Jobs in SQLite: the app's own database file when it is SQLite, so
    /// the embedded default stays one file; else `jobs_url`.
    pub async fn sqlite(
        db: &DatabaseConnection,
        jobs_url: &str,
        settings: &QueueSettings,
    ) -> anyhow::Result<Self> {
        let pool = match db.get_database_backend() {
            sea_orm::DatabaseBackend::Sqlite => db.get_sqlite_connection_pool().clone(),
            _ => {
                if let Some(dir) = jobs_url
                    .strip_prefix("sqlite://")
                    .and_then(|rest| rest.split('?').next())
                    .and_then(|path| std::path::Path::new(path).parent())
                    .filter(|dir| !dir.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(dir)?;
                }
                apalis_sqlite::SqlitePool::connect(jobs_url).await?
            }
        };
        SqliteStorage::setup(&pool)
            .await
            .map_err(|e| anyhow::anyhow!("setting up the job tables: {e}"))?;
        let config = |job: &str| {
            apalis_sqlite::Config::default()
                .queue(settings.name(job))
                .heartbeat_interval(settings.heartbeat)
                .missed_heartbeats(2)
        };
        Ok(Self::Sqlite {
            digests: SqliteStorage::new(&pool).with_config(config("digests")),
            deliveries: SqliteStorage::new(&pool).with_config(config("deliveries")),
            reminders: SqliteStorage::new(&pool).with_config(config("reminders")),
        })
    }

    /// Queues a digest. Pushes of the same `(user, kind, period)` within
    /// ten minutes of each other (every worker's cron ticks each minute)
    /// are dropped by the queue; the database refuses any that get through.
    pub async fn push_digest(&self, job: DigestJob, period: &str) -> anyhow::Result<()> {
        let window = chrono::Utc::now().timestamp() / 600;
        let key = format!(
            "digest:{}:{}:{period}:{window}",
            job.user_id,
            job.kind.as_str()
        );
        let task = TaskBuilder::new(job).idempotency_key(key).build();
        match self {
            Self::Redis { digests, .. } => digests.clone().push_task(task).await?,
            Self::Sqlite { digests, .. } => digests.clone().push_task(task).await?,
        }
        Ok(())
    }

    /// Queues a delivery attempt, now or at `at`.
    pub async fn push_delivery(
        &self,
        delivery_id: i64,
        at: Option<DateTime<Utc>>,
    ) -> anyhow::Result<()> {
        let mut task = TaskBuilder::new(DeliveryJob { delivery_id });
        if let Some(at) = at {
            task = task.run_at_time(system_time(at));
        }
        let task = task.build();
        match self {
            Self::Redis { deliveries, .. } => deliveries.clone().push_task(task).await?,
            Self::Sqlite { deliveries, .. } => deliveries.clone().push_task(task).await?,
        }
        Ok(())
    }

    /// Queues a kick-off reminder to run at `at`. One per match and kick-off time.
    pub async fn push_reminder(&self, job: ReminderJob, at: DateTime<Utc>) -> anyhow::Result<()> {
        let key = format!("reminder:{}:{}", job.match_id, job.kickoff_at.timestamp());
        let task = TaskBuilder::new(job)
            .run_at_time(system_time(at))
            .idempotency_key(key)
            .build();
        match self {
            Self::Redis { reminders, .. } => reminders.clone().push_task(task).await?,
            Self::Sqlite { reminders, .. } => reminders.clone().push_task(task).await?,
        }
        Ok(())
    }
}

fn system_time(at: DateTime<Utc>) -> SystemTime {
    SystemTime::from(at).max(SystemTime::UNIX_EPOCH)
}
