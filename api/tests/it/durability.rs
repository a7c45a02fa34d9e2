//! The embedded default keeps what it acknowledged: every connection to the
//! SQLite file syncs its commits to disk, whatever the job queue's own
//! setup asked of the connection it ran on.

use sea_orm::sqlx;

use crate::common::TestApp;

#[tokio::test]
async fn every_connection_to_the_sqlite_file_commits_durably() {
    // With the worker inside, as on the embedded default: its job queue
    // sets up its tables in the same file.
    let app = TestApp::spawn_worker(&[]).await;
    if app.db.get_database_backend() != sea_orm::DatabaseBackend::Sqlite {
        // PostgreSQL's durability is the server's own setting.
        app.stop().await;
        return;
    }
    let pool = app.db.get_sqlite_connection_pool();
    let mut held = Vec::new();
    for _ in 0..pool.options().get_max_connections() {
        let mut connection = pool.acquire().await.expect("a connection");
        let (synchronous,): (i64,) = sqlx::query_as("PRAGMA synchronous")
            .fetch_one(&mut *connection)
            .await
            .unwrap();
        let (journal,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(&mut *connection)
            .await
            .unwrap();
        // 2 is FULL: in WAL mode, each commit is synced before it returns.
        assert_eq!(
            (synchronous, journal.as_str()),
            (2, "wal"),
            "connection {}",
            held.len()
        );
        held.push(connection);
    }
    drop(held);
    app.stop().await;
}
