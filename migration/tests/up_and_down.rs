use migration::{Migrator, MigratorTrait};
use sea_orm_migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection};

async fn apply_roll_back_and_reapply(db: &DatabaseConnection) {
    Migrator::up(db, None).await.expect("first up");
    Migrator::down(db, None).await.expect("down");
    Migrator::up(db, None).await.expect("second up");
}

#[tokio::test]
async fn migrations_apply_roll_back_and_reapply_on_sqlite() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    apply_roll_back_and_reapply(&db).await;
}

/// Runs only when `DATABASE_URL` points at PostgreSQL; it creates a scratch
/// database next to the one named there and drops it afterwards.
#[tokio::test]
async fn migrations_apply_roll_back_and_reapply_on_postgres() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        return;
    };
    if !url.starts_with("postgres") {
        return;
    }

    let admin = Database::connect(&url).await.unwrap();
    let name = scratch_database_name();
    admin
        .execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#))
        .await
        .unwrap();

    let db = Database::connect(&with_database(&url, &name))
        .await
        .unwrap();
    apply_roll_back_and_reapply(&db).await;
    db.close().await.unwrap();

    admin
        .execute_unprepared(&format!(r#"DROP DATABASE "{name}""#))
        .await
        .unwrap();
}

fn scratch_database_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("mig_{}_{nanos}", std::process::id())
}

/// Replaces the database name in a `postgres://…/name?options` URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}
