use sea_orm_migration::{prelude::*, schema::*};

/// The secret in a user's calendar feed URL: one per user, stored as a
/// SHA-256 like the bearer tokens, gone with the user.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CalendarTokens::Table)
                    .col(big_integer(CalendarTokens::UserId).primary_key())
                    .col(string_len_uniq(CalendarTokens::TokenHash, 64))
                    .col(timestamp_with_time_zone(CalendarTokens::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_calendar_tokens_user_id")
                            .from(CalendarTokens::Table, CalendarTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CalendarTokens::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum CalendarTokens {
    Table,
    UserId,
    TokenHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
