//! Web Push (RFC 8030): the server's VAPID key pair (RFC 8292) and the
//! browsers' subscriptions. The worker encrypts and sends the pushes
//! (`worker::channels::web_push`).
//!
//! A subscription is what the browser's `pushManager.subscribe` gives:
//! the push service's endpoint URL for that browser, the browser's P-256
//! public key (`p256dh`) and its authentication secret (`auth`). The
//! endpoint is checked like a webhook URL (`webhook_targets`) when it is
//! subscribed and again when each push is sent, since any user can name
//! one and the worker posts to it.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use entity::{user, web_push_subscription as subscription};
use sea_orm::sea_query::{Expr, LockType, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseBackend, EntityTrait as _,
    PaginatorTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
    TransactionSession as _, TransactionTrait,
};
use web_push_native::p256;
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint as _;

use super::webhook_targets::{PRIVATE_TARGET, WebhookTargets};
use crate::accounts::FieldErrors;
use crate::{Error, Result};

/// Browsers one user may subscribe. Each is one delivery per notification,
/// so this bounds what a notification costs to send.
pub const MAX_SUBSCRIPTIONS_PER_USER: u64 = 10;

/// Push services' endpoints are a few hundred characters.
const MAX_ENDPOINT_LEN: usize = 1024;

/// The file the embedded default keeps its generated VAPID key in, beside
/// its SQLite database.
pub const KEY_FILE: &str = "vapid_private_key";

/// The server's VAPID identity: the private key that signs each push's
/// token, the public key browsers subscribe with (`applicationServerKey`),
/// and the contact the token names.
#[derive(Clone)]
pub struct Vapid {
    private_key: [u8; 32],
    public_key: String,
    subject: String,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid")
            .field("public_key", &self.public_key)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl Vapid {
    /// A key pair from a private key: 32 bytes, base64url (padded or not),
    /// as `web-push generate-vapid-keys` prints it.
    pub fn from_private_key(raw: &str, subject: &str) -> Result<Self, String> {
        let bytes = decode_base64url(raw.trim())
            .ok_or("is not base64url (the 32-byte private key, as key generators print it)")?;
        let secret = p256::SecretKey::from_slice(&bytes)
            .map_err(|_| "is not a P-256 private key (32 bytes, base64url)")?;
        Ok(Self::from_secret(&secret, subject))
    }

    fn from_secret(secret: &p256::SecretKey, subject: &str) -> Self {
        let public = secret.public_key().to_encoded_point(false);
        Self {
            private_key: secret.to_bytes().into(),
            public_key: URL_SAFE_NO_PAD.encode(public.as_bytes()),
            subject: subject.to_owned(),
        }
    }

    /// A new key pair from the system's random source.
    pub fn generate(subject: &str) -> anyhow::Result<Self> {
        loop {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("random source: {e}"))?;
            // About one draw in 2^32 is not a scalar below the curve order.
            if let Ok(secret) = p256::SecretKey::from_slice(&bytes) {
                return Ok(Self::from_secret(&secret, subject));
            }
        }
    }

    /// The keys the settings give (`VAPID_PRIVATE_KEY`); else, on a SQLite
    /// file (the embedded default), the pair kept beside it, made on first
    /// start; else none, and Web Push is off.
    pub fn from_config(config: &crate::Config) -> anyhow::Result<Option<Self>> {
        let n = &config.notifications;
        let vapid = match (&n.vapid_private_key, config.sqlite_path()) {
            (Some(key), _) => Self::from_private_key(key.expose(), &n.vapid_subject)
                .map_err(|e| anyhow::anyhow!("VAPID_PRIVATE_KEY {e}"))?,
            (None, Some(db)) => {
                let dir = db
                    .parent()
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
                Self::kept_in(&dir, &n.vapid_subject)?
            }
            (None, None) => {
                tracing::warn!(
                    "Web Push is off: set VAPID_PRIVATE_KEY (and VAPID_SUBJECT) to turn it on"
                );
                return Ok(None);
            }
        };
        tracing::info!(public_key = vapid.public_key, "Web Push VAPID public key");
        Ok(Some(vapid))
    }

