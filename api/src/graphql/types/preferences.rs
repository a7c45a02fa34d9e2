use async_graphql::{Enum, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::MatchEventKind;
use service::accounts::preferences::{Change, Preferences, Update};
use service::notifications::alert_kinds::AlertKind;

/// A day of the week, for the weekly digest.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "entity::Weekday")]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

/// What a live alert can be asked for: match events, each standing for
/// a family (`GOAL` includes own goals and penalties, `RED_CARD` a second
/// yellow), or `FINAL_RESULT` alone.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum LiveAlertKind {
    /// A followed team's line-up for a match is announced or changed.
    Lineups,
    KickOff,
    Goal,
    /// The referee gave a penalty.
    PenaltyAwarded,
    /// A penalty was missed or saved.
    MissedPenalty,
    /// The video assistant referee is checking an incident.
    VarCheck,
    /// What a VAR check decided.
    VarDecision,
    RedCard,
    HalfTime,
    SecondHalf,
    /// Extra time begins.
    ExtraTime,
    /// A penalty shoot-out begins, and its result at the final whistle.
    PenaltyShootout,
    FullTime,
    /// A correction to an earlier event, such as a disallowed goal.
    Correction,
    /// Only the result once the match is over (after extra time and
    /// penalties when there were any): no other alert of those matches,
    /// no kick-off reminder, no schedule change. It stands alone.
    FinalResult,
}

impl From<LiveAlertKind> for AlertKind {
    fn from(kind: LiveAlertKind) -> Self {
        use LiveAlertKind as L;
        use MatchEventKind as K;
        AlertKind::Event(match kind {
            L::Lineups => K::Lineups,
            L::KickOff => K::KickOff,
            L::Goal => K::Goal,
            L::PenaltyAwarded => K::PenaltyAwarded,
            L::MissedPenalty => K::MissedPenalty,
            L::VarCheck => K::VarCheck,
            L::VarDecision => K::VarDecision,
            L::RedCard => K::RedCard,
            L::HalfTime => K::HalfTime,
            L::SecondHalf => K::SecondHalf,
            L::ExtraTime => K::ExtraTime,
            L::PenaltyShootout => K::PenaltyShootout,
            L::FullTime => K::FullTime,
            L::Correction => K::Correction,
            L::FinalResult => return AlertKind::FinalResult,
        })
    }
}

impl LiveAlertKind {
    pub fn from_stored(kind: AlertKind) -> Option<Self> {
        use MatchEventKind as K;
        let event = match kind {
            AlertKind::FinalResult => return Some(Self::FinalResult),
            AlertKind::Event(event) => event,
        };
        Some(match event {
            K::Lineups => Self::Lineups,
            K::KickOff => Self::KickOff,
            K::Goal => Self::Goal,
            K::PenaltyAwarded => Self::PenaltyAwarded,
            K::MissedPenalty => Self::MissedPenalty,
            K::VarCheck => Self::VarCheck,
            K::VarDecision => Self::VarDecision,
            K::RedCard => Self::RedCard,
            K::HalfTime => Self::HalfTime,
            K::SecondHalf => Self::SecondHalf,
            K::ExtraTime => Self::ExtraTime,
            K::PenaltyShootout => Self::PenaltyShootout,
            K::FullTime => Self::FullTime,
            K::Correction => Self::Correction,
            _ => return None,
        })
    }
}

/// A daily digest of the followed teams' fixtures and results.
#[derive(SimpleObject)]
pub struct DailyDigest {
    pub enabled: bool,
    /// Local time `HH:MM` in `timeZone`.
    pub time: String,
}

/// A weekly digest, on one day at one local time.
#[derive(SimpleObject)]
pub struct WeeklyDigest {
    pub enabled: bool,
    pub day: Weekday,
    /// Local time `HH:MM` in `timeZone`.
    pub time: String,
}

/// Alerts while the followed teams play.
#[derive(SimpleObject)]
pub struct LiveAlerts {
    pub enabled: bool,
    pub kinds: Vec<LiveAlertKind>,
}

