//! The benchmark's own database and what it seeds there: fans written
//! straight into PostgreSQL in a few set-based statements, as an operator
//! with 100,000 users has them, not signed up one by one.

use chrono::{DateTime, Datelike as _, Utc};
use sea_orm::{ConnectionTrait as _, Database, DatabaseConnection, Statement};

/// A database created for one case, dropped at the end unless kept.
pub struct Db {
    pub url: String,
    name: String,
    admin: DatabaseConnection,
    conn: DatabaseConnection,
    drop: bool,
}

/// Fans' addresses, so the SMTP server's recipients map to users.
const DOMAIN: &str = "bench.example";

impl Db {
    pub async fn create(admin_url: &str, name: &str, drop: bool) -> anyhow::Result<Self> {
        let admin = Database::connect(admin_url).await?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await?;
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url, |(base, _)| base);
        // Plain TCP, as a database on the same host is reached.
        let url = format!("{base}/{name}?sslmode=disable");
        let conn = Database::connect(&url).await?;
        Ok(Self {
            url,
            name: name.to_owned(),
            admin,
            conn,
            drop,
        })
    }

    pub async fn drop_if_asked(self) {
        let _ = self.conn.close().await;
        if self.drop {
            let _ = self
                .admin
                .execute_unprepared(&format!(
                    "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                    self.name
                ))
                .await;
        }
    }

    async fn exec(&self, sql: &str) -> anyhow::Result<()> {
        self.conn.execute_unprepared(sql).await?;
        Ok(())
    }

    async fn one_i64s(&self, sql: &str) -> anyhow::Result<Vec<i64>> {
        let row = self
            .conn
            .query_one_raw(Statement::from_string(
                self.conn.get_database_backend(),
                sql,
            ))
            .await?
            .ok_or_else(|| anyhow::anyhow!("no row: {sql}"))?;
        let mut values = Vec::new();
        for i in 0.. {
            match row.try_get_by_index::<i64>(i) {
                Ok(v) => values.push(v),
                Err(_) => break,
            }
        }
        Ok(values)
    }

    /// The first column of every row.
    async fn one_column(&self, sql: &str) -> anyhow::Result<Vec<i64>> {
        let rows = self
            .conn
            .query_all_raw(Statement::from_string(
                self.conn.get_database_backend(),
                sql,
            ))
            .await?;
        Ok(rows
            .iter()
            .map(|row| row.try_get_by_index::<i64>(0))
            .collect::<Result<_, _>>()?)
    }

    /// The season's first round finished the day before `at` (every team
    /// played, with a score) and its second kicks off later on the day of
    /// `at`: each fan's followed teams have a result and a fixture to tell.
    pub async fn shift_matches_around(&self, at: DateTime<Utc>) -> anyhow::Result<()> {
        let yesterday = at - chrono::Duration::days(1);
        let end_of_day = (at.date_naive() + chrono::Days::new(1))
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc();
        let later_today = at + (end_of_day - at) / 2;
        self.exec(&format!(
            "UPDATE matches SET kickoff_at = '{yesterday}', status = 'FINISHED', \
               home_score = id % 4, away_score = id % 3, updated_at = now() \
             WHERE id IN (SELECT id FROM matches ORDER BY kickoff_at, id LIMIT 10);
             UPDATE matches SET kickoff_at = '{later_today}', status = 'SCHEDULED', \
               home_score = NULL, away_score = NULL, updated_at = now() \
             WHERE id IN (SELECT id FROM matches WHERE kickoff_at > '{yesterday}' \
                          ORDER BY kickoff_at, id LIMIT 10);",
            yesterday = yesterday.to_rfc3339(),
            later_today = later_today.to_rfc3339(),
        ))
        .await
    }

    /// `n` fans in UTC, each following two of the season's teams, whose
    /// daily (or weekly) digest is due at `due`, by email and in-app.
    pub async fn seed_digest_fans(
        &self,
        n: usize,
        daily: bool,
        due: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        self.seed_users(n).await?;
        let time = due.format("%H:%M");
        let day = due.weekday().to_string().to_uppercase();
        let day = weekday_name(&day);
        let (next_daily, next_weekly) = if daily {
            (format!("'{}'", due.to_rfc3339()), "NULL".to_owned())
        } else {
            ("NULL".to_owned(), format!("'{}'", due.to_rfc3339()))
        };
        self.exec(&format!(
            "INSERT INTO notification_preferences \
               (user_id, daily_enabled, daily_time, weekly_enabled, weekly_day, weekly_time, \
                email_enabled, in_app_enabled, updated_at, next_daily_at, next_weekly_at) \
             SELECT id, {daily}, '{time}', {weekly}, '{day}', '{time}', true, true, now(), \
                    {next_daily}, {next_weekly} \
             FROM users WHERE email LIKE 'fan%@{DOMAIN}';
             WITH t AS (SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n FROM teams)
             INSERT INTO follows (user_id, team_id, created_at)
             SELECT u.id, t.ids[(1 + u.id % t.n)::int], now() FROM users u, t
             WHERE u.email LIKE 'fan%@{DOMAIN}'
             UNION ALL
             SELECT u.id, t.ids[(1 + (u.id + 1 + (u.id / t.n) % (t.n - 1)) % t.n)::int], now()
             FROM users u, t WHERE u.email LIKE 'fan%@{DOMAIN}';
             ANALYZE;",
            weekly = !daily,
        ))
        .await
    }

    async fn seed_users(&self, n: usize) -> anyhow::Result<()> {
        self.exec(&format!(
            "INSERT INTO users (email, display_name, password_hash, role, time_zone, created_at) \
             SELECT 'fan' || g || '@{DOMAIN}', 'Fan ' || g, '!', 'USER', 'UTC', now() \
             FROM generate_series(1, {n}) AS g"
        ))
        .await
    }

    /// A scheduled match and its home team.
    pub async fn scheduled_match(&self) -> anyhow::Result<(i64, i64)> {
        let ids = self
            .one_i64s(
                "SELECT id, home_team_id FROM matches WHERE status = 'SCHEDULED' \
                 ORDER BY kickoff_at, id LIMIT 1",
            )
            .await?;
        match ids[..] {
            [game, team] => Ok((game, team)),
            _ => anyhow::bail!("no scheduled match"),
        }
    }

    /// `n` followers of `team_id` who want goals in-app, every
    /// `email_every`-th by email too; no digests.
    pub async fn seed_followers(
        &self,
        n: usize,
        team_id: i64,
        email_every: usize,
    ) -> anyhow::Result<()> {
        self.seed_users(n).await?;
        self.exec(&format!(
            "INSERT INTO notification_preferences \
               (user_id, live_enabled, live_kinds, email_enabled, in_app_enabled, updated_at) \
             SELECT id, true, '[\"GOAL\"]', id % {email_every} = 0, true, now() \
             FROM users WHERE email LIKE 'fan%@{DOMAIN}';
             INSERT INTO follows (user_id, team_id, created_at)
             SELECT id, {team_id}, now() FROM users WHERE email LIKE 'fan%@{DOMAIN}';
             ANALYZE;"
        ))
        .await
    }

    /// How many fans want the alert by email.
    pub async fn email_followers(&self) -> anyhow::Result<usize> {
        let n = self
            .one_i64s("SELECT count(*) FROM notification_preferences WHERE email_enabled")
            .await?;
        Ok(n[0] as usize)
    }

    /// Tokens for `count` fans spread over all of them: `(user id, token)`.
    pub async fn seed_tokens(&self, count: usize) -> anyhow::Result<Vec<(i64, String)>> {
        let fans = self
            .one_i64s(&format!(
                "SELECT count(*) FROM users WHERE email LIKE 'fan%@{DOMAIN}'"
            ))
            .await?[0];
        let every = (fans / count.max(1) as i64).max(1);
        self.exec(&format!(
            "INSERT INTO api_tokens (user_id, token_hash, created_at, expires_at) \
             SELECT id, encode(sha256(convert_to('itg_bench_' || id, 'UTF8')), 'hex'), \
                    now(), now() + interval '1 day' \
             FROM users WHERE email LIKE 'fan%@{DOMAIN}' AND id % {every} = 0 \
             ORDER BY id LIMIT {count}"
        ))
        .await?;
        let rows = self
            .conn
            .query_all_raw(Statement::from_string(
                self.conn.get_database_backend(),
                "SELECT user_id FROM api_tokens ORDER BY user_id",
            ))
            .await?;
        rows.iter()
            .map(|row| {
                let id: i64 = row.try_get_by_index(0)?;
                Ok((id, format!("itg_bench_{id}")))
            })
            .collect()
    }

    /// The feed's account and its token.
    pub async fn seed_feed_account(&self) -> anyhow::Result<String> {
        let token = "itg_bench_feed";
        self.exec(&format!(
            "WITH feed AS (
               INSERT INTO users (email, display_name, password_hash, role, time_zone, created_at)
               VALUES ('feed@{DOMAIN}', 'Feed', '!', 'FEED', 'UTC', now()) RETURNING id)
             INSERT INTO api_tokens (user_id, token_hash, created_at, expires_at)
             SELECT id, encode(sha256(convert_to('{token}', 'UTF8')), 'hex'), now(), \
                    now() + interval '1 day' FROM feed"
        ))
        .await?;
        Ok(token.to_owned())
    }

    /// Fresh planner statistics, as autovacuum leaves a table that changed.
    pub async fn analyze(&self) -> anyhow::Result<()> {
        self.exec("ANALYZE notification_preferences").await
    }

    /// How many notifications of `kind` are stored, and for how many users.
    pub async fn notifications_of_kind(&self, kind: &str) -> anyhow::Result<(usize, usize)> {
        let n = self
            .one_i64s(&format!(
                "SELECT count(*), count(DISTINCT user_id) FROM notifications WHERE kind = '{kind}'"
            ))
            .await?;
        Ok((n[0] as usize, n[1] as usize))
    }
}

