use sea_orm_migration::{prelude::*, schema::*};

use crate::{ENUM_LEN, create_index};

/// Digest runs make `(user, kind, period)` unique, whether the run produced
/// a digest or found nothing to report; and notifications held back in quiet
/// hours remember the digest they were folded into.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DigestRuns::Table)
                    .col(big_pk_auto(DigestRuns::Id))
                    .col(big_integer(DigestRuns::UserId))
                    .col(string_len(DigestRuns::Kind, ENUM_LEN))
                    .col(string_len(DigestRuns::Period, 16))
                    .col(big_integer_null(DigestRuns::NotificationId))
                    .col(timestamp_with_time_zone(DigestRuns::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_digest_runs_user_id")
                            .from(DigestRuns::Table, DigestRuns::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_digest_runs_notification_id")
                            .from(DigestRuns::Table, DigestRuns::NotificationId)
                            .to(Notifications::Table, Notifications::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "uq_digest_runs_user_id_kind_period",
            DigestRuns::Table,
            [DigestRuns::UserId, DigestRuns::Kind, DigestRuns::Period],
            true,
        )
        .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Notifications::Table)
                    .add_column(big_integer_null(Notifications::FoldedIntoId))
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "idx_notifications_user_id_held",
            Notifications::Table,
            [Notifications::UserId, Notifications::Held],
            false,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_notifications_user_id_held")
                    .table(Notifications::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Notifications::Table)
                    .drop_column(Notifications::FoldedIntoId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(DigestRuns::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum DigestRuns {
    Table,
    Id,
    UserId,
    Kind,
    Period,
    NotificationId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    Held,
    FoldedIntoId,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
