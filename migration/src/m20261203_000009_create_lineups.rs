use sea_orm_migration::{prelude::*, schema::*};

/// A team's line-up for a match: formation, starting eleven and bench, one
/// per team and match, replaced whole when the feed sends it again.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Lineups::Table)
                    .col(big_pk_auto(Lineups::Id))
                    .col(big_integer(Lineups::MatchId))
                    .col(big_integer(Lineups::TeamId))
                    .col(string_len_null(Lineups::Formation, 16))
                    .col(json_binary(Lineups::Starters))
                    .col(json_binary(Lineups::Bench))
                    .col(timestamp_with_time_zone(Lineups::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_lineups_match_id")
                            .from(Lineups::Table, Lineups::MatchId)
                            .to(Matches::Table, Matches::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_lineups_team_id")
                            .from(Lineups::Table, Lineups::TeamId)
                            .to(Teams::Table, Teams::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        crate::create_index(
            manager,
            "ux_lineups_match_team",
            Lineups::Table,
            [Lineups::MatchId, Lineups::TeamId],
            true,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Lineups::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Lineups {
    Table,
    Id,
    MatchId,
    TeamId,
    Formation,
    Starters,
    Bench,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Matches {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
}
