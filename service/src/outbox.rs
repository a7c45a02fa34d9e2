//! The outbox: what a committed change tells the worker. A row is written
//! in the same transaction as the change it announces, so a change that
//! committed is never lost, even if the process dies right after; the
//! worker reads the rows, acts on them and marks them relayed.
//!
//! [`Message`] is the one definition of what a row holds. Its variant is
//! the row's `topic` and its fields the row's `payload`, so rows written
//! before a field existed still decode (the field is optional).

use chrono::{DateTime, Utc};
use entity::outbox;
use sea_orm::{ActiveModelTrait as _, ActiveValue::Set, ConnectionTrait};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// One outbox row, by topic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "topic", content = "payload", rename_all = "snake_case")]
pub enum Message {
    /// A match event (or a correction, which is one) was recorded: its
    /// alerts go to the followers of either team.
    MatchEvent {
        match_id: i64,
        event_id: i64,
        seq: i32,
        /// The score just after the event, for the alert: by the time the
        /// worker reads the row, later events may have changed the match.
        /// Rows written before the snapshot was kept have none; their
        /// alerts read the match's score as it stands.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        score: Option<Score>,
    },
    /// A match was scheduled: its kick-off reminder is queued.
    MatchScheduled { match_id: i64 },
    /// A match moved: a reminder for its new kick-off is queued, and its
    /// followers are told. Rows written before the kick-offs were kept
    /// have neither; their alert reads the match's kick-off as it stands.
    MatchRescheduled {
        match_id: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_kickoff_at: Option<DateTime<Utc>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kickoff_at: Option<DateTime<Utc>>,
    },
    /// A match was postponed from `kickoff_at`: its followers are told (the
    /// queued reminder finds the match postponed and lapses).
    MatchPostponed {
        match_id: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kickoff_at: Option<DateTime<Utc>>,
    },
    /// A match due at `kickoff_at` was cancelled: its followers are told
    /// (the queued reminder finds the match cancelled and lapses).
    MatchCancelled {
        match_id: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kickoff_at: Option<DateTime<Utc>>,
    },
}

/// A match's score (regular time) at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    pub home: i32,
    pub away: i32,
}

impl Message {
    /// Reads a stored row. A row that does not decode (a topic this
    /// version does not know, a field missing) is an error, never skipped.
    pub fn decode(row: &outbox::Model) -> Result<Self, serde_json::Error> {
        serde_json::from_value(serde_json::json!({
            "topic": row.topic,
            "payload": row.payload,
        }))
    }

    /// The row's `topic` and `payload` columns.
    fn encode(&self) -> Result<(String, serde_json::Value), serde_json::Error> {
        let mut tagged = serde_json::to_value(self)?;
        let topic = tagged["topic"].as_str().unwrap_or_default().to_owned();
        Ok((topic, tagged["payload"].take()))
    }
}

/// Writes `message` as an outbox row, in the caller's transaction.
pub async fn write(db: &impl ConnectionTrait, message: &Message) -> Result<()> {
    let (topic, payload) = message.encode().map_err(|err| {
        Error::Internal(anyhow::Error::new(err).context("encoding an outbox row"))
    })?;
    outbox::ActiveModel {
        topic: Set(topic),
        payload: Set(payload),
        created_at: Set(Utc::now()),
        attempts: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn row(topic: &str, payload: serde_json::Value) -> outbox::Model {
        outbox::Model {
            id: 1,
            topic: topic.to_owned(),
            payload,
            created_at: Utc::now(),
            relayed_at: None,
            attempts: 0,
        }
    }

    #[test]
    fn a_match_event_is_stored_under_its_topic_with_the_score_at_the_event() {
        let message = Message::MatchEvent {
            match_id: 3,
            event_id: 9,
            seq: 4,
            score: Some(Score { home: 1, away: 0 }),
        };
        let (topic, payload) = message.encode().unwrap();
        assert_eq!(topic, "match_event");
        assert_eq!(
            payload,
            json!({ "match_id": 3, "event_id": 9, "seq": 4, "score": { "home": 1, "away": 0 } })
        );
        assert_eq!(Message::decode(&row(&topic, payload)).unwrap(), message);
    }

    #[test]
    fn rows_written_before_the_score_snapshot_still_decode() {
        let stored = row(
            "match_event",
            json!({ "match_id": 3, "event_id": 9, "seq": 4 }),
        );
        assert_eq!(
            Message::decode(&stored).unwrap(),
            Message::MatchEvent {
                match_id: 3,
                event_id: 9,
                seq: 4,
                score: None
            }
        );
        for (topic, expected) in [
            ("match_scheduled", Message::MatchScheduled { match_id: 5 }),
            (
                "match_rescheduled",
                Message::MatchRescheduled {
                    match_id: 5,
                    previous_kickoff_at: None,
                    kickoff_at: None,
                },
            ),
            (
                "match_postponed",
                Message::MatchPostponed {
                    match_id: 5,
                    kickoff_at: None,
                },
            ),
            (
                "match_cancelled",
                Message::MatchCancelled {
                    match_id: 5,
                    kickoff_at: None,
                },
            ),
        ] {
            let stored = row(topic, json!({ "match_id": 5 }));
            assert_eq!(Message::decode(&stored).unwrap(), expected, "{topic}");
        }
    }

    #[test]
    fn a_reschedule_is_stored_with_the_old_and_new_kick_off() {
        let old = "2026-12-05T15:00:00Z".parse().unwrap();
        let new = "2026-12-06T16:30:00Z".parse().unwrap();
        let message = Message::MatchRescheduled {
            match_id: 5,
            previous_kickoff_at: Some(old),
            kickoff_at: Some(new),
        };
        let (topic, payload) = message.encode().unwrap();
        assert_eq!(topic, "match_rescheduled");
        assert_eq!(
            payload,
            json!({
                "match_id": 5,
                "previous_kickoff_at": "2026-12-05T15:00:00Z",
                "kickoff_at": "2026-12-06T16:30:00Z",
            })
        );
        assert_eq!(Message::decode(&row(&topic, payload)).unwrap(), message);
    }

    #[test]
    fn a_row_of_an_unknown_topic_or_shape_does_not_decode() {
        assert!(Message::decode(&row("match_exploded", json!({ "match_id": 5 }))).is_err());
        assert!(Message::decode(&row("match_event", json!({ "match_id": 5 }))).is_err());
    }
}
