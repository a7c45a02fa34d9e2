//! Daily and weekly digests: the fixtures and results for the period of
//! the followed teams, competitions and matches, league positions in the weekly one, and whatever quiet
//! hours held back since the last digest.
//!
//! A digest run is one transaction. It first claims `(user, kind, period)`
//! in `digest_runs` (a unique index), then writes the digest, folds the held
//! notifications into it, and commits. A crash before the commit leaves
//! nothing behind, so the run can simply happen again. A second run of the
//! same period, by a retry, a second worker or a back-fill, finds the claim
//! and writes nothing.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Days, Utc};
use chrono_tz::Tz;
use entity::{
    CompetitionKind, MatchStatus, competition, competition_follow, digest_run, follow,
    football_match, match_follow, notification, notification_preference as prefs, revealed_match,
    season, team, user,
};
use sea_orm::sea_query::{Expr, ExprTrait as _, LockBehavior, LockType, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, ConnectionTrait, DatabaseBackend,
    DatabaseConnection, EntityTrait as _, QueryFilter, QueryOrder as _, QuerySelect as _,
    QueryTrait as _, TransactionTrait as _,
};
use serde_json::json;

use super::audience::Member;
use super::period::{self, DigestKind, Occurrence};
use super::schedule::Schedule;
use super::{Draft, Written};
use crate::accounts::spoilers::Shown;
use crate::{Error, Result};

/// What a digest run did.
#[derive(Debug)]
pub enum Outcome {
    /// The digest was written; its email and webhook deliveries are pending.
    Sent(Box<Written>),
    /// The period was handled, but there was nothing to tell.
    NothingToReport,
    /// Another run already handled this period.
    AlreadyDone,
}

/// A digest run: what it did, for which period.
#[derive(Debug)]
pub struct Run {
    pub outcome: Outcome,
    /// The user's local date (`2026-03-29`) or ISO week (`2026-W13`).
    pub period: String,
}

/// Runs the user's digest of `kind` for the period that `as_of` falls in.
pub async fn run(
    db: &DatabaseConnection,
    user_id: i64,
    kind: DigestKind,
    as_of: DateTime<Utc>,
) -> Result<Run> {
    user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("user"))?;
    let members = super::audience::load(db, &[user_id]).await?;
    let Some((preferences, user)) = members.first() else {
        return Err(Error::not_found("notification preferences"));
    };
    // A row that does not read is this user's error here, not a skip.
    Schedule::read(user, preferences)?;
    let tables = LeagueTables::default();
    let mut batch = run_batch(db, &members, kind, as_of, &tables).await?;
    batch
        .runs
        .pop()
        .map(|(_, run)| run)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("a digest run went missing")))
}

/// What one batch of digest runs did.
#[derive(Debug, Default)]
pub struct Batch {
    /// Each user's run, in the order given (users whose stored preferences
    /// do not read are logged and left out).
    pub runs: Vec<(i64, Run)>,
}

impl Batch {
    /// The digests written, for their deliveries.
    pub fn written(&self) -> Vec<Written> {
        self.runs
            .iter()
            .filter_map(|(_, run)| match &run.outcome {
                Outcome::Sent(written) => Some((**written).clone()),
                _ => None,
            })
            .collect()
    }
}

