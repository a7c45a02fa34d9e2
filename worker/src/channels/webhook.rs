//! Webhooks: a JSON POST signed with the user's secret, so the receiver can
//! tell it came from us and was not replayed.
//!
//! `X-InTheGame-Signature` is `sha256=` and the hex HMAC-SHA256, keyed
//! with the webhook secret, of `{timestamp}.{body}`, where the timestamp
//! is `X-InTheGame-Timestamp` (Unix seconds). `X-InTheGame-Delivery` is the
//! same on every attempt of one delivery, for receivers that deduplicate.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use hmac::{Hmac, Mac as _};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde_json::json;
use service::notifications::deliveries::Claimed;
use service::notifications::webhook_targets::{PRIVATE_TARGET, WebhookTargets};
use sha2::Sha256;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub const TIMESTAMP_HEADER: &str = "X-InTheGame-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-InTheGame-Signature";
pub const DELIVERY_HEADER: &str = "X-InTheGame-Delivery";

/// Requests one worker process sends to one host at once. Deliveries to
/// many hosts go out side by side; one receiver is not flooded.
pub const PER_HOST: usize = 4;

/// Sends webhook deliveries.
#[derive(Clone)]
pub struct Webhooks {
    client: reqwest::Client,
    targets: WebhookTargets,
    hosts: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
}

impl Webhooks {
    pub fn new(timeout: Duration, targets: WebhookTargets) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect would send the signed body somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            // Connects only to the addresses the targets allow, whatever
            // the name resolved to when the URL was set.
            .dns_resolver(Arc::new(CheckedResolver(targets)))
            // A proxy would resolve the name itself, out of our sight.
            .no_proxy()
            .user_agent(concat!("InTheGame-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            targets,
            hosts: Arc::default(),
        })
    }

    /// The bound on requests to `host`; hosts nobody is sending to are
    /// forgotten, so the map stays as small as the traffic.
    fn host_slots(&self, host: &str) -> Arc<Semaphore> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        hosts.retain(|_, slots| Arc::strong_count(slots) > 1);
        hosts
            .entry(host.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(PER_HOST)))
            .clone()
    }

    /// Checks the delivery's target and waits for a free slot to its host.
    /// The caller checks that it may still send (its hold on the delivery
    /// may have run out while it waited) before it posts.
    pub async fn reserve(&self, claimed: &Claimed) -> Result<WebhookSlot, String> {
        let url = claimed
            .preferences
            .webhook_url
            .as_deref()
            .ok_or("the user has no webhook URL any more")?;
        let secret = claimed
            .preferences
            .webhook_secret
            .as_deref()
            .ok_or("the user has no webhook secret")?;
        // An address literal never reaches the resolver: check it here.
        let parsed = reqwest::Url::parse(url).ok();
        let host_allowed = parsed
            .as_ref()
            .and_then(|u| u.host().map(|h| self.targets.allows_host(&h)));
        if host_allowed != Some(true) {
            return Err(format!("POST {url}: refused: the URL {PRIVATE_TARGET}"));
        }
        let host = parsed
            .as_ref()
            .and_then(|u| {
                u.host_str()
                    .map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(0)))
            })
            .unwrap_or_default();
        let permit = self
            .host_slots(&host)
            .acquire_owned()
            .await
            .map_err(|_| "the webhook sender is shutting down".to_owned())?;
        Ok(WebhookSlot {
            client: self.client.clone(),
            url: url.to_owned(),
            secret: secret.to_owned(),
            _permit: permit,
        })
    }
}

/// A slot to one receiver's host, held until its answer.
pub struct WebhookSlot {
    client: reqwest::Client,
    url: String,
    secret: String,
    _permit: OwnedSemaphorePermit,
}

impl WebhookSlot {
    /// Posts one delivery; any answer but 2xx is a failure.
    pub async fn send(self, claimed: &Claimed) -> Result<(), String> {
        let (url, secret) = (&self.url, &self.secret);
        let notification = &claimed.notification;
        let body = json!({
            "deliveryId": claimed.delivery.id,
            "notification": {
                "id": notification.id,
                "kind": notification.kind,
                "title": notification.title,
                "body": notification.body,
                "payload": notification.payload,
                "createdAt": notification.created_at.to_rfc3339(),
            },
        })
        .to_string();
        let timestamp = Utc::now().timestamp().to_string();
        let response = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, &timestamp)
            .header(SIGNATURE_HEADER, signature(secret, &timestamp, &body))
            .header(DELIVERY_HEADER, claimed.delivery.id.to_string())
            .body(body)
            .send()
            .await
            .map_err(|e| format!("POST {url}: {}", outcome(&e, "webhook")))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("POST {url}: the receiver answered {status}"))
        }
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `{timestamp}.{body}`.
pub fn signature(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// What went wrong, in words that do not map the receiver's network: the
/// error's detail (a refused port, a DNS answer) goes to the log only.
/// Shared by the channels that post over the checked resolver.
pub(crate) fn outcome(err: &reqwest::Error, channel: &str) -> &'static str {
    let mut detail = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        if cause.is::<PrivateAddress>() {
            return "refused: the host resolves only to private network addresses";
        }
        detail = format!("{detail}: {cause}");
        source = cause.source();
    }
    tracing::info!(error = detail, channel, "attempt failed");
    if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "failed"
    }
}

/// Resolves names with the system resolver and keeps only the addresses
/// the targets allow, so a name that points at a private network (at
/// once, or after the URL was set) is never connected to.
pub(crate) struct CheckedResolver(pub(crate) WebhookTargets);

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let targets = self.0;
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let allowed: Vec<_> = addrs
                .filter(|addr| targets.allows_address(addr.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(PrivateAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[derive(Debug)]
pub(crate) struct PrivateAddress;

impl std::fmt::Display for PrivateAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the host resolves only to private network addresses")
    }
}

impl std::error::Error for PrivateAddress {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_timestamp_and_body() {
        // Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
        assert_eq!(
            signature("secret", "1700000000", r#"{"a":1}"#),
            "sha256=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
        );
    }

    #[tokio::test]
    async fn a_name_that_resolves_only_to_this_machine_is_not_connected_to() {
        let name: Name = "localhost".parse().unwrap();
        let err = CheckedResolver(WebhookTargets::PublicOnly)
            .resolve(name)
            .await
            .err()
            .expect("refused");
        assert!(err.is::<PrivateAddress>(), "{err}");

        let name: Name = "localhost".parse().unwrap();
        let addrs: Vec<_> = CheckedResolver(WebhookTargets::Any)
            .resolve(name)
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }
}
