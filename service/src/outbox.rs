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
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait as _, LockBehavior, LockType, Query, SelectStatement,
};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, Condition, ConnectionTrait,
    DatabaseBackend, EntityTrait as _, FromQueryResult as _, PaginatorTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _, QueryTrait as _,
};
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

    /// The match the row is about.
    pub fn match_id(&self) -> i64 {
        match self {
            Self::MatchEvent { match_id, .. }
            | Self::MatchScheduled { match_id }
            | Self::MatchRescheduled { match_id, .. }
            | Self::MatchPostponed { match_id, .. }
            | Self::MatchCancelled { match_id, .. } => *match_id,
        }
    }

    /// The row's `topic` and `payload` columns.
    fn encode(&self) -> Result<(String, serde_json::Value), serde_json::Error> {
        let mut tagged = serde_json::to_value(self)?;
        let topic = tagged["topic"].as_str().unwrap_or_default().to_owned();
        Ok((topic, tagged["payload"].take()))
    }
}

/// Writes `message` as an outbox row, in the caller's transaction, with
/// the trace it is written in (when traces are exported).
pub async fn write(db: &impl ConnectionTrait, message: &Message) -> Result<()> {
    let (topic, payload) = message.encode().map_err(|err| {
        Error::Internal(anyhow::Error::new(err).context("encoding an outbox row"))
    })?;
    outbox::ActiveModel {
        topic: Set(topic),
        payload: Set(payload),
        match_id: Set(Some(message.match_id())),
        created_at: Set(Utc::now()),
        attempts: Set(0),
        traceparent: Set(crate::telemetry::traceparent(&tracing::Span::current())),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Takes up to `limit` rows due for an attempt, oldest first, holding
/// them until `lease_until`: not relayed, not dead, past their backoff,
/// and not held by another worker. Workers polling side by side share the
/// rows instead of repeating them. On PostgreSQL the pick skips rows
/// another worker is claiming at that moment (`FOR UPDATE SKIP LOCKED`);
/// SQLite runs one writer at a time, and the embedded default one worker.
///
/// Of a match's rows only the oldest waiting one is taken: a later row
/// waits until the earlier is relayed, dead, or waiting out a backoff.
/// Two goals a second apart would otherwise be written side by side by
/// two workers, and their fans told of the second goal first. The rule
/// reads committed rows only, so it holds while another worker's claim
/// is still uncommitted.
pub async fn claim(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<outbox::Model>> {
    use outbox::Column as C;
    let mut pick = outbox::Entity::find()
        .select_only()
        .column(C::Id)
        .filter(C::RelayedAt.is_null())
        .filter(C::DeadAt.is_null())
        .filter(
            Condition::any()
                .add(C::NextAttemptAt.is_null())
                .add(C::NextAttemptAt.lte(now)),
        )
        .filter(
            Condition::any()
                .add(C::LockedUntil.is_null())
                .add(C::LockedUntil.lte(now)),
        )
        .filter(Expr::exists(earlier_waiting(now)).not())
        .order_by_asc(C::Id)
        .limit(limit);
    if db.get_database_backend() == DatabaseBackend::Postgres {
        pick = pick.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut take = outbox::Entity::update_many()
        .col_expr(C::LockedUntil, Expr::value(lease_until))
        .filter(C::Id.in_subquery(pick.into_query()))
        .into_query();
    take.returning_all();
    let mut rows = db
        .query_all(&take)
        .await?
        .iter()
        .map(|row| outbox::Model::from_query_result(row, ""))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    rows.sort_by_key(|row| row.id);
    Ok(rows)
}

/// A row of the same match as the `outbox` row of the outer query, older
/// than it, still waiting and not in a backoff at `now`.
fn earlier_waiting(now: DateTime<Utc>) -> SelectStatement {
    use outbox::Column as C;
    let earlier = Alias::new("earlier");
    let col = |column: C| Expr::col((earlier.clone(), column));
    Query::select()
        .expr(Expr::val(1))
        .from_as(outbox::Entity, earlier.clone())
        .and_where(col(C::MatchId).equals((outbox::Entity, C::MatchId)))
        .and_where(col(C::Id).lt(Expr::col((outbox::Entity, C::Id))))
        .and_where(col(C::RelayedAt).is_null())
        .and_where(col(C::DeadAt).is_null())
        .cond_where(
            Condition::any()
                .add(col(C::NextAttemptAt).is_null())
                .add(col(C::NextAttemptAt).lte(now)),
        )
        .to_owned()
}

/// Keeps holding rows still being worked on, until `until`.
pub async fn extend(db: &impl ConnectionTrait, ids: &[i64], until: DateTime<Utc>) -> Result<()> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::LockedUntil, Expr::value(until))
        .filter(outbox::Column::Id.is_in(ids.iter().copied()))
        .filter(outbox::Column::RelayedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Marks a row done.
pub async fn relayed(db: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<()> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::RelayedAt, Expr::value(now))
        .col_expr(
            outbox::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(outbox::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Records a failed attempt at a row: tried again from `retry_at`, or,
/// with `None`, dead-lettered (never tried again) with its error.
pub async fn failed(
    db: &impl ConnectionTrait,
    id: i64,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<()> {
    outbox::Entity::update_many()
        .col_expr(
            outbox::Column::Attempts,
            Expr::col(outbox::Column::Attempts).add(1),
        )
        .col_expr(outbox::Column::LastError, Expr::value(error.to_owned()))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(retry_at))
        .col_expr(
            outbox::Column::DeadAt,
            Expr::value(retry_at.is_none().then_some(now)),
        )
        .col_expr(
            outbox::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(outbox::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Rows the worker has not handled yet (dead-lettered rows aside), and
/// when the oldest of them was written.
pub async fn backlog(db: &impl ConnectionTrait) -> Result<(u64, Option<DateTime<Utc>>)> {
    use outbox::Column as C;
    let waiting = || {
        outbox::Entity::find()
            .filter(C::RelayedAt.is_null())
            .filter(C::DeadAt.is_null())
    };
    let count = waiting().count(db).await?;
    let oldest = waiting()
        .select_only()
        .column(C::CreatedAt)
        .order_by_asc(C::Id)
        .into_tuple::<DateTime<Utc>>()
        .one(db)
        .await?;
    Ok((count, oldest))
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
            match_id: None,
            created_at: Utc::now(),
            relayed_at: None,
            attempts: 0,
            locked_until: None,
            next_attempt_at: None,
            dead_at: None,
            last_error: None,
            traceparent: None,
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
