//! Web Push: a notification encrypted for one browser (RFC 8291,
//! aes128gcm) and posted to its push service with a VAPID token
//! (RFC 8292), which hands it to the browser's service worker.
//!
//! Each push carries `TTL` (how long the push service keeps it for a
//! browser that is offline), `Urgency` (`high` for goals, so a phone in
//! power saving still wakes for them) and, for match alerts, `Topic`: the
//! push service keeps only the newest undelivered push of a topic, so a
//! phone that comes back online hears the latest score, not every one.
//!
//! A 404 or 410 from the push service means the browser unsubscribed: the
//! subscription is forgotten and the delivery ends. 429 and 5xx are
//! retried with the delivery backoff, no sooner than a `Retry-After`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entity::MatchEventKind;
use serde_json::json;
use service::notifications::deliveries::Claimed;
use service::notifications::web_push::Vapid;
use service::notifications::webhook_targets::{PRIVATE_TARGET, WebhookTargets};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use web_push_native::jwt_simple::prelude::{
    Claims, Duration as JwtDuration, ECDSAP256KeyPairLike as _, ES256KeyPair,
};
use web_push_native::{Auth, p256};

use super::webhook::{CheckedResolver, outcome};

/// Requests one worker process sends to one push service at once. Push
/// services are few and large (one per browser vendor), so this is higher
/// than a webhook receiver's share.
pub const PER_HOST: usize = 16;

/// How long the VAPID token is valid; RFC 8292 allows at most 24 hours.
const TOKEN_HOURS: u64 = 12;

/// How long a push service keeps a live alert for an offline browser: an
/// alert about a match is stale an hour later, and the digest has it.
const LIVE_TTL_SECS: u64 = 60 * 60;
/// ... and anything else (digests, reminders, schedule changes).
const OTHER_TTL_SECS: u64 = 24 * 60 * 60;

/// Push services take at most 4096 bytes of encrypted payload; the text
/// is cut well below that, on a character boundary.
const MAX_BODY_BYTES: usize = 2000;

/// The longest `Retry-After` honoured; a longer one is read as this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60 * 60);

/// Why an attempt did not deliver.
#[derive(Debug)]
pub struct PushError {
    pub message: String,
    /// The push service asked to wait this long before the next attempt.
    pub retry_after: Option<Duration>,
    /// The browser is gone: the delivery ends, never retried.
    pub gone: bool,
}

impl PushError {
    fn retry(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retry_after: None,
            gone: false,
        }
    }

    fn gone(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retry_after: None,
            gone: true,
        }
    }
}

impl From<String> for PushError {
    fn from(message: String) -> Self {
        Self::retry(message)
    }
}

/// Sends Web Push deliveries.
#[derive(Clone)]
pub struct WebPush {
    client: reqwest::Client,
    targets: WebhookTargets,
    signer: Option<Arc<Signer>>,
    hosts: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
}

/// The VAPID identity, ready to sign.
struct Signer {
    vapid: Arc<Vapid>,
    key_pair: ES256KeyPair,
}

