//! Stages, tables per group, and knockout ties and brackets.

use std::sync::Arc;

use async_graphql::{Context, Enum, Object, SimpleObject};
use service::stages::SeasonMatches;
use service::stages::ties::{self, Decision};

use super::{Match, RankingCriterion, StandingRow, Team};
use crate::graphql::loaders::{Teams, load_one};

/// How a stage is played.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "service::stages::StageKind")]
pub enum StageKind {
    /// A league or group phase: results count in a table (one per group).
    Table,
    /// Play-offs and knockout rounds: ties, the winner going on.
    Knockout,
}

/// One stage of a season: its league phase, its play-offs, its finals.
pub struct Stage(pub service::stages::Stage);

#[Object]
impl Stage {
    /// As the source names it (`League`, `Playoffs`, `Finals`); null when
    /// the source names no stage, as in a league's season.
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
    async fn kind(&self) -> StageKind {
        self.0.kind.into()
    }
    /// Round names in the order they are first played.
    async fn rounds(&self) -> &[String] {
        &self.0.rounds
    }
    /// Group names (`Group A`), sorted; empty for a stage without groups.
    async fn groups(&self) -> &[String] {
        &self.0.groups
    }
}

/// One table of a season: a table stage's, or one group's.
pub struct StageTable(pub service::standings::StageTable);

#[Object]
impl StageTable {
    async fn stage(&self) -> Option<&str> {
        self.0.stage.as_deref()
    }
    async fn group(&self) -> Option<&str> {
        self.0.group.as_deref()
    }
    /// What the rows are ranked by, in order. A league's table and each
    /// group's: points, goal difference, goals scored, name. The league
    /// phase of a cup (its table stage without groups, as the Champions
    /// League's from 2024/25) as UEFA ranks it: points, goal difference,
    /// goals scored, away goals scored, wins, away wins, then the
    /// opponents' points, goal difference and goals scored, then name
    /// (UEFA's disciplinary points and club coefficient are not in the
    /// results).
    async fn ranking(&self) -> Vec<RankingCriterion> {
        self.0
            .ranking
            .criteria()
            .iter()
            .copied()
            .map(Into::into)
            .collect()
    }
    async fn rows(&self) -> Vec<StandingRow> {
        self.0.rows.iter().cloned().map(StandingRow).collect()
    }
}

/// Where a tie stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "service::stages::ties::TieStatus")]
pub enum TieStatus {
    /// No match of the tie has kicked off.
    Upcoming,
    /// A match has kicked off and another is still to finish.
    InProgress,
    /// Every match finished and the winner is known (see `winnerInferred`).
    Decided,
    /// Every match finished, but neither the results nor a next round say
    /// who went through: the winner is unknown.
    Unresolved,
}

/// What settled a tie.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "service::stages::ties::Decision")]
pub enum TieDecision {
    /// The aggregate (or the one match's score) after regular time.
    RegularTime,
    /// Goals in extra time.
    ExtraTime,
    Penalties,
    /// The results do not say (a shoot-out recorded as a draw, say): the
    /// winner is the team that plays in the next round.
    NextRound,
}

/// Goals, or penalties, of the two sides of a tie.
#[derive(SimpleObject, Clone, Copy)]
pub struct TieScore {
    pub team_a: i32,
    pub team_b: i32,
}

impl From<ties::Pair> for TieScore {
    fn from(p: ties::Pair) -> Self {
        Self {
            team_a: p.team_a,
            team_b: p.team_b,
        }
    }
}

/// Two teams' tie in a knockout round: one match or two legs.
pub struct Tie(pub ties::Tie);

