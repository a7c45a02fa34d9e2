//! Accounts: registration, sign-in with bearer tokens, roles, and removing
//! an account with everything that is its own. Follows, notification
//! preferences and the in-app inbox hang off an account and live beside it.
//!
//! Untrusted input is parsed into the newtypes of this module (`Email`,
//! `Password`, `DisplayName`, `TimeZone`, `LocalTime`, `WebhookUrl`)
//! before anything is written, and every rule a field breaks is reported
//! under that field's name.

mod display_name;
mod email;
pub mod follows;
pub mod inbox;
mod password;
pub mod preferences;
pub mod spoilers;
pub mod token;

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use entity::{UserRole, api_token, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait as _,
    PaginatorTrait as _, QueryFilter as _, TransactionSession as _, TransactionTrait,
};

pub use crate::values::{LocalTime, TimeZone};
pub use display_name::DisplayName;
pub use email::Email;
pub use password::Password;

use crate::error::DbResultExt as _;
use crate::{Error, Result};

/// `last_used_at` is refreshed at most this often, so that a busy client
/// does not turn every read into a write.
const LAST_USED_GRANULARITY_MINUTES: i64 = 5;

/// What `register` is given, as the client sent it.
#[derive(Clone, Debug)]
pub struct Registration {
    pub email: String,
    pub password: String,
    pub display_name: String,
    /// Defaults to `UTC`.
    pub time_zone: Option<String>,
}

/// A signed-in session: the token (shown to the client this once) and its user.
pub struct SignedIn {
    pub token: String,
    pub expires_at: chrono::DateTime<Utc>,
    pub user: user::Model,
}

/// Who a valid bearer token belongs to.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub user: user::Model,
    pub token_id: i64,
    /// When the token stops working, whatever else happens.
    pub expires_at: chrono::DateTime<Utc>,
    /// Whether the user keeps results away (`spoilers`), read with the
    /// token: it decides, before anything runs, whether they see what an
    /// anonymous reader sees.
    pub spoiler_free: bool,
    /// The user's stream delay, read with the token: it decides whether
    /// their live subscriptions may be shared.
    pub stream_delay: preferences::StreamDelay,
}

/// Collects field errors so that one response lists every problem.
#[derive(Default)]
pub(crate) struct FieldErrors(BTreeMap<String, Vec<String>>);

impl FieldErrors {
    pub(crate) fn check<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub(crate) fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    pub(crate) fn into_result(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self.0))
        }
    }
}

/// A valid new account, ready to be stored.
struct NewUser {
    email: Email,
    password: Password,
    display_name: DisplayName,
    time_zone: TimeZone,
}

fn parse_registration(input: &Registration) -> Result<NewUser> {
    let mut errors = FieldErrors::default();
    let email = errors.check("email", Email::parse(&input.email));
    let password = errors.check("password", Password::parse(&input.password));
    let display_name = errors.check("displayName", DisplayName::parse(&input.display_name));
    let time_zone = errors.check(
        "timeZone",
        TimeZone::parse(input.time_zone.as_deref().unwrap_or("UTC")),
    );
    errors.into_result()?;
    match (email, password, display_name, time_zone) {
        (Some(email), Some(password), Some(display_name), Some(time_zone)) => Ok(NewUser {
            email,
            password,
            display_name,
            time_zone,
        }),
        _ => Err(Error::Internal(anyhow::anyhow!(
            "a field failed to parse without an error"
        ))),
    }
}

/// Creates an account with the `USER` role and signs it in.
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn register(
    db: &impl TransactionTrait,
    input: Registration,
    token_ttl: Duration,
) -> Result<SignedIn> {
    let new = parse_registration(&input)?;
    let txn = db.begin().await?;
    let user = insert_user(&txn, new, UserRole::User).await?;
    let (token, expires_at) = issue_token(&txn, user.id, token_ttl).await?;
    txn.commit().await?;
    tracing::info!(user_id = user.id, "account registered");
    Ok(SignedIn {
        token,
        expires_at,
        user,
    })
}

/// Creates an account with any role, without signing it in: the operator's
/// bootstrap path (`api create-user`).
#[tracing::instrument(skip_all, fields(role = ?role), err(level = "info"))]
pub async fn create_user(
    db: &impl TransactionTrait,
    input: Registration,
    role: UserRole,
) -> Result<user::Model> {
    let new = parse_registration(&input)?;
    let txn = db.begin().await?;
    let user = insert_user(&txn, new, role).await?;
    txn.commit().await?;
    Ok(user)
}

