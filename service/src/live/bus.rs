//! The event bus: how a change committed by one api process reaches the
//! subscriptions of every api process. One small trait, two transports:
//! in-process for the embedded default, Redis PubSub across replicas.
//! Either way, each process routes messages to its own subscriptions by
//! topic (a match, a user, every match), so an event wakes only the
//! subscriptions that care about it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use entity::{football_match, match_event};
use fred::clients::SubscriberClient;
use fred::prelude::*;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

use prometheus_client::metrics::gauge::Gauge;

use crate::config::RedisUrl;

/// How many messages a slow subscription may fall behind before it is told
/// it lagged (and refills from the database), per kind of topic. A topic's
/// channel allocates this many slots while anyone listens to it.
const ALL_MATCHES_CAPACITY: usize = 4096;
const MATCH_CAPACITY: usize = 1024;
const USER_CAPACITY: usize = 16;

/// What a local subscription listens to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Changes to one match and its events.
    Match(i64),
    /// Changes to any match.
    AllMatches,
    /// One user's new notifications.
    User(i64),
}

impl Topic {
    fn capacity(self) -> usize {
        match self {
            Topic::Match(_) => MATCH_CAPACITY,
            Topic::AllMatches => ALL_MATCHES_CAPACITY,
            Topic::User(_) => USER_CAPACITY,
        }
    }
}

/// How many committed changes may wait to be published. Past that, new
/// ones are dropped (and logged): subscribers refill them from the database.
const OUTGOING_CAPACITY: usize = 4096;

/// Longest one publish may take, building its message included. A publish
/// that takes longer is given up, so a bus that is down cannot pile up
/// work; the subscribers' sequence refill covers what it carried.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(2);

/// A message to publish, built once its turn comes, and when it was
/// handed over.
type Outgoing = (std::time::Instant, BoxFuture<'static, Option<BusMessage>>);

/// A change that subscriptions may care about.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BusMessage {
    /// A match changed; `event` is set when the change was a match event.
    Match {
        #[serde(rename = "match")]
        football_match: Box<football_match::Model>,
        competition_id: i64,
        /// Boxed, as the match is, so that the other messages stay small.
        event: Option<Box<match_event::Model>>,
    },
    /// A user has a new in-app notification.
    Notification { user_id: i64, notification_id: i64 },
    /// These users have new in-app notifications: one message for a batch
    /// of an alert's followers, so a crowd costs a few messages, not one
    /// per fan. Subscribers read what is new from the database.
    Notifications { user_ids: Vec<i64> },
    /// Something public changed that no topic carries (a team renamed, a
    /// season imported): only what remembers reads must hear it.
    Changed,
    /// What this user's bearer tokens stand for changed: one was revoked,
    /// the account was deleted, or its role or preferences changed. Every
    /// process forgets what it remembers of their tokens (see `Sessions`).
    Sessions { user_id: i64 },
}

/// What a local subscriber receives.
#[derive(Clone, Debug)]
pub enum Delivery {
    Message(Arc<BusMessage>),
    /// The transport reconnected and may have dropped messages meanwhile:
    /// every subscription refills from the database.
    Resync,
}

/// Carries messages between processes.
pub trait Transport: Send + Sync + 'static {
    fn publish<'a>(&'a self, message: &'a BusMessage) -> BoxFuture<'a, anyhow::Result<()>>;
}

/// How many counters the users' session changes are spread over. A
/// change to one user also moves the counter of the others who share it,
/// which costs each of them one more token check, never a stale answer.
const SESSION_COUNTERS: i64 = 4096;

/// What this process knows of changes to signed-in sessions, for whatever
/// remembers verified tokens (the api's `VerifiedTokens`): counters that
/// move on every change, one per group of users and one for everyone, and
/// whether every change made elsewhere reaches this process at all.
///
/// Whoever changes a user's sessions moves `any` first and then the
/// user's counter; a reader takes the user's counter first and then
/// `any`. So a change that a read may have missed moves either `any`
/// during the read or the user's counter after it (`Bus::sessions_stamp`).
struct Sessions {
    /// Even while the transport is known to carry every message to this
    /// process; odd while it may be dropping some (a Redis subscriber
    /// that lost its connection and has not subscribed again). Moves on
    /// each turn.
    trust: AtomicU64,
    /// Moves on every change to anyone's sessions and on each turn of `trust`.
    any: AtomicU64,
    users: Box<[AtomicU64]>,
}

