//! Streams for subscriptions that never silently lose an event. The bus is
//! fast but lossy (Redis PubSub is at-most-once; a slow receiver lags), so
//! every stream tracks the last sequence number it delivered and refills
//! from the database whenever it sees a gap, lags, or the bus reconnects.

use std::collections::HashSet;

use entity::{MatchStatus, football_match, match_event, notification};
use futures::Stream;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::broadcast::error::RecvError;

use super::bus::{Bus, BusMessage, Delivery, Subscription, Topic};
use crate::Result;

/// Statuses in which a match is being played.
pub const IN_PLAY: [MatchStatus; 4] = [
    MatchStatus::Live,
    MatchStatus::HalfTime,
    MatchStatus::ExtraTime,
    MatchStatus::Penalties,
];

/// What the stream should do after reading from the bus.
enum Next {
    Deliver(std::sync::Arc<BusMessage>),
    Refill,
    Stop,
}

async fn next(rx: &mut Subscription) -> Next {
    match rx.recv().await {
        Ok(Delivery::Message(message)) => Next::Deliver(message),
        Ok(Delivery::Resync) | Err(RecvError::Lagged(_)) => Next::Refill,
        Err(RecvError::Closed) => Next::Stop,
    }
}

async fn events_after(
    db: &DatabaseConnection,
    match_id: i64,
    seq: i32,
) -> Result<Vec<match_event::Model>> {
    Ok(match_event::Entity::find()
        .filter(match_event::Column::MatchId.eq(match_id))
        .filter(match_event::Column::Seq.gt(seq))
        .order_by_asc(match_event::Column::Seq)
        .all(db)
        .await?)
}

/// The match's events after `after_seq` from the database, then live ones
/// as they are recorded: each exactly once, in sequence order.
pub fn match_events(
    db: DatabaseConnection,
    bus: &Bus,
    match_id: i64,
    after_seq: i32,
) -> impl Stream<Item = Result<match_event::Model>> + Send + use<> {
    // Subscribe before reading the database, so nothing recorded in
    // between can fall through the seam.
    let mut rx = bus.subscribe(Topic::Match(match_id));
    async_stream::try_stream! {
        let mut last = after_seq;
        for event in events_after(&db, match_id, last).await? {
            last = event.seq;
            yield event;
        }
        loop {
            let refill = match next(&mut rx).await {
                Next::Stop => break,
                Next::Refill => true,
                Next::Deliver(message) => match &*message {
                    BusMessage::Match { football_match, event: Some(event), .. }
                        if football_match.id == match_id =>
                    {
                        if event.seq == last + 1 {
                            last = event.seq;
                            yield (**event).clone();
                            false
                        } else {
                            // Older ones were delivered already; newer means a gap.
                            event.seq > last
                        }
                    }
                    _ => false,
                },
            };
            if refill {
                for event in events_after(&db, match_id, last).await? {
                    last = event.seq;
                    yield event;
                }
            }
        }
    }
}

/// The match as it is now, then again after every change.
pub fn match_updates(
    db: DatabaseConnection,
    bus: &Bus,
    match_id: i64,
) -> impl Stream<Item = Result<football_match::Model>> + Send + use<> {
    let mut rx = bus.subscribe(Topic::Match(match_id));
    async_stream::try_stream! {
        let Some(mut current) = football_match::Entity::find_by_id(match_id).one(&db).await? else {
            Err(crate::Error::not_found("match"))?;
            return;
        };
        yield current.clone();
        loop {
            let candidate = match next(&mut rx).await {
                Next::Stop => break,
                Next::Refill => football_match::Entity::find_by_id(match_id).one(&db).await?,
                Next::Deliver(message) => match &*message {
                    BusMessage::Match { football_match, .. } if football_match.id == match_id => {
                        Some(football_match.as_ref().clone())
                    }
                    _ => None,
                },
            };
            // Publishes of two quick writes may arrive out of order; never go back.
            if let Some(candidate) = candidate
                && candidate != current
                && (candidate.last_event_seq, candidate.updated_at) >= (current.last_event_seq, current.updated_at)
            {
                current = candidate;
                yield current.clone();
            }
        }
    }
}

/// Which live matches a `liveScores` subscriber wants.
#[derive(Clone, Debug, Default)]
pub struct LiveFilter {
    pub competition_id: Option<i64>,
    /// Any of these teams; empty means every team.
    pub team_ids: HashSet<i64>,
}

impl LiveFilter {
    fn admits(&self, m: &football_match::Model, competition_id: i64) -> bool {
        self.competition_id.is_none_or(|c| c == competition_id)
            && (self.team_ids.is_empty()
                || self.team_ids.contains(&m.home_team_id)
                || self.team_ids.contains(&m.away_team_id))
    }
}

