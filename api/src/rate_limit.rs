//! Rate limits: GCRA buckets (a burst of N, then one every 60/N seconds),
//! counted in Redis when it is configured, so that a client has one bucket
//! for the whole deployment however many api replicas serve it, and in this
//! process's memory (`governor`) otherwise, or while Redis does not answer.
//!
//! Four buckets, each configured per minute (see `service::Config`):
//! sign-in attempts per client IP and per email (the brute-force guards),
//! and requests per bearer token or, without one, per client IP. A
//! request's standing in its bucket is sent back in the IETF `RateLimit`
//! and `RateLimit-Policy` header fields.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use fred::prelude::*;
use fred::types::scripts::Script;
use governor::clock::{Clock as _, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::{DefaultKeyedRateLimiter, Quota};
use service::Config;
use sha2::{Digest as _, Sha256};

/// The `extensions.code` of a refusal.
pub const RATE_LIMITED: &str = "RATE_LIMITED";

/// Forgotten keys are swept after this many checks, so that a stream of
/// fresh IPs or tokens cannot grow the maps without bound.
const SWEEP_EVERY: u64 = 4096;

/// Longest a check waits for Redis before it counts in memory instead.
const REDIS_TIMEOUT: Duration = Duration::from_millis(200);

/// After Redis failed a check, how long checks count in memory before
/// they try Redis again: a Redis that is down costs a request nothing.
const REDIS_COOL_OFF: Duration = Duration::from_secs(1);

/// How long the client must wait before the next attempt can succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, rounded up, at least one: the `Retry-After` value.
    pub fn seconds(self) -> u64 {
        let secs = self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0);
        secs.max(1)
    }
}

/// Where a client stands in one bucket after a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    /// The bucket's name in the header fields: `per-token`, `per-ip`, ...
    pub policy: &'static str,
    /// The bucket's size: requests per minute, all at once at most.
    pub limit: u32,
    /// Requests the client may still make right now.
    pub remaining: u32,
    /// Until the bucket is full again.
    pub reset: Duration,
}

const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

impl Standing {
    /// `RateLimit-Policy: "per-ip";q=300;w=60` and
    /// `RateLimit: "per-ip";r=299;t=1` (draft-ietf-httpapi-ratelimit-headers).
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        let reset = self.reset.as_secs() + u64::from(self.reset.subsec_nanos() > 0);
        let policy = format!("\"{}\";q={};w=60", self.policy, self.limit);
        let now = format!("\"{}\";r={};t={}", self.policy, self.remaining, reset);
        if let (Ok(policy), Ok(now)) = (HeaderValue::try_from(policy), HeaderValue::try_from(now)) {
            headers.insert(RATELIMIT_POLICY, policy);
            headers.insert(RATELIMIT, now);
        }
    }
}

/// A check's outcome: the client's standing in the bucket (`None` when the
/// limit is off), and whether it may go ahead.
#[derive(Clone, Copy, Debug)]
pub struct Verdict {
    pub standing: Option<Standing>,
    pub refused: Option<RetryAfter>,
}

impl Verdict {
    const FREE: Self = Self {
        standing: None,
        refused: None,
    };

    pub fn result(&self) -> Result<(), RetryAfter> {
        self.refused.map_or(Ok(()), Err)
    }
}

/// A key as it names a bucket in Redis.
trait BucketKey: Hash + Eq + Clone {
    fn redis_key(&self) -> String;
}

impl BucketKey for IpAddr {
    fn redis_key(&self) -> String {
        self.to_string()
    }
}

impl BucketKey for String {
    fn redis_key(&self) -> String {
        // An email, hashed so that addresses never sit in Redis in clear.
        hex(&Sha256::digest(self.as_bytes()))
    }
}

