//! Value types the domain shares: parsed once where they come in, from a
//! client, an operator, a file or a stored row, and passed on typed.

pub mod time;

pub use time::{LocalTime, TimeZone};