/// Alerts when a followed team's match is moved, postponed or cancelled.
#[derive(SimpleObject)]
pub struct ScheduleChangeAlerts {
    pub enabled: bool,
}

/// Local times between which nothing is pushed. `start` after `end`
/// crosses midnight (`22:00` to `07:00`).
#[derive(SimpleObject)]
pub struct QuietHours {
    pub start: String,
    pub end: String,
}

/// Where notifications go.
#[derive(SimpleObject)]
pub struct Channels {
    pub email: bool,
    pub webhook: bool,
    pub in_app: bool,
    /// Web Push to every browser subscribed with `subscribeWebPush`; on by
    /// default, since subscribing a browser is the opt-in.
    pub web_push: bool,
}

/// When and how the account is notified.
pub struct NotificationPreferences(pub Preferences);

#[Object]
impl NotificationPreferences {
    /// IANA time zone that every local time here is in.
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }
    async fn daily_digest(&self) -> DailyDigest {
        DailyDigest {
            enabled: self.0.row.daily_enabled,
            time: self.0.row.daily_time.clone(),
        }
    }
    async fn weekly_digest(&self) -> WeeklyDigest {
        WeeklyDigest {
            enabled: self.0.row.weekly_enabled,
            day: self.0.row.weekly_day.into(),
            time: self.0.row.weekly_time.clone(),
        }
    }
    async fn live_alerts(&self) -> LiveAlerts {
        LiveAlerts {
            enabled: self.0.row.live_enabled,
            kinds: self
                .0
                .live_kinds()
                .into_iter()
                .filter_map(LiveAlertKind::from_stored)
                .collect(),
        }
    }
    async fn schedule_change_alerts(&self) -> ScheduleChangeAlerts {
        ScheduleChangeAlerts {
            enabled: self.0.row.schedule_change_enabled,
        }
    }
    /// Spoiler-free mode: results (scores, goal events, tables, and the
    /// alerts and digests that tell them) are kept from you until you
    /// reveal a match with `revealMatch`. Fixtures, kick-offs, line-ups and
    /// schedule changes still come through.
    async fn spoiler_free(&self) -> bool {
        self.0.row.spoiler_free
    }
    /// Seconds (0 to 120, default 0) that your live alerts and your
    /// signed-in live subscriptions are held back after what they tell
    /// happened, so that nothing beats the broadcast you watch: an alert's
    /// email, webhook and Web Push are sent, and it joins the inbox and
    /// `notificationReceived`, that long after the event; each event and
    /// update of `matchEvents`, `matchUpdated`, `liveScores` and
    /// `standingsChanged` comes that long after it happened. A websocket
    /// keeps the delay it signed in with until it reconnects. Queries are
    /// not delayed.
    async fn stream_delay_seconds(&self) -> i32 {
        i32::from(self.0.stream_delay().seconds())
    }
    /// Null when there are none.
    async fn quiet_hours(&self) -> Option<QuietHours> {
        self.0.quiet_hours().map(|(start, end)| QuietHours {
            start: start.to_owned(),
            end: end.to_owned(),
        })
    }
    async fn channels(&self) -> Channels {
        Channels {
            email: self.0.row.email_enabled,
            webhook: self.0.row.webhook_enabled,
            in_app: self.0.row.in_app_enabled,
            web_push: self.0.row.web_push_enabled,
        }
    }
    /// Where webhook deliveries are POSTed.
    async fn webhook_url(&self) -> Option<&str> {
        self.0.row.webhook_url.as_deref()
    }
    /// Whether webhook deliveries are signed. The secret itself is shown
    /// only by the mutation that creates or rotates it.
    async fn has_webhook_secret(&self) -> bool {
        self.0.has_webhook_secret()
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.row.updated_at
    }
}

#[derive(InputObject)]
pub struct DailyDigestInput {
    pub enabled: Option<bool>,
    /// `HH:MM`, 24-hour, local time.
    pub time: Option<String>,
}

#[derive(InputObject)]
pub struct WeeklyDigestInput {
    pub enabled: Option<bool>,
    pub day: Option<Weekday>,
    /// `HH:MM`, 24-hour, local time.
    pub time: Option<String>,
}

