use sea_orm::entity::prelude::*;

/// A browser's Web Push subscription (what `pushManager.subscribe` gave
/// it), for the user signed in there. The endpoint is the push service's
/// URL for that browser, so it is unique: a browser that signs in as
/// someone else moves to them.
#[sea_orm::compact_model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "web_push_subscriptions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(indexed)]
    pub user_id: i64,
    #[sea_orm(column_type = "Text", unique)]
    pub endpoint: String,
    /// The browser's P-256 public key, base64url without padding (65 bytes
    /// uncompressed).
    #[sea_orm(column_type = "Text")]
    pub p256dh: String,
    /// The browser's 16-byte authentication secret, base64url without padding.
    #[sea_orm(column_type = "Text")]
    pub auth: String,
    pub created_at: DateTimeUtc,
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
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
