//! One configuration struct for both binaries, read from flags and the environment.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines, for a terminal.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Settings shared by `api` and `worker`. Every field can come from a flag or
/// from the environment variable of the same name; see `.env.example`.
#[derive(Clone, Debug, Args)]
pub struct Config {
    /// Where the data lives: `sqlite://path?mode=rwc` or `postgres://…`.
    /// The default SQLite file is created, with its folder, on first start.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://./data/inthegame.db?mode=rwc",
        value_parser = parse_database_url,
        hide_env_values = true
    )]
    pub database_url: DatabaseUrl,

    /// Longest a statement waits for a database connection, in
    /// milliseconds. When the database is down, requests fail with
    /// `UNAVAILABLE` after this long instead of waiting out the request
    /// timeout; it also bounds opening a new PostgreSQL connection.
    #[arg(
        long,
        env = "DATABASE_ACQUIRE_TIMEOUT_MS",
        default_value_t = 2_000,
        value_parser = clap::value_parser!(u64).range(100..=60_000)
    )]
    pub database_acquire_timeout_ms: u64,

    /// Redis for the event bus, the shared rate limits and the job queues:
    /// `redis://[user:password@]host:port[/db]`, or `rediss://…` for TLS
    /// (managed Redis; the server's certificate is checked against the
    /// system's roots, or `SSL_CERT_FILE`). Unset: an in-process bus,
    /// limits per process and embedded job storage, for a single process.
    #[arg(long, env = "REDIS_URL", value_parser = parse_redis_url, hide_env_values = true)]
    pub redis_url: Option<RedisUrl>,

    /// Redis for the event bus and the shared rate limits only, instead of
    /// `REDIS_URL`: PubSub traffic and durable jobs may live on different
    /// instances.
    #[arg(long, env = "BUS_REDIS_URL", value_parser = parse_redis_url, hide_env_values = true)]
    pub bus_redis_url: Option<RedisUrl>,

    /// Redis for the job queues only, instead of `REDIS_URL` (give it
    /// persistence: `appendonly yes`).
    #[arg(long, env = "QUEUE_REDIS_URL", value_parser = parse_redis_url, hide_env_values = true)]
    pub queue_redis_url: Option<RedisUrl>,

    /// Prefix of the Redis PubSub channels, so that deployments (or tests)
    /// sharing one Redis do not hear each other.
    #[arg(long, env = "BUS_CHANNEL_PREFIX", default_value = "inthegame")]
    pub bus_channel_prefix: String,

    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Port to listen on; 0 picks a free one.
    #[arg(long, env = "PORT", default_value_t = 8002)]
    pub port: u16,

    /// `text` for people, `json` for log collectors.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// Log filter in `tracing` EnvFilter syntax, e.g. `info,api=debug`.
    #[arg(
        long,
        env = "RUST_LOG",
        default_value = "info,sqlx=warn,sea_orm=warn",
        value_parser = parse_log_filter
    )]
    pub rust_log: String,

    /// How long a bearer token from `login` or `register` stays valid, in
    /// hours, counted from when it was issued (not from its last use).
    #[arg(
        long,
        env = "TOKEN_TTL_HOURS",
        default_value_t = 720,
        value_parser = clap::value_parser!(u32).range(1..=87_600)
    )]
    pub token_ttl_hours: u32,

    /// Login and registration attempts per client IP address per minute
    /// (a burst of this many, then one every 60/N seconds). Presenting a
    /// bearer token that does not work also counts as an attempt. 0: no limit.
    #[arg(long, env = "AUTH_ATTEMPTS_PER_IP_PER_MINUTE", default_value_t = 20)]
    pub auth_attempts_per_ip_per_minute: u32,

    /// Login and registration attempts per email address per minute, from
    /// any address: this is what stops a distributed password guesser. 0: no limit.
    #[arg(long, env = "AUTH_ATTEMPTS_PER_EMAIL_PER_MINUTE", default_value_t = 5)]
    pub auth_attempts_per_email_per_minute: u32,

    /// GraphQL requests per bearer token per minute. 0: no limit.
    #[arg(long, env = "REQUESTS_PER_TOKEN_PER_MINUTE", default_value_t = 600)]
    pub requests_per_token_per_minute: u32,

    /// GraphQL requests (and websocket upgrades) without a bearer token per
    /// client IP address per minute. 0: no limit.
    #[arg(long, env = "REQUESTS_PER_IP_PER_MINUTE", default_value_t = 300)]
    pub requests_per_ip_per_minute: u32,

    #[command(flatten)]
    pub notifications: NotificationSettings,
}

