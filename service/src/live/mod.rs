//! Live matches: the feed's writes, the rules they follow, and the bus that
//! carries each committed change to every subscriber on every replica.

pub mod bus;
pub mod feed;
pub mod rules;
pub mod stream;
