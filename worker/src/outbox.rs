//! The outbox consumer. The api writes an outbox row in the same
//! transaction as each match change, so a change that committed is never
//! lost, even if the api died right after. This loop decodes each row
//! (`service::outbox::Message`), turns it into alerts or a reminder job and
//! then marks it relayed; a row that does not decode counts as a failed
//! attempt and is left for an operator after the last. Handling a row twice
//! (a crash before the mark, two workers) writes nothing twice, because
//! every notification has a dedupe key and every reminder an idempotency key.
//!
//! The same loop sweeps up email and webhook deliveries left without a job.

use std::time::Instant;

use chrono::Utc;
use entity::{MatchStatus, football_match, outbox};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
use service::notifications::alerts::{self, ScheduleChange};
use service::notifications::deliveries;
use service::outbox::Message;
use tokio_util::sync::CancellationToken;

use crate::Context;

/// The name of the loop, among the worker's.
pub const LOOP: &str = "outbox";

const BATCH: u64 = 100;
/// A row that failed this often is left for an operator, not retried forever.
const MAX_ATTEMPTS: i32 = 10;

/// Polls the outbox until `shutdown`.
pub async fn run(ctx: Context, shutdown: CancellationToken) {
    let mut poll = tokio::time::interval(ctx.settings.poll);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_sweep = Instant::now();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = poll.tick() => {}
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

/// Handles every outbox row not yet relayed, oldest first.
pub async fn relay(ctx: &Context) -> anyhow::Result<usize> {
    let mut handled = 0;
    loop {
        let rows = outbox::Entity::find()
            .filter(outbox::Column::RelayedAt.is_null())
            .filter(outbox::Column::Attempts.lt(MAX_ATTEMPTS))
            .order_by_asc(outbox::Column::Id)
            .limit(BATCH)
            .all(&ctx.db)
            .await?;
        let count = rows.len();
        let mut failed = false;
        for row in rows {
            let update = outbox::Entity::update_many().filter(outbox::Column::Id.eq(row.id));
            match handle(ctx, &row).await {
                Ok(()) => {
                    update
                        .col_expr(outbox::Column::RelayedAt, Expr::value(Utc::now()))
                        .exec(&ctx.db)
                        .await?;
                    handled += 1;
                }
                Err(err) => {
                    failed = true;
                    tracing::warn!(outbox_id = row.id, topic = %row.topic, attempt = row.attempts + 1, error = format!("{err:#}"), "outbox row failed");
                    update
                        .col_expr(
                            outbox::Column::Attempts,
                            Expr::col(outbox::Column::Attempts).add(1),
                        )
                        .exec(&ctx.db)
                        .await?;
                }
            }
        }
        // A row that failed is tried again at the next poll, not at once.
        if failed || (count as u64) < BATCH {
            return Ok(handled);
        }
    }
}

async fn handle(ctx: &Context, row: &outbox::Model) -> anyhow::Result<()> {
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
            let written = alerts::for_event(&ctx.db, event_id, score, now).await?;
            crate::jobs::dispatch(ctx, &written).await;
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
    row: &outbox::Model,
    match_id: i64,
    change: ScheduleChange,
) -> anyhow::Result<()> {
    let written =
        alerts::for_schedule_change(&ctx.db, row.id, match_id, change, Utc::now()).await?;
    crate::jobs::dispatch(ctx, &written).await;
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
    for id in &stalled {
        crate::jobs::delivery::enqueue(&ctx.queue, *id, None).await?;
    }
    if !stalled.is_empty() {
        tracing::info!(count = stalled.len(), "requeued stalled deliveries");
    }
    Ok(stalled.len())
}
