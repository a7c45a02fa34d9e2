use sea_orm_migration::{prelude::*, schema::*};

/// Outbox rows are claimed, not just read: a worker holds a row it works
/// on until `locked_until`, a failed row waits until `next_attempt_at`
/// (a backoff), and a row that failed every attempt is dead-lettered at
/// `dead_at` with its `last_error`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds only one at a time.
        for column in [Outbox::LockedUntil, Outbox::NextAttemptAt, Outbox::DeadAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Outbox::Table)
                        .add_column(timestamp_with_time_zone_null(column))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(text_null(Outbox::LastError))
                    .to_owned(),
            )
            .await?;
        // Rows an older release gave up on (attempts used up) are dead.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE outbox SET dead_at = created_at WHERE relayed_at IS NULL AND attempts >= 10",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Outbox::LastError,
            Outbox::DeadAt,
            Outbox::NextAttemptAt,
            Outbox::LockedUntil,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Outbox::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    LockedUntil,
    NextAttemptAt,
    DeadAt,
    LastError,
}
