use sea_orm::entity::prelude::*;

use crate::{DeliveryChannel, DeliveryStatus};

/// One notification sent over one channel; at most one row per pair, and
/// for Web Push one per pair and subscription.
#[sea_orm::compact_model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub notification_id: i64,
    pub channel: DeliveryChannel,
    /// The browser a Web Push delivery goes to; null for other channels.
    /// Not a foreign key: a subscription removed (unsubscribed, or gone at
    /// the push service) leaves its deliveries as history, ended.
    pub web_push_subscription_id: Option<i64>,
    #[sea_orm(indexed)]
    pub status: DeliveryStatus,
    #[sea_orm(default_value = 0)]
    pub attempts: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub next_attempt_at: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::notification::Entity",
        from = "Column::NotificationId",
        to = "super::notification::Column::Id",
        on_delete = "Cascade"
    )]
    Notification,
}

impl Related<super::notification::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Notification.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
