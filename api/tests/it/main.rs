//! End-to-end tests: the real server, over the real wire.

use test_support as common;

mod accounts;
mod alert_kinds;
mod authorization;
mod binary;
mod calendar;
mod capacity;
mod coded_errors;
mod draining;
mod durability;
mod field_order;
mod follows;
mod freshness;
mod graphql_http;
mod import;
mod inbox;
mod limits;
mod lineups;
mod live;
mod live_standings;
mod migrations;
mod n_plus_one;
mod pages;
mod preferences;
mod probes;
mod queries;
mod rate_limits;
mod redis_tls;
mod response_cache;
mod schema;
mod scorers;
mod spoilers;
mod stages;
mod transport;
mod websocket_auth;
mod websocket_limits;