impl Default for Sessions {
    fn default() -> Self {
        Self {
            trust: AtomicU64::new(0),
            any: AtomicU64::new(0),
            users: (0..SESSION_COUNTERS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl Sessions {
    fn counter(&self, user_id: i64) -> &AtomicU64 {
        // Ids are positive; `rem_euclid` keeps any i64 in range all the same.
        let index = usize::try_from(user_id.rem_euclid(SESSION_COUNTERS)).unwrap_or(0);
        &self.users[index]
    }

    fn changed(&self, user_id: i64) {
        self.any.fetch_add(1, Ordering::SeqCst);
        self.counter(user_id).fetch_add(1, Ordering::SeqCst);
    }

    /// From now on, changes made elsewhere may not reach this process.
    fn distrust(&self) {
        if self
            .trust
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                t.is_multiple_of(2).then_some(t + 1)
            })
            .is_ok()
        {
            self.any.fetch_add(1, Ordering::SeqCst);
            tracing::warn!(
                "the bus may miss session changes: bearer tokens are checked in the database \
                 until it has subscribed again"
            );
        }
    }

    /// From now on, every change made elsewhere reaches this process
    /// again (what was remembered before stays forgotten).
    fn trust(&self) {
        if self
            .trust
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                (!t.is_multiple_of(2)).then_some(t + 1)
            })
            .is_ok()
        {
            self.any.fetch_add(1, Ordering::SeqCst);
            tracing::info!("the bus carries session changes again");
        }
    }
}

/// Taken before a token is read from the database: see `Bus::sessions_mark`.
#[derive(Clone, Copy, Debug)]
pub struct SessionsMark {
    trust: u64,
    any: u64,
}

/// What a verified token was read under: the answer stands while
/// `Bus::sessions_current` says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionsStamp {
    trust: u64,
    user_id: i64,
    user: u64,
}

/// This process's subscriptions by topic: one broadcast channel per topic
/// that someone listens to, made on the first subscription and dropped
/// with the last.
#[derive(Default)]
struct Router {
    topics: Mutex<HashMap<Topic, broadcast::Sender<Delivery>>>,
    /// Moves on every public change this process hears of, and whenever
    /// it may have missed some.
    revision: AtomicU64,
    sessions: Sessions,
}

impl Router {
    fn subscribe(self: &Arc<Self>, topic: Topic) -> Subscription {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        let rx = topics
            .entry(topic)
            .or_insert_with(|| broadcast::channel(topic.capacity()).0)
            .subscribe();
        Subscription {
            rx: Some(rx),
            topic,
            router: self.clone(),
        }
    }

    fn senders(&self, wanted: impl Fn(&Topic) -> bool) -> Vec<broadcast::Sender<Delivery>> {
        let topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        topics
            .iter()
            .filter(|(topic, _)| wanted(topic))
            .map(|(_, sender)| sender.clone())
            .collect()
    }

    /// Hands a message to the subscriptions of its topics. Sending happens
    /// outside the lock, which only guards the map.
    fn route(&self, message: Arc<BusMessage>) {
        let senders = match &*message {
            BusMessage::Match { football_match, .. } => {
                self.revision.fetch_add(1, Ordering::AcqRel);
                let id = football_match.id;
                self.senders(|t| *t == Topic::Match(id) || *t == Topic::AllMatches)
            }
            BusMessage::Notification { user_id, .. } => {
                let id = *user_id;
                self.senders(|t| *t == Topic::User(id))
            }
            BusMessage::Notifications { user_ids } => {
                // Sorted by the writer; a lookup per open user topic.
                self.senders(|t| matches!(t, Topic::User(id) if user_ids.binary_search(id).is_ok()))
            }
            BusMessage::Changed => {
                self.revision.fetch_add(1, Ordering::AcqRel);
                return;
            }
            BusMessage::Sessions { user_id } => {
                self.sessions.changed(*user_id);
                return;
            }
        };
        for sender in senders {
            // No receivers: the last one left since; nothing to do.
            let _ = sender.send(Delivery::Message(message.clone()));
        }
    }

