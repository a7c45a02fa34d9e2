use sea_orm_migration::{prelude::*, schema::*};

/// A per-fan stream delay: how many seconds (0 to 120) a fan's live alerts
/// and signed-in subscriptions are held back so that nothing beats the
/// broadcast they watch. (A held-back alert joins the inbox when its in-app
/// delivery says it was delivered: no column of its own.)
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(NotificationPreferences::Table)
                    .add_column(integer(NotificationPreferences::StreamDelaySeconds).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(NotificationPreferences::Table)
                    .drop_column(NotificationPreferences::StreamDelaySeconds)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum NotificationPreferences {
    Table,
    StreamDelaySeconds,
}
