//! Test setup shared by the api and worker tests, a dev-dependency only.
//!
//! `TestApp` is the real server on a free port, on a database of its own:
//! with nothing configured each app gets a fresh SQLite file; when
//! `DATABASE_URL` points at PostgreSQL, a fresh database there, dropped when
//! the app is dropped; when `REDIS_URL` is set, the app uses it. Around it:
//! real peers for the worker's channels (`notify`), an OTLP receiver for
//! traces (`otlp`), a websocket client
//! (`ws`), rows written straight to the database (`seed`, `accounts`), and
//! typed helpers for what tests do again and again (`feed`).

pub mod feed;
pub mod otlp;

use std::net::SocketAddr;

use clap::Parser;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use service::Config;
use tokio::sync::oneshot;

#[derive(Parser)]
struct TestCli {
    #[command(flatten)]
    config: Config,
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: DatabaseConnection,
    pub http: reqwest::Client,
    pub statements: api::app::StatementCounter,
    pub bus: service::live::bus::Bus,
    /// The worker the app composed (its loops run only with `spawn_worker`),
    /// for tests that drive it directly: a dispatch as of any instant, one
    /// poll of the outbox.
    pub worker: worker::Context,
    /// Where this app writes `.eml` files when it has no SMTP server.
    pub mail_dir: std::path::PathBuf,
    _files: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    database: TestDatabase,
    /// This app's own channels on a shared Redis.
    bus_prefix: String,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::start(&[], |_| {}).await
    }

    /// Starts the app with extra flags, e.g. `["--requests-per-ip-per-minute", "2"]`.
    pub async fn spawn_with(extra: &[&str]) -> Self {
        Self::start(extra, |_| {}).await
    }

    /// With the worker running inside, tuned for tests: it polls every
    /// 100 ms unless `extra` says otherwise, beats every second, retries
    /// deliveries after 200 ms, and runs no minute tick unless `extra`
    /// asks for one.
    pub async fn spawn_worker(extra: &[&str]) -> Self {
        let mut args = Vec::new();
        if !extra.contains(&"--job-poll-ms") {
            args.extend(["--job-poll-ms", "100"]);
        }
        args.extend([
            "--job-heartbeat-secs",
            "1",
            "--delivery-retry-base-ms",
            "200",
            "--delivery-timeout-secs",
            "2",
        ]);
        // Tests dispatch digests and reminders as of instants of their own;
        // a tick on the real clock would claim their fans first.
        if !extra.contains(&"--digest-cron") {
            args.extend(["--digest-cron", "false"]);
        }
        args.extend_from_slice(extra);
        Self::start(&args, |o| o.embedded_worker = Some(true)).await
    }

    /// With extra flags and the server options changed first.
    pub async fn spawn_configured(
        extra: &[&str],
        change: impl FnOnce(&mut api::ServeOptions),
    ) -> Self {
        Self::start(extra, change).await
    }

    /// As `spawn`, with the server options changed first (e.g. `demo`).
    pub async fn spawn_with_options(change: impl FnOnce(&mut api::ServeOptions)) -> Self {
        Self::start(&[], change).await
    }

    /// A second api process on this one's database and bus, as replicas
    /// run in production; the bus crosses processes only through Redis, so
    /// this needs `REDIS_URL`.
    pub async fn replica(&self, change: impl FnOnce(&mut api::ServeOptions)) -> Self {
        self.replica_with(&[], change).await
    }

    /// As `replica`, with extra flags.
    pub async fn replica_with(
        &self,
        extra: &[&str],
        change: impl FnOnce(&mut api::ServeOptions),
    ) -> Self {
        assert!(
            std::env::var("REDIS_URL").is_ok(),
            "replicas share a bus only through Redis"
        );
        let database = TestDatabase {
            url: self.database.url.clone(),
            postgres: None,
            _dir: None,
        };
        Self::start_on(database, self.bus_prefix.clone(), extra, change).await
    }

    async fn start(extra: &[&str], change: impl FnOnce(&mut api::ServeOptions)) -> Self {
        let prefix = format!("test-{}", uuid::Uuid::new_v4().simple());
        Self::start_on(TestDatabase::create().await, prefix, extra, change).await
    }

    async fn start_on(
        database: TestDatabase,
        bus_prefix: String,
        extra: &[&str],
        change: impl FnOnce(&mut api::ServeOptions),
    ) -> Self {
        let files = tempfile::tempdir().expect("temp dir");
        let mail_dir = files.path().join("outbox");
        let mut args = vec![
            "test".to_owned(),
            "--mail-outbox-dir".to_owned(),
            mail_dir.display().to_string(),
            "--database-url".to_owned(),
            database.url.clone(),
            "--port".to_owned(),
            "0".to_owned(),
            "--rust-log".to_owned(),
            "warn".to_owned(),
        ];
        if let Ok(redis) = std::env::var("REDIS_URL") {
            // Apps share one Redis; their own channel prefix keeps each
            // test's live events to itself.
            args.extend([
                "--redis-url".to_owned(),
                redis,
                "--bus-channel-prefix".to_owned(),
                bus_prefix.clone(),
            ]);
        }
        if !extra.contains(&"--database-acquire-timeout-ms") {
            // Dozens of test apps, each with its own SQLite writer and
            // often an embedded worker, share two cores: a connection can
            // take longer than the 2 s an operator's default allows.
            args.extend([
                "--database-acquire-timeout-ms".to_owned(),
                "10000".to_owned(),
            ]);
        }
        if !extra.contains(&"--allow-private-webhooks") {
            // Test receivers listen on 127.0.0.1.
            args.extend(["--allow-private-webhooks".to_owned(), "true".to_owned()]);
        }
        if !database.url.starts_with("sqlite") && !extra.contains(&"--vapid-private-key") {
            // The embedded default makes its VAPID key beside its SQLite
            // file; on PostgreSQL a deployment sets one.
            use base64::Engine as _;
            let vapid = service::notifications::web_push::Vapid::generate("mailto:t@example.com")
                .expect("a VAPID key");
            // `=`: a base64url key may start with `-`.
            args.push(format!(
                "--vapid-private-key={}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(vapid.private_key())
            ));
        }
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let config = TestCli::try_parse_from(args).expect("test config").config;
        // Logs only: tests export no spans unless a test starts a binary that does.
        let _ = service::telemetry::init(&config, "api");
        let mut options = api::ServeOptions {
            skip_migrations: false,
            embedded_worker: Some(false),
            ..Default::default()
        };
        change(&mut options);
        let app = api::App::start(config, options).await.expect("app starts");
        let addr = app.local_addr();
        let db = app.state().db.clone();
        let statements = app.state().statements.clone();
        let bus = app.state().bus.clone();
        let worker = app.worker().context().clone();
        let (stop, stopped) = oneshot::channel();
        let server = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            db,
            http: reqwest::Client::new(),
            statements,
            bus,
            worker,
            mail_dir,
            _files: files,
            stop: Some(stop),
            server: Some(server),
            database,
            bus_prefix,
        }
    }

    /// The URL of this app's own database, for a second process to use.
    pub fn database_url(&self) -> &str {
        &self.database.url
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs a GraphQL request with `Authorization: Bearer <token>` and
    /// returns the HTTP response.
    pub async fn post_as(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    /// POSTs a GraphQL request as the holder of `token` and returns the JSON body.
    pub async fn graphql_as(&self, token: &str, query: &str, variables: Value) -> Value {
        self.post_as(Some(token), query, variables)
            .await
            .json()
            .await
            .expect("JSON body")
    }

    /// POSTs a GraphQL request and returns the JSON body.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        let response = self
            .http
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request sent");
        response.json().await.expect("JSON body")
    }

    /// The Prometheus text from `/metrics`.
    pub async fn metrics(&self) -> String {
        let response = self
            .http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("request sent");
        response.text().await.expect("a text body")
    }

    /// Tells the server to stop, as SIGTERM does, without waiting for it:
    /// it drains meanwhile. `stop` then waits for it.
    pub fn begin_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        self.begin_stop();
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stopped cleanly");
        }
    }
}