impl WebPush {
    /// `vapid`: the server's identity; `None` leaves Web Push off, and any
    /// delivery fails (there are none unless someone subscribed while it
    /// was on).
    pub fn new(
        timeout: Duration,
        targets: WebhookTargets,
        vapid: Option<Vapid>,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect would take the token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            // As for webhooks: connect only where the targets allow.
            .dns_resolver(Arc::new(CheckedResolver(targets)))
            .no_proxy()
            .user_agent(concat!("InTheGame-WebPush/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let signer = match vapid {
            Some(vapid) => Some(Arc::new(Signer {
                key_pair: ES256KeyPair::from_bytes(vapid.private_key())
                    .map_err(|e| anyhow::anyhow!("the VAPID key: {e}"))?,
                vapid: Arc::new(vapid),
            })),
            None => None,
        };
        Ok(Self {
            client,
            targets,
            signer,
            hosts: Arc::default(),
        })
    }

    /// The server's VAPID identity, if Web Push is on.
    pub fn vapid(&self) -> Option<Arc<Vapid>> {
        self.signer.as_ref().map(|s| s.vapid.clone())
    }

    fn host_slots(&self, host: &str) -> Arc<Semaphore> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        hosts.retain(|_, slots| Arc::strong_count(slots) > 1);
        hosts
            .entry(host.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(PER_HOST)))
            .clone()
    }

    /// Checks the delivery's endpoint and waits for a free slot to its
    /// push service. The caller checks that it still holds the delivery
    /// before it sends.
    pub async fn reserve(&self, claimed: &Claimed) -> Result<PushSlot, PushError> {
        let Some(subscription) = &claimed.web_push else {
            return Err(PushError::gone("the browser was unsubscribed"));
        };
        let signer = self
            .signer
            .clone()
            .ok_or("Web Push is off on this worker (no VAPID key)".to_owned())?;
        let endpoint = &subscription.endpoint;
        let url = reqwest::Url::parse(endpoint)
            .map_err(|e| format!("POST {endpoint}: not a URL: {e}"))?;
        // An address literal never reaches the resolver: check it here.
        if !url.host().is_some_and(|h| self.targets.allows_host(&h)) {
            return Err(format!("POST {endpoint}: refused: the endpoint {PRIVATE_TARGET}").into());
        }
        let ua_public = URL_SAFE_NO_PAD
            .decode(&subscription.p256dh)
            .ok()
            .and_then(|bytes| p256::PublicKey::from_sec1_bytes(&bytes).ok())
            .ok_or_else(|| PushError::gone("the browser's key is unreadable"))?;
        let ua_auth = URL_SAFE_NO_PAD
            .decode(&subscription.auth)
            .ok()
            .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
            .map(Auth::from)
            .ok_or_else(|| PushError::gone("the browser's secret is unreadable"))?;
        let host = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or(0)
        );
        let permit = self
            .host_slots(&host)
            .acquire_owned()
            .await
            .map_err(|_| "the Web Push sender is shutting down".to_owned())?;
        Ok(PushSlot {
            client: self.client.clone(),
            signer,
            url,
            ua_public,
            ua_auth,
            _permit: permit,
        })
    }
}

/// A slot to one push service, held until its answer.
pub struct PushSlot {
    client: reqwest::Client,
    signer: Arc<Signer>,
    url: reqwest::Url,
    ua_public: p256::PublicKey,
    ua_auth: Auth,
    _permit: OwnedSemaphorePermit,
}

impl PushSlot {
    /// Encrypts and posts one delivery.
    pub async fn send(self, claimed: &Claimed) -> Result<(), PushError> {
        let url = &self.url;
        let push = Push::of(claimed);
        let body =
            web_push_native::encrypt(push.payload.into_bytes(), &self.ua_public, &self.ua_auth)
                .map_err(|e| format!("POST {url}: encrypting: {e}"))?;
        let authorization = self
            .signer
            .authorization(url)
            .map_err(|e| format!("POST {url}: signing: {e}"))?;
        let mut request = self
            .client
            .post(url.clone())
            .header(reqwest::header::AUTHORIZATION, authorization)
            .header(reqwest::header::CONTENT_ENCODING, "aes128gcm")
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header("TTL", push.ttl_secs.to_string())
            .header("Urgency", push.urgency);
        if let Some(topic) = &push.topic {
            request = request.header("Topic", topic);
        }
        let response = request
            .body(body)
            .send()
            .await
            .map_err(|e| format!("POST {url}: {}", outcome(&e, "Web Push")))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let message = format!("POST {url}: the push service answered {status}");
        match status.as_u16() {
            404 | 410 => Err(PushError::gone(message)),
            429 | 500..=599 => Err(PushError {
                retry_after: retry_after(response.headers(), SystemTime::now()),
                ..PushError::retry(message)
            }),
            _ => Err(PushError::retry(message)),
        }
    }
}

