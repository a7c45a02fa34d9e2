//! Subscriptions: live matches, live tables and the viewer's notifications,
//! served over both websocket protocols on `/graphql`. Each stream comes
//! from `service::live::stream`, which refills from the database on any gap.
//! A socket signed in with a stream delay (`StreamDelayed`) runs its own
//! executions, each item held back until that long after it happened: the
//! item is resolved as it arrives and its response is what waits
//! (`hold_responses`), so it shows the match as it was then.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::{Context, ID, Subscription};
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use prometheus_client::metrics::gauge::Gauge;
use sea_orm::DatabaseConnection;
use service::live::bus::Bus;
use service::live::stream::{self, LiveFilter};

use super::error::{GqlResultExt as _, to_graphql};
use super::guards::{AuthGuard, viewer};
use super::scalars::parse_id;
use super::spoilers::refuse_live_results;
use super::types::{Match, MatchEvent, Notification, StandingRow};

/// How many subscriptions are open in this process, for `/metrics`.
#[derive(Clone, Debug, Default)]
pub struct OpenSubscriptions(Gauge);

impl OpenSubscriptions {
    pub fn gauge(&self) -> Gauge {
        self.0.clone()
    }

    pub fn get(&self) -> i64 {
        self.0.get()
    }

    /// Counts `inner` as open until the client completes or goes away and
    /// the stream is dropped.
    fn track<S: Stream + Send + 'static>(
        &self,
        inner: S,
    ) -> impl Stream<Item = S::Item> + Send + use<S> {
        struct Open(Gauge);
        impl Drop for Open {
            fn drop(&mut self) {
                self.0.dec();
            }
        }
        self.0.inc();
        let open = Open(self.0.clone());
        inner.map(move |item| {
            let _held = &open;
            item
        })
    }
}

/// In a websocket's data when its viewer signed in with a stream delay:
/// their live subscriptions are not shared, and each holds its items back.
#[derive(Clone, Copy, Debug)]
pub struct StreamDelayed(pub service::accounts::preferences::StreamDelay);

/// In a delayed socket's operation: when the item each of its root fields
/// last yielded happened, by response key. The resolver stamps each item
/// as it passes; the executor takes the stamp off the item's response,
/// which async-graphql resolves before that field's stream is read again.
/// A response with no stamp is not an item's (an error before the stream
/// began, a query) and goes at once.
#[derive(Clone, Debug, Default)]
pub struct Happened(Arc<Mutex<HashMap<String, Option<DateTime<Utc>>>>>);

impl Happened {
    fn stamp(&self, field: &str, at: Option<DateTime<Utc>>) {
        let mut stamps = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match stamps.get_mut(field) {
            Some(stamp) => *stamp = at,
            None => {
                stamps.insert(field.to_owned(), at);
            }
        }
    }

    /// The stamp of the item `response` is made of.
    fn take(&self, response: &async_graphql::Response) -> Option<Option<DateTime<Utc>>> {
        let async_graphql::Value::Object(data) = &response.data else {
            return None;
        };
        let mut stamps = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        data.keys().find_map(|field| stamps.remove(field.as_str()))
    }
}

/// A delayed socket's operation as it is sent: each response waits until
/// its item happened plus the delay (an item of unknown time: the delay
/// after it came), in order. Each is resolved as its item arrives, not
/// when sent, so everything it says (the tie, an event's correction, the
/// table) is as of its moment. The operation must be run with `happened`
/// in its data.
pub fn hold_responses(
    delay: service::accounts::preferences::StreamDelay,
    happened: Happened,
    responses: BoxStream<'static, async_graphql::Response>,
) -> BoxStream<'static, async_graphql::Response> {
    let delay = delay.duration();
    stream::released(responses, move |response| {
        let now = Utc::now();
        match happened.take(response) {
            Some(at) => at.map_or(now, |at| at.min(now)) + delay,
            None => now,
        }
    })
    .boxed()
}

/// `inner` as this viewer gets it: with a stream delay, each item is
/// stamped with when it happened (`happened`), and its response held back
/// (`hold_responses`).
fn held<T: Send + 'static>(
    ctx: &Context<'_>,
    inner: impl Stream<Item = service::Result<T>> + Send + 'static,
    happened: fn(&T) -> Option<DateTime<Utc>>,
) -> BoxStream<'static, service::Result<T>> {
    match (ctx.data_opt::<StreamDelayed>(), ctx.data_opt::<Happened>()) {
        (Some(StreamDelayed(delay)), stamps) if !delay.is_off() => match stamps.cloned() {
            Some(stamps) => {
                let field = ctx.item.node.response_key().node.to_string();
                inner
                    .inspect(move |item| {
                        stamps.stamp(&field, item.as_ref().ok().and_then(happened));
                    })
                    .boxed()
            }
            // Run without the executor that holds responses: held here,
            // and resolved when released.
            None => stream::delayed(inner, delay.duration(), happened).boxed(),
        },
        _ => inner.boxed(),
    }
}

/// A match a live stream read, as this viewer gets it: held back by a
/// stream delay, it shows only the events it had when read.
fn match_of(
    ctx: &Context<'_>,
) -> fn(service::Result<entity::football_match::Model>) -> async_graphql::Result<Match> {
    match ctx.data_opt::<StreamDelayed>() {
        Some(_) => |r| gql(r).map(Match::snapshot),
        None => |r| gql(r).map(Match::new),
    }
}

