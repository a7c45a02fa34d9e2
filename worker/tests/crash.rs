//! The `worker` binary as operators run it: killed in the middle of a batch
//! of digests and started again, every user still gets exactly one digest.
//! Runs on SQLite, or on PostgreSQL and Redis when `DATABASE_URL` and
//! `REDIS_URL` point at them.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use entity::{
    DeliveryStatus, NotificationKind, delivery, digest_run, follow, notification,
    notification_preference,
};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, DatabaseConnection,
    EntityTrait as _, PaginatorTrait as _, QueryFilter as _,
};
use test_support::notify::SmtpServer;
use test_support::{TestDatabase, accounts, seed};

const USERS: usize = 12;

/// An SMTP server that takes a while over each mail, so that a worker can
/// be killed in the middle of a batch.
fn start_smtp() -> SmtpServer {
    SmtpServer::start_slow(Duration::from_millis(400))
}

struct Setup {
    env: Vec<(String, String)>,
    db: DatabaseConnection,
    emails: Vec<String>,
    _database: TestDatabase,
}

async fn setup(dir: &tempfile::TempDir, smtp_url: &str) -> Setup {
    setup_for(dir, smtp_url, USERS).await
}

async fn setup_for(dir: &tempfile::TempDir, smtp_url: &str, users: usize) -> Setup {
    let database = TestDatabase::create().await;
    let url = database.url.clone();
    let parsed = service::config::DatabaseUrl::parse(&url).unwrap();
    let db = service::db::connect(&parsed, Default::default())
        .await
        .unwrap();
    service::db::migrate(&db).await.unwrap();

    let season = seed::season(&db).await;
    let teams = [
        seed::team(&db, "Arsenal", "arsenal").await,
        seed::team(&db, "Chelsea", "chelsea").await,
    ];
    let kickoff = "2026-12-01T15:00:00Z".parse().unwrap();
    seed::fixture(&db, &season, &teams[0], &teams[1], kickoff).await;

    let mut emails = Vec::new();
    for i in 0..users {
        let user = accounts::user(&db, &format!("fan{i}@example.com")).await;
        let mut preferences: notification_preference::ActiveModel =
            notification_preference::Entity::find_by_id(user.id)
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .into();
        preferences.daily_enabled = Set(true);
        preferences.email_enabled = Set(true);
        preferences.update(&db).await.unwrap();
        follow::ActiveModel {
            user_id: Set(user.id),
            team_id: Set(teams[i % 2].id),
            live_kinds: Set(None),
            created_at: Set(Utc::now()),
        }
        .insert(&db)
        .await
        .unwrap();
        emails.push(user.email);
    }

    let mut env = vec![
        ("DATABASE_URL".to_owned(), url),
        ("SMTP_URL".to_owned(), smtp_url.to_owned()),
        ("JOB_POLL_MS".to_owned(), "100".to_owned()),
        ("JOB_HEARTBEAT_SECS".to_owned(), "1".to_owned()),
        ("DELIVERY_TIMEOUT_SECS".to_owned(), "1".to_owned()),
        (
            "MAIL_OUTBOX_DIR".to_owned(),
            dir.path().join("outbox").display().to_string(),
        ),
        (
            "BUS_CHANNEL_PREFIX".to_owned(),
            format!("test-{}", uuid::Uuid::new_v4().simple()),
        ),
        ("RUST_LOG".to_owned(), "warn".to_owned()),
    ];
    if let Ok(redis) = std::env::var("REDIS_URL") {
        env.push(("REDIS_URL".to_owned(), redis));
    }
    Setup {
        env,
        db,
        emails,
        _database: database,
    }
}

fn worker(env: &[(String, String)], args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_worker"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    command
}

/// A running worker process, killed when dropped so a failing test leaves none behind.
struct Running(Child);

impl Running {
    /// SIGKILL: no graceful shutdown, as when a machine dies.
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

fn start(env: &[(String, String)]) -> Running {
    Running(
        worker(env, &[])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the worker starts"),
    )
}

/// Emails delivered, by the database's account.
/// A plain HTTP/1.0 GET against the worker's metrics server.
fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.contains(" 200 OK"), "{response}");
    response
}

async fn delivered(db: &DatabaseConnection) -> u64 {
    delivery::Entity::find()
        .filter(delivery::Column::Channel.eq(entity::DeliveryChannel::Email))
        .filter(delivery::Column::Status.eq(DeliveryStatus::Delivered))
        .count(db)
        .await
        .unwrap()
}

