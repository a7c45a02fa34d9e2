//! Opening the database, bringing its schema up to date, and telling a
//! database that is down from one that refused a statement.

use std::time::Duration;

use anyhow::Context as _;
use migration::MigratorTrait as _;
use sea_orm::sea_query::{Expr, ExprTrait as _, PgFunc};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::sqlx::{self, Connection as _};
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DbErr, RuntimeErr, Statement, TransactionTrait as _,
};

use crate::config::DatabaseUrl;

/// `column` is one of `ids`. PostgreSQL gets one array parameter
/// (`= ANY($1)`): the same statement, planned once, however many ids.
/// SQLite has no arrays and gets a parameter per id, so callers pass a
/// bounded batch.
///
/// On PostgreSQL the ids' range comes too. A batch of a crowd is a run
/// of neighbouring ids, and the range is what lets the planner see that:
/// given only the array, it scanned all of `follows` (or hash-joined all
/// of `users`) for each batch of 1,000 of 100,000 fans, 15 to 26 ms
/// where the index takes 1 to 6, cached plan or not.
pub fn is_one_of(backend: DatabaseBackend, column: impl ColumnTrait, ids: &[i64]) -> Expr {
    match backend {
        DatabaseBackend::Postgres => {
            let one_of = Expr::col(column.as_column_ref()).eq(PgFunc::any(Expr::val(ids.to_vec())));
            match (ids.iter().min(), ids.iter().max()) {
                (Some(&low), Some(&high)) => Expr::col(column.as_column_ref())
                    .between(low, high)
                    .and(one_of),
                _ => one_of,
            }
        }
        _ => column.is_in(ids.iter().copied()),
    }
}

/// How the pool behaves when the database is slow or gone.
#[derive(Clone, Copy, Debug)]
pub struct PoolOptions {
    /// Longest a statement waits for a connection before it fails as
    /// unavailable. Short, so that an unreachable database fails requests
    /// fast instead of holding them until the request timeout.
    pub acquire_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            acquire_timeout: Duration::from_secs(2),
        }
    }
}

/// Connects to the database, creating the SQLite file's folder first.
/// Errors name `DATABASE_URL`, since that is what the operator must fix.
pub async fn connect(url: &DatabaseUrl, pool: PoolOptions) -> anyhow::Result<DatabaseConnection> {
    if let Some(path) = url.sqlite_path()
        && let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("DATABASE_URL: cannot create the folder {}", dir.display()))?;
    }
    let mut options = ConnectOptions::new(url.expose());
    options
        .connect_timeout(pool.acquire_timeout)
        .acquire_timeout(pool.acquire_timeout)
        .sqlx_logging(false);
    if url.is_sqlite() {
        // One writer at a time is all SQLite allows; a small pool avoids
        // piling up writers behind the lock.
        // A SQLite connection is a file handle no server can drop, so it
        // needs no ping before each statement. PostgreSQL keeps sqlx's ping:
        // after a server restart it finds the dead pooled connections
        // before a request does.
        // WAL lets reads go on while a write commits; FULL syncs each
        // commit to disk before it is acknowledged, so a power cut loses
        // nothing that was answered as written.
        options
            .max_connections(4)
            .test_before_acquire(false)
            .map_sqlx_sqlite_opts(|connection| {
                connection
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
            })
            .map_sqlx_sqlite_pool_opts(|pool| pool.after_release(release_sqlite));
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

/// Decides whether a SQLite connection may go back to the pool.
///
/// When a COMMIT or ROLLBACK fails (a full disk, an I/O error), SQLite may
/// or may not have ended the transaction by itself, and sqlx's count of
/// open transactions on the connection stays above zero. Pooled again, such
/// a connection turns the next `BEGIN` into a `SAVEPOINT` inside a
/// transaction that is never committed: writes are answered but never
/// stored, and the write lock it holds makes every other connection
/// `database is locked`. So a connection that still counts a transaction
/// once its user let go of it is closed (which rolls back whatever SQLite
/// still holds) and the pool opens a fresh one.
fn release_sqlite(
    conn: &mut sqlx::SqliteConnection,
    _: sqlx::pool::PoolConnectionMetadata,
) -> futures::future::BoxFuture<'_, Result<bool, sqlx::Error>> {
    Box::pin(async move {
        // A dropped transaction queues its rollback on the connection's
        // worker; the ping runs after it, so the count below is final.
        conn.ping().await?;
        if conn.is_in_transaction() {
            tracing::warn!(
                "closing a database connection whose transaction did not end cleanly \
                 (a failed COMMIT or ROLLBACK)"
            );
            return Ok(false);
        }
        Ok(true)
    })
}

/// The PostgreSQL advisory lock that serialises migrations: any 64-bit
/// number that nothing else in the database locks ("ITG_MIGR" in ASCII).
const MIGRATION_LOCK: i64 = 0x4954_475f_4d49_4752;

