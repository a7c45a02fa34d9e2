//! The feed's writes: fixtures, live match events and corrections. FEED and
//! ADMIN only.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::DatabaseConnection;
use service::live::bus::Bus;
use service::live::feed::{self, NewEvent, NewMatch, Recorded, TeamDetails};

use crate::graphql::error::GqlResultExt as _;
use crate::graphql::guards::RoleGuard;
use crate::graphql::scalars::parse_id;
use crate::graphql::types::{
    Competition, CompetitionKind, Lineup, Match, MatchEvent, MatchEventKind, Season, Team,
};

#[derive(InputObject)]
pub struct CreateCompetitionInput {
    /// 2 to 10 letters or digits, e.g. `PL`; stored upper case.
    pub code: String,
    pub name: String,
    pub area: Option<String>,
    pub kind: CompetitionKind,
}

#[derive(InputObject)]
pub struct CreateSeasonInput {
    pub competition_id: ID,
    /// `YYYY/YY`, e.g. `2025/26`.
    pub label: String,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

/// A team's line-up for a match.
#[derive(InputObject)]
pub struct LineupInput {
    /// Outfield lines from the back adding up to 10, such as `4-3-3`.
    pub formation: Option<String>,
    /// Exactly 11 players.
    pub starters: Vec<LineupPlayerInput>,
    /// At most 15 players.
    #[graphql(default)]
    pub bench: Vec<LineupPlayerInput>,
}

/// One player; shirt numbers (1 to 99) are unique across starters and bench.
#[derive(InputObject)]
pub struct LineupPlayerInput {
    pub shirt_number: i32,
    pub name: String,
    /// Free text of up to 16 characters, such as `GK` or `LW`.
    pub position: Option<String>,
}

impl From<LineupPlayerInput> for entity::lineup::LineupPlayer {
    fn from(input: LineupPlayerInput) -> Self {
        Self {
            shirt_number: input.shirt_number,
            name: input.name,
            position: input.position,
        }
    }
}

/// A team's details; on update, omitted fields keep their value.
#[derive(InputObject, Default)]
pub struct TeamInput {
    pub name: Option<String>,
    pub short_name: Option<String>,
    /// Three letters, e.g. `ARS`.
    pub tla: Option<String>,
    pub area: Option<String>,
    pub founded: Option<i32>,
    pub venue: Option<String>,
    pub crest_url: Option<String>,
}

impl From<TeamInput> for TeamDetails {
    fn from(input: TeamInput) -> Self {
        Self {
            name: input.name,
            short_name: input.short_name,
            tla: input.tla,
            area: input.area,
            founded: input.founded,
            venue: input.venue,
            crest_url: input.crest_url,
        }
    }
}

#[derive(InputObject)]
pub struct ScheduleMatchInput {
    pub season_id: ID,
    pub home_team_id: ID,
    pub away_team_id: ID,
    pub kickoff_at: DateTime<Utc>,
    /// The round within its stage: `Matchday 3`, `Round of 16`, `Final`.
    pub round: Option<String>,
    pub matchday: Option<i32>,
    /// The stage of the season: `League`, `Group stage`, `Playoffs`,
    /// `Finals`. A stage whose name says knockout (final, play-off,
    /// knockout, round of, qualifying) is played in ties, any other in a
    /// table; see `Stage.kind`.
    pub stage: Option<String>,
    /// The group within a group stage, e.g. `Group A`: one table each.
    pub group: Option<String>,
}

/// One thing that happened in a match.
#[derive(InputObject)]
pub struct MatchEventInput {
    pub kind: MatchEventKind,
    pub minute: Option<i32>,
    pub added_time: Option<i32>,
    /// The team the event belongs to; required for goals, cards,
    /// penalties and substitutions. An own goal names the scorer's team
    /// and counts for the other side.
    pub team_id: Option<ID>,
    pub player: Option<String>,
    /// Who made a goal (kind `GOAL` only), by name; counted in `scorers`.
    pub assist: Option<String>,
    pub detail: Option<String>,
    /// Your id for this event. Sending it again returns the original
    /// event and records nothing.
    pub external_id: Option<String>,
    /// The match's `lastEventSeq` as you last saw it; if it has moved on,
    /// the write is refused with `CONFLICT`.
    pub expected_seq: Option<i32>,
}

/// A recorded event and the match after it.
#[derive(SimpleObject)]
pub struct RecordedEvent {
    pub event: MatchEvent,
    #[graphql(name = "match")]
    pub football_match: Match,
    /// True when this delivery repeated an `externalId` already recorded.
    pub duplicate: bool,
}

impl From<Recorded> for RecordedEvent {
    fn from(recorded: Recorded) -> Self {
        Self {
            event: MatchEvent(recorded.event),
            football_match: Match::new(recorded.football_match),
            duplicate: recorded.duplicate,
        }
    }
}

/// Points added to or deducted from a team's table.
#[derive(SimpleObject)]
pub struct PointsAdjustment {
    pub id: ID,
    pub team: Team,
    pub points: i32,
    pub reason: String,
    pub effective_at: DateTime<Utc>,
}

#[derive(Default)]
pub struct FeedMutation;

fn parts<'a>(ctx: &Context<'a>) -> (&'a DatabaseConnection, &'a Bus) {
    (
        ctx.data_unchecked::<DatabaseConnection>(),
        ctx.data_unchecked::<Bus>(),
    )
}

