//! GraphQL object types. They wrap entity models; the entities themselves
//! know nothing of GraphQL.

mod football_match;
mod team;

pub use football_match::{Match, MatchStatus, Score, ScorePair};
pub use team::Team;