/// How the worker sends notifications and runs its jobs.
#[derive(Clone, Debug, Args)]
pub struct NotificationSettings {
    /// Mail server for email notifications, e.g. `smtp://mail:25` (plain),
    /// `smtp://user:pass@mail:587?tls=required` (STARTTLS) or
    /// `smtps://user:pass@mail:465`. Unset: each email is written as an
    /// `.eml` file into `MAIL_OUTBOX_DIR` instead.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// SMTP sessions one worker holds open and sends over side by side.
    /// A session sends about 23 mails a second whatever the machine (the
    /// mail client waits out the server's delayed acknowledgement of each
    /// message's end), so throughput grows with sessions; but a digest job
    /// then runs long enough on a busy worker to miss the job queue's
    /// heartbeats, and its mails in flight are sent again (measured at 32:
    /// see `bench/notify`).
    #[arg(
        long,
        env = "SMTP_CONNECTIONS",
        default_value_t = 8,
        value_parser = clap::value_parser!(u32).range(1..=256)
    )]
    pub smtp_connections: u32,

    /// Sender of email notifications.
    #[arg(
        long,
        env = "MAIL_FROM",
        default_value = "InTheGame <notifications@inthegame.local>"
    )]
    pub mail_from: String,

    /// Folder for `.eml` files when `SMTP_URL` is unset.
    #[arg(long, env = "MAIL_OUTBOX_DIR", default_value = "./data/outbox")]
    pub mail_outbox_dir: PathBuf,

    /// How long before kick-off the reminder goes out, in minutes.
    #[arg(
        long,
        env = "KICKOFF_REMINDER_MINUTES",
        default_value_t = 30,
        value_parser = clap::value_parser!(u32).range(1..=10_080)
    )]
    pub kickoff_reminder_minutes: u32,

    /// Attempts per email or webhook delivery before it is dead-lettered.
    #[arg(
        long,
        env = "DELIVERY_MAX_ATTEMPTS",
        default_value_t = 5,
        value_parser = clap::value_parser!(u32).range(1..=50)
    )]
    pub delivery_max_attempts: u32,

    /// Wait before the first retry of a failed delivery, in milliseconds;
    /// it doubles with each further attempt, up to ten minutes.
    #[arg(long, env = "DELIVERY_RETRY_BASE_MS", default_value_t = 5_000)]
    pub delivery_retry_base_ms: u64,

    /// Seconds a webhook receiver, or the SMTP server at each step, has
    /// to answer before the attempt counts as failed.
    #[arg(
        long,
        env = "DELIVERY_TIMEOUT_SECS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=120)
    )]
    pub delivery_timeout_secs: u64,

    /// Let webhooks and Web Push endpoints reach private, loopback and
    /// link-local addresses (localhost, 10/8, 192.168/16, 169.254/16,
    /// fc00::/7, ...), and Web Push endpoints use plain http. Off, such a
    /// `webhookUrl` or push endpoint is refused when set, and a name that
    /// resolves there is refused when a delivery is sent. For development
    /// and tests only.
    #[arg(long, env = "ALLOW_PRIVATE_WEBHOOKS", default_value_t = false, action = clap::ArgAction::Set)]
    pub allow_private_webhooks: bool,

    /// The VAPID private key that signs Web Push requests: 32 bytes,
    /// base64url (`npx web-push generate-vapid-keys` prints one). Every
    /// api and worker process of a deployment needs the same one, since
    /// browsers subscribe with its public key. Unset: on a SQLite file
    /// (the embedded default) a pair is made on first start and kept in
    /// `vapid_private_key` beside the database; on PostgreSQL Web Push is off.
    #[arg(
        long,
        env = "VAPID_PRIVATE_KEY",
        value_parser = parse_vapid_private_key,
        hide_env_values = true
    )]
    pub vapid_private_key: Option<crate::notifications::web_push::PrivateKeySetting>,

    /// Who push services can contact about our pushes (the VAPID `sub`):
    /// a `mailto:` address or an `https://` URL.
    #[arg(
        long,
        env = "VAPID_SUBJECT",
        default_value = "mailto:notifications@inthegame.local",
        value_parser = crate::notifications::web_push::parse_subject
    )]
    pub vapid_subject: String,

    /// A digest whose local time passed longer ago than this (say, while
    /// no worker ran) is skipped rather than sent late, in hours.
    #[arg(
        long,
        env = "DIGEST_CATCH_UP_HOURS",
        default_value_t = 3,
        value_parser = clap::value_parser!(u32).range(1..=24)
    )]
    pub digest_catch_up_hours: u32,

    /// Seconds between a worker's heartbeats. Jobs held by a worker that
    /// missed two heartbeats (it crashed) are handed to another worker.
    #[arg(
        long,
        env = "JOB_HEARTBEAT_SECS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=3_600)
    )]
    pub job_heartbeat_secs: u64,

    /// How often idle workers look for due jobs and new outbox rows, in milliseconds.
    #[arg(
        long,
        env = "JOB_POLL_MS",
        default_value_t = 1_000,
        value_parser = clap::value_parser!(u64).range(10..=60_000)
    )]
    pub job_poll_ms: u64,

    /// Whether this worker runs the minute tick that queues the digests
    /// that fall due and the kick-off reminders coming up. Workers side by
    /// side share the tick's work, so every worker may; turn it off on
    /// workers that should only run queued jobs.
    #[arg(long, env = "DIGEST_CRON", default_value_t = true, action = clap::ArgAction::Set)]
    pub digest_cron: bool,
}

