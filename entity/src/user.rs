use sea_orm::entity::prelude::*;

use crate::UserRole;

#[sea_orm::compact_model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Lower-cased by the application before it is stored, so the unique
    /// index is case-insensitive in effect on every backend.
    #[sea_orm(column_type = "Text", unique)]
    pub email: String,
    #[sea_orm(column_type = "Text")]
    pub display_name: String,
    #[sea_orm(column_type = "Text")]
    pub password_hash: String,
    #[sea_orm(default_value = "USER")]
    pub role: UserRole,
    /// IANA time zone name.
    #[sea_orm(column_type = "String(StringLen::N(64))", default_value = "UTC")]
    pub time_zone: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::api_token::Entity")]
    ApiToken,
    #[sea_orm(has_many = "super::follow::Entity")]
    Follow,
    #[sea_orm(has_one = "super::notification_preference::Entity")]
    NotificationPreference,
    #[sea_orm(has_many = "super::notification::Entity")]
    Notification,
}

impl Related<super::api_token::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ApiToken.def()
    }
}

impl Related<super::follow::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Follow.def()
    }
}

impl Related<super::notification_preference::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::NotificationPreference.def()
    }
}

impl Related<super::notification::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Notification.def()
    }
}

/// The teams the user follows.
impl Related<super::team::Entity> for Entity {
    fn to() -> RelationDef {
        super::follow::Relation::Team.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::follow::Relation::User.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
