//! Calendar feeds (iCalendar, RFC 5545) that calendar apps subscribe to:
//! one per team, one per competition season, and one per user over the
//! teams they follow, reached through a secret token in its URL.
//!
//! Each match is one `VEVENT` whose `UID` is made from the match's id, so
//! it stays the same across re-imports and restarts; its `SEQUENCE` is the
//! match's `schedule_revision`, which the feed bumps on every move,
//! postponement and cancellation, so a subscribed calendar replaces its
//! copy. `DTSTAMP` and `LAST-MODIFIED` are the match's `updated_at`: a feed
//! without `METHOD` uses `DTSTAMP` for the last revision (RFC 5545,
//! 3.8.7.2), and it keeps the feed's bytes, and so its `ETag`, the same
//! until something in it changes.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use entity::{
    MatchStatus, calendar_token, competition, follow, football_match, notification_preference,
    season, team,
};
use icalendar::{Calendar, Component as _, Event, EventLike as _, EventStatus, Property};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, ConnectionTrait, EntityTrait as _,
    QueryFilter as _, QueryOrder as _,
};

use crate::accounts::spoilers::Shown;
use crate::accounts::token;
use crate::{Error, Result};

/// How far back a team's or a user's feed reaches: last month's results
/// stay visible, older ones drop out, so the feed does not grow forever.
pub const WINDOW_BACK: Duration = Duration::days(60);
/// How far ahead a team's or a user's feed reaches.
pub const WINDOW_AHEAD: Duration = Duration::days(365);

/// A football match takes about two hours from kick-off, half-time and
/// stoppages included; the calendar blocks that much.
const MATCH_LENGTH: Duration = Duration::hours(2);

/// Marks a user's calendar token, as `itg_` marks a bearer token.
const TOKEN_PREFIX: &str = "cal_";

/// A rendered feed and when what it shows last changed.
#[derive(Debug)]
pub struct Feed {
    pub ics: String,
    /// The latest `updated_at` of what the feed shows; none for an empty feed.
    pub last_modified: Option<DateTime<Utc>>,
}

/// The feed of one team, found by slug or id: its matches from
/// `WINDOW_BACK` before `now` to `WINDOW_AHEAD` after.
pub async fn team_feed(
    db: &impl ConnectionTrait,
    slug_or_id: &str,
    now: DateTime<Utc>,
) -> Result<Feed> {
    let by_slug = team::Entity::find()
        .filter(team::Column::Slug.eq(slug_or_id))
        .one(db)
        .await?;
    let found = match (by_slug, slug_or_id.parse::<i64>()) {
        (Some(found), _) => Some(found),
        (None, Ok(id)) => team::Entity::find_by_id(id).one(db).await?,
        (None, Err(_)) => None,
    };
    let found = found.ok_or_else(|| Error::not_found(format!("team {slug_or_id:?}")))?;
    let matches = in_window(db, &[found.id], now).await?;
    let name = format!("{} fixtures", found.name);
    render(db, &name, matches, Some(found.updated_at)).await
}

/// The feed of one competition season: all of its matches.
pub async fn season_feed(db: &impl ConnectionTrait, season_id: i64) -> Result<Feed> {
    let found = season::Entity::find_by_id(season_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found(format!("season {season_id}")))?;
    let competition = competition::Entity::find_by_id(found.competition_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found(format!("season {season_id}")))?;
    let matches = football_match::Entity::find()
        .filter(football_match::Column::SeasonId.eq(season_id))
        .order_by_asc(football_match::Column::KickoffAt)
        .order_by_asc(football_match::Column::Id)
        .all(db)
        .await?;
    let name = format!("{} {}", competition.name, found.label);
    render(db, &name, matches, None).await
}

