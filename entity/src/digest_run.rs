use sea_orm::entity::prelude::*;

use crate::NotificationKind;

/// One digest period handled for one user: unique per `(user, kind, period)`,
/// so a digest is never sent twice. `notification_id` is null when there was
/// nothing to report.
#[sea_orm::compact_model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "digest_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub kind: NotificationKind,
    /// The user's local date (`2026-03-29`) or ISO week (`2026-W13`).
    #[sea_orm(column_type = "String(StringLen::N(16))")]
    pub period: String,
    pub notification_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
