//! An attempt at email, webhook or Web Push deliveries: one, or a batch of an
//! alert's (sent side by side over the channels' pooled connections, so a
//! goal for 10,000 email followers is a hundred jobs spread over the
//! workers, not 10,000). A failure is retried with exponential backoff as
//! a new delayed job of its own (so the wait survives restarts) until
//! `DELIVERY_MAX_ATTEMPTS`, and then the delivery is dead-lettered: status
//! DEAD, listed for admins, redeliverable. A Web Push whose browser is
//! gone (the push service answered 404 or 410) ends at once, DEAD with
//! that reason, and the subscription is forgotten.

use std::time::Instant;

use apalis::prelude::{Data, TaskBuilder};
use chrono::{DateTime, Utc};
use entity::DeliveryChannel;
use serde::{Deserialize, Serialize};
use service::notifications::{deliveries, web_push};
use tracing::Instrument as _;

use super::JobResult;
use crate::Context;
use crate::queue::{Job, Queue, Queues, Store, system_time};

/// Send email, webhook or Web Push deliveries.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeliveryJob {
    pub delivery_id: i64,
    /// The others of a batch (a job queued by an older release names only
    /// `delivery_id`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_delivery_ids: Vec<i64>,
    /// The trace that queued it (a W3C `traceparent`), when traces are
    /// exported: the attempt is part of it. Jobs queued without one
    /// decode as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

/// Deliveries one job sends: enough that a crowd's alert is a few jobs,
/// few enough that the jobs spread over the workers.
pub const DELIVERIES_PER_JOB: usize = 100;

impl Job for DeliveryJob {
    const NAME: &'static str = "deliveries";

    fn storage<S: Store>(queues: &Queues<S>) -> &S::Of<Self> {
        &queues.deliveries
    }
}

/// Queues an attempt at a delivery, now or at `at`, in the current trace.
#[tracing::instrument(skip(queue), err)]
pub async fn enqueue(
    queue: &Queue,
    delivery_id: i64,
    at: Option<DateTime<Utc>>,
) -> anyhow::Result<()> {
    let traceparent = service::telemetry::traceparent(&tracing::Span::current());
    let mut task = TaskBuilder::new(DeliveryJob {
        delivery_id,
        more_delivery_ids: Vec::new(),
        traceparent,
    });
    if let Some(at) = at {
        task = task.run_at_time(system_time(at));
    }
    queue.push(task.build()).await
}

/// Queues an attempt at each of `delivery_ids`, now, a batch per job.
pub async fn enqueue_many(queue: &Queue, delivery_ids: &[i64]) -> anyhow::Result<()> {
    enqueue_many_at(queue, delivery_ids, None).await
}

/// Queues an attempt at each of `delivery_ids`, now or at `at` (the
/// release of alerts held back by a stream delay), a batch per job.
#[tracing::instrument(skip_all, fields(deliveries = delivery_ids.len()), err)]
pub async fn enqueue_many_at(
    queue: &Queue,
    delivery_ids: &[i64],
    at: Option<DateTime<Utc>>,
) -> anyhow::Result<()> {
    let traceparent = service::telemetry::traceparent(&tracing::Span::current());
    for batch in delivery_ids.chunks(DELIVERIES_PER_JOB) {
        let job = DeliveryJob {
            delivery_id: batch[0],
            more_delivery_ids: batch[1..].to_vec(),
            traceparent: traceparent.clone(),
        };
        let mut task = TaskBuilder::new(job);
        if let Some(at) = at {
            task = task.run_at_time(system_time(at));
        }
        queue.push(task.build()).await?;
    }
    Ok(())
}

pub async fn handle(job: DeliveryJob, ctx: Data<Context>) -> JobResult {
    let span = tracing::info_span!(
        "delivery",
        delivery_id = job.delivery_id,
        deliveries = 1 + job.more_delivery_ids.len()
    );
    service::telemetry::continue_trace(&span, job.traceparent.as_deref());
    let started = Instant::now();
    let result = attempt(job, &ctx).instrument(span).await;
    ctx.metrics
        .job(DeliveryJob::NAME, result.is_ok(), started.elapsed());
    result
}

