use sea_orm_migration::{prelude::*, schema::*};

/// The in-app channel becomes a column of the notification, `shown_at`
/// (when it joins the inbox), instead of a delivery row of its own. An
/// in-app delivery could not fail or be retried, so the row only recorded
/// when it was shown, and cost a crowd's alert a second row, with its
/// indexes and foreign key, for every fan.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each in-app delivery's time moves onto its notification; the same
/// statement on PostgreSQL and SQLite.
const SHOWN_AT_FROM_DELIVERIES: &str = "UPDATE notifications SET shown_at = \
     (SELECT MIN(d.delivered_at) FROM deliveries d \
      WHERE d.notification_id = notifications.id AND d.channel = 'IN_APP') \
     WHERE held = FALSE";

/// Back down: an in-app delivery for each notification shown.
const DELIVERIES_FROM_SHOWN_AT: &str = "INSERT INTO deliveries \
     (notification_id, channel, status, attempts, delivered_at, created_at, updated_at) \
     SELECT id, 'IN_APP', 'DELIVERED', 1, shown_at, created_at, created_at \
     FROM notifications WHERE shown_at IS NOT NULL";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Notifications::Table)
                    .add_column(timestamp_with_time_zone_null(Notifications::ShownAt))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(SHOWN_AT_FROM_DELIVERIES).await?;
        db.execute_unprepared("DELETE FROM deliveries WHERE channel = 'IN_APP'")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(DELIVERIES_FROM_SHOWN_AT)
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Notifications::Table)
                    .drop_column(Notifications::ShownAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    ShownAt,
}
