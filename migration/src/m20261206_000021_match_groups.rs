use sea_orm_migration::{prelude::*, schema::*};

/// The group a match of a group stage belongs to ("Group A"), so that a
/// stage with groups has one table per group.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Matches::Table)
                    .add_column(text_null(Matches::GroupName))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Matches::Table)
                    .drop_column(Matches::GroupName)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Matches {
    Table,
    GroupName,
}
