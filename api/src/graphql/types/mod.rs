//! GraphQL object types. They wrap entity models; the entities themselves
//! know nothing of GraphQL.

mod football_match;
mod notification;
mod preferences;
mod team;
mod user;

pub use football_match::{Match, MatchStatus, Score, ScorePair};
pub use notification::{Notification, NotificationCursor, NotificationKind, NotificationPage};
pub use preferences::{
    LiveAlertKind, NotificationPreferences, NotificationPreferencesInput,
    RotateWebhookSecretPayload, UpdateNotificationPreferencesPayload, Weekday,
};
pub use team::Team;
pub use user::{AuthPayload, Follow, Role, User, UserSummary};
