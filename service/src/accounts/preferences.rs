//! Notification preferences: when digests go out, which live events alert,
//! quiet hours, channels, and the webhook that receives signed deliveries.
//!
//! Times are wall-clock `HH:MM` in the user's IANA time zone (kept on the
//! user, since digests and every displayed time use it). Quiet hours may
//! cross midnight (`22:00`–`07:00`).
//!
//! Live alerts are chosen among the alertable kinds
//! (`notifications::alert_kinds`). The kinds stand for families of match
//! events: `GOAL` covers own goals and penalty goals, `RED_CARD` covers a
//! second yellow, `CORRECTION` covers any correction that changes a score
//! or a card; `FINAL_RESULT` alone asks for the final result only.
//!
//! Schedule-change alerts (a followed team's match moved, postponed or
//! cancelled) are on by default and separate from live alerts: they are
//! about the fixture list, not a match in play.

use chrono::Utc;
use entity::{MatchEventKind, Weekday, notification_preference as prefs, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait as _,
    QueryFilter as _, TransactionSession as _, TransactionTrait,
};

use super::{FieldErrors, LocalTime, TimeZone, token};
use crate::notifications::alert_kinds::{self, AlertKind};
use crate::notifications::webhook_targets::{PRIVATE_TARGET, WebhookTargets};
use crate::{Error, Result};

/// The kinds a new account's live alerts ask for (once turned on).
pub const DEFAULT_KINDS: [MatchEventKind; 7] = [
    MatchEventKind::Lineups,
    MatchEventKind::KickOff,
    MatchEventKind::Goal,
    MatchEventKind::RedCard,
    MatchEventKind::HalfTime,
    MatchEventKind::FullTime,
    MatchEventKind::Correction,
];

/// Webhook secrets are prefixed so they are recognisable in a config file.
const WEBHOOK_SECRET_PREFIX: &str = "whsec_";
const MAX_URL_LEN: usize = 2048;

/// A user's preferences with the time zone they are read in.
#[derive(Clone, Debug)]
pub struct Preferences {
    pub time_zone: String,
    pub row: prefs::Model,
}

impl Preferences {
    /// The stored kinds; anything unreadable is skipped rather than failing
    /// the whole read.
    pub fn live_kinds(&self) -> Vec<AlertKind> {
        alert_kinds::read(&self.row.live_kinds)
    }

    pub fn quiet_hours(&self) -> Option<(&str, &str)> {
        Some((
            self.row.quiet_start.as_deref()?,
            self.row.quiet_end.as_deref()?,
        ))
    }

    pub fn stream_delay(&self) -> StreamDelay {
        StreamDelay::stored(self.row.stream_delay_seconds)
    }

    pub fn has_webhook_secret(&self) -> bool {
        self.row.webhook_secret.is_some()
    }
}

/// How long a fan's live alerts and signed-in subscriptions are held
/// back after what they tell happened, so that nothing beats the
/// broadcast they watch: whole seconds from 0 (off) to 120.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamDelay(u8);

impl StreamDelay {
    /// The longest delay; it also bounds what a delayed subscriber holds.
    pub const MAX_SECONDS: u8 = 120;

    pub fn parse(seconds: i32) -> Result<Self, String> {
        match u8::try_from(seconds) {
            Ok(s) if s <= Self::MAX_SECONDS => Ok(Self(s)),
            _ => Err(format!(
                "must be from 0 to {} seconds, not {seconds}",
                Self::MAX_SECONDS
            )),
        }
    }

    /// As stored: a value out of range (written by hand) reads as the
    /// nearest one allowed rather than failing the fan's alerts.
    pub fn stored(seconds: i32) -> Self {
        Self(seconds.clamp(0, i32::from(Self::MAX_SECONDS)) as u8)
    }

    pub fn seconds(self) -> u8 {
        self.0
    }

    pub fn is_off(self) -> bool {
        self.0 == 0
    }

    pub fn duration(self) -> chrono::Duration {
        chrono::Duration::seconds(i64::from(self.0))
    }
}

/// A webhook endpoint: an absolute http or https URL without credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookUrl(url::Url);

impl WebhookUrl {
    pub fn parse(raw: &str, targets: WebhookTargets) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("must not be empty; send null to remove the webhook".into());
        }
        if raw.chars().count() > MAX_URL_LEN {
            return Err(format!("must be at most {MAX_URL_LEN} characters"));
        }
        let url = url::Url::parse(raw).map_err(|e| format!("is not a valid URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "must start with http:// or https://, not {}:",
                url.scheme()
            ));
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

/// A field that can be kept, removed or replaced.
#[derive(Clone, Debug, Default)]
pub enum Change<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

