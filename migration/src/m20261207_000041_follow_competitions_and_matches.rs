use sea_orm_migration::{prelude::*, schema::*};

use crate::create_index;

/// Fans follow a whole competition or a single match as well as teams,
/// and each follow may carry its own alert kinds (null: the user's
/// preferences decide).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Follows::Table)
                    .add_column(json_binary_null(Follows::LiveKinds))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CompetitionFollows::Table)
                    .col(big_integer(CompetitionFollows::UserId))
                    .col(big_integer(CompetitionFollows::CompetitionId))
                    .col(json_binary_null(CompetitionFollows::LiveKinds))
                    .col(timestamp_with_time_zone(CompetitionFollows::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(CompetitionFollows::UserId)
                            .col(CompetitionFollows::CompetitionId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_competition_follows_user_id")
                            .from(CompetitionFollows::Table, CompetitionFollows::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_competition_follows_competition_id")
                            .from(CompetitionFollows::Table, CompetitionFollows::CompetitionId)
                            .to(Competitions::Table, Competitions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The primary key serves lookups by user; this one serves "followers
        // of a competition".
        create_index(
            manager,
            "idx_competition_follows_competition_id",
            CompetitionFollows::Table,
            [CompetitionFollows::CompetitionId],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(MatchFollows::Table)
                    .col(big_integer(MatchFollows::UserId))
                    .col(big_integer(MatchFollows::MatchId))
                    .col(json_binary_null(MatchFollows::LiveKinds))
                    .col(timestamp_with_time_zone(MatchFollows::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(MatchFollows::UserId)
                            .col(MatchFollows::MatchId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_match_follows_user_id")
                            .from(MatchFollows::Table, MatchFollows::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_match_follows_match_id")
                            .from(MatchFollows::Table, MatchFollows::MatchId)
                            .to(Matches::Table, Matches::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "idx_match_follows_match_id",
            MatchFollows::Table,
            [MatchFollows::MatchId],
            false,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MatchFollows::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(CompetitionFollows::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Follows::Table)
                    .drop_column(Follows::LiveKinds)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Follows {
    Table,
    LiveKinds,
}

#[derive(DeriveIden)]
enum CompetitionFollows {
    Table,
    UserId,
    CompetitionId,
    LiveKinds,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MatchFollows {
    Table,
    UserId,
    MatchId,
    LiveKinds,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Competitions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Matches {
    Table,
    Id,
}