#[derive(InputObject)]
pub struct LiveAlertsInput {
    pub enabled: Option<bool>,
    /// Replaces the whole list.
    pub kinds: Option<Vec<LiveAlertKind>>,
}

#[derive(InputObject)]
pub struct ScheduleChangeAlertsInput {
    pub enabled: Option<bool>,
}

#[derive(InputObject)]
pub struct QuietHoursInput {
    /// `HH:MM`, local time.
    pub start: String,
    /// `HH:MM`, local time; before `start` to cross midnight.
    pub end: String,
}

#[derive(InputObject)]
pub struct ChannelsInput {
    pub email: Option<bool>,
    pub webhook: Option<bool>,
    pub in_app: Option<bool>,
    pub web_push: Option<bool>,
}

/// A partial update: a field left out keeps its value. `quietHours` and
/// `webhookUrl` are removed with an explicit `null`.
#[derive(InputObject)]
pub struct NotificationPreferencesInput {
    /// IANA name such as `Europe/London`.
    pub time_zone: Option<String>,
    pub daily_digest: Option<DailyDigestInput>,
    pub weekly_digest: Option<WeeklyDigestInput>,
    pub live_alerts: Option<LiveAlertsInput>,
    pub schedule_change_alerts: Option<ScheduleChangeAlertsInput>,
    /// See `NotificationPreferences.spoilerFree`.
    pub spoiler_free: Option<bool>,
    /// 0 to 120; see `NotificationPreferences.streamDelaySeconds`.
    pub stream_delay_seconds: Option<i32>,
    pub quiet_hours: MaybeUndefined<QuietHoursInput>,
    pub channels: Option<ChannelsInput>,
    /// An http or https URL. Setting the first one creates the signing
    /// secret, returned once in `webhookSecret`.
    pub webhook_url: MaybeUndefined<String>,
}

fn change<T, U>(value: MaybeUndefined<T>, f: impl FnOnce(T) -> U) -> Change<U> {
    match value {
        MaybeUndefined::Undefined => Change::Keep,
        MaybeUndefined::Null => Change::Clear,
        MaybeUndefined::Value(v) => Change::Set(f(v)),
    }
}

impl From<NotificationPreferencesInput> for Update {
    fn from(input: NotificationPreferencesInput) -> Self {
        let daily = input.daily_digest;
        let weekly = input.weekly_digest;
        let live = input.live_alerts;
        let channels = input.channels;
        Update {
            time_zone: input.time_zone,
            daily_enabled: daily.as_ref().and_then(|d| d.enabled),
            daily_time: daily.and_then(|d| d.time),
            weekly_enabled: weekly.as_ref().and_then(|w| w.enabled),
            weekly_day: weekly.as_ref().and_then(|w| w.day).map(Into::into),
            weekly_time: weekly.and_then(|w| w.time),
            live_enabled: live.as_ref().and_then(|l| l.enabled),
            live_kinds: live
                .and_then(|l| l.kinds)
                .map(|kinds| kinds.into_iter().map(Into::into).collect()),
            schedule_change_enabled: input.schedule_change_alerts.and_then(|s| s.enabled),
            spoiler_free: input.spoiler_free,
            stream_delay_seconds: input.stream_delay_seconds,
            quiet_hours: change(input.quiet_hours, |q| (q.start, q.end)),
            email_enabled: channels.as_ref().and_then(|c| c.email),
            webhook_enabled: channels.as_ref().and_then(|c| c.webhook),
            in_app_enabled: channels.as_ref().and_then(|c| c.in_app),
            web_push_enabled: channels.and_then(|c| c.web_push),
            webhook_url: change(input.webhook_url, |url| url),
        }
    }
}

#[derive(SimpleObject)]
pub struct UpdateNotificationPreferencesPayload {
    pub preferences: NotificationPreferences,
    /// Set only when this update created the webhook signing secret: store
    /// it now, it is never shown again.
    pub webhook_secret: Option<String>,
}

#[derive(SimpleObject)]
pub struct RotateWebhookSecretPayload {
    /// The new signing secret, shown only this once. The old one stops
    /// working now.
    pub webhook_secret: String,
}
