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
        .sqlx_logging(false);
    if url.is_sqlite() {
        // One writer at a time is all SQLite allows; a small pool avoids
        // piling up writers behind the lock.
        options.max_connections(4);
    } else {
        options.max_connections(20);
    }
    let db = match Database::connect(options).await {
        Ok(db) => db,
        Err(err) => {
            let cause = match unreachable_because(url).await {
                Some(cause) => cause,
                None => err.to_string(),
            };
            anyhow::bail!("DATABASE_URL: cannot connect to {url}: {cause}");
        }
    };
    Ok(db)
}

/// The pool retries a server it cannot reach until its timeout, and then
/// says only "pool timed out"; one plain TCP connection tells the operator
/// why. `None` when the server's port answers (the pool's error, such as
/// an unknown database or a bad password, then says what is wrong).
async fn unreachable_because(url: &DatabaseUrl) -> Option<String> {
    if url.is_sqlite() {
        return None;
    }
    let parsed = url::Url::parse(url.expose()).ok()?;
    let address = format!("{}:{}", parsed.host_str()?, parsed.port().unwrap_or(5432));
    let wait = Duration::from_secs(5);
    match tokio::time::timeout(wait, tokio::net::TcpStream::connect(&address)).await {
        Ok(Ok(_)) => None,
        Ok(Err(err)) if err.kind() == std::io::ErrorKind::ConnectionRefused => Some(format!(
            "connection refused by {address}: is PostgreSQL running and listening there?"
        )),
        Ok(Err(err)) => Some(format!("cannot reach {address}: {err}")),
        Err(_) => Some(format!("no answer from {address} within {wait:?}")),
    }
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
