use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A team's line-up for a match, as the feed last sent it.
#[sea_orm::compact_model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lineups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub match_id: i64,
    pub team_id: i64,
    /// Outfield lines from the back, e.g. `4-2-3-1`.
    #[sea_orm(column_type = "String(StringLen::N(16))", nullable)]
    pub formation: Option<String>,
    /// The starting eleven, as a list of [`LineupPlayer`].
    #[sea_orm(column_type = "JsonBinary")]
    pub starters: Json,
    /// The substitutes, as a list of [`LineupPlayer`].
    #[sea_orm(column_type = "JsonBinary")]
    pub bench: Json,
    pub updated_at: DateTimeUtc,
}

/// One player in a line-up, as stored in `starters` and `bench`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineupPlayer {
    pub shirt_number: i32,
    pub name: String,
    /// Free text such as `GK`, `CB` or `LW`.
    pub position: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::football_match::Entity",
        from = "Column::MatchId",
        to = "super::football_match::Column::Id",
        on_delete = "Cascade"
    )]
    Match,
    #[sea_orm(
        belongs_to = "super::team::Entity",
        from = "Column::TeamId",
        to = "super::team::Column::Id",
        on_delete = "Cascade"
    )]
    Team,
}

impl ActiveModelBehavior for ActiveModel {}
