//! A season's scorers: goals, assists and cards per player, by the name the
//! feed records (players have no ids yet), counted from match events.
//! Penalties scored count as goals (and apart), own goals only apart, a
//! shoot-out's kicks not at all, and an event a correction took back
//! (VAR) not at all. Matches in play count as their events arrive.

use std::collections::HashMap;

use entity::{MatchEventKind as Kind, football_match, match_event};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::Result;
use crate::accounts::spoilers::Shown;

/// One player's season, for one team.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlayerStats {
    pub player: String,
    pub team_id: i64,
    /// Goals in play, penalties included; own goals and shoot-out kicks not.
    pub goals: u32,
    /// Penalties scored in play (also in `goals`).
    pub penalties: u32,
    pub own_goals: u32,
    pub assists: u32,
    pub yellow_cards: u32,
    /// A second yellow counts here and not as a yellow card.
    pub red_cards: u32,
    /// Matches in which the player scored, assisted or was booked.
    pub matches: u32,
}

/// Folds events, in match and sequence order, into each player's line,
/// ranked by goals, then assists, then fewer penalties, then name.
pub fn tally(events: &[match_event::Model]) -> Vec<PlayerStats> {
    let mut lines: HashMap<(i64, String), PlayerStats> = HashMap::new();
    let mut seen_in: HashMap<(i64, String), i64> = HashMap::new();
    let mut shootout_of: Option<i64> = None;
    for event in events {
        if event.kind == Kind::PenaltyShootout {
            shootout_of = Some(event.match_id);
            continue;
        }
        if event.cancelled || shootout_of == Some(event.match_id) {
            continue;
        }
        let Some(team_id) = event.team_id else {
            continue;
        };
        let mut count = |name: &Option<String>, add: &dyn Fn(&mut PlayerStats)| {
            let Some(name) = name.as_deref().map(str::trim).filter(|n| !n.is_empty()) else {
                return;
            };
            let key = (team_id, name.to_owned());
            let line = lines.entry(key.clone()).or_insert_with(|| PlayerStats {
                player: name.to_owned(),
                team_id,
                ..PlayerStats::default()
            });
            add(line);
            if seen_in.insert(key, event.match_id) != Some(event.match_id) {
                line.matches += 1;
            }
        };
        match event.kind {
            Kind::Goal => {
                count(&event.player, &|l| l.goals += 1);
                count(&event.assist, &|l| l.assists += 1);
            }
            Kind::PenaltyGoal => count(&event.player, &|l| {
                l.goals += 1;
                l.penalties += 1;
            }),
            Kind::OwnGoal => count(&event.player, &|l| l.own_goals += 1),
            Kind::YellowCard => count(&event.player, &|l| l.yellow_cards += 1),
            Kind::SecondYellow | Kind::RedCard => count(&event.player, &|l| l.red_cards += 1),
            _ => {}
        }
    }
    let mut table: Vec<PlayerStats> = lines.into_values().collect();
    table.sort_by(|a, b| {
        b.goals
            .cmp(&a.goals)
            .then(b.assists.cmp(&a.assists))
            .then(a.penalties.cmp(&b.penalties))
            .then_with(|| a.player.cmp(&b.player))
            .then(a.team_id.cmp(&b.team_id))
    });
    table
}

/// The kinds of event a scorers list reads.
const COUNTED: [Kind; 7] = [
    Kind::Goal,
    Kind::PenaltyGoal,
    Kind::OwnGoal,
    Kind::YellowCard,
    Kind::SecondYellow,
    Kind::RedCard,
    Kind::PenaltyShootout,
];

/// The season's players, optionally of one team, as `shown` lets the
/// viewer see: the events of a match whose result they keep away count
/// for nothing.
pub async fn season(
    db: &impl ConnectionTrait,
    season_id: i64,
    team_id: Option<i64>,
    shown: &Shown,
) -> Result<Vec<PlayerStats>> {
    crate::competitions::season_by_id(db, season_id)
        .await?
        .ok_or_else(|| crate::Error::not_found("season"))?;
    let matches = Query::select()
        .column(football_match::Column::Id)
        .from(football_match::Entity)
        .and_where(football_match::Column::SeasonId.eq(season_id))
        .to_owned();
    let events = match_event::Entity::find()
        .filter(match_event::Column::MatchId.in_subquery(matches))
        .filter(match_event::Column::Kind.is_in(COUNTED))
        .order_by_asc(match_event::Column::MatchId)
        .order_by_asc(match_event::Column::Seq)
        .all(db)
        .await?;
    let events: Vec<match_event::Model> = events
        .into_iter()
        .filter(|e| shown.shows_id(e.match_id))
        .collect();
    let mut table = tally(&events);
    if let Some(team_id) = team_id {
        table.retain(|line| line.team_id == team_id);
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn event(match_id: i64, kind: Kind, team: i64, player: &str) -> match_event::Model {
        match_event::Model {
            id: 0,
            match_id,
            seq: 0,
            kind,
            minute: None,
            added_time: None,
            team_id: Some(team),
            player: Some(player.to_owned()),
            detail: None,
            assist: None,
            external_id: None,
            cancelled: false,
            cancelled_reason: None,
            corrects_event_id: None,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn penalties_count_as_goals_own_goals_and_shootouts_and_cancelled_goals_do_not() {
        let mut assisted = event(1, Kind::Goal, 1, "Saka");
        assisted.assist = Some("Ødegaard".into());
        let mut disallowed = event(1, Kind::Goal, 1, "Saka");
        disallowed.cancelled = true;
        let events = [
            assisted,
            disallowed,
            event(1, Kind::PenaltyGoal, 1, "Saka"),
            event(1, Kind::OwnGoal, 2, "Dias"),
            event(1, Kind::PenaltyShootout, 1, "-"),
            event(1, Kind::PenaltyGoal, 1, "Saka"),
            event(2, Kind::Goal, 1, "Havertz"),
            event(2, Kind::SecondYellow, 1, "Rice"),
            event(2, Kind::YellowCard, 1, "Saka"),
        ];
        let table = tally(&events);
        let saka = &table[0];
        assert_eq!(
            (
                saka.player.as_str(),
                saka.goals,
                saka.penalties,
                saka.yellow_cards,
                saka.matches
            ),
            ("Saka", 2, 1, 1, 2)
        );
        let line = |name: &str| table.iter().find(|l| l.player == name).unwrap();
        assert_eq!(
            line("Havertz").goals,
            1,
            "a shoot-out ends only its own match"
        );
        assert_eq!(line("Ødegaard").assists, 1);
        assert_eq!((line("Dias").own_goals, line("Dias").goals), (1, 0));
        assert_eq!(line("Rice").red_cards, 1);
    }
}
