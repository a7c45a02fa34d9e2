//! InTheGame's domain: the commands and queries over the database, the
//! configuration and telemetry that `api` and `worker` share, and the
//! connections to PostgreSQL/SQLite and Redis. Neither binary talks to the
//! database except through this crate.

pub mod accounts;
pub mod calendar;
pub mod cli;
pub mod competitions;
pub mod config;
pub mod db;
pub mod dead_jobs;
pub mod demo;
pub mod error;
pub mod healthcheck;
pub mod import;
pub mod jobs;
pub mod live;
pub mod matches;
pub mod notifications;
pub mod outbox;
pub mod pagination;
pub mod redis;
pub mod scorers;
pub mod shutdown;
pub mod stages;
pub mod standings;
pub mod teams;
pub mod telemetry;
pub mod values;

pub use config::Config;
pub use error::{Error, Result};
