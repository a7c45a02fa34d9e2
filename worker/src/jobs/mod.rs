//! The job handlers. Each one is safe to run twice: what it writes is
//! unique in the database, so a retry or a second worker writes nothing new.

pub mod delivery;
pub mod digest;
pub mod reminder;

use service::live::bus::BusMessage;
use service::notifications::Written;

use crate::Context;

/// Announces new in-app notifications to subscribers and queues the email
/// and webhook deliveries. A failed push is not lost: the sweep finds
/// deliveries that sit pending without a job.
pub async fn dispatch(ctx: &Context, written: &[Written]) {
    for w in written {
        if !matches!(
            w.notification.kind,
            entity::NotificationKind::DailyDigest | entity::NotificationKind::WeeklyDigest
        ) {
            ctx.metrics.alerts.inc();
        }
        if w.is_in_app() {
            ctx.bus.publish(BusMessage::Notification {
                user_id: w.notification.user_id,
                notification_id: w.notification.id,
            });
        }
        for delivery in w.outgoing() {
            if let Err(err) = ctx.queue.push_delivery(delivery.id, None).await {
                tracing::warn!(
                    delivery_id = delivery.id,
                    error = format!("{err:#}"),
                    "could not queue a delivery; the sweep will"
                );
            }
        }
    }
}

/// The error type apalis wants from a handler.
pub type JobResult = Result<(), apalis::prelude::BoxDynError>;

/// Attempts a digest or reminder job gets before it is dead-lettered.
pub const MAX_ATTEMPTS: usize = 4;

/// Ends a job. A failure before the last attempt goes back to apalis to be
/// retried; the last is recorded in `dead_jobs`, for admins, and the job
/// ends there (rather than the backend retrying it on its own terms).
pub async fn finish<T: serde::Serialize>(
    ctx: &Context,
    queue: &str,
    job: &T,
    attempt: &apalis::prelude::Attempt,
    result: anyhow::Result<()>,
) -> JobResult {
    let Err(err) = result else {
        return Ok(());
    };
    let attempts = attempt.current();
    if attempts < MAX_ATTEMPTS {
        return Err(err.into());
    }
    let error = format!("{err:#}");
    tracing::error!(queue, attempts, %error, "job dead-lettered");
    ctx.metrics.dead_jobs.inc();
    let args = serde_json::to_value(job).unwrap_or_default();
    service::dead_jobs::record(&ctx.db, queue, args, attempts as i32, &error).await?;
    Ok(())
}
