use sea_orm_migration::{prelude::*, schema::*};

/// Spoiler-free mode: a preference that keeps results from a user until
/// they reveal a match, and the matches each user revealed.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(NotificationPreferences::Table)
                    .add_column(boolean(NotificationPreferences::SpoilerFree).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RevealedMatches::Table)
                    .col(big_integer(RevealedMatches::UserId))
                    .col(big_integer(RevealedMatches::MatchId))
                    .col(timestamp_with_time_zone(RevealedMatches::RevealedAt))
                    .primary_key(
                        Index::create()
                            .col(RevealedMatches::UserId)
                            .col(RevealedMatches::MatchId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_revealed_matches_user_id")
                            .from(RevealedMatches::Table, RevealedMatches::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_revealed_matches_match_id")
                            .from(RevealedMatches::Table, RevealedMatches::MatchId)
                            .to(Matches::Table, Matches::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RevealedMatches::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(NotificationPreferences::Table)
                    .drop_column(NotificationPreferences::SpoilerFree)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum NotificationPreferences {
    Table,
    SpoilerFree,
}

#[derive(DeriveIden)]
enum RevealedMatches {
    Table,
    UserId,
    MatchId,
    RevealedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Matches {
    Table,
    Id,
}
