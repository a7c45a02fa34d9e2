use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{competition_follow, follow, match_follow, user};
use sea_orm::DatabaseConnection;

use super::notification::{Notification, NotificationCursor, NotificationPage};
use super::preferences::LiveAlertKind;
use super::preferences::NotificationPreferences;
use super::{Competition, Match, Team};
use crate::graphql::error::{GqlResultExt as _, bad_input};
use crate::graphql::loaders::{Competitions, Teams, load_one};

/// What an account may do. Everyone starts as `USER`.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "entity::UserRole")]
pub enum Role {
    /// Follows teams and receives notifications.
    User,
    /// Also writes fixtures, match events and corrections.
    Feed,
    /// Also changes roles.
    Admin,
}

/// The signed-in account, as its owner sees it. It is reachable only
/// through `me`, `register` and `login`, each of which answers with the
/// caller's own account, so its follows, preferences and notifications are
/// always the caller's.
pub struct User(pub user::Model);

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Lower-cased as stored.
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    /// IANA time zone that digests and local times use.
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The teams this account follows, oldest follow first.
    async fn follows(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Follow>> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let follows = service::accounts::follows::list(db, self.0.id)
            .await
            .gql()?;
        Ok(follows.into_iter().map(Follow).collect())
    }
    /// The browsers subscribed to Web Push for this account, oldest first.
    async fn web_push_subscriptions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<WebPushSubscription>> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let subscriptions = service::notifications::web_push::of_user(db, self.0.id)
            .await
            .gql()?;
        Ok(subscriptions.into_iter().map(WebPushSubscription).collect())
    }
    /// The competitions this account follows, oldest follow first.
    async fn competition_follows(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<CompetitionFollow>> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let follows = service::accounts::follows::competitions(db, self.0.id)
            .await
            .gql()?;
        Ok(follows.into_iter().map(CompetitionFollow).collect())
    }
    /// The single matches this account follows, oldest follow first.
    async fn match_follows(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<MatchFollow>> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let follows = service::accounts::follows::matches(db, self.0.id)
            .await
            .gql()?;
        match_follows(db, follows).await
    }
    async fn preferences(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<NotificationPreferences> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let prefs = service::accounts::preferences::get(db, self.0.id)
            .await
            .gql()?;
        Ok(NotificationPreferences(prefs))
    }
    /// The in-app inbox, newest first.
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false, desc = "Only notifications not yet read.")] unread_only: bool,
        #[graphql(default = 20, desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Connection<NotificationCursor, Notification, NotificationPage>> {
        let first = u64::try_from(first)
            .ok()
            .filter(|n| (1..=service::accounts::inbox::MAX_PAGE).contains(n))
            .ok_or_else(|| {
                bad_input(
                    "first",
                    format!(
                        "must be between 1 and {}",
                        service::accounts::inbox::MAX_PAGE
                    ),
                )
            })?;
        let after = after
            .as_deref()
            .map(|cursor| {
                NotificationCursor::decode(cursor)
                    .ok_or_else(|| bad_input("after", "is not a cursor from this connection"))
            })
            .transpose()?;
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let page =
            service::accounts::inbox::page(db, self.0.id, unread_only, first, after.map(|c| c.0))
                .await
                .gql()?;
        let mut connection = Connection::with_additional_fields(
            page.has_previous_page,
            page.has_next_page,
            NotificationPage {
                total_count: i32::try_from(page.total_count).unwrap_or(i32::MAX),
            },
        );
        connection.edges.extend(
            page.items
                .into_iter()
                .map(|n| Edge::new(NotificationCursor(n.id), Notification(n))),
        );
        Ok(connection)
    }
    /// Notifications in the inbox not yet read.
    async fn unread_notification_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let count = service::accounts::inbox::unread_count(db, self.0.id)
            .await
            .gql()?;
        Ok(i32::try_from(count).unwrap_or(i32::MAX))
    }
}

/// Another account, as an admin sees it after changing it.
#[derive(SimpleObject)]
pub struct UserSummary {
    pub id: ID,
    pub email: String,
    pub display_name: String,
    pub role: Role,
}

impl From<user::Model> for UserSummary {
    fn from(user: user::Model) -> Self {
        Self {
            id: ID(user.id.to_string()),
            email: user.email,
            display_name: user.display_name,
            role: user.role.into(),
        }
    }
}

/// A team the account follows.
pub struct Follow(pub follow::Model);

#[Object]
impl Follow {
    async fn team(&self, ctx: &Context<'_>) -> async_graphql::Result<Team> {
        load_one::<Teams>(ctx, self.0.team_id).await.map(Team)
    }
    /// The live alerts this follow asks for; null when your preferences
    /// (`liveAlerts.kinds`) decide.
    async fn alert_kinds(&self) -> Option<Vec<LiveAlertKind>> {
        alert_kinds(self.0.live_kinds.as_ref())
    }
    async fn followed_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A competition the account follows: every match of it.
pub struct CompetitionFollow(pub competition_follow::Model);

#[Object]
impl CompetitionFollow {
    async fn competition(&self, ctx: &Context<'_>) -> async_graphql::Result<Competition> {
        load_one::<Competitions>(ctx, self.0.competition_id)
            .await
            .map(Competition)
    }
    /// The live alerts this follow asks for; null when your preferences
    /// (`liveAlerts.kinds`) decide.
    async fn alert_kinds(&self) -> Option<Vec<LiveAlertKind>> {
        alert_kinds(self.0.live_kinds.as_ref())
    }
    async fn followed_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// One match the account follows.
pub struct MatchFollow {
    pub follow: match_follow::Model,
    pub game: Match,
}

#[Object]
impl MatchFollow {
    #[graphql(name = "match")]
    async fn game(&self) -> &Match {
        &self.game
    }
    /// The live alerts this follow asks for; null when your preferences
    /// (`liveAlerts.kinds`) decide.
    async fn alert_kinds(&self) -> Option<Vec<LiveAlertKind>> {
        alert_kinds(self.follow.live_kinds.as_ref())
    }
    async fn followed_at(&self) -> DateTime<Utc> {
        self.follow.created_at
    }
}

fn alert_kinds(stored: Option<&serde_json::Value>) -> Option<Vec<LiveAlertKind>> {
    service::accounts::follows::kinds_of(stored).map(|kinds| {
        kinds
            .into_iter()
            .filter_map(LiveAlertKind::from_stored)
            .collect()
    })
}

/// Each match follow with its match, the matches read in one statement.
pub async fn match_follows(
    db: &DatabaseConnection,
    follows: Vec<match_follow::Model>,
) -> async_graphql::Result<Vec<MatchFollow>> {
    let ids: Vec<i64> = follows.iter().map(|f| f.match_id).collect();
    let models = service::matches::by_ids(db, &ids).await.gql()?;
    let mut games: std::collections::HashMap<i64, Match> = Match::page(db, models, None)
        .into_iter()
        .map(|m| (m.model.id, m))
        .collect();
    Ok(follows
        .into_iter()
        .filter_map(|follow| {
            let game = games.remove(&follow.match_id)?;
            Some(MatchFollow { follow, game })
        })
        .collect())
}

/// A signed-in session. `token` goes in `Authorization: Bearer …`; it is
/// shown this once and stored only as a hash.
#[derive(SimpleObject)]
pub struct AuthPayload {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

/// A browser subscribed to Web Push. Its keys are not shown: only the
/// browser needs them.
pub struct WebPushSubscription(pub entity::web_push_subscription::Model);

#[Object]
impl WebPushSubscription {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The push service's URL for the browser.
    async fn endpoint(&self) -> &str {
        &self.0.endpoint
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
