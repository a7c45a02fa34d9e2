//! Notifications for a crowd, measured: N fans seeded straight into a
//! PostgreSQL database of the benchmark's own, release `worker` processes
//! on Redis, a real SMTP server. See README.md.

mod process;
mod seed;
mod smtp;
mod subscribers;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::{DateTime, Timelike as _, Utc};
use clap::{Parser, ValueEnum};
use serde_json::{Value, json};

use process::{Dispatched, Running};
use seed::Db;
use smtp::Sink;

#[derive(Parser)]
#[command(name = "notify-bench", about)]
struct Args {
    /// Fans seeded for each case.
    #[arg(long, default_value_t = 100_000)]
    fans: usize,
    /// Which cases to run, in order.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "daily,weekly,goal"
    )]
    cases: Vec<Case>,
    /// Worker processes.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Of a goal's followers, every n-th also wants the alert by email.
    #[arg(long, default_value_t = 10)]
    email_every: usize,
    /// Of a goal's followers, this many hold a `notificationReceived`
    /// subscription open through the api, each with its own token.
    #[arg(long, default_value_t = 1_000)]
    subscribers: usize,
    /// Where the release `api` and `worker` binaries are.
    #[arg(long, env = "BIN")]
    bin: PathBuf,
    /// The bundled season the matches come from.
    #[arg(long, default_value = "api/samples/en.1-2025-26.json")]
    season_file: PathBuf,
    #[arg(
        long,
        env = "PG_ADMIN_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pg_admin_url: String,
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// Give up on a case after this many seconds.
    #[arg(long, default_value_t = 900)]
    timeout: u64,
    /// Keep each case's database for a look afterwards.
    #[arg(long)]
    keep_db: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Case {
    Daily,
    Weekly,
    Goal,
}

impl Case {
    fn name(self) -> &'static str {
        match self {
            Case::Daily => "daily",
            Case::Weekly => "weekly",
            Case::Goal => "goal",
        }
    }
}

/// What every case shares: the arguments, the SMTP server, the run's id.
struct Bench {
    args: Args,
    sink: Sink,
    run_id: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Each worker keeps at most 8 SMTP sessions open; leave room for more.
    let sink = Sink::start(16 * args.workers as u32 + 8)?;
    let bench = Bench {
        run_id: format!("{}", std::process::id()),
        args,
        sink,
    };
    let mut reports = Vec::new();
    let mut failed = false;
    for &case in &bench.args.cases {
        let report = bench.case(case).await?;
        failed |= report["ok"] != true;
        eprintln!("{}", serde_json::to_string_pretty(&report)?);
        reports.push(report);
    }
    println!("{}", serde_json::to_string_pretty(&reports)?);
    if failed {
        bail!("a case lost or repeated a notification; see its report");
    }
    Ok(())
}

impl Bench {
    fn bin(&self, name: &str) -> PathBuf {
        self.args.bin.join(name)
    }

    async fn case(&self, case: Case) -> anyhow::Result<Value> {
        let name = format!("itg_bench_notify_{}_{}", self.run_id, case.name());
        eprintln!(
            "==> {}: {} fans, database {name}",
            case.name(),
            self.args.fans
        );
        let db = Db::create(&self.args.pg_admin_url, &name, !self.args.keep_db).await?;
        let env = vec![("DATABASE_URL", db.url.clone())];
        process::run(&self.bin("api"), &env, &["migrate"])?;
        let file = self.args.season_file.to_string_lossy().into_owned();
        process::run(
            &self.bin("api"),
            &env,
            &[
                "import",
                &file,
                "--competition-code",
                "PL",
                "--season",
                "2025/26",
                "--timezone",
                "Europe/London",
            ],
        )?;
        let report = match case {
            Case::Daily | Case::Weekly => self.digests(case, &db).await,
            Case::Goal => self.goal(&db).await,
        };
        db.drop_if_asked().await;
        report
    }

