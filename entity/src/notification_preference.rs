use sea_orm::entity::prelude::*;

use crate::Weekday;

/// Times of day are "HH:MM" in the user's `time_zone`.
#[sea_orm::compact_model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_preferences")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    #[sea_orm(default_value = false)]
    pub daily_enabled: bool,
    #[sea_orm(column_type = "String(StringLen::N(5))", default_value = "08:00")]
    pub daily_time: String,
    #[sea_orm(default_value = false)]
    pub weekly_enabled: bool,
    #[sea_orm(default_value = "MONDAY")]
    pub weekly_day: Weekday,
    #[sea_orm(column_type = "String(StringLen::N(5))", default_value = "08:00")]
    pub weekly_time: String,
    #[sea_orm(default_value = false)]
    pub live_enabled: bool,
    /// JSON array of `MatchEventKind` strings, e.g. `["GOAL", "RED_CARD"]`.
    #[sea_orm(column_type = "JsonBinary", default_value = "[]")]
    pub live_kinds: Json,
    /// Alerts when a followed team's match is moved, postponed or cancelled.
    #[sea_orm(default_value = true)]
    pub schedule_change_enabled: bool,
    /// Keep results from this user until they reveal a match.
    #[sea_orm(default_value = false)]
    pub spoiler_free: bool,
    /// Seconds (0 to 120) that live alerts and signed-in subscriptions are
    /// held back after what they tell happened, so that nothing beats the
    /// broadcast the fan watches.
    #[sea_orm(default_value = 0)]
    pub stream_delay_seconds: i32,
    #[sea_orm(column_type = "String(StringLen::N(5))", nullable)]
    pub quiet_start: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(5))", nullable)]
    pub quiet_end: Option<String>,
    #[sea_orm(default_value = false)]
    pub email_enabled: bool,
    #[sea_orm(default_value = false)]
    pub webhook_enabled: bool,
    #[sea_orm(default_value = true)]
    pub in_app_enabled: bool,
    /// Web Push to every browser the user subscribed; on by default, since
    /// subscribing a browser is the opt-in.
    #[sea_orm(default_value = true)]
    pub web_push_enabled: bool,
    #[sea_orm(column_type = "Text", nullable)]
    pub webhook_url: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub webhook_secret: Option<String>,
    pub updated_at: DateTimeUtc,
    /// When the daily digest next falls due; null when not known yet (new,
    /// or the preferences or time zone changed), for the dispatcher to work
    /// out. Indexed together with `daily_enabled`, which the dispatcher
    /// asks first.
    pub next_daily_at: Option<DateTimeUtc>,
    /// As `next_daily_at`, for the weekly digest.
    pub next_weekly_at: Option<DateTimeUtc>,
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
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
