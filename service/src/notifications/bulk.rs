//! The two inserts behind `write_many`, in the shape each database takes
//! best. A crowd's alert writes 100,000 notifications and more deliveries
//! in batches of `WRITE_BATCH`, so what a batch costs the database is
//! what a goal costs the crowd.
//!
//! On PostgreSQL each insert is one statement over `unnest` of a few array
//! parameters: a fixed handful of parameters whatever the batch size, one
//! cached plan, and a draft that many fans share (a goal's words) sent,
//! and its payload parsed, once. SQLite has no arrays; it takes a
//! multi-row `VALUES`, with the batch sizes keeping it under its limit on
//! parameters.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{DeliveryChannel, DeliveryStatus, delivery, notification};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{
    ActiveEnum as _, ActiveValue::Set, ConnectionTrait, DatabaseBackend, EntityTrait as _,
    QueryTrait as _, Statement, Value,
};

use super::Draft;
use crate::Result;

/// A notification to insert: whose, what it says, whether quiet hours
/// hold it back, and when it joins the inbox.
pub struct NewNotification<'a> {
    pub user_id: i64,
    pub draft: &'a Draft,
    pub held: bool,
    pub shown_at: Option<DateTime<Utc>>,
}

/// Inserts the notifications, skipping a user who already has one with
/// the same dedupe key. Returns the id of each one written, by user.
pub async fn insert_notifications(
    db: &impl ConnectionTrait,
    items: &[NewNotification<'_>],
    now: DateTime<Utc>,
) -> Result<HashMap<i64, i64>> {
    let backend = db.get_database_backend();
    let statement = match backend {
        DatabaseBackend::Postgres => notifications_from_arrays(items, now),
        _ => backend.build(&notifications_as_values(items, now)),
    };
    let mut ids = HashMap::with_capacity(items.len());
    // Both databases return only the rows an `ON CONFLICT DO NOTHING`
    // insert wrote; nothing is read back one by one.
    for row in db.query_all_raw(statement).await? {
        ids.insert(row.try_get("", "user_id")?, row.try_get("", "id")?);
    }
    Ok(ids)
}

/// Where one delivery goes: the notification, its channel and, for Web
/// Push, the browser.
pub type Target = (i64, DeliveryChannel, Option<i64>);

/// Inserts new, pending deliveries (`id` is ignored) and returns each
/// one's id by its target. A row's `next_attempt_at` goes in as it is: a
/// fan's stream delay holds their rows back from the start.
pub async fn insert_deliveries(
    db: &impl ConnectionTrait,
    rows: &[delivery::Model],
    now: DateTime<Utc>,
) -> Result<HashMap<Target, i64>> {
    let backend = db.get_database_backend();
    let statement = match backend {
        DatabaseBackend::Postgres => deliveries_from_arrays(rows, now),
        _ => backend.build(&deliveries_as_values(rows, now)),
    };
    let mut ids = HashMap::with_capacity(rows.len());
    for row in db.query_all_raw(statement).await? {
        let target = (
            row.try_get("", "notification_id")?,
            row.try_get("", "channel")?,
            row.try_get("", "web_push_subscription_id")?,
        );
        ids.insert(target, row.try_get("", "id")?);
    }
    Ok(ids)
}

/// The PostgreSQL insert: the distinct drafts as one set of arrays, and
/// per user the position of their draft among them.
fn notifications_from_arrays(items: &[NewNotification<'_>], now: DateTime<Utc>) -> Statement {
    let mut drafts: Vec<&Draft> = Vec::new();
    let mut draft_of_item = Vec::with_capacity(items.len());
    for item in items {
        // Fans of one alert share one draft and come in a row; a digest's
        // drafts differ from the first field compared (the dedupe key).
        if drafts.last().is_none_or(|last| *last != item.draft) {
            drafts.push(item.draft);
        }
        draft_of_item.push(drafts.len() as i64);
    }
    let values = vec![
        array(&drafts, |d| d.kind.to_value()),
        array(&drafts, |d| d.dedupe_key.clone()),
        array(&drafts, |d| d.title.clone()),
        array(&drafts, |d| d.body.clone()),
        array(&drafts, |d| d.payload.clone()),
        array(items, |i| i.user_id),
        Value::from(draft_of_item),
        array(items, |i| i.held),
        Value::from(now),
        array(items, |i| i.shown_at.is_some()),
        array(items, |i| i.shown_at.unwrap_or(now)),
    ];
    Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "INSERT INTO notifications \
           (user_id, kind, dedupe_key, title, body, payload, held, created_at, shown_at) \
         SELECT i.user_id, d.kind, d.dedupe_key, d.title, d.body, d.payload, i.held, $9, \
           CASE WHEN i.shown THEN i.shown_at END \
         FROM unnest($6::bigint[], $7::bigint[], $8::bool[], $10::bool[], $11::timestamptz[]) \
           AS i (user_id, draft, held, shown, shown_at) \
         JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[]) \
           WITH ORDINALITY AS d (kind, dedupe_key, title, body, payload, n) \
           ON d.n = i.draft \
         ON CONFLICT (user_id, dedupe_key) DO NOTHING \
         RETURNING id, user_id",
        values,
    )
}

/// One column of a set of rows, as a PostgreSQL array parameter.
fn array<T, V>(rows: &[T], column: impl Fn(&T) -> V) -> Value
where
    Vec<V>: Into<Value>,
{
    rows.iter().map(column).collect::<Vec<V>>().into()
}

fn notifications_as_values(
    items: &[NewNotification<'_>],
    now: DateTime<Utc>,
) -> sea_orm::sea_query::InsertStatement {
    let rows = items.iter().map(|item| notification::ActiveModel {
        user_id: Set(item.user_id),
        kind: Set(item.draft.kind),
        dedupe_key: Set(item.draft.dedupe_key.clone()),
        title: Set(item.draft.title.clone()),
        body: Set(item.draft.body.clone()),
        payload: Set(item.draft.payload.clone()),
        held: Set(item.held),
        folded_into_id: Set(None),
        created_at: Set(now),
        read_at: Set(None),
        shown_at: Set(item.shown_at),
        ..Default::default()
    });
    let mut insert = notification::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                notification::Column::UserId,
                notification::Column::DedupeKey,
            ])
            .do_nothing()
            .to_owned(),
        )
        .into_query();
    insert.returning(
        Query::returning().columns([notification::Column::Id, notification::Column::UserId]),
    );
    insert
}

