//! Where the api composes the worker, and the only module of the api that
//! names the `worker` crate. Every api process connects the worker's job
//! queue, which operations push to through `service::jobs::JobQueue`; on
//! the embedded default it also runs the worker's loops inside itself.

use std::sync::Arc;

use prometheus_client::registry::Registry;
use sea_orm::DatabaseConnection;
use service::Config;
use service::jobs::Jobs;
use service::live::bus::Bus;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The worker as this process holds it: its queue and channels, and its
/// loops once started.
#[derive(Clone)]
pub struct Worker(worker::Context);

impl Worker {
    /// Connects the job queue and the channels.
    pub async fn connect(
        config: &Config,
        db: DatabaseConnection,
        bus: Bus,
    ) -> anyhow::Result<Self> {
        Ok(Self(worker::Context::connect(config, db, bus).await?))
    }

    /// Where the api queues work for the worker.
    pub fn jobs(&self) -> Jobs {
        Arc::new(self.0.clone())
    }

    /// Registers the worker's counters in this process's metrics.
    pub fn register_metrics(&self, registry: &mut Registry) {
        self.0.register_metrics(registry);
    }

    /// Runs the worker's loops in this process until `shutdown`.
    pub fn spawn(&self, shutdown: CancellationToken) -> JoinHandle<anyhow::Result<()>> {
        tokio::spawn(worker::run(self.0.clone(), shutdown))
    }

    /// The server's VAPID identity, if Web Push is on: made or read once,
    /// by the worker's channel, and shown to clients by the api.
    pub fn vapid(&self) -> Option<Arc<service::notifications::web_push::Vapid>> {
        self.0.web_push.vapid()
    }

    /// The worker's own context, for tests that drive it directly.
    pub fn context(&self) -> &worker::Context {
        &self.0
    }
}