/// The feed behind a user's calendar token: the matches of the teams they
/// follow, in the same window as a team's. `NOT_FOUND` for a token that
/// was never made or was revoked.
pub async fn user_feed(db: &impl ConnectionTrait, token: &str, now: DateTime<Utc>) -> Result<Feed> {
    let owner = calendar_token::Entity::find()
        .filter(calendar_token::Column::TokenHash.eq(token::hash(token)))
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("calendar token"))?;
    let follows = follow::Entity::find()
        .filter(follow::Column::UserId.eq(owner.user_id))
        .all(db)
        .await?;
    let team_ids: Vec<i64> = follows.iter().map(|f| f.team_id).collect();
    // In spoiler-free mode, a result not revealed stays out of the feed.
    let shown = Shown::for_user(db, owner.user_id).await?;
    let matches = in_window(db, &team_ids, now)
        .await?
        .into_iter()
        .map(|m| if shown.hides(&m) { without_score(m) } else { m })
        .collect();
    // Following a team, a reveal and a change of mode change the feed
    // without changing a match.
    let preferences_changed = notification_preference::Entity::find_by_id(owner.user_id)
        .one(db)
        .await?
        .map(|p| p.updated_at);
    let since = follows
        .iter()
        .map(|f| f.created_at)
        .chain([owner.created_at])
        .chain(preferences_changed)
        .chain(crate::accounts::spoilers::last_revealed_at(db, owner.user_id).await?)
        .max();
    render(db, "My teams", matches, since).await
}

/// The match as a fan who has not seen its result may: no score.
fn without_score(m: football_match::Model) -> football_match::Model {
    football_match::Model {
        home_score: None,
        away_score: None,
        half_time_home: None,
        half_time_away: None,
        extra_time_home: None,
        extra_time_away: None,
        penalties_home: None,
        penalties_away: None,
        ..m
    }
}

