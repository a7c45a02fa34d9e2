use sea_orm::entity::prelude::*;

#[sea_orm::compact_model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "seasons")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub competition_id: i64,
    /// For example "2023/24"; unique within the competition.
    #[sea_orm(column_type = "Text")]
    pub label: String,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::competition::Entity",
        from = "Column::CompetitionId",
        to = "super::competition::Column::Id",
        on_delete = "Cascade"
    )]
    Competition,
    #[sea_orm(has_many = "super::football_match::Entity")]
    Match,
    #[sea_orm(has_many = "super::points_adjustment::Entity")]
    PointsAdjustment,
}

impl Related<super::competition::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Competition.def()
    }
}

impl Related<super::football_match::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Match.def()
    }
}

impl Related<super::points_adjustment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PointsAdjustment.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