impl BucketKey for [u8; 32] {
    fn redis_key(&self) -> String {
        hex(self)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

struct Limiter<K: Hash + Eq + Clone> {
    policy: &'static str,
    limit: u32,
    buckets: DefaultKeyedRateLimiter<K, StateInformationMiddleware>,
    checks: AtomicU64,
}

impl<K: BucketKey> Limiter<K> {
    /// `None` when the limit is off (0).
    fn per_minute(policy: &'static str, n: u32) -> Option<Self> {
        let limit = NonZeroU32::new(n)?;
        Some(Self {
            policy,
            limit: n,
            buckets: DefaultKeyedRateLimiter::keyed(Quota::per_minute(limit))
                .with_middleware::<StateInformationMiddleware>(),
            checks: AtomicU64::new(0),
        })
    }

    /// Time for one request to come back to the bucket.
    fn interval(&self) -> Duration {
        Duration::from_secs(60) / self.limit
    }

    fn standing(&self, remaining: u32) -> Standing {
        Standing {
            policy: self.policy,
            limit: self.limit,
            remaining,
            reset: self.interval() * (self.limit - remaining.min(self.limit)),
        }
    }

    fn check_local(&self, key: &K) -> Verdict {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.buckets.retain_recent();
        }
        match self.buckets.check_key(key) {
            Ok(snapshot) => Verdict {
                standing: Some(self.standing(snapshot.remaining_burst_capacity())),
                refused: None,
            },
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Verdict {
                    standing: Some(self.standing(0)),
                    refused: Some(RetryAfter(wait)),
                }
            }
        }
    }
}

/// The GCRA in one atomic step on the Redis server, on its clock, so that
/// replicas with skewed clocks share one bucket fairly. The bucket is the
/// "theoretical arrival time" of the next request, in microseconds, and it
/// expires when it would be full again: one small key per active client.
/// Returns {allowed, remaining, until full (us), retry after (us)}.
const GCRA: &str = r#"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - (burst - 1) * interval
if now < allow_at then
  return {0, 0, tat - now, allow_at - now}
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((burst * interval - (new_tat - now)) / interval), new_tat - now, 0}
"#;

/// The shared buckets in Redis, and whether Redis is answering.
struct Shared {
    client: Client,
    script: Script,
    prefix: String,
    /// When Redis last failed a check, so that the next second's checks
    /// count in memory without waiting for it.
    failed_at: Mutex<Option<Instant>>,
}

impl Shared {
    fn cooling_off(&self) -> bool {
        self.failed_at
            .lock()
            .map(|at| at.is_some_and(|at| at.elapsed() < REDIS_COOL_OFF))
            .unwrap_or(false)
    }

    fn failed(&self, error: &str) {
        if let Ok(mut at) = self.failed_at.lock() {
            if at.is_none() {
                tracing::warn!(
                    error,
                    "rate limits: Redis did not answer; counting in this process until it does"
                );
            }
            *at = Some(Instant::now());
        }
    }

    fn recovered(&self) {
        if let Ok(mut at) = self.failed_at.lock()
            && at.take().is_some()
        {
            tracing::info!("rate limits: counting in Redis again");
        }
    }

    async fn check<K: BucketKey>(&self, limiter: &Limiter<K>, key: &K) -> Option<Verdict> {
        if self.cooling_off() {
            return None;
        }
        let bucket = format!(
            "{}:ratelimit:{}:{}",
            self.prefix,
            limiter.policy,
            key.redis_key()
        );
        let interval = limiter.interval().as_micros() as u64;
        let call = self.script.evalsha_with_reload::<Vec<i64>, _, _>(
            &self.client,
            bucket,
            vec![interval, u64::from(limiter.limit)],
        );
        let answer = match tokio::time::timeout(REDIS_TIMEOUT, call).await {
            Ok(Ok(answer)) if answer.len() == 4 => answer,
            Ok(Ok(answer)) => {
                self.failed(&format!("unexpected answer {answer:?}"));
                return None;
            }
            Ok(Err(err)) => {
                self.failed(&err.to_string());
                return None;
            }
            Err(_) => {
                self.failed("timed out");
                return None;
            }
        };
        self.recovered();
        let micros = |n: i64| Duration::from_micros(u64::try_from(n).unwrap_or(0));
        let standing = Standing {
            policy: limiter.policy,
            limit: limiter.limit,
            remaining: u32::try_from(answer[1]).unwrap_or(0),
            reset: micros(answer[2]),
        };
        Some(Verdict {
            standing: Some(standing),
            refused: (answer[0] == 0).then(|| RetryAfter(micros(answer[3]))),
        })
    }
}

