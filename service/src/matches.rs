//! Reading matches: filtered, ordered by kick-off, a page at a time.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::{MatchStatus, competition, football_match, match_event, season, team};
use sea_orm::sea_query::{Expr, ExprTrait as _, JoinType, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, IdenStatic as _, Iterable as _, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait as _, Select,
};

mod by_position;

use crate::pagination::{From, Page, PageRequest};
use crate::{Error, Result};

/// The sort key of a match: kick-off, then id to break ties.
pub type MatchKey = (DateTime<Utc>, i64);

pub fn key(m: &football_match::Model) -> MatchKey {
    (m.kickoff_at, m.id)
}

/// Which matches a client wants. Every set field narrows the result.
#[derive(Clone, Debug, Default)]
pub struct MatchFilter {
    /// Matches this team plays in, home or away.
    pub team_id: Option<i64>,
    /// Matches between these two teams, either way round.
    pub between: Option<(i64, i64)>,
    pub season_id: Option<i64>,
    pub competition_code: Option<String>,
    /// Any of these statuses; empty means any status.
    pub statuses: Vec<MatchStatus>,
    /// Kick-off at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Kick-off before this instant.
    pub to: Option<DateTime<Utc>>,
    pub round: Option<String>,
    pub matchday: Option<i32>,
}

impl MatchFilter {
    pub fn validate(&self) -> Result<()> {
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from > to
        {
            return Err(Error::invalid(
                "filter.to",
                "must not be before filter.from",
            ));
        }
        Ok(())
    }

    fn condition(&self) -> Condition {
        use football_match::Column as M;
        let mut condition = Condition::all();
        if let Some(team) = self.team_id {
            condition = condition.add(
                Condition::any()
                    .add(M::HomeTeamId.eq(team))
                    .add(M::AwayTeamId.eq(team)),
            );
        }
        if let Some((a, b)) = self.between {
            condition = condition.add(
                Condition::any()
                    .add(M::HomeTeamId.eq(a).and(M::AwayTeamId.eq(b)))
                    .add(M::HomeTeamId.eq(b).and(M::AwayTeamId.eq(a))),
            );
        }
        if let Some(season) = self.season_id {
            condition = condition.add(M::SeasonId.eq(season));
        }
        if let Some(code) = &self.competition_code {
            let competitions = Query::select()
                .column(competition::Column::Id)
                .from(competition::Entity)
                .and_where(Expr::col(competition::Column::Code).eq(code.to_uppercase()))
                .to_owned();
            let seasons = Query::select()
                .column(season::Column::Id)
                .from(season::Entity)
                .and_where(Expr::col(season::Column::CompetitionId).in_subquery(competitions))
                .to_owned();
            condition = condition.add(M::SeasonId.in_subquery(seasons));
        }
        if !self.statuses.is_empty() {
            condition = condition.add(M::Status.is_in(self.statuses.iter().copied()));
        }
        if let Some(from) = self.from {
            condition = condition.add(M::KickoffAt.gte(from));
        }
        if let Some(to) = self.to {
            condition = condition.add(M::KickoffAt.lt(to));
        }
        if let Some(round) = &self.round {
            condition = condition.add(M::Round.eq(round.as_str()));
        }
        if let Some(matchday) = self.matchday {
            condition = condition.add(M::Matchday.eq(matchday));
        }
        condition
    }

    fn select(&self) -> Select<football_match::Entity> {
        football_match::Entity::find().filter(self.condition())
    }
}

/// The order of a list of matches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KickoffOrder {
    #[default]
    Ascending,
    Descending,
}

/// Rows strictly beyond `key` in the direction `greater`.
fn beyond(key: MatchKey, greater: bool) -> Condition {
    use football_match::Column as M;
    let (at, id) = key;
    let (kickoff, tie) = if greater {
        (M::KickoffAt.gt(at), M::Id.gt(id))
    } else {
        (M::KickoffAt.lt(at), M::Id.lt(id))
    };
    Condition::any()
        .add(kickoff)
        .add(Condition::all().add(M::KickoffAt.eq(at)).add(tie))
}

/// One page of the filtered matches in kick-off order.
pub async fn page(
    db: &impl ConnectionTrait,
    filter: &MatchFilter,
    order: KickoffOrder,
    request: &PageRequest<MatchKey>,
) -> Result<Page<football_match::Model>> {
    let rows = page_select(filter, order, request)?.all(db).await?;
    Ok(Page::from_lookahead(request, rows))
}

/// A page of matches and the teams that play in them.
pub struct PageWithTeams {
    pub page: Page<football_match::Model>,
    /// Each team once, however many of the page's matches it plays.
    pub teams: HashMap<i64, Arc<team::Model>>,
}

