//! End-to-end tests: the real server, over the real wire.

mod common;

mod accounts;
mod authorization;
mod binary;
mod graphql_http;
mod inbox;
mod preferences;
mod probes;
mod queries;
mod rate_limits;
mod schema;
mod websocket_auth;
