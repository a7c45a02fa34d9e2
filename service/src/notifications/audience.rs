//! Who hears of a match: the one place that turns a match into the users
//! an alert about it may go to, and what each of them asked to hear. A
//! fan hears of a match through any follow that covers it (either team,
//! its competition, or the match itself); each follow asks for its own
//! alert kinds or leaves them to the user's preferences, and a fan
//! covered by several follows hears the union, once (`alerts`).
//!
//! A popular club or competition has hundreds of thousands of followers,
//! so nothing here binds one parameter per follower: the audience is read
//! as ids with a statement per kind of follow, and the followers'
//! preferences and follows are loaded a bounded batch at a time.

use std::collections::HashMap;

use entity::{
    competition_follow, follow, football_match, match_follow, notification_preference as prefs,
    season, user,
};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _,
};

use super::alert_kinds::{self, Asked};
use crate::Result;

/// A user, with what decides whether and how they are told.
pub type Member = (prefs::Model, user::Model);

/// A match's follower, with what their follows of it ask for.
#[derive(Clone, Debug)]
pub struct Follower {
    pub preferences: prefs::Model,
    pub user: user::Model,
    /// The union of the alert kinds of the follows that cover the match.
    pub asked: Asked,
    /// Whether they follow either team or the match itself, not only its
    /// competition, and not for the final result only: kick-off reminders
    /// and schedule changes go to them. A competition's followers hear of
    /// its fixtures in their digests.
    pub follows_closely: bool,
}

/// Which follows cover one match.
#[derive(Clone, Debug)]
pub struct Coverage {
    match_id: i64,
    teams: [i64; 2],
    competition_id: Option<i64>,
}

impl Coverage {
    pub async fn of(db: &impl ConnectionTrait, game: &football_match::Model) -> Result<Self> {
        let competition_id = season::Entity::find_by_id(game.season_id)
            .one(db)
            .await?
            .map(|s| s.competition_id);
        Ok(Self {
            match_id: game.id,
            teams: [game.home_team_id, game.away_team_id],
            competition_id,
        })
    }
}

/// The ids of everyone who follows either team of the match, its
/// competition or the match itself, ascending, each once.
pub async fn of_match(db: &impl ConnectionTrait, coverage: &Coverage) -> Result<Vec<i64>> {
    let mut ids: Vec<i64> = follow::Entity::find()
        .select_only()
        .column(follow::Column::UserId)
        .distinct()
        .filter(follow::Column::TeamId.is_in(coverage.teams))
        .into_tuple()
        .all(db)
        .await?;
    if let Some(competition_id) = coverage.competition_id {
        ids.extend(
            competition_follow::Entity::find()
                .select_only()
                .column(competition_follow::Column::UserId)
                .filter(competition_follow::Column::CompetitionId.eq(competition_id))
                .into_tuple::<i64>()
                .all(db)
                .await?,
        );
    }
    ids.extend(
        match_follow::Entity::find()
            .select_only()
            .column(match_follow::Column::UserId)
            .filter(match_follow::Column::MatchId.eq(coverage.match_id))
            .into_tuple::<i64>()
            .all(db)
            .await?,
    );
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// The followers among `user_ids` (a batch of at most `WRITE_BATCH`,
/// taken from `of_match`), in id order, each with what their follows of
/// the match ask for.
pub async fn load_followers(
    db: &impl ConnectionTrait,
    coverage: &Coverage,
    user_ids: &[i64],
) -> Result<Vec<Follower>> {
    let members = load(db, user_ids).await?;
    if members.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    // Each follow's own kinds (`None`: the preferences'), and whether it
    // is a close one (a team or the match).
    let mut follows: HashMap<i64, Vec<(Option<serde_json::Value>, bool)>> = HashMap::new();
    for f in follow::Entity::find()
        .filter(crate::db::is_one_of(
            backend,
            follow::Column::UserId,
            user_ids,
        ))
        .filter(follow::Column::TeamId.is_in(coverage.teams))
        .all(db)
        .await?
    {
        follows
            .entry(f.user_id)
            .or_default()
            .push((f.live_kinds, true));
    }
    if let Some(competition_id) = coverage.competition_id {
        for f in competition_follow::Entity::find()
            .filter(crate::db::is_one_of(
                backend,
                competition_follow::Column::UserId,
                user_ids,
            ))
            .filter(competition_follow::Column::CompetitionId.eq(competition_id))
            .all(db)
            .await?
        {
            follows
                .entry(f.user_id)
                .or_default()
                .push((f.live_kinds, false));
        }
    }
    for f in match_follow::Entity::find()
        .filter(crate::db::is_one_of(
            backend,
            match_follow::Column::UserId,
            user_ids,
        ))
        .filter(match_follow::Column::MatchId.eq(coverage.match_id))
        .all(db)
        .await?
    {
        follows
            .entry(f.user_id)
            .or_default()
            .push((f.live_kinds, true));
    }
    Ok(members
        .into_iter()
        .filter_map(|(preferences, user)| {
            let theirs = follows.remove(&user.id)?;
            let mut asked = Asked::default();
            let mut follows_closely = false;
            for (own, close) in theirs {
                let kinds = alert_kinds::read(own.as_ref().unwrap_or(&preferences.live_kinds));
                follows_closely |= close && !alert_kinds::final_result_only(&kinds);
                asked.add(kinds);
            }
            Some(Follower {
                preferences,
                user,
                asked,
                follows_closely,
            })
        })
        .collect())
}

/// The members among `user_ids` (a batch of at most `WRITE_BATCH`), in
/// id order.
pub async fn load(db: &impl ConnectionTrait, user_ids: &[i64]) -> Result<Vec<Member>> {
    debug_assert!(user_ids.len() <= super::WRITE_BATCH);
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(prefs::Entity::find()
        .find_also_related(user::Entity)
        // On the preferences alone: each of their users is then found by
        // its id. The same filter on `users` too makes PostgreSQL's cached
        // plan join the two ranges row by row (500 ms for 1,000 fans).
        .filter(crate::db::is_one_of(
            db.get_database_backend(),
            prefs::Column::UserId,
            user_ids,
        ))
        .order_by_asc(prefs::Column::UserId)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(p, u)| Some((p, u?)))
        .collect())
}