    /// The key pair in `dir`, made and written there (readable by this
    /// user only) if there is none yet. Two processes starting at once
    /// both end up with the one that was written first.
    pub fn kept_in(dir: &Path, subject: &str) -> anyhow::Result<Self> {
        use std::io::Write as _;
        let path = dir.join(KEY_FILE);
        let read = |path: &Path| -> anyhow::Result<Self> {
            let raw = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
            Self::from_private_key(&raw, subject)
                .map_err(|e| anyhow::anyhow!("{}: the key {e}", path.display()))
        };
        if path.exists() {
            return read(&path);
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
        let vapid = Self::generate(subject)?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Ok(mut file) => {
                writeln!(file, "{}", URL_SAFE_NO_PAD.encode(vapid.private_key))
                    .and_then(|()| file.sync_all())
                    .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
                tracing::info!(
                    path = %path.display(),
                    public_key = vapid.public_key,
                    "generated a VAPID key pair for Web Push"
                );
                Ok(vapid)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(&path),
            Err(e) => Err(anyhow::anyhow!("creating {}: {e}", path.display())),
        }
    }

    /// The public key, base64url without padding (65 bytes uncompressed):
    /// what a page passes to `pushManager.subscribe` as
    /// `applicationServerKey`.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The raw private key, for signing.
    pub fn private_key(&self) -> &[u8; 32] {
        &self.private_key
    }

    /// The contact the tokens name (`mailto:` or `https:`).
    pub fn subject(&self) -> &str {
        &self.subject
    }
}

/// `VAPID_PRIVATE_KEY`, checked at start and never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateKeySetting(String);

impl PrivateKeySetting {
    pub fn parse(raw: &str) -> Result<Self, String> {
        Vapid::from_private_key(raw, "mailto:check@example.com")?;
        Ok(Self(raw.trim().to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PrivateKeySetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// `VAPID_SUBJECT`: push services want a way to reach the sender.
pub fn parse_subject(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.starts_with("mailto:") && raw.len() > "mailto:".len() {
        return Ok(raw.to_owned());
    }
    match url::Url::parse(raw) {
        Ok(url) if url.scheme() == "https" && url.host().is_some() => Ok(raw.to_owned()),
        _ => Err("must be a mailto: address or an https:// URL".into()),
    }
}

fn decode_base64url(raw: &str) -> Option<Vec<u8>> {
    if raw.ends_with('=') {
        URL_SAFE.decode(raw).ok()
    } else {
        URL_SAFE_NO_PAD.decode(raw).ok()
    }
}

/// A push service endpoint: an absolute https URL (http only where
/// private targets are allowed, for a local push service in development)
/// whose host may be posted to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint(url::Url);

impl Endpoint {
    pub fn parse(raw: &str, targets: WebhookTargets) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("must not be empty".into());
        }
        if raw.len() > MAX_ENDPOINT_LEN {
            return Err(format!("must be at most {MAX_ENDPOINT_LEN} characters"));
        }
        let url = url::Url::parse(raw).map_err(|e| format!("is not a valid URL: {e}"))?;
        let plain_http_allowed = targets == WebhookTargets::Any;
        match url.scheme() {
            "https" => {}
            "http" if plain_http_allowed => {}
            other => return Err(format!("must start with https://, not {other}:")),
        }
        let Some(host) = url.host().filter(|h| !matches!(h, url::Host::Domain(""))) else {
            return Err("must name a host".into());
        };
        if !targets.allows_host(&host) {
            return Err(PRIVATE_TARGET.into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not contain a user name or password".into());
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// The browser's P-256 public key: 65 bytes (an uncompressed point on the
/// curve), base64url.
pub fn parse_p256dh(raw: &str) -> Result<String, String> {
    let bytes = decode_base64url(raw.trim()).ok_or("is not base64url")?;
    if bytes.len() != 65 || bytes[0] != 4 {
        return Err(format!(
            "must be an uncompressed P-256 public key (65 bytes), not {} bytes",
            bytes.len()
        ));
    }
    p256::PublicKey::from_sec1_bytes(&bytes).map_err(|_| "is not a point on the P-256 curve")?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The browser's authentication secret: 16 bytes, base64url.
pub fn parse_auth(raw: &str) -> Result<String, String> {
    let bytes = decode_base64url(raw.trim()).ok_or("is not base64url")?;
    if bytes.len() != 16 {
        return Err(format!("must be 16 bytes, not {}", bytes.len()));
    }
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// What a browser sends to subscribe.
#[derive(Clone, Debug)]
pub struct NewSubscription {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// Stores the browser's subscription for the user: a new one, or the same
/// endpoint with its keys renewed (the browser subscribed again), or one
/// another account had on this browser, now the user's. At most
/// `MAX_SUBSCRIPTIONS_PER_USER` each.
#[tracing::instrument(skip_all, fields(user_id = user_id), err(level = "info"))]
pub async fn subscribe(
    db: &impl TransactionTrait,
    user_id: i64,
    input: NewSubscription,
    targets: WebhookTargets,
    now: DateTime<Utc>,
) -> Result<subscription::Model> {
    let mut errors = FieldErrors::default();
    let endpoint = errors.check("endpoint", Endpoint::parse(&input.endpoint, targets));
    let p256dh = errors.check("keys.p256dh", parse_p256dh(&input.p256dh));
    let auth = errors.check("keys.auth", parse_auth(&input.auth));
    errors.into_result()?;
    let (Some(endpoint), Some(p256dh), Some(auth)) = (endpoint, p256dh, auth) else {
        return Err(Error::Internal(anyhow::anyhow!(
            "checked input went missing"
        )));
    };
    let txn = db.begin().await?;
    one_subscribe_at_a_time(&txn, user_id).await?;
    let existing = subscription::Entity::find()
        .filter(subscription::Column::Endpoint.eq(endpoint.as_str()))
        .one(&txn)
        .await?;
    if existing.as_ref().is_none_or(|s| s.user_id != user_id) {
        let count = subscription::Entity::find()
            .filter(subscription::Column::UserId.eq(user_id))
            .count(&txn)
            .await?;
        if count >= MAX_SUBSCRIPTIONS_PER_USER {
            return Err(Error::invalid(
                "endpoint",
                format!(
                    "at most {MAX_SUBSCRIPTIONS_PER_USER} browsers can be subscribed; \
                     unsubscribe one first"
                ),
            ));
        }
    }
    let row = subscription::ActiveModel {
        user_id: Set(user_id),
        endpoint: Set(endpoint.as_str().to_owned()),
        p256dh: Set(p256dh),
        auth: Set(auth),
        created_at: Set(now),
        ..Default::default()
    };
    // The same browser subscribing twice at once lands on one row.
    subscription::Entity::insert(row)
        .on_conflict(
            OnConflict::column(subscription::Column::Endpoint)
                .update_columns([
                    subscription::Column::UserId,
                    subscription::Column::P256dh,
                    subscription::Column::Auth,
                    subscription::Column::CreatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    let stored = subscription::Entity::find()
        .filter(subscription::Column::Endpoint.eq(endpoint.as_str()))
        .one(&txn)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("a stored subscription was not found")))?;
    txn.commit().await?;
    Ok(stored)
}

/// Makes the user's subscribes wait for each other until `txn` ends, so
/// that counting their browsers and adding one are one step and two at
/// once never pass the limit together. On PostgreSQL the user's row is
/// locked (`FOR NO KEY UPDATE`). SQLite has one writer at a time, but a transaction that reads
/// first and writes second would fail rather than wait when another
/// wrote in between, so there the transaction writes first: an update
/// that changes nothing (not of the key, which children reference), and
/// takes the write lock before the count.
async fn one_subscribe_at_a_time(txn: &impl ConnectionTrait, user_id: i64) -> Result<()> {
    match txn.get_database_backend() {
        DatabaseBackend::Postgres => {
            user::Entity::find_by_id(user_id)
                .select_only()
                .column(user::Column::Id)
                // NO KEY: rows that reference the user (their
                // notifications, written by alerts meanwhile) need not wait.
                .lock(LockType::NoKeyUpdate)
                .into_tuple::<i64>()
                .one(txn)
                .await?;
        }
        _ => {
            user::Entity::update_many()
                .col_expr(user::Column::CreatedAt, Expr::col(user::Column::CreatedAt))
                .filter(user::Column::Id.eq(user_id))
                .exec(txn)
                .await?;
        }
    }
    Ok(())
}

/// Removes the user's subscription with this endpoint. `false`: they had
/// none (another user's is left alone).
#[tracing::instrument(skip_all, fields(user_id = user_id), err(level = "info"))]
pub async fn unsubscribe(db: &impl ConnectionTrait, user_id: i64, endpoint: &str) -> Result<bool> {
    let removed = subscription::Entity::delete_many()
        .filter(subscription::Column::UserId.eq(user_id))
        .filter(subscription::Column::Endpoint.eq(endpoint.trim()))
        .exec(db)
        .await?;
    Ok(removed.rows_affected > 0)
}

/// The user's subscriptions, oldest first (at most
/// `MAX_SUBSCRIPTIONS_PER_USER`).
pub async fn of_user(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<subscription::Model>> {
    Ok(subscription::Entity::find()
        .filter(subscription::Column::UserId.eq(user_id))
        .order_by_asc(subscription::Column::Id)
        .all(db)
        .await?)
}

/// The subscriptions of a bounded batch of users (`WRITE_BATCH`), as
/// `(user id, subscription id)`.
pub async fn ids_of_users(db: &impl ConnectionTrait, user_ids: &[i64]) -> Result<Vec<(i64, i64)>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    use sea_orm::QuerySelect as _;
    Ok(subscription::Entity::find()
        .select_only()
        .column(subscription::Column::UserId)
        .column(subscription::Column::Id)
        .filter(crate::db::is_one_of(
            db.get_database_backend(),
            subscription::Column::UserId,
            user_ids,
        ))
        .order_by_asc(subscription::Column::Id)
        .into_tuple()
        .all(db)
        .await?)
}

/// The subscriptions with these ids (a bounded batch of deliveries').
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<subscription::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(subscription::Entity::find()
        .filter(subscription::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// Forgets a subscription the push service says is gone (404 or 410).
pub async fn remove(db: &impl ConnectionTrait, id: i64) -> Result<()> {
    subscription::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const P256DH: &str =
        "BLn9b-VR0ca83knDNZ32dCHGyjJp-1riX9ZTN40MqV8K_LpQmLqxC_DoHvqvFXO_nGdAB4W9dogZb_sM-uV4JbY";

    #[test]
    fn a_browser_key_must_be_an_uncompressed_point_on_the_curve() {
        assert_eq!(parse_p256dh(P256DH).unwrap(), P256DH);
        assert!(
            parse_p256dh("not base64!")
                .unwrap_err()
                .contains("base64url")
        );
        assert!(parse_p256dh("AAAA").unwrap_err().contains("65 bytes"));
        let mut off_curve = decode_base64url(P256DH).unwrap();
        off_curve[64] ^= 1;
        let off_curve = URL_SAFE_NO_PAD.encode(off_curve);
        assert!(parse_p256dh(&off_curve).unwrap_err().contains("curve"));
    }

    #[test]
    fn an_auth_secret_is_sixteen_bytes_padded_or_not() {
        assert_eq!(
            parse_auth("_ordMnz7uTCmrpBTeUV4Bw==").unwrap(),
            "_ordMnz7uTCmrpBTeUV4Bw"
        );
        assert!(parse_auth("AAAA").unwrap_err().contains("16 bytes"));
    }

    #[test]
    fn an_endpoint_is_https_and_public_unless_private_targets_are_allowed() {
        let public = WebhookTargets::PublicOnly;
        assert!(Endpoint::parse("https://push.example.com/a/b", public).is_ok());
        assert!(
            Endpoint::parse("http://push.example.com/a", public)
                .unwrap_err()
                .contains("https://")
        );
        assert_eq!(
            Endpoint::parse("https://127.0.0.1:8443/p", public).unwrap_err(),
            PRIVATE_TARGET
        );
        assert!(Endpoint::parse("https://localhost/p", public).is_err());
        assert!(Endpoint::parse("http://127.0.0.1:8443/p", WebhookTargets::Any).is_ok());
        assert!(Endpoint::parse("not a url", public).is_err());
    }

    #[test]
    fn a_generated_key_pair_reads_back_from_its_private_key() {
        let vapid = Vapid::generate("mailto:a@example.com").unwrap();
        let again =
            Vapid::from_private_key(&URL_SAFE_NO_PAD.encode(vapid.private_key()), "mailto:x@y")
                .unwrap();
        assert_eq!(vapid.public_key(), again.public_key());
        assert_eq!(decode_base64url(vapid.public_key()).unwrap().len(), 65);
        assert!(!format!("{vapid:?}").contains(&URL_SAFE_NO_PAD.encode(vapid.private_key())));
    }

    #[test]
    fn the_embedded_default_keeps_one_key_pair_across_starts() {
        let dir = std::env::temp_dir().join(format!("vapid-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = Vapid::kept_in(&dir, "mailto:a@example.com").unwrap();
        let second = Vapid::kept_in(&dir, "mailto:a@example.com").unwrap();
        assert_eq!(first.public_key(), second.public_key());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_subject_is_mailto_or_https() {
        assert!(parse_subject("mailto:ops@example.com").is_ok());
        assert!(parse_subject("https://example.com/contact").is_ok());
        assert!(parse_subject("ops@example.com").is_err());
    }
}
