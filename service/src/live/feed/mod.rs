//! The feed's writes: fixtures, match events and corrections, and the
//! catalogue and table corrections around them. Each write of a match is
//! one transaction that also writes an outbox row for the worker, and is
//! published on the bus only after it commits.
//!
//! - `events`: match events, corrections and the clock.
//! - `fixtures`: scheduling, moving, postponing and cancelling matches.
//! - `lineups`: each team's formation, starting eleven and bench.
//! - `catalog`: competitions, seasons and teams.
//! - `points`: points adjustments.
//! - `publish`: the outbox row and the bus message that follow a write.

mod catalog;
mod events;
mod fixtures;
mod lineups;
mod points;
mod publish;

pub use catalog::{TeamDetails, create_competition, create_season, create_team, update_team};
pub use events::{NewEvent, Recorded, cancel_event, record_event, set_minute};
pub use fixtures::{NewMatch, cancel_match, postpone_match, reschedule_match, schedule_match};
pub use lineups::{MAX_BENCH, NewLineup, STARTERS, lineups_by_match_ids, players, set_lineup};
pub use points::adjust_points;
pub use publish::publish;

use crate::{Error, Result};

fn required_text(field: &str, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(Error::invalid(
            field,
            format!("must be 1 to {max} characters"),
        ));
    }
    Ok(value.to_owned())
}
