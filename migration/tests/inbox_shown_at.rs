//! The migration that makes the in-app channel a column of the
//! notification keeps every inbox as it was, and gives it back on the way
//! down.

use migration::{Migrator, MigratorTrait};
use sea_orm_migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection};

/// Migrations before the one under test.
const BEFORE: u32 = 19;

const SEED: [&str; 5] = [
    "INSERT INTO users (id, email, display_name, password_hash, created_at) \
     VALUES (1, 'fan@example.com', 'Fan', 'x', '2026-12-01 10:00:00+00')",
    // In the inbox, with an email too.
    "INSERT INTO notifications (id, user_id, kind, dedupe_key, title, body, payload, held, created_at) \
     VALUES (1, 1, 'LIVE_EVENT', 'event:1', 'Goal', 'A goal.', '{}', FALSE, '2026-12-01 10:00:00+00')",
    // Email only: in-app was off.
    "INSERT INTO notifications (id, user_id, kind, dedupe_key, title, body, payload, held, created_at) \
     VALUES (2, 1, 'LIVE_EVENT', 'event:2', 'Goal', 'A goal.', '{}', FALSE, '2026-12-01 10:05:00+00')",
    "INSERT INTO deliveries (notification_id, channel, status, attempts, delivered_at, created_at, updated_at) \
     VALUES (1, 'IN_APP', 'DELIVERED', 1, '2026-12-01 10:00:00+00', '2026-12-01 10:00:00+00', '2026-12-01 10:00:00+00')",
    "INSERT INTO deliveries (notification_id, channel, status, attempts, created_at, updated_at) \
     VALUES (1, 'EMAIL', 'PENDING', 0, '2026-12-01 10:00:00+00', '2026-12-01 10:00:00+00'), \
            (2, 'EMAIL', 'PENDING', 0, '2026-12-01 10:05:00+00', '2026-12-01 10:05:00+00')",
];

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(sea_orm_migration::sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index(0).unwrap()
}

async fn in_app_deliveries_move_onto_their_notifications(db: &DatabaseConnection) {
    Migrator::up(db, Some(BEFORE)).await.expect("up to before");
    for sql in SEED {
        db.execute_unprepared(sql).await.expect(sql);
    }

    Migrator::up(db, Some(1)).await.expect("up");
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM notifications WHERE id = 1 AND shown_at IS NOT NULL"
        )
        .await,
        1,
        "the notification delivered in-app is shown"
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM notifications WHERE id = 2 AND shown_at IS NULL"
        )
        .await,
        1,
        "the email-only one stays out of the inbox"
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM deliveries WHERE channel = 'IN_APP'"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM deliveries WHERE channel = 'EMAIL'"
        )
        .await,
        2,
        "the deliveries that send are left as they were"
    );

    Migrator::down(db, Some(1)).await.expect("down");
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM deliveries WHERE channel = 'IN_APP' AND notification_id = 1 \
             AND status = 'DELIVERED' AND delivered_at IS NOT NULL"
        )
        .await,
        1,
        "down gives the in-app delivery back"
    );
    assert_eq!(count(db, "SELECT COUNT(*) FROM deliveries").await, 3);
}

#[tokio::test]
async fn in_app_deliveries_move_onto_their_notifications_on_sqlite() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    in_app_deliveries_move_onto_their_notifications(&db).await;
}

/// Runs only when `DATABASE_URL` points at PostgreSQL, in a scratch
/// database of its own.
#[tokio::test]
async fn in_app_deliveries_move_onto_their_notifications_on_postgres() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        return;
    };
    if !url.starts_with("postgres") {
        return;
    }
    let admin = Database::connect(&url).await.unwrap();
    let name = format!(
        "mig_shown_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    admin
        .execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#))
        .await
        .unwrap();
    let (server, _) = url.rsplit_once('/').unwrap();
    let db = Database::connect(format!("{server}/{name}")).await.unwrap();
    in_app_deliveries_move_onto_their_notifications(&db).await;
    db.close().await.unwrap();
    admin
        .execute_unprepared(&format!(r#"DROP DATABASE "{name}""#))
        .await
        .unwrap();
}
