//! GraphQL object types. They wrap entity models; the entities themselves
//! know nothing of GraphQL.

mod competition;
pub mod delivery;
mod football_match;
mod head_to_head;
mod lineup;
mod match_event;
mod match_list;
mod notification;
mod preferences;
mod scorers;
mod stages;
mod standings;
mod team;
mod user;

pub use competition::{Competition, CompetitionKind, Season};
pub use football_match::{Match, MatchStatus, Score, ScorePair};
pub use head_to_head::HeadToHead;
pub use lineup::{Lineup, LineupPlayer};
pub use match_event::{MatchEvent, MatchEventKind};
pub use match_list::{MatchConnection, MatchFilter, MatchOrder, match_connection};
pub use notification::{Notification, NotificationCursor, NotificationKind, NotificationPage};
pub use preferences::{
    LiveAlertKind, NotificationPreferences, NotificationPreferencesInput,
    RotateWebhookSecretPayload, UpdateNotificationPreferencesPayload, Weekday,
};
pub use scorers::{PlayerStats, scorers as season_scorers};
pub use stages::{
    BracketRound, Stage, StageKind, StageTable, Tie, TieDecision, TieScore, TieStatus,
    bracket as knockout_bracket, season_bracket,
};
pub use standings::{
    Outcome, RankingCriterion, StandingRow, TableChoice, table as standings_table,
    tables as standings_tables,
};
pub use team::{Team, TeamConnection, TeamTotal};
pub use user::{
    AuthPayload, CompetitionFollow, Follow, MatchFollow, Role, User, UserSummary,
    WebPushSubscription, match_follows,
};
