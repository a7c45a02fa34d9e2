//! Notifications: what the worker writes for each user, and the deliveries
//! that carry it over each channel the user turned on.
//!
//! Every notification has a dedupe key, unique per user, so producing the
//! same one twice (a retry, a second worker, a replayed outbox row) writes
//! nothing the second time.

pub mod alerts;
pub mod deliveries;
pub mod digest;
pub mod period;
pub mod quiet_hours;
pub mod schedule;
pub mod webhook_targets;

use chrono::{DateTime, Utc};
use entity::{
    DeliveryChannel, DeliveryStatus, NotificationKind, delivery, notification,
    notification_preference as prefs,
};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait as _,
    QueryFilter as _, TryInsertResult,
};

use crate::Result;
use crate::jobs::JobQueue;
use crate::live::bus::{Bus, BusMessage};

/// A notification about to be written.
#[derive(Clone, Debug)]
pub struct Draft {
    pub kind: NotificationKind,
    pub dedupe_key: String,
    pub title: String,
    pub body: String,
    pub payload: serde_json::Value,
}

/// A notification as written, with its deliveries.
#[derive(Clone, Debug)]
pub struct Written {
    pub notification: notification::Model,
    pub deliveries: Vec<delivery::Model>,
}

impl Written {
    /// The email and webhook deliveries still to send.
    pub fn outgoing(&self) -> impl Iterator<Item = &delivery::Model> {
        self.deliveries
            .iter()
            .filter(|d| d.status == DeliveryStatus::Pending)
    }

    /// True when it belongs in the inbox now, so subscribers should hear of it.
    pub fn is_in_app(&self) -> bool {
        self.deliveries
            .iter()
            .any(|d| d.channel == DeliveryChannel::InApp)
    }
}

/// The channels a user's preferences turn on.
pub fn channels(preferences: &prefs::Model) -> Vec<DeliveryChannel> {
    let mut channels = Vec::new();
    if preferences.in_app_enabled {
        channels.push(DeliveryChannel::InApp);
    }
    if preferences.email_enabled {
        channels.push(DeliveryChannel::Email);
    }
    if preferences.webhook_enabled && preferences.webhook_url.is_some() {
        channels.push(DeliveryChannel::Webhook);
    }
    channels
}

/// Writes `draft` for the user, with one delivery per channel they turned
/// on; or, when `held` (quiet hours), with none: it waits for the next
/// digest. In-app delivery is the row itself, so it is delivered at once;
/// email and webhook deliveries start pending, for the worker.
///
/// `None` when the user already has a notification with this dedupe key.
pub async fn write(
    db: &impl ConnectionTrait,
    preferences: &prefs::Model,
    draft: Draft,
    held: bool,
    now: DateTime<Utc>,
) -> Result<Option<Written>> {
    let dedupe_key = draft.dedupe_key.clone();
    let row = notification::ActiveModel {
        user_id: Set(preferences.user_id),
        kind: Set(draft.kind),
        dedupe_key: Set(draft.dedupe_key),
        title: Set(draft.title),
        body: Set(draft.body),
        payload: Set(draft.payload),
        held: Set(held),
        folded_into_id: Set(None),
        created_at: Set(now),
        read_at: Set(None),
        ..Default::default()
    };
    let result = notification::Entity::insert(row)
        .on_conflict_do_nothing_on([
            notification::Column::UserId,
            notification::Column::DedupeKey,
        ])
        .exec_without_returning(db)
        .await?;
    if !inserted(result) {
        return Ok(None);
    }
    let notification = notification::Entity::find()
        .filter(notification::Column::UserId.eq(preferences.user_id))
        .filter(notification::Column::DedupeKey.eq(dedupe_key))
        .one(db)
        .await?
        .ok_or_else(|| {
            crate::Error::Internal(anyhow::anyhow!("an inserted notification vanished"))
        })?;
    let mut deliveries = Vec::new();
    if !held {
        for channel in channels(preferences) {
            let in_app = channel == DeliveryChannel::InApp;
            let delivery = delivery::ActiveModel {
                notification_id: Set(notification.id),
                channel: Set(channel),
                status: Set(if in_app {
                    DeliveryStatus::Delivered
                } else {
                    DeliveryStatus::Pending
                }),
                attempts: Set(i32::from(in_app)),
                last_error: Set(None),
                next_attempt_at: Set(None),
                delivered_at: Set(in_app.then_some(now)),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?;
            deliveries.push(delivery);
        }
    }
    Ok(Some(Written {
        notification,
        deliveries,
    }))
}

/// Announces new in-app notifications to their subscribers and queues the
/// email and webhook deliveries. A push that fails is not lost: the
/// worker's sweep finds deliveries left pending without a job.
pub async fn dispatch(bus: &Bus, jobs: &dyn JobQueue, written: &[Written]) {
    for w in written {
        if w.is_in_app() {
            bus.publish(BusMessage::Notification {
                user_id: w.notification.user_id,
                notification_id: w.notification.id,
            });
        }
        for delivery in w.outgoing() {
            if let Err(err) = jobs.push_delivery(delivery.id).await {
                tracing::warn!(
                    delivery_id = delivery.id,
                    error = format!("{err:#}"),
                    "could not queue a delivery; the sweep will"
                );
            }
        }
    }
}

/// True when an `ON CONFLICT DO NOTHING` insert wrote its row. (Its
/// `RETURNING` form cannot tell a conflict from success on SQLite, so the
/// row is read back by its unique key instead.)
pub(crate) fn inserted(result: TryInsertResult<u64>) -> bool {
    matches!(result, TryInsertResult::Inserted(n) if n > 0)
}