/// A partial update: `None` and `Change::Keep` leave the value as it is.
#[derive(Clone, Debug, Default)]
pub struct Update {
    pub time_zone: Option<String>,
    pub daily_enabled: Option<bool>,
    pub daily_time: Option<String>,
    pub weekly_enabled: Option<bool>,
    pub weekly_day: Option<Weekday>,
    pub weekly_time: Option<String>,
    pub live_enabled: Option<bool>,
    pub live_kinds: Option<Vec<AlertKind>>,
    pub schedule_change_enabled: Option<bool>,
    pub spoiler_free: Option<bool>,
    /// Seconds, checked by `StreamDelay::parse`.
    pub stream_delay_seconds: Option<i32>,
    /// `(start, end)`.
    pub quiet_hours: Change<(String, String)>,
    pub email_enabled: Option<bool>,
    pub webhook_enabled: Option<bool>,
    pub in_app_enabled: Option<bool>,
    pub web_push_enabled: Option<bool>,
    pub webhook_url: Change<String>,
}

/// The preferences after an update, and the webhook secret if this update
/// created one (the only time it is ever shown).
pub struct Updated {
    pub preferences: Preferences,
    pub new_webhook_secret: Option<String>,
}

/// What a user who never changed anything has.
pub(crate) fn defaults(user_id: i64) -> prefs::Model {
    prefs::Model {
        user_id,
        daily_enabled: false,
        daily_time: "08:00".into(),
        weekly_enabled: false,
        weekly_day: Weekday::Monday,
        weekly_time: "08:00".into(),
        live_enabled: false,
        live_kinds: alert_kinds::stored(&DEFAULT_KINDS.map(AlertKind::Event)),
        schedule_change_enabled: true,
        spoiler_free: false,
        stream_delay_seconds: 0,
        quiet_start: None,
        quiet_end: None,
        email_enabled: false,
        webhook_enabled: false,
        in_app_enabled: true,
        web_push_enabled: true,
        webhook_url: None,
        webhook_secret: None,
        updated_at: Utc::now(),
        next_daily_at: None,
        next_weekly_at: None,
    }
}

/// Writes the default row for a new account.
pub(crate) async fn create_defaults(db: &impl ConnectionTrait, user_id: i64) -> Result<()> {
    let row = prefs::ActiveModel::from(defaults(user_id)).reset_all();
    prefs::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The user's preferences; an account without a row reads the defaults.
pub async fn get(db: &impl ConnectionTrait, user_id: i64) -> Result<Preferences> {
    let user = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("user"))?;
    let row = prefs::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .unwrap_or_else(|| defaults(user_id));
    Ok(Preferences {
        time_zone: user.time_zone,
        row,
    })
}

