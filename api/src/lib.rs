//! The InTheGame API server: the GraphQL schema, served over HTTP and
//! websockets by axum. Resolvers are thin: they read the request's state,
//! call `service`, and map its errors to GraphQL errors.

pub mod admin;
pub mod app;
pub mod embedded;
pub mod execution;
pub mod graphql;
pub mod http;
pub mod rate_limit;

pub use app::{App, AppState, ServeOptions};
