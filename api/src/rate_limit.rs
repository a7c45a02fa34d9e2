//! Rate limits, kept in this process's memory (GCRA buckets from
//! `governor`). With several api replicas each enforces its own limits, so
//! the effective limit is the configured one times the replica count.
//!
//! Four buckets, each configured per minute (see `service::Config`):
//! sign-in attempts per client IP and per email (the brute-force guards),
//! and requests per bearer token or, without one, per client IP.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use service::Config;
use sha2::{Digest as _, Sha256};

/// The `extensions.code` of a refusal.
pub const RATE_LIMITED: &str = "RATE_LIMITED";

/// Forgotten keys are swept after this many checks, so that a stream of
/// fresh IPs or tokens cannot grow the maps without bound.
const SWEEP_EVERY: u64 = 4096;

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

struct Limiter<K: Hash + Eq + Clone> {
    buckets: DefaultKeyedRateLimiter<K>,
    checks: AtomicU64,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// `None` when the limit is off (0).
    fn per_minute(n: u32) -> Option<Self> {
        let n = NonZeroU32::new(n)?;
        Some(Self {
            buckets: DefaultKeyedRateLimiter::keyed(Quota::per_minute(n)),
            checks: AtomicU64::new(0),
        })
    }

    fn check(&self, key: &K) -> Result<(), RetryAfter> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.buckets.retain_recent();
        }
        self.buckets.check_key(key).map_err(|not_until| {
            RetryAfter(not_until.wait_time_from(DefaultClock::default().now()))
        })
    }
}

/// Every limit of one process.
pub struct RateLimits {
    auth_per_ip: Option<Limiter<IpAddr>>,
    auth_per_email: Option<Limiter<String>>,
    requests_per_ip: Option<Limiter<IpAddr>>,
    requests_per_token: Option<Limiter<[u8; 32]>>,
}

impl RateLimits {
    pub fn from_config(config: &Config) -> Self {
        Self {
            auth_per_ip: Limiter::per_minute(config.auth_attempts_per_ip_per_minute),
            auth_per_email: Limiter::per_minute(config.auth_attempts_per_email_per_minute),
            requests_per_ip: Limiter::per_minute(config.requests_per_ip_per_minute),
            requests_per_token: Limiter::per_minute(config.requests_per_token_per_minute),
        }
    }

    /// One request: counted against its bearer token if it has one, else
    /// against the client's address.
    pub fn check_request(&self, ip: IpAddr, token: Option<&str>) -> Result<(), RetryAfter> {
        match token {
            Some(token) => check(&self.requests_per_token, &Sha256::digest(token).into()),
            None => check(&self.requests_per_ip, &client_key(ip)),
        }
    }

    /// One sign-in attempt (login, registration, a password check): counted
    /// against the address and the email. Both are charged, so that a
    /// refusal on one does not leave the other untouched.
    pub fn check_sign_in(&self, ip: IpAddr, email: &str) -> Result<(), RetryAfter> {
        let by_ip = check(&self.auth_per_ip, &client_key(ip));
        let by_email = check(&self.auth_per_email, &email.trim().to_lowercase());
        by_ip.and(by_email)
    }

    /// A bearer token that did not work: a guess, as far as we can tell.
    pub fn check_failed_token(&self, ip: IpAddr) -> Result<(), RetryAfter> {
        check(&self.auth_per_ip, &client_key(ip))
    }
}

fn check<K: Hash + Eq + Clone>(limiter: &Option<Limiter<K>>, key: &K) -> Result<(), RetryAfter> {
    limiter
        .as_ref()
        .map_or(Ok(()), |limiter| limiter.check(key))
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

    #[test]
    fn sign_in_attempts_are_limited_per_email_whatever_the_address() {
        let limits = limits(&["--auth-attempts-per-email-per-minute", "2"]);
        assert!(limits.check_sign_in(IP, "a@example.com").is_ok());
        assert!(limits.check_sign_in(OTHER_IP, "A@Example.com").is_ok());
        let refused = limits.check_sign_in(IP, "a@example.com").unwrap_err();
        assert!((1..=30).contains(&refused.seconds()), "{refused:?}");
        assert!(limits.check_sign_in(IP, "b@example.com").is_ok());
    }

    #[test]
    fn sign_in_attempts_are_limited_per_address_whatever_the_email() {
        let limits = limits(&["--auth-attempts-per-ip-per-minute", "2"]);
        assert!(limits.check_sign_in(IP, "a@example.com").is_ok());
        assert!(limits.check_sign_in(IP, "b@example.com").is_ok());
        assert!(limits.check_sign_in(IP, "c@example.com").is_err());
        assert!(limits.check_sign_in(OTHER_IP, "d@example.com").is_ok());
    }

    #[test]
    fn requests_count_against_the_token_when_there_is_one() {
        let limits = limits(&[
            "--requests-per-token-per-minute",
            "1",
            "--requests-per-ip-per-minute",
            "1",
        ]);
        assert!(limits.check_request(IP, Some("itg_a")).is_ok());
        assert!(limits.check_request(IP, Some("itg_a")).is_err());
        assert!(limits.check_request(IP, Some("itg_b")).is_ok());
        assert!(limits.check_request(IP, None).is_ok());
        assert!(limits.check_request(IP, None).is_err());
    }

    #[test]
    fn zero_turns_a_limit_off() {
        let limits = limits(&["--requests-per-ip-per-minute", "0"]);
        for _ in 0..1000 {
            assert!(limits.check_request(IP, None).is_ok());
        }
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