/// Applies a partial update. Every field is checked before anything is
/// written, and every broken rule is reported under its input path (such
/// as `dailyDigest.time`).
#[tracing::instrument(skip_all, fields(user_id = user_id), err(level = "info"))]
pub async fn update(
    db: &impl TransactionTrait,
    user_id: i64,
    update: Update,
    targets: WebhookTargets,
) -> Result<Updated> {
    let txn = db.begin().await?;
    lock_row(&txn, user_id).await?;
    let user = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("user"))?;
    let existing = prefs::Entity::find_by_id(user_id).one(&txn).await?;
    let is_new = existing.is_none();
    let mut row = existing.unwrap_or_else(|| defaults(user_id));

    let mut errors = FieldErrors::default();
    let time_zone = match &update.time_zone {
        Some(raw) => errors
            .check("timeZone", TimeZone::parse(raw))
            .map(|tz| tz.name().to_owned()),
        None => None,
    };
    let mut time = |field: &str, raw: &Option<String>| -> Option<String> {
        let raw = raw.as_deref()?;
        errors
            .check(field, LocalTime::parse(raw))
            .map(|t| t.to_string())
    };
    let daily_time = time("dailyDigest.time", &update.daily_time);
    let weekly_time = time("weeklyDigest.time", &update.weekly_time);
    let quiet = match &update.quiet_hours {
        Change::Keep => Change::Keep,
        Change::Clear => Change::Clear,
        Change::Set((start, end)) => {
            let start = errors.check("quietHours.start", LocalTime::parse(start));
            let end = errors.check("quietHours.end", LocalTime::parse(end));
            match (start, end) {
                (Some(start), Some(end)) if start == end => {
                    errors.add("quietHours", "start and end must differ");
                    Change::Keep
                }
                (Some(start), Some(end)) => Change::Set((start.to_string(), end.to_string())),
                _ => Change::Keep,
            }
        }
    };
    let webhook_url = match &update.webhook_url {
        Change::Keep => Change::Keep,
        Change::Clear => Change::Clear,
        Change::Set(raw) => match errors.check("webhookUrl", WebhookUrl::parse(raw, targets)) {
            Some(url) => Change::Set(url.as_str().to_owned()),
            None => Change::Keep,
        },
    };
    let stream_delay = update
        .stream_delay_seconds
        .and_then(|seconds| errors.check("streamDelaySeconds", StreamDelay::parse(seconds)));
    let live_kinds = update
        .live_kinds
        .clone()
        .and_then(|kinds| errors.check("liveAlerts.kinds", alert_kinds::check(kinds)));

    if let Some(v) = update.daily_enabled {
        row.daily_enabled = v;
    }
    if let Some(v) = daily_time {
        row.daily_time = v;
    }
    if let Some(v) = update.weekly_enabled {
        row.weekly_enabled = v;
    }
    if let Some(v) = update.weekly_day {
        row.weekly_day = v;
    }
    if let Some(v) = weekly_time {
        row.weekly_time = v;
    }
    if let Some(v) = update.live_enabled {
        row.live_enabled = v;
    }
    if let Some(kinds) = live_kinds {
        row.live_kinds = alert_kinds::stored(&kinds);
    }
    if let Some(v) = update.schedule_change_enabled {
        row.schedule_change_enabled = v;
    }
    if let Some(v) = update.spoiler_free {
        row.spoiler_free = v;
    }
    if let Some(delay) = stream_delay {
        row.stream_delay_seconds = i32::from(delay.seconds());
    }
    match quiet {
        Change::Keep => {}
        Change::Clear => (row.quiet_start, row.quiet_end) = (None, None),
        Change::Set((start, end)) => (row.quiet_start, row.quiet_end) = (Some(start), Some(end)),
    }
    if let Some(v) = update.email_enabled {
        row.email_enabled = v;
    }
    if let Some(v) = update.webhook_enabled {
        row.webhook_enabled = v;
    }
    if let Some(v) = update.in_app_enabled {
        row.in_app_enabled = v;
    }
    if let Some(v) = update.web_push_enabled {
        row.web_push_enabled = v;
    }
    match webhook_url {
        Change::Keep => {}
        Change::Clear => row.webhook_url = None,
        Change::Set(url) => row.webhook_url = Some(url),
    }
    if row.webhook_enabled && row.webhook_url.is_none() {
        errors.add("channels.webhook", "needs a webhookUrl to deliver to");
    }
    errors.into_result()?;

    let new_webhook_secret = if row.webhook_url.is_some() && row.webhook_secret.is_none() {
        let secret = new_webhook_secret()?;
        row.webhook_secret = Some(secret.clone());
        Some(secret)
    } else {
        None
    };
    row.updated_at = Utc::now();
    // Any change may move a digest (its time, its day, being turned on):
    // the dispatcher works the next due times out again.
    row.next_daily_at = None;
    row.next_weekly_at = None;
    let row = save(&txn, row, is_new).await?;
    let time_zone = match time_zone {
        Some(tz) if tz != user.time_zone => {
            let mut active: user::ActiveModel = user.into();
            active.time_zone = Set(tz);
            active.update(&txn).await?.time_zone
        }
        _ => user.time_zone,
    };
    txn.commit().await?;
    Ok(Updated {
        preferences: Preferences { time_zone, row },
        new_webhook_secret,
    })
}

/// Replaces the webhook secret and returns the new one, which is shown
/// only this once. Signatures made with the old one stop verifying.
#[tracing::instrument(skip_all, fields(user_id = user_id), err(level = "info"))]
pub async fn rotate_webhook_secret(db: &impl TransactionTrait, user_id: i64) -> Result<String> {
    let txn = db.begin().await?;
    lock_row(&txn, user_id).await?;
    let existing = prefs::Entity::find_by_id(user_id).one(&txn).await?;
    let is_new = existing.is_none();
    let mut row = existing.unwrap_or_else(|| defaults(user_id));
    let secret = new_webhook_secret()?;
    row.webhook_secret = Some(secret.clone());
    row.updated_at = Utc::now();
    save(&txn, row, is_new).await?;
    txn.commit().await?;
    Ok(secret)
}