async fn live_now(
    db: &DatabaseConnection,
    filter: &LiveFilter,
) -> Result<Vec<football_match::Model>> {
    let live = football_match::Entity::find()
        .filter(football_match::Column::Status.is_in(IN_PLAY))
        .order_by_asc(football_match::Column::KickoffAt)
        .all(db)
        .await?;
    let season_ids: Vec<i64> = live.iter().map(|m| m.season_id).collect();
    let seasons = crate::competitions::seasons_by_ids(db, &season_ids).await?;
    let competition_of = |season_id: i64| {
        seasons
            .iter()
            .find(|s| s.id == season_id)
            .map_or(0, |s| s.competition_id)
    };
    Ok(live
        .into_iter()
        .filter(|m| filter.admits(m, competition_of(m.season_id)))
        .collect())
}

/// Every match in play that fits the filter, now and after each change,
/// including the change that ends it.
pub fn live_scores(
    db: DatabaseConnection,
    bus: &Bus,
    filter: LiveFilter,
) -> impl Stream<Item = Result<football_match::Model>> + Send + use<> {
    let mut rx = bus.subscribe(Topic::AllMatches);
    async_stream::try_stream! {
        for m in live_now(&db, &filter).await? {
            yield m;
        }
        loop {
            match next(&mut rx).await {
                Next::Stop => break,
                Next::Refill => {
                    for m in live_now(&db, &filter).await? {
                        yield m;
                    }
                }
                Next::Deliver(message) => {
                    if let BusMessage::Match { football_match, competition_id, .. } = &*message
                        && filter.admits(football_match, *competition_id)
                        && (IN_PLAY.contains(&football_match.status)
                            || football_match.status == MatchStatus::Finished)
                    {
                        yield football_match.as_ref().clone();
                    }
                }
            }
        }
    }
}

/// The season's live table (`Counting::Live`) now, then again whenever a
/// match of the season changes in a way that moves it: a goal, a kick-off,
/// a final whistle. Each table differs from the one before.
pub fn standings_changes(
    db: DatabaseConnection,
    bus: &Bus,
    season_id: i64,
) -> impl Stream<Item = Result<Vec<crate::standings::Row>>> + Send + use<> {
    use std::collections::HashMap;

    use crate::standings::{Counting, table};

    // A card or a substitution leaves the table as it was: only a change
    // of status or score makes it worth reading again.
    type Standing = (MatchStatus, Option<i32>, Option<i32>);
    let mut rx = bus.subscribe(Topic::AllMatches);
    async_stream::try_stream! {
        let mut last = table(&db, season_id, Counting::Live).await?;
        yield last.clone();
        let mut seen: HashMap<i64, Standing> = HashMap::new();
        loop {
            let read_again = match next(&mut rx).await {
                Next::Stop => break,
                Next::Refill => true,
                Next::Deliver(message) => match &*message {
                    BusMessage::Match { football_match: m, .. } if m.season_id == season_id => {
                        let now = (m.status, m.home_score, m.away_score);
                        seen.insert(m.id, now) != Some(now)
                    }
                    _ => false,
                },
            };
            if read_again {
                let fresh = table(&db, season_id, Counting::Live).await?;
                if fresh != last {
                    last = fresh;
                    yield last.clone();
                }
            }
        }
    }
}

