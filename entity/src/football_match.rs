use sea_orm::entity::prelude::*;

use crate::MatchStatus;

#[sea_orm::compact_model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "matches")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub season_id: i64,
    /// For example "Matchday 1" or "Quarter-final".
    #[sea_orm(column_type = "Text", nullable)]
    pub round: Option<String>,
    pub matchday: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub stage: Option<String>,
    /// The group within a group stage, e.g. "Group A"; none outside one.
    /// Defaulted so that bus messages from an older release decode.
    #[sea_orm(column_type = "Text", nullable)]
    #[serde(default)]
    pub group_name: Option<String>,
    pub home_team_id: i64,
    pub away_team_id: i64,
    pub kickoff_at: DateTimeUtc,
    /// False when the source gave only a date, so the time of day in
    /// `kickoff_at` is a placeholder.
    #[sea_orm(default_value = true)]
    pub kickoff_time_known: bool,
    pub status: MatchStatus,
    pub home_score: Option<i32>,
    pub away_score: Option<i32>,
    pub half_time_home: Option<i32>,
    pub half_time_away: Option<i32>,
    pub extra_time_home: Option<i32>,
    pub extra_time_away: Option<i32>,
    pub penalties_home: Option<i32>,
    pub penalties_away: Option<i32>,
    pub minute: Option<i32>,
    #[sea_orm(default_value = 0)]
    pub last_event_seq: i32,
    #[sea_orm(column_type = "String(StringLen::N(64))", nullable)]
    pub external_source: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(128))", nullable)]
    pub external_ref: Option<String>,
    pub created_at: DateTimeUtc,
    /// Any change to the row: a schedule change, an event, the clock.
    pub updated_at: DateTimeUtc,
    /// When the latest event was recorded; none before the first.
    /// Defaulted so that bus messages from an older release decode.
    #[serde(default)]
    pub last_event_at: Option<DateTimeUtc>,
    /// Bumped each time the match is moved, postponed or cancelled; a
    /// calendar feed sends it as the event's `SEQUENCE`.
    #[sea_orm(default_value = 0)]
    #[serde(default)]
    pub schedule_revision: i32,
}

// Two relations lead to `team`, so there is no `Related<team::Entity>`;
// join through `Relation::HomeTeam` or `Relation::AwayTeam` explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::season::Entity",
        from = "Column::SeasonId",
        to = "super::season::Column::Id",
        on_delete = "Cascade"
    )]
    Season,
    #[sea_orm(
        belongs_to = "super::team::Entity",
        from = "Column::HomeTeamId",
        to = "super::team::Column::Id",
        on_delete = "Restrict"
    )]
    HomeTeam,
    #[sea_orm(
        belongs_to = "super::team::Entity",
        from = "Column::AwayTeamId",
        to = "super::team::Column::Id",
        on_delete = "Restrict"
    )]
    AwayTeam,
    #[sea_orm(has_many = "super::match_event::Entity")]
    MatchEvent,
}

impl Related<super::season::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Season.def()
    }
}

impl Related<super::match_event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::MatchEvent.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