    /// Tells every subscription to refill from the database.
    fn resync(&self) {
        self.revision.fetch_add(1, Ordering::AcqRel);
        for sender in self.senders(|_| true) {
            let _ = sender.send(Delivery::Resync);
        }
    }
}

/// A subscription to one topic. Dropping the last one of a topic drops the
/// topic's channel.
pub struct Subscription {
    rx: Option<broadcast::Receiver<Delivery>>,
    topic: Topic,
    router: Arc<Router>,
}

impl Subscription {
    pub async fn recv(&mut self) -> Result<Delivery, broadcast::error::RecvError> {
        match &mut self.rx {
            Some(rx) => rx.recv().await,
            None => Err(broadcast::error::RecvError::Closed),
        }
    }

    /// Drops whatever has arrived and not been read, without waiting: for
    /// a listener that only needs to know that something changed, once.
    pub fn skip_waiting(&mut self) {
        let Some(rx) = &mut self.rx else { return };
        while !matches!(
            rx.try_recv(),
            Err(broadcast::error::TryRecvError::Empty | broadcast::error::TryRecvError::Closed)
        ) {}
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // Under the lock, so no one subscribes between the count and the removal.
        let mut topics = self.router.topics.lock().unwrap_or_else(|e| e.into_inner());
        drop(self.rx.take());
        if topics
            .get(&self.topic)
            .is_some_and(|sender| sender.receiver_count() == 0)
        {
            topics.remove(&self.topic);
        }
    }
}

/// The process's bus: publish after commit, subscribe to hear a topic.
///
/// Publishing never holds up the caller: a committed write is answered
/// from its commit, and one background task per process publishes in the
/// order the changes were handed over, each publish bounded in time.
#[derive(Clone)]
pub struct Bus {
    outgoing: mpsc::Sender<Outgoing>,
    router: Arc<Router>,
    lag: BusLag,
    /// For the few messages whose sender waits until they are out.
    transport: Arc<dyn Transport>,
}

/// How far behind the publishing is, for Prometheus.
#[derive(Clone, Default)]
pub struct BusLag {
    /// Seconds the last published change waited in this process, from
    /// its hand-over to the end of its publish.
    pub seconds: Gauge<f64, AtomicU64>,
    /// Changes handed over and not yet published.
    pub backlog: Gauge,
}

impl Bus {
    /// The embedded default: messages never leave the process.
    pub fn in_process() -> Self {
        let router = Arc::new(Router::default());
        Self::with_transport(Arc::new(InProcess(router.clone())), router)
    }

    fn with_transport(transport: Arc<dyn Transport>, router: Arc<Router>) -> Self {
        let (outgoing, mut queue) = mpsc::channel::<Outgoing>(OUTGOING_CAPACITY);
        let lag = BusLag::default();
        let (waited, backlog) = (lag.seconds.clone(), lag.backlog.clone());
        let publisher = transport.clone();
        // Ends when the last clone of the bus is dropped.
        tokio::spawn(async move {
            while let Some((handed_over, message)) = queue.recv().await {
                backlog.dec();
                let sent = tokio::time::timeout(PUBLISH_TIMEOUT, async {
                    match message.await {
                        Some(message) => transport.publish(&message).await,
                        None => Ok(()),
                    }
                })
                .await;
                waited.set(handed_over.elapsed().as_secs_f64());
                match sent {
                    Ok(Ok(())) => {}
                    Ok(Err(err)) => {
                        tracing::warn!(error = format!("{err:#}"), "publishing on the bus failed");
                    }
                    Err(_) => tracing::warn!(
                        timeout_ms = PUBLISH_TIMEOUT.as_millis() as u64,
                        "publishing on the bus timed out"
                    ),
                }
            }
        });
        Self {
            outgoing,
            router,
            lag,
            transport: publisher,
        }
    }

