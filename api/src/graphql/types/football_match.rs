use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::football_match;
use sea_orm::DatabaseConnection;

use super::{Competition, Lineup, MatchEvent, Season, Team, Tie};
use crate::graphql::error::{GqlResultExt as _, to_graphql};
use crate::graphql::loaders::{Competitions, EventsOfMatch, Seasons, Teams, load_group, load_one};
use crate::graphql::page_batch::PageBatch;

/// Where a match stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "entity::MatchStatus")]
pub enum MatchStatus {
    Scheduled,
    Live,
    HalfTime,
    ExtraTime,
    Penalties,
    Finished,
    Postponed,
    Suspended,
    Cancelled,
}

/// Goals for each side.
#[derive(SimpleObject, Clone, Copy)]
pub struct ScorePair {
    pub home: i32,
    pub away: i32,
}

/// The score, with its parts where the match had them.
#[derive(SimpleObject)]
pub struct Score {
    /// Goals after regular time, or so far while the match is on.
    pub home: Option<i32>,
    pub away: Option<i32>,
    pub half_time: Option<ScorePair>,
    pub extra_time: Option<ScorePair>,
    pub penalties: Option<ScorePair>,
}

fn pair(home: Option<i32>, away: Option<i32>) -> Option<ScorePair> {
    Some(ScorePair {
        home: home?,
        away: away?,
    })
}

/// One fixture between two teams.
pub struct Match {
    pub model: football_match::Model,
    /// The page this match was listed in, when it was.
    page: Option<Arc<PageBatch>>,
    /// Sent later than it was read: its events are as of its own last.
    snapshot: bool,
}

impl Match {
    pub fn new(model: football_match::Model) -> Self {
        Self {
            model,
            page: None,
            snapshot: false,
        }
    }

    /// The match as a live update read it, for a viewer with a stream
    /// delay, who is sent it later: its events are those it had then, as
    /// they were then (a goal ruled out afterwards still stands).
    pub fn snapshot(model: football_match::Model) -> Self {
        Self {
            snapshot: true,
            ..Self::new(model)
        }
    }

    /// The matches of one page, sharing the loading of related rows; its
    /// teams, when they were read with the page, are not read again.
    pub fn page(
        db: &DatabaseConnection,
        models: Vec<football_match::Model>,
        teams: Option<std::collections::HashMap<i64, Arc<entity::team::Model>>>,
    ) -> Vec<Self> {
        let batch = PageBatch::new(db.clone(), &models, teams);
        models
            .into_iter()
            .map(|model| Self {
                model,
                page: Some(batch.clone()),
                snapshot: false,
            })
            .collect()
    }

    async fn team(&self, ctx: &Context<'_>, id: i64) -> async_graphql::Result<Team> {
        match &self.page {
            Some(page) => match page.team(id).await.gql()? {
                Some(team) => Ok(Team(team)),
                None => Err(to_graphql(service::Error::Internal(anyhow::anyhow!(
                    "team {id} of match {} is missing",
                    self.model.id
                )))),
            },
            None => load_one::<Teams>(ctx, id).await.map(Team),
        }
    }
}

