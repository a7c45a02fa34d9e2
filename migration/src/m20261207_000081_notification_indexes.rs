use sea_orm_migration::prelude::*;

use crate::create_index;

/// A crowd's alert writes a notification for every fan, so every index on
/// `notifications` is paid 100,000 times a goal. Two of them did not earn
/// it:
/// - `(user_id, held)` indexed every row to find the few that quiet hours
///   held back for the next digest: it is now on those rows alone.
/// - `(user_id, created_at)` was read by nothing; the inbox lists a
///   user's notifications newest first by id, which `(user_id, id)` gives
///   in order, for the same cost per row.
#[derive(DeriveMigrationName)]
pub struct Migration;

const HELD_BEFORE: &str = "idx_notifications_user_id_held";
const HELD: &str = "idx_notifications_held_user_id";
const NEWEST_BEFORE: &str = "idx_notifications_user_id_created_at";
const NEWEST: &str = "idx_notifications_user_id_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_index(manager, HELD_BEFORE).await?;
        manager
            .create_index(
                Index::create()
                    .name(HELD)
                    .table(Notifications::Table)
                    .col(Notifications::UserId)
                    // The bare column, as `digest::held_of` filters: a
                    // partial index serves only a query whose condition
                    // implies the index's, and a bound `held = $1` does
                    // not, for a plan cached before the value is known.
                    .and_where(Expr::col(Notifications::Held))
                    .to_owned(),
            )
            .await?;
        drop_index(manager, NEWEST_BEFORE).await?;
        by_user(manager, NEWEST, Notifications::Id).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_index(manager, NEWEST).await?;
        by_user(manager, NEWEST_BEFORE, Notifications::CreatedAt).await?;
        drop_index(manager, HELD).await?;
        by_user(manager, HELD_BEFORE, Notifications::Held).await
    }
}

async fn drop_index(manager: &SchemaManager<'_>, name: &str) -> Result<(), DbErr> {
    manager
        .drop_index(
            Index::drop()
                .name(name)
                .table(Notifications::Table)
                .to_owned(),
        )
        .await
}

/// An index on the user's id and `second`.
async fn by_user(
    manager: &SchemaManager<'_>,
    name: &str,
    second: Notifications,
) -> Result<(), DbErr> {
    let columns = [Notifications::UserId, second];
    create_index(manager, name, Notifications::Table, columns, false).await
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    Held,
    CreatedAt,
}