fn gql<T>(result: service::Result<T>) -> async_graphql::Result<T> {
    result.map_err(to_graphql)
}

pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// The match as it is now, then again after every change to it.
    async fn match_updated(
        &self,
        ctx: &Context<'_>,
        match_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Match>> + use<>> {
        let (db, bus, open) = parts(ctx);
        let id = parse_id("matchId", &match_id)?;
        ensure_match(&db, id).await?;
        refuse_live_results(ctx, Some(id)).await?;
        let updates = held(ctx, stream::match_updates(db, &bus, id), |m| {
            Some(m.updated_at)
        })
        .map(match_of(ctx));
        Ok(open.track(updates))
    }

    /// The match's events after `afterSeq` (default 0: all of them), then
    /// each new one as it is recorded: in order, none missed, none twice.
    /// Reconnect with the last `seq` you saw to resume without a gap.
    async fn match_events(
        &self,
        ctx: &Context<'_>,
        match_id: ID,
        #[graphql(default = 0)] after_seq: i32,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<MatchEvent>> + use<>> {
        let (db, bus, open) = parts(ctx);
        let id = parse_id("matchId", &match_id)?;
        if after_seq < 0 {
            return Err(super::error::bad_input("afterSeq", "must be 0 or more"));
        }
        ensure_match(&db, id).await?;
        refuse_live_results(ctx, Some(id)).await?;
        let events = held(ctx, stream::match_events(db, &bus, id, after_seq), |e| {
            Some(e.created_at)
        })
        .map(|r| gql(r).map(MatchEvent));
        Ok(open.track(events))
    }

    /// Every match in play, optionally only in one competition or with one
    /// of the given teams: first those live now, then each change, up to
    /// and including full time.
    async fn live_scores(
        &self,
        ctx: &Context<'_>,
        competition_id: Option<ID>,
        team_ids: Option<Vec<ID>>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Match>> + use<>> {
        refuse_live_results(ctx, None).await?;
        let (db, bus, open) = parts(ctx);
        let filter = LiveFilter {
            competition_id: competition_id
                .map(|id| parse_id("competitionId", &id))
                .transpose()?,
            team_ids: team_ids
                .unwrap_or_default()
                .iter()
                .map(|id| parse_id("teamIds", id))
                .collect::<async_graphql::Result<HashSet<i64>>>()?,
        };
        let scores = held(ctx, stream::live_scores(db, &bus, filter), |m| {
            Some(m.updated_at)
        })
        .map(match_of(ctx));
        Ok(open.track(scores))
    }

    /// The season's live table (as `standings(seasonId, live: true)`): now,
    /// then again each time a goal, a kick-off or a final whistle moves it.
    /// Rows of teams playing are `provisional`.
    async fn standings_changed(
        &self,
        ctx: &Context<'_>,
        season_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Vec<StandingRow>>> + use<>>
    {
        let (db, bus, open) = parts(ctx);
        let id = parse_id("seasonId", &season_id)?;
        if service::competitions::season_by_id(&db, id)
            .await
            .gql()?
            .is_none()
        {
            return Err(to_graphql(service::Error::not_found("season")));
        }
        refuse_live_results(ctx, None).await?;
        let tables = held(ctx, stream::standings_changes(db, &bus, id), |_| None)
            .map(|r| gql(r).map(|rows| rows.into_iter().map(StandingRow).collect()));
        Ok(open.track(tables))
    }

    /// The signed-in user's new in-app notifications, as they arrive.
    #[graphql(guard = "AuthGuard")]
    async fn notification_received(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Notification>> + use<>>
    {
        let viewer = viewer(ctx)?;
        let (user_id, token_id) = (viewer.user.id, viewer.token_id);
        let (db, bus, open) = parts(ctx);
        let check = db.clone();
        let inner = stream::notifications(db, &bus, user_id).await.gql()?;
        // The socket outlives its token: check it before each delivery, and
        // end the subscription once it was revoked, expired or deleted.
        let notifications = async_stream::stream! {
            let mut inner = std::pin::pin!(inner);
            while let Some(item) = inner.next().await {
                match service::accounts::token_is_active(&check, token_id).await {
                    Ok(true) => yield gql(item).map(Notification),
                    Ok(false) => {
                        yield Err(to_graphql(service::Error::Unauthenticated));
                        break;
                    }
                    Err(err) => {
                        yield Err(to_graphql(err));
                        break;
                    }
                }
            }
        };
        Ok(open.track(notifications))
    }
}

fn parts(ctx: &Context<'_>) -> (DatabaseConnection, Bus, OpenSubscriptions) {
    (
        ctx.data_unchecked::<DatabaseConnection>().clone(),
        ctx.data_unchecked::<Bus>().clone(),
        ctx.data_unchecked::<OpenSubscriptions>().clone(),
    )
}

async fn ensure_match(db: &DatabaseConnection, id: i64) -> async_graphql::Result<()> {
    match service::matches::by_id(db, id).await.gql()? {
        Some(_) => Ok(()),
        None => Err(to_graphql(service::Error::not_found("match"))),
    }
}