async fn attempt(job: DeliveryJob, ctx: &Context) -> JobResult {
    if !job.more_delivery_ids.is_empty() {
        let mut ids = Vec::with_capacity(1 + job.more_delivery_ids.len());
        ids.push(job.delivery_id);
        ids.extend(&job.more_delivery_ids);
        send_batch(ctx, &ids).await?;
        return Ok(());
    }
    let now = Utc::now();
    let lease_until = now + ctx.settings.lease;
    let Some(claimed) = deliveries::claim(&ctx.db, job.delivery_id, now, lease_until).await? else {
        // Delivered, dead, or another job holds it.
        return Ok(());
    };
    if settle(ctx, claimed).await? {
        tracing::info!(delivery_id = job.delivery_id, "delivered");
    }
    Ok(())
}

/// Sends a batch of email and webhook deliveries straight away, claimed
/// in one statement, side by side up to the channels' own bounds, and
/// records each outcome as it comes, as `handle` would: for a digest run,
/// whose deliveries would otherwise cost a queued job each. A worker that
/// dies mid-batch leaves the rest leased; the sweep queues them later.
pub async fn send_batch(ctx: &Context, delivery_ids: &[i64]) -> anyhow::Result<usize> {
    use futures::{StreamExt as _, TryStreamExt as _};
    let now = Utc::now();
    let lease_until = now + ctx.settings.lease;
    let claimed = deliveries::claim_many(&ctx.db, delivery_ids, now, lease_until).await?;
    let parallel = ctx.mailer.connections() * 2;
    let sent: Vec<bool> = futures::stream::iter(claimed)
        .map(|claimed| settle(ctx, claimed))
        .buffer_unordered(parallel)
        .try_collect()
        .await?;
    Ok(sent.into_iter().filter(|ok| *ok).count())
}

/// Sends one claimed delivery and records the outcome. `true`: delivered.
async fn settle(ctx: &Context, mut claimed: deliveries::Claimed) -> anyhow::Result<bool> {
    let started = Instant::now();
    match send(ctx, &mut claimed).await? {
        Sent::Delivered => {
            // At once: a resend after a crash repeats as little as can be.
            deliveries::delivered(&ctx.db, claimed.delivery.id, Utc::now()).await?;
            ctx.metrics
                .delivery(claimed.delivery.channel, "delivered", started.elapsed());
            Ok(true)
        }
        Sent::Failed { error, retry_after } => {
            failed(ctx, &claimed, &error, retry_after, started).await?;
            Ok(false)
        }
        Sent::Gone(error) => {
            if let Some(id) = claimed.delivery.web_push_subscription_id {
                web_push::remove(&ctx.db, id).await?;
            }
            deliveries::failed(&ctx.db, claimed.delivery.id, &error, None, Utc::now()).await?;
            ctx.metrics
                .delivery(claimed.delivery.channel, "gone", started.elapsed());
            tracing::info!(delivery_id = claimed.delivery.id, %error, "browser gone: subscription removed, delivery ended");
            Ok(false)
        }
        Sent::TakenOver => {
            ctx.metrics
                .delivery(claimed.delivery.channel, "taken_over", started.elapsed());
            tracing::info!(
                delivery_id = claimed.delivery.id,
                "not sent: its hold ran out while it waited, and another attempt has it"
            );
            Ok(false)
        }
    }
}

/// What became of one attempt.
enum Sent {
    Delivered,
    /// To be retried, no sooner than `retry_after` when the receiver said.
    Failed {
        error: String,
        retry_after: Option<std::time::Duration>,
    },
    /// The receiver is gone for good (a browser that unsubscribed): never
    /// retried.
    Gone(String),
    /// Not sent: the hold ran out while the attempt waited for a
    /// connection, and another attempt took the delivery (or settled it).
    TakenOver,
}

