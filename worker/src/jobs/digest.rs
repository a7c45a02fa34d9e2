//! Digests: the dispatcher that finds whose digest is due, and the job that
//! builds one.

use apalis::prelude::{Attempt, Data, TaskBuilder};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service::notifications::digest::{self, Outcome};
use service::notifications::period::DigestKind;
use service::notifications::{WRITE_BATCH, audience};

use super::JobResult;
use crate::Context;
use crate::queue::{Job, Queue, Queues, Store};

/// Build the digests of a batch of users, each for the period `as_of`
/// falls in for them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DigestJob {
    /// The first user of the batch (a job queued by an older release
    /// names only this one).
    pub user_id: i64,
    /// The others.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_user_ids: Vec<i64>,
    pub kind: DigestKind,
    pub as_of: DateTime<Utc>,
}

impl DigestJob {
    fn user_ids(&self) -> Vec<i64> {
        let mut ids = Vec::with_capacity(1 + self.more_user_ids.len());
        ids.push(self.user_id);
        ids.extend(&self.more_user_ids);
        ids
    }
}

impl Job for DigestJob {
    const NAME: &'static str = "digests";

    fn storage<S: Store>(queues: &Queues<S>) -> &S::Of<Self> {
        &queues.digests
    }
}

/// Users one digest job builds for: enough that the per-job costs (the
/// queue, the transaction, gathering each distinct audience's content)
/// are shared by many, few enough that jobs spread over workers.
pub const USERS_PER_JOB: usize = 250;

/// The name of the loop that ticks every minute to queue what is due.
pub const CRON: &str = "digest-cron";

/// Queues a digest job. Pushes of the same batch within ten minutes of
/// each other are dropped by the queue; the database refuses any digest
/// that gets through twice.
#[tracing::instrument(skip_all, fields(user_id = job.user_id, users = 1 + job.more_user_ids.len()), err)]
pub async fn enqueue(queue: &Queue, job: DigestJob, period: &str) -> anyhow::Result<()> {
    let window = Utc::now().timestamp() / 600;
    let key = format!(
        "digest:{}+{}:{}:{period}:{window}",
        job.user_id,
        job.more_user_ids.len(),
        job.kind.as_str()
    );
    queue
        .push(TaskBuilder::new(job).idempotency_key(key).build())
        .await
}

/// Builds and sends one batch of digests.
#[tracing::instrument(skip_all, fields(user_id = job.user_id, users = 1 + job.more_user_ids.len(), kind = job.kind.as_str()))]
pub async fn handle(job: DigestJob, ctx: Data<Context>, attempt: Attempt) -> JobResult {
    let started = std::time::Instant::now();
    let result = build(&job, &ctx).await;
    ctx.metrics
        .job(DigestJob::NAME, result.is_ok(), started.elapsed());
    super::finish(&ctx, &job, &attempt, result).await
}

async fn build(job: &DigestJob, ctx: &Context) -> anyhow::Result<()> {
    let user_ids = job.user_ids();
    let mut members = Vec::with_capacity(user_ids.len());
    for chunk in user_ids.chunks(WRITE_BATCH) {
        members.extend(audience::load(&ctx.db, chunk).await?);
    }
    if members.is_empty() {
        // Every account is gone: a job that can never do anything.
        return Err(service::Error::not_found("user").into());
    }
    let mut written = Vec::new();
    for chunk in members.chunks(WRITE_BATCH) {
        let batch =
            digest::run_batch(&ctx.db, chunk, job.kind, job.as_of, &ctx.league_tables).await?;
        for (_, run) in &batch.runs {
            let outcome = match &run.outcome {
                Outcome::Sent(_) => "sent",
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
        }
        written.extend(batch.written());
    }
    tracing::info!(
        kind = job.kind.as_str(),
        users = members.len(),
        digests = written.len(),
        "digests written"
    );
    // In-app: told at once. Email and webhook: sent from here, over the
    // channels' pooled connections, not queued one job each.
    service::notifications::announce(&ctx.bus, &written).await;
    let outgoing: Vec<i64> = written
        .iter()
        .flat_map(|w| w.outgoing().map(|d| d.id))
        .collect();
    super::delivery::send_batch(ctx, &outgoing).await?;
    Ok(())
}

/// Queues digest jobs for every user whose digest of `kind` is due at
/// `now`, a batch of users per job; with `only_user`, for that user alone.
/// Reads only the users who may be due (an indexed next due time), and
/// claims them, so dispatchers side by side share them. Returns how many
/// digests were queued.
pub async fn dispatch_due(
    ctx: &Context,
    kind: DigestKind,
    now: DateTime<Utc>,
    only_user: Option<i64>,
) -> anyhow::Result<usize> {
    let catch_up = ctx.settings.digest_catch_up;
    let mut queued = 0;
    loop {
        let claimed = match only_user {
            Some(user_id) => vec![user_id],
            None => digest::claim_due(&ctx.db, kind, now, WRITE_BATCH as u64).await?,
        };
        if claimed.is_empty() {
            break;
        }
        let due = digest::sort_due(&ctx.db, kind, now, catch_up, &claimed).await?;
        for batch in due.chunks(USERS_PER_JOB) {
            let job = DigestJob {
                user_id: batch[0].0,
                more_user_ids: batch[1..].iter().map(|(id, _)| *id).collect(),
                kind,
                as_of: now,
            };
            enqueue(&ctx.queue, job, &batch[0].1.period).await?;
        }
        queued += due.len();
        if only_user.is_some() {
            break;
        }
    }
    if queued > 0 {
        tracing::info!(kind = kind.as_str(), count = queued, %now, "digests queued");
    }
    Ok(queued)
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
