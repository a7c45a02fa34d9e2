//! The GraphQL schema: query roots, object types, loaders and the mapping
//! from service errors to GraphQL errors.

pub mod error;
pub mod loaders;
pub mod query;
pub mod scalars;
pub mod types;

use async_graphql::dataloader::DataLoader;
use async_graphql::{EmptyMutation, EmptySubscription, Schema};
use sea_orm::DatabaseConnection;

pub use query::QueryRoot;

pub type AppSchema = Schema<QueryRoot, EmptyMutation, EmptySubscription>;

/// The schema with its per-process data (database, loaders).
pub fn build_schema(db: DatabaseConnection) -> AppSchema {
    let teams = DataLoader::new(loaders::TeamLoader::new(db.clone()), tokio::spawn);
    Schema::build(QueryRoot::default(), EmptyMutation, EmptySubscription)
        .data(db)
        .data(teams)
        .finish()
}

/// The schema's SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(QueryRoot::default(), EmptyMutation, EmptySubscription)
        .finish()
        .sdl()
}
