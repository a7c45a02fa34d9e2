//! Value types the domain shares: parsed once where they come in (from a
//! client, an operator, a file or a stored row) and passed on typed.

pub mod season;
pub mod slug;
pub mod time;

pub use season::SeasonLabel;
pub use slug::slug;
pub use time::{LocalTime, TimeZone};
