//! Parsing of the `ID` arguments clients send.

use async_graphql::ID;

use super::error::bad_input;

/// Our IDs are decimal row ids; anything else is a clear input error.
pub fn parse_id(field: &str, id: &ID) -> async_graphql::Result<i64> {
    id.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| bad_input(field, format!("'{}' is not a valid id", id.as_str())))
}
