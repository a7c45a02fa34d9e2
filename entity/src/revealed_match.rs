use sea_orm::entity::prelude::*;

/// A match whose result a spoiler-free user chose to see.
#[sea_orm::compact_model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "revealed_matches")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub match_id: i64,
    pub revealed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
    #[sea_orm(
        belongs_to = "super::football_match::Entity",
        from = "Column::MatchId",
        to = "super::football_match::Column::Id",
        on_delete = "Cascade"
    )]
    Match,
}

impl ActiveModelBehavior for ActiveModel {}
