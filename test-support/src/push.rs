//! A Web Push service on loopback, as a browser vendor's would behave for
//! the worker: it checks each push's VAPID token (ES256 signature by the
//! server's public key, `aud` the service's origin, `exp` within 24 hours),
//! decrypts the payload (RFC 8291, aes128gcm) with the subscriber's own
//! private key and secret, and answers as the test scripts it (201, or a
//! 404, 410, 429 with `Retry-After`...).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use web_push_native::jwt_simple::prelude::{
    ECDSAP256PublicKeyLike as _, ES256PublicKey, NoCustomClaims, VerificationOptions,
};
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint as _;
use web_push_native::{Auth, p256};

/// A browser's side of a subscription: what it sends to `subscribeWebPush`
/// and the private half the push service decrypts with.
#[derive(Clone, Debug)]
pub struct Subscriber {
    pub endpoint: String,
    /// base64url of the 65-byte public key.
    pub p256dh: String,
    /// base64url of the 16-byte secret.
    pub auth: String,
}

/// One answer the push service gives.
#[derive(Clone, Copy, Debug)]
pub struct Reply {
    pub status: u16,
    pub retry_after_secs: Option<u64>,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            retry_after_secs: None,
        }
    }

    pub fn retry_after(status: u16, secs: u64) -> Self {
        Self {
            status,
            retry_after_secs: Some(secs),
        }
    }
}

/// A push the service accepted (answered 2xx), decrypted.
#[derive(Clone, Debug)]
pub struct Push {
    /// The subscriber's endpoint.
    pub endpoint: String,
    pub headers: HeaderMap,
    /// The decrypted JSON payload.
    pub payload: Value,
}

/// The push service.
#[derive(Clone)]
pub struct PushService {
    base: String,
    state: Arc<State>,
}

struct State {
    origin: String,
    /// The server's VAPID public key every token must be signed with.
    server_key: Mutex<Option<String>>,
    subscribers: Mutex<HashMap<String, (p256::SecretKey, Auth)>>,
    script: Mutex<VecDeque<Reply>>,
    requests: AtomicUsize,
    /// When each request came, for checking waits between attempts.
    arrivals: Mutex<Vec<Instant>>,
    /// Why requests were refused (a bad token, an undecryptable body).
    refused: Mutex<Vec<String>>,
    accepted: Mutex<Vec<Push>>,
}

impl PushService {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let origin = format!("http://{addr}");
        let state = Arc::new(State {
            origin: origin.clone(),
            server_key: Mutex::new(None),
            subscribers: Mutex::new(HashMap::new()),
            script: Mutex::new(VecDeque::new()),
            requests: AtomicUsize::new(0),
            arrivals: Mutex::new(Vec::new()),
            refused: Mutex::new(Vec::new()),
            accepted: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new().route(
            "/push/{id}",
            axum::routing::post({
                let state = state.clone();
                move |Path(id): Path<String>, headers: HeaderMap, body: axum::body::Bytes| {
                    let state = state.clone();
                    async move { state.receive(&id, headers, body.to_vec()) }
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base: origin,
            state,
        }
    }

    /// The server's public key (`webPushPublicKey`) tokens must verify with.
    pub fn trust(&self, server_public_key: &str) {
        *self.state.server_key.lock().unwrap() = Some(server_public_key.to_owned());
    }

    /// A new browser: a fresh P-256 key pair and secret, and an endpoint
    /// on this service.
    pub fn subscriber(&self) -> Subscriber {
        let secret = loop {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).unwrap();
            if let Ok(secret) = p256::SecretKey::from_slice(&bytes) {
                break secret;
            }
        };
        let mut auth = [0u8; 16];
        getrandom::fill(&mut auth).unwrap();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let public = secret.public_key().to_encoded_point(false);
        self.state
            .subscribers
            .lock()
            .unwrap()
            .insert(id.clone(), (secret, Auth::from(auth)));
        Subscriber {
            endpoint: format!("{}/push/{id}", self.base),
            p256dh: URL_SAFE_NO_PAD.encode(public.as_bytes()),
            auth: URL_SAFE_NO_PAD.encode(auth),
        }
    }

    /// The next answers, in order; once they run out, 201.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.script.lock().unwrap().extend(replies);
    }

    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    pub fn arrivals(&self) -> Vec<Instant> {
        self.state.arrivals.lock().unwrap().clone()
    }

    pub fn refused(&self) -> Vec<String> {
        self.state.refused.lock().unwrap().clone()
    }

    pub fn accepted(&self) -> Vec<Push> {
        self.state.accepted.lock().unwrap().clone()
    }
}

impl State {
    fn receive(&self, id: &str, headers: HeaderMap, body: Vec<u8>) -> Response {
        self.requests.fetch_add(1, Ordering::SeqCst);
        self.arrivals.lock().unwrap().push(Instant::now());
        let payload = match self.check(id, &headers, body) {
            Ok(payload) => payload,
            Err((status, why)) => {
                self.refused.lock().unwrap().push(why.clone());
                return (status, why).into_response();
            }
        };
        let reply = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Reply::status(201));
        let status = StatusCode::from_u16(reply.status).unwrap();
        if status.is_success() {
            self.accepted.lock().unwrap().push(Push {
                endpoint: format!("{}/push/{id}", self.origin),
                headers,
                payload,
            });
        }
        let mut response = status.into_response();
        if let Some(secs) = reply.retry_after_secs {
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(secs));
        }
        response
    }

