//! Spoiler-free mode: a user who turns it on (`spoiler_free` in their
//! preferences) is kept from results (scores, goals, tables, alerts and
//! digests that tell them) until they reveal a match. Fixtures, kick-off
//! times, line-ups and schedule changes still come through.

use std::collections::HashSet;

use chrono::Utc;
use entity::{MatchStatus, football_match, notification_preference as prefs, revealed_match};
use sea_orm::{ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _};

use crate::{Error, Result};

/// Whether a match has a result to keep from anyone: it has kicked off
/// (or finished, or was suspended) since it was scheduled.
pub fn has_result(m: &football_match::Model) -> bool {
    !matches!(
        m.status,
        MatchStatus::Scheduled | MatchStatus::Postponed | MatchStatus::Cancelled
    ) || m.home_score.is_some()
}

/// Whether the user keeps results away until they reveal them.
pub async fn is_spoiler_free(db: &impl ConnectionTrait, user_id: i64) -> Result<bool> {
    Ok(prefs::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .is_some_and(|p| p.spoiler_free))
}

/// The matches the user revealed.
pub async fn revealed(db: &impl ConnectionTrait, user_id: i64) -> Result<HashSet<i64>> {
    Ok(revealed_match::Entity::find()
        .filter(revealed_match::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.match_id)
        .collect())
}

/// When the user last revealed a match, if ever.
pub async fn last_revealed_at(
    db: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Option<chrono::DateTime<Utc>>> {
    use sea_orm::QueryOrder as _;
    Ok(revealed_match::Entity::find()
        .filter(revealed_match::Column::UserId.eq(user_id))
        .order_by_desc(revealed_match::Column::RevealedAt)
        .one(db)
        .await?
        .map(|r| r.revealed_at))
}

/// The users who revealed the match.
pub async fn revealed_by(db: &impl ConnectionTrait, match_id: i64) -> Result<HashSet<i64>> {
    Ok(revealed_match::Entity::find()
        .filter(revealed_match::Column::MatchId.eq(match_id))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.user_id)
        .collect())
}

/// What the user may see of results: everything, or only the matches they
/// revealed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Shown {
    #[default]
    Everything,
    Revealed(HashSet<i64>),
}

impl Shown {
    /// Reads the user's mode and, when spoiler-free, what they revealed.
    pub async fn for_user(db: &impl ConnectionTrait, user_id: i64) -> Result<Self> {
        if is_spoiler_free(db, user_id).await? {
            Ok(Self::Revealed(revealed(db, user_id).await?))
        } else {
            Ok(Self::Everything)
        }
    }

    /// Whether the match's result must be kept from the user.
    pub fn hides(&self, m: &football_match::Model) -> bool {
        match self {
            Self::Everything => false,
            Self::Revealed(ids) => has_result(m) && !ids.contains(&m.id),
        }
    }

    /// Whether a result with this match id counts (for tables, where only
    /// matches with results are read).
    pub fn shows_id(&self, match_id: i64) -> bool {
        match self {
            Self::Everything => true,
            Self::Revealed(ids) => ids.contains(&match_id),
        }
    }
}

/// Lets the user see the match's result from now on. Revealing it twice
/// is fine.
pub async fn reveal(db: &impl ConnectionTrait, user_id: i64, match_id: i64) -> Result<()> {
    football_match::Entity::find_by_id(match_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("match"))?;
    let row = revealed_match::ActiveModel {
        user_id: sea_orm::ActiveValue::Set(user_id),
        match_id: sea_orm::ActiveValue::Set(match_id),
        revealed_at: sea_orm::ActiveValue::Set(Utc::now()),
    };
    revealed_match::Entity::insert(row)
        .on_conflict_do_nothing_on([
            revealed_match::Column::UserId,
            revealed_match::Column::MatchId,
        ])
        .exec_without_returning(db)
        .await?;
    Ok(())
}
