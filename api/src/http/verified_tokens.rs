//! Remembers, for a moment, who a bearer token that worked belongs to, so
//! that an app that sends its token with every request is not checked in
//! the database every time (for a signed-in reader of a cached public
//! page, that check was most of the request's cost).
//!
//! What is kept stays true for as long as it is used:
//!
//! - Entries are keyed by the token's SHA-256; the token itself is never kept.
//! - Every write that changes what a token stands for (`logout`,
//!   `deleteAccount`, `setUserRole`, `updateNotificationPreferences`)
//!   announces it through the bus once committed
//!   (`service::live::bus::Bus::sessions_changed`): this process forgets the
//!   user's tokens before the write is answered, and the other replicas as
//!   soon as the message reaches them. An entry is used only while the
//!   bus's counters say nothing changed for its user since it was read
//!   (`Bus::sessions_current`), and a token read while anything changed is
//!   not kept at all.
//! - While the bus may be missing messages from other replicas (its Redis
//!   subscriber lost its connection and has not subscribed again), nothing
//!   is used: the cache is emptied and every request checks its token in
//!   the database until the bus vouches again.
//! - An entry lives at most `LIFETIME`, and never past the token's
//!   expiry; checking it again also keeps the token's `last_used_at`
//!   current, as often as it ever was.
//! - A token that does not work is never kept: it is looked up every time,
//!   and counts as a failed sign-in attempt every time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use service::live::bus::SessionsStamp;

use crate::graphql::guards::Viewer;

/// Longest an entry is used before the token is checked in the database
/// again: the bound on a change whose bus message never arrived (say, the
/// writer's Redis publish failed while the others' subscriptions held).
pub const LIFETIME: Duration = Duration::from_secs(60);

/// Most tokens remembered; past that, the least recently used go first.
pub const MAX_ENTRIES: usize = 10_000;

/// A token's SHA-256.
pub type Key = [u8; 32];

struct Entry {
    viewer: Viewer,
    stamp: SessionsStamp,
    until: Instant,
}

pub struct VerifiedTokens {
    entries: quick_cache::sync::Cache<Key, Arc<Entry>>,
    hits: Counter,
    misses: Counter,
}

impl Default for VerifiedTokens {
    fn default() -> Self {
        Self::new(MAX_ENTRIES)
    }
}

impl VerifiedTokens {
    pub fn new(max_entries: usize) -> Self {
        Self {
            entries: quick_cache::sync::Cache::new(max_entries),
            hits: Counter::default(),
            misses: Counter::default(),
        }
    }

    /// The viewer remembered for this token, if the entry is young enough
    /// and `current` says nothing changed for its user since it was read.
    pub fn get(&self, key: &Key, current: impl FnOnce(&SessionsStamp) -> bool) -> Option<Viewer> {
        let Some(entry) = self.entries.get(key) else {
            self.misses.inc();
            return None;
        };
        if Instant::now() >= entry.until || !current(&entry.stamp) {
            self.entries.remove(key);
            self.misses.inc();
            return None;
        }
        self.hits.inc();
        Some(entry.viewer.clone())
    }

    /// Keeps a viewer just read from the database, under the stamp the
    /// bus gave for that read, until `LIFETIME` from now or the token's
    /// expiry, whichever comes first.
    pub fn put(
        &self,
        key: Key,
        viewer: Viewer,
        stamp: SessionsStamp,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) {
        let left = (expires_at - chrono::Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO);
        if left.is_zero() {
            return;
        }
        let entry = Entry {
            viewer,
            stamp,
            until: Instant::now() + left.min(LIFETIME),
        };
        self.entries.insert(key, Arc::new(entry));
    }

    /// Forgets every token, for a request whose token is checked in the
    /// database because the bus cannot vouch for what changed elsewhere.
    pub fn distrusted(&self) {
        self.misses.inc();
        if !self.entries.is_empty() {
            self.entries.clear();
        }
    }

    /// Requests whose token was known here, for `/metrics`.
    pub fn hits(&self) -> Counter {
        self.hits.clone()
    }

    /// Requests whose token was checked in the database, for `/metrics`.
    pub fn misses(&self) -> Counter {
        self.misses.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use service::live::bus::Bus;

    fn viewer(user_id: i64) -> Viewer {
        let at = chrono::DateTime::UNIX_EPOCH;
        Viewer {
            user: entity::user::Model {
                id: user_id,
                email: "fan@example.com".into(),
                display_name: "Fan".into(),
                password_hash: String::new(),
                role: entity::UserRole::User,
                time_zone: "UTC".into(),
                created_at: at,
            },
            token_id: 1,
            spoiler_free: false,
            stream_delay: Default::default(),
        }
    }

    fn later() -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + chrono::Duration::hours(1)
    }

    #[tokio::test]
    async fn a_token_is_known_until_its_user_sessions_change() {
        let bus = Bus::in_process();
        let tokens = VerifiedTokens::default();
        let key = [1; 32];
        let mark = bus.sessions_mark().unwrap();
        let stamp = bus.sessions_stamp(mark, 7).unwrap();
        tokens.put(key, viewer(7), stamp, later());
        let current = |s: &SessionsStamp| bus.sessions_current(s);
        assert_eq!(tokens.get(&key, current).unwrap().user.id, 7);

        // Another user's change leaves it be.
        bus.sessions_changed(8).await;
        assert!(tokens.get(&key, current).is_some());

        bus.sessions_changed(7).await;
        assert!(tokens.get(&key, current).is_none());
        // And it is gone, not only hidden.
        assert!(tokens.get(&key, |_| true).is_none());
    }

    #[tokio::test]
    async fn a_token_read_while_sessions_changed_is_not_kept() {
        let bus = Bus::in_process();
        let mark = bus.sessions_mark().unwrap();
        // A change to anyone while the token was being read.
        bus.sessions_changed(99).await;
        assert!(bus.sessions_stamp(mark, 7).is_none());
    }

    #[tokio::test]
    async fn an_entry_never_outlives_its_token() {
        let bus = Bus::in_process();
        let stamp = bus.sessions_stamp(bus.sessions_mark().unwrap(), 7).unwrap();
        let tokens = VerifiedTokens::default();
        let expired = chrono::Utc::now() - chrono::Duration::seconds(1);
        tokens.put([2; 32], viewer(7), stamp, expired);
        assert!(tokens.get(&[2; 32], |_| true).is_none());
        let soon = chrono::Utc::now() + chrono::Duration::milliseconds(50);
        tokens.put([3; 32], viewer(7), stamp, soon);
        assert!(tokens.get(&[3; 32], |_| true).is_some());
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(tokens.get(&[3; 32], |_| true).is_none());
    }
}
