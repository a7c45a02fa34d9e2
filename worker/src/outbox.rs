//! The outbox consumer. The api writes an outbox row in the same
//! transaction as each match change, so a change that committed is never
//! lost, even if the api died right after. This loop decodes each row
//! (`service::outbox::Message`), turns it into alerts or a reminder job and
//! then marks it relayed. Each worker claims the rows it works on
//! (`service::outbox::claim`), so workers side by side share the rows
//! rather than repeat them. A row that fails (one that does not decode, a
//! database error) waits out a doubling backoff, and after its last attempt
//! is dead-lettered: never tried again, and listed for admins among the
//! failed jobs. Handling a row twice (a worker that died before the mark)
//! writes nothing twice, because every notification has a dedupe key and
//! every reminder an idempotency key.
//!
//! The same loop sweeps up email and webhook deliveries left without a job.

use std::time::Instant;

use chrono::Utc;
use entity::{MatchStatus, football_match};
use sea_orm::EntityTrait as _;
use service::live::bus::Topic;
use service::notifications::alerts::{self, ScheduleChange};
use service::notifications::deliveries;
use service::outbox::{self, Message};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::Context;

/// The name of the loop, among the worker's.
pub const LOOP: &str = "outbox";

/// Rows one claim takes. Few, so that rows a busy worker has not reached
/// yet are not held from an idle one for long.
const BATCH: u64 = 8;
/// How long a claim holds a row; renewed while the row is worked on, so
/// only a worker that died lets it go early. Short, since a worker takes a
/// goal the moment it commits: one killed then (an api with the worker
/// inside, killed right after the write) holds the goal's alert back from
/// the others, or from itself restarted, until the lease lapses.
const LEASE: chrono::Duration = chrono::Duration::seconds(10);
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(3);
/// A row that failed this often is dead-lettered, not retried forever.
const MAX_ATTEMPTS: i32 = 10;
/// The wait before the second attempt, doubled for each later one, up to
/// `MAX_BACKOFF`: ten attempts span about eight minutes.
const FIRST_BACKOFF: chrono::Duration = chrono::Duration::seconds(1);
const MAX_BACKOFF: chrono::Duration = chrono::Duration::minutes(5);

/// Relays the outbox until `shutdown`: as soon as the bus says a match
/// changed, and at every poll.
pub async fn run(ctx: Context, shutdown: CancellationToken) {
    let mut poll = tokio::time::interval(ctx.settings.poll);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // A match change is published once its transaction, outbox row and
    // all, has committed: relaying then tells a goal without waiting out
    // the poll. The poll stays for what the bus cannot say: rows written
    // while it was away, and rows whose backoff ends.
    let mut changes = ctx.bus.subscribe(Topic::AllMatches);
    let mut listening = true;
    let mut last_sweep = Instant::now();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = poll.tick() => {}
            heard = changes.recv(), if listening => {
                listening = !matches!(heard, Err(RecvError::Closed));
                // One relay covers every change that arrived meanwhile.
                changes.skip_waiting();
            }
        }
        if let Err(err) = relay(&ctx).await {
            tracing::warn!(
                error = format!("{err:#}"),
                "reading the outbox failed; will retry"
            );
        }
        if last_sweep.elapsed() >= ctx.settings.heartbeat {
            last_sweep = Instant::now();
            if let Err(err) = sweep(&ctx).await {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "sweeping deliveries failed; will retry"
                );
            }
        }
    }
}

/// Claims and handles outbox rows, oldest first, until none is due.
pub async fn relay(ctx: &Context) -> anyhow::Result<usize> {
    let mut handled = 0;
    loop {
        let now = Utc::now();
        let rows = outbox::claim(&ctx.db, now, now + LEASE, BATCH).await?;
        if rows.is_empty() {
            return Ok(handled);
        }
        let mut held: Vec<i64> = rows.iter().map(|row| row.id).collect();
        for row in rows {
            // In the trace of the write that committed the row.
            let span = tracing::info_span!("outbox", outbox_id = row.id, topic = %row.topic);
            service::telemetry::continue_trace(&span, row.traceparent.as_deref());
            let started = Instant::now();
            let result = keep_held(ctx, &held, handle(ctx, &row))
                .instrument(span)
                .await;
            ctx.metrics.job(LOOP, result.is_ok(), started.elapsed());
            held.retain(|id| *id != row.id);
            match result {
                Ok(()) => {
                    outbox::relayed(&ctx.db, row.id, Utc::now()).await?;
                    handled += 1;
                }
                Err(err) => failed(ctx, &row, &format!("{err:#}")).await?,
            }
        }
    }
}

