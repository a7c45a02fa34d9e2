//! Notifications: what the worker writes for each user, and the deliveries
//! that carry it over each channel the user turned on.
//!
//! Every notification has a dedupe key, unique per user, so producing the
//! same one twice (a retry, a second worker, a replayed outbox row) writes
//! nothing the second time.

pub mod alert_kinds;
pub mod alerts;
pub mod audience;
mod bulk;
pub mod deliveries;
pub mod digest;
pub mod period;
pub mod quiet_hours;
pub mod schedule;
pub mod web_push;
pub mod webhook_targets;

use chrono::{DateTime, Utc};
use entity::{
    DeliveryChannel, DeliveryStatus, NotificationKind, delivery, notification,
    notification_preference as prefs,
};
use std::collections::HashMap;

use sea_orm::ConnectionTrait;

use crate::Result;
use crate::jobs::JobQueue;
use crate::live::bus::{Bus, BusMessage};

/// A notification about to be written.
#[derive(Clone, Debug, PartialEq)]
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
    /// The email, webhook and Web Push deliveries still to send.
    pub fn outgoing(&self) -> impl Iterator<Item = &delivery::Model> {
        self.deliveries
            .iter()
            .filter(|d| d.status == DeliveryStatus::Pending)
    }

    /// True when it belongs in the inbox, now or at its release, so
    /// subscribers should hear of it.
    pub fn is_in_app(&self) -> bool {
        self.notification.shown_at.is_some()
    }
}

/// The channels that send, as a user's preferences turn them on. Web Push
/// is one of them when it is on, whether or not the user has subscribed a
/// browser yet: `write_many` makes one delivery per subscription, which
/// may be none. The in-app channel sends nothing: it is the notification's
/// own `shown_at`.
pub fn channels(preferences: &prefs::Model) -> Vec<DeliveryChannel> {
    let mut channels = Vec::new();
    if preferences.email_enabled {
        channels.push(DeliveryChannel::Email);
    }
    if preferences.webhook_enabled && preferences.webhook_url.is_some() {
        channels.push(DeliveryChannel::Webhook);
    }
    if preferences.web_push_enabled {
        channels.push(DeliveryChannel::WebPush);
    }
    channels
}

/// Writes `draft` for the user, shown in their inbox at once when they
/// have the in-app channel on, with one delivery per channel that sends;
/// or, when `held` (quiet hours), neither: it waits for the next digest.
/// Email, webhook and Web Push deliveries start pending, for the worker.
///
/// `None` when the user already has a notification with this dedupe key.
pub async fn write(
    db: &impl ConnectionTrait,
    preferences: &prefs::Model,
    draft: Draft,
    held: bool,
    now: DateTime<Utc>,
) -> Result<Option<Written>> {
    let mut written =
        write_many(db, vec![(preferences, draft, held)], &HashMap::new(), now).await?;
    Ok(written.pop())
}

/// Most notifications one `write_many` statement carries. PostgreSQL
/// takes a batch as a few array parameters; on SQLite, nine values a row
/// keep a statement far below its limit of 32,766 bind parameters.
pub const WRITE_BATCH: usize = 1000;

/// Most deliveries one statement inserts: a notification has up to two
/// plus one per Web Push subscription, so a batch's deliveries go in
/// several statements (of ten values a row on SQLite).
const DELIVERY_BATCH: usize = 2000;