fn optional_id(field: &str, id: Option<&ID>) -> async_graphql::Result<Option<i64>> {
    id.map(|id| parse_id(field, id)).transpose()
}

#[Object]
impl FeedMutation {
    #[graphql(guard = "RoleGuard::feed()")]
    async fn create_competition(
        &self,
        ctx: &Context<'_>,
        input: CreateCompetitionInput,
    ) -> async_graphql::Result<Competition> {
        let (db, bus) = parts(ctx);
        let created = feed::create_competition(
            db,
            bus,
            &input.code,
            &input.name,
            input.area.as_deref(),
            input.kind.into(),
        )
        .await
        .gql()?;
        Ok(Competition(created))
    }

    #[graphql(guard = "RoleGuard::feed()")]
    async fn create_season(
        &self,
        ctx: &Context<'_>,
        input: CreateSeasonInput,
    ) -> async_graphql::Result<Season> {
        let (db, bus) = parts(ctx);
        let competition_id = parse_id("input.competitionId", &input.competition_id)?;
        let created = feed::create_season(
            db,
            bus,
            competition_id,
            &input.label,
            input.start_date,
            input.end_date,
        )
        .await
        .gql()?;
        Ok(Season(created))
    }

    /// `name` is required.
    #[graphql(guard = "RoleGuard::feed()")]
    async fn create_team(
        &self,
        ctx: &Context<'_>,
        input: TeamInput,
    ) -> async_graphql::Result<Team> {
        let (db, bus) = parts(ctx);
        Ok(Team::from(
            feed::create_team(db, bus, input.into()).await.gql()?,
        ))
    }

    #[graphql(guard = "RoleGuard::feed()")]
    async fn update_team(
        &self,
        ctx: &Context<'_>,
        team_id: ID,
        input: TeamInput,
    ) -> async_graphql::Result<Team> {
        let (db, bus) = parts(ctx);
        let id = parse_id("teamId", &team_id)?;
        Ok(Team::from(
            feed::update_team(db, bus, id, input.into()).await.gql()?,
        ))
    }

    #[graphql(guard = "RoleGuard::feed()")]
    async fn schedule_match(
        &self,
        ctx: &Context<'_>,
        input: ScheduleMatchInput,
    ) -> async_graphql::Result<Match> {
        let (db, bus) = parts(ctx);
        let new = NewMatch {
            season_id: parse_id("input.seasonId", &input.season_id)?,
            home_team_id: parse_id("input.homeTeamId", &input.home_team_id)?,
            away_team_id: parse_id("input.awayTeamId", &input.away_team_id)?,
            kickoff_at: input.kickoff_at,
            round: input.round,
            matchday: input.matchday,
            stage: input.stage,
            group: input.group,
        };
        Ok(Match::new(feed::schedule_match(db, bus, new).await.gql()?))
    }

    /// Moves a scheduled or postponed match to a new kick-off.
    #[graphql(guard = "RoleGuard::feed()")]
    async fn reschedule_match(
        &self,
        ctx: &Context<'_>,
        match_id: ID,
        kickoff_at: DateTime<Utc>,
    ) -> async_graphql::Result<Match> {
        let (db, bus) = parts(ctx);
        let id = parse_id("matchId", &match_id)?;
        Ok(Match::new(
            feed::reschedule_match(db, bus, id, kickoff_at)
                .await
                .gql()?,
        ))
    }

    #[graphql(guard = "RoleGuard::feed()")]
    async fn postpone_match(
        &self,
        ctx: &Context<'_>,
        match_id: ID,
    ) -> async_graphql::Result<Match> {
        let (db, bus) = parts(ctx);
        let id = parse_id("matchId", &match_id)?;
        Ok(Match::new(feed::postpone_match(db, bus, id).await.gql()?))
    }

    #[graphql(guard = "RoleGuard::feed()")]
    async fn cancel_match(&self, ctx: &Context<'_>, match_id: ID) -> async_graphql::Result<Match> {
        let (db, bus) = parts(ctx);
        let id = parse_id("matchId", &match_id)?;
        Ok(Match::new(feed::cancel_match(db, bus, id).await.gql()?))
    }