/// The user's new in-app notifications as they are written: everything
/// after the newest one that existed when this was called. One held back
/// by the user's stream delay comes at its release, when the stream wakes
/// on its own (the bus has nothing to say then), and a newer one released
/// before it does not make it skipped.
pub async fn notifications(
    db: DatabaseConnection,
    bus: &Bus,
    user_id: i64,
) -> Result<impl Stream<Item = Result<notification::Model>> + Send + use<>> {
    let mut rx = bus.subscribe(Topic::User(user_id));
    // Read eagerly: a notification written after the caller subscribed must
    // not be mistaken for one that already existed.
    let newest = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .order_by_desc(notification::Column::Id)
        .one(&db)
        .await?
        .map_or(0, |n| n.id);
    // One held back by the stream delay and not shown yet is still to
    // come, and so is any newer one held back; those shown already are not.
    let now = chrono::Utc::now();
    let first_held = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .filter(crate::accounts::inbox::held_back_at(now))
        .order_by_asc(notification::Column::Id)
        .one(&db)
        .await?;
    // Delivered (or there before this began) though above `last_id`,
    // because an older one is still held back: a stream delay's worth.
    let (mut last_id, mut told, mut wake) = match first_held {
        None => (newest, HashSet::new(), None),
        Some(held) => {
            let shown: Vec<i64> = notification::Entity::find()
                .select_only()
                .column(notification::Column::Id)
                .filter(notification::Column::UserId.eq(user_id))
                .filter(notification::Column::Id.gt(held.id - 1))
                .filter(crate::accounts::inbox::shown_by(now))
                .into_tuple()
                .all(&db)
                .await?;
            // Read at once, which finds when the next one is due.
            (held.id - 1, shown.into_iter().collect(), Some(now))
        }
    };
    Ok(async_stream::try_stream! {
        loop {
            let wanted = tokio::select! {
                next = next(&mut rx) => match next {
                    Next::Stop => break,
                    Next::Refill => true,
                    Next::Deliver(message) => match &*message {
                        BusMessage::Notification { user_id: u, .. } => *u == user_id,
                        BusMessage::Notifications { user_ids } => user_ids.contains(&user_id),
                        _ => false,
                    },
                },
                () = until(wake) => true,
            };
            if wanted {
                let now = chrono::Utc::now();
                let fresh = notification::Entity::find()
                    .filter(notification::Column::UserId.eq(user_id))
                    .filter(notification::Column::Id.gt(last_id))
                    .filter(notification::Column::ShownAt.is_not_null())
                    .order_by_asc(notification::Column::Id)
                    .all(&db)
                    .await?;
                wake = None;
                let mut waiting = false;
                for n in fresh {
                    if let Some(at) = n.shown_at.filter(|at| *at > now) {
                        waiting = true;
                        wake = Some(wake.map_or(at, |w| w.min(at)));
                        continue;
                    }
                    let id = n.id;
                    if !told.contains(&id) {
                        yield n;
                    }
                    if waiting {
                        told.insert(id);
                    } else {
                        last_id = id;
                        told.remove(&id);
                    }
                }
            }
        }
    })
}

/// Sleeps until `at`, or forever without one.
async fn until(at: Option<chrono::DateTime<chrono::Utc>>) {
    match at {
        Some(at) => {
            let wait = (at - chrono::Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(wait).await;
        }
        None => std::future::pending().await,
    }
}

/// The most items a delayed stream holds at once. Past it, the stream
/// stops reading until the oldest is released; what it misses meanwhile
/// is read again from the database (a lagging receiver refills), so
/// nothing is lost.
pub const DELAY_HOLDS_AT_MOST: usize = 1000;

/// `inner` for a viewer with a stream delay: each item is released
/// `delay` after it happened (`happened`, or when it arrived when that
/// says `None`), in the order it came. What is held is at most `delay`'s
/// worth (120 s at most) and at most `DELAY_HOLDS_AT_MOST` items; an
/// error is passed on in its turn.
pub fn delayed<T: Send + 'static>(
    inner: impl Stream<Item = Result<T>> + Send + 'static,
    delay: chrono::Duration,
    happened: impl Fn(&T) -> Option<chrono::DateTime<chrono::Utc>> + Send + 'static,
) -> impl Stream<Item = Result<T>> + Send + 'static {
    released(inner, move |item| {
        let now = chrono::Utc::now();
        let at = match item {
            Ok(value) => happened(value).map_or(now, |at| at.min(now)),
            Err(_) => now,
        };
        at + delay
    })
}

/// `inner`, each item held until the time `release_at` gives it as it
/// arrives, and never sent before one that came earlier: the hold of a
/// stream delay. At most `DELAY_HOLDS_AT_MOST` items are held.
pub fn released<T: Send + 'static>(
    inner: impl Stream<Item = T> + Send + 'static,
    release_at: impl Fn(&T) -> chrono::DateTime<chrono::Utc> + Send + 'static,
) -> impl Stream<Item = T> + Send + 'static {
    use futures::StreamExt as _;
    async_stream::stream! {
        let mut inner = std::pin::pin!(inner);
        let mut held: std::collections::VecDeque<(chrono::DateTime<chrono::Utc>, T)> =
            std::collections::VecDeque::new();
        let mut ended = false;
        loop {
            let now = chrono::Utc::now();
            while held.front().is_some_and(|(at, _)| *at <= now) {
                if let Some((_, item)) = held.pop_front() {
                    yield item;
                }
            }
            if ended && held.is_empty() {
                break;
            }
            let room = !ended && held.len() < DELAY_HOLDS_AT_MOST;
            tokio::select! {
                item = inner.next(), if room => match item {
                    Some(item) => {
                        let at = release_at(&item);
                        // Never before what came earlier.
                        let at = held.back().map_or(at, |(last, _)| at.max(*last));
                        held.push_back((at, item));
                    }
                    None => ended = true,
                },
                () = until(held.front().map(|(at, _)| *at)) => {}
            }
        }
    }
}
