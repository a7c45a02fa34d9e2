use sea_orm_migration::{prelude::*, schema::*};

use crate::create_index;

/// Each outbox row names the match it is about, so that workers side by
/// side take a match's rows one at a time, in order: a fan is told of a
/// goal before the one after it, whichever worker is free.
#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "idx_outbox_match_id_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(big_integer_null(Outbox::MatchId))
                    .to_owned(),
            )
            .await?;
        // Rows still waiting keep their order too; every topic so far
        // carries `match_id` in its payload.
        let from_payload = match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => "(payload->>'match_id')::bigint",
            _ => "json_extract(payload, '$.match_id')",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "UPDATE outbox SET match_id = {from_payload} WHERE relayed_at IS NULL"
            ))
            .await?;
        let columns = [Outbox::MatchId, Outbox::Id];
        create_index(manager, INDEX, Outbox::Table, columns, false).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Outbox::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .drop_column(Outbox::MatchId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    MatchId,
}
