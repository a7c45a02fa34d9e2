//! The event bus: how a change committed by one api process reaches the
//! subscriptions of every api process. One small trait, two transports:
//! in-process for the embedded default, Redis PubSub across replicas.
//! Either way, each process fans messages out to its own subscriptions
//! through one local broadcast channel.

use std::sync::Arc;
use std::time::Duration;

use entity::{football_match, match_event};
use fred::clients::SubscriberClient;
use fred::prelude::*;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

use crate::config::RedisUrl;

/// How many messages a slow subscription may fall behind before it is told
/// it lagged (and refills from the database).
const LOCAL_CAPACITY: usize = 4096;

/// How many committed changes may wait to be published. Past that, new
/// ones are dropped (and logged): subscribers refill them from the database.
const OUTGOING_CAPACITY: usize = 4096;

/// Longest one publish may take, building its message included. A publish
/// that takes longer is given up, so a bus that is down cannot pile up
/// work; the subscribers' sequence refill covers what it carried.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(2);

/// A message to publish, built once its turn comes.
type Outgoing = BoxFuture<'static, Option<BusMessage>>;

/// A change that subscriptions may care about.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BusMessage {
    /// A match changed; `event` is set when the change was a match event.
    Match {
        #[serde(rename = "match")]
        football_match: Box<football_match::Model>,
        competition_id: i64,
        event: Option<match_event::Model>,
    },
    /// A user has a new in-app notification.
    Notification { user_id: i64, notification_id: i64 },
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

/// The process's bus: publish after commit, subscribe to hear everything.
///
/// Publishing never holds up the caller: a committed write is answered
/// from its commit, and one background task per process publishes in the
/// order the changes were handed over, each publish bounded in time.
#[derive(Clone)]
pub struct Bus {
    outgoing: mpsc::Sender<Outgoing>,
    local: broadcast::Sender<Delivery>,
}

impl Bus {
    /// The embedded default: messages never leave the process.
    pub fn in_process() -> Self {
        let (local, _) = broadcast::channel(LOCAL_CAPACITY);
        Self::with_transport(Arc::new(InProcess(local.clone())), local)
    }

    fn with_transport(transport: Arc<dyn Transport>, local: broadcast::Sender<Delivery>) -> Self {
        let (outgoing, mut queue) = mpsc::channel::<Outgoing>(OUTGOING_CAPACITY);
        // Ends when the last clone of the bus is dropped.
        tokio::spawn(async move {
            while let Some(message) = queue.recv().await {
                let sent = tokio::time::timeout(PUBLISH_TIMEOUT, async {
                    match message.await {
                        Some(message) => transport.publish(&message).await,
                        None => Ok(()),
                    }
                })
                .await;
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
        Self { outgoing, local }
    }

    /// Redis PubSub on `{prefix}:live`, publishing through `publisher`, with
    /// one subscriber connection for the whole process that reconnects and
    /// resubscribes by itself.
    pub async fn redis(publisher: Client, url: &RedisUrl, prefix: &str) -> anyhow::Result<Self> {
        let (local, _) = broadcast::channel(LOCAL_CAPACITY);
        let channel = format!("{prefix}:live");
        let subscriber = crate::redis::subscriber(url).await?;
        subscriber
            .subscribe(channel.clone())
            .await
            .map_err(|e| anyhow::anyhow!("REDIS_URL: cannot subscribe to {channel}: {e}"))?;
        subscriber.manage_subscriptions();

        let mut messages = subscriber.message_rx();
        let forward = local.clone();
        tokio::spawn(async move {
            loop {
                match messages.recv().await {
                    Ok(message) => {
                        let Some(text) = message.value.as_string() else {
                            continue;
                        };
                        match serde_json::from_str::<BusMessage>(&text) {
                            Ok(parsed) => {
                                let _ = forward.send(Delivery::Message(Arc::new(parsed)));
                            }
                            Err(err) => tracing::warn!(error = %err, "unreadable bus message"),
                        }
                    }
                    // We fell behind Redis: whatever was skipped is in the database.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let _ = forward.send(Delivery::Resync);
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        let mut reconnects = subscriber.reconnect_rx();
        let resync = local.clone();
        tokio::spawn(async move {
            while reconnects.recv().await.is_ok() {
                tracing::info!(
                    "bus subscriber reconnected; subscriptions refill from the database"
                );
                let _ = resync.send(Delivery::Resync);
            }
        });
        let transport = RedisTransport {
            client: publisher,
            channel,
            _subscriber: subscriber,
        };
        Ok(Self::with_transport(Arc::new(transport), local))
    }

    /// Hands a committed change over for publishing and returns at once.
    /// A failure is logged, not returned: the change is already stored, and
    /// subscribers recover it from the database when they see the gap or
    /// when the bus reconnects.
    pub fn publish(&self, message: BusMessage) {
        self.publish_with(async move { Some(message) });
    }

    /// Like `publish`, for a message that takes some work to build (say, a
    /// read): the work happens in the background, in publishing order.
    pub fn publish_with(
        &self,
        message: impl std::future::Future<Output = Option<BusMessage>> + Send + 'static,
    ) {
        if self.outgoing.try_send(Box::pin(message)).is_err() {
            tracing::warn!("the bus is backed up; a change was not published");
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Delivery> {
        self.local.subscribe()
    }
}

struct InProcess(broadcast::Sender<Delivery>);

impl Transport for InProcess {
    fn publish<'a>(&'a self, message: &'a BusMessage) -> BoxFuture<'a, anyhow::Result<()>> {
        // No receivers is fine: nobody is subscribed right now.
        let _ = self.0.send(Delivery::Message(Arc::new(message.clone())));
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
