use sea_orm::entity::prelude::*;

/// A job that failed every attempt: the job queue's dead letter.
#[sea_orm::compact_model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dead_jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `digests` or `reminders`.
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub queue: String,
    /// The job's arguments, as queued.
    #[sea_orm(column_type = "JsonBinary")]
    pub job: Json,
    pub attempts: i32,
    #[sea_orm(column_type = "Text")]
    pub last_error: String,
    pub failed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
