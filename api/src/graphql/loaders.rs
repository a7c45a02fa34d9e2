//! DataLoaders batch the lookups of related rows, so that a page of matches
//! costs one query for all its teams (and one for all its events) rather
//! than one per match.

use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{competition, lineup, match_event, notification, season, team};
use sea_orm::DatabaseConnection;

/// One kind of row that can be fetched by a batch of ids.
pub trait Fetch: Send + Sync + 'static {
    type Row: Clone + Send + Sync + 'static;
    /// Fetches the rows for `ids`, in any order.
    fn fetch(
        db: &DatabaseConnection,
        ids: &[i64],
    ) -> impl Future<Output = service::Result<Vec<Self::Row>>> + Send;
    /// The id a row is looked up by.
    fn key(row: &Self::Row) -> i64;
}

/// One row per id.
pub struct ById<F>(DatabaseConnection, PhantomData<F>);

/// Many rows per id, in the order `fetch` returned them.
pub struct GroupedBy<F>(DatabaseConnection, PhantomData<F>);

impl<F: Fetch> Loader<i64> for ById<F> {
    type Value = F::Row;
    type Error = Arc<service::Error>;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, F::Row>, Self::Error> {
        let rows = F::fetch(&self.0, ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (F::key(&row), row)).collect())
    }
}

impl<F: Fetch> Loader<i64> for GroupedBy<F> {
    type Value = Vec<F::Row>;
    type Error = Arc<service::Error>;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<F::Row>>, Self::Error> {
        let rows = F::fetch(&self.0, ids).await.map_err(Arc::new)?;
        let mut groups: HashMap<i64, Vec<F::Row>> =
            ids.iter().map(|id| (*id, Vec::new())).collect();
        for row in rows {
            groups.entry(F::key(&row)).or_default().push(row);
        }
        Ok(groups)
    }
}

/// Shared rather than copied: a page references each team many times.
pub struct Teams;
impl Fetch for Teams {
    type Row = Arc<team::Model>;
    async fn fetch(db: &DatabaseConnection, ids: &[i64]) -> service::Result<Vec<Self::Row>> {
        let rows = service::teams::by_ids(db, ids).await?;
        Ok(rows.into_iter().map(Arc::new).collect())
    }
    fn key(row: &Self::Row) -> i64 {
        row.id
    }
}

pub struct Seasons;
impl Fetch for Seasons {
    type Row = season::Model;
    fn fetch(
        db: &DatabaseConnection,
        ids: &[i64],
    ) -> impl Future<Output = service::Result<Vec<Self::Row>>> + Send {
        service::competitions::seasons_by_ids(db, ids)
    }
    fn key(row: &Self::Row) -> i64 {
        row.id
    }
}

pub struct Competitions;
impl Fetch for Competitions {
    type Row = competition::Model;
    fn fetch(
        db: &DatabaseConnection,
        ids: &[i64],
    ) -> impl Future<Output = service::Result<Vec<Self::Row>>> + Send {
        service::competitions::by_ids(db, ids)
    }
    fn key(row: &Self::Row) -> i64 {
        row.id
    }
}

pub struct Notifications;
impl Fetch for Notifications {
    type Row = notification::Model;
    fn fetch(
        db: &DatabaseConnection,
        ids: &[i64],
    ) -> impl Future<Output = service::Result<Vec<Self::Row>>> + Send {
        service::notifications::deliveries::notifications_by_ids(db, ids)
    }
    fn key(row: &Self::Row) -> i64 {
        row.id
    }
}

/// A competition's seasons, keyed by competition id.
pub struct SeasonsOfCompetition;
impl Fetch for SeasonsOfCompetition {
    type Row = season::Model;
    fn fetch(
        db: &DatabaseConnection,
        ids: &[i64],
    ) -> impl Future<Output = service::Result<Vec<Self::Row>>> + Send {
        service::competitions::seasons_of(db, ids)
    }
    fn key(row: &Self::Row) -> i64 {
        row.competition_id
    }
}

/// A match's events, keyed by match id, in sequence order.
pub struct EventsOfMatch;
impl Fetch for EventsOfMatch {
    type Row = match_event::Model;
    fn fetch(
        db: &DatabaseConnection,
        ids: &[i64],
    ) -> impl Future<Output = service::Result<Vec<Self::Row>>> + Send {
        service::matches::events_of(db, ids)
    }
    fn key(row: &Self::Row) -> i64 {
        row.match_id
    }
}