impl Signer {
    /// `vapid t=<JWT>, k=<public key>`: a token for the endpoint's origin,
    /// signed with the server's key (RFC 8292).
    fn authorization(&self, endpoint: &reqwest::Url) -> Result<String, String> {
        let claims = Claims::create(JwtDuration::from_hours(TOKEN_HOURS))
            .with_audience(endpoint.origin().ascii_serialization())
            .with_subject(self.vapid.subject());
        let token = self.key_pair.sign(claims).map_err(|e| e.to_string())?;
        Ok(format!("vapid t={token}, k={}", self.vapid.public_key()))
    }
}

/// What one push says and how the push service should treat it.
struct Push {
    /// JSON the service worker reads: `title`, `body`, `tag`, `url`,
    /// `notificationId`, `kind`.
    payload: String,
    ttl_secs: u64,
    urgency: &'static str,
    topic: Option<String>,
}

impl Push {
    fn of(claimed: &Claimed) -> Self {
        let notification = &claimed.notification;
        let payload = &notification.payload;
        let match_id = payload.get("matchId").and_then(|v| v.as_i64());
        let event_kind = payload
            .get("eventKind")
            .and_then(|v| serde_json::from_value::<MatchEventKind>(v.clone()).ok());
        let goal = matches!(
            event_kind,
            Some(MatchEventKind::Goal | MatchEventKind::OwnGoal | MatchEventKind::PenaltyGoal)
        );
        // Topics are at most 32 characters of the base64url alphabet.
        let topic = match_id.map(|id| format!("match-{id}"));
        let live = event_kind.is_some();
        let body = json!({
            "title": notification.title,
            "body": cut(&notification.body, MAX_BODY_BYTES),
            "tag": topic.clone().unwrap_or_else(|| format!("notification-{}", notification.id)),
            "url": match_id.map_or_else(|| "/".to_owned(), |id| format!("/?match={id}")),
            "notificationId": notification.id,
            "kind": notification.kind,
        });
        Self {
            payload: body.to_string(),
            ttl_secs: if live { LIVE_TTL_SECS } else { OTHER_TTL_SECS },
            urgency: if goal { "high" } else { "normal" },
            topic,
        }
    }
}

/// `text` cut to at most `max` bytes, on a character boundary, marked.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// A `Retry-After` (RFC 9110): seconds to wait, or the HTTP-date to wait
/// until (a date already past asks for no wait), capped. Push services
/// mostly send seconds.
fn retry_after(headers: &reqwest::header::HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(now)
            .unwrap_or(Duration::ZERO),
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_body_is_cut_on_a_character_boundary() {
        let text = "é".repeat(2000);
        let cut = cut(&text, MAX_BODY_BYTES);
        assert!(cut.len() <= MAX_BODY_BYTES && cut.ends_with('…'));
        assert_eq!(super::cut("short", 10), "short");
    }

    fn with_retry_after(value: &str) -> reqwest::header::HeaderMap {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::RETRY_AFTER, value.parse().unwrap());
        headers
    }

    #[test]
    fn retry_after_is_read_in_seconds_and_capped() {
        let now = SystemTime::now();
        let headers = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&headers, now), None);
        assert_eq!(
            retry_after(&with_retry_after("7"), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&with_retry_after("999999"), now),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(retry_after(&with_retry_after("soon"), now), None);
        assert_eq!(retry_after(&with_retry_after("-5"), now), None);
    }

    #[test]
    fn retry_after_as_an_http_date_is_the_wait_until_then_capped() {
        // Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example.
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(
            retry_after(&with_retry_after("Sun, 06 Nov 1994 08:50:07 GMT"), now),
            Some(Duration::from_secs(30))
        );
        // The obsolete forms RFC 9110 still asks recipients to read.
        assert_eq!(
            retry_after(&with_retry_after("Sunday, 06-Nov-94 08:51:37 GMT"), now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            retry_after(&with_retry_after("Sun Nov  6 08:49:47 1994"), now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            retry_after(&with_retry_after("Sun, 06 Nov 1994 08:00:00 GMT"), now),
            Some(Duration::ZERO),
            "a date already past"
        );
        assert_eq!(
            retry_after(&with_retry_after("Mon, 07 Nov 1994 08:49:37 GMT"), now),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            retry_after(&with_retry_after("Sun, 06 Nov 1994 25:00:00 GMT"), now),
            None
        );
    }
}