/// Runs the digests of `kind` of many users at once (at most
/// `WRITE_BATCH`), for the period `as_of` falls in for each, in one
/// transaction and a fixed number of statements whatever the number of
/// users. The content is gathered once per distinct audience (followed
/// teams, zone and period) and rendered per user, with what their quiet
/// hours held back and what spoiler-free mode keeps from them.
///
/// The transaction first claims `(user, kind, period)` in `digest_runs`
/// (unique) for every user; a user whose period another run already
/// claimed gets `AlreadyDone` and nothing else. Then it writes the
/// digests, their deliveries, folds the held notifications into them, and
/// moves each user's next due time past the period. A crash before the
/// commit leaves nothing behind.
pub async fn run_batch(
    db: &DatabaseConnection,
    members: &[Member],
    kind: DigestKind,
    as_of: DateTime<Utc>,
    tables: &LeagueTables,
) -> Result<Batch> {
    debug_assert!(members.len() <= super::WRITE_BATCH);
    let now = Utc::now();
    let fans: Vec<Fan> = members
        .iter()
        .filter_map(|(preferences, user)| {
            let schedule = Schedule::read_or_skip(user, preferences, "digest")?;
            let occurrence = occurrence(kind, &schedule, as_of);
            Some(Fan {
                preferences,
                schedule,
                occurrence,
            })
        })
        .collect();
    if fans.is_empty() {
        return Ok(Batch::default());
    }
    // The claim is the transaction's first statement: on SQLite a write
    // first takes the write lock (waiting for it), where a read first
    // would fail against a writer that committed in between.
    let txn = db.begin().await?;
    let claims = fans.iter().map(|fan| digest_run::ActiveModel {
        user_id: Set(fan.user_id()),
        kind: Set(kind.notification_kind()),
        period: Set(fan.occurrence.period.clone()),
        notification_id: Set(None),
        created_at: Set(now),
        ..Default::default()
    });
    let mut claim = digest_run::Entity::insert_many(claims)
        .on_conflict(
            OnConflict::columns([
                digest_run::Column::UserId,
                digest_run::Column::Kind,
                digest_run::Column::Period,
            ])
            .do_nothing()
            .to_owned(),
        )
        .into_query();
    claim.returning(
        Query::returning().columns([digest_run::Column::Id, digest_run::Column::UserId]),
    );
    let mut run_ids: HashMap<i64, i64> = HashMap::new();
    for row in txn.query_all(&claim).await? {
        run_ids.insert(row.try_get("", "user_id")?, row.try_get("", "id")?);
    }
    let claimed: Vec<&Fan> = fans
        .iter()
        .filter(|fan| run_ids.contains_key(&fan.user_id()))
        .collect();
    let claimed_ids: Vec<i64> = claimed.iter().map(|fan| fan.user_id()).collect();

    let follows = follows_of(&txn, &claimed_ids).await?;
    let held = held_of(&txn, &claimed_ids).await?;
    let revealed = revealed_by_spoiler_free(&txn, &claimed).await?;
    let mut gathered = Gathered::for_batch(&claimed_ids, &follows, tables);
    let mut items = Vec::new();
    let mut outcomes: HashMap<i64, Outcome> = HashMap::new();
    for fan in &claimed {
        let user_id = fan.user_id();
        let followed = follows.get(&user_id).cloned().unwrap_or_default();
        let shared = gathered
            .shared(&txn, kind, fan.schedule.tz, &fan.occurrence, followed)
            .await?;
        let shown = match revealed.get(&user_id) {
            Some(ids) => Shown::Revealed(ids.clone()),
            None => Shown::Everything,
        };
        let held = held.get(&user_id).cloned().unwrap_or_default();
        let content = Content::for_fan(kind, &shared, held, shown);
        if content.is_empty() {
            outcomes.insert(user_id, Outcome::NothingToReport);
            continue;
        }
        let draft = render(kind, fan.schedule.tz, &fan.occurrence, &content);
        items.push((fan.preferences, draft, false));
    }
    let written = super::write_many(&txn, items, &HashMap::new(), now).await?;
    if !written.is_empty() {
        // Each run points at its digest, found by the digest's dedupe key.
        let link = format!(
            "(SELECT n.id FROM notifications n WHERE n.user_id = digest_runs.user_id \
             AND n.dedupe_key = 'digest:{}:' || digest_runs.period)",
            kind.as_str()
        );
        let linked: Vec<i64> = written
            .iter()
            .filter_map(|w| run_ids.get(&w.notification.user_id).copied())
            .collect();
        digest_run::Entity::update_many()
            .col_expr(digest_run::Column::NotificationId, Expr::cust(link))
            .filter(digest_run::Column::Id.is_in(linked.iter().copied()))
            .exec(&txn)
            .await?;
        // What quiet hours held back is folded into each fan's digest, in
        // a statement per thousand held notifications rather than one per
        // fan: each finds its digest through this batch's runs (ids the
        // database gave, so written into the statement as numbers).
        let held_ids: Vec<i64> = written
            .iter()
            .filter_map(|w| held.get(&w.notification.user_id))
            .flatten()
            .map(|n| n.id)
            .collect();
        if !held_ids.is_empty() {
            let runs = linked
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let digest_of_user = format!(
                "(SELECT r.notification_id FROM digest_runs r \
                 WHERE r.id IN ({runs}) AND r.user_id = notifications.user_id)"
            );
            for chunk in held_ids.chunks(super::WRITE_BATCH) {
                notification::Entity::update_many()
                    .col_expr(
                        notification::Column::FoldedIntoId,
                        Expr::cust(digest_of_user.clone()),
                    )
                    .filter(notification::Column::Id.is_in(chunk.iter().copied()))
                    .exec(&txn)
                    .await?;
            }
        }
    }
    let mut next: Vec<(DateTime<Utc>, i64)> = fans
        .iter()
        .map(|fan| {
            (
                following(kind, &fan.schedule, &fan.occurrence),
                fan.user_id(),
            )
        })
        .collect();
    next.sort_unstable();
    set_next_due(&txn, kind, &next).await?;
    txn.commit().await?;

    let mut written: HashMap<i64, Written> = written
        .into_iter()
        .map(|w| (w.notification.user_id, w))
        .collect();
    let runs = fans
        .iter()
        .map(|fan| {
            let user_id = fan.user_id();
            let outcome = if !run_ids.contains_key(&user_id) {
                Outcome::AlreadyDone
            } else if let Some(w) = written.remove(&user_id) {
                Outcome::Sent(Box::new(w))
            } else {
                // Nothing to tell, or the digest exists though its run did
                // not (written by an older release or by hand): either
                // way nothing more goes out.
                outcomes.remove(&user_id).unwrap_or(Outcome::AlreadyDone)
            };
            let run = Run {
                outcome,
                period: fan.occurrence.period.clone(),
            };
            (user_id, run)
        })
        .collect();
    Ok(Batch { runs })
}