async fn wait(secs: u64, what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while !done().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The running worker's own cron sends whatever is due by the wall clock.
/// Moving the users' daily digest about twelve hours away from now keeps
/// it from finding them due while the test runs, so only the batch the
/// test queued is sent; returns that batch's `--as-of`, half an hour after
/// the digest time on 1 December, the day of the seeded fixture.
async fn digest_time_away_from_now(db: &DatabaseConnection) -> String {
    use chrono::Timelike as _;
    use sea_orm::sea_query::Expr;

    let away = (Utc::now() + chrono::Duration::hours(12)).time();
    let time = chrono::NaiveTime::from_hms_opt(away.hour().min(22), away.minute(), 0).unwrap();
    notification_preference::Entity::update_many()
        .col_expr(
            notification_preference::Column::DailyTime,
            Expr::value(time.format("%H:%M").to_string()),
        )
        .exec(db)
        .await
        .unwrap();
    let as_of = time + chrono::Duration::minutes(30);
    format!("2026-12-01T{}:00Z", as_of.format("%H:%M"))
}

#[tokio::test]
async fn a_worker_killed_mid_batch_and_restarted_leaves_every_user_exactly_one_digest() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = start_smtp();
    let setup = setup(&dir, &smtp.url).await;
    let as_of = digest_time_away_from_now(&setup.db).await;

    let output = worker(
        &setup.env,
        &["digest", "--kind", "daily", "--as-of", &as_of],
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("queued {USERS} daily digest job(s)")),
        "{stdout}"
    );

    let mut first = start(&setup.env);
    wait(60, "the first mails", async || smtp.mails().len() >= 3).await;
    first.kill();
    let at_kill = smtp.mails().len();
    assert!(
        at_kill < USERS,
        "the kill came after the whole batch ({at_kill})"
    );

    let metrics_port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut env = setup.env.clone();
    env.push(("METRICS_PORT".to_owned(), metrics_port.to_string()));
    let mut second = start(&env);
    wait(90, "every digest to be delivered", async || {
        delivered(&setup.db).await == USERS as u64
    })
    .await;
    // The restarted worker counts what it delivered on its /metrics.
    let metrics = http_get(metrics_port, "/metrics");
    let line = metrics
        .lines()
        .find(|l| {
            l.starts_with(r#"inthegame_deliveries_total{channel="EMAIL",outcome="delivered"}"#)
        })
        .unwrap_or_else(|| panic!("no delivered count in {metrics}"));
    let count: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 1, "{line}");
    second.kill();

    let runs = digest_run::Entity::find().count(&setup.db).await.unwrap();
    assert_eq!(runs, USERS as u64);
    let digests = notification::Entity::find()
        .filter(notification::Column::Kind.eq(NotificationKind::DailyDigest))
        .all(&setup.db)
        .await
        .unwrap();
    let mut owners: Vec<i64> = digests.iter().map(|n| n.user_id).collect();
    owners.sort_unstable();
    owners.dedup();
    assert_eq!(digests.len(), USERS, "one digest per user");
    assert_eq!(owners.len(), USERS);

    // Every user got their digest's mail. A mail the server took just as
    // the worker died may come again, under the same Message-ID, which is
    // how mail clients tell it is the same message.
    let received = smtp.mails();
    for email in &setup.emails {
        let mut ids: Vec<&str> = received
            .iter()
            .filter(|mail| &mail.to == email)
            .map(|mail| mail.message_id.as_str())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 1, "{email}: {ids:?}");
    }
    eprintln!(
        "{} mails for {USERS} users; {at_kill} had arrived when the worker was killed",
        received.len()
    );
}