/// Runs `work` while renewing the claim on the rows in `held`.
async fn keep_held<T>(ctx: &Context, held: &[i64], work: impl Future<Output = T>) -> T {
    let mut work = std::pin::pin!(work);
    let start = tokio::time::Instant::now() + RENEW_EVERY;
    let mut renew = tokio::time::interval_at(start, RENEW_EVERY);
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = renew.tick() => {
                if let Err(err) = outbox::extend(&ctx.db, held, Utc::now() + LEASE).await {
                    tracing::warn!(error = format!("{err:#}"), "could not renew the claim on outbox rows");
                }
            }
        }
    }
}

/// Records a failed attempt: the row waits out a backoff, or after its last
/// attempt is dead-lettered and listed for admins among the failed jobs.
async fn failed(ctx: &Context, row: &entity::outbox::Model, error: &str) -> anyhow::Result<()> {
    let attempt = row.attempts + 1;
    let now = Utc::now();
    if attempt >= MAX_ATTEMPTS {
        tracing::error!(outbox_id = row.id, topic = %row.topic, attempt, error, "outbox row dead-lettered");
        outbox::failed(&ctx.db, row.id, error, None, now).await?;
        let job = serde_json::json!({
            "outboxId": row.id,
            "topic": row.topic,
            "payload": row.payload,
        });
        service::dead_jobs::record(&ctx.db, LOOP, job, attempt, error).await?;
        ctx.metrics.dead_jobs.inc();
        return Ok(());
    }
    let doublings = u32::try_from(attempt - 1).unwrap_or(0).min(16);
    let wait = (FIRST_BACKOFF * 2i32.pow(doublings)).min(MAX_BACKOFF);
    tracing::warn!(outbox_id = row.id, topic = %row.topic, attempt, error, retry_in_s = wait.num_seconds(), "outbox row failed");
    outbox::failed(&ctx.db, row.id, error, Some(now + wait), now).await?;
    Ok(())
}

async fn handle(ctx: &Context, row: &entity::outbox::Model) -> anyhow::Result<()> {
    match Message::decode(row)? {
        Message::MatchEvent {
            event_id, score, ..
        } => {
            let now = Utc::now();
            // An alert hours late is noise, not news (a worker that was down
            // for a long time catches up quietly).
            if now - row.created_at > ctx.settings.alert_max_age {
                tracing::info!(outbox_id = row.id, "match event too old to alert on");
                return Ok(());
            }
            crate::jobs::alert(ctx, |told| async move {
                alerts::for_event(&ctx.db, event_id, score, now, &told).await
            })
            .await?;
        }
        Message::MatchScheduled { match_id } => schedule_reminder(ctx, match_id).await?,
        Message::MatchRescheduled {
            match_id,
            previous_kickoff_at,
            kickoff_at,
        } => {
            schedule_reminder(ctx, match_id).await?;
            let change = ScheduleChange::Moved {
                from: previous_kickoff_at,
                to: kickoff_at,
            };
            alert_schedule_change(ctx, row, match_id, change).await?;
        }
        // The queued reminder finds the match postponed or cancelled and
        // lapses; the followers are told.
        Message::MatchPostponed {
            match_id,
            kickoff_at,
        } => {
            let change = ScheduleChange::Postponed { was: kickoff_at };
            alert_schedule_change(ctx, row, match_id, change).await?;
        }
        Message::MatchCancelled {
            match_id,
            kickoff_at,
        } => {
            let change = ScheduleChange::Cancelled { was: kickoff_at };
            alert_schedule_change(ctx, row, match_id, change).await?;
        }
    }
    Ok(())
}

/// Unlike a match event, a schedule change stays news however late the
/// worker reads it, so it has no age limit. The row's id is the change's,
/// so a row handled twice alerts once.
async fn alert_schedule_change(
    ctx: &Context,
    row: &entity::outbox::Model,
    match_id: i64,
    change: ScheduleChange,
) -> anyhow::Result<()> {
    let change_id = row.id;
    crate::jobs::alert(ctx, |told| async move {
        alerts::for_schedule_change(&ctx.db, change_id, match_id, change, Utc::now(), &told).await
    })
    .await?;
    Ok(())
}

async fn schedule_reminder(ctx: &Context, match_id: i64) -> anyhow::Result<()> {
    let Some(game) = football_match::Entity::find_by_id(match_id)
        .one(&ctx.db)
        .await?
    else {
        return Ok(());
    };
    let now = Utc::now();
    if game.status == MatchStatus::Scheduled && game.kickoff_at > now {
        crate::jobs::reminder::enqueue(ctx, &game, now).await?;
    }
    Ok(())
}

/// Queues a job for each delivery that should be moving but is not.
pub async fn sweep(ctx: &Context) -> anyhow::Result<usize> {
    let stalled = deliveries::stalled(&ctx.db, Utc::now(), ctx.settings.sweep_grace).await?;
    crate::jobs::delivery::enqueue_many(&ctx.queue, &stalled).await?;
    if !stalled.is_empty() {
        tracing::info!(count = stalled.len(), "requeued stalled deliveries");
    }
    Ok(stalled.len())
}