    /// The environment every api and worker process of a case shares.
    fn env(&self, db: &Db, case: Case) -> Vec<(&'static str, String)> {
        vec![
            ("DATABASE_URL", db.url.clone()),
            ("REDIS_URL", self.args.redis_url.clone()),
            // A prefix of the run's own: jobs and bus channels of other
            // runs on the same Redis never mix with this one's.
            (
                "BUS_CHANNEL_PREFIX",
                format!("itg-bench-{}-{}", self.run_id, case.name()),
            ),
            ("SMTP_URL", self.sink.url.clone()),
            ("MAIL_FROM", "InTheGame <bench@inthegame.example>".into()),
        ]
    }

    fn workers(
        &self,
        db: &Db,
        case: Case,
        dispatched: &Dispatched,
    ) -> anyhow::Result<Vec<Running>> {
        let env = self.env(db, case);
        (0..self.args.workers)
            .map(|i| {
                process::spawn(
                    &self.bin("worker"),
                    &format!("worker-{i}"),
                    &env,
                    dispatched,
                )
            })
            .collect()
    }

    /// 100,000 fans of one zone whose digest time comes at the next whole
    /// minute (the dispatcher ticks on whole minutes), each following two
    /// of the season's teams, every one of which has a result the day
    /// before and a fixture later that day.
    async fn digests(&self, case: Case, db: &Db) -> anyhow::Result<Value> {
        let n = self.args.fans;
        let due = next_whole_minute(Utc::now() + chrono::Duration::seconds(20));
        db.shift_matches_around(due).await?;
        db.seed_digest_fans(n, case == Case::Daily, due).await?;
        let dispatched = Dispatched::default();
        let mut workers = self.workers(db, case, &dispatched)?;
        sleep_until(due - chrono::Duration::seconds(2)).await;
        let cpu_before: f64 = workers.iter().map(Running::cpu_seconds).sum();
        self.sink.reset();
        dispatched.reset();
        let due_instant = instant_of(due);
        sleep_until(due).await;

        let deadline = Instant::now() + Duration::from_secs(self.args.timeout);
        while self.sink.total() < n {
            if Instant::now() > deadline {
                break;
            }
            for w in &mut workers {
                w.check_alive()?;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let cpu_after: f64 = workers.iter().map(Running::cpu_seconds).sum();
        // Anything sent twice shows up now or never.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let tally = self.sink.tally();
        let kind = if case == Case::Daily {
            "DAILY_DIGEST"
        } else {
            "WEEKLY_DIGEST"
        };
        let (stored, stored_fans) = db.notifications_of_kind(kind).await?;
        let peak_rss = workers
            .iter()
            .map(Running::peak_rss_mib)
            .fold(0.0, f64::max);
        let idle = if case == Case::Daily {
            Some(self.idle_ticks(db, case).await?)
        } else {
            None
        };
        drop(workers);

        let since_due =
            |t: Option<Instant>| t.map(|t| secs(t.saturating_duration_since(due_instant)));
        let last = since_due(tally.last);
        let ok = tally.distinct == n && tally.repeated == 0 && stored == n && stored_fans == n;
        Ok(json!({
            "case": case.name(),
            "fans": n,
            "workers": self.args.workers,
            "digest_time": due.to_rfc3339(),
            "dispatch_done_s": since_due(dispatched.last()),
            "dispatched": dispatched.count(),
            "first_email_s": since_due(tally.first),
            "last_email_s": last,
            "emails": tally.total,
            "missing": n.saturating_sub(tally.distinct),
            "repeated": tally.repeated,
            "digests_stored": stored,
            "digests_per_s": last.map(|s| round(n as f64 / s, 0)),
            "worker_cpu_ms_per_digest": round((cpu_after - cpu_before) * 1000.0 / n as f64, 3),
            "worker_peak_rss_mib": round(peak_rss, 1),
            "idle_tick": idle,
            "ok": ok,
        }))
    }

    /// The dispatcher's own cost when nobody is due: the fans just had
    /// today's daily digest (next due tomorrow) and have weekly digests
    /// turned off. Timed by the `worker digest` command itself.
    async fn idle_ticks(&self, db: &Db, case: Case) -> anyhow::Result<Value> {
        let env = self.env(db, case);
        let timed = |kind: &str| -> anyhow::Result<Vec<f64>> {
            let mut ms = Vec::new();
            for _ in 0..5 {
                let now = Utc::now().to_rfc3339();
                let out = process::run(
                    &self.bin("worker"),
                    &env,
                    &["digest", "--kind", kind, "--as-of", &now],
                )?;
                // The answer is the line that says what was queued; any
                // log lines (a warning at start) come before it.
                let out = out
                    .lines()
                    .find(|line| line.starts_with("queued "))
                    .with_context(|| format!("no answer from the dispatcher: {out}"))?;
                let took = out
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .windows(2)
                    .find_map(|w| (w[1] == "ms").then(|| w[0].parse::<f64>().ok()).flatten())
                    .with_context(|| format!("no time in the dispatcher's answer: {out}"))?;
                if !out.starts_with("queued 0 ") {
                    bail!("the idle dispatcher queued something: {out}");
                }
                ms.push(took);
            }
            ms.sort_by(f64::total_cmp);
            Ok(ms)
        };
        let summary = |ms: Vec<f64>| json!({ "min": ms[0], "median": ms[2], "max": ms[4] });
        // Right after the run, PostgreSQL's statistics still say every
        // fan is due (as seeded), until autovacuum analyses the table.
        let daily_stale = summary(timed("daily")?);
        let weekly_stale = summary(timed("weekly")?);
        db.analyze().await?;
        Ok(json!({
            "users": self.args.fans,
            "right_after_the_run": {
                "daily_all_enabled_none_due_ms": daily_stale,
                "weekly_all_disabled_ms": weekly_stale,
            },
            "after_analyze": {
                "daily_all_enabled_none_due_ms": summary(timed("daily")?),
                "weekly_all_disabled_ms": summary(timed("weekly")?),
            },
        }))
    }

    /// A goal for a club whose N followers all want goal alerts in-app,
    /// every `email_every`-th of them by email too, and `subscribers` of
    /// them listening on `notificationReceived`.
    async fn goal(&self, db: &Db) -> anyhow::Result<Value> {
        let n = self.args.fans;
        db.shift_matches_around(Utc::now()).await?;
        let (match_id, team_id) = db.scheduled_match().await?;
        db.seed_followers(n, team_id, self.args.email_every).await?;
        let listening = db.seed_tokens(self.args.subscribers).await?;
        let feed_token = db.seed_feed_account().await?;
        let emails_expected = db.email_followers().await?;

        let port = free_port()?;
        let mut env = self.env(db, Case::Goal);
        env.push(("PORT", port.to_string()));
        env.push(("SKIP_MIGRATIONS", "true".into()));
        // The listening fans all connect from this machine's one address.
        env.push(("REQUESTS_PER_IP_PER_MINUTE", "1000000".into()));
        let dispatched = Dispatched::default();
        let mut api = process::spawn(&self.bin("api"), "api", &env, &dispatched)?;
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        wait_ready(&http, &base, &mut api).await?;
        let mut workers = self.workers(db, Case::Goal, &dispatched)?;

        let pushes = subscribers::connect(&base, &listening).await?;
        let graphql = |query: &'static str, variables: Value| {
            let http = http.clone();
            let url = format!("{base}/graphql");
            let token = feed_token.clone();
            async move {
                let answer: Value = http
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({ "query": query, "variables": variables }))
                    .send()
                    .await?
                    .json()
                    .await?;
                if answer.get("errors").is_some() {
                    bail!("the feed was refused: {answer}");
                }
                anyhow::Ok(answer)
            }
        };
        graphql(
            "mutation($m: ID!) { startMatch(matchId: $m) { match { lastEventSeq } } }",
            json!({ "m": match_id.to_string() }),
        )
        .await?;
        // Whatever the kick-off caused is over before the goal.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut inboxes = db.watch_inboxes(team_id).await?;
        self.sink.reset();
        let cpu_before: f64 = workers.iter().map(Running::cpu_seconds).sum();
        let goal_at = Instant::now();
        graphql(
            "mutation($m: ID!, $t: ID!) { recordMatchEvent(matchId: $m, input: { kind: GOAL, minute: 10, teamId: $t, player: \"Bench Scorer\" }) { event { seq } } }",
            json!({ "m": match_id.to_string(), "t": team_id.to_string() }),
        )
        .await?;
        let recorded = secs(goal_at.elapsed());

        let deadline = Instant::now() + Duration::from_secs(self.args.timeout);
        let (mut inboxes_at, mut emails_at, mut pushes_at) = (None, None, None);
        // When the first window of fans and half of them had their inbox:
        // the time to start writing, and the rate once started.
        let (mut first_inbox_at, mut half_inboxes_at) = (None, None);
        while inboxes_at.is_none() || emails_at.is_none() || pushes_at.is_none() {
            if Instant::now() > deadline {
                break;
            }
            api.check_alive()?;
            for w in &mut workers {
                w.check_alive()?;
            }
            if inboxes_at.is_none() {
                db.count_inboxes(&mut inboxes, "LIVE_EVENT").await?;
                if first_inbox_at.is_none() && inboxes.share() > 0.0 {
                    first_inbox_at = Some(goal_at.elapsed());
                }
                if half_inboxes_at.is_none() && inboxes.share() >= 0.5 {
                    half_inboxes_at = Some(goal_at.elapsed());
                }
                if inboxes.is_done() {
                    inboxes_at = Some(goal_at.elapsed());
                }
            }
            if emails_at.is_none() && self.sink.total() >= emails_expected {
                emails_at = Some(goal_at.elapsed());
            }
            if pushes_at.is_none() && pushes.received() >= listening.len() {
                pushes_at = Some(goal_at.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let cpu_after: f64 = workers.iter().map(Running::cpu_seconds).sum();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let tally = self.sink.tally();
        let (stored, stored_fans) = db.notifications_of_kind("LIVE_EVENT").await?;
        let push = pushes.tally();
        let peak_rss = workers
            .iter()
            .map(Running::peak_rss_mib)
            .fold(0.0, f64::max);
        let ok = stored == n
            && stored_fans == n
            && tally.distinct == emails_expected
            && tally.repeated == 0
            && push.missing == 0
            && push.repeated == 0;
        Ok(json!({
            "case": "goal",
            "followers": n,
            "workers": self.args.workers,
            "feed_write_s": recorded,
            "first_inboxes_s": first_inbox_at.map(secs),
            "half_inboxes_s": half_inboxes_at.map(secs),
            "every_inbox_s": inboxes_at.map(secs),
            "inbox_rows": stored,
            "every_email_s": emails_at.map(secs),
            "emails_expected": emails_expected,
            "emails": tally.total,
            "emails_missing": emails_expected.saturating_sub(tally.distinct),
            "emails_repeated": tally.repeated,
            "pushes_listening": listening.len(),
            "every_push_s": pushes_at.map(secs),
            "pushes_missing": push.missing,
            "pushes_repeated": push.repeated,
            "worker_cpu_ms_per_follower": round((cpu_after - cpu_before) * 1000.0 / n as f64, 3),
            "worker_peak_rss_mib": round(peak_rss, 1),
            "api_peak_rss_mib": round(api.peak_rss_mib(), 1),
            "ok": ok,
        }))
    }
}

async fn wait_ready(http: &reqwest::Client, base: &str, api: &mut Running) -> anyhow::Result<()> {
    for _ in 0..300 {
        api.check_alive()?;
        if let Ok(r) = http.get(format!("{base}/ready")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the api did not become ready at {base}")
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn next_whole_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    let floor = t
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(t);
    floor + chrono::Duration::minutes(1)
}

/// The monotonic instant at which the wall clock shows `at`.
fn instant_of(at: DateTime<Utc>) -> Instant {
    let now = Utc::now();
    let wait = (at - now).to_std().unwrap_or_default();
    Instant::now() + wait
}

async fn sleep_until(at: DateTime<Utc>) {
    if let Ok(wait) = (at - Utc::now()).to_std() {
        tokio::time::sleep(wait).await;
    }
}

fn secs(d: Duration) -> f64 {
    round(d.as_secs_f64(), 3)
}

fn round(x: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (x * scale).round() / scale
}
