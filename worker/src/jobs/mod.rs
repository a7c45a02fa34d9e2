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
        if w.is_in_app() {
            ctx.bus
                .publish(BusMessage::Notification {
                    user_id: w.notification.user_id,
                    notification_id: w.notification.id,
                })
                .await;
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
