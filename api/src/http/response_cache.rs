//! Remembers the results of public queries for a moment, so that the
//! many fans who ask for the same season page or table between two goals
//! are answered without running it again each time.
//!
//! A result is served again only while the bus's revision has not moved
//! since it was read: every write of the feed (`service::live::feed`) moves
//! it, in this process before the write is answered (so a client always
//! reads its own writes) and in the others when the bus carries it, and so
//! does a reconnect that may have missed some. What changes without the bus (a season imported by
//! `api import` from another process, the clock passing a kick-off) is
//! covered by a short time to live, `RESPONSE_CACHE_MS`, below the
//! `max-age` that anonymous GETs already advertise to shared caches.
//!
//! Only queries that ran without errors and whose answer is the same for
//! everyone are kept and served: asked anonymously, or by a signed-in
//! viewer who is not in spoiler-free mode, and selecting no field whose
//! answer depends on who asks (`graphql::query::VIEWER_FIELDS`: `me`, the
//! admins' fields). A viewer in spoiler-free mode is never answered from
//! here, nor is their answer kept. Bounded in bytes, least recently used
//! first out.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use prometheus_client::metrics::counter::Counter;

/// `RESPONSE_CACHE_MS` and `RESPONSE_CACHE_MB`.
#[derive(Clone, Debug, clap::Args)]
pub struct ResponseCacheOptions {
    /// Milliseconds an anonymous query's result may be served again without
    /// running it, if no write was announced meanwhile (0 to 5000; 0 turns
    /// the cache off). Writes that bypass the API (such as `api import` in
    /// another process) show after at most this long.
    #[arg(
        long = "response-cache-ms",
        env = "RESPONSE_CACHE_MS",
        default_value_t = 1000,
        value_parser = clap::value_parser!(u64).range(0..=5000)
    )]
    pub ttl_ms: u64,

    /// Most memory, in MiB, that remembered results may take (1 to 4096).
    #[arg(
        long = "response-cache-mb",
        env = "RESPONSE_CACHE_MB",
        default_value_t = 32,
        value_parser = clap::value_parser!(u64).range(1..=4096)
    )]
    pub max_mb: u64,
}

impl Default for ResponseCacheOptions {
    fn default() -> Self {
        Self {
            ttl_ms: 1000,
            max_mb: 32,
        }
    }
}

/// Larger results are not kept: one of them would push out many pages.
const MAX_ENTRY_BYTES: usize = 512 << 10;

/// A guess at the average entry, for sizing the table up front.
const TYPICAL_ENTRY_BYTES: u64 = 8 << 10;

/// What makes two requests the same: everything of the request that can
/// change its result when nobody is signed in.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    query: String,
    operation_name: Option<String>,
    variables: String,
    origin: Option<String>,
}

impl Key {
    fn bytes(&self) -> usize {
        self.query.len()
            + self.operation_name.as_ref().map_or(0, String::len)
            + self.variables.len()
            + self.origin.as_ref().map_or(0, String::len)
    }
}

#[derive(Clone)]
struct Entry {
    revision: u64,
    stored_at: Instant,
    body: Bytes,
}

#[derive(Clone)]
struct ByBytes;

impl quick_cache::Weighter<Key, Arc<Entry>> for ByBytes {
    fn weight(&self, key: &Key, entry: &Arc<Entry>) -> u64 {
        // Bookkeeping per entry, besides what it holds.
        (key.bytes() + entry.body.len() + 128) as u64
    }
}

pub struct ResponseCache {
    entries: Option<quick_cache::sync::Cache<Key, Arc<Entry>, ByBytes>>,
    ttl: Duration,
    hits: Counter,
    misses: Counter,
}

impl ResponseCache {
    pub fn new(options: &ResponseCacheOptions) -> Self {
        let bytes = options.max_mb << 20;
        let entries = (options.ttl_ms > 0).then(|| {
            quick_cache::sync::Cache::with_weighter(
                (bytes / TYPICAL_ENTRY_BYTES) as usize,
                bytes,
                ByBytes,
            )
        });
        Self {
            entries,
            ttl: Duration::from_millis(options.ttl_ms),
            hits: Counter::default(),
            misses: Counter::default(),
        }
    }

