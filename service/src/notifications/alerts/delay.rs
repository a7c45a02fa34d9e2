//! The stream delay on live alerts: a fan who watches a broadcast that
//! runs behind the match sets `stream_delay_seconds`, and each of their
//! alerts of a match event is released that long after the event: its
//! email, webhook and Web Push deliveries are not due before then (their
//! `next_attempt_at`, which a claim respects), and the notification is
//! shown then (`shown_at`), which is when it joins the inbox and
//! `notificationReceived` (`accounts::inbox::shown_by`).
//!
//! Alerts are written for a crowd in set-based batches (`write_many`),
//! and a delayed fan's notification and deliveries are written held back in
//! the same inserts as everyone else's (`releases` says until when), so a
//! batch with no delayed fan costs nothing more and one with some costs no
//! second statement.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::notification_preference as prefs;

use crate::accounts::preferences::StreamDelay;
use crate::notifications::Written;

/// When the alert of each fan among `fans` who has a stream delay is
/// released: their delay after `occurred_at`, when the event happened.
/// A fan whose release is already past at `now` (the worker came late)
/// is left out: theirs goes out at once. Empty for most batches.
pub fn releases<'a>(
    fans: impl IntoIterator<Item = &'a prefs::Model>,
    occurred_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> HashMap<i64, DateTime<Utc>> {
    fans.into_iter()
        .filter_map(|fan| {
            let delay = StreamDelay::stored(fan.stream_delay_seconds);
            let release = occurred_at + delay.duration();
            (!delay.is_off() && release > now).then_some((fan.user_id, release))
        })
        .collect()
}

/// When a notification as written is released: `None` when it is not
/// held back at `now`.
pub fn held_until(w: &Written, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    w.notification
        .shown_at
        .or_else(|| w.outgoing().find_map(|d| d.next_attempt_at))
        .filter(|at| *at > now)
}
