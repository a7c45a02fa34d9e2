use sea_orm::entity::prelude::*;

use crate::NotificationKind;

#[sea_orm::compact_model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub kind: NotificationKind,
    /// Unique per user, so producing the same notification twice is a no-op.
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub dedupe_key: String,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub payload: Json,
    /// Held back during quiet hours and folded into the next digest.
    #[sea_orm(default_value = false)]
    pub held: bool,
    /// The digest a held notification went out in.
    pub folded_into_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
    /// When it joins its user's inbox and `notificationReceived`: when it
    /// was written, or for a live alert held back by the user's stream
    /// delay, its release. `None` for one the inbox never lists: held back
    /// by quiet hours, or written while the in-app channel was off. The
    /// in-app channel is this column, not a delivery row: it cannot fail,
    /// and a crowd's alert then writes one row per fan, not two.
    pub shown_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
    #[sea_orm(has_many = "super::delivery::Entity")]
    Delivery,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::delivery::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Delivery.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
