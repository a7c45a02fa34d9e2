use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::football_match;

use super::Team;
use crate::graphql::loaders::TeamLoader;

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
pub struct Match(pub football_match::Model);

#[Object]
impl Match {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Kick-off instant in UTC.
    async fn kickoff_at(&self) -> DateTime<Utc> {
        self.0.kickoff_at
    }
    /// False when the source only gave the date; `kickoffAt` is then midnight local time.
    async fn kickoff_time_known(&self) -> bool {
        self.0.kickoff_time_known
    }
    async fn status(&self) -> MatchStatus {
        self.0.status.into()
    }
    /// Round name as the competition gives it, e.g. `Matchday 12` or `Final`.
    async fn round(&self) -> Option<&str> {
        self.0.round.as_deref()
    }
    async fn matchday(&self) -> Option<i32> {
        self.0.matchday
    }
    async fn stage(&self) -> Option<&str> {
        self.0.stage.as_deref()
    }
    /// The minute of play while the match is live.
    async fn minute(&self) -> Option<i32> {
        self.0.minute
    }
    async fn score(&self) -> Score {
        let m = &self.0;
        Score {
            home: m.home_score,
            away: m.away_score,
            half_time: pair(m.half_time_home, m.half_time_away),
            extra_time: pair(m.extra_time_home, m.extra_time_away),
            penalties: pair(m.penalties_home, m.penalties_away),
        }
    }
    async fn home_team(&self, ctx: &Context<'_>) -> async_graphql::Result<Team> {
        load_team(ctx, self.0.home_team_id).await
    }
    async fn away_team(&self, ctx: &Context<'_>) -> async_graphql::Result<Team> {
        load_team(ctx, self.0.away_team_id).await
    }
}

async fn load_team(ctx: &Context<'_>, id: i64) -> async_graphql::Result<Team> {
    let loader = ctx.data_unchecked::<DataLoader<TeamLoader>>();
    match loader.load_one(id).await {
        Ok(Some(team)) => Ok(Team(team)),
        // A match always has its teams (foreign keys); a miss is a bug.
        Ok(None) => Err(crate::graphql::error::to_graphql(service::Error::Internal(
            anyhow::anyhow!("team {id} of a match is missing"),
        ))),
        Err(err) => Err(crate::graphql::error::to_graphql(service::Error::Internal(
            anyhow::anyhow!("loading team {id}: {err}"),
        ))),
    }
}
