//! The jobs, one per file: each holds its payload, its stable name, its
//! handler and the function that queues it. Each handler is safe to run
//! twice: what it writes is unique in the database, so a retry or a second
//! worker writes nothing new.

pub mod delivery;
pub mod digest;
pub mod reminder;

use service::notifications::Written;
use service::notifications::alerts::{Told, delay};

use crate::Context;
use crate::queue::Job;

/// Announces new in-app notifications to subscribers and queues the email
/// and webhook deliveries, counting the alerts among them.
pub async fn dispatch(ctx: &Context, written: &[Written]) {
    let alerts = written
        .iter()
        .filter(|w| {
            !matches!(
                w.notification.kind,
                entity::NotificationKind::DailyDigest | entity::NotificationKind::WeeklyDigest
            )
        })
        .count();
    ctx.metrics.alerts.inc_by(alerts as u64);
    // Alerts held back by their fans' stream delay are queued for their
    // release; a batch with none is told as it is.
    let Some(split) = delay::split(written, chrono::Utc::now()) else {
        service::notifications::dispatch(&ctx.bus, ctx, written).await;
        return;
    };
    service::notifications::dispatch(&ctx.bus, ctx, &split.now).await;
    service::notifications::announce(&ctx.bus, &split.held).await;
    for (at, delivery_ids) in split.later {
        if let Err(err) = delivery::enqueue_many_at(&ctx.queue, &delivery_ids, Some(at)).await {
            tracing::warn!(
                deliveries = delivery_ids.len(),
                error = format!("{err:#}"),
                "could not queue held-back deliveries; the sweep will"
            );
        }
    }
}

/// Runs an alert writer (`service::notifications::alerts`), announcing
/// and queueing each batch it commits while it writes the next. Returns
/// what the writer returns.
pub async fn alert<T, F>(ctx: &Context, write: impl FnOnce(Told) -> F) -> service::Result<T>
where
    F: std::future::Future<Output = service::Result<T>>,
{
    let (told, mut batches) = tokio::sync::mpsc::channel::<Vec<Written>>(2);
    // The writer owns the only sender: the announcer ends when it does.
    let writer = write(told);
    let announcer = async {
        while let Some(batch) = batches.recv().await {
            dispatch(ctx, &batch).await;
        }
    };
    let (written, ()) = tokio::join!(writer, announcer);
    written
}

/// The error type apalis wants from a handler.
pub type JobResult = Result<(), apalis::prelude::BoxDynError>;

/// Attempts a digest or reminder job gets before it is dead-lettered.
pub const MAX_ATTEMPTS: usize = 4;

/// Ends a job. A failure before the last attempt goes back to apalis to be
/// retried; the last is recorded in `dead_jobs`, for admins, and the job
/// ends there (rather than the backend retrying it on its own terms).
pub async fn finish<J: Job>(
    ctx: &Context,
    job: &J,
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
    let queue = J::NAME;
    tracing::error!(queue, attempts, %error, "job dead-lettered");
    ctx.metrics.dead_jobs.inc();
    let args = serde_json::to_value(job).unwrap_or_default();
    service::dead_jobs::record(&ctx.db, queue, args, attempts as i32, &error).await?;
    Ok(())
}
