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
    pub created_at: DateTimeUtc,
    #[sea_orm(indexed)]
    pub relayed_at: Option<DateTimeUtc>,
    #[sea_orm(default_value = 0)]
    pub attempts: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
