//! DataLoaders batch the lookups of related rows, so that a page of matches
//! costs one query for all its teams rather than one per match.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::team;
use sea_orm::DatabaseConnection;

pub struct TeamLoader {
    db: DatabaseConnection,
}

impl TeamLoader {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

impl Loader<i64> for TeamLoader {
    type Value = team::Model;
    type Error = Arc<service::Error>;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let teams = service::teams::by_ids(&self.db, ids)
            .await
            .map_err(Arc::new)?;
        Ok(teams.into_iter().map(|t| (t.id, t)).collect())
    }
}
