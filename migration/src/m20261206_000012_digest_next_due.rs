use sea_orm_migration::{prelude::*, schema::*};

/// When each user's next daily and weekly digest falls due, as an instant:
/// the dispatcher reads only the users whose time has come (or is not
/// known yet: null), through an index, instead of every user each minute.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds only one at a time.
        for column in [
            NotificationPreferences::NextDailyAt,
            NotificationPreferences::NextWeeklyAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(NotificationPreferences::Table)
                        .add_column(timestamp_with_time_zone_null(column))
                        .to_owned(),
                )
                .await?;
        }
        for (name, column) in [
            (
                "idx_notification_preferences_next_daily_at",
                NotificationPreferences::NextDailyAt,
            ),
            (
                "idx_notification_preferences_next_weekly_at",
                NotificationPreferences::NextWeeklyAt,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(NotificationPreferences::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "idx_notification_preferences_next_daily_at",
            "idx_notification_preferences_next_weekly_at",
        ] {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(NotificationPreferences::Table)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            NotificationPreferences::NextWeeklyAt,
            NotificationPreferences::NextDailyAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(NotificationPreferences::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum NotificationPreferences {
    Table,
    NextDailyAt,
    NextWeeklyAt,
}
