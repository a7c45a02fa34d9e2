use async_graphql::{Context, Enum, Object};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use super::Team;
use service::standings::Counting;

use crate::graphql::error::{GqlResultExt as _, bad_input};

/// A result from one team's side.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "service::standings::Outcome")]
pub enum Outcome {
    Won,
    Drawn,
    Lost,
}

/// What a table ranks teams by, in `StageTable.ranking`'s order: the
/// higher value first, but `NAME` alphabetically.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "service::standings::Criterion")]
pub enum RankingCriterion {
    Points,
    GoalDifference,
    GoalsFor,
    /// Goals scored in away matches.
    AwayGoalsFor,
    Wins,
    AwayWins,
    /// The points of the opponents played, added up.
    OpponentsPoints,
    /// The goal difference of the opponents played, added up.
    OpponentsGoalDifference,
    /// The goals scored by the opponents played, added up.
    OpponentsGoalsFor,
    /// The team's name, alphabetically: what decides when nothing else does.
    Name,
}

/// One team's line in a league table.
pub struct StandingRow(pub service::standings::Row);

#[Object]
impl StandingRow {
    async fn position(&self) -> u32 {
        self.0.position
    }
    async fn team(&self) -> Team {
        Team::from(self.0.team.clone())
    }
    async fn played(&self) -> u32 {
        self.0.played
    }
    async fn won(&self) -> u32 {
        self.0.won
    }
    async fn drawn(&self) -> u32 {
        self.0.drawn
    }
    async fn lost(&self) -> u32 {
        self.0.lost
    }
    async fn goals_for(&self) -> i32 {
        self.0.goals_for
    }
    async fn goals_against(&self) -> i32 {
        self.0.goals_against
    }
    async fn goal_difference(&self) -> i32 {
        self.0.goal_difference()
    }
    /// Goals scored in away matches (a tie-breaker in a UEFA league phase).
    async fn away_goals_for(&self) -> i32 {
        self.0.away_goals_for
    }
    /// Away matches won (a tie-breaker in a UEFA league phase).
    async fn away_won(&self) -> u32 {
        self.0.away_won
    }
    /// Points from results plus `pointsAdjustment`.
    async fn points(&self) -> i32 {
        self.0.points
    }
    /// Points added or deducted by the competition (negative for a deduction).
    async fn points_adjustment(&self) -> i32 {
        self.0.points_adjustment
    }
    /// The last five results, newest first.
    async fn form(&self) -> Vec<Outcome> {
        self.0.form.iter().copied().map(Into::into).collect()
    }
    /// True when a match in play counts at its current score: the line will
    /// change if that score does. Only live tables have such rows.
    async fn provisional(&self) -> bool {
        self.0.provisional
    }
}

/// Which of a season's tables: by stage, and by group within it.
#[derive(Default)]
pub struct TableChoice {
    pub stage: Option<String>,
    pub group: Option<String>,
}

/// `standings(asOf, live)`: at most one of the two.
fn counting(as_of: Option<DateTime<Utc>>, live: bool) -> async_graphql::Result<Counting> {
    match (as_of, live) {
        (None, false) => Ok(Counting::Final),
        (Some(at), false) => Ok(Counting::AsOf(at)),
        (None, true) => Ok(Counting::Live),
        (Some(_), true) => Err(bad_input(
            "live",
            "a live table is the table now: leave out asOf, or live",
        )),
    }
}

/// Every table of the season (one per table stage, or per group).
pub async fn tables(
    ctx: &Context<'_>,
    season_id: i64,
    as_of: Option<DateTime<Utc>>,
    live: bool,
) -> async_graphql::Result<Vec<service::standings::StageTable>> {
    let counting = counting(as_of, live)?;
    let db = ctx.data_unchecked::<DatabaseConnection>();
    // In spoiler-free mode, only the results the viewer revealed count.
    let shown = crate::graphql::spoilers::shown(ctx).await?;
    service::standings::tables_shown(db, season_id, counting, &shown)
        .await
        .gql()
}

/// The one table `choice` names. A season with one table needs no choice;
/// with several (groups, or more than one table stage), the choice must
/// name one, and a name that is not there is bad input.
pub async fn table(
    ctx: &Context<'_>,
    season_id: i64,
    as_of: Option<DateTime<Utc>>,
    live: bool,
    choice: TableChoice,
) -> async_graphql::Result<Vec<StandingRow>> {
    let all = tables(ctx, season_id, as_of, live).await?;
    let names = |tables: &[&service::standings::StageTable], group: bool| -> String {
        let mut names: Vec<&str> = tables
            .iter()
            .filter_map(|t| {
                if group {
                    t.group.as_deref()
                } else {
                    t.stage.as_deref()
                }
            })
            .collect();
        names.dedup();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    };
    let mut chosen: Vec<&service::standings::StageTable> = all.iter().collect();
    if let Some(stage) = choice.stage.as_deref() {
        let before = names(&chosen, false);
        chosen.retain(|t| t.stage.as_deref() == Some(stage));
        if chosen.is_empty() {
            return Err(bad_input(
                "stage",
                format!(
                    "the season has no table stage named \"{stage}\"; its table stages: {before}"
                ),
            ));
        }
    }
    if let Some(group) = choice.group.as_deref() {
        let before = names(&chosen, true);
        chosen.retain(|t| t.group.as_deref() == Some(group));
        if chosen.is_empty() {
            return Err(bad_input(
                "group",
                format!("there is no group named \"{group}\"; the groups: {before}"),
            ));
        }
    }
    match chosen.as_slice() {
        [] => Ok(Vec::new()),
        [table] => Ok(table.rows.iter().cloned().map(StandingRow).collect()),
        several => {
            let stages = names(several, false);
            let one_stage = several.iter().all(|t| t.stage == several[0].stage);
            Err(if one_stage {
                bad_input(
                    "group",
                    format!(
                        "the stage has a table per group; name one: {}",
                        names(several, true)
                    ),
                )
            } else {
                bad_input(
                    "stage",
                    format!("the season has several table stages; name one: {stages}"),
                )
            })
        }
    }
}
