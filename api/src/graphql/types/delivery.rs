use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{delivery, notification};

use super::notification::Notification;
use crate::graphql::loaders::{Notifications, load_one};

/// How a notification leaves the system.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "entity::DeliveryChannel")]
pub enum DeliveryChannel {
    Email,
    Webhook,
    /// Not a delivery any more: a notification is in its user's inbox
    /// from its `shownAt`. No delivery has this channel.
    #[graphql(deprecation = "In-app notifications are not deliveries; see `Notification.shownAt`.")]
    InApp,
    /// To one browser subscribed with `subscribeWebPush`.
    WebPush,
}

/// Where a delivery stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "entity::DeliveryStatus")]
pub enum DeliveryStatus {
    /// Waiting for its first attempt.
    Pending,
    Delivered,
    /// An attempt failed; another is scheduled at `nextAttemptAt`.
    Failed,
    /// Every attempt failed: dead-lettered until an admin redelivers it.
    Dead,
}

/// One notification sent over one channel.
pub struct Delivery(pub delivery::Model);

#[Object]
impl Delivery {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn channel(&self) -> DeliveryChannel {
        self.0.channel.into()
    }
    async fn status(&self) -> DeliveryStatus {
        self.0.status.into()
    }
    /// Attempts made so far.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// Why the latest failed attempt failed.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// When the next attempt is due, for a failed delivery.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        use entity::DeliveryStatus as S;
        matches!(self.0.status, S::Failed | S::Pending)
            .then_some(self.0.next_attempt_at)
            .flatten()
    }
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// What was sent.
    async fn notification(&self, ctx: &Context<'_>) -> async_graphql::Result<Notification> {
        self.sent(ctx).await.map(Notification)
    }
    /// Whom it was sent to.
    async fn user_id(&self, ctx: &Context<'_>) -> async_graphql::Result<ID> {
        Ok(ID(self.sent(ctx).await?.user_id.to_string()))
    }
}

impl Delivery {
    async fn sent(&self, ctx: &Context<'_>) -> async_graphql::Result<notification::Model> {
        load_one::<Notifications>(ctx, self.0.notification_id).await
    }
}

/// Fields of a delivery connection beyond Relay's.
#[derive(SimpleObject)]
pub struct DeliveryPage {
    /// Deliveries matching the filter, on every page.
    pub total_count: i32,
}