#[Object]
impl Tie {
    async fn stage(&self) -> Option<&str> {
        self.0.stage.as_deref()
    }
    /// The bracket's round: `Round of 16`, or the stage for a stage whose
    /// legs are numbered matchdays (`Playoffs`).
    async fn round(&self) -> &str {
        &self.0.round
    }
    /// The home side of the first match.
    async fn team_a(&self, ctx: &Context<'_>) -> async_graphql::Result<Team> {
        load_one::<Teams>(ctx, self.0.team_a).await.map(Team)
    }
    async fn team_b(&self, ctx: &Context<'_>) -> async_graphql::Result<Team> {
        load_one::<Teams>(ctx, self.0.team_b).await.map(Team)
    }
    /// The legs, in kick-off order.
    async fn matches(&self) -> Vec<Match> {
        self.0.matches.iter().cloned().map(Match::new).collect()
    }
    /// Goals of each side over the matches that kicked off, extra time
    /// included, a match in play at its current score; null before the
    /// first kicks off.
    async fn aggregate(&self) -> Option<TieScore> {
        self.0.aggregate.map(Into::into)
    }
    /// The last match went to extra time.
    async fn extra_time(&self) -> bool {
        self.0.extra_time
    }
    /// The last match's shoot-out, as recorded.
    async fn penalties(&self) -> Option<TieScore> {
        self.0.penalties.map(Into::into)
    }
    async fn status(&self) -> TieStatus {
        self.0.status.into()
    }
    /// Who went through; null until decided, and when nothing tells.
    async fn winner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Team>> {
        match self.0.winner {
            Some(id) => load_one::<Teams>(ctx, id).await.map(|t| Some(Team(t))),
            None => Ok(None),
        }
    }
    async fn decided_by(&self) -> Option<TieDecision> {
        self.0.decided_by.map(Into::into)
    }
    /// True when the winner is the team that played on, because the
    /// results themselves do not say (`decidedBy: NEXT_ROUND`).
    async fn winner_inferred(&self) -> bool {
        self.0.decided_by == Some(Decision::NextRound)
    }
}

/// One round of a season's knockout bracket.
pub struct BracketRound(pub ties::Round);

#[Object]
impl BracketRound {
    async fn stage(&self) -> Option<&str> {
        self.0.stage.as_deref()
    }
    /// `Playoffs`, `Round of 16`, `Quarterfinals`, ... `Final`.
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn ties(&self) -> Vec<Tie> {
        self.0.ties.iter().cloned().map(Tie).collect()
    }
}

/// The season's knockout rounds as this viewer may see them, optionally
/// of one stage only. Results a spoiler-free viewer has not revealed do
/// not count.
pub async fn bracket(
    ctx: &Context<'_>,
    season: &SeasonMatches,
    stage: Option<&str>,
    fresher: Option<&entity::football_match::Model>,
) -> async_graphql::Result<Vec<ties::Round>> {
    let shown = crate::graphql::spoilers::shown(ctx).await?;
    let mut matches = service::stages::hide_results(&season.matches, &shown);
    // The match a live update carries is at least as new as the stored one.
    if let Some(fresher) = fresher
        && let Some(stored) = matches.iter_mut().find(|m| m.id == fresher.id)
    {
        *stored = service::stages::hide_results(std::slice::from_ref(fresher), &shown)
            .pop()
            .unwrap_or_else(|| fresher.clone());
    }
    let mut rounds = ties::bracket(&matches, season.competition_kind);
    if let Some(stage) = stage {
        rounds.retain(|r| r.stage.as_deref() == Some(stage));
    }
    Ok(rounds)
}

/// The season's knockout bracket, for `Query.bracket` and `Season.bracket`:
/// a stage that is not one of the season's knockout stages is bad input.
pub async fn season_bracket(
    ctx: &Context<'_>,
    season: &Arc<SeasonMatches>,
    stage: Option<String>,
) -> async_graphql::Result<Vec<BracketRound>> {
    if let Some(name) = stage.as_deref() {
        let stages = season.stages();
        if !stages.iter().any(|s| {
            s.kind == service::stages::StageKind::Knockout && s.name.as_deref() == Some(name)
        }) {
            let knockout: Vec<&str> = stages
                .iter()
                .filter(|s| s.kind == service::stages::StageKind::Knockout)
                .filter_map(|s| s.name.as_deref())
                .collect();
            return Err(crate::graphql::error::bad_input(
                "stage",
                format!(
                    "the season has no knockout stage named \"{name}\"; its knockout stages: {}",
                    if knockout.is_empty() {
                        "none".to_owned()
                    } else {
                        knockout.join(", ")
                    }
                ),
            ));
        }
    }
    Ok(bracket(ctx, season, stage.as_deref(), None)
        .await?
        .into_iter()
        .map(BracketRound)
        .collect())
}