/// A match's line-ups, keyed by match id.
pub struct LineupsOfMatch;
impl Fetch for LineupsOfMatch {
    type Row = lineup::Model;
    fn fetch(
        db: &DatabaseConnection,
        ids: &[i64],
    ) -> impl Future<Output = service::Result<Vec<Self::Row>>> + Send {
        service::live::feed::lineups_by_match_ids(db, ids)
    }
    fn key(row: &Self::Row) -> i64 {
        row.match_id
    }
}

/// A season's matches and its competition's kind, for ties and brackets:
/// a page of matches that each ask for their tie loads each season once.
pub struct SeasonMatchesOf(DatabaseConnection);

impl Loader<i64> for SeasonMatchesOf {
    type Value = Arc<service::stages::SeasonMatches>;
    type Error = Arc<service::Error>;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let seasons = service::stages::seasons_matches(&self.0, ids)
            .await
            .map_err(Arc::new)?;
        Ok(seasons
            .into_iter()
            .map(|s| (s.season.id, Arc::new(s)))
            .collect())
    }
}

/// The season's matches; `NOT_FOUND` when there is no such season.
pub async fn season_matches(
    ctx: &async_graphql::Context<'_>,
    season_id: i64,
) -> async_graphql::Result<Arc<service::stages::SeasonMatches>> {
    let loader = ctx.data_unchecked::<DataLoader<SeasonMatchesOf>>();
    match loader.load_one(season_id).await {
        Ok(Some(season)) => Ok(season),
        Ok(None) => Err(super::error::to_graphql(service::Error::not_found(
            "season",
        ))),
        Err(err) => Err(load_failed(
            &err,
            format!("loading the matches of season {season_id}: {err}"),
        )),
    }
}

/// Adds every loader to the schema. They batch but do not cache, so rows
/// are never stale, even on a websocket held open for hours.
pub fn register<Q, M, S>(
    builder: async_graphql::SchemaBuilder<Q, M, S>,
    db: &DatabaseConnection,
) -> async_graphql::SchemaBuilder<Q, M, S> {
    fn loader<L: Loader<i64>>(l: L) -> DataLoader<L> {
        DataLoader::new(l, tokio::spawn)
    }
    builder
        .data(loader(ById::<Teams>(db.clone(), PhantomData)))
        .data(loader(ById::<Seasons>(db.clone(), PhantomData)))
        .data(loader(ById::<Competitions>(db.clone(), PhantomData)))
        .data(loader(ById::<Notifications>(db.clone(), PhantomData)))
        .data(loader(GroupedBy::<SeasonsOfCompetition>(
            db.clone(),
            PhantomData,
        )))
        .data(loader(GroupedBy::<EventsOfMatch>(db.clone(), PhantomData)))
        .data(loader(GroupedBy::<LineupsOfMatch>(db.clone(), PhantomData)))
        .data(loader(SeasonMatchesOf(db.clone())))
}

/// Loads one related row that must exist (a foreign key guarantees it).
pub async fn load_one<F: Fetch>(
    ctx: &async_graphql::Context<'_>,
    id: i64,
) -> async_graphql::Result<F::Row> {
    let loader = ctx.data_unchecked::<DataLoader<ById<F>>>();
    match loader.load_one(id).await {
        Ok(Some(row)) => Ok(row),
        Ok(None) => Err(internal(format!(
            "row {id} referenced by a foreign key is missing"
        ))),
        Err(err) => Err(load_failed(&err, format!("loading row {id}: {err}"))),
    }
}

/// Loads the rows grouped under `id`.
pub async fn load_group<F: Fetch>(
    ctx: &async_graphql::Context<'_>,
    id: i64,
) -> async_graphql::Result<Vec<F::Row>> {
    let loader = ctx.data_unchecked::<DataLoader<GroupedBy<F>>>();
    match loader.load_one(id).await {
        Ok(rows) => Ok(rows.unwrap_or_default()),
        Err(err) => Err(load_failed(&err, format!("loading rows of {id}: {err}"))),
    }
}

fn internal(message: String) -> async_graphql::Error {
    super::error::to_graphql(service::Error::Internal(anyhow::anyhow!(message)))
}

/// A failed load keeps its kind: a database that is down is `UNAVAILABLE`.
fn load_failed(err: &service::Error, message: String) -> async_graphql::Error {
    match err {
        service::Error::Unavailable(_) => {
            super::error::to_graphql(service::Error::Unavailable(anyhow::anyhow!(message)))
        }
        _ => internal(message),
    }
}
