use sea_orm::entity::prelude::*;

/// Messages written in the same transaction as the change they announce and
/// relayed to the message bus afterwards; `relayed_at` is null until then.
#[sea_orm::compact_model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub topic: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub payload: Json,
    /// The match the row is about: workers take a match's rows one at a
    /// time, in order. `None` only in rows relayed before it was kept.
    pub match_id: Option<i64>,
    pub created_at: DateTimeUtc,
    #[sea_orm(indexed)]
    pub relayed_at: Option<DateTimeUtc>,
    /// Failed attempts so far.
    #[sea_orm(default_value = 0)]
    pub attempts: i32,
    /// A worker holds the row until then; another may take it after.
    pub locked_until: Option<DateTimeUtc>,
    /// After a failed attempt, the row waits until then (a backoff).
    pub next_attempt_at: Option<DateTimeUtc>,
    /// Set when the row failed its last attempt: it is not tried again.
    pub dead_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    /// The trace the change was made in (a W3C `traceparent`), when
    /// traces are exported; the worker's work on the row joins it.
    #[sea_orm(column_type = "String(StringLen::N(128))", nullable)]
    pub traceparent: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