    /// What a push service checks before it accepts a push.
    fn check(
        &self,
        id: &str,
        headers: &HeaderMap,
        body: Vec<u8>,
    ) -> Result<Value, (StatusCode, String)> {
        let refuse = |status: StatusCode, why: &str| (status, why.to_owned());
        let Some((secret, auth)) = self.subscribers.lock().unwrap().get(id).cloned() else {
            return Err(refuse(StatusCode::NOT_FOUND, "no such subscription"));
        };
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        // VAPID: `vapid t=<jwt>, k=<public key>` (RFC 8292 section 3).
        let authorization = header("authorization").unwrap_or_default();
        let Some(params) = authorization.strip_prefix("vapid ") else {
            return Err(refuse(StatusCode::UNAUTHORIZED, "no vapid authorization"));
        };
        let mut token = None;
        let mut key = None;
        for part in params.split(',') {
            match part.trim().split_once('=') {
                Some(("t", v)) => token = Some(v),
                Some(("k", v)) => key = Some(v),
                _ => {}
            }
        }
        let (Some(token), Some(key)) = (token, key) else {
            return Err(refuse(StatusCode::UNAUTHORIZED, "vapid without t or k"));
        };
        let trusted = self.server_key.lock().unwrap().clone();
        if trusted.as_deref() != Some(key) {
            return Err(refuse(StatusCode::FORBIDDEN, "k is not the server's key"));
        }
        let public = URL_SAFE_NO_PAD
            .decode(key)
            .ok()
            .and_then(|bytes| ES256PublicKey::from_bytes(&bytes).ok())
            .ok_or_else(|| refuse(StatusCode::UNAUTHORIZED, "k is not a P-256 key"))?;
        let options = VerificationOptions {
            allowed_audiences: Some(HashSet::from([self.origin.clone()])),
            ..Default::default()
        };
        let claims = public
            .verify_token::<NoCustomClaims>(token, Some(options))
            .map_err(|e| (StatusCode::FORBIDDEN, format!("bad token: {e}")))?;
        let now = web_push_native::jwt_simple::prelude::Clock::now_since_epoch();
        let day = web_push_native::jwt_simple::prelude::Duration::from_hours(24);
        match claims.expires_at {
            Some(exp) if exp > now && exp <= now + day => {}
            _ => return Err(refuse(StatusCode::FORBIDDEN, "exp missing or too far")),
        }
        if claims.subject.is_none() {
            return Err(refuse(StatusCode::FORBIDDEN, "no sub"));
        }
        if header("content-encoding") != Some("aes128gcm") {
            return Err(refuse(StatusCode::BAD_REQUEST, "not aes128gcm"));
        }
        if header("ttl").and_then(|t| t.parse::<u64>().ok()).is_none() {
            return Err(refuse(StatusCode::BAD_REQUEST, "no TTL"));
        }
        if body.len() > 4096 {
            return Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, "over 4096 bytes"));
        }
        let plain = web_push_native::decrypt(body, &secret, &auth)
            .map_err(|e| (StatusCode::BAD_REQUEST, format!("cannot decrypt: {e}")))?;
        serde_json::from_slice(&plain)
            .map_err(|e| (StatusCode::BAD_REQUEST, format!("not JSON: {e}")))
    }
}