    /// The request's key, if its result may be kept: the cache is on and
    /// the request uploads nothing. `document` is the text it runs: its own,
    /// or the one its persisted query's hash names (`execution::persisted`),
    /// so a document sent in full and by hash share one answer.
    pub fn key(
        &self,
        document: &str,
        request: &async_graphql::Request,
        origin: Option<&str>,
    ) -> Option<Key> {
        self.entries.as_ref()?;
        if !request.uploads.is_empty() {
            return None;
        }
        Some(Key {
            query: document.to_owned(),
            operation_name: request.operation_name.clone(),
            variables: serde_json::to_string(&request.variables).ok()?,
            origin: origin.map(str::to_owned),
        })
    }

    /// The kept result, if it was read at `revision` and is young enough.
    pub fn get(&self, key: &Key, revision: u64) -> Option<Bytes> {
        let entry = self.entries.as_ref()?.get(key)?;
        if entry.revision != revision || entry.stored_at.elapsed() >= self.ttl {
            return None;
        }
        self.hits.inc();
        Some(entry.body.clone())
    }

    /// Counts a query that could have been answered from here but ran.
    pub fn missed(&self) {
        self.misses.inc();
    }

    /// Keeps a result read while the revision was `revision` (taken before
    /// the read began, so a write that landed during it makes it stale).
    pub fn put(&self, key: Key, revision: u64, body: Bytes) {
        let Some(entries) = &self.entries else {
            return;
        };
        if body.len() > MAX_ENTRY_BYTES {
            return;
        }
        let entry = Entry {
            revision,
            stored_at: Instant::now(),
            body,
        };
        entries.insert(key, Arc::new(entry));
    }

    /// Answers served from the cache, for `/metrics`.
    pub fn hits(&self) -> Counter {
        self.hits.clone()
    }

    /// Queries that could have been answered from here but ran, for `/metrics`.
    pub fn misses(&self) -> Counter {
        self.misses.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(ttl_ms: u64) -> ResponseCache {
        ResponseCache::new(&ResponseCacheOptions { ttl_ms, max_mb: 1 })
    }

    fn request(query: &str) -> async_graphql::Request {
        async_graphql::Request::new(query)
    }

    #[test]
    fn a_result_is_served_while_the_revision_stands_and_not_after() {
        let cache = cache(60_000);
        let key = cache.key("{ a }", &request("{ a }"), None).unwrap();
        assert_eq!(cache.get(&key, 1), None);
        cache.put(key.clone(), 1, Bytes::from_static(b"{\"data\":1}"));
        assert_eq!(cache.get(&key, 1).as_deref(), Some(&b"{\"data\":1}"[..]));
        assert_eq!(cache.get(&key, 2), None, "a write was announced since");
        assert_eq!(cache.hits().get(), 1);
    }

    #[test]
    fn variables_operation_and_origin_are_part_of_the_key() {
        let cache = cache(60_000);
        let plain = cache.key("{ a }", &request("{ a }"), None).unwrap();
        let with_variables = cache
            .key(
                "{ a }",
                &request("{ a }").variables(async_graphql::Variables::from_json(
                    serde_json::json!({ "id": "1" }),
                )),
                None,
            )
            .unwrap();
        let named = cache
            .key("{ a }", &request("{ a }").operation_name("A"), None)
            .unwrap();
        let elsewhere = cache
            .key("{ a }", &request("{ a }"), Some("https://example.com"))
            .unwrap();
        cache.put(plain.clone(), 1, Bytes::from_static(b"plain"));
        for other in [with_variables, named, elsewhere] {
            assert_ne!(other, plain);
            assert_eq!(cache.get(&other, 1), None);
        }
    }

    #[test]
    fn an_old_result_expires_and_a_zero_ttl_keeps_nothing() {
        let cache = cache(1);
        let key = cache.key("{ a }", &request("{ a }"), None).unwrap();
        cache.put(key.clone(), 1, Bytes::from_static(b"x"));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(cache.get(&key, 1), None);

        let off = self::cache(0);
        assert!(off.key("{ a }", &request("{ a }"), None).is_none());
    }

    #[test]
    fn a_result_too_large_to_keep_is_not_kept() {
        let cache = cache(60_000);
        let key = cache.key("{ a }", &request("{ a }"), None).unwrap();
        cache.put(key.clone(), 1, Bytes::from(vec![b' '; MAX_ENTRY_BYTES + 1]));
        assert_eq!(cache.get(&key, 1), None);
    }
}