/// Sends one delivery, if this attempt still holds it once a connection
/// is free. Waiting for one can take longer than the hold (a crowd's alert
/// queues behind a digest run on the same sessions), and by then the sweep
/// may have handed the delivery to another attempt: sending it here too
/// would send it twice. The send itself is cut off before the hold ends.
async fn send(ctx: &Context, claimed: &mut deliveries::Claimed) -> anyhow::Result<Sent> {
    let outcome = match claimed.delivery.channel {
        DeliveryChannel::Email => match ctx.mailer.reserve().await {
            Ok(session) => {
                if !hold(ctx, claimed).await? {
                    return Ok(Sent::TakenOver);
                }
                within_hold(ctx, session.send(claimed)).await
            }
            Err(error) => Err(error),
        },
        DeliveryChannel::Webhook => match ctx.webhooks.reserve(claimed).await {
            Ok(slot) => {
                if !hold(ctx, claimed).await? {
                    return Ok(Sent::TakenOver);
                }
                within_hold(ctx, slot.send(claimed)).await
            }
            Err(error) => Err(error),
        },
        DeliveryChannel::WebPush => {
            let outcome = match ctx.web_push.reserve(claimed).await {
                Ok(slot) => {
                    if !hold(ctx, claimed).await? {
                        return Ok(Sent::TakenOver);
                    }
                    within_hold(ctx, slot.send(claimed)).await
                }
                Err(error) => Err(error),
            };
            return Ok(match outcome {
                Ok(()) => Sent::Delivered,
                Err(error) if error.gone => Sent::Gone(error.message),
                Err(error) => Sent::Failed {
                    error: error.message,
                    retry_after: error.retry_after,
                },
            });
        }
        DeliveryChannel::InApp => Ok(()),
    };
    Ok(match outcome {
        Ok(()) => Sent::Delivered,
        Err(error) => Sent::Failed {
            error,
            retry_after: None,
        },
    })
}

/// Whether this attempt may send the delivery now: its hold lasts longer
/// than a send may take, or it was renewed because nobody took it meanwhile.
async fn hold(ctx: &Context, claimed: &mut deliveries::Claimed) -> anyhow::Result<bool> {
    let now = Utc::now();
    let Some(held_until) = claimed.delivery.next_attempt_at else {
        return Ok(false);
    };
    if ctx.settings.hold_suffices(held_until, now) {
        return Ok(true);
    }
    let renewed = deliveries::renew(
        &ctx.db,
        claimed.delivery.id,
        held_until,
        now,
        now + ctx.settings.lease,
    )
    .await?;
    claimed.delivery.next_attempt_at = renewed;
    Ok(renewed.is_some())
}

/// Gives up on a send that would outlast the hold it started with.
async fn within_hold<E: From<String>>(
    ctx: &Context,
    send: impl Future<Output = Result<(), E>>,
) -> Result<(), E> {
    let limit = ctx.settings.attempt_limit;
    tokio::time::timeout(limit, send)
        .await
        .unwrap_or_else(|_| Err(format!("gave up after {} s", limit.as_secs()).into()))
}

/// Records a failed attempt: retried after the backoff (or the wait the
/// receiver asked for, if longer), or dead after the last.
async fn failed(
    ctx: &Context,
    claimed: &deliveries::Claimed,
    error: &str,
    retry_after: Option<std::time::Duration>,
    started: Instant,
) -> anyhow::Result<()> {
    let took = started.elapsed();
    let now = Utc::now();
    let attempt = claimed.delivery.attempts + 1;
    if attempt >= ctx.settings.max_attempts as i32 {
        deliveries::failed(&ctx.db, claimed.delivery.id, error, None, now).await?;
        ctx.metrics.delivery(claimed.delivery.channel, "dead", took);
        tracing::warn!(delivery_id = claimed.delivery.id, channel = ?claimed.delivery.channel, attempt, %error, "delivery dead-lettered");
    } else {
        // Job stores count in whole seconds and a claim takes a delivery
        // up to a second early: a second more keeps the receiver's wait.
        let asked = retry_after
            .and_then(|wait| chrono::Duration::from_std(wait).ok())
            .map_or_else(chrono::Duration::zero, |wait| {
                wait + chrono::Duration::seconds(1)
            });
        let retry_at = now + ctx.settings.backoff(attempt as u32).max(asked);
        deliveries::failed(&ctx.db, claimed.delivery.id, error, Some(retry_at), now).await?;
        ctx.metrics
            .delivery(claimed.delivery.channel, "retry", took);
        tracing::info!(delivery_id = claimed.delivery.id, channel = ?claimed.delivery.channel, attempt, %error, %retry_at, "delivery failed; will retry");
        enqueue(&ctx.queue, claimed.delivery.id, Some(retry_at)).await?;
    }
    Ok(())
}
