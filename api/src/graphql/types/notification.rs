use async_graphql::connection::CursorType;
use async_graphql::{Enum, ID, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::notification;

/// Why a notification was sent.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "entity::NotificationKind")]
pub enum NotificationKind {
    DailyDigest,
    WeeklyDigest,
    LiveEvent,
    Correction,
    KickoffReminder,
    /// A followed team's match was moved, postponed or cancelled.
    ScheduleChange,
}

/// One message in the in-app inbox.
pub struct Notification(pub notification::Model);

#[Object]
impl Notification {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn kind(&self) -> NotificationKind {
        self.0.kind.into()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// Structured details (match, teams, score) for clients that render their own.
    async fn payload(&self) -> Json<serde_json::Value> {
        Json(self.0.payload.clone())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn read_at(&self) -> Option<DateTime<Utc>> {
        self.0.read_at
    }
    /// When it joined the inbox: when it was written, or for a live alert
    /// held back by the stream delay, its release. Null for one the inbox
    /// does not list: held back by quiet hours for the next digest, or
    /// written while the in-app channel was off.
    async fn shown_at(&self) -> Option<DateTime<Utc>> {
        self.0.shown_at
    }
    async fn read(&self) -> bool {
        self.0.read_at.is_some()
    }
}

/// Fields of the inbox connection beyond Relay's.
#[derive(SimpleObject)]
pub struct NotificationPage {
    /// Notifications matching the filter, on every page.
    pub total_count: i32,
}

/// Cursors are opaque to clients; inside, the notification's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotificationCursor(pub i64);

const CURSOR_PREFIX: &str = "n";

impl NotificationCursor {
    pub fn decode(cursor: &str) -> Option<Self> {
        let id = cursor.strip_prefix(CURSOR_PREFIX)?;
        let id = i64::from_str_radix(id, 36).ok()?;
        (id > 0).then_some(Self(id))
    }
}

impl CursorType for NotificationCursor {
    type Error = &'static str;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        Self::decode(s).ok_or("not a notification cursor")
    }

    fn encode_cursor(&self) -> String {
        format!("{CURSOR_PREFIX}{}", radix36(self.0))
    }
}

fn radix36(mut n: i64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    if n <= 0 {
        return "0".into();
    }
    let mut out = Vec::new();
    while n > 0 {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips() {
        for id in [1, 35, 36, 1_000_000, i64::MAX] {
            let cursor = NotificationCursor(id);
            assert_eq!(
                NotificationCursor::decode(&cursor.encode_cursor()),
                Some(cursor)
            );
        }
    }

    #[test]
    fn anything_else_is_not_a_cursor() {
        assert_eq!(NotificationCursor::decode("42"), None);
        assert_eq!(NotificationCursor::decode("n"), None);
        assert_eq!(NotificationCursor::decode("n-5"), None);
        assert_eq!(NotificationCursor::decode("n0"), None);
    }
}
