use sea_orm_migration::{prelude::*, schema::*};

use crate::create_index;

/// Jobs that failed every attempt, kept for admins to see, whichever
/// queue backend ran them.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DeadJobs::Table)
                    .col(big_pk_auto(DeadJobs::Id))
                    .col(string_len(DeadJobs::Queue, 32))
                    .col(json_binary(DeadJobs::Job))
                    .col(integer(DeadJobs::Attempts))
                    .col(text(DeadJobs::LastError))
                    .col(timestamp_with_time_zone(DeadJobs::FailedAt))
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "idx_dead_jobs_failed_at",
            DeadJobs::Table,
            [DeadJobs::FailedAt],
            false,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DeadJobs::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum DeadJobs {
    Table,
    Id,
    Queue,
    Job,
    Attempts,
    LastError,
    FailedAt,
}
