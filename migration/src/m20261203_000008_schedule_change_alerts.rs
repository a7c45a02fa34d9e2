use sea_orm_migration::{prelude::*, schema::*};

/// Whether a user is told when a followed team's match is moved, postponed
/// or cancelled: on unless they turn it off, for existing users too.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(NotificationPreferences::Table)
                    .add_column(
                        boolean(NotificationPreferences::ScheduleChangeEnabled).default(true),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(NotificationPreferences::Table)
                    .drop_column(NotificationPreferences::ScheduleChangeEnabled)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum NotificationPreferences {
    Table,
    ScheduleChangeEnabled,
}
