//! A season's scorers: goals, assists and cards per player.

use async_graphql::{Context, Object};
use sea_orm::DatabaseConnection;

use super::Team;
use crate::graphql::error::{GqlResultExt as _, bad_input};
use crate::graphql::loaders::{Teams, load_one};

/// One player's season for one team, by the name the feed records.
pub struct PlayerStats(pub service::scorers::PlayerStats);

#[Object]
impl PlayerStats {
    /// As the feed names them; players have no ids yet.
    async fn player(&self) -> &str {
        &self.0.player
    }
    async fn team(&self, ctx: &Context<'_>) -> async_graphql::Result<Team> {
        load_one::<Teams>(ctx, self.0.team_id).await.map(Team)
    }
    /// Goals in play, penalties included; not own goals, not shoot-out kicks,
    /// not goals a correction took back.
    async fn goals(&self) -> u32 {
        self.0.goals
    }
    /// Penalties scored in play (counted in `goals` too).
    async fn penalties(&self) -> u32 {
        self.0.penalties
    }
    /// Own goals, kept apart: they count for the other side.
    async fn own_goals(&self) -> u32 {
        self.0.own_goals
    }
    async fn assists(&self) -> u32 {
        self.0.assists
    }
    async fn yellow_cards(&self) -> u32 {
        self.0.yellow_cards
    }
    /// Straight reds and second yellows.
    async fn red_cards(&self) -> u32 {
        self.0.red_cards
    }
    /// Matches in which the player scored, assisted or was booked.
    async fn matches(&self) -> u32 {
        self.0.matches
    }
}

/// `scorers(seasonId, teamId, first)`: ranked by goals, then assists, then
/// fewer penalties, then name; at most `first` (1 to 100) lines.
pub async fn scorers(
    ctx: &Context<'_>,
    season_id: i64,
    team_id: Option<i64>,
    first: i32,
) -> async_graphql::Result<Vec<PlayerStats>> {
    let Some(first) = usize::try_from(first)
        .ok()
        .filter(|n| (1..=100).contains(n))
    else {
        return Err(bad_input("first", "must be between 1 and 100"));
    };
    let db = ctx.data_unchecked::<DatabaseConnection>();
    let shown = crate::graphql::spoilers::shown(ctx).await?;
    let mut lines = service::scorers::season(db, season_id, team_id, &shown)
        .await
        .gql()?;
    lines.truncate(first);
    Ok(lines.into_iter().map(PlayerStats).collect())
}
