use sea_orm::entity::prelude::*;

use crate::MatchEventKind;

#[sea_orm::compact_model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "match_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub match_id: i64,
    /// Position in the match's event stream; unique per match.
    pub seq: i32,
    pub kind: MatchEventKind,
    pub minute: Option<i32>,
    pub added_time: Option<i32>,
    pub team_id: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub player: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub detail: Option<String>,
    /// Who made a goal, by name as the feed records it.
    /// Defaulted so that bus messages from an older release decode.
    #[sea_orm(column_type = "Text", nullable)]
    #[serde(default)]
    pub assist: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(128))", nullable)]
    pub external_id: Option<String>,
    #[sea_orm(default_value = false)]
    pub cancelled: bool,
    #[sea_orm(column_type = "Text", nullable)]
    pub cancelled_reason: Option<String>,
    /// The event a `CORRECTION` cancels.
    pub corrects_event_id: Option<i64>,
    pub created_at: DateTimeUtc,
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
        on_delete = "Restrict"
    )]
    Team,
    #[sea_orm(
        belongs_to = "Entity",
        from = "Column::CorrectsEventId",
        to = "Column::Id",
        on_delete = "SetNull"
    )]
    CorrectsEvent,
}

impl Related<super::football_match::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Match.def()
    }
}

impl Related<super::team::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Team.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