    /// Kicks the match off: records a `KICK_OFF` event.
    #[graphql(guard = "RoleGuard::feed()")]
    async fn start_match(
        &self,
        ctx: &Context<'_>,
        match_id: ID,
        expected_seq: Option<i32>,
    ) -> async_graphql::Result<RecordedEvent> {
        let mut event = NewEvent::of(entity::MatchEventKind::KickOff);
        event.expected_seq = expected_seq;
        record(ctx, &match_id, event).await
    }

    /// Records what happened; the score and status follow from it.
    #[graphql(guard = "RoleGuard::feed()")]
    async fn record_match_event(
        &self,
        ctx: &Context<'_>,
        match_id: ID,
        input: MatchEventInput,
    ) -> async_graphql::Result<RecordedEvent> {
        let event = NewEvent {
            kind: input.kind.into(),
            minute: input.minute,
            added_time: input.added_time,
            team_id: optional_id("input.teamId", input.team_id.as_ref())?,
            player: input.player,
            assist: input.assist,
            detail: input.detail,
            external_id: input.external_id,
            expected_seq: input.expected_seq,
        };
        record(ctx, &match_id, event).await
    }

    /// A VAR correction: takes the event back (a goal comes off the score)
    /// and records a `CORRECTION` event pointing at it.
    #[graphql(guard = "RoleGuard::feed()")]
    async fn cancel_match_event(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
        reason: String,
        expected_seq: Option<i32>,
    ) -> async_graphql::Result<RecordedEvent> {
        let (db, bus) = parts(ctx);
        let id = parse_id("eventId", &event_id)?;
        Ok(feed::cancel_event(db, bus, id, &reason, expected_seq)
            .await
            .gql()?
            .into())
    }

    /// Sets (or replaces) a team's line-up before kick-off, and records a
    /// `LINEUPS` event for it: followers who asked for line-up alerts hear
    /// of it. Refused whole, every problem named, when it does not hold
    /// together.
    #[graphql(guard = "RoleGuard::feed()")]
    async fn set_lineup(
        &self,
        ctx: &Context<'_>,
        match_id: ID,
        team_id: ID,
        input: LineupInput,
    ) -> async_graphql::Result<Lineup> {
        let (db, bus) = parts(ctx);
        let match_id = parse_id("matchId", &match_id)?;
        let team_id = parse_id("teamId", &team_id)?;
        let lineup = feed::NewLineup {
            formation: input.formation,
            starters: input.starters.into_iter().map(Into::into).collect(),
            bench: input.bench.into_iter().map(Into::into).collect(),
        };
        Ok(Lineup(
            feed::set_lineup(db, bus, match_id, team_id, lineup)
                .await
                .gql()?,
        ))
    }

    /// Ends the match: records a `FULL_TIME` event.
    #[graphql(guard = "RoleGuard::feed()")]
    async fn end_match(
        &self,
        ctx: &Context<'_>,
        match_id: ID,
        expected_seq: Option<i32>,
    ) -> async_graphql::Result<RecordedEvent> {
        let mut event = NewEvent::of(entity::MatchEventKind::FullTime);
        event.expected_seq = expected_seq;
        record(ctx, &match_id, event).await
    }

    /// Adds (or, negative, deducts) points in a season's table from
    /// `effectiveAt` (default: now).
    #[graphql(guard = "RoleGuard::feed()")]
    async fn adjust_points(
        &self,
        ctx: &Context<'_>,
        season_id: ID,
        team_id: ID,
        points: i32,
        reason: String,
        effective_at: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<PointsAdjustment> {
        let (db, bus) = parts(ctx);
        let season_id = parse_id("seasonId", &season_id)?;
        let team_id = parse_id("teamId", &team_id)?;
        let adjustment =
            feed::adjust_points(db, bus, season_id, team_id, points, &reason, effective_at)
                .await
                .gql()?;
        let team = service::teams::by_id(db, team_id)
            .await
            .gql()?
            .ok_or_else(|| crate::graphql::error::to_graphql(service::Error::not_found("team")))?;
        Ok(PointsAdjustment {
            id: ID(adjustment.id.to_string()),
            team: Team::from(team),
            points: adjustment.points,
            reason: adjustment.reason,
            effective_at: adjustment.effective_at,
        })
    }
}

async fn record(
    ctx: &Context<'_>,
    match_id: &ID,
    event: NewEvent,
) -> async_graphql::Result<RecordedEvent> {
    let (db, bus) = parts(ctx);
    let id = parse_id("matchId", match_id)?;
    Ok(feed::record_event(db, bus, id, event).await.gql()?.into())
}