/// Gives the user a new calendar token, replacing the one they had (whose
/// URL stops working). The token is returned this once; only its hash is
/// kept.
pub async fn create_token(db: &impl ConnectionTrait, user_id: i64) -> Result<String> {
    let token = format!("{TOKEN_PREFIX}{}", token::random_base64url(32)?);
    let row = calendar_token::ActiveModel {
        user_id: Set(user_id),
        token_hash: Set(token::hash(&token)),
        created_at: Set(Utc::now()),
    };
    calendar_token::Entity::insert(row)
        .on_conflict(
            OnConflict::column(calendar_token::Column::UserId)
                .update_columns([
                    calendar_token::Column::TokenHash,
                    calendar_token::Column::CreatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(token)
}

/// Revokes the user's calendar token. True when there was one.
pub async fn revoke_token(db: &impl ConnectionTrait, user_id: i64) -> Result<bool> {
    let deleted = calendar_token::Entity::delete_by_id(user_id)
        .exec(db)
        .await?;
    Ok(deleted.rows_affected > 0)
}

/// The path of a user's feed, under the server's address.
pub fn user_feed_path(token: &str) -> String {
    format!("/calendar/user/{token}.ics")
}

async fn in_window(
    db: &impl ConnectionTrait,
    team_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<Vec<football_match::Model>> {
    if team_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(football_match::Entity::find()
        .filter(
            Condition::any()
                .add(football_match::Column::HomeTeamId.is_in(team_ids.iter().copied()))
                .add(football_match::Column::AwayTeamId.is_in(team_ids.iter().copied())),
        )
        .filter(football_match::Column::KickoffAt.gte(now - WINDOW_BACK))
        .filter(football_match::Column::KickoffAt.lte(now + WINDOW_AHEAD))
        .order_by_asc(football_match::Column::KickoffAt)
        .order_by_asc(football_match::Column::Id)
        .all(db)
        .await?)
}

/// The calendar of `matches`, with the teams, seasons and competitions
/// they name loaded in one query each.
async fn render(
    db: &impl ConnectionTrait,
    name: &str,
    matches: Vec<football_match::Model>,
    also_modified: Option<DateTime<Utc>>,
) -> Result<Feed> {
    let team_ids: HashSet<i64> = matches
        .iter()
        .flat_map(|m| [m.home_team_id, m.away_team_id])
        .collect();
    let teams: HashMap<i64, team::Model> = team::Entity::find()
        .filter(team::Column::Id.is_in(team_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let season_ids: HashSet<i64> = matches.iter().map(|m| m.season_id).collect();
    let seasons: HashMap<i64, season::Model> = season::Entity::find()
        .filter(season::Column::Id.is_in(season_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let competition_ids: HashSet<i64> = seasons.values().map(|s| s.competition_id).collect();
    let competitions: HashMap<i64, competition::Model> = competition::Entity::find()
        .filter(competition::Column::Id.is_in(competition_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();

    let mut calendar = Calendar::empty();
    calendar
        .append_property(("VERSION", "2.0"))
        .append_property(("PRODID", "-//InTheGame//Calendar feeds//EN"))
        .append_property(("CALSCALE", "GREGORIAN"))
        .name(name)
        // Calendar apps that honour it poll hourly rather than daily.
        .append_property(
            Property::new("REFRESH-INTERVAL", "PT1H")
                .add_parameter("VALUE", "DURATION")
                .done(),
        )
        .append_property(("X-PUBLISHED-TTL", "PT1H"));
    for m in &matches {
        let team = |id: i64| {
            teams.get(&id).ok_or_else(|| {
                Error::Internal(anyhow::anyhow!("team {id} of match {} is missing", m.id))
            })
        };
        let (home, away) = (team(m.home_team_id)?, team(m.away_team_id)?);
        let season = seasons.get(&m.season_id);
        let competition = season.and_then(|s| competitions.get(&s.competition_id));
        calendar.push(event(m, home, away, season, competition));
    }
    let last_modified = matches
        .iter()
        .map(|m| m.updated_at)
        .chain(teams.values().map(|t| t.updated_at))
        .chain(also_modified)
        .max();
    Ok(Feed {
        ics: calendar.done().to_string(),
        last_modified,
    })
}

/// One match as a `VEVENT`.
fn event(
    m: &football_match::Model,
    home: &team::Model,
    away: &team::Model,
    season: Option<&season::Model>,
    competition: Option<&competition::Model>,
) -> Event {
    let mut event = Event::new();
    event
        .uid(&uid(m.id))
        .sequence(u32::try_from(m.schedule_revision).unwrap_or(0))
        .timestamp(m.updated_at)
        .last_modified(m.updated_at)
        .created(m.created_at)
        .summary(&summary(m, home, away));
    if m.kickoff_time_known {
        event.starts(m.kickoff_at).ends(m.kickoff_at + MATCH_LENGTH);
    } else {
        // Without a time the kick-off is midnight local time in the
        // source's zone, within twelve hours of midnight UTC: the nearest
        // UTC midnight is the local date.
        let date = (m.kickoff_at + Duration::hours(12)).date_naive();
        // DTEND is exclusive: a one-day event ends on the next date.
        event.starts(date).ends(date.succ_opt().unwrap_or(date));
    }
    event.status(match m.status {
        MatchStatus::Cancelled => EventStatus::Cancelled,
        MatchStatus::Postponed | MatchStatus::Suspended => EventStatus::Tentative,
        _ => EventStatus::Confirmed,
    });
    let description = [
        competition.map(|c| c.name.as_str()),
        season.map(|s| s.label.as_str()),
        m.round.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    if !description.is_empty() {
        event.description(&description);
    }
    if let Some(venue) = &home.venue {
        event.location(venue);
    }
    event.done()
}

/// The `UID` of a match's event: the same for the match's whole life.
pub fn uid(match_id: i64) -> String {
    format!("match-{match_id}@inthegame")
}

fn summary(m: &football_match::Model, home: &team::Model, away: &team::Model) -> String {
    let (home, away) = (&home.name, &away.name);
    match (m.status, m.home_score.zip(m.away_score)) {
        (MatchStatus::Finished, Some((h, a))) => format!("{home} {h}–{a} {away}"),
        (MatchStatus::Postponed, _) => format!("{home} vs {away} (postponed)"),
        (MatchStatus::Suspended, _) => format!("{home} vs {away} (suspended)"),
        (MatchStatus::Cancelled, _) => format!("{home} vs {away} (cancelled)"),
        _ => format!("{home} vs {away}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn team(id: i64, name: &str) -> team::Model {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        team::Model {
            id,
            name: name.to_owned(),
            short_name: None,
            tla: None,
            area: None,
            founded: None,
            venue: Some("Emirates Stadium, London".to_owned()),
            crest_url: None,
            slug: name.to_lowercase(),
            created_at: at,
            updated_at: at,
        }
    }

    fn fixture(status: MatchStatus) -> football_match::Model {
        let at = Utc.with_ymd_and_hms(2026, 12, 20, 15, 0, 0).unwrap();
        football_match::Model {
            id: 7,
            season_id: 1,
            round: Some("Matchday 14".to_owned()),
            matchday: Some(14),
            stage: None,
            group_name: None,
            home_team_id: 1,
            away_team_id: 2,
            kickoff_at: at,
            kickoff_time_known: true,
            status,
            home_score: Some(2),
            away_score: Some(1),
            half_time_home: None,
            half_time_away: None,
            extra_time_home: None,
            extra_time_away: None,
            penalties_home: None,
            penalties_away: None,
            minute: None,
            last_event_seq: 0,
            external_source: None,
            external_ref: None,
            created_at: at,
            updated_at: at,
            last_event_at: None,
            schedule_revision: 3,
        }
    }

    fn render_one(m: &football_match::Model) -> String {
        let (home, away) = (team(1, "Arsenal"), team(2, "Chelsea"));
        event(m, &home, &away, None, None).to_string()
    }

    #[test]
    fn an_event_carries_the_match_uid_revision_and_kick_off_in_utc() {
        let text = render_one(&fixture(MatchStatus::Scheduled));
        assert!(text.contains("UID:match-7@inthegame\r\n"), "{text}");
        assert!(text.contains("SEQUENCE:3\r\n"), "{text}");
        assert!(text.contains("DTSTART:20261220T150000Z\r\n"), "{text}");
        assert!(text.contains("DTEND:20261220T170000Z\r\n"), "{text}");
        assert!(text.contains("DTSTAMP:20261220T150000Z\r\n"), "{text}");
        assert!(text.contains("SUMMARY:Arsenal vs Chelsea\r\n"), "{text}");
        assert!(text.contains("STATUS:CONFIRMED\r\n"), "{text}");
        // Commas in text are escaped.
        assert!(
            text.contains("LOCATION:Emirates Stadium\\, London\r\n"),
            "{text}"
        );
    }

    #[test]
    fn the_summary_tells_the_score_of_a_finished_match_and_marks_one_put_off() {
        let finished = render_one(&fixture(MatchStatus::Finished));
        assert!(
            finished.contains("SUMMARY:Arsenal 2–1 Chelsea\r\n"),
            "{finished}"
        );
        let postponed = render_one(&fixture(MatchStatus::Postponed));
        assert!(postponed.contains("SUMMARY:Arsenal vs Chelsea (postponed)\r\n"));
        assert!(postponed.contains("STATUS:TENTATIVE\r\n"));
        let cancelled = render_one(&fixture(MatchStatus::Cancelled));
        assert!(cancelled.contains("STATUS:CANCELLED\r\n"));
    }

    #[test]
    fn a_kick_off_without_a_time_is_an_all_day_event_on_its_local_date() {
        let mut m = fixture(MatchStatus::Scheduled);
        m.kickoff_time_known = false;
        // Midnight in Central European Time.
        m.kickoff_at = Utc.with_ymd_and_hms(2026, 12, 19, 23, 0, 0).unwrap();
        let text = render_one(&m);
        assert!(text.contains("DTSTART;VALUE=DATE:20261220\r\n"), "{text}");
        assert!(text.contains("DTEND;VALUE=DATE:20261221\r\n"), "{text}");
    }
}
