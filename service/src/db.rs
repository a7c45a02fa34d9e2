//! Opening the database and bringing its schema up to date.

use std::time::Duration;

use anyhow::Context as _;
use migration::MigratorTrait as _;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

use crate::config::DatabaseUrl;

/// Connects to the database, creating the SQLite file's folder first.
/// Errors name `DATABASE_URL`, since that is what the operator must fix.
pub async fn connect(url: &DatabaseUrl) -> anyhow::Result<DatabaseConnection> {
    if let Some(path) = url.sqlite_path()
        && let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("DATABASE_URL: cannot create the folder {}", dir.display()))?;
    }
    let mut options = ConnectOptions::new(url.expose());
    options
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        // A ping before every statement would triple its round trips; a
        // connection idle long enough to have been dropped is still checked.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false);
    if url.is_sqlite() {
        // One writer at a time is all SQLite allows; a small pool avoids
        // piling up writers behind the lock.
        options.max_connections(4);
    } else {
        options.max_connections(20);
    }
    let db = Database::connect(options)
        .await
        .map_err(|e| anyhow::anyhow!("DATABASE_URL: cannot connect to {url}: {e}"))?;
    Ok(db)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    migration::Migrator::up(db, None)
        .await
        .context("applying database migrations")
}

/// True when the database answers a trivial query.
pub async fn is_reachable(db: &DatabaseConnection) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}