/// A user in a batch of digest runs.
struct Fan<'a> {
    preferences: &'a prefs::Model,
    schedule: Schedule,
    occurrence: Occurrence,
}

impl Fan<'_> {
    fn user_id(&self) -> i64 {
        self.preferences.user_id
    }
}

/// The digest time after `occurrence`: the same local time the next day
/// (or week), whatever the clocks do in between.
pub fn following(kind: DigestKind, schedule: &Schedule, occurrence: &Occurrence) -> DateTime<Utc> {
    let (days, time) = match kind {
        DigestKind::Daily => (1, schedule.daily_time),
        DigestKind::Weekly => (7, schedule.weekly_time),
    };
    period::resolve(schedule.tz, occurrence.local_date + Days::new(days), time)
}

fn next_column(kind: DigestKind) -> prefs::Column {
    match kind {
        DigestKind::Daily => prefs::Column::NextDailyAt,
        DigestKind::Weekly => prefs::Column::NextWeeklyAt,
    }
}

fn enabled_column(kind: DigestKind) -> prefs::Column {
    match kind {
        DigestKind::Daily => prefs::Column::DailyEnabled,
        DigestKind::Weekly => prefs::Column::WeeklyEnabled,
    }
}

/// Stores each user's next due time, sorted by time: one statement per
/// distinct time (fans of one zone and digest time share one). A user
/// whose preferences changed meanwhile (their next time was cleared) is
/// left for the dispatcher to work out afresh.
async fn set_next_due(
    db: &impl ConnectionTrait,
    kind: DigestKind,
    next: &[(DateTime<Utc>, i64)],
) -> Result<()> {
    let column = next_column(kind);
    for group in next.chunk_by(|a, b| a.0 == b.0) {
        let at = group[0].0;
        prefs::Entity::update_many()
            .col_expr(column, Expr::value(at))
            .filter(prefs::Column::UserId.is_in(group.iter().map(|(_, id)| *id)))
            .filter(column.is_not_null())
            .exec(db)
            .await?;
    }
    Ok(())
}

/// How long the dispatcher holds a user it queued a digest for before it
/// looks at them again (the run sets the real next time at once).
pub const DISPATCH_LEASE: chrono::Duration = chrono::Duration::minutes(10);

