use sea_orm_migration::prelude::*;

/// The dispatcher asks for users with a digest turned on whose next due
/// time has come or is not known yet. Indexed on the due time alone, the
/// "not known yet" half also matched every user with that digest turned
/// off (their due time stays unset), so each idle tick read them all. With
/// the switch first, a tick reads only the users who may be due.
#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &str, NotificationPreferences, NotificationPreferences); 2] = [
    (
        "idx_notification_preferences_next_daily_at",
        "idx_notification_preferences_daily_due",
        NotificationPreferences::DailyEnabled,
        NotificationPreferences::NextDailyAt,
    ),
    (
        "idx_notification_preferences_next_weekly_at",
        "idx_notification_preferences_weekly_due",
        NotificationPreferences::WeeklyEnabled,
        NotificationPreferences::NextWeeklyAt,
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (old, new, enabled, next) in INDEXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(old)
                        .table(NotificationPreferences::Table)
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name(new)
                        .table(NotificationPreferences::Table)
                        .col(enabled)
                        .col(next)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (old, new, _, next) in INDEXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(new)
                        .table(NotificationPreferences::Table)
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name(old)
                        .table(NotificationPreferences::Table)
                        .col(next)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum NotificationPreferences {
    Table,
    DailyEnabled,
    NextDailyAt,
    WeeklyEnabled,
    NextWeeklyAt,
}