/// A batch whose mails take longer to go out than the worker's hold on
/// them: one SMTP session, 400 ms a mail, 40 mails, against a hold of a
/// few seconds (`DELIVERY_TIMEOUT_SECS` 1). Meanwhile the worker's own
/// sweep hands deliveries whose hold ran out to new attempts. However the
/// two meet, each fan gets one mail, not one from each.
#[tokio::test]
async fn a_batch_that_outlasts_its_hold_on_the_deliveries_sends_each_mail_once() {
    const FANS: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let smtp = start_smtp();
    let mut setup = setup_for(&dir, &smtp.url, FANS).await;
    setup
        .env
        .push(("SMTP_CONNECTIONS".to_owned(), "1".to_owned()));
    let as_of = digest_time_away_from_now(&setup.db).await;

    let output = worker(
        &setup.env,
        &["digest", "--kind", "daily", "--as-of", &as_of],
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{output:?}");

    let _worker = start(&setup.env);
    wait(120, "every digest to be delivered", async || {
        delivered(&setup.db).await == FANS as u64
    })
    .await;
    // Time for a second copy to arrive, if one were on its way.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let received = smtp.mails();
    for email in &setup.emails {
        let copies = received.iter().filter(|mail| &mail.to == email).count();
        assert_eq!(copies, 1, "{email} got {copies} mails");
    }
    assert_eq!(received.len(), FANS);
}

#[tokio::test]
async fn the_digest_command_explains_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = start_smtp();
    let setup = setup(&dir, &smtp.url).await;

    let digest = |as_of: &str, user: &str| {
        let mut args = vec!["digest", "--kind", "daily", "--as-of", as_of];
        if !user.is_empty() {
            args.extend(["--user", user]);
        }
        let output = worker(&setup.env, &args).output().unwrap();
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        (
            output.status.code(),
            text(&output.stdout),
            text(&output.stderr),
        )
    };

    let (code, _, stderr) = digest("tomorrow", "");
    assert_eq!(code, Some(2));
    assert!(stderr.contains("expected an RFC 3339 instant"), "{stderr}");

    let (code, _, stderr) = digest("2026-12-01T08:30:00Z", "nobody@example.com");
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("no account has the email nobody@example.com"),
        "{stderr}"
    );

    let (code, stdout, stderr) = digest("2026-12-01T08:30:00Z", "fan3@example.com");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("queued 1 daily digest job(s)"), "{stdout}");
    assert!(!stdout.contains("follows no team"), "{stdout}");
}

/// `--user` says why no job was queued, or that the one queued will be empty.
#[tokio::test]
async fn the_digest_command_says_why_it_queued_nothing_for_a_user() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = start_smtp();
    let setup = setup(&dir, &smtp.url).await;
    let user_id = |email: &str| {
        let db = setup.db.clone();
        let email = email.to_owned();
        async move {
            service::accounts::find_by_email(&db, &email)
                .await
                .unwrap()
                .unwrap()
                .id
        }
    };
    let digest = |as_of: &str, user: &str| {
        let args = [
            "digest", "--kind", "daily", "--as-of", as_of, "--user", user,
        ];
        let output = worker(&setup.env, &args).output().unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };

    // Their digest time is 08:00 in London; 20:00 is past the catch-up.
    let stdout = digest("2026-12-01T20:00:00Z", "fan0@example.com");
    assert!(stdout.contains("queued 0 daily digest job(s)"), "{stdout}");
    assert!(
        stdout.contains(
            "none for fan0@example.com: their last daily digest time before then, \
             2026-12-01 08:00 (Europe/London), was more than DIGEST_CATCH_UP_HOURS (3 h) earlier"
        ),
        "{stdout}"
    );

    let fan1 = user_id("fan1@example.com").await;
    let mut preferences: notification_preference::ActiveModel =
        notification_preference::Entity::find_by_id(fan1)
            .one(&setup.db)
            .await
            .unwrap()
            .unwrap()
            .into();
    preferences.daily_enabled = Set(false);
    preferences.update(&setup.db).await.unwrap();
    let stdout = digest("2026-12-01T08:30:00Z", "fan1@example.com");
    assert!(
        stdout.contains("none for fan1@example.com: their daily digest is off; updateNotificationPreferences turns it on"),
        "{stdout}"
    );

    let fan2 = user_id("fan2@example.com").await;
    digest_run::ActiveModel {
        user_id: Set(fan2),
        kind: Set(NotificationKind::DailyDigest),
        period: Set("2026-12-01".into()),
        notification_id: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&setup.db)
    .await
    .unwrap();
    let stdout = digest("2026-12-01T08:30:00Z", "fan2@example.com");
    assert!(
        stdout.contains(
            "none for fan2@example.com: their daily digest for 2026-12-01 was already handled"
        ),
        "{stdout}"
    );

    let fan3 = user_id("fan3@example.com").await;
    follow::Entity::delete_many()
        .filter(follow::Column::UserId.eq(fan3))
        .exec(&setup.db)
        .await
        .unwrap();
    let stdout = digest("2026-12-01T08:30:00Z", "fan3@example.com");
    assert!(stdout.contains("queued 1 daily digest job(s)"), "{stdout}");
    assert!(
        stdout.contains(
            "fan3@example.com follows no team, competition or match, so the digest will have nothing to report"
        ),
        "{stdout}"
    );
}
