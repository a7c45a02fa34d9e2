//! End-to-end tests: the real server, over the real wire.

mod common;

mod binary;
mod graphql_http;
mod import;
mod limits;
mod n_plus_one;
mod probes;
mod queries;
mod schema;
