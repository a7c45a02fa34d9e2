//! The GraphQL schema: query roots, object types, loaders and the mapping
//! from service errors to GraphQL errors.

pub mod connection;
pub mod error;
pub mod loaders;
pub mod page_batch;
pub mod query;
pub mod scalars;
pub mod types;

use async_graphql::{EmptyMutation, EmptySubscription, Schema};
use sea_orm::DatabaseConnection;

pub use query::QueryRoot;

pub type AppSchema = Schema<QueryRoot, EmptyMutation, EmptySubscription>;

/// The schema with its per-process data (database, loaders).
pub fn build_schema(db: DatabaseConnection, limits: &crate::app::Limits) -> AppSchema {
    let mut builder = Schema::build(QueryRoot::default(), EmptyMutation, EmptySubscription)
        .limit_depth(limits.max_query_depth)
        .limit_complexity(limits.max_query_complexity);
    if !limits.introspection {
        builder = builder.disable_introspection();
    }
    loaders::register(builder, &db).data(db).finish()
}

/// The schema's SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(QueryRoot::default(), EmptyMutation, EmptySubscription)
        .finish()
        .sdl()
}
