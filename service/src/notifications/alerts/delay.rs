//! The stream delay on live alerts: a fan who watches a broadcast that
//! runs behind the match sets `stream_delay_seconds`, and each of their
//! alerts of a match event is released that long after the event: its
//! email, webhook and Web Push deliveries are not due before then (their
//! `next_attempt_at`, which a claim respects), and its in-app delivery is
//! delivered then (`delivered_at`), which is when the notification joins
//! the inbox and `notificationReceived` (`accounts::inbox::shown_by`).
//!
//! Alerts are written for a crowd in set-based batches (`write_many`);
//! the delay is applied afterwards, in the same transaction, to the few
//! fans of a batch who have one, one statement per distinct release time.
//! A batch with no delayed fan costs nothing more.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use entity::{DeliveryChannel, DeliveryStatus, delivery};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{ConnectionTrait, EntityTrait as _, QueryFilter as _};

use crate::Result;
use crate::accounts::preferences::StreamDelay;
use crate::notifications::Written;

/// Holds back the notifications among `written` whose user has a stream
/// delay, until `occurred_at` plus that delay; one that would be due by
/// `now` anyway (the worker came late) goes out at once. `delays` has the
/// delay of each user who has one. The models in `written` are brought up
/// to date.
pub async fn hold(
    db: &impl ConnectionTrait,
    written: &mut [Written],
    delays: &HashMap<i64, StreamDelay>,
    occurred_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    if delays.is_empty() {
        return Ok(());
    }
    let mut by_release: BTreeMap<DateTime<Utc>, Vec<usize>> = BTreeMap::new();
    for (i, w) in written.iter().enumerate() {
        let Some(delay) = delays.get(&w.notification.user_id) else {
            continue;
        };
        let release = occurred_at + delay.duration();
        if release > now && !w.deliveries.is_empty() {
            by_release.entry(release).or_default().push(i);
        }
    }
    for (release, indices) in by_release {
        let ids: Vec<i64> = indices
            .iter()
            .flat_map(|&i| written[i].deliveries.iter().map(|d| d.id))
            .collect();
        // One statement: the channels that send wait for the release; the
        // in-app one, which is the row itself, is delivered then.
        let in_app = Expr::col(delivery::Column::Channel).eq(DeliveryChannel::InApp);
        delivery::Entity::update_many()
            .col_expr(
                delivery::Column::NextAttemptAt,
                Expr::case(in_app.clone(), Expr::col(delivery::Column::NextAttemptAt))
                    .finally(Expr::value(release))
                    .into(),
            )
            .col_expr(
                delivery::Column::DeliveredAt,
                Expr::case(in_app, Expr::value(release))
                    .finally(Expr::col(delivery::Column::DeliveredAt))
                    .into(),
            )
            .filter(crate::db::is_one_of(
                db.get_database_backend(),
                delivery::Column::Id,
                &ids,
            ))
            .exec(db)
            .await?;
        for i in indices {
            for d in &mut written[i].deliveries {
                if d.channel == DeliveryChannel::InApp {
                    d.delivered_at = Some(release);
                } else {
                    d.next_attempt_at = Some(release);
                }
            }
        }
    }
    Ok(())
}

/// When a notification as written is released: `None` when it is not
/// held back at `now`.
pub fn held_until(w: &Written, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    w.deliveries
        .iter()
        .find_map(|d| match (d.channel, d.status) {
            (DeliveryChannel::InApp, _) => d.delivered_at,
            (_, DeliveryStatus::Pending) => d.next_attempt_at,
            _ => None,
        })
        .filter(|at| *at > now)
}

/// What is held back among `written`: `None` when nothing is (every fan
/// without a delay), so the caller tells the batch as it always did.
/// Otherwise what to tell now, what is held, and the deliveries to queue
/// at each later release time. The held ones are announced now all the
/// same: `notificationReceived` then knows when each is due, and sends it
/// then.
pub fn split(written: &[Written], now: DateTime<Utc>) -> Option<Split> {
    if !written.iter().any(|w| held_until(w, now).is_some()) {
        return None;
    }
    let mut split = Split::default();
    for w in written {
        match held_until(w, now) {
            Some(at) => {
                split
                    .later
                    .entry(at)
                    .or_default()
                    .extend(w.outgoing().map(|d| d.id));
                split.held.push(w.clone());
            }
            None => split.now.push(w.clone()),
        }
    }
    split.later.retain(|_, ids| !ids.is_empty());
    Some(split)
}

/// `written` split at the present.
#[derive(Debug, Default)]
pub struct Split {
    pub now: Vec<Written>,
    pub held: Vec<Written>,
    pub later: BTreeMap<DateTime<Utc>, Vec<i64>>,
}