    /// Registers the bus's lag and backlog gauges.
    pub fn register_metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        registry.register(
            "bus_lag_seconds",
            "How long the last change published on the live bus waited in this process, \
             from its commit to the end of its publish",
            self.lag.seconds.clone(),
        );
        registry.register(
            "bus_backlog",
            "Committed changes waiting in this process to be published on the live bus",
            self.lag.backlog.clone(),
        );
    }

    /// Redis PubSub on `{prefix}:live`, publishing through `publisher`, with
    /// one subscriber connection for the whole process that reconnects and
    /// resubscribes by itself.
    pub async fn redis(publisher: Client, url: &RedisUrl, prefix: &str) -> anyhow::Result<Self> {
        let router = Arc::new(Router::default());
        let channel = format!("{prefix}:live");
        let subscriber = crate::redis::subscriber(url).await?;
        subscriber
            .subscribe(channel.clone())
            .await
            .map_err(|e| anyhow::anyhow!("{}: cannot subscribe to {channel}: {e}", url.var()))?;

        let mut messages = subscriber.message_rx();
        let forward = router.clone();
        tokio::spawn(async move {
            loop {
                match messages.recv().await {
                    Ok(message) => {
                        let Some(text) = message.value.as_string() else {
                            continue;
                        };
                        match serde_json::from_str::<BusMessage>(&text) {
                            Ok(parsed) => forward.route(Arc::new(parsed)),
                            Err(err) => tracing::warn!(error = %err, "unreadable bus message"),
                        }
                    }
                    // We fell behind Redis: whatever was skipped is in the database.
                    Err(broadcast::error::RecvError::Lagged(_)) => forward.resync(),
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        tokio::spawn(watch_subscriber(
            subscriber.clone(),
            channel.clone(),
            router.clone(),
        ));
        let transport = RedisTransport {
            client: publisher,
            channel,
            _subscriber: subscriber,
        };
        Ok(Self::with_transport(Arc::new(transport), router))
    }

    /// Tells every process that what `user_id`'s bearer tokens stand for
    /// changed (a token revoked, the account deleted, its role or
    /// preferences changed), once committed: this process forgets what it
    /// remembers of them at once, and the message is with the transport
    /// (Redis has it) before this returns, so that the other replicas
    /// forget them before the writer's client hears back, give or take
    /// their reading it off the socket. A publish that fails is logged; the
    /// others then forget within their entries' lifetime.
    pub async fn sessions_changed(&self, user_id: i64) {
        self.router.sessions.changed(user_id);
        let message = BusMessage::Sessions { user_id };
        match tokio::time::timeout(PUBLISH_TIMEOUT, self.transport.publish(&message)).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!(
                error = format!("{err:#}"),
                user_id,
                "publishing a session change on the bus failed"
            ),
            Err(_) => tracing::warn!(user_id, "publishing a session change on the bus timed out"),
        }
    }

    /// Taken before reading a bearer token from the database: what
    /// `sessions_stamp` compares with afterwards. `None` while the bus may
    /// miss changes made by other processes (its Redis subscriber is
    /// reconnecting): then nothing remembered about a token may be used.
    pub fn sessions_mark(&self) -> Option<SessionsMark> {
        let sessions = &self.router.sessions;
        let trust = sessions.trust.load(Ordering::SeqCst);
        let any = sessions.any.load(Ordering::SeqCst);
        trust
            .is_multiple_of(2)
            .then_some(SessionsMark { trust, any })
    }

    /// After a token of `user_id` was read, begun at `mark`: what the
    /// answer may be remembered under, or `None` if a change to anyone's
    /// sessions (or to the bus's trust) came meanwhile and it must not be.
    pub fn sessions_stamp(&self, mark: SessionsMark, user_id: i64) -> Option<SessionsStamp> {
        let sessions = &self.router.sessions;
        let user = sessions.counter(user_id).load(Ordering::SeqCst);
        let unchanged = sessions.any.load(Ordering::SeqCst) == mark.any
            && sessions.trust.load(Ordering::SeqCst) == mark.trust;
        unchanged.then_some(SessionsStamp {
            trust: mark.trust,
            user_id,
            user,
        })
    }

    /// Whether an answer remembered under `stamp` still stands: nothing
    /// changed the user's sessions since, and the bus was trusted all along.
    pub fn sessions_current(&self, stamp: &SessionsStamp) -> bool {
        let sessions = &self.router.sessions;
        sessions.trust.load(Ordering::SeqCst) == stamp.trust
            && sessions.counter(stamp.user_id).load(Ordering::SeqCst) == stamp.user
    }

    /// Hands a committed change over for publishing and returns at once.
    /// A failure is logged, not returned: the change is already stored, and
    /// subscribers recover it from the database when they see the gap or
    /// when the bus reconnects.
    pub fn publish(&self, message: BusMessage) {
        self.publish_with(async move { Some(message) });
    }

    /// Like `publish`, but waits for room in the queue rather than drop
    /// the change when the bus is backed up: for a writer that produces
    /// changes in bursts (a batch of alerts) and can afford to wait, where
    /// a dropped message would leave a subscriber unaware of a new row.
    pub async fn publish_waiting(&self, message: BusMessage) {
        let message: Outgoing = (
            std::time::Instant::now(),
            Box::pin(async move { Some(message) }),
        );
        self.lag.backlog.inc();
        if self.outgoing.send(message).await.is_err() {
            self.lag.backlog.dec();
            tracing::warn!("the bus is closed; a change was not published");
        }
    }

    /// Like `publish`, for a message that takes some work to build (say, a
    /// read): the work happens in the background, in publishing order.
    pub fn publish_with(
        &self,
        message: impl std::future::Future<Output = Option<BusMessage>> + Send + 'static,
    ) {
        // Counted before it is queued, so the publisher never counts it
        // out first.
        self.lag.backlog.inc();
        let handed_over = std::time::Instant::now();
        if self
            .outgoing
            .try_send((handed_over, Box::pin(message)))
            .is_err()
        {
            self.lag.backlog.dec();
            tracing::warn!("the bus is backed up; a change was not published");
        }
    }

    /// Tells every process that public data changed, this one at once (so
    /// a client reads its own write here) and the others through the
    /// transport. For writes that publish no `Match` message: the feed's
    /// catalogue and points adjustments.
    pub fn changed(&self) {
        self.note_change();
        self.publish(BusMessage::Changed);
    }

    /// Moves this process's revision at once, for a change whose own
    /// message will carry it to the others.
    pub fn note_change(&self) {
        self.router.revision.fetch_add(1, Ordering::AcqRel);
    }

    /// A number that moves whenever public data may have changed: a match
    /// message or `changed` from any process, or a reconnect of the
    /// transport (which may have dropped some). A result read while it
    /// stayed the same is still current, up to writes made without the bus.
    pub fn revision(&self) -> u64 {
        self.router.revision.load(Ordering::Acquire)
    }

    /// Hears `topic`'s messages from now on (and a `Resync` whenever the
    /// transport may have dropped some).
    pub fn subscribe(&self, topic: Topic) -> Subscription {
        self.router.subscribe(topic)
    }

    /// How many topics have subscriptions in this process.
    pub fn topics(&self) -> usize {
        self.router
            .topics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }
}

/// How long to wait between attempts to subscribe again.
const RESUBSCRIBE_PAUSE: Duration = Duration::from_millis(250);

/// Follows the Redis subscriber's connection: on an error or a reconnect,
/// the bus stops vouching for session changes from other processes, then
/// subscribes again (fred would, but this says when it is done) and
/// vouches again, and every subscription refills from the database, since
/// messages may have been dropped meanwhile.
async fn watch_subscriber(subscriber: SubscriberClient, channel: String, router: Arc<Router>) {
    let mut events = ConnectionEvents {
        errors: subscriber.error_rx(),
        reconnects: subscriber.reconnect_rx(),
        unresponsive: subscriber.unresponsive_rx(),
    };
    loop {
        let Some(mut reconnected) = events.next().await else {
            return;
        };
        router.sessions.distrust();
        loop {
            // What happened before this attempt, this attempt covers; what
            // happens after it starts waits for the next round.
            match events.drain() {
                Some(again) => reconnected |= again,
                None => return,
            }
            if subscriber.is_connected() {
                let subscribed =
                    tokio::time::timeout(PUBLISH_TIMEOUT, subscriber.subscribe(channel.clone()))
                        .await;
                if matches!(subscribed, Ok(Ok(()))) {
                    break;
                }
            }
            tokio::time::sleep(RESUBSCRIBE_PAUSE).await;
        }
        router.sessions.trust();
        if reconnected {
            tracing::info!("bus subscriber reconnected; subscriptions refill from the database");
        }
        router.resync();
    }
}

/// What fred says about a connection.
struct ConnectionEvents {
    errors: broadcast::Receiver<(fred::error::Error, Option<fred::types::config::Server>)>,
    reconnects: broadcast::Receiver<fred::types::config::Server>,
    unresponsive: broadcast::Receiver<fred::types::config::Server>,
}

impl ConnectionEvents {
    /// The next event: `Some(true)` for a reconnect; `None` once the client is gone.
    async fn next(&mut self) -> Option<bool> {
        use broadcast::error::RecvError::Closed;
        let (closed, reconnected) = tokio::select! {
            e = self.errors.recv() => {
                if let Ok((err, _)) = &e {
                    tracing::warn!(error = %err, "the bus subscriber's connection failed");
                }
                (matches!(e, Err(Closed)), false)
            }
            r = self.reconnects.recv() => (matches!(r, Err(Closed)), true),
            u = self.unresponsive.recv() => (matches!(u, Err(Closed)), false),
        };
        (!closed).then_some(reconnected)
    }

    /// Takes the events already waiting: `Some(true)` if one was a
    /// reconnect; `None` once the client is gone.
    fn drain(&mut self) -> Option<bool> {
        use broadcast::error::TryRecvError;
        fn drain<T: Clone>(rx: &mut broadcast::Receiver<T>) -> Option<bool> {
            let mut any = false;
            loop {
                match rx.try_recv() {
                    Ok(_) | Err(TryRecvError::Lagged(_)) => any = true,
                    Err(TryRecvError::Empty) => return Some(any),
                    Err(TryRecvError::Closed) => return None,
                }
            }
        }
        drain(&mut self.errors)?;
        drain(&mut self.unresponsive)?;
        drain(&mut self.reconnects)
    }
}

struct InProcess(Arc<Router>);

impl Transport for InProcess {
    fn publish<'a>(&'a self, message: &'a BusMessage) -> BoxFuture<'a, anyhow::Result<()>> {
        self.0.route(Arc::new(message.clone()));
        Box::pin(async { Ok(()) })
    }
}

struct RedisTransport {
    client: Client,
    channel: String,
    // Held so the subscriber connection lives as long as the bus.
    _subscriber: SubscriberClient,
}

impl Transport for RedisTransport {
    fn publish<'a>(&'a self, message: &'a BusMessage) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let payload = serde_json::to_string(message)?;
            let _: i64 = self.client.publish(self.channel.as_str(), payload).await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn match_changed(id: i64) -> BusMessage {
        let at = chrono::DateTime::UNIX_EPOCH;
        BusMessage::Match {
            football_match: Box::new(football_match::Model {
                id,
                season_id: 1,
                round: None,
                matchday: None,
                stage: None,
                group_name: None,
                home_team_id: 1,
                away_team_id: 2,
                kickoff_at: at,
                kickoff_time_known: true,
                status: entity::MatchStatus::Live,
                home_score: Some(0),
                away_score: Some(0),
                half_time_home: None,
                half_time_away: None,
                extra_time_home: None,
                extra_time_away: None,
                penalties_home: None,
                penalties_away: None,
                minute: Some(1),
                last_event_seq: 1,
                external_source: None,
                external_ref: None,
                created_at: at,
                updated_at: at,
                last_event_at: None,
                schedule_revision: 0,
            }),
            competition_id: 1,
            event: None,
        }
    }

    fn match_id(delivery: Delivery) -> Option<i64> {
        match delivery {
            Delivery::Message(message) => match &*message {
                BusMessage::Match { football_match, .. } => Some(football_match.id),
                BusMessage::Notification { .. }
                | BusMessage::Notifications { .. }
                | BusMessage::Changed
                | BusMessage::Sessions { .. } => None,
            },
            Delivery::Resync => None,
        }
    }

    #[tokio::test]
    async fn a_match_change_reaches_that_match_and_every_match_topics_only() {
        let bus = Bus::in_process();
        let mut one = bus.subscribe(Topic::Match(1));
        let mut two = bus.subscribe(Topic::Match(2));
        let mut all = bus.subscribe(Topic::AllMatches);
        let mut user = bus.subscribe(Topic::User(1));
        bus.publish(match_changed(1));
        bus.publish(BusMessage::Notification {
            user_id: 1,
            notification_id: 9,
        });
        assert_eq!(match_id(one.recv().await.unwrap()), Some(1));
        assert_eq!(match_id(all.recv().await.unwrap()), Some(1));
        assert!(matches!(
            user.recv().await.unwrap(),
            Delivery::Message(m) if matches!(*m, BusMessage::Notification { user_id: 1, .. })
        ));
        // Nothing was routed to match 2.
        assert!(two.rx.as_mut().unwrap().try_recv().is_err());
        assert!(one.rx.as_mut().unwrap().try_recv().is_err());
    }

    #[tokio::test]
    async fn the_revision_moves_on_public_changes_only() {
        let bus = Bus::in_process();
        let mut user = bus.subscribe(Topic::User(1));
        let start = bus.revision();
        bus.publish(BusMessage::Notification {
            user_id: 1,
            notification_id: 9,
        });
        user.recv().await.unwrap();
        assert_eq!(bus.revision(), start, "a notification is private");
        bus.changed();
        assert!(bus.revision() > start, "`changed` moves it at once");
        let after_changed = bus.revision();
        let mut one = bus.subscribe(Topic::Match(1));
        bus.publish(match_changed(1));
        one.recv().await.unwrap();
        assert!(bus.revision() > after_changed, "a match change moves it");
    }

    #[tokio::test]
    async fn a_session_stamp_stands_until_its_user_changes_or_the_bus_may_miss_changes() {
        let bus = Bus::in_process();
        let stamp = bus.sessions_stamp(bus.sessions_mark().unwrap(), 1).unwrap();
        assert!(bus.sessions_current(&stamp));
        bus.sessions_changed(2).await;
        assert!(bus.sessions_current(&stamp), "another user's change");

        bus.router.sessions.distrust();
        assert!(bus.sessions_mark().is_none());
        assert!(!bus.sessions_current(&stamp));
        bus.router.sessions.trust();
        assert!(
            !bus.sessions_current(&stamp),
            "what was read before stays forgotten"
        );

        let mark = bus.sessions_mark().unwrap();
        let fresh = bus.sessions_stamp(mark, 1).unwrap();
        assert!(bus.sessions_current(&fresh));
        bus.sessions_changed(1).await;
        assert!(!bus.sessions_current(&fresh));
        // Read while something changed: not to be remembered at all.
        assert!(bus.sessions_stamp(mark, 1).is_none());
    }

    #[tokio::test]
    async fn a_topic_lives_as_long_as_its_subscriptions() {
        let bus = Bus::in_process();
        let first = bus.subscribe(Topic::Match(7));
        let second = bus.subscribe(Topic::Match(7));
        assert_eq!(bus.topics(), 1);
        drop(first);
        assert_eq!(bus.topics(), 1);
        drop(second);
        assert_eq!(bus.topics(), 0);
        // Publishing to a topic nobody hears is fine.
        bus.publish(match_changed(7));
        assert_eq!(bus.topics(), 0);
    }
}
