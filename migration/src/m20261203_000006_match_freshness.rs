use sea_orm_migration::{prelude::*, schema::*};

/// When a match last had an event, and how often its schedule changed:
/// clients poll on the first, calendar feeds send the second as the
/// `SEQUENCE` of the match's event.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds only one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Matches::Table)
                    .add_column(timestamp_with_time_zone_null(Matches::LastEventAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Matches::Table)
                    .add_column(integer(Matches::ScheduleRevision).default(0))
                    .to_owned(),
            )
            .await?;
        // Matches that already have events get the time of their latest.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE matches SET last_event_at = \
                 (SELECT MAX(created_at) FROM match_events WHERE match_events.match_id = matches.id)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Matches::ScheduleRevision, Matches::LastEventAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Matches::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Matches {
    Table,
    LastEventAt,
    ScheduleRevision,
}
