//! The job queue: apalis on Redis when `QUEUE_REDIS_URL` or `REDIS_URL` is set (any number of
//! `worker` processes share it), else apalis on SQLite inside the api
//! process. Each kind of job has its own queue, named after the job's
//! `Job::NAME`; the jobs themselves live in `crate::jobs`, one per file.

use std::time::{Duration, SystemTime};

use apalis::prelude::{Metrics, Task, TaskSink as _};
use apalis_redis::RedisStorage;
use apalis_sqlite::SqliteStorage;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::jobs::delivery::DeliveryJob;
use crate::jobs::digest::DigestJob;
use crate::jobs::reminder::ReminderJob;

/// A kind of job: its payload, and where it is queued.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + Unpin + 'static {
    /// Stable across releases: it names the job's queue in the job store,
    /// and the job in logs, metrics and `dead_jobs`.
    const NAME: &'static str;

    /// This job's storage among one backend's.
    fn storage<S: Store>(queues: &Queues<S>) -> &S::Of<Self>;
}

/// A queue backend, as the type of its storage for each job.
pub trait Store {
    type Of<J>: Clone;
}

/// Jobs in Redis.
pub enum Redis {}

impl Store for Redis {
    type Of<J> = RedisStorage<J>;
}

/// Jobs in SQLite.
pub enum Sqlite {}

impl Store for Sqlite {
    type Of<J> = SqliteStorage<J>;
}

/// One backend's storage for each kind of job.
pub struct Queues<S: Store> {
    pub digests: S::Of<DigestJob>,
    pub deliveries: S::Of<DeliveryJob>,
    pub reminders: S::Of<ReminderJob>,
}

impl<S: Store> Clone for Queues<S> {
    fn clone(&self) -> Self {
        Self {
            digests: self.digests.clone(),
            deliveries: self.deliveries.clone(),
            reminders: self.reminders.clone(),
        }
    }
}

/// Where jobs are pushed; cheap to clone.
#[derive(Clone)]
pub enum Queue {
    Redis(Queues<Redis>),
    Sqlite(Queues<Sqlite>),
}

/// Settings shared by every queue of one deployment.
#[derive(Clone, Debug)]
pub struct QueueSettings {
    /// Namespaces the queues, as `BUS_CHANNEL_PREFIX` does the bus.
    pub prefix: String,
    pub heartbeat: Duration,
}

impl QueueSettings {
    fn name<J: Job>(&self) -> String {
        format!("{}:jobs:{}", self.prefix, J::NAME)
    }
}

impl Queue {
    /// Jobs in Redis.
    pub async fn redis(
        url: &service::config::RedisUrl,
        settings: &QueueSettings,
    ) -> anyhow::Result<Self> {
        if url.is_tls() {
            service::redis::install_tls_provider();
        }
        let conn = apalis_redis::connect(url.expose()).await.map_err(|e| {
            anyhow::anyhow!("{}: cannot connect the job queue to {url}: {e}", url.var())
        })?;
        let config = |queue: String| {
            apalis_redis::Config::default()
                .queue(queue)
                .heartbeat_interval(settings.heartbeat)
                .missed_heartbeats(2)
        };
        Ok(Self::Redis(Queues {
            digests: RedisStorage::new(conn.clone())
                .with_config(config(settings.name::<DigestJob>())),
            deliveries: RedisStorage::new(conn.clone())
                .with_config(config(settings.name::<DeliveryJob>())),
            reminders: RedisStorage::new(conn).with_config(config(settings.name::<ReminderJob>())),
        }))
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
        set_up_job_tables(&pool).await?;
        let config = |queue: String| {
            apalis_sqlite::Config::default()
                .queue(queue)
                .heartbeat_interval(settings.heartbeat)
                .missed_heartbeats(2)
        };
        Ok(Self::Sqlite(Queues {
            digests: SqliteStorage::new(&pool).with_config(config(settings.name::<DigestJob>())),
            deliveries: SqliteStorage::new(&pool)
                .with_config(config(settings.name::<DeliveryJob>())),
            reminders: SqliteStorage::new(&pool)
                .with_config(config(settings.name::<ReminderJob>())),
        }))
    }

