//! Related rows for a whole page of matches, loaded on first use with one
//! query per relation (or, for teams, read with the page itself). Unlike a time-windowed DataLoader, the batch is the
//! page itself, so the statement count never depends on timing.

use std::collections::HashMap;
use std::sync::Arc;

use entity::{football_match, match_event, team};
use sea_orm::DatabaseConnection;
use tokio::sync::OnceCell;

pub struct PageBatch {
    db: DatabaseConnection,
    match_ids: Vec<i64>,
    team_ids: Vec<i64>,
    teams: OnceCell<HashMap<i64, Arc<team::Model>>>,
    events: OnceCell<HashMap<i64, Vec<match_event::Model>>>,
}

impl PageBatch {
    /// `teams`: the page's teams when they were read with it.
    pub fn new(
        db: DatabaseConnection,
        matches: &[football_match::Model],
        teams: Option<HashMap<i64, Arc<team::Model>>>,
    ) -> Arc<Self> {
        let team_ids = match teams {
            Some(_) => Vec::new(),
            None => {
                let mut ids: Vec<i64> = matches
                    .iter()
                    .flat_map(|m| [m.home_team_id, m.away_team_id])
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                ids
            }
        };
        Arc::new(Self {
            db,
            match_ids: matches.iter().map(|m| m.id).collect(),
            team_ids,
            teams: OnceCell::new_with(teams),
            events: OnceCell::new(),
        })
    }

    pub async fn team(&self, id: i64) -> service::Result<Option<Arc<team::Model>>> {
        let teams = self
            .teams
            .get_or_try_init(|| async {
                let rows = service::teams::by_ids(&self.db, &self.team_ids).await?;
                Ok::<_, service::Error>(rows.into_iter().map(|t| (t.id, Arc::new(t))).collect())
            })
            .await?;
        Ok(teams.get(&id).cloned())
    }

    pub async fn events(&self, match_id: i64) -> service::Result<Vec<match_event::Model>> {
        let events = self
            .events
            .get_or_try_init(|| async {
                let rows = service::matches::events_of(&self.db, &self.match_ids).await?;
                let mut grouped: HashMap<i64, Vec<match_event::Model>> = HashMap::new();
                for row in rows {
                    grouped.entry(row.match_id).or_default().push(row);
                }
                Ok::<_, service::Error>(grouped)
            })
            .await?;
        Ok(events.get(&match_id).cloned().unwrap_or_default())
    }
}