impl Config {
    /// How the database pool behaves when the database is slow or gone.
    pub fn pool_options(&self) -> crate::db::PoolOptions {
        crate::db::PoolOptions {
            acquire_timeout: std::time::Duration::from_millis(self.database_acquire_timeout_ms),
        }
    }

    /// The Redis of the event bus and the shared rate limits, named after
    /// the variable it came from.
    pub fn bus_redis(&self) -> Option<RedisUrl> {
        match (&self.bus_redis_url, &self.redis_url) {
            (Some(url), _) => Some(url.named("BUS_REDIS_URL")),
            (None, Some(url)) => Some(url.named("REDIS_URL")),
            (None, None) => None,
        }
    }

    /// The Redis of the job queues, named after the variable it came from.
    pub fn queue_redis(&self) -> Option<RedisUrl> {
        match (&self.queue_redis_url, &self.redis_url) {
            (Some(url), _) => Some(url.named("QUEUE_REDIS_URL")),
            (None, Some(url)) => Some(url.named("REDIS_URL")),
            (None, None) => None,
        }
    }

    /// The SQLite file the database URL points at, if it points at one.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        self.database_url.sqlite_path()
    }
}

/// A database URL whose scheme we support. Printing it hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.starts_with("sqlite:") {
            return Ok(Self(raw.to_owned()));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let url = url::Url::parse(raw).map_err(|e| format!("not a valid URL: {e}"))?;
            if url.host_str().is_none_or(str::is_empty) {
                return Err("a postgres URL needs a host".into());
            }
            return Ok(Self(raw.to_owned()));
        }
        Err("expected a URL starting with sqlite: or postgres://".into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_sqlite(&self) -> bool {
        self.0.starts_with("sqlite:")
    }

    /// The file behind a `sqlite:` URL; `None` for in-memory databases.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let rest = self.0.strip_prefix("sqlite:")?;
        let rest = rest.trim_start_matches("//");
        let path = rest.split('?').next().unwrap_or_default();
        (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

/// A `redis://` or `rediss://` URL. Printing it hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(String, &'static str);

impl RedisUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = url::Url::parse(raw.trim()).map_err(|e| format!("not a valid URL: {e}"))?;
        match url.scheme() {
            "redis" | "rediss" => Ok(Self(raw.trim().to_owned(), "REDIS_URL")),
            other => Err(format!("expected redis:// or rediss://, got {other}://")),
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The variable this URL came from, for error messages.
    pub fn var(&self) -> &'static str {
        self.1
    }

    fn named(&self, var: &'static str) -> Self {
        Self(self.0.clone(), var)
    }

    /// TLS (`rediss://`).
    pub fn is_tls(&self) -> bool {
        self.0.starts_with("rediss:")
    }
}

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl std::fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

fn parse_database_url(raw: &str) -> Result<DatabaseUrl, String> {
    DatabaseUrl::parse(raw)
}

fn parse_log_filter(raw: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::try_new(raw)
        .map(|_| raw.to_owned())
        .map_err(|e| format!("not a valid log filter: {e}"))
}

fn parse_vapid_private_key(
    raw: &str,
) -> Result<crate::notifications::web_push::PrivateKeySetting, String> {
    crate::notifications::web_push::PrivateKeySetting::parse(raw)
}

fn parse_redis_url(raw: &str) -> Result<RedisUrl, String> {
    RedisUrl::parse(raw)
}

/// Replaces the password of a URL with `***`, so URLs can be logged.
pub fn redact(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_url_points_at_its_file() {
        let url = DatabaseUrl::parse("sqlite://./data/x.db?mode=rwc").unwrap();
        assert_eq!(url.sqlite_path(), Some(PathBuf::from("./data/x.db")));
        assert!(url.is_sqlite());
    }

    #[test]
    fn an_in_memory_sqlite_url_has_no_file() {
        let url = DatabaseUrl::parse("sqlite::memory:").unwrap();
        assert_eq!(url.sqlite_path(), None);
    }

    #[test]
    fn an_unsupported_scheme_is_refused() {
        let err = DatabaseUrl::parse("mysql://root@localhost/db").unwrap_err();
        assert!(err.contains("sqlite: or postgres://"), "{err}");
    }

    #[test]
    fn a_postgres_url_without_host_is_refused() {
        assert!(DatabaseUrl::parse("postgres:///db").is_err());
    }

    #[test]
    fn passwords_never_print() {
        let url = DatabaseUrl::parse("postgres://u:secret@db:5432/x").unwrap();
        assert!(!format!("{url} {url:?}").contains("secret"));
        let redis = RedisUrl::parse("redis://:hunter2@cache:6379").unwrap();
        assert!(!format!("{redis} {redis:?}").contains("hunter2"));
    }

    #[test]
    fn the_bus_and_the_queues_may_each_have_their_own_redis() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            config: Config,
        }
        use clap::Parser as _;
        let parse = |args: &[&str]| {
            let mut argv = vec!["test"];
            argv.extend_from_slice(args);
            Cli::try_parse_from(argv).unwrap().config
        };
        let shared = parse(&["--redis-url", "redis://one:6379"]);
        assert_eq!(shared.bus_redis().unwrap().expose(), "redis://one:6379");
        assert_eq!(shared.queue_redis().unwrap().var(), "REDIS_URL");
        let split = parse(&[
            "--redis-url",
            "redis://one:6379",
            "--bus-redis-url",
            "rediss://bus:6380",
        ]);
        let bus = split.bus_redis().unwrap();
        assert_eq!(
            (bus.expose(), bus.var()),
            ("rediss://bus:6380", "BUS_REDIS_URL")
        );
        assert!(bus.is_tls());
        assert_eq!(split.queue_redis().unwrap().expose(), "redis://one:6379");
        // Without any (the environment's REDIS_URL would count as one).
        if std::env::var_os("REDIS_URL").is_none() {
            let none = parse(&[]);
            assert!(none.bus_redis().is_none() && none.queue_redis().is_none());
        }
    }

    #[test]
    fn a_redis_url_needs_the_redis_scheme() {
        assert!(RedisUrl::parse("http://cache:6379").is_err());
    }
}
