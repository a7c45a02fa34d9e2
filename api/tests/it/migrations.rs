//! Migrations as operators meet them: replicas that start together on an
//! empty database, `api migrate` as a separate step, and a binary older
//! than the database it is pointed at.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Output, Stdio};

use sea_orm::{ConnectionTrait as _, Database};

use crate::common::TestDatabase;

const API: &str = env!("CARGO_BIN_EXE_api");

/// `api` with a clean environment on `database_url`, in a folder of its own.
fn api(dir: &std::path::Path, database_url: &str) -> Command {
    let mut command = Command::new(API);
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("PORT", "0");
    if let Ok(redis) = std::env::var("REDIS_URL") {
        command.env("REDIS_URL", redis).env(
            "BUS_CHANNEL_PREFIX",
            format!("test-{}", uuid::Uuid::new_v4().simple()),
        );
    }
    command
}

fn migrate(dir: &std::path::Path, database_url: &str) -> Output {
    api(dir, database_url)
        .arg("migrate")
        .output()
        .expect("api runs")
}

/// Waits for the server's "GraphiQL:" line (logged at `info`, the
/// default); `None` when it exits first.
fn wait_until_serving(child: &mut Child) -> Option<String> {
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    for line in stdout.lines() {
        let line = line.ok()?;
        if let Some(at) = line.find("GraphiQL: ") {
            return Some(line[at + "GraphiQL: ".len()..].trim().to_owned());
        }
    }
    None
}

#[tokio::test]
async fn four_replicas_started_at_once_on_an_empty_postgres_all_serve() {
    if !std::env::var("DATABASE_URL").is_ok_and(|url| url.starts_with("postgres")) {
        // Replicas share a database only on PostgreSQL.
        return;
    }
    let database = TestDatabase::create().await;
    let dirs: Vec<_> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let url = database.url.clone();
    let started = tokio::task::spawn_blocking(move || {
        let mut children: Vec<Child> = dirs
            .iter()
            .map(|dir| {
                api(dir.path(), &url)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("api starts")
            })
            .collect();
        let serving: Vec<Option<String>> = children.iter_mut().map(wait_until_serving).collect();
        for child in &mut children {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        let outputs: Vec<Output> = children
            .into_iter()
            .map(|child| child.wait_with_output().expect("api exits"))
            .collect();
        (serving, outputs)
    })
    .await
    .unwrap();
    let (serving, outputs) = started;
    for (address, output) in serving.iter().zip(&outputs) {
        assert!(
            address.is_some(),
            "a replica did not start: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "{:?}", output.status);
    }

    // Everything was applied once: the next run has nothing left to do.
    let dir = tempfile::tempdir().unwrap();
    let output = migrate(dir.path(), &database.url);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let count = migration_count();
    assert!(
        stdout.contains(&format!("{count} migration(s) applied")),
        "{stdout}"
    );
}

fn migration_count() -> usize {
    use migration::MigratorTrait as _;
    migration::Migrator::migrations().len()
}

#[tokio::test]
async fn api_migrate_brings_the_schema_up_to_date_and_exits() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let output = migrate(dir.path(), &database.url);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(
            stdout.starts_with("the database schema is up to date: "),
            "{stdout}"
        );
        assert!(stdout.contains(&format!("{} migration(s)", migration_count())));
    }
}

#[tokio::test]
async fn a_database_migrated_by_a_newer_release_is_refused_in_one_line() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    assert!(migrate(dir.path(), &database.url).status.success());
    let db = Database::connect(&database.url).await.unwrap();
    db.execute_unprepared(
        "INSERT INTO seaql_migrations (version, applied_at) \
         VALUES ('m20991231_000001_from_the_future', 0)",
    )
    .await
    .unwrap();
    db.close().await.ok();

    for command in [&["migrate"][..], &[][..]] {
        let output = api(dir.path(), &database.url)
            .args(command)
            .output()
            .expect("api runs");
        assert!(!output.status.success(), "{command:?} should refuse to run");
        let stderr = String::from_utf8(output.stderr).unwrap();
        let last = stderr.trim().lines().last().unwrap_or_default();
        assert!(
            last.starts_with("error: ")
                && last.contains("the database schema is newer than this binary")
                && last.contains("m20991231_000001_from_the_future"),
            "{stderr}"
        );
    }
}
