use sea_orm_migration::{prelude::*, schema::*};

use crate::create_index;

/// Web Push as a fourth channel: the browsers' subscriptions, one delivery
/// per notification and subscription, and the channel's switch in the
/// preferences.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Deliveries stay unique per notification and channel, and per
/// subscription for Web Push. A plain unique index over a nullable column
/// would let two email rows of one notification in (NULLs differ), so the
/// index is over the column with NULL read as 0; the same statement runs on
/// SQLite and PostgreSQL.
const UNIQUE_TARGET: &str = "CREATE UNIQUE INDEX uq_deliveries_notification_id_channel_target \
     ON deliveries (notification_id, channel, COALESCE(web_push_subscription_id, 0))";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebPushSubscriptions::Table)
                    .col(big_pk_auto(WebPushSubscriptions::Id))
                    .col(big_integer(WebPushSubscriptions::UserId))
                    .col(text(WebPushSubscriptions::Endpoint))
                    .col(text(WebPushSubscriptions::P256dh))
                    .col(text(WebPushSubscriptions::Auth))
                    .col(timestamp_with_time_zone(WebPushSubscriptions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_web_push_subscriptions_user_id")
                            .from(WebPushSubscriptions::Table, WebPushSubscriptions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "uq_web_push_subscriptions_endpoint",
            WebPushSubscriptions::Table,
            [WebPushSubscriptions::Endpoint],
            true,
        )
        .await?;
        create_index(
            manager,
            "idx_web_push_subscriptions_user_id",
            WebPushSubscriptions::Table,
            [WebPushSubscriptions::UserId],
            false,
        )
        .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Deliveries::Table)
                    .add_column(big_integer_null(Deliveries::WebPushSubscriptionId))
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("uq_deliveries_notification_id_channel")
                    .table(Deliveries::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(UNIQUE_TARGET)
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(NotificationPreferences::Table)
                    .add_column(boolean(NotificationPreferences::WebPushEnabled).default(true))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(NotificationPreferences::Table)
                    .drop_column(NotificationPreferences::WebPushEnabled)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("uq_deliveries_notification_id_channel_target")
                    .table(Deliveries::Table)
                    .to_owned(),
            )
            .await?;
        // One row per notification and channel again before the old index.
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM deliveries WHERE channel = 'WEB_PUSH'")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Deliveries::Table)
                    .drop_column(Deliveries::WebPushSubscriptionId)
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "uq_deliveries_notification_id_channel",
            Deliveries::Table,
            [Deliveries::NotificationId, Deliveries::Channel],
            true,
        )
        .await?;
        manager
            .drop_table(Table::drop().table(WebPushSubscriptions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum WebPushSubscriptions {
    Table,
    Id,
    UserId,
    Endpoint,
    P256dh,
    Auth,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    NotificationId,
    Channel,
    WebPushSubscriptionId,
}

#[derive(DeriveIden)]
enum NotificationPreferences {
    Table,
    WebPushEnabled,
}