/// The page [`page`] reads, with both teams of each match joined into the
/// same statement: one round trip where a list would otherwise need two.
/// PostgreSQL only: SQLite, which has no round trips, reads a page's teams
/// in a second statement.
pub async fn page_with_teams(
    db: &impl ConnectionTrait,
    filter: &MatchFilter,
    order: KickoffOrder,
    request: &PageRequest<MatchKey>,
) -> Result<PageWithTeams> {
    use football_match::Column as M;
    let mut query = page_select(filter, order, request)?.into_query();
    for (side, team_column) in [(HOME_TEAM, M::HomeTeamId), (AWAY_TEAM, M::AwayTeamId)] {
        query.join_as(
            JoinType::InnerJoin,
            team::Entity,
            side,
            Expr::col((side, team::Column::Id)).equals((football_match::Entity, team_column)),
        );
        for column in team::Column::iter() {
            query.expr_as(
                Expr::col((side, column)),
                format!("{side}{}", column.as_str()),
            );
        }
    }
    let rows = db.query_all(&query).await?;
    let mut matches = Vec::with_capacity(rows.len());
    let mut teams = HashMap::new();
    let sides = [HOME_TEAM, AWAY_TEAM];
    for (i, row) in rows.iter().enumerate() {
        // Read by position: see `by_position`.
        let pg = row.try_as_pg_row().ok_or_else(|| {
            Error::Internal(anyhow::anyhow!(
                "a page with its teams is read on PostgreSQL only"
            ))
        })?;
        let mut columns = if i == 0 {
            by_position::check_order(pg, &sides)?;
            by_position::Columns::first(pg)
        } else {
            by_position::Columns::next_row(pg)
        };
        let m = columns.football_match()?;
        for id in [m.home_team_id, m.away_team_id] {
            // A team plays many matches of a page; its columns are read once.
            match teams.entry(id) {
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(Arc::new(columns.team()?));
                }
                std::collections::hash_map::Entry::Occupied(_) => {
                    columns.skip(by_position::team_columns());
                }
            }
        }
        matches.push(m);
    }
    Ok(PageWithTeams {
        page: Page::from_lookahead(request, matches),
        teams,
    })
}

/// Column prefixes (and table aliases) of the two teams joined into a page.
const HOME_TEAM: &str = "home_team__";
const AWAY_TEAM: &str = "away_team__";

/// The filtered matches beyond the request's cursors, in the order that
/// walks towards the requested end, one more than the page holds.
fn page_select(
    filter: &MatchFilter,
    order: KickoffOrder,
    request: &PageRequest<MatchKey>,
) -> Result<Select<football_match::Entity>> {
    filter.validate()?;
    let ascending = order == KickoffOrder::Ascending;
    let mut select = filter.select();
    if let Some(after) = request.after {
        select = select.filter(beyond(after, ascending));
    }
    if let Some(before) = request.before {
        select = select.filter(beyond(before, !ascending));
    }
    // Reading from the end means walking the ordering backwards.
    let walk = if ascending == (request.from == From::Start) {
        Order::Asc
    } else {
        Order::Desc
    };
    Ok(select
        .order_by(football_match::Column::KickoffAt, walk.clone())
        .order_by(football_match::Column::Id, walk)
        .limit(request.size + 1))
}

/// How many matches the filter selects, ignoring pagination.
pub async fn count(db: &impl ConnectionTrait, filter: &MatchFilter) -> Result<u64> {
    filter.validate()?;
    Ok(filter.select().count(db).await?)
}

pub async fn by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<football_match::Model>> {
    Ok(football_match::Entity::find_by_id(id).one(db).await?)
}

/// The matches among `ids` (a bounded list), in kick-off order.
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<football_match::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(football_match::Entity::find()
        .filter(football_match::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(football_match::Column::KickoffAt)
        .order_by_asc(football_match::Column::Id)
        .all(db)
        .await?)
}

/// The events of these matches, ordered by match and sequence number.
pub async fn events_of(
    db: &impl ConnectionTrait,
    match_ids: &[i64],
) -> Result<Vec<match_event::Model>> {
    Ok(match_event::Entity::find()
        .filter(match_event::Column::MatchId.is_in(match_ids.iter().copied()))
        .order_by_asc(match_event::Column::MatchId)
        .order_by_asc(match_event::Column::Seq)
        .all(db)
        .await?)
}

/// Statuses of a match that has not finished and may still be played.
pub const UPCOMING: [MatchStatus; 6] = [
    MatchStatus::Scheduled,
    MatchStatus::Live,
    MatchStatus::HalfTime,
    MatchStatus::ExtraTime,
    MatchStatus::Penalties,
    MatchStatus::Suspended,
];

/// The team's next match: live now, or the earliest scheduled one to come.
pub async fn next_for_team(
    db: &impl ConnectionTrait,
    team_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<football_match::Model>> {
    use football_match::Column as M;
    let live = [
        MatchStatus::Live,
        MatchStatus::HalfTime,
        MatchStatus::ExtraTime,
        MatchStatus::Penalties,
    ];
    Ok(MatchFilter {
        team_id: Some(team_id),
        statuses: UPCOMING.to_vec(),
        ..Default::default()
    }
    .select()
    .filter(
        Condition::any()
            .add(M::KickoffAt.gte(now))
            .add(M::Status.is_in(live)),
    )
    .order_by_asc(M::KickoffAt)
    .order_by_asc(M::Id)
    .one(db)
    .await?)
}

/// The team's most recent finished match.
pub async fn last_for_team(
    db: &impl ConnectionTrait,
    team_id: i64,
) -> Result<Option<football_match::Model>> {
    use football_match::Column as M;
    Ok(MatchFilter {
        team_id: Some(team_id),
        statuses: vec![MatchStatus::Finished],
        ..Default::default()
    }
    .select()
    .order_by_desc(M::KickoffAt)
    .order_by_desc(M::Id)
    .one(db)
    .await?)
}

/// Every finished match between two teams, for head-to-head records.
pub async fn finished_between(
    db: &impl ConnectionTrait,
    a: i64,
    b: i64,
) -> Result<Vec<football_match::Model>> {
    Ok(MatchFilter {
        between: Some((a, b)),
        statuses: vec![MatchStatus::Finished],
        ..Default::default()
    }
    .select()
    .all(db)
    .await?)
}

/// The goals that decided a finished match: after extra time when it had
/// any, else after regular time. A shoot-out does not change the score.
pub fn final_score(m: &football_match::Model) -> Option<(i32, i32)> {
    match (m.extra_time_home, m.extra_time_away) {
        (Some(h), Some(a)) => Some((h, a)),
        _ => Some((m.home_score?, m.away_score?)),
    }
}