/// The followers of an alert's team, to count the inboxes it reached a
/// window of them at a time.
pub struct InboxWatch {
    fans: Vec<i64>,
    reached: usize,
}

/// Fans counted by one statement: a range scan of the notifications'
/// `(user_id, created_at)` index, cheap beside the writes it measures.
const WATCH_WINDOW: usize = 2000;

impl InboxWatch {
    pub fn is_done(&self) -> bool {
        self.reached == self.fans.len()
    }

    /// The share of the followers counted so far, from 0 to 1.
    pub fn share(&self) -> f64 {
        self.reached as f64 / self.fans.len().max(1) as f64
    }
}

impl Db {
    pub async fn watch_inboxes(&self, team_id: i64) -> anyhow::Result<InboxWatch> {
        let fans = self
            .one_column(&format!(
                "SELECT user_id FROM follows WHERE team_id = {team_id} ORDER BY user_id"
            ))
            .await?;
        Ok(InboxWatch { fans, reached: 0 })
    }

    /// Moves `watch` past every window of fans who all have a
    /// notification of `kind`. The product writes an alert in ascending
    /// user id, so a window that is short stops the count: the next one
    /// is counted on the next call, once this one is whole.
    pub async fn count_inboxes(&self, watch: &mut InboxWatch, kind: &str) -> anyhow::Result<()> {
        while !watch.is_done() {
            let end = (watch.reached + WATCH_WINDOW).min(watch.fans.len());
            let window = &watch.fans[watch.reached..end];
            let (first, last) = (window[0], window[window.len() - 1]);
            let stored = self
                .one_i64s(&format!(
                    "SELECT count(*) FROM notifications WHERE kind = '{kind}' \
                     AND user_id BETWEEN {first} AND {last}"
                ))
                .await?[0];
            if stored < window.len() as i64 {
                break;
            }
            watch.reached = end;
        }
        Ok(())
    }
}

/// chrono's `Mon` as the product stores a weekday, `MONDAY`.
fn weekday_name(short: &str) -> &'static str {
    match short {
        "MON" => "MONDAY",
        "TUE" => "TUESDAY",
        "WED" => "WEDNESDAY",
        "THU" => "THURSDAY",
        "FRI" => "FRIDAY",
        "SAT" => "SATURDAY",
        _ => "SUNDAY",
    }
}