/// `write` for many users at once: one multi-row insert of the
/// notifications and one of their deliveries, whatever the number of
/// users (up to `WRITE_BATCH`). Users who already have a notification
/// with their draft's dedupe key are left out of the result.
///
/// A user in `held_until` (a stream delay's release, later than `now`)
/// has their notification written held back from the start: it joins the
/// inbox then (`shown_at`), and its deliveries are not due before then
/// (`next_attempt_at`, which a claim respects). Most batches hold nobody
/// back.
pub async fn write_many(
    db: &impl ConnectionTrait,
    items: Vec<(&prefs::Model, Draft, bool)>,
    held_until: &HashMap<i64, DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Vec<Written>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    debug_assert!(items.len() <= WRITE_BATCH);
    let new: Vec<_> = items
        .iter()
        .map(|(preferences, draft, held)| bulk::NewNotification {
            user_id: preferences.user_id,
            draft,
            held: *held,
            shown_at: shown_at(preferences, *held, held_until, now),
        })
        .collect();
    let ids = bulk::insert_notifications(db, &new, now).await?;
    // The browsers of the users who have Web Push on, one statement for
    // the batch.
    let push_users: Vec<i64> = items
        .iter()
        .filter(|(p, _, held)| !held && p.web_push_enabled && ids.contains_key(&p.user_id))
        .map(|(p, _, _)| p.user_id)
        .collect();
    let mut browsers: HashMap<i64, Vec<i64>> = HashMap::new();
    for (user_id, subscription_id) in web_push::ids_of_users(db, &push_users).await? {
        browsers.entry(user_id).or_default().push(subscription_id);
    }
    let mut written = Vec::with_capacity(ids.len());
    let mut delivery_rows = Vec::new();
    for (preferences, draft, held) in items {
        let Some(&id) = ids.get(&preferences.user_id) else {
            continue;
        };
        let notification = notification::Model {
            id,
            user_id: preferences.user_id,
            kind: draft.kind,
            dedupe_key: draft.dedupe_key,
            title: draft.title,
            body: draft.body,
            payload: draft.payload,
            held,
            folded_into_id: None,
            created_at: now,
            read_at: None,
            shown_at: shown_at(preferences, held, held_until, now),
        };
        if !held {
            let release = held_until.get(&preferences.user_id).copied();
            let targets = channels(preferences).into_iter().flat_map(
                |channel| -> Vec<(DeliveryChannel, Option<i64>)> {
                    if channel == DeliveryChannel::WebPush {
                        let subscriptions = browsers.get(&preferences.user_id);
                        subscriptions
                            .into_iter()
                            .flatten()
                            .map(|&s| (channel, Some(s)))
                            .collect()
                    } else {
                        vec![(channel, None)]
                    }
                },
            );
            for (channel, web_push_subscription_id) in targets {
                delivery_rows.push(delivery::Model {
                    id: 0,
                    notification_id: id,
                    channel,
                    web_push_subscription_id,
                    status: DeliveryStatus::Pending,
                    attempts: 0,
                    last_error: None,
                    next_attempt_at: release,
                    delivered_at: None,
                    created_at: now,
                    updated_at: now,
                });
            }
        }
        written.push(Written {
            notification,
            deliveries: Vec::new(),
        });
    }
    if delivery_rows.is_empty() {
        return Ok(written);
    }
    let mut delivery_ids = HashMap::with_capacity(delivery_rows.len());
    for chunk in delivery_rows.chunks(DELIVERY_BATCH) {
        delivery_ids.extend(bulk::insert_deliveries(db, chunk, now).await?);
    }
    let mut by_notification: HashMap<i64, Vec<delivery::Model>> = HashMap::new();
    for mut d in delivery_rows {
        let key = (d.notification_id, d.channel, d.web_push_subscription_id);
        d.id = *delivery_ids.get(&key).ok_or_else(|| {
            crate::Error::Internal(anyhow::anyhow!("an inserted delivery was not returned"))
        })?;
        by_notification
            .entry(d.notification_id)
            .or_default()
            .push(d);
    }
    for w in &mut written {
        w.deliveries = by_notification
            .remove(&w.notification.id)
            .unwrap_or_default();
    }
    Ok(written)
}

/// When a notification joins its user's inbox: at once, or at the
/// release of their stream delay; never when quiet hours hold it back or
/// the in-app channel is off.
fn shown_at(
    preferences: &prefs::Model,
    held: bool,
    held_until: &HashMap<i64, DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    (preferences.in_app_enabled && !held)
        .then(|| held_until.get(&preferences.user_id).copied().unwrap_or(now))
}

/// Announces new in-app notifications to their subscribers (`announce`)
/// and queues the email and webhook deliveries. A delivery that fails to
/// queue is not lost: the worker's sweep finds deliveries left pending
/// without a job.
pub async fn dispatch(bus: &Bus, jobs: &dyn JobQueue, written: &[Written]) {
    announce(bus, written).await;
    let outgoing: Vec<i64> = written
        .iter()
        .flat_map(|w| w.outgoing().map(|d| d.id))
        .collect();
    if outgoing.is_empty() {
        return;
    }
    if let Err(err) = jobs.push_deliveries(&outgoing).await {
        tracing::warn!(
            deliveries = outgoing.len(),
            error = format!("{err:#}"),
            "could not queue deliveries; the sweep will"
        );
    }
}

/// Tells subscribers of `notificationReceived` of the in-app ones among
/// `written`: one bus message for the batch, waiting for room on the bus
/// rather than dropped when a burst backs it up.
pub async fn announce(bus: &Bus, written: &[Written]) {
    let mut user_ids: Vec<i64> = written
        .iter()
        .filter(|w| w.is_in_app())
        .map(|w| w.notification.user_id)
        .collect();
    user_ids.sort_unstable();
    user_ids.dedup();
    match user_ids.as_slice() {
        [] => {}
        [user_id] => {
            let notification_id = written
                .iter()
                .find(|w| w.notification.user_id == *user_id)
                .map_or(0, |w| w.notification.id);
            bus.publish_waiting(BusMessage::Notification {
                user_id: *user_id,
                notification_id,
            })
            .await;
        }
        _ => {
            bus.publish_waiting(BusMessage::Notifications { user_ids })
                .await
        }
    }
}
