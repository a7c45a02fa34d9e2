//! The one error type that service functions return. The API maps each
//! variant to a GraphQL error with a stable `extensions.code`.

use std::collections::BTreeMap;

/// What went wrong, in terms a client can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The thing asked for does not exist (or is not the caller's to see).
    #[error("{0} not found")]
    NotFound(String),
    /// The input is wrong; messages are keyed by the field that is wrong.
    #[error("invalid input: {}", summarize(.0))]
    Invalid(BTreeMap<String, Vec<String>>),
    /// The write was made against a stale view of the data.
    #[error("{0}")]
    Conflict(String),
    /// The caller is known but may not do this.
    #[error("you are not allowed to do this")]
    Forbidden,
    /// The caller must sign in first.
    #[error("authentication required")]
    Unauthenticated,
    /// Sign-in failed. Deliberately silent about which part was wrong.
    #[error("the email or password is wrong")]
    WrongCredentials,
    /// A dependency (the database) cannot take work right now: it is
    /// unreachable, out of space or locked. Nothing was written; the client
    /// may retry later. The cause goes to the log.
    #[error("the service is unavailable; try again shortly")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else. The cause goes to the log, never to the client.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl Error {
    /// A single-field validation error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(BTreeMap::from([(field.into(), vec![message.into()])]))
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }
}

fn summarize(fields: &BTreeMap<String, Vec<String>>) -> String {
    fields
        .iter()
        .map(|(field, messages)| format!("{field}: {}", messages.join("; ")))
        .collect::<Vec<_>>()
        .join(", ")
}

impl From<sea_orm::DbErr> for Error {
    fn from(err: sea_orm::DbErr) -> Self {
        if crate::db::is_unavailable(&err) {
            Self::Unavailable(err.into())
        } else {
            Self::Internal(err.into())
        }
    }
}

impl From<sea_orm::TransactionError<Error>> for Error {
    fn from(err: sea_orm::TransactionError<Error>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(inner) => inner,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Constraint violations as field errors.
pub trait DbResultExt<T> {
    /// A unique-constraint violation becomes a `field` error saying
    /// `message`; anything else stays what it was. The database's own text
    /// never reaches the client.
    fn on_unique_violation(self, field: &str, message: &str) -> Result<T>;
}

impl<T> DbResultExt<T> for std::result::Result<T, sea_orm::DbErr> {
    fn on_unique_violation(self, field: &str, message: &str) -> Result<T> {
        self.map_err(|err| match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::invalid(field, message),
            _ => err.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_error_names_the_field_in_its_message() {
        let err = Error::invalid("email", "must contain @");
        assert_eq!(err.to_string(), "invalid input: email: must contain @");
    }

    #[test]
    fn an_internal_error_hides_its_cause() {
        let err = Error::Internal(anyhow::anyhow!("connection refused on 10.0.0.5"));
        assert_eq!(err.to_string(), "internal error");
    }
}
