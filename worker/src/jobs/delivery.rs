//! One attempt at one email or webhook delivery. A failure is retried with
//! exponential backoff as a new delayed job (so the wait survives restarts)
//! until `DELIVERY_MAX_ATTEMPTS`, and then the delivery is dead-lettered:
//! status DEAD, listed for admins, redeliverable.

use apalis::prelude::{Data, TaskBuilder};
use chrono::{DateTime, Utc};
use entity::DeliveryChannel;
use serde::{Deserialize, Serialize};
use service::notifications::deliveries;

use super::JobResult;
use crate::Context;
use crate::queue::{Job, Queue, Queues, Store, system_time};

/// Send one email or webhook delivery.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeliveryJob {
    pub delivery_id: i64,
}

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
    let mut task = TaskBuilder::new(DeliveryJob { delivery_id });
    if let Some(at) = at {
        task = task.run_at_time(system_time(at));
    }
    queue.push(task.build()).await
}

#[tracing::instrument(skip_all, fields(delivery_id = job.delivery_id))]
pub async fn handle(job: DeliveryJob, ctx: Data<Context>) -> JobResult {
    let now = Utc::now();
    let lease_until = now + ctx.settings.lease;
    let Some(claimed) = deliveries::claim(&ctx.db, job.delivery_id, now, lease_until).await? else {
        // Delivered, dead, or another job holds it.
        return Ok(());
    };
    let result = match claimed.delivery.channel {
        DeliveryChannel::Email => ctx.mailer.send(&claimed).await,
        DeliveryChannel::Webhook => ctx.webhooks.send(&claimed).await,
        DeliveryChannel::InApp => Ok(()),
    };
    let now = Utc::now();
    let attempt = claimed.delivery.attempts + 1;
    match result {
        Ok(()) => {
            deliveries::delivered(&ctx.db, claimed.delivery.id, now).await?;
            ctx.metrics.delivery(claimed.delivery.channel, "delivered");
            tracing::info!(delivery_id = claimed.delivery.id, channel = ?claimed.delivery.channel, attempt, "delivered");
        }
        Err(error) if attempt >= ctx.settings.max_attempts as i32 => {
            deliveries::failed(&ctx.db, claimed.delivery.id, &error, None, now).await?;
            ctx.metrics.delivery(claimed.delivery.channel, "dead");
            tracing::warn!(delivery_id = claimed.delivery.id, channel = ?claimed.delivery.channel, attempt, %error, "delivery dead-lettered");
        }
        Err(error) => {
            let retry_at = now + ctx.settings.backoff(attempt as u32);
            deliveries::failed(&ctx.db, claimed.delivery.id, &error, Some(retry_at), now).await?;
            ctx.metrics.delivery(claimed.delivery.channel, "retry");
            tracing::info!(delivery_id = claimed.delivery.id, channel = ?claimed.delivery.channel, attempt, %error, %retry_at, "delivery failed; will retry");
            enqueue(&ctx.queue, claimed.delivery.id, Some(retry_at)).await?;
        }
    }
    Ok(())
}
