//! Kick-off reminders, queued as delayed jobs when a match is scheduled or
//! moved. A reminder whose match has since moved, been postponed or been
//! cancelled does nothing: only the reminder for the current time speaks.

use apalis::prelude::{Attempt, Data};
use chrono::Utc;
use service::notifications::alerts;

use super::JobResult;
use crate::Context;
use crate::queue::ReminderJob;

pub async fn handle(job: ReminderJob, ctx: Data<Context>, attempt: Attempt) -> JobResult {
    let result = remind(&job, &ctx).await;
    super::finish(&ctx, "reminders", &job, &attempt, result).await
}

async fn remind(job: &ReminderJob, ctx: &Context) -> anyhow::Result<()> {
    match alerts::for_kickoff(&ctx.db, job.match_id, job.kickoff_at, Utc::now()).await? {
        Some(written) => {
            tracing::info!(
                match_id = job.match_id,
                recipients = written.len(),
                "kick-off reminders written"
            );
            super::dispatch(ctx, &written).await;
        }
        None => {
            tracing::info!(match_id = job.match_id, kickoff_at = %job.kickoff_at, "reminder lapsed: the match moved or was called off");
        }
    }
    Ok(())
}