/// Takes up to `limit` users whose digest of `kind` may be due at `now`:
/// turned on, with a next due time that has come or is not known yet.
/// They are held for `DISPATCH_LEASE`, so dispatchers side by side share
/// them (`FOR UPDATE SKIP LOCKED` on PostgreSQL). Reads only those users,
/// through an index.
pub async fn claim_due(
    db: &impl ConnectionTrait,
    kind: DigestKind,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<i64>> {
    let column = next_column(kind);
    let mut pick = prefs::Entity::find()
        .select_only()
        .column(prefs::Column::UserId)
        .filter(enabled_column(kind).eq(true))
        .filter(Condition::any().add(column.is_null()).add(column.lte(now)))
        .order_by_asc(prefs::Column::UserId)
        .limit(limit);
    if db.get_database_backend() == DatabaseBackend::Postgres {
        pick = pick.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut take = prefs::Entity::update_many()
        .col_expr(column, Expr::value(now + DISPATCH_LEASE))
        .filter(prefs::Column::UserId.in_subquery(pick.into_query()))
        .into_query();
    take.returning(Query::returning().column(prefs::Column::UserId));
    let mut ids = db
        .query_all(&take)
        .await?
        .iter()
        .map(|row| row.try_get::<i64>("", "user_id"))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    ids.sort_unstable();
    Ok(ids)
}

/// Of the users `user_ids` (claimed by `claim_due`, or one an operator
/// named), those whose digest of `kind` is due at `now`: whose latest
/// digest time passed no longer ago than `catch_up`, with no run for that
/// period yet. The others get their next due time stored.
pub async fn sort_due(
    db: &impl ConnectionTrait,
    kind: DigestKind,
    now: DateTime<Utc>,
    catch_up: chrono::Duration,
    user_ids: &[i64],
) -> Result<Vec<(i64, Occurrence)>> {
    let members = super::audience::load(db, user_ids).await?;
    let enabled = |p: &prefs::Model| match kind {
        DigestKind::Daily => p.daily_enabled,
        DigestKind::Weekly => p.weekly_enabled,
    };
    let mut candidates = Vec::new();
    for (preferences, user) in &members {
        if !enabled(preferences) {
            continue;
        }
        let Some(schedule) = Schedule::read_or_skip(user, preferences, "digest") else {
            continue;
        };
        let occurrence = occurrence(kind, &schedule, now);
        candidates.push((user.id, schedule, occurrence));
    }
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    // Candidates' periods are a handful of dates (or weeks) around `now`.
    let periods: HashSet<&str> = candidates
        .iter()
        .map(|(_, _, o)| o.period.as_str())
        .collect();
    let done: HashSet<(i64, String)> = digest_run::Entity::find()
        .filter(digest_run::Column::Kind.eq(kind.notification_kind()))
        .filter(digest_run::Column::Period.is_in(periods))
        .filter(digest_run::Column::UserId.is_in(candidates.iter().map(|(id, _, _)| *id)))
        .all(db)
        .await?
        .into_iter()
        .map(|run| (run.user_id, run.period))
        .collect();
    let mut due = Vec::new();
    let mut later = Vec::new();
    for (user_id, schedule, occurrence) in candidates {
        let handled = done.contains(&(user_id, occurrence.period.clone()));
        if handled || now - occurrence.at > catch_up {
            later.push((following(kind, &schedule, &occurrence), user_id));
        } else {
            due.push((user_id, occurrence));
        }
    }
    later.sort_unstable();
    set_next_due(db, kind, &later).await?;
    Ok(due)
}

/// The users whose digest of `kind` is due at `now` (or, with `only_user`,
/// whether that one user's is), claimed for `DISPATCH_LEASE`.
pub async fn due(
    db: &impl ConnectionTrait,
    kind: DigestKind,
    now: DateTime<Utc>,
    catch_up: chrono::Duration,
    only_user: Option<i64>,
) -> Result<Vec<(i64, Occurrence)>> {
    if let Some(user_id) = only_user {
        return sort_due(db, kind, now, catch_up, &[user_id]).await;
    }
    let mut due = Vec::new();
    loop {
        let claimed = claim_due(db, kind, now, super::WRITE_BATCH as u64).await?;
        if claimed.is_empty() {
            return Ok(due);
        }
        due.extend(sort_due(db, kind, now, catch_up, &claimed).await?);
    }
}

/// The period `as_of` falls in for this user's digest of `kind`.
pub fn occurrence(kind: DigestKind, schedule: &Schedule, as_of: DateTime<Utc>) -> Occurrence {
    let tz = schedule.tz;
    match kind {
        DigestKind::Daily => period::latest_daily(tz, schedule.daily_time, as_of),
        DigestKind::Weekly => {
            period::latest_weekly(tz, schedule.weekly_day, schedule.weekly_time, as_of)
        }
    }
}

/// Why `due` finds no digest of `kind` for this user at `now`, in words
/// for an operator who asked for that one user.
pub async fn why_not_due(
    db: &impl ConnectionTrait,
    kind: DigestKind,
    now: DateTime<Utc>,
    catch_up: chrono::Duration,
    user_id: i64,
) -> Result<String> {
    let (Some(preferences), Some(user)) = (
        prefs::Entity::find_by_id(user_id).one(db).await?,
        user::Entity::find_by_id(user_id).one(db).await?,
    ) else {
        return Err(Error::not_found("notification preferences"));
    };
    let enabled = match kind {
        DigestKind::Daily => preferences.daily_enabled,
        DigestKind::Weekly => preferences.weekly_enabled,
    };
    let kind_name = kind.as_str();
    if !enabled {
        return Ok(format!(
            "their {kind_name} digest is off; updateNotificationPreferences turns it on"
        ));
    }
    let schedule = Schedule::read(&user, &preferences)?;
    let tz = schedule.tz;
    let occurrence = occurrence(kind, &schedule, now);
    if now - occurrence.at > catch_up {
        return Ok(format!(
            "their last {kind_name} digest time before then, {} ({tz}), was more than \
             DIGEST_CATCH_UP_HOURS ({} h) earlier",
            occurrence.at.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
            catch_up.num_hours(),
        ));
    }
    Ok(format!(
        "their {kind_name} digest for {} was already handled",
        occurrence.period
    ))
}

/// Whether the user follows anything (a team, a competition or a match);
/// without a follow a digest has nothing to report.
pub async fn follows_anything(db: &impl ConnectionTrait, user_id: i64) -> Result<bool> {
    Ok(!follows_of(db, &[user_id]).await?.is_empty())
}

/// What a digest tells everyone with the same followed teams, zone and
/// period: gathered once per run for all of them.
#[derive(Debug, Default)]
struct Shared {
    fixtures: Vec<football_match::Model>,
    results: Vec<football_match::Model>,
    positions: Vec<crate::standings::Row>,
    teams: HashMap<i64, team::Model>,
}

/// What one digest tells: the shared part, and what is the fan's own.
#[derive(Debug)]
struct Content {
    shared: Arc<Shared>,
    held: Vec<notification::Model>,
    /// What of the results the user may see (spoiler-free mode).
    shown: Shown,
    /// A table tells results: none for a user keeping them away, and
    /// league positions alone are not news.
    with_positions: bool,
}

impl Content {
    fn for_fan(
        kind: DigestKind,
        shared: &Arc<Shared>,
        held: Vec<notification::Model>,
        shown: Shown,
    ) -> Self {
        let mut content = Self {
            shared: shared.clone(),
            held,
            shown,
            with_positions: false,
        };
        content.with_positions =
            kind == DigestKind::Weekly && !content.is_empty() && content.shown == Shown::Everything;
        content
    }

    fn is_empty(&self) -> bool {
        self.shared.fixtures.is_empty() && self.shared.results.is_empty() && self.held.is_empty()
    }

    fn positions(&self) -> &[crate::standings::Row] {
        if self.with_positions {
            &self.shared.positions
        } else {
            &[]
        }
    }

    fn name(&self, team_id: i64) -> &str {
        self.shared
            .teams
            .get(&team_id)
            .map(|t| t.short_name.as_deref().unwrap_or(&t.name))
            .unwrap_or("?")
    }
}

/// League tables as they stood at a weekly digest's time, shared by the
/// batches of a process. A run of 100,000 weekly digests is 400 jobs of
/// 250 fans that want the same few tables at the same instant, so each
/// table is computed once a run (per worker process), not once a job;
/// jobs that want one while it is computed wait for it. A table is kept
/// for five minutes at most, so a result corrected since is counted by
/// whatever asks next.
#[derive(Clone)]
pub struct LeagueTables(Arc<quick_cache::sync::Cache<TableKey, Arc<[crate::standings::Row]>>>);

/// A season, the instant its table stood at, and the five minutes it was
/// computed in.
type TableKey = (i64, DateTime<Utc>, i64);

/// How long a computed table serves, in seconds.
const TABLE_KEPT_SECS: i64 = 300;
/// Tables kept at once: a run's few seasons, at each zone's digest time.
const TABLES_KEPT: usize = 256;

impl Default for LeagueTables {
    fn default() -> Self {
        Self(Arc::new(quick_cache::sync::Cache::new(TABLES_KEPT)))
    }
}

impl LeagueTables {
    /// The season's table as it stood at `as_of`.
    async fn at(
        &self,
        db: &impl ConnectionTrait,
        season_id: i64,
        as_of: DateTime<Utc>,
    ) -> Result<Arc<[crate::standings::Row]>> {
        let key = (season_id, as_of, Utc::now().timestamp() / TABLE_KEPT_SECS);
        match self.0.get_value_or_guard_async(&key).await {
            Ok(table) => Ok(table),
            // A table that fails to compute lets the guard go: whoever
            // waits for it computes it in turn.
            Err(guard) => {
                let counting = crate::standings::Counting::AsOf(as_of);
                let table: Arc<[_]> = crate::standings::table(db, season_id, counting)
                    .await?
                    .into();
                let _ = guard.insert(table.clone());
                Ok(table)
            }
        }
    }
}

/// What one batch of runs gathered, so each distinct audience is read
/// once, and the matches of a period once for all the batch's followed
/// teams, whatever the number of distinct audiences.
struct Gathered {
    /// The fans of the batch.
    fans: Vec<i64>,
    /// Every team any fan of the batch follows.
    followed: Vec<i64>,
    shared: HashMap<(Followed, String, DateTime<Utc>), Arc<Shared>>,
    /// The matches of what the batch's fans follow in a window, by the
    /// window's bounds.
    windows: HashMap<(DateTime<Utc>, DateTime<Utc>), Arc<Window>>,
    tables: LeagueTables,
    positions: HashMap<(i64, DateTime<Utc>), Option<crate::standings::Row>>,
    leagues: Option<Vec<i64>>,
}

/// The matches of the batch's followed teams that kick off in a window,
/// with their teams.
struct Window {
    matches: Vec<football_match::Model>,
    teams: HashMap<i64, team::Model>,
    /// The competition of each season of `matches`.
    competitions: HashMap<i64, i64>,
}

impl Gathered {
    fn for_batch(fans: &[i64], follows: &HashMap<i64, Followed>, tables: &LeagueTables) -> Self {
        let mut followed: Vec<i64> = follows
            .values()
            .flat_map(|f| f.teams.iter().copied())
            .collect();
        followed.sort_unstable();
        followed.dedup();
        Self {
            fans: fans.to_vec(),
            followed,
            shared: HashMap::new(),
            windows: HashMap::new(),
            tables: tables.clone(),
            positions: HashMap::new(),
            leagues: None,
        }
    }

    async fn shared(
        &mut self,
        db: &impl ConnectionTrait,
        kind: DigestKind,
        tz: Tz,
        occurrence: &Occurrence,
        followed: Followed,
    ) -> Result<Arc<Shared>> {
        // The period's bounds are local days, so the zone is part of the key.
        let key = (followed, tz.name().to_owned(), occurrence.at);
        if let Some(shared) = self.shared.get(&key) {
            return Ok(shared.clone());
        }
        let shared = Arc::new(self.gather(db, kind, tz, occurrence, &key.0).await?);
        self.shared.insert(key, shared.clone());
        Ok(shared)
    }

    async fn gather(
        &mut self,
        db: &impl ConnectionTrait,
        kind: DigestKind,
        tz: Tz,
        occurrence: &Occurrence,
        followed: &Followed,
    ) -> Result<Shared> {
        let mut shared = Shared::default();
        if followed.is_empty() {
            return Ok(shared);
        }
        // Daily: today's fixtures and yesterday's results, in local days.
        // Weekly: the next seven days' fixtures and the last seven days' results.
        let (fixtures_from, fixtures_to, results_from, results_to) = match kind {
            DigestKind::Daily => {
                let today = period::start_of_day(tz, occurrence.local_date);
                let tomorrow = period::start_of_day(tz, occurrence.local_date + Days::new(1));
                let yesterday = period::start_of_day(tz, occurrence.local_date - Days::new(1));
                (today, tomorrow, yesterday, today)
            }
            DigestKind::Weekly => {
                let week = chrono::Duration::days(7);
                (
                    occurrence.at,
                    occurrence.at + week,
                    occurrence.at - week,
                    occurrence.at,
                )
            }
        };
        let window = self.window(db, results_from, fixtures_to).await?;
        let plays = |m: &football_match::Model| {
            followed.teams.contains(&m.home_team_id)
                || followed.teams.contains(&m.away_team_id)
                || followed.matches.contains(&m.id)
                || window
                    .competitions
                    .get(&m.season_id)
                    .is_some_and(|c| followed.competitions.contains(c))
        };
        let within = |m: &football_match::Model, from: DateTime<Utc>, to: DateTime<Utc>| {
            m.kickoff_at >= from && m.kickoff_at < to
        };
        shared.fixtures = window
            .matches
            .iter()
            .filter(|m| plays(m) && within(m, fixtures_from, fixtures_to))
            .filter(|m| {
                !matches!(
                    m.status,
                    MatchStatus::Postponed | MatchStatus::Cancelled | MatchStatus::Finished
                )
            })
            .cloned()
            .collect();
        shared.results = window
            .matches
            .iter()
            .filter(|m| plays(m) && within(m, results_from, results_to))
            .filter(|m| m.status == MatchStatus::Finished)
            .cloned()
            .collect();
        if kind == DigestKind::Weekly {
            shared.positions = self.positions(db, &followed.teams, occurrence.at).await?;
        }
        shared.teams = shared
            .fixtures
            .iter()
            .chain(&shared.results)
            .flat_map(|m| [m.home_team_id, m.away_team_id])
            .filter_map(|id| window.teams.get(&id).map(|t| (id, t.clone())))
            .collect();
        Ok(shared)
    }

    /// The matches of every followed team of the batch from `from` to
    /// `to`, read once per window for the whole batch.
    async fn window(
        &mut self,
        db: &impl ConnectionTrait,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Arc<Window>> {
        if let Some(window) = self.windows.get(&(from, to)) {
            return Ok(window.clone());
        }
        let matches = matches_of(db, &self.followed, &self.fans, from, to).await?;
        let team_ids: HashSet<i64> = matches
            .iter()
            .flat_map(|m| [m.home_team_id, m.away_team_id])
            .collect();
        let teams = if team_ids.is_empty() {
            HashMap::new()
        } else {
            team::Entity::find()
                .filter(team::Column::Id.is_in(team_ids))
                .all(db)
                .await?
                .into_iter()
                .map(|t| (t.id, t))
                .collect()
        };
        let season_ids: HashSet<i64> = matches.iter().map(|m| m.season_id).collect();
        let competitions = if season_ids.is_empty() {
            HashMap::new()
        } else {
            season::Entity::find()
                .filter(season::Column::Id.is_in(season_ids))
                .all(db)
                .await?
                .into_iter()
                .map(|s| (s.id, s.competition_id))
                .collect()
        };
        let window = Arc::new(Window {
            matches,
            teams,
            competitions,
        });
        self.windows.insert((from, to), window.clone());
        Ok(window)
    }

    /// Each followed team's place in the league season it plays in now
    /// (its latest league match up to a week ahead), as the table stood at
    /// `as_of`. Each season's table comes from `LeagueTables`.
    async fn positions(
        &mut self,
        db: &impl ConnectionTrait,
        teams: &[i64],
        as_of: DateTime<Utc>,
    ) -> Result<Vec<crate::standings::Row>> {
        use football_match::Column as M;
        if self.leagues.is_none() {
            let leagues = competition::Entity::find()
                .filter(competition::Column::Kind.eq(CompetitionKind::League))
                .all(db)
                .await?
                .into_iter()
                .map(|c| c.id)
                .collect();
            self.leagues = Some(leagues);
        }
        let leagues = self.leagues.clone().unwrap_or_default();
        let mut positions = Vec::new();
        for &team_id in teams {
            if let Some(known) = self.positions.get(&(team_id, as_of)) {
                positions.extend(known.clone());
                continue;
            }
            let latest = football_match::Entity::find()
                .find_also_related(season::Entity)
                .filter(
                    Condition::any()
                        .add(M::HomeTeamId.eq(team_id))
                        .add(M::AwayTeamId.eq(team_id)),
                )
                .filter(M::KickoffAt.lte(as_of + chrono::Duration::days(7)))
                .filter(season::Column::CompetitionId.is_in(leagues.iter().copied()))
                .order_by_desc(M::KickoffAt)
                .one(db)
                .await?;
            let row = match latest {
                Some((_, Some(season))) => {
                    let table = self.tables.at(db, season.id, as_of).await?;
                    table.iter().find(|r| r.team.id == team_id).cloned()
                }
                _ => None,
            };
            self.positions.insert((team_id, as_of), row.clone());
            positions.extend(row);
        }
        Ok(positions)
    }
}

/// What one user follows, each list sorted: the digest tells the
/// matches of the teams, of the competitions, and the matches themselves.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct Followed {
    teams: Vec<i64>,
    competitions: Vec<i64>,
    matches: Vec<i64>,
}

impl Followed {
    fn is_empty(&self) -> bool {
        self.teams.is_empty() && self.competitions.is_empty() && self.matches.is_empty()
    }
}

/// What each of these users follows (users who follow nothing are left out).
async fn follows_of(db: &impl ConnectionTrait, user_ids: &[i64]) -> Result<HashMap<i64, Followed>> {
    let mut follows: HashMap<i64, Followed> = HashMap::new();
    if user_ids.is_empty() {
        return Ok(follows);
    }
    let ids = || user_ids.iter().copied();
    for f in follow::Entity::find()
        .filter(follow::Column::UserId.is_in(ids()))
        .all(db)
        .await?
    {
        follows.entry(f.user_id).or_default().teams.push(f.team_id);
    }
    for f in competition_follow::Entity::find()
        .filter(competition_follow::Column::UserId.is_in(ids()))
        .all(db)
        .await?
    {
        let followed = follows.entry(f.user_id).or_default();
        followed.competitions.push(f.competition_id);
    }
    for f in match_follow::Entity::find()
        .filter(match_follow::Column::UserId.is_in(ids()))
        .all(db)
        .await?
    {
        follows
            .entry(f.user_id)
            .or_default()
            .matches
            .push(f.match_id);
    }
    for followed in follows.values_mut() {
        followed.teams.sort_unstable();
        followed.competitions.sort_unstable();
        followed.matches.sort_unstable();
    }
    Ok(follows)
}

/// What quiet hours held back for each of these users and no digest told
/// yet, oldest first.
async fn held_of(
    db: &impl ConnectionTrait,
    user_ids: &[i64],
) -> Result<HashMap<i64, Vec<notification::Model>>> {
    let mut held: HashMap<i64, Vec<notification::Model>> = HashMap::new();
    if user_ids.is_empty() {
        return Ok(held);
    }
    for n in notification::Entity::find()
        .filter(notification::Column::UserId.is_in(user_ids.iter().copied()))
        // The bare column, as the partial index on held rows is written.
        .filter(Expr::col(notification::Column::Held))
        .filter(notification::Column::FoldedIntoId.is_null())
        .order_by_asc(notification::Column::Id)
        .all(db)
        .await?
    {
        held.entry(n.user_id).or_default().push(n);
    }
    Ok(held)
}

/// For each spoiler-free fan among `fans`, the matches they revealed.
async fn revealed_by_spoiler_free(
    db: &impl ConnectionTrait,
    fans: &[&Fan<'_>],
) -> Result<HashMap<i64, HashSet<i64>>> {
    let mut revealed: HashMap<i64, HashSet<i64>> = fans
        .iter()
        .filter(|fan| fan.preferences.spoiler_free)
        .map(|fan| (fan.user_id(), HashSet::new()))
        .collect();
    if revealed.is_empty() {
        return Ok(revealed);
    }
    for r in revealed_match::Entity::find()
        .filter(revealed_match::Column::UserId.is_in(revealed.keys().copied().collect::<Vec<_>>()))
        .all(db)
        .await?
    {
        revealed.entry(r.user_id).or_default().insert(r.match_id);
    }
    Ok(revealed)
}

/// The matches that kick off in `[from, to)` of the `teams`, and of the
/// competitions and the single matches that any of `fans` follows (read
/// through their follows, so nothing binds one parameter per followed
/// match).
async fn matches_of(
    db: &impl ConnectionTrait,
    teams: &[i64],
    fans: &[i64],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<football_match::Model>> {
    use football_match::Column as M;
    let seasons = Query::select()
        .column((season::Entity, season::Column::Id))
        .from(season::Entity)
        .inner_join(
            competition_follow::Entity,
            Expr::col((
                competition_follow::Entity,
                competition_follow::Column::CompetitionId,
            ))
            .equals((season::Entity, season::Column::CompetitionId)),
        )
        .and_where(
            Expr::col((
                competition_follow::Entity,
                competition_follow::Column::UserId,
            ))
            .is_in(fans.iter().copied()),
        )
        .to_owned();
    let single = Query::select()
        .column(match_follow::Column::MatchId)
        .from(match_follow::Entity)
        .and_where(match_follow::Column::UserId.is_in(fans.iter().copied()))
        .to_owned();
    Ok(football_match::Entity::find()
        .filter(
            Condition::any()
                .add(M::HomeTeamId.is_in(teams.iter().copied()))
                .add(M::AwayTeamId.is_in(teams.iter().copied()))
                .add(M::SeasonId.in_subquery(seasons))
                .add(M::Id.in_subquery(single)),
        )
        .filter(M::KickoffAt.gte(from))
        .filter(M::KickoffAt.lt(to))
        .order_by_asc(M::KickoffAt)
        .order_by_asc(M::Id)
        .all(db)
        .await?)
}

fn render(kind: DigestKind, tz: Tz, occurrence: &Occurrence, content: &Content) -> Draft {
    let local = |at: DateTime<Utc>| at.with_timezone(&tz);
    let mut lines = Vec::new();
    let (fixtures_heading, results_heading) = match kind {
        DigestKind::Daily => ("Today", "Yesterday"),
        DigestKind::Weekly => ("The next seven days", "The last seven days"),
    };
    let fixture_line = |m: &football_match::Model| {
        let when = match kind {
            DigestKind::Daily => local(m.kickoff_at).format("%H:%M"),
            DigestKind::Weekly => local(m.kickoff_at).format("%a %e %b %H:%M"),
        };
        format!(
            "{when}  {} v {}",
            content.name(m.home_team_id),
            content.name(m.away_team_id)
        )
    };
    let result_line = |m: &football_match::Model| {
        let (home, away) = (content.name(m.home_team_id), content.name(m.away_team_id));
        if content.shown.hides(m) {
            return format!("{home} v {away} (result hidden)");
        }
        let (home_goals, away_goals) = crate::matches::final_score(m).unwrap_or_default();
        let ended = super::alerts::how_it_ended(m, home, away);
        format!("{home} {home_goals}-{away_goals} {away}{ended}")
    };
    if !content.shared.fixtures.is_empty() {
        lines.push(format!("{fixtures_heading} ({})", tz.name()));
        lines.extend(
            content
                .shared
                .fixtures
                .iter()
                .map(|m| format!("  {}", fixture_line(m))),
        );
    }
    if !content.shared.results.is_empty() {
        lines.push(results_heading.to_owned());
        lines.extend(
            content
                .shared
                .results
                .iter()
                .map(|m| format!("  {}", result_line(m))),
        );
    }
    if !content.positions().is_empty() {
        lines.push("League positions".to_owned());
        lines.extend(content.positions().iter().map(|row| {
            format!(
                "  {}. {} ({} pts from {})",
                row.position, row.team.name, row.points, row.played
            )
        }));
    }
    if !content.held.is_empty() {
        lines.push("During your quiet hours".to_owned());
        lines.extend(
            content
                .held
                .iter()
                .map(|n| format!("  {}: {}", n.title, n.body)),
        );
    }
    let day = occurrence.local_date.format("%A %-d %B %Y");
    let title = match kind {
        DigestKind::Daily => format!("Your daily digest for {day}"),
        DigestKind::Weekly => format!("Your weekly digest, week of {day}"),
    };
    let fixture_json = |m: &football_match::Model| {
        json!({
            "matchId": m.id,
            "homeTeam": content.name(m.home_team_id),
            "awayTeam": content.name(m.away_team_id),
            "kickoffAt": m.kickoff_at.to_rfc3339(),
            "localKickoff": local(m.kickoff_at).to_rfc3339(),
        })
    };
    let result_json = |m: &football_match::Model| {
        let hidden = content.shown.hides(m);
        let score = (!hidden).then(|| crate::matches::final_score(m)).flatten();
        let mut result = json!({
            "matchId": m.id,
            "homeTeam": content.name(m.home_team_id),
            "awayTeam": content.name(m.away_team_id),
            "homeScore": score.map(|s| s.0),
            "awayScore": score.map(|s| s.1),
            "hidden": hidden,
        });
        if !hidden {
            result["afterExtraTime"] = json!(m.extra_time_home.is_some());
            result["homePenalties"] = json!(m.penalties_home);
            result["awayPenalties"] = json!(m.penalties_away);
        }
        result
    };
    let payload = json!({
        "kind": kind.as_str(),
        "period": occurrence.period,
        "timeZone": tz.name(),
        "fixtures": content.shared.fixtures.iter().map(fixture_json).collect::<Vec<_>>(),
        "results": content.shared.results.iter().map(result_json).collect::<Vec<_>>(),
        "positions": content.positions().iter().map(|row| json!({
            "teamId": row.team.id,
            "team": row.team.name,
            "position": row.position,
            "points": row.points,
            "played": row.played,
        })).collect::<Vec<_>>(),
        "heldBack": content.held.iter().map(|n| json!({
            "notificationId": n.id,
            "kind": n.kind,
            "title": n.title,
            "body": n.body,
            "payload": n.payload,
        })).collect::<Vec<_>>(),
    });
    Draft {
        kind: kind.notification_kind(),
        dedupe_key: format!("digest:{}:{}", kind.as_str(), occurrence.period),
        title,
        body: lines.join("\n"),
        payload,
    }
}