/// Every limit of one deployment (with Redis) or one process.
pub struct RateLimits {
    auth_per_ip: Option<Limiter<IpAddr>>,
    auth_per_email: Option<Limiter<String>>,
    requests_per_ip: Option<Limiter<IpAddr>>,
    requests_per_token: Option<Limiter<[u8; 32]>>,
    shared: Option<Arc<Shared>>,
}

impl RateLimits {
    /// Limits counted in this process's memory.
    pub fn from_config(config: &Config) -> Self {
        Self {
            auth_per_ip: Limiter::per_minute(
                "sign-in-per-ip",
                config.auth_attempts_per_ip_per_minute,
            ),
            auth_per_email: Limiter::per_minute(
                "sign-in-per-email",
                config.auth_attempts_per_email_per_minute,
            ),
            requests_per_ip: Limiter::per_minute("per-ip", config.requests_per_ip_per_minute),
            requests_per_token: Limiter::per_minute(
                "per-token",
                config.requests_per_token_per_minute,
            ),
            shared: None,
        }
    }

    /// Counts in Redis, under `prefix` (the deployment's, as its bus
    /// channels), falling back to memory while Redis does not answer.
    pub fn shared_in(mut self, client: Client, prefix: &str) -> Self {
        self.shared = Some(Arc::new(Shared {
            client,
            script: Script::from_lua(GCRA),
            prefix: prefix.to_owned(),
            failed_at: Mutex::new(None),
        }));
        self
    }

    async fn check<K: BucketKey>(&self, limiter: &Option<Limiter<K>>, key: &K) -> Verdict {
        let Some(limiter) = limiter else {
            return Verdict::FREE;
        };
        if let Some(shared) = &self.shared
            && let Some(verdict) = shared.check(limiter, key).await
        {
            return verdict;
        }
        limiter.check_local(key)
    }

    /// One request: counted against its bearer token if it has one, else
    /// against the client's address.
    pub async fn check_request(&self, ip: IpAddr, token: Option<&str>) -> Verdict {
        match token {
            Some(token) => {
                self.check(&self.requests_per_token, &Sha256::digest(token).into())
                    .await
            }
            None => self.check(&self.requests_per_ip, &client_key(ip)).await,
        }
    }

    /// One sign-in attempt (login, registration, a password check): counted
    /// against the address and the email. Both are charged, so that a
    /// refusal on one does not leave the other untouched.
    pub async fn check_sign_in(&self, ip: IpAddr, email: &str) -> Result<(), RetryAfter> {
        let email = email.trim().to_lowercase();
        let ip = client_key(ip);
        let (by_ip, by_email) = tokio::join!(
            self.check(&self.auth_per_ip, &ip),
            self.check(&self.auth_per_email, &email),
        );
        by_ip.result().and(by_email.result())
    }

    /// A bearer token that did not work: a guess, as far as we can tell.
    pub async fn check_failed_token(&self, ip: IpAddr) -> Result<(), RetryAfter> {
        self.check(&self.auth_per_ip, &client_key(ip))
            .await
            .result()
    }
}

/// Where a request's standing is left for the `/graphql` route to send
/// back in its header fields, whichever way the request was answered.
#[derive(Clone, Default)]
pub struct StandingSlot(Arc<Mutex<Option<Standing>>>);

impl StandingSlot {
    pub fn set(&self, standing: Option<Standing>) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = standing;
        }
    }

    fn take(&self) -> Option<Standing> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// Middleware of `/graphql`: every answer, refusals included, says where
/// the client stands.
pub async fn standing_headers(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let slot = StandingSlot::default();
    request.extensions_mut().insert(slot.clone());
    let mut response = next.run(request).await;
    if let Some(standing) = slot.take() {
        standing.write_headers(response.headers_mut());
    }
    response
}

