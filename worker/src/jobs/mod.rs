//! The jobs, one per file: each holds its payload, its stable name, its
//! handler and the function that queues it. Each handler is safe to run
//! twice: what it writes is unique in the database, so a retry or a second
//! worker writes nothing new.

pub mod delivery;
pub mod digest;
pub mod reminder;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use service::notifications::Written;
use service::notifications::alerts::{Told, delay};

use crate::Context;
use crate::queue::Job;

/// Runs an alert writer (`service::notifications::alerts`), telling each
/// batch as soon as it commits, while the writer goes on with the next:
/// the batch joins its fans' inboxes and their `notificationReceived`
/// subscriptions hear of it. What goes out by email, webhook or Web Push
/// is queued once the writer is done, or has failed (whatever committed is
/// queued all the same). Sending costs far more per fan than writing: for
/// a goal to 100,000 fans, the 10,000 emails sent while the inbox was
/// written took two thirds of the worker's CPU and more than doubled the
/// time until every inbox had the goal. So the inbox goes first, and the
/// other channels follow a few seconds later for a crowd, at once for a
/// few fans. Returns what the writer returns.
pub async fn alert<T, F>(ctx: &Context, write: impl FnOnce(Told) -> F) -> service::Result<T>
where
    F: std::future::Future<Output = service::Result<T>>,
{
    let (told, mut batches) = tokio::sync::mpsc::channel::<Vec<Written>>(2);
    // The writer owns the only sender: the announcer ends when it does.
    let writer = write(told);
    let announcer = async {
        let mut outgoing = Outgoing::default();
        while let Some(batch) = batches.recv().await {
            announce(ctx, &batch, &mut outgoing).await;
        }
        outgoing
    };
    let (written, outgoing) = tokio::join!(writer, announcer);
    outgoing.queue(ctx).await;
    written
}

/// An alert's deliveries still to queue: those due now, and those held
/// back by their fans' stream delay, by their release.
#[derive(Default)]
struct Outgoing {
    now: Vec<i64>,
    later: BTreeMap<DateTime<Utc>, Vec<i64>>,
}

impl Outgoing {
    /// Queues each delivery, a batch per job. One that fails to queue is
    /// not lost: the sweep finds deliveries left pending without a job.
    async fn queue(self, ctx: &Context) {
        let at_release = self.later.into_iter().map(|(at, ids)| (Some(at), ids));
        for (at, delivery_ids) in std::iter::once((None, self.now)).chain(at_release) {
            if delivery_ids.is_empty() {
                continue;
            }
            if let Err(err) = delivery::enqueue_many_at(&ctx.queue, &delivery_ids, at).await {
                tracing::warn!(
                    deliveries = delivery_ids.len(),
                    error = format!("{err:#}"),
                    "could not queue an alert's deliveries; the sweep will"
                );
            }
        }
    }
}

/// Tells subscribers of a batch of alerts just committed, and keeps its
/// deliveries in `outgoing`. Alerts held back by their fans' stream delay
/// are announced now too (they join the inbox at their release, and a
/// subscriber hears of them then); their deliveries wait for the release.
async fn announce(ctx: &Context, written: &[Written], outgoing: &mut Outgoing) {
    ctx.metrics.alerts.inc_by(written.len() as u64);
    service::notifications::announce(&ctx.bus, written).await;
    let now = Utc::now();
    for w in written {
        let ids = w.outgoing().map(|d| d.id);
        match delay::held_until(w, now) {
            Some(at) => outgoing.later.entry(at).or_default().extend(ids),
            None => outgoing.now.extend(ids),
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
