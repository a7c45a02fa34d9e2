//! The shape of InTheGame's data: one sea-orm entity per table. No behaviour
//! lives here.

pub mod enums;
pub mod prelude;

pub mod api_token;
pub mod calendar_token;
pub mod competition;
pub mod competition_follow;
pub mod dead_job;
pub mod delivery;
pub mod digest_run;
pub mod follow;
pub mod football_match;
pub mod lineup;
pub mod match_event;
pub mod match_follow;
pub mod notification;
pub mod notification_preference;
pub mod outbox;
pub mod points_adjustment;
pub mod revealed_match;
pub mod season;
pub mod team;
pub mod user;
pub mod web_push_subscription;

pub use enums::*;
