use sea_orm_migration::{prelude::*, schema::*};

use crate::{ENUM_LEN, create_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(big_pk_auto(Notifications::Id))
                    .col(big_integer(Notifications::UserId))
                    .col(string_len(Notifications::Kind, ENUM_LEN))
                    .col(string_len(Notifications::DedupeKey, 200))
                    .col(text(Notifications::Title))
                    .col(text(Notifications::Body))
                    .col(json_binary(Notifications::Payload))
                    .col(boolean(Notifications::Held).default(false))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notifications_user_id")
                            .from(Notifications::Table, Notifications::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "uq_notifications_user_id_dedupe_key",
            Notifications::Table,
            [Notifications::UserId, Notifications::DedupeKey],
            true,
        )
        .await?;
        create_index(
            manager,
            "idx_notifications_user_id_created_at",
            Notifications::Table,
            [Notifications::UserId, Notifications::CreatedAt],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Deliveries::Table)
                    .col(big_pk_auto(Deliveries::Id))
                    .col(big_integer(Deliveries::NotificationId))
                    .col(string_len(Deliveries::Channel, ENUM_LEN))
                    .col(string_len(Deliveries::Status, ENUM_LEN))
                    .col(integer(Deliveries::Attempts).default(0))
                    .col(text_null(Deliveries::LastError))
                    .col(timestamp_with_time_zone_null(Deliveries::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(Deliveries::DeliveredAt))
                    .col(timestamp_with_time_zone(Deliveries::CreatedAt))
                    .col(timestamp_with_time_zone(Deliveries::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_deliveries_notification_id")
                            .from(Deliveries::Table, Deliveries::NotificationId)
                            .to(Notifications::Table, Notifications::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
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
        create_index(
            manager,
            "idx_deliveries_status",
            Deliveries::Table,
            [Deliveries::Status],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(big_pk_auto(Outbox::Id))
                    .col(string_len(Outbox::Topic, 64))
                    .col(json_binary(Outbox::Payload))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(Outbox::RelayedAt))
                    .col(integer(Outbox::Attempts).default(0))
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "idx_outbox_relayed_at",
            Outbox::Table,
            [Outbox::RelayedAt],
            false,
        )
        .await?;

        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Outbox::Table.into_iden(),
            Deliveries::Table.into_iden(),
            Notifications::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    Kind,
    DedupeKey,
    Title,
    Body,
    Payload,
    Held,
    CreatedAt,
    ReadAt,
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    Id,
    NotificationId,
    Channel,
    Status,
    Attempts,
    LastError,
    NextAttemptAt,
    DeliveredAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Topic,
    Payload,
    CreatedAt,
    RelayedAt,
    Attempts,
}