/// A database that exists for one test: a SQLite file, or a fresh
/// PostgreSQL database when `DATABASE_URL` points at a server, dropped
/// with this.
pub struct TestDatabase {
    pub url: String,
    postgres: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn create() -> Self {
        match std::env::var("DATABASE_URL") {
            Ok(admin) if admin.starts_with("postgres") => {
                let name = format!("itg_test_{}", uuid::Uuid::new_v4().simple());
                let conn = Database::connect(&admin)
                    .await
                    .expect("connect to PostgreSQL");
                conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                conn.close().await.ok();
                let mut url = url::Url::parse(&admin).expect("DATABASE_URL");
                url.set_path(&name);
                Self {
                    url: url.to_string(),
                    postgres: Some((admin, name)),
                    _dir: None,
                }
            }
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("test.db");
                Self {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    postgres: None,
                    _dir: Some(dir),
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside async context; a thread with its own runtime
        // can block until the database is gone.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                if let Ok(conn) = Database::connect(&admin).await {
                    let _ = conn
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                    conn.close().await.ok();
                }
            });
        })
        .join();
    }
}

pub mod notify;
pub mod push;
pub mod ws;

/// Rows that queries can return, written straight to the database.
pub mod seed {
    use chrono::{DateTime, TimeZone, Utc};
    use entity::{competition, football_match, season, team};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};

    pub async fn team(db: &DatabaseConnection, name: &str, slug: &str) -> team::Model {
        let now = Utc::now();
        team::ActiveModel {
            name: Set(name.to_owned()),
            slug: Set(slug.to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("insert team")
    }

    pub async fn season(db: &DatabaseConnection) -> season::Model {
        let competition = competition::ActiveModel {
            code: Set("PL".to_owned()),
            name: Set("Premier League".to_owned()),
            kind: Set(entity::CompetitionKind::League),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("insert competition");
        season::ActiveModel {
            competition_id: Set(competition.id),
            label: Set("2023/24".to_owned()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("insert season")
    }

    pub fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    pub async fn event(
        db: &DatabaseConnection,
        m: &football_match::Model,
        seq: i32,
        kind: entity::MatchEventKind,
        minute: i32,
    ) -> entity::match_event::Model {
        entity::match_event::ActiveModel {
            match_id: Set(m.id),
            seq: Set(seq),
            kind: Set(kind),
            minute: Set(Some(minute)),
            team_id: Set(Some(m.home_team_id)),
            cancelled: Set(false),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("insert event")
    }

    /// A scheduled fixture: no outbox row, so no reminder is queued for it
    /// but by the cron.
    pub async fn fixture(
        db: &DatabaseConnection,
        season: &season::Model,
        home: &team::Model,
        away: &team::Model,
        kickoff_at: DateTime<Utc>,
    ) -> football_match::Model {
        let now = Utc::now();
        football_match::ActiveModel {
            season_id: Set(season.id),
            home_team_id: Set(home.id),
            away_team_id: Set(away.id),
            kickoff_at: Set(kickoff_at),
            kickoff_time_known: Set(true),
            status: Set(entity::MatchStatus::Scheduled),
            last_event_seq: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("insert fixture")
    }

    pub async fn finished_match(
        db: &DatabaseConnection,
        season: &season::Model,
        home: &team::Model,
        away: &team::Model,
        kickoff_at: DateTime<Utc>,
        (home_score, away_score): (i32, i32),
        (ht_home, ht_away): (i32, i32),
    ) -> football_match::Model {
        let now = Utc::now();
        football_match::ActiveModel {
            season_id: Set(season.id),
            round: Set(Some("Matchday 1".to_owned())),
            matchday: Set(Some(1)),
            home_team_id: Set(home.id),
            away_team_id: Set(away.id),
            kickoff_at: Set(kickoff_at),
            kickoff_time_known: Set(true),
            status: Set(entity::MatchStatus::Finished),
            home_score: Set(Some(home_score)),
            away_score: Set(Some(away_score)),
            half_time_home: Set(Some(ht_home)),
            half_time_away: Set(Some(ht_away)),
            last_event_seq: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("insert match")
    }
}

/// `{ ...F0 } fragment F0 on Query { ...F1 ...F1 } ...`: each level doubles
/// what the document selects once its fragments are expanded.
pub fn doubling_fragments(levels: usize) -> String {
    let mut query = "{ ...F0 }".to_owned();
    for i in 0..levels {
        query.push_str(&format!(
            " fragment F{i} on Query {{ ...F{n} ...F{n} }}",
            n = i + 1
        ));
    }
    query.push_str(&format!(" fragment F{levels} on Query {{ __typename }}"));
    query
}

/// The `extensions.code` of the first error, or `None` without errors.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// The messages of a `BAD_USER_INPUT` error for one field.
pub fn field_errors<'a>(body: &'a Value, field: &str) -> Vec<&'a str> {
    body["errors"][0]["extensions"]["fields"][field]
        .as_array()
        .map(|messages| messages.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Accounts made straight through the service, so that setting up a test
/// spends none of the sign-in rate limits it may be testing.
pub mod accounts {
    use entity::UserRole;
    use sea_orm::DatabaseConnection;

    pub const PASSWORD: &str = "correct horse battery staple";

    pub struct Account {
        pub id: i64,
        pub email: String,
        pub token: String,
    }

    pub async fn create(db: &DatabaseConnection, email: &str, role: UserRole) -> Account {
        let registration = service::accounts::Registration {
            email: email.to_owned(),
            password: PASSWORD.to_owned(),
            display_name: email.split('@').next().unwrap().to_owned(),
            time_zone: Some("Europe/London".to_owned()),
        };
        let user = service::accounts::create_user(db, registration, role)
            .await
            .expect("create user");
        let signed_in = service::accounts::login(db, email, PASSWORD, chrono::Duration::hours(1))
            .await
            .expect("log in");
        Account {
            id: user.id,
            email: user.email,
            token: signed_in.token,
        }
    }

    pub async fn user(db: &DatabaseConnection, email: &str) -> Account {
        create(db, email, UserRole::User).await
    }
}

pub mod seed_notifications {
    use chrono::Utc;
    use entity::notification;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};

    /// A notification in `user_id`'s inbox (shown now), or held back for
    /// quiet hours (never shown: it waits for the next digest).
    pub async fn notification(
        db: &DatabaseConnection,
        user_id: i64,
        title: &str,
        read: bool,
        held: bool,
    ) -> notification::Model {
        let now = Utc::now();
        notification::ActiveModel {
            user_id: Set(user_id),
            kind: Set(entity::NotificationKind::LiveEvent),
            dedupe_key: Set(format!("test:{title}")),
            title: Set(title.to_owned()),
            body: Set(format!("{title} body")),
            payload: Set(serde_json::json!({ "title": title })),
            held: Set(held),
            created_at: Set(now),
            read_at: Set(read.then_some(now)),
            shown_at: Set((!held).then_some(now)),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("insert notification")
    }
}
