//! The worker, end to end: digests, live alerts, kick-off reminders and
//! schedule changes, delivered by email to a real SMTP server, by signed
//! webhook to a real HTTP receiver, and to the in-app inbox.

mod alert_kinds;
mod alerts;
mod digests;
mod email;
mod follows;
mod lineups;
mod operations;
mod reminders;
mod schedule_changes;
mod spoilers;
mod stream_delay;
mod web_push;
mod webhooks;

use chrono::{DateTime, Utc};
use entity::{UserRole, football_match, season, team};
use serde_json::{Value, json};

use test_support::accounts::{self, Account};
use test_support::{TestApp, seed};

/// A league, two teams, an admin and a feeder.
pub struct World {
    pub season: season::Model,
    pub home: team::Model,
    pub away: team::Model,
    pub admin: Account,
    pub feed: Account,
}

pub async fn world(app: &TestApp) -> World {
    let season = seed::season(&app.db).await;
    let home = seed::team(&app.db, "Arsenal", "arsenal").await;
    let away = seed::team(&app.db, "Chelsea", "chelsea").await;
    let admin = accounts::create(&app.db, "admin@example.com", UserRole::Admin).await;
    let feed = accounts::create(&app.db, "feed@example.com", UserRole::Feed).await;
    World {
        season,
        home,
        away,
        admin,
        feed,
    }
}

impl World {
    /// A fixture written straight to the database (no outbox row, no reminder).
    pub async fn fixture(&self, app: &TestApp, kickoff_at: DateTime<Utc>) -> football_match::Model {
        seed::fixture(&app.db, &self.season, &self.home, &self.away, kickoff_at).await
    }

    /// A result written straight to the database.
    pub async fn result(
        &self,
        app: &TestApp,
        kickoff_at: DateTime<Utc>,
        score: (i32, i32),
    ) -> football_match::Model {
        seed::finished_match(
            &app.db,
            &self.season,
            &self.home,
            &self.away,
            kickoff_at,
            score,
            (0, 0),
        )
        .await
    }

    /// Sends a digest through the admin mutation.
    pub async fn send_digest(&self, app: &TestApp, kind: &str, user_id: i64, as_of: &str) -> Value {
        app.ok(&self.admin.token,
            "mutation($k: DigestKind!, $u: ID!, $t: DateTime) {
               sendDigest(kind: $k, userId: $u, asOf: $t) { outcome period notification { id kind title body payload } }
             }",
            json!({ "k": kind, "u": user_id.to_string(), "t": as_of }),
        )
        .await["sendDigest"]
            .clone()
    }

    /// A match between the home and away teams that kicks off in two
    /// hours, scheduled and started by the feed; returns its id.
    pub async fn live_match(&self, app: &TestApp) -> String {
        self.live_match_between(app, (self.home.id, self.away.id))
            .await
    }

    /// A match of the world's league between `teams` (home, away), kicked
    /// off by the feed; returns its id.
    pub async fn live_match_between(&self, app: &TestApp, teams: (i64, i64)) -> String {
        let kickoff = Utc::now() + chrono::Duration::hours(2);
        let feed = &self.feed.token;
        let match_id = app
            .schedule_match(feed, self.season.id, teams, kickoff)
            .await;
        app.start_match(feed, &match_id).await;
        match_id
    }

    /// Deliveries as an admin sees them, newest first.
    pub async fn deliveries(&self, app: &TestApp, status: Option<&str>) -> Vec<Value> {
        app.ok(&self.admin.token,
            "query($s: DeliveryStatus) {
               deliveries(status: $s, first: 100) {
                 nodes { id channel status attempts lastError deliveredAt userId notification { id kind title } }
               }
             }",
            json!({ "s": status }),
        )
        .await["deliveries"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

/// A fan who follows the home team, with these preferences.
pub async fn fan(
    app: &TestApp,
    world: &World,
    email: &str,
    preferences: Value,
) -> (Account, Value) {
    let fan = accounts::user(&app.db, email).await;
    let payload = test_support::notify::set_preferences(app, &fan.token, preferences).await;
    test_support::notify::follow(app, &fan.token, world.home.id).await;
    (fan, payload)
}

/// A websocket signed in as `fan` with `notificationReceived { selection }`
/// open on it (as id `1`).
pub async fn notifications_socket(
    app: &TestApp,
    fan: &Account,
    selection: &str,
) -> test_support::ws::Socket {
    use test_support::ws::{open, send};
    let mut socket = open(
        app,
        json!({ "authorization": format!("Bearer {}", fan.token) }),
    )
    .await;
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe",
                "payload": { "query": format!("subscription {{ notificationReceived {{ {selection} }} }}") } }),
    )
    .await;
    socket
}

pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

/// Waits until the worker has relayed every outbox row.
pub async fn wait_for_outbox(app: &TestApp) {
    use entity::outbox;
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
    test_support::notify::wait_for(30, "the outbox to be relayed", || async {
        let pending = outbox::Entity::find()
            .filter(outbox::Column::RelayedAt.is_null())
            .all(&app.db)
            .await
            .unwrap();
        pending.is_empty().then_some(())
    })
    .await;
}
