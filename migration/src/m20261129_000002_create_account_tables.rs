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
                    .table(Users::Table)
                    .col(big_pk_auto(Users::Id))
                    .col(text_uniq(Users::Email))
                    .col(text(Users::DisplayName))
                    .col(text(Users::PasswordHash))
                    .col(string_len(Users::Role, ENUM_LEN).default("USER"))
                    .col(string_len(Users::TimeZone, 64).default("UTC"))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(big_pk_auto(ApiTokens::Id))
                    .col(big_integer(ApiTokens::UserId))
                    .col(string_len_uniq(ApiTokens::TokenHash, 128))
                    .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                    .col(timestamp_with_time_zone(ApiTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_tokens_user_id")
                            .from(ApiTokens::Table, ApiTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "idx_api_tokens_user_id",
            ApiTokens::Table,
            [ApiTokens::UserId],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Follows::Table)
                    .col(big_integer(Follows::UserId))
                    .col(big_integer(Follows::TeamId))
                    .col(timestamp_with_time_zone(Follows::CreatedAt))
                    .primary_key(Index::create().col(Follows::UserId).col(Follows::TeamId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_follows_user_id")
                            .from(Follows::Table, Follows::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_follows_team_id")
                            .from(Follows::Table, Follows::TeamId)
                            .to(Teams::Table, Teams::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The primary key already serves lookups by user; this one serves
        // "followers of a team".
        create_index(
            manager,
            "idx_follows_team_id",
            Follows::Table,
            [Follows::TeamId],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(NotificationPreferences::Table)
                    .col(big_integer(NotificationPreferences::UserId).primary_key())
                    .col(boolean(NotificationPreferences::DailyEnabled).default(false))
                    .col(string_len(NotificationPreferences::DailyTime, 5).default("08:00"))
                    .col(boolean(NotificationPreferences::WeeklyEnabled).default(false))
                    .col(string_len(NotificationPreferences::WeeklyDay, ENUM_LEN).default("MONDAY"))
                    .col(string_len(NotificationPreferences::WeeklyTime, 5).default("08:00"))
                    .col(boolean(NotificationPreferences::LiveEnabled).default(false))
                    .col(json_binary(NotificationPreferences::LiveKinds).default("[]"))
                    .col(string_len_null(NotificationPreferences::QuietStart, 5))
                    .col(string_len_null(NotificationPreferences::QuietEnd, 5))
                    .col(boolean(NotificationPreferences::EmailEnabled).default(false))
                    .col(boolean(NotificationPreferences::WebhookEnabled).default(false))
                    .col(boolean(NotificationPreferences::InAppEnabled).default(true))
                    .col(text_null(NotificationPreferences::WebhookUrl))
                    .col(text_null(NotificationPreferences::WebhookSecret))
                    .col(timestamp_with_time_zone(NotificationPreferences::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notification_preferences_user_id")
                            .from(
                                NotificationPreferences::Table,
                                NotificationPreferences::UserId,
                            )
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            NotificationPreferences::Table.into_iden(),
            Follows::Table.into_iden(),
            ApiTokens::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    DisplayName,
    PasswordHash,
    Role,
    TimeZone,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    UserId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Follows {
    Table,
    UserId,
    TeamId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum NotificationPreferences {
    Table,
    UserId,
    DailyEnabled,
    DailyTime,
    WeeklyEnabled,
    WeeklyDay,
    WeeklyTime,
    LiveEnabled,
    LiveKinds,
    QuietStart,
    QuietEnd,
    EmailEnabled,
    WebhookEnabled,
    InAppEnabled,
    WebhookUrl,
    WebhookSecret,
    UpdatedAt,
}
