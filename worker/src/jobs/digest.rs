//! Digests: the dispatcher that finds whose digest is due, and the job that
//! builds one.

use apalis::prelude::{Attempt, Data, TaskBuilder};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service::notifications::digest::{self, Outcome};
use service::notifications::period::DigestKind;

use super::JobResult;
use crate::Context;
use crate::queue::{Job, Queue, Queues, Store};

/// Build one user's digest for the period `as_of` falls in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DigestJob {
    pub user_id: i64,
    pub kind: DigestKind,
    pub as_of: DateTime<Utc>,
}

impl Job for DigestJob {
    const NAME: &'static str = "digests";

    fn storage<S: Store>(queues: &Queues<S>) -> &S::Of<Self> {
        &queues.digests
    }
}

/// The name of the loop that ticks every minute to queue what is due.
pub const CRON: &str = "digest-cron";

/// Queues a digest. Pushes of the same `(user, kind, period)` within ten
/// minutes of each other (every worker's cron ticks each minute) are
/// dropped by the queue; the database refuses any that get through.
#[tracing::instrument(skip(queue), err)]
pub async fn enqueue(queue: &Queue, job: DigestJob, period: &str) -> anyhow::Result<()> {
    let window = Utc::now().timestamp() / 600;
    let key = format!(
        "digest:{}:{}:{period}:{window}",
        job.user_id,
        job.kind.as_str()
    );
    queue
        .push(TaskBuilder::new(job).idempotency_key(key).build())
        .await
}

/// Builds and sends one user's digest.
#[tracing::instrument(skip_all, fields(user_id = job.user_id, kind = job.kind.as_str()))]
pub async fn handle(job: DigestJob, ctx: Data<Context>, attempt: Attempt) -> JobResult {
    let result = build(&job, &ctx).await;
    super::finish(&ctx, &job, &attempt, result).await
}

async fn build(job: &DigestJob, ctx: &Context) -> anyhow::Result<()> {
    let run = digest::run(&ctx.db, job.user_id, job.kind, job.as_of).await?;
    let outcome = match &run.outcome {
        Outcome::Sent(written) => {
            tracing::info!(
                user_id = job.user_id,
                kind = job.kind.as_str(),
                notification_id = written.notification.id,
                "digest written"
            );
            super::dispatch(ctx, std::slice::from_ref(&**written)).await;
            "sent"
        }
        Outcome::NothingToReport => "nothing_to_report",
        Outcome::AlreadyDone => "already_sent",
    };
    ctx.metrics
        .digests
        .get_or_create(&crate::metrics::DigestLabels {
            kind: job.kind.as_str(),
            outcome,
        })
        .inc();
    Ok(())
}

/// Queues a digest job for every user whose digest of `kind` is due at
/// `now`; with `only_user`, for that user alone. Returns how many.
pub async fn dispatch_due(
    ctx: &Context,
    kind: DigestKind,
    now: DateTime<Utc>,
    only_user: Option<i64>,
) -> anyhow::Result<usize> {
    let due = digest::due(&ctx.db, kind, now, ctx.settings.digest_catch_up, only_user).await?;
    for (user_id, occurrence) in &due {
        let job = DigestJob {
            user_id: *user_id,
            kind,
            as_of: now,
        };
        enqueue(&ctx.queue, job, &occurrence.period).await?;
    }
    if !due.is_empty() {
        tracing::info!(kind = kind.as_str(), count = due.len(), %now, "digests queued");
    }
    Ok(due.len())
}

/// The cron tick, every minute: both kinds of digest, and the reminders
/// of fixtures coming up.
#[tracing::instrument(skip_all)]
pub async fn tick(_tick: apalis_cron::Tick, ctx: Data<Context>) -> JobResult {
    let now = Utc::now();
    for kind in [DigestKind::Daily, DigestKind::Weekly] {
        dispatch_due(&ctx, kind, now, None).await?;
    }
    super::reminder::queue_upcoming(&ctx, now).await?;
    Ok(())
}
