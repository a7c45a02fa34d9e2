//! The Redis connection used by the bus and the readiness probe.

use std::time::Duration;

use fred::clients::SubscriberClient;
use fred::prelude::*;

use crate::config::RedisUrl;

/// A client that reconnects by itself, forever, with capped backoff.
pub async fn connect(url: &RedisUrl) -> anyhow::Result<Client> {
    let config = Config::from_url(url.expose())
        .map_err(|e| anyhow::anyhow!("REDIS_URL: {url} is not usable: {e}"))?;
    let client = Builder::from_config(config)
        .with_connection_config(|c| {
            c.connection_timeout = Duration::from_secs(5);
        })
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2))
        .build()
        .map_err(|e| anyhow::anyhow!("REDIS_URL: {url} is not usable: {e}"))?;
    client
        .init()
        .await
        .map_err(|e| anyhow::anyhow!("REDIS_URL: cannot connect to {url}: {e}"))?;
    Ok(client)
}

/// True when Redis answers PING within a second.
pub async fn is_reachable(client: &Client) -> bool {
    let ping = client.ping::<String>(None);
    matches!(
        tokio::time::timeout(Duration::from_secs(1), ping).await,
        Ok(Ok(_))
    )
}

/// A PubSub connection that reconnects by itself, forever.
pub async fn subscriber(url: &RedisUrl) -> anyhow::Result<SubscriberClient> {
    let config = Config::from_url(url.expose())
        .map_err(|e| anyhow::anyhow!("REDIS_URL: {url} is not usable: {e}"))?;
    let client = Builder::from_config(config)
        .with_connection_config(|c| {
            c.connection_timeout = Duration::from_secs(5);
        })
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2))
        .build_subscriber_client()
        .map_err(|e| anyhow::anyhow!("REDIS_URL: {url} is not usable: {e}"))?;
    client
        .init()
        .await
        .map_err(|e| anyhow::anyhow!("REDIS_URL: cannot connect to {url}: {e}"))?;
    Ok(client)
}