/// Applies every pending migration, once, however many processes start
/// together.
///
/// On PostgreSQL the migrations run in one transaction that first takes an
/// advisory lock: replicas started at the same moment queue on the lock,
/// and each one after the first finds nothing left to do (without it, their
/// concurrent `CREATE TABLE`s fail on PostgreSQL's catalog). The lock goes
/// with the transaction, so a process killed mid-way holds nothing, and
/// PostgreSQL's transactional DDL leaves either every migration or none.
///
/// A database that has a migration this binary does not know was migrated
/// by a newer release: rather than run on a schema it does not understand,
/// the process stops and says so.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let txn = db
                .begin()
                .await
                .context("applying database migrations: cannot begin a transaction")?;
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
                .await
                .context("applying database migrations: cannot take the migration lock")?;
            refuse_newer_schema(&txn).await?;
            migration::Migrator::up(&txn, None)
                .await
                .context("applying database migrations")?;
            txn.commit()
                .await
                .context("applying database migrations: cannot commit")?;
        }
        _ => {
            refuse_newer_schema(db).await?;
            migration::Migrator::up(db, None)
                .await
                .context("applying database migrations")?;
        }
    }
    Ok(())
}

/// The migrations applied to this database, oldest first (creating the
/// table that records them on a fresh database).
pub async fn applied_migrations(db: &impl ConnectionTrait) -> anyhow::Result<Vec<String>> {
    let applied = migration::Migrator::get_migration_models(db)
        .await
        .context("reading the database's applied migrations")?;
    Ok(applied.into_iter().map(|m| m.version).collect())
}

/// The migrations this database has that this binary does not know.
pub async fn unknown_migrations(db: &impl ConnectionTrait) -> anyhow::Result<Vec<String>> {
    let known: std::collections::HashSet<String> = migration::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    Ok(applied_migrations(db)
        .await?
        .into_iter()
        .filter(|version| !known.contains(version))
        .collect())
}

async fn refuse_newer_schema(db: &impl ConnectionTrait) -> anyhow::Result<()> {
    let unknown = unknown_migrations(db).await?;
    if !unknown.is_empty() {
        anyhow::bail!(
            "the database schema is newer than this binary: it has migration(s) {} applied, \
             which this release does not know; run the release that applied them (or a newer \
             one), or restore a backup taken before it",
            unknown.join(", ")
        );
    }
    Ok(())
}

/// Checks that the database takes work now. On PostgreSQL it answers a
/// query; on SQLite, where reads go on working on a full disk, it must
/// also commit a write: the header's `user_version`, which nothing else
/// uses, is written back unchanged.
pub async fn probe(db: &DatabaseConnection) -> Result<(), DbErr> {
    match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            let version = db
                .query_one_raw(Statement::from_string(
                    DatabaseBackend::Sqlite,
                    "PRAGMA user_version",
                ))
                .await?
                .map(|row| row.try_get_by_index::<i64>(0))
                .transpose()?
                .unwrap_or(0);
            db.execute_unprepared(&format!("PRAGMA user_version = {version}"))
                .await?;
        }
        _ => {
            db.execute_unprepared("SELECT 1").await?;
        }
    }
    Ok(())
}

/// True when the error says the database cannot be reached or cannot take
/// work right now (no connection within the acquire timeout, a lost
/// connection, a full disk, a lock held too long), as opposed to a
/// statement it refused. Such an error is worth retrying later.
pub fn is_unavailable(err: &DbErr) -> bool {
    let runtime = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(runtime) | DbErr::Exec(runtime) | DbErr::Query(runtime) => runtime,
        _ => return false,
    };
    let RuntimeErr::SqlxError(err) = runtime else {
        return false;
    };
    match err.as_ref() {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| unavailable_code(&code)),
        _ => false,
    }
}

/// SQLite result codes (the primary code is the low byte of an extended
/// one) and PostgreSQL SQLSTATEs that mean "not now" rather than "no".
fn unavailable_code(code: &str) -> bool {
    // A SQLSTATE is always five characters, digits or not ("08006");
    // SQLite's codes are shorter numbers.
    let is_sqlstate = code.len() == 5;
    if !is_sqlstate && let Ok(sqlite) = code.parse::<i32>() {
        // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN.
        return matches!(sqlite & 0xff, 5 | 6 | 10 | 13 | 14);
    }
    // Connection exceptions, insufficient resources (a full disk among
    // them), and a server shutting down or starting up.
    code.starts_with("08") || code.starts_with("53") || matches!(code, "57P01" | "57P02" | "57P03")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_and_a_held_lock_are_unavailable_but_a_constraint_is_not() {
        assert!(unavailable_code("13"));
        assert!(unavailable_code("5"));
        assert!(unavailable_code("517"));
        assert!(unavailable_code("778"));
        assert!(!unavailable_code("2067"));
        assert!(!unavailable_code("19"));
    }

    #[test]
    fn a_lost_postgres_connection_is_unavailable_but_a_unique_violation_is_not() {
        assert!(unavailable_code("08006"));
        assert!(unavailable_code("57P01"));
        assert!(unavailable_code("53100"));
        assert!(!unavailable_code("23505"));
    }

    #[test]
    fn a_pool_timeout_is_unavailable() {
        assert!(is_unavailable(&DbErr::ConnectionAcquire(
            sea_orm::ConnAcquireErr::Timeout
        )));
        assert!(!is_unavailable(&DbErr::RecordNotFound("x".into())));
    }
}
