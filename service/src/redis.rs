//! The Redis connection used by the bus and the readiness probe.

use std::time::Duration;

use fred::clients::SubscriberClient;
use fred::prelude::*;

use crate::config::RedisUrl;

/// Clients that reconnect by themselves, forever, with capped backoff.
fn builder(url: &RedisUrl) -> anyhow::Result<Builder> {
    let config = Config::from_url(url.expose())
        .map_err(|e| anyhow::anyhow!("REDIS_URL: {url} is not usable: {e}"))?;
    let mut builder = Builder::from_config(config);
    builder
        .with_connection_config(|c| {
            c.connection_timeout = Duration::from_secs(5);
        })
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2));
    Ok(builder)
}

/// A command connection, for publishing and the readiness probe.
pub async fn connect(url: &RedisUrl) -> anyhow::Result<Client> {
    let client = builder(url)?
        .build()
        .map_err(|e| anyhow::anyhow!("REDIS_URL: {url} is not usable: {e}"))?;
    client
        .init()
        .await
        .map_err(|e| anyhow::anyhow!("REDIS_URL: cannot connect to {url}: {e}"))?;
    Ok(client)
}

/// True when Redis answers PING within `timeout`.
pub async fn is_reachable(client: &Client, timeout: Duration) -> bool {
    let ping = client.ping::<String>(None);
    matches!(tokio::time::timeout(timeout, ping).await, Ok(Ok(_)))
}

/// A PubSub connection.
pub async fn subscriber(url: &RedisUrl) -> anyhow::Result<SubscriberClient> {
    let client = builder(url)?
        .build_subscriber_client()
        .map_err(|e| anyhow::anyhow!("REDIS_URL: {url} is not usable: {e}"))?;
    client
        .init()
        .await
        .map_err(|e| anyhow::anyhow!("REDIS_URL: cannot connect to {url}: {e}"))?;
    Ok(client)
}