/// IPv6 clients usually hold a whole /64, so they are limited per /64;
/// IPv4-mapped addresses count as the IPv4 address they carry.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        config: Config,
    }

    fn limits(args: &[&str]) -> RateLimits {
        let mut argv = vec!["test"];
        argv.extend_from_slice(args);
        RateLimits::from_config(&Cli::try_parse_from(argv).unwrap().config)
    }

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const OTHER_IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[tokio::test]
    async fn sign_in_attempts_are_limited_per_email_whatever_the_address() {
        let limits = limits(&["--auth-attempts-per-email-per-minute", "2"]);
        assert!(limits.check_sign_in(IP, "a@example.com").await.is_ok());
        assert!(
            limits
                .check_sign_in(OTHER_IP, "A@Example.com")
                .await
                .is_ok()
        );
        let refused = limits.check_sign_in(IP, "a@example.com").await.unwrap_err();
        assert!((1..=30).contains(&refused.seconds()), "{refused:?}");
        assert!(limits.check_sign_in(IP, "b@example.com").await.is_ok());
    }

    #[tokio::test]
    async fn sign_in_attempts_are_limited_per_address_whatever_the_email() {
        let limits = limits(&["--auth-attempts-per-ip-per-minute", "2"]);
        assert!(limits.check_sign_in(IP, "a@example.com").await.is_ok());
        assert!(limits.check_sign_in(IP, "b@example.com").await.is_ok());
        assert!(limits.check_sign_in(IP, "c@example.com").await.is_err());
        assert!(
            limits
                .check_sign_in(OTHER_IP, "d@example.com")
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn requests_count_against_the_token_when_there_is_one() {
        let limits = limits(&[
            "--requests-per-token-per-minute",
            "1",
            "--requests-per-ip-per-minute",
            "1",
        ]);
        let ok = |v: Verdict| v.result().is_ok();
        assert!(ok(limits.check_request(IP, Some("itg_a")).await));
        assert!(!ok(limits.check_request(IP, Some("itg_a")).await));
        assert!(ok(limits.check_request(IP, Some("itg_b")).await));
        assert!(ok(limits.check_request(IP, None).await));
        assert!(!ok(limits.check_request(IP, None).await));
    }

    #[tokio::test]
    async fn zero_turns_a_limit_off() {
        let limits = limits(&["--requests-per-ip-per-minute", "0"]);
        for _ in 0..1000 {
            let verdict = limits.check_request(IP, None).await;
            assert!(verdict.result().is_ok());
            assert_eq!(verdict.standing, None);
        }
    }

    #[tokio::test]
    async fn the_standing_counts_down_and_says_when_the_bucket_is_full_again() {
        let limits = limits(&["--requests-per-ip-per-minute", "3"]);
        let first = limits.check_request(IP, None).await.standing.unwrap();
        assert_eq!(
            (first.policy, first.limit, first.remaining),
            ("per-ip", 3, 2)
        );
        assert_eq!(first.reset, Duration::from_secs(20));
        limits.check_request(IP, None).await;
        let third = limits.check_request(IP, None).await.standing.unwrap();
        assert_eq!(third.remaining, 0);
        let refused = limits.check_request(IP, None).await;
        assert_eq!(refused.standing.unwrap().remaining, 0);
        assert!(refused.refused.is_some());
        let mut headers = HeaderMap::new();
        first.write_headers(&mut headers);
        assert_eq!(headers["ratelimit-policy"], r#""per-ip";q=3;w=60"#);
        assert_eq!(headers["ratelimit"], r#""per-ip";r=2;t=20"#);
    }

    #[test]
    fn ipv6_clients_share_a_bucket_per_64_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(client_key(mapped), IP);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(RetryAfter(Duration::from_millis(1)).seconds(), 1);
        assert_eq!(RetryAfter(Duration::from_millis(2001)).seconds(), 3);
        assert_eq!(RetryAfter(Duration::ZERO).seconds(), 1);
    }
}