/// The PostgreSQL insert of deliveries: one array per column that
/// varies. A delivery with no browser carries 0, which no subscription id
/// is. Only a batch with a row held back (by a stream delay) sends the
/// column of when each row is first due; the others go in due at once.
fn deliveries_from_arrays(rows: &[delivery::Model], now: DateTime<Utc>) -> Statement {
    debug_assert!(rows.iter().all(|d| d.status == DeliveryStatus::Pending));
    let mut values = vec![
        array(rows, |d| d.notification_id),
        array(rows, |d| d.channel.to_value()),
        array(rows, |d| d.web_push_subscription_id.unwrap_or(0)),
        Value::from(now),
        DeliveryStatus::Pending.to_value().into(),
    ];
    let sql = if rows.iter().any(|d| d.next_attempt_at.is_some()) {
        values.push(array(rows, |d| d.next_attempt_at.unwrap_or(now)));
        "INSERT INTO deliveries \
           (notification_id, channel, web_push_subscription_id, status, attempts, \
            next_attempt_at, created_at, updated_at) \
         SELECT notification_id, channel, NULLIF(subscription, 0), $5, 0, \
           NULLIF(due, $4), $4, $4 \
         FROM unnest($1::bigint[], $2::text[], $3::bigint[], $6::timestamptz[]) \
           AS d (notification_id, channel, subscription, due) \
         RETURNING id, notification_id, channel, web_push_subscription_id"
    } else {
        "INSERT INTO deliveries \
           (notification_id, channel, web_push_subscription_id, status, attempts, \
            created_at, updated_at) \
         SELECT notification_id, channel, NULLIF(subscription, 0), $5, 0, $4, $4 \
         FROM unnest($1::bigint[], $2::text[], $3::bigint[]) \
           AS d (notification_id, channel, subscription) \
         RETURNING id, notification_id, channel, web_push_subscription_id"
    };
    Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, values)
}

fn deliveries_as_values(
    rows: &[delivery::Model],
    now: DateTime<Utc>,
) -> sea_orm::sea_query::InsertStatement {
    let mut insert = delivery::Entity::insert_many(rows.iter().map(|d| delivery::ActiveModel {
        notification_id: Set(d.notification_id),
        channel: Set(d.channel),
        web_push_subscription_id: Set(d.web_push_subscription_id),
        status: Set(d.status),
        attempts: Set(d.attempts),
        last_error: Set(None),
        next_attempt_at: Set(d.next_attempt_at),
        delivered_at: Set(d.delivered_at),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }))
    .into_query();
    insert.returning(Query::returning().columns([
        delivery::Column::Id,
        delivery::Column::NotificationId,
        delivery::Column::Channel,
        delivery::Column::WebPushSubscriptionId,
    ]));
    insert
}
