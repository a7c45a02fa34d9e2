//! Kick-off reminders, queued as delayed jobs when a match is scheduled or
//! moved. A reminder whose match has since moved, been postponed or been
//! cancelled does nothing: only the reminder for the current time speaks.

use apalis::prelude::{Attempt, Data, TaskBuilder};
use chrono::{DateTime, Utc};
use entity::{MatchStatus, football_match};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
use serde::{Deserialize, Serialize};
use service::notifications::alerts;

use super::JobResult;
use crate::Context;
use crate::queue::{Job, Queues, Store, system_time};

/// Remind followers that a match kicks off soon, if it still kicks off at
/// `kickoff_at`: a reschedule queues a new reminder and this one lapses.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReminderJob {
    pub match_id: i64,
    pub kickoff_at: DateTime<Utc>,
}

impl Job for ReminderJob {
    const NAME: &'static str = "reminders";

    fn storage<S: Store>(queues: &Queues<S>) -> &S::Of<Self> {
        &queues.reminders
    }
}

#[tracing::instrument(skip_all, fields(match_id = job.match_id, kickoff_at = %job.kickoff_at))]
pub async fn handle(job: ReminderJob, ctx: Data<Context>, attempt: Attempt) -> JobResult {
    let started = std::time::Instant::now();
    let result = remind(&job, &ctx).await;
    ctx.metrics
        .job(ReminderJob::NAME, result.is_ok(), started.elapsed());
    super::finish(&ctx, &job, &attempt, result).await
}

async fn remind(job: &ReminderJob, ctx: &Context) -> anyhow::Result<()> {
    let written = super::alert(ctx, |told| async move {
        alerts::for_kickoff(&ctx.db, job.match_id, job.kickoff_at, Utc::now(), &told).await
    })
    .await?;
    match written {
        Some(written) => {
            tracing::info!(
                match_id = job.match_id,
                recipients = written,
                "kick-off reminders written"
            );
        }
        None => {
            tracing::info!(match_id = job.match_id, kickoff_at = %job.kickoff_at, "reminder lapsed: the match moved or was called off");
        }
    }
    Ok(())
}

/// Queues the reminder of every fixture that kicks off within the lead
/// time (plus ten minutes) from `now`, whatever wrote it: the feed, whose
/// outbox rows queue reminders as soon as a match is scheduled, but also
/// `api import` and `--demo`, which write no outbox rows. The queue keeps
/// one reminder per match and kick-off time, so queueing it again every
/// minute adds nothing.
pub async fn queue_upcoming(ctx: &Context, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let horizon = now + ctx.settings.reminder_lead + chrono::Duration::minutes(10);
    let upcoming = football_match::Entity::find()
        .filter(football_match::Column::Status.eq(MatchStatus::Scheduled))
        .filter(football_match::Column::KickoffAt.gt(now))
        .filter(football_match::Column::KickoffAt.lte(horizon))
        .all(&ctx.db)
        .await?;
    for game in &upcoming {
        enqueue(ctx, game, now).await?;
    }
    Ok(upcoming.len())
}

/// Queues the reminder of a scheduled match for `KICKOFF_REMINDER_MINUTES`
/// before its kick-off; one scheduled at short notice is reminded at once.
/// The queue keeps one reminder per match and kick-off time.
#[tracing::instrument(skip_all, fields(match_id = game.id), err)]
pub async fn enqueue(
    ctx: &Context,
    game: &football_match::Model,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let at = std::cmp::max(game.kickoff_at - ctx.settings.reminder_lead, now);
    let key = format!("reminder:{}:{}", game.id, game.kickoff_at.timestamp());
    let job = ReminderJob {
        match_id: game.id,
        kickoff_at: game.kickoff_at,
    };
    let task = TaskBuilder::new(job)
        .run_at_time(system_time(at))
        .idempotency_key(key)
        .build();
    ctx.queue.push(task).await?;
    tracing::debug!(match_id = game.id, kickoff_at = %game.kickoff_at, remind_at = %at, "kick-off reminder queued");
    Ok(())
}
