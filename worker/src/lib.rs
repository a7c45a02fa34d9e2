//! The worker: background work that must not slow down requests. It runs as
//! its own `worker` binary next to PostgreSQL and Redis, or inside the `api`
//! process on the embedded default.

use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

/// What the worker's jobs can reach.
#[derive(Clone)]
pub struct Context {
    pub db: DatabaseConnection,
}

/// Runs the worker until `shutdown` is cancelled.
pub async fn run(context: Context, shutdown: CancellationToken) -> anyhow::Result<()> {
    let _context = context;
    tracing::info!("worker started");
    shutdown.cancelled().await;
    tracing::info!("worker stopped");
    Ok(())
}
