use sea_orm::entity::prelude::*;

#[sea_orm::compact_model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "teams")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_type = "Text", indexed)]
    pub name: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub short_name: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(3))", nullable)]
    pub tla: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub area: Option<String>,
    pub founded: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub venue: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub crest_url: Option<String>,
    #[sea_orm(column_type = "Text", unique)]
    pub slug: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

// A team plays in matches both at home and away, so there is no single
// `Related<football_match::Entity>`; use `Relation::HomeMatch` / `AwayMatch`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        has_many = "super::football_match::Entity",
        via_rel = "Relation::HomeTeam"
    )]
    HomeMatch,
    #[sea_orm(
        has_many = "super::football_match::Entity",
        via_rel = "Relation::AwayTeam"
    )]
    AwayMatch,
    #[sea_orm(has_many = "super::match_event::Entity")]
    MatchEvent,
    #[sea_orm(has_many = "super::points_adjustment::Entity")]
    PointsAdjustment,
    #[sea_orm(has_many = "super::follow::Entity")]
    Follow,
}

impl Related<super::match_event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::MatchEvent.def()
    }
}

impl Related<super::points_adjustment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PointsAdjustment.def()
    }
}

impl Related<super::follow::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Follow.def()
    }
}

/// The team's followers.
impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        super::follow::Relation::User.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::follow::Relation::Team.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