/// Writes before reading: a no-op update locks the user's row on
/// PostgreSQL and takes SQLite's write lock, so two updates at once run one
/// after the other and neither overwrites the other's fields with what it
/// read before the other committed.
async fn lock_row(db: &impl ConnectionTrait, user_id: i64) -> Result<()> {
    prefs::Entity::update_many()
        .col_expr(
            prefs::Column::UpdatedAt,
            Expr::col(prefs::Column::UpdatedAt),
        )
        .filter(prefs::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

async fn save(db: &impl ConnectionTrait, row: prefs::Model, is_new: bool) -> Result<prefs::Model> {
    // Every column may have changed: mark them all as set so all are written.
    let active = prefs::ActiveModel::from(row).reset_all();
    if is_new {
        Ok(active.insert(db).await?)
    } else {
        Ok(active.update(db).await?)
    }
}

fn new_webhook_secret() -> Result<String> {
    Ok(format!(
        "{WEBHOOK_SECRET_PREFIX}{}",
        token::random_base64url(32)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_https_url_is_accepted() {
        let url = WebhookUrl::parse(" https://hooks.example.com/itg?x=1 ", PUBLIC).unwrap();
        assert_eq!(url.as_str(), "https://hooks.example.com/itg?x=1");
    }

    const PUBLIC: WebhookTargets = WebhookTargets::PublicOnly;

    #[test]
    fn an_http_url_is_accepted() {
        assert!(WebhookUrl::parse("http://hooks.example.com:9000/hook", PUBLIC).is_ok());
    }

    #[test]
    fn a_private_address_is_refused_unless_private_targets_are_allowed() {
        for raw in [
            "http://127.0.0.1:9000/hook",
            "http://localhost/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.1/",
            "http://192.168.1.1/",
            "http://[::1]:8080/",
            "http://0.0.0.0/",
        ] {
            let err = WebhookUrl::parse(raw, PUBLIC).unwrap_err();
            assert!(err.contains("private"), "{raw}: {err}");
            assert!(WebhookUrl::parse(raw, WebhookTargets::Any).is_ok(), "{raw}");
        }
    }

    #[test]
    fn another_scheme_is_refused_by_name() {
        let err = WebhookUrl::parse("ftp://example.com/hook", PUBLIC).unwrap_err();
        assert!(err.contains("http:// or https://"), "{err}");
        assert!(WebhookUrl::parse("javascript:alert(1)", PUBLIC).is_err());
    }

    #[test]
    fn text_that_is_not_a_url_is_refused() {
        assert!(
            WebhookUrl::parse("not a url", PUBLIC)
                .unwrap_err()
                .contains("not a valid URL")
        );
    }

    #[test]
    fn an_empty_url_is_refused_with_how_to_remove_it() {
        assert!(
            WebhookUrl::parse("  ", PUBLIC)
                .unwrap_err()
                .contains("null")
        );
    }

    #[test]
    fn credentials_in_the_url_are_refused() {
        assert!(
            WebhookUrl::parse("https://user:pass@example.com/", PUBLIC)
                .unwrap_err()
                .contains("user name or password")
        );
    }

    #[test]
    fn a_url_longer_than_2048_characters_is_refused() {
        let raw = format!("https://example.com/{}", "a".repeat(2048));
        assert!(
            WebhookUrl::parse(&raw, PUBLIC)
                .unwrap_err()
                .contains("2048")
        );
    }

    #[test]
    fn a_stream_delay_from_0_to_120_seconds_is_accepted() {
        assert!(StreamDelay::parse(0).unwrap().is_off());
        assert_eq!(StreamDelay::parse(45).unwrap().seconds(), 45);
        assert_eq!(StreamDelay::parse(120).unwrap().seconds(), 120);
    }

    #[test]
    fn a_stream_delay_outside_0_to_120_seconds_is_refused_with_the_range() {
        for seconds in [-1, 121, 256, i32::MAX, i32::MIN] {
            let err = StreamDelay::parse(seconds).unwrap_err();
            assert!(err.contains("from 0 to 120 seconds"), "{seconds}: {err}");
        }
    }

    #[test]
    fn a_stored_stream_delay_out_of_range_reads_as_the_nearest_allowed() {
        assert_eq!(StreamDelay::stored(500).seconds(), 120);
        assert!(StreamDelay::stored(-3).is_off());
    }

    #[test]
    fn defaults_alert_on_the_default_kinds_but_are_off() {
        let prefs = Preferences {
            time_zone: "UTC".into(),
            row: defaults(1),
        };
        assert!(!prefs.row.live_enabled);
        assert!(prefs.row.schedule_change_enabled);
        assert_eq!(prefs.live_kinds(), DEFAULT_KINDS.map(AlertKind::Event));
        assert!(prefs.row.in_app_enabled);
        assert!(!prefs.has_webhook_secret());
    }

    #[test]
    fn a_webhook_secret_is_prefixed_and_random() {
        let a = new_webhook_secret().unwrap();
        assert!(a.starts_with("whsec_"));
        assert_ne!(a, new_webhook_secret().unwrap());
    }
}
