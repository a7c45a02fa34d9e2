//! Enums stored as varchar columns. Each `string_value` is the stored form and
//! is spelled out rather than derived so renaming a variant never changes data.
//! Serde uses the same spelling, so JSON (such as
//! `notification_preference.live_kinds`) matches what the columns hold.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompetitionKind {
    #[sea_orm(string_value = "LEAGUE")]
    League,
    #[sea_orm(string_value = "CUP")]
    Cup,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MatchStatus {
    #[sea_orm(string_value = "SCHEDULED")]
    Scheduled,
    #[sea_orm(string_value = "LIVE")]
    Live,
    #[sea_orm(string_value = "HALF_TIME")]
    HalfTime,
    #[sea_orm(string_value = "EXTRA_TIME")]
    ExtraTime,
    #[sea_orm(string_value = "PENALTIES")]
    Penalties,
    #[sea_orm(string_value = "FINISHED")]
    Finished,
    #[sea_orm(string_value = "POSTPONED")]
    Postponed,
    #[sea_orm(string_value = "SUSPENDED")]
    Suspended,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MatchEventKind {
    /// A team's line-up was announced or changed (set with `setLineup`).
    #[sea_orm(string_value = "LINEUPS")]
    Lineups,
    #[sea_orm(string_value = "KICK_OFF")]
    KickOff,
    #[sea_orm(string_value = "GOAL")]
    Goal,
    #[sea_orm(string_value = "OWN_GOAL")]
    OwnGoal,
    #[sea_orm(string_value = "PENALTY_GOAL")]
    PenaltyGoal,
    #[sea_orm(string_value = "MISSED_PENALTY")]
    MissedPenalty,
    /// The referee gave a penalty (`team_id` is who takes it).
    #[sea_orm(string_value = "PENALTY_AWARDED")]
    PenaltyAwarded,
    /// The video assistant referee is checking an incident (`detail`).
    #[sea_orm(string_value = "VAR_CHECK")]
    VarCheck,
    /// What a VAR check decided (`detail`, e.g. "Goal stands").
    #[sea_orm(string_value = "VAR_DECISION")]
    VarDecision,
    #[sea_orm(string_value = "YELLOW_CARD")]
    YellowCard,
    #[sea_orm(string_value = "SECOND_YELLOW")]
    SecondYellow,
    #[sea_orm(string_value = "RED_CARD")]
    RedCard,
    #[sea_orm(string_value = "SUBSTITUTION")]
    Substitution,
    #[sea_orm(string_value = "HALF_TIME")]
    HalfTime,
    #[sea_orm(string_value = "SECOND_HALF")]
    SecondHalf,
    #[sea_orm(string_value = "EXTRA_TIME")]
    ExtraTime,
    #[sea_orm(string_value = "PENALTY_SHOOTOUT")]
    PenaltyShootout,
    #[sea_orm(string_value = "FULL_TIME")]
    FullTime,
    #[sea_orm(string_value = "CORRECTION")]
    Correction,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserRole {
    #[sea_orm(string_value = "USER")]
    User,
    #[sea_orm(string_value = "FEED")]
    Feed,
    #[sea_orm(string_value = "ADMIN")]
    Admin,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Weekday {
    #[sea_orm(string_value = "MONDAY")]
    Monday,
    #[sea_orm(string_value = "TUESDAY")]
    Tuesday,
    #[sea_orm(string_value = "WEDNESDAY")]
    Wednesday,
    #[sea_orm(string_value = "THURSDAY")]
    Thursday,
    #[sea_orm(string_value = "FRIDAY")]
    Friday,
    #[sea_orm(string_value = "SATURDAY")]
    Saturday,
    #[sea_orm(string_value = "SUNDAY")]
    Sunday,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NotificationKind {
    #[sea_orm(string_value = "DAILY_DIGEST")]
    DailyDigest,
    #[sea_orm(string_value = "WEEKLY_DIGEST")]
    WeeklyDigest,
    #[sea_orm(string_value = "LIVE_EVENT")]
    LiveEvent,
    #[sea_orm(string_value = "CORRECTION")]
    Correction,
    #[sea_orm(string_value = "KICKOFF_REMINDER")]
    KickoffReminder,
    #[sea_orm(string_value = "SCHEDULE_CHANGE")]
    ScheduleChange,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryChannel {
    #[sea_orm(string_value = "EMAIL")]
    Email,
    #[sea_orm(string_value = "WEBHOOK")]
    Webhook,
    #[sea_orm(string_value = "IN_APP")]
    InApp,
    #[sea_orm(string_value = "WEB_PUSH")]
    WebPush,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryStatus {
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "DELIVERED")]
    Delivered,
    #[sea_orm(string_value = "FAILED")]
    Failed,
    #[sea_orm(string_value = "DEAD")]
    Dead,
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ActiveEnum, Iterable};
    use serde::{Serialize, de::DeserializeOwned};
    use std::fmt::Debug;

    fn serde_matches_stored_form<E>()
    where
        E: ActiveEnum<Value = String> + Iterable + Serialize + DeserializeOwned + PartialEq + Debug,
    {
        for variant in E::iter() {
            let stored = variant.to_value();
            let json = serde_json::to_value(&variant).unwrap();
            assert_eq!(
                json,
                serde_json::Value::String(stored.clone()),
                "{variant:?}"
            );
            assert_eq!(serde_json::from_value::<E>(json).unwrap(), variant);
            assert_eq!(E::try_from_value(&stored).unwrap(), variant);
        }
    }

    #[test]
    fn every_enum_serialises_to_the_same_string_it_is_stored_as() {
        serde_matches_stored_form::<CompetitionKind>();
        serde_matches_stored_form::<MatchStatus>();
        serde_matches_stored_form::<MatchEventKind>();
        serde_matches_stored_form::<UserRole>();
        serde_matches_stored_form::<Weekday>();
        serde_matches_stored_form::<NotificationKind>();
        serde_matches_stored_form::<DeliveryChannel>();
        serde_matches_stored_form::<DeliveryStatus>();
    }
}
