//! The Redis connections of the bus, the shared rate limits and the
//! readiness probe (the job queues connect through apalis-redis).

use std::time::Duration;

use fred::clients::SubscriberClient;
use fred::prelude::*;

use crate::config::RedisUrl;

/// rustls needs one process-wide crypto provider, and with more than one
/// compiled in (the test tools bring aws-lc-rs) it cannot pick by itself:
/// ring, the one the rest of the tree uses.
pub fn install_tls_provider() {
    // Err: one is installed already, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Clients that reconnect by themselves, forever, with capped backoff.
fn builder(url: &RedisUrl) -> anyhow::Result<Builder> {
    if url.is_tls() {
        install_tls_provider();
    }
    let var = url.var();
    let config = Config::from_url(url.expose())
        .map_err(|e| anyhow::anyhow!("{var}: {url} is not usable: {e}"))?;
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
    let var = url.var();
    let client = builder(url)?
        .build()
        .map_err(|e| anyhow::anyhow!("{var}: {url} is not usable: {e}"))?;
    client
        .init()
        .await
        .map_err(|e| anyhow::anyhow!("{var}: cannot connect to {url}: {e}"))?;
    Ok(client)
}

/// True when Redis answers PING within `timeout`.
pub async fn is_reachable(client: &Client, timeout: Duration) -> bool {
    let ping = client.ping::<String>(None);
    matches!(tokio::time::timeout(timeout, ping).await, Ok(Ok(_)))
}

/// A PubSub connection.
pub async fn subscriber(url: &RedisUrl) -> anyhow::Result<SubscriberClient> {
    let var = url.var();
    let client = builder(url)?
        .build_subscriber_client()
        .map_err(|e| anyhow::anyhow!("{var}: {url} is not usable: {e}"))?;
    client
        .init()
        .await
        .map_err(|e| anyhow::anyhow!("{var}: cannot connect to {url}: {e}"))?;
    Ok(client)
}
