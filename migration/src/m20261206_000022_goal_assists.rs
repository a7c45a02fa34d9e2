use sea_orm_migration::{prelude::*, schema::*};

/// Who made a goal, as the feed names them, so that a season's scorers
/// list counts assists.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MatchEvents::Table)
                    .add_column(text_null(MatchEvents::Assist))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MatchEvents::Table)
                    .drop_column(MatchEvents::Assist)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum MatchEvents {
    Table,
    Assist,
}
