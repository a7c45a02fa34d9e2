use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::lineup;

use super::Team;
use crate::graphql::loaders::{Teams, load_one};

/// A team's line-up for a match.
pub struct Lineup(pub lineup::Model);

#[Object]
impl Lineup {
    async fn team(&self, ctx: &Context<'_>) -> async_graphql::Result<Team> {
        Ok(Team(load_one::<Teams>(ctx, self.0.team_id).await?))
    }
    /// Outfield lines from the back, such as `4-2-3-1`; null if not given.
    async fn formation(&self) -> Option<&str> {
        self.0.formation.as_deref()
    }
    /// The starting eleven, in the order the feed listed them.
    async fn starters(&self) -> Vec<LineupPlayer> {
        players(&self.0.starters)
    }
    /// The substitutes.
    async fn bench(&self) -> Vec<LineupPlayer> {
        players(&self.0.bench)
    }
    /// When the feed last set it.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// One player in a line-up.
#[derive(SimpleObject)]
pub struct LineupPlayer {
    pub shirt_number: i32,
    pub name: String,
    /// As the feed wrote it, such as `GK` or `LW`.
    pub position: Option<String>,
}

fn players(stored: &serde_json::Value) -> Vec<LineupPlayer> {
    service::live::feed::players(stored)
        .into_iter()
        .map(|p| LineupPlayer {
            shirt_number: p.shirt_number,
            name: p.name,
            position: p.position,
        })
        .collect()
}