#[Object]
impl Match {
    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }
    /// Kick-off instant in UTC.
    async fn kickoff_at(&self) -> DateTime<Utc> {
        self.model.kickoff_at
    }
    /// False when the source only gave the date; `kickoffAt` is then midnight local time.
    async fn kickoff_time_known(&self) -> bool {
        self.model.kickoff_time_known
    }
    async fn status(&self) -> MatchStatus {
        self.model.status.into()
    }
    /// Round name as the competition gives it, e.g. `Matchday 12` or `Final`.
    async fn round(&self) -> Option<&str> {
        self.model.round.as_deref()
    }
    async fn matchday(&self) -> Option<i32> {
        self.model.matchday
    }
    /// The stage of the season: `League`, `Playoffs`, `Finals`.
    async fn stage(&self) -> Option<&str> {
        self.model.stage.as_deref()
    }
    /// The group within a group stage, e.g. `Group A`.
    async fn group(&self) -> Option<&str> {
        self.model.group_name.as_deref()
    }
    /// The knockout tie this match is part of, with its other leg, the
    /// aggregate and who went through; null for a match of a table stage.
    /// In `matchUpdated`, a goal moves the aggregate.
    async fn tie(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tie>> {
        use service::stages::{StageKind, kind_of};
        let m = &self.model;
        let table_either_way = [
            entity::CompetitionKind::League,
            entity::CompetitionKind::Cup,
        ]
        .into_iter()
        .all(|kind| {
            kind_of(m.stage.as_deref(), m.round.as_deref(), m.matchday, kind) == StageKind::Table
        });
        if table_either_way {
            return Ok(None);
        }
        let season = crate::graphql::loaders::season_matches(ctx, m.season_id).await?;
        let rounds = super::knockout_bracket(ctx, &season, None, Some(m)).await?;
        Ok(rounds
            .into_iter()
            .flat_map(|r| r.ties)
            .find(|t| t.contains(m.id))
            .map(Tie))
    }
    /// The minute of play while the match is live.
    async fn minute(&self) -> Option<i32> {
        self.model.minute
    }
    /// Every part is null before kick-off, and for a viewer in
    /// spoiler-free mode until they reveal the match (`spoilerHidden`).
    async fn score(&self, ctx: &Context<'_>) -> async_graphql::Result<Score> {
        let m = &self.model;
        if crate::graphql::spoilers::hides(ctx, m).await? {
            return Ok(Score {
                home: None,
                away: None,
                half_time: None,
                extra_time: None,
                penalties: None,
            });
        }
        Ok(Score {
            home: m.home_score,
            away: m.away_score,
            half_time: pair(m.half_time_home, m.half_time_away),
            extra_time: pair(m.extra_time_home, m.extra_time_away),
            penalties: pair(m.penalties_home, m.penalties_away),
        })
    }
    /// True when the viewer is in spoiler-free mode and has not revealed
    /// this match, which has a result: `score` is empty and `events` hold
    /// only the line-ups and the kick-off.
    async fn spoiler_hidden(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        crate::graphql::spoilers::hides(ctx, &self.model).await
    }
    async fn home_team(&self, ctx: &Context<'_>) -> async_graphql::Result<Team> {
        self.team(ctx, self.model.home_team_id).await
    }
    async fn away_team(&self, ctx: &Context<'_>) -> async_graphql::Result<Team> {
        self.team(ctx, self.model.away_team_id).await
    }
    async fn season(&self, ctx: &Context<'_>) -> async_graphql::Result<Season> {
        load_one::<Seasons>(ctx, self.model.season_id)
            .await
            .map(Season)
    }
    async fn competition(&self, ctx: &Context<'_>) -> async_graphql::Result<Competition> {
        let season = load_one::<Seasons>(ctx, self.model.season_id).await?;
        load_one::<Competitions>(ctx, season.competition_id)
            .await
            .map(Competition)
    }
    /// Sequence number of the latest event; pass it as `afterSeq` to resume.
    async fn last_event_seq(&self) -> i32 {
        self.model.last_event_seq
    }
    /// Everything that happened, in sequence order, including cancelled events.
    async fn events(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<MatchEvent>> {
        let mut events = match &self.page {
            Some(page) => page.events(self.model.id).await.gql()?,
            None => load_group::<EventsOfMatch>(ctx, self.model.id).await?,
        };
        // An update sent later (to a viewer with a stream delay) tells no
        // event newer than the match it carries, nor a correction newer
        // than it of an event it has.
        if self.snapshot {
            let last = self.model.last_event_seq;
            let corrected_later: std::collections::HashSet<i64> = events
                .iter()
                .filter(|e| e.seq > last)
                .filter_map(|e| e.corrects_event_id)
                .collect();
            events.retain(|e| e.seq <= last);
            for e in &mut events {
                if corrected_later.contains(&e.id) {
                    e.cancelled = false;
                    e.cancelled_reason = None;
                }
            }
        }
        if crate::graphql::spoilers::hides(ctx, &self.model).await? {
            events.retain(|e| {
                matches!(
                    e.kind,
                    entity::MatchEventKind::Lineups | entity::MatchEventKind::KickOff
                )
            });
        }
        Ok(events.into_iter().map(MatchEvent).collect())
    }
    /// The teams' line-ups as the feed announced them, home side first;
    /// empty until one is set.
    async fn lineups(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Lineup>> {
        let mut lineups = crate::graphql::loaders::load_group::<
            crate::graphql::loaders::LineupsOfMatch,
        >(ctx, self.model.id)
        .await?;
        lineups.sort_by_key(|lineup| lineup.team_id != self.model.home_team_id);
        Ok(lineups.into_iter().map(Lineup).collect())
    }
    /// When anything about the match last changed (schedule, events,
    /// clock). Poll on it where a websocket cannot be held.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.model.updated_at
    }
    /// When the latest event was recorded; null before the first.
    async fn last_event_at(&self) -> Option<DateTime<Utc>> {
        self.model.last_event_at
    }
    /// How many times the match was moved, postponed or cancelled.
    async fn schedule_revision(&self) -> i32 {
        self.model.schedule_revision
    }
}
