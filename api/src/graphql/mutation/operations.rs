//! Admin operations on notifications: send a digest now, redeliver a
//! dead letter.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use service::jobs::Jobs;
use service::live::bus::Bus;
use service::notifications::digest::{self, Outcome};
use service::notifications::period::DigestKind as Kind;

use crate::graphql::error::GqlResultExt as _;
use crate::graphql::guards::RoleGuard;
use crate::graphql::scalars::parse_id;
use crate::graphql::types::Notification;
use crate::graphql::types::delivery::Delivery;

/// Which digest.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum DigestKind {
    Daily,
    Weekly,
}

/// What `sendDigest` did.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum DigestOutcome {
    /// The digest was written and its deliveries queued.
    Sent,
    /// The period was handled, and there was nothing to tell.
    NothingToReport,
    /// This period's digest was handled before; nothing was sent again.
    AlreadySent,
}

#[derive(SimpleObject)]
pub struct SendDigestPayload {
    pub outcome: DigestOutcome,
    /// The user's local date (`2026-03-29`) or ISO week (`2026-W13`).
    pub period: String,
    /// The digest, when one was sent.
    pub notification: Option<Notification>,
}

#[derive(Default)]
pub struct OperationsMutation;

#[Object]
impl OperationsMutation {
    /// Builds and sends one user's digest for the period `asOf` (default:
    /// now) falls in, whether or not they turned that digest on. A period
    /// already handled is not sent again. Admins only.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn send_digest(
        &self,
        ctx: &Context<'_>,
        kind: DigestKind,
        user_id: ID,
        as_of: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<SendDigestPayload> {
        let user_id = parse_id("userId", &user_id)?;
        let kind = match kind {
            DigestKind::Daily => Kind::Daily,
            DigestKind::Weekly => Kind::Weekly,
        };
        let as_of = as_of.unwrap_or_else(Utc::now);
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let run = digest::run(db, user_id, kind, as_of).await.gql()?;
        let period = run.period;
        Ok(match run.outcome {
            Outcome::Sent(written) => {
                service::notifications::dispatch(
                    ctx.data_unchecked::<Bus>(),
                    &**ctx.data_unchecked::<Jobs>(),
                    std::slice::from_ref(&*written),
                )
                .await;
                SendDigestPayload {
                    outcome: DigestOutcome::Sent,
                    period,
                    notification: Some(Notification(written.notification)),
                }
            }
            Outcome::NothingToReport => SendDigestPayload {
                outcome: DigestOutcome::NothingToReport,
                period,
                notification: None,
            },
            Outcome::AlreadyDone => SendDigestPayload {
                outcome: DigestOutcome::AlreadySent,
                period,
                notification: None,
            },
        })
    }

    /// Sends a dead-lettered (or failing) delivery again, with a fresh set
    /// of attempts. Admins only.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn redeliver(
        &self,
        ctx: &Context<'_>,
        delivery_id: ID,
    ) -> async_graphql::Result<Delivery> {
        let delivery_id = parse_id("deliveryId", &delivery_id)?;
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let delivery =
            service::notifications::deliveries::reset_for_redelivery(db, delivery_id, Utc::now())
                .await
                .gql()?;
        let jobs = ctx.data_unchecked::<Jobs>();
        if let Err(err) = jobs.push_deliveries(&[delivery.id]).await {
            // It is pending again either way: the worker's sweep queues it.
            tracing::warn!(
                delivery_id = delivery.id,
                error = format!("{err:#}"),
                "could not queue a redelivery; the sweep will"
            );
        }
        Ok(Delivery(delivery))
    }
}