async fn insert_user(
    db: &impl ConnectionTrait,
    new: NewUser,
    role: UserRole,
) -> Result<user::Model> {
    let password_hash = password::hash(&new.password).await?;
    let user = user::ActiveModel {
        email: Set(new.email.into_inner()),
        display_name: Set(new.display_name.into_inner()),
        password_hash: Set(password_hash),
        role: Set(role),
        time_zone: Set(new.time_zone.name().to_owned()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .on_unique_violation("email", "is already registered")?;
    preferences::create_defaults(db, user.id).await?;
    Ok(user)
}

/// Checks the password and issues a new token. A wrong email and a wrong
/// password get the same answer, in about the same time.
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn login(
    db: &impl ConnectionTrait,
    email: &str,
    password: &str,
    token_ttl: Duration,
) -> Result<SignedIn> {
    let user = match Email::parse(email) {
        Ok(email) => {
            user::Entity::find()
                .filter(user::Column::Email.eq(email.as_str()))
                .one(db)
                .await?
        }
        Err(_) => None,
    };
    let stored = user.as_ref().map(|u| u.password_hash.as_str());
    if !password::verify(password, stored).await? {
        return Err(Error::WrongCredentials);
    }
    let Some(user) = user else {
        return Err(Error::WrongCredentials);
    };
    let (token, expires_at) = issue_token(db, user.id, token_ttl).await?;
    tracing::info!(user_id = user.id, "signed in");
    Ok(SignedIn {
        token,
        expires_at,
        user,
    })
}

async fn issue_token(
    db: &impl ConnectionTrait,
    user_id: i64,
    ttl: Duration,
) -> Result<(String, chrono::DateTime<Utc>)> {
    let new = token::generate()?;
    let now = Utc::now();
    let expires_at = now + ttl;
    api_token::ActiveModel {
        user_id: Set(user_id),
        token_hash: Set(new.hash),
        created_at: Set(now),
        expires_at: Set(expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((new.token, expires_at))
}

/// The user behind a bearer token, if the token exists, has not expired
/// and was not revoked. `None` for anything else, without saying which.
pub async fn authenticate(db: &impl ConnectionTrait, token: &str) -> Result<Option<Authenticated>> {
    let now = Utc::now();
    let found = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(token::hash(token)))
        .filter(api_token::Column::RevokedAt.is_null())
        .filter(api_token::Column::ExpiresAt.gt(now))
        .find_also_related(user::Entity)
        .and_also_related(entity::notification_preference::Entity)
        .one(db)
        .await?;
    let Some((token, Some(user), preferences)) = found else {
        return Ok(None);
    };
    let stale = token
        .last_used_at
        .is_none_or(|at| now - at > Duration::minutes(LAST_USED_GRANULARITY_MINUTES));
    if stale {
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
            .filter(api_token::Column::Id.eq(token.id))
            .exec(db)
            .await?;
    }
    Ok(Some(Authenticated {
        user,
        token_id: token.id,
        expires_at: token.expires_at,
        spoiler_free: preferences.as_ref().is_some_and(|p| p.spoiler_free),
        stream_delay: preferences.map_or_else(Default::default, |p| {
            preferences::StreamDelay::stored(p.stream_delay_seconds)
        }),
    }))
}

/// Whether a token still works: it exists, has not expired and was not
/// revoked. Long-lived connections ask this before each delivery.
pub async fn token_is_active(db: &impl ConnectionTrait, token_id: i64) -> Result<bool> {
    Ok(api_token::Entity::find_by_id(token_id)
        .filter(api_token::Column::RevokedAt.is_null())
        .filter(api_token::Column::ExpiresAt.gt(Utc::now()))
        .one(db)
        .await?
        .is_some())
}

/// Revokes one token. Revoking twice is harmless.
///
/// This, `delete_account`, `set_role` and `preferences::update` change what
/// a bearer token stands for; once they have committed, the caller tells
/// every process through `Bus::sessions_changed`, so that none goes on
/// using what it remembers of the user's tokens.
#[tracing::instrument(skip_all, fields(token_id = token_id), err)]
pub async fn logout(db: &impl ConnectionTrait, token_id: i64) -> Result<()> {
    api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(api_token::Column::Id.eq(token_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Removes the account after checking its password. Its tokens, follows,
/// preferences, notifications and their deliveries go with it through the
/// foreign keys' `ON DELETE CASCADE`, in the same statement.
#[tracing::instrument(skip_all, fields(user_id = user_id), err(level = "info"))]
pub async fn delete_account(db: &impl ConnectionTrait, user_id: i64, password: &str) -> Result<()> {
    let user = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("user"))?;
    if !password::verify(password, Some(&user.password_hash)).await? {
        return Err(Error::invalid("password", "is not this account's password"));
    }
    user::Entity::delete_by_id(user_id).exec(db).await?;
    tracing::info!(user_id, "account deleted");
    Ok(())
}

/// Gives a user another role. The last admin cannot stop being one, so
/// that the service always keeps someone who can change roles.
#[tracing::instrument(skip_all, fields(user_id = user_id, role = ?role), err(level = "info"))]
pub async fn set_role(
    db: &impl TransactionTrait,
    user_id: i64,
    role: UserRole,
) -> Result<user::Model> {
    let txn = db.begin().await?;
    // Write first: a no-op update of the admins' rows locks them on
    // PostgreSQL and takes SQLite's write lock before anything is read. Two
    // admins demoting each other at once then run one after the other, and
    // the second sees the first one's change.
    user::Entity::update_many()
        .col_expr(user::Column::Role, Expr::col(user::Column::Role))
        .filter(user::Column::Role.eq(UserRole::Admin))
        .exec(&txn)
        .await?;
    let user = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("user"))?;
    if user.role == UserRole::Admin && role != UserRole::Admin {
        let admins = user::Entity::find()
            .filter(user::Column::Role.eq(UserRole::Admin))
            .count(&txn)
            .await?;
        if admins <= 1 {
            return Err(Error::Conflict(
                "the last admin cannot give up the ADMIN role".into(),
            ));
        }
    }
    let mut active: user::ActiveModel = user.into();
    active.role = Set(role);
    let user = active.update(&txn).await?;
    txn.commit().await?;
    Ok(user)
}

/// The account with this email address, as people type it.
pub async fn find_by_email(db: &impl ConnectionTrait, email: &str) -> Result<Option<user::Model>> {
    let Ok(email) = Email::parse(email) else {
        return Ok(None);
    };
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(db)
        .await?)
}
