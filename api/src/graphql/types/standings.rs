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

/// `standings(asOf, live)`: at most one of the two.
pub async fn table(
    ctx: &Context<'_>,
    season_id: i64,
    as_of: Option<DateTime<Utc>>,
    live: bool,
) -> async_graphql::Result<Vec<StandingRow>> {
    let counting = match (as_of, live) {
        (None, false) => Counting::Final,
        (Some(at), false) => Counting::AsOf(at),
        (None, true) => Counting::Live,
        (Some(_), true) => {
            return Err(bad_input(
                "live",
                "a live table is the table now: leave out asOf, or live",
            ));
        }
    };
    let db = ctx.data_unchecked::<DatabaseConnection>();
    // In spoiler-free mode, only the results the viewer revealed count.
    let shown = crate::graphql::spoilers::shown(ctx).await?;
    let rows = service::standings::table_shown(db, season_id, counting, &shown)
        .await
        .gql()?;
    Ok(rows.into_iter().map(StandingRow).collect())
}