    /// Pushes a task onto its job's queue.
    pub async fn push<J: Job>(&self, task: Task<J>) -> anyhow::Result<()> {
        match self {
            Self::Redis(queues) => J::storage(queues).clone().push_task(task).await?,
            Self::Sqlite(queues) => J::storage(queues).clone().push_task(task).await?,
        }
        Ok(())
    }
}

/// One queue's jobs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Depth {
    /// Queued and not yet taken, due now or later (a retry waiting out
    /// its backoff, a reminder before its time).
    pub pending: i64,
    /// Taken by a worker and not finished.
    pub running: i64,
}

impl Queue {
    /// Each queue's depth, by job name.
    pub async fn depths(&self) -> anyhow::Result<Vec<(&'static str, Depth)>> {
        Ok(match self {
            Self::Redis(q) => vec![
                (DigestJob::NAME, redis_depth(&q.digests).await?),
                (DeliveryJob::NAME, redis_depth(&q.deliveries).await?),
                (ReminderJob::NAME, redis_depth(&q.reminders).await?),
            ],
            Self::Sqlite(q) => vec![
                (DigestJob::NAME, sqlite_depth(&q.digests).await?),
                (DeliveryJob::NAME, sqlite_depth(&q.deliveries).await?),
                (ReminderJob::NAME, sqlite_depth(&q.reminders).await?),
            ],
        })
    }
}

/// Read from the queue's keys as apalis lays them out: jobs due wait in a
/// list, later ones in a sorted set, taken ones in a set per worker.
async fn redis_depth<J>(storage: &RedisStorage<J>) -> anyhow::Result<Depth> {
    let config = storage.get_config();
    let mut conn = storage.clone().get_connection().clone();
    let (due, later, workers): (i64, i64, Vec<String>) = redis::pipe()
        .llen(config.active_jobs_list())
        .zcard(config.scheduled_jobs_set())
        .zrange(config.workers_set(), 0, -1)
        .query_async(&mut conn)
        .await?;
    let mut running = 0;
    if !workers.is_empty() {
        let mut taken = redis::pipe();
        for worker in &workers {
            taken.scard(format!("{}:{worker}", config.inflight_jobs_set()));
        }
        let counts: Vec<i64> = taken.query_async(&mut conn).await?;
        running = counts.iter().sum();
    }
    Ok(Depth {
        pending: due + later,
        running,
    })
}

/// apalis's own statistics of a SQLite queue.
async fn sqlite_depth<J>(storage: &SqliteStorage<J>) -> anyhow::Result<Depth>
where
    SqliteStorage<J>: Metrics<Error = apalis_sqlite::Error>,
{
    let statistics = storage.fetch_by_queue().await?;
    let figure = |title: &str| {
        statistics
            .iter()
            .find(|s| s.title == title)
            .and_then(|s| s.value.parse::<f64>().ok())
            .map_or(0, |v| v as i64)
    };
    Ok(Depth {
        pending: figure("PENDING_JOBS"),
        running: figure("RUNNING_JOBS"),
    })
}

/// A task's run time as apalis takes it; an instant before 1970 runs now.
pub fn system_time(at: DateTime<Utc>) -> SystemTime {
    SystemTime::from(at).max(SystemTime::UNIX_EPOCH)
}

/// Creates apalis's tables in the file behind `pool`. apalis's `setup` also
/// sets `PRAGMA synchronous = OFF` on the connection it runs on, and a
/// commit on such a connection can be lost, or the file corrupted, by an
/// OS crash or a power cut. So it runs on a connection of its own, closed
/// straight after: the pool's connections keep SQLite's durable `FULL`,
/// and the WAL journal that `setup` turns on stays, as it is the file's.
async fn set_up_job_tables(pool: &apalis_sqlite::SqlitePool) -> anyhow::Result<()> {
    let options = pool.connect_options().as_ref().clone();
    let setup = apalis_sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    let done = SqliteStorage::setup(&setup).await;
    setup.close().await;
    done.map_err(|e| anyhow::anyhow!("setting up the job tables: {e}"))
}
