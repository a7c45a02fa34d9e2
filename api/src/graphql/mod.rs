//! The GraphQL schema: query roots, object types, loaders and the mapping
//! from service errors to GraphQL errors.

pub mod connection;
pub mod error;
pub mod guards;
pub mod loaders;
pub mod mutation;
pub mod page_batch;
pub mod query;
pub mod scalars;
pub mod spoilers;
pub mod subscription;
pub mod types;

use async_graphql::Schema;
use sea_orm::DatabaseConnection;

pub use mutation::{AccountSettings, MutationRoot};
pub use query::QueryRoot;
pub use subscription::{
    Happened, OpenSubscriptions, StreamDelayed, SubscriptionRoot, hold_responses,
};

pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// The schema with its per-process data (database, loaders, account settings).
pub fn build_schema(
    db: DatabaseConnection,
    limits: &crate::app::Limits,
    accounts: AccountSettings,
    bus: service::live::bus::Bus,
    open_subscriptions: OpenSubscriptions,
    jobs: service::jobs::Jobs,
) -> AppSchema {
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    // No schema extensions: with any installed, async-graphql sends every
    // field of every row through the extension chain. What they would do
    // needs only the request, and `crate::execution` does it around the
    // schema.
    .limit_recursive_depth(crate::execution::document_limits::MAX_NESTING)
    .limit_depth(limits.max_query_depth)
    .limit_complexity(limits.max_query_complexity);
    if !limits.introspection {
        builder = builder.disable_introspection();
    }
    loaders::register(builder, &db)
        .data(db)
        .data(accounts)
        .data(bus)
        .data(open_subscriptions)
        .data(jobs)
        .finish()
}

/// The schema's SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    .finish()
    .sdl()
}
