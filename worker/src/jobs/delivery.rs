//! An attempt at email or webhook deliveries: one, or a batch of an
//! alert's (sent side by side over the channels' pooled connections, so a
//! goal for 10,000 email followers is a hundred jobs spread over the
//! workers, not 10,000). A failure is retried with exponential backoff as
//! a new delayed job of its own (so the wait survives restarts) until
//! `DELIVERY_MAX_ATTEMPTS`, and then the delivery is dead-lettered: status
//! DEAD, listed for admins, redeliverable.

use apalis::prelude::{Data, TaskBuilder};
use chrono::{DateTime, Utc};
use entity::DeliveryChannel;
use serde::{Deserialize, Serialize};
use service::notifications::deliveries;

use super::JobResult;
use crate::Context;
use crate::queue::{Job, Queue, Queues, Store, system_time};

/// Send email or webhook deliveries.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeliveryJob {
    pub delivery_id: i64,
    /// The others of a batch (a job queued by an older release names only
    /// `delivery_id`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_delivery_ids: Vec<i64>,
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

/// Queues an attempt at a delivery, now or at `at`.
#[tracing::instrument(skip(queue), err)]
pub async fn enqueue(
    queue: &Queue,
    delivery_id: i64,
    at: Option<DateTime<Utc>>,
) -> anyhow::Result<()> {
    let mut task = TaskBuilder::new(DeliveryJob {
        delivery_id,
        more_delivery_ids: Vec::new(),
    });
    if let Some(at) = at {
        task = task.run_at_time(system_time(at));
    }
    queue.push(task.build()).await
}

/// Queues an attempt at each of `delivery_ids`, now, a batch per job.
#[tracing::instrument(skip_all, fields(deliveries = delivery_ids.len()), err)]
pub async fn enqueue_many(queue: &Queue, delivery_ids: &[i64]) -> anyhow::Result<()> {
    for batch in delivery_ids.chunks(DELIVERIES_PER_JOB) {
        let job = DeliveryJob {
            delivery_id: batch[0],
            more_delivery_ids: batch[1..].to_vec(),
        };
        queue.push(TaskBuilder::new(job).build()).await?;
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(delivery_id = job.delivery_id, deliveries = 1 + job.more_delivery_ids.len()))]
pub async fn handle(job: DeliveryJob, ctx: Data<Context>) -> JobResult {
    if !job.more_delivery_ids.is_empty() {
        let mut ids = Vec::with_capacity(1 + job.more_delivery_ids.len());
        ids.push(job.delivery_id);
        ids.extend(&job.more_delivery_ids);
        send_batch(&ctx, &ids).await?;
        return Ok(());
    }
    let now = Utc::now();
    let lease_until = now + ctx.settings.lease;
    let Some(claimed) = deliveries::claim(&ctx.db, job.delivery_id, now, lease_until).await? else {
        // Delivered, dead, or another job holds it.
        return Ok(());
    };
    let result = send(&ctx, &claimed).await;
    match result {
        Ok(()) => {
            deliveries::delivered(&ctx.db, claimed.delivery.id, Utc::now()).await?;
            ctx.metrics.delivery(claimed.delivery.channel, "delivered");
            tracing::info!(delivery_id = claimed.delivery.id, channel = ?claimed.delivery.channel, attempt = claimed.delivery.attempts + 1, "delivered");
        }
        Err(error) => failed(&ctx, &claimed, &error).await?,
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
        .map(|claimed| async move {
            match send(ctx, &claimed).await {
                Ok(()) => {
                    // At once: a resend after a crash repeats as little as can be.
                    deliveries::delivered(&ctx.db, claimed.delivery.id, Utc::now()).await?;
                    ctx.metrics.delivery(claimed.delivery.channel, "delivered");
                    Ok::<_, anyhow::Error>(true)
                }
                Err(error) => {
                    failed(ctx, &claimed, &error).await?;
                    Ok(false)
                }
            }
        })
        .buffer_unordered(parallel)
        .try_collect()
        .await?;
    Ok(sent.into_iter().filter(|ok| *ok).count())
}

async fn send(ctx: &Context, claimed: &deliveries::Claimed) -> Result<(), String> {
    match claimed.delivery.channel {
        DeliveryChannel::Email => ctx.mailer.send(claimed).await,
        DeliveryChannel::Webhook => ctx.webhooks.send(claimed).await,
        DeliveryChannel::InApp => Ok(()),
    }
}

/// Records a failed attempt: retried after the backoff, or dead after the last.
async fn failed(ctx: &Context, claimed: &deliveries::Claimed, error: &str) -> anyhow::Result<()> {
    let now = Utc::now();
    let attempt = claimed.delivery.attempts + 1;
    if attempt >= ctx.settings.max_attempts as i32 {
        deliveries::failed(&ctx.db, claimed.delivery.id, error, None, now).await?;
        ctx.metrics.delivery(claimed.delivery.channel, "dead");
        tracing::warn!(delivery_id = claimed.delivery.id, channel = ?claimed.delivery.channel, attempt, %error, "delivery dead-lettered");
    } else {
        let retry_at = now + ctx.settings.backoff(attempt as u32);
        deliveries::failed(&ctx.db, claimed.delivery.id, error, Some(retry_at), now).await?;
        ctx.metrics.delivery(claimed.delivery.channel, "retry");
        tracing::info!(delivery_id = claimed.delivery.id, channel = ?claimed.delivery.channel, attempt, %error, %retry_at, "delivery failed; will retry");
        enqueue(&ctx.queue, claimed.delivery.id, Some(retry_at)).await?;
    }
    Ok(())
}
