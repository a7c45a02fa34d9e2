//! Real peers for the worker's channels: an SMTP server that receives and
//! parses mail, and an HTTP server that checks webhook signatures the way
//! the README tells receivers to.

use std::future::Future;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac as _};
use mailin_embedded::response::{self, Response};
use serde_json::{Value, json};
use sha2::Sha256;

use super::TestApp;

/// One mail as the SMTP server received and parsed it.
#[derive(Clone, Debug)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub text: String,
    pub html: String,
}

/// An SMTP server (mailin) on a free port, keeping every mail it accepts.
#[derive(Clone)]
pub struct SmtpServer {
    pub url: String,
    mails: Arc<Mutex<Vec<Mail>>>,
}

#[derive(Clone)]
struct Collector {
    mails: Arc<Mutex<Vec<Mail>>>,
    data: Vec<u8>,
    delay: Duration,
}

impl mailin_embedded::Handler for Collector {
    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        _to: &[String],
    ) -> Response {
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        // A slow server, so a test can stop a worker in the middle of a batch.
        std::thread::sleep(self.delay);
        let parsed = mail_parser::MessageParser::default()
            .parse(&self.data)
            .expect("a parseable mail");
        let mail = Mail {
            to: parsed
                .to()
                .and_then(|to| to.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_owned(),
            subject: parsed.subject().unwrap_or_default().to_owned(),
            message_id: parsed.message_id().unwrap_or_default().to_owned(),
            text: parsed.body_text(0).unwrap_or_default().into_owned(),
            html: parsed.body_html(0).unwrap_or_default().into_owned(),
        };
        self.mails.lock().unwrap().push(mail);
        response::OK
    }
}

impl SmtpServer {
    pub fn start() -> Self {
        Self::start_slow(Duration::ZERO)
    }

    /// A server that takes `delay` to accept each mail.
    pub fn start_slow(delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind SMTP");
        let port = listener.local_addr().unwrap().port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let collector = Collector {
            mails: mails.clone(),
            data: Vec::new(),
            delay,
        };
        let mut server = mailin_embedded::Server::new(collector);
        server
            .with_name("smtp.test")
            .with_ssl(mailin_embedded::SslConfig::None)
            .expect("no TLS")
            .with_num_threads(4)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Self {
            url: format!("smtp://127.0.0.1:{port}"),
            mails,
        }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    pub fn mails_to(&self, address: &str) -> Vec<Mail> {
        self.mails()
            .into_iter()
            .filter(|m| m.to == address)
            .collect()
    }
}

/// How a webhook receiver answers.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    /// 500 for the first `n` requests, then 204.
    FailFirst(usize),
    /// 500, always.
    AlwaysFail,
}

/// An HTTP server that checks each webhook's signature and timestamp as a
/// real receiver should, and keeps the bodies it accepted.
#[derive(Clone)]
pub struct WebhookReceiver {
    pub url: String,
    state: Arc<Receiver>,
}

struct Receiver {
    secret: Mutex<String>,
    answer: Mutex<Answer>,
    requests: AtomicUsize,
    bad_signatures: AtomicUsize,
    accepted: Mutex<Vec<(HeaderMap, Value)>>,
}

impl WebhookReceiver {
    pub async fn start(answer: Answer) -> Self {
        let state = Arc::new(Receiver {
            secret: Mutex::new(String::new()),
            answer: Mutex::new(answer),
            requests: AtomicUsize::new(0),
            bad_signatures: AtomicUsize::new(0),
            accepted: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post({
                let state = state.clone();
                move |headers: HeaderMap, body: axum::body::Bytes| {
                    let state = state.clone();
                    async move { state.receive(headers, &body) }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{addr}/hook"),
            state,
        }
    }

    /// The secret that `updateNotificationPreferences` returned.
    pub fn set_secret(&self, secret: &str) {
        *self.state.secret.lock().unwrap() = secret.to_owned();
    }

    pub fn answer(&self, answer: Answer) {
        *self.state.answer.lock().unwrap() = answer;
    }

    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    pub fn bad_signatures(&self) -> usize {
        self.state.bad_signatures.load(Ordering::SeqCst)
    }

    pub fn accepted(&self) -> Vec<(HeaderMap, Value)> {
        self.state.accepted.lock().unwrap().clone()
    }
}

impl Receiver {
    fn receive(&self, headers: HeaderMap, body: &[u8]) -> StatusCode {
        let n = self.requests.fetch_add(1, Ordering::SeqCst);
        // What the README tells receivers to do: recompute the HMAC over
        // `{timestamp}.{body}`, compare in constant time, refuse old timestamps.
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let timestamp = header("x-inthegame-timestamp").unwrap_or_default();
        let signature = header("x-inthegame-signature").unwrap_or_default();
        let secret = self.secret.lock().unwrap().clone();
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        let expected = signature
            .strip_prefix("sha256=")
            .and_then(|hex| hex::decode(hex).ok())
            .unwrap_or_default();
        let fresh = timestamp
            .parse::<i64>()
            .is_ok_and(|t| (chrono::Utc::now().timestamp() - t).abs() < 300);
        if mac.verify_slice(&expected).is_err() || !fresh {
            self.bad_signatures.fetch_add(1, Ordering::SeqCst);
            return StatusCode::UNAUTHORIZED;
        }
        let fail = match *self.answer.lock().unwrap() {
            Answer::FailFirst(k) => n < k,
            Answer::AlwaysFail => true,
        };
        if fail {
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
        let body: Value = serde_json::from_slice(body).expect("a JSON body");
        self.accepted.lock().unwrap().push((headers, body));
        StatusCode::NO_CONTENT
    }
}

/// Waits until `check` returns `Some`, polling every 50 ms, for at most `secs`.
pub async fn wait_for<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {secs} s waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sets notification preferences through the API; returns the payload.
pub async fn set_preferences(app: &TestApp, token: &str, input: Value) -> Value {
    let body = app
        .graphql_as(
            token,
            "mutation($input: NotificationPreferencesInput!) {
               updateNotificationPreferences(input: $input) { webhookSecret preferences { timeZone } }
             }",
            json!({ "input": input }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["updateNotificationPreferences"].clone()
}

/// Follows a team through the API.
pub async fn follow(app: &TestApp, token: &str, team_id: i64) {
    let body = app
        .graphql_as(
            token,
            "mutation($t: ID!) { followTeam(teamId: $t) { team { id } } }",
            json!({ "t": team_id.to_string() }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
}
