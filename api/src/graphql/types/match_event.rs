use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};
use entity::match_event;

use super::Team;
use crate::graphql::loaders::{Teams, load_one};

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "entity::MatchEventKind")]
pub enum MatchEventKind {
    /// A team's line-up was announced or changed (`setLineup`); `team` is
    /// whose, `detail` the formation.
    Lineups,
    KickOff,
    Goal,
    OwnGoal,
    PenaltyGoal,
    MissedPenalty,
    /// The referee gave a penalty; `team` takes it.
    PenaltyAwarded,
    /// The video assistant referee is checking an incident, told in `detail`.
    VarCheck,
    /// What a VAR check decided, told in `detail` (e.g. "Goal stands"). A
    /// decision that takes an event back is also recorded as a `CORRECTION`
    /// (`cancelMatchEvent`).
    VarDecision,
    YellowCard,
    SecondYellow,
    RedCard,
    Substitution,
    HalfTime,
    SecondHalf,
    ExtraTime,
    PenaltyShootout,
    FullTime,
    /// A VAR correction: it cancels the event in `correctsEventId`.
    Correction,
}

/// Something that happened in a match, numbered in order by `seq`.
pub struct MatchEvent(pub match_event::Model);

#[Object]
impl MatchEvent {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// 1, 2, 3… within the match, with no gaps.
    async fn seq(&self) -> i32 {
        self.0.seq
    }
    async fn kind(&self) -> MatchEventKind {
        self.0.kind.into()
    }
    async fn minute(&self) -> Option<i32> {
        self.0.minute
    }
    /// Minutes of added time, e.g. 3 for 90+3.
    async fn added_time(&self) -> Option<i32> {
        self.0.added_time
    }
    /// The team the event belongs to; an own goal names the scorer's team and counts for the other side.
    async fn team(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Team>> {
        match self.0.team_id {
            Some(id) => Ok(Some(Team(load_one::<Teams>(ctx, id).await?))),
            None => Ok(None),
        }
    }
    async fn player(&self) -> Option<&str> {
        self.0.player.as_deref()
    }
    /// Who made the goal, when the feed says.
    async fn assist(&self) -> Option<&str> {
        self.0.assist.as_deref()
    }
    async fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }
    /// True when a later correction took this event back.
    async fn cancelled(&self) -> bool {
        self.0.cancelled
    }
    async fn cancelled_reason(&self) -> Option<&str> {
        self.0.cancelled_reason.as_deref()
    }
    async fn corrects_event_id(&self) -> Option<ID> {
        self.0.corrects_event_id.map(|id| ID(id.to_string()))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
