//! Filtered, ordered, paginated lists of matches, shared by every field
//! that returns one.

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbBackend};
use service::matches::{KickoffOrder, MatchKey};
use service::pagination::PageRequest;

use super::{Match, MatchStatus};
use crate::graphql::connection::{Cursor, from_page};
use crate::graphql::error::GqlResultExt as _;
use crate::graphql::scalars::parse_id;

/// Narrows a list of matches; every field given must hold.
#[derive(InputObject, Default)]
pub struct MatchFilter {
    /// Matches this team plays, home or away.
    pub team_id: Option<ID>,
    pub season_id: Option<ID>,
    /// E.g. `PL`; any case.
    pub competition_code: Option<String>,
    /// Any of these statuses.
    pub status: Option<Vec<MatchStatus>>,
    /// Kick-off at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Kick-off before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Round name exactly as listed on matches, e.g. `Matchday 12` or `Final`.
    pub round: Option<String>,
    pub matchday: Option<i32>,
}

impl MatchFilter {
    pub fn into_service(self) -> async_graphql::Result<service::matches::MatchFilter> {
        Ok(service::matches::MatchFilter {
            team_id: self
                .team_id
                .as_ref()
                .map(|id| parse_id("filter.teamId", id))
                .transpose()?,
            season_id: self
                .season_id
                .as_ref()
                .map(|id| parse_id("filter.seasonId", id))
                .transpose()?,
            competition_code: self.competition_code,
            statuses: self
                .status
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            from: self.from,
            to: self.to,
            round: self.round,
            matchday: self.matchday,
            between: None,
        })
    }
}

/// The order of a list of matches.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum MatchOrder {
    /// Earliest kick-off first.
    #[default]
    KickoffAsc,
    /// Latest kick-off first.
    KickoffDesc,
}

/// The size of a match list, computed only when asked for.
pub struct MatchTotal {
    filter: service::matches::MatchFilter,
}

#[Object]
impl MatchTotal {
    /// How many matches the filter selects, across all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        service::matches::count(db, &self.filter).await.gql()
    }
}

pub type MatchConnection = Connection<Cursor<MatchKey>, Match, MatchTotal>;

/// Runs a filtered, paginated match query as a connection.
pub async fn match_connection(
    ctx: &Context<'_>,
    filter: service::matches::MatchFilter,
    order: MatchOrder,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> async_graphql::Result<MatchConnection> {
    let db = ctx.data_unchecked::<DatabaseConnection>();
    let request =
        PageRequest::<MatchKey>::parse(first, after.as_deref(), last, before.as_deref()).gql()?;
    let order = match order {
        MatchOrder::KickoffAsc => KickoffOrder::Ascending,
        MatchOrder::KickoffDesc => KickoffOrder::Descending,
    };
    // On PostgreSQL, teams asked for are read in the page's own statement:
    // a statement there is a round trip. SQLite runs in the process and
    // copies every column of a row, so repeating each team's columns on
    // every match costs it more than a second statement (measured: the
    // season page ran about 9% slower joined). Other related rows load
    // once for the whole page, on first use.
    let join_teams = db.get_database_backend() == DbBackend::Postgres && selects_teams(ctx);
    let (page, teams) = if join_teams {
        let read = service::matches::page_with_teams(db, &filter, order, &request)
            .await
            .gql()?;
        (read.page, Some(read.teams))
    } else {
        let page = service::matches::page(db, &filter, order, &request)
            .await
            .gql()?;
        (page, None)
    };
    let keys: Vec<MatchKey> = page.rows.iter().map(service::matches::key).collect();
    let page = service::pagination::Page {
        rows: keys
            .into_iter()
            .zip(Match::page(db, page.rows, teams))
            .collect(),
        has_previous_page: page.has_previous_page,
        has_next_page: page.has_next_page,
    };
    Ok(from_page(
        page,
        |(key, _)| *key,
        |(_, m)| m,
        MatchTotal { filter },
    ))
}

/// Whether the list's selection asks for either team of its matches.
fn selects_teams(ctx: &Context<'_>) -> bool {
    let list = ctx.look_ahead();
    [list.field("nodes"), list.field("edges").field("node")]
        .iter()
        .any(|node| node.field("homeTeam").exists() || node.field("awayTeam").exists())
}
