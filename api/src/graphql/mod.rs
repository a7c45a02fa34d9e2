//! The GraphQL schema: query roots, object types, loaders and the mapping
//! from service errors to GraphQL errors.

pub mod error;
pub mod guards;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod scalars;
pub mod types;

use async_graphql::dataloader::DataLoader;
use async_graphql::{EmptySubscription, Schema};
use sea_orm::DatabaseConnection;

pub use mutation::{AccountSettings, MutationRoot};
pub use query::QueryRoot;

pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// The schema with its per-process data (database, loaders, account settings).
pub fn build_schema(db: DatabaseConnection, accounts: AccountSettings) -> AppSchema {
    let teams = DataLoader::new(loaders::TeamLoader::new(db.clone()), tokio::spawn);
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .data(db)
    .data(teams)
    .data(accounts)
    .finish()
}

/// The schema's SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .finish()
    .sdl()
}
