//! Line-ups: a team's formation, starting eleven and bench for a match,
//! set by the feed before kick-off. Setting one also records a `LINEUPS`
//! match event in the same transaction, so subscribers of the match's
//! events see it in order, and followers who asked for line-up alerts hear
//! of it through the outbox like any live alert.

use std::collections::{BTreeMap, HashSet};

use chrono::Utc;
use entity::MatchEventKind;
use entity::lineup::{self, LineupPlayer};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection,
    EntityTrait as _, IntoActiveModel as _, QueryFilter as _, QueryOrder as _,
    TransactionTrait as _,
};

use super::events::{NewEvent, record_in};
use super::publish::publish;
use crate::live::bus::Bus;
use crate::{Error, Result};

/// A starting eleven is eleven players.
pub const STARTERS: usize = 11;
/// The most substitutes a line-up may name.
pub const MAX_BENCH: usize = 15;

/// A line-up as the feed sends it.
#[derive(Clone, Debug)]
pub struct NewLineup {
    pub formation: Option<String>,
    pub starters: Vec<LineupPlayer>,
    pub bench: Vec<LineupPlayer>,
}

/// Sets (or replaces) `team_id`'s line-up for the match, which must not
/// have kicked off yet. Refused whole, with every problem named, when it
/// does not hold together.
#[tracing::instrument(skip_all, fields(match_id, team_id))]
pub async fn set_lineup(
    db: &DatabaseConnection,
    bus: &Bus,
    match_id: i64,
    team_id: i64,
    input: NewLineup,
) -> Result<lineup::Model> {
    let lineup = validate(input)?;
    let txn = db.begin().await?;
    let written = async {
        let mut event = NewEvent::of(MatchEventKind::Lineups);
        event.team_id = Some(team_id);
        event.detail = lineup.formation.clone();
        let recorded = record_in(&txn, match_id, &event, None)
            .await
            .map_err(|err| match err {
                // `record_in` names the fields of `recordMatchEvent`.
                Error::Invalid(mut errors) => {
                    if let Some(kind) = errors.remove("input.kind") {
                        errors.insert("matchId".into(), kind);
                    }
                    if let Some(team) = errors.remove("input.teamId") {
                        errors.insert("teamId".into(), team);
                    }
                    Error::Invalid(errors)
                }
                other => other,
            })?;
        let stored = store(&txn, match_id, team_id, lineup).await?;
        Ok::<_, Error>((recorded, stored))
    }
    .await;
    let (recorded, stored) = match written {
        Ok(written) => {
            txn.commit().await?;
            written
        }
        Err(err) => {
            txn.rollback().await?;
            return Err(err);
        }
    };
    publish(db, bus, &recorded.football_match, Some(recorded.event));
    Ok(stored)
}

/// The line-ups of these matches, in the order they were first set.
pub async fn lineups_by_match_ids(
    db: &impl ConnectionTrait,
    match_ids: &[i64],
) -> Result<Vec<lineup::Model>> {
    Ok(lineup::Entity::find()
        .filter(lineup::Column::MatchId.is_in(match_ids.iter().copied()))
        .order_by_asc(lineup::Column::Id)
        .all(db)
        .await?)
}

/// The players of a stored list (`starters` or `bench`).
pub fn players(stored: &serde_json::Value) -> Vec<LineupPlayer> {
    serde_json::from_value(stored.clone()).unwrap_or_default()
}

async fn store(
    txn: &impl ConnectionTrait,
    match_id: i64,
    team_id: i64,
    lineup: NewLineup,
) -> Result<lineup::Model> {
    let json = |players: &[LineupPlayer]| {
        serde_json::to_value(players).map_err(|e| Error::Internal(e.into()))
    };
    let existing = lineup::Entity::find()
        .filter(lineup::Column::MatchId.eq(match_id))
        .filter(lineup::Column::TeamId.eq(team_id))
        .one(txn)
        .await?;
    let (formation, starters, bench) = (
        Set(lineup.formation),
        Set(json(&lineup.starters)?),
        Set(json(&lineup.bench)?),
    );
    let stored = match existing {
        Some(existing) => {
            let mut row = existing.into_active_model();
            (row.formation, row.starters, row.bench) = (formation, starters, bench);
            row.updated_at = Set(Utc::now());
            row.update(txn).await?
        }
        None => {
            lineup::ActiveModel {
                match_id: Set(match_id),
                team_id: Set(team_id),
                formation,
                starters,
                bench,
                updated_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(txn)
            .await?
        }
    };
    Ok(stored)
}

/// Trims names and positions, and checks everything at once: eleven
/// starters, a bench of at most `MAX_BENCH`, shirt numbers from 1 to 99
/// used once, names and positions of a sane length, and a formation of
/// outfield lines adding up to ten.
fn validate(input: NewLineup) -> Result<NewLineup> {
    let mut errors = BTreeMap::<String, Vec<String>>::new();
    let mut add = |field: &str, message: String| {
        errors.entry(field.to_owned()).or_default().push(message);
    };
    if input.starters.len() != STARTERS {
        add(
            "input.starters",
            format!("must name {STARTERS} players, not {}", input.starters.len()),
        );
    }
    if input.bench.len() > MAX_BENCH {
        add(
            "input.bench",
            format!("may name at most {MAX_BENCH} players"),
        );
    }
    let formation = match input.formation.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(formation) => {
            if !is_formation(formation) {
                add(
                    "input.formation",
                    "must be outfield lines from the back adding up to 10, such as 4-3-3 or 4-2-3-1"
                        .into(),
                );
            }
            Some(formation.to_owned())
        }
    };
    let mut numbers = HashSet::new();
    let mut clean = |field: &str, players: Vec<LineupPlayer>| -> Vec<LineupPlayer> {
        players
            .into_iter()
            .map(|player| {
                if !(1..=99).contains(&player.shirt_number) {
                    add(
                        field,
                        format!("shirt number {} is not 1 to 99", player.shirt_number),
                    );
                } else if !numbers.insert(player.shirt_number) {
                    add(
                        field,
                        format!("shirt number {} is used twice", player.shirt_number),
                    );
                }
                let name = player.name.trim().to_owned();
                if name.is_empty() || name.chars().count() > 100 {
                    add(field, "a player's name must be 1 to 100 characters".into());
                }
                let position = player
                    .position
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty());
                if position.as_ref().is_some_and(|p| p.chars().count() > 16) {
                    add(field, "a position must be at most 16 characters".into());
                }
                LineupPlayer {
                    shirt_number: player.shirt_number,
                    name,
                    position,
                }
            })
            .collect()
    };
    let starters = clean("input.starters", input.starters);
    let bench = clean("input.bench", input.bench);
    if errors.is_empty() {
        Ok(NewLineup {
            formation,
            starters,
            bench,
        })
    } else {
        for messages in errors.values_mut() {
            messages.dedup();
        }
        Err(Error::Invalid(errors))
    }
}

/// `4-3-3`, `4-2-3-1`, `3-5-2`: two to five lines of 1 to 6 players, ten
/// outfield players in all.
fn is_formation(formation: &str) -> bool {
    let lines: Option<Vec<u32>> = formation
        .split('-')
        .map(|line| line.parse::<u32>().ok().filter(|n| (1..=6).contains(n)))
        .collect();
    lines.is_some_and(|lines| (2..=5).contains(&lines.len()) && lines.iter().sum::<u32>() == 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn player(shirt_number: i32, name: &str) -> LineupPlayer {
        LineupPlayer {
            shirt_number,
            name: name.into(),
            position: None,
        }
    }

    fn eleven() -> Vec<LineupPlayer> {
        (1..=11)
            .map(|n| player(n, &format!("Player {n}")))
            .collect()
    }

    fn problems(input: NewLineup) -> BTreeMap<String, Vec<String>> {
        match validate(input) {
            Err(Error::Invalid(errors)) => errors,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn formations_are_outfield_lines_adding_up_to_ten() {
        for good in ["4-4-2", "4-2-3-1", "3-5-2", "5-4-1", "4-1-2-1-2"] {
            assert!(is_formation(good), "{good}");
        }
        for bad in ["4-4-3", "10", "4-4-2-", "a-b-c", "0-5-5", "4--6", "7-3", ""] {
            assert!(!is_formation(bad), "{bad}");
        }
    }

    #[test]
    fn a_good_line_up_is_trimmed_and_kept() {
        let mut starters = eleven();
        starters[0].name = "  Raya ".into();
        starters[0].position = Some(" GK ".into());
        let lineup = validate(NewLineup {
            formation: Some(" 4-3-3 ".into()),
            starters,
            bench: vec![player(22, "Neto")],
        })
        .unwrap();
        assert_eq!(lineup.formation.as_deref(), Some("4-3-3"));
        assert_eq!(lineup.starters[0].name, "Raya");
        assert_eq!(lineup.starters[0].position.as_deref(), Some("GK"));
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let mut starters = eleven();
        starters.pop();
        starters[1].shirt_number = 1;
        let errors = problems(NewLineup {
            formation: Some("4-4-3".into()),
            starters,
            bench: vec![player(100, "Too High"), player(12, " ")],
        });
        assert_eq!(
            errors["input.starters"],
            [
                "must name 11 players, not 10",
                "shirt number 1 is used twice"
            ]
        );
        assert!(errors.contains_key("input.formation"));
        assert_eq!(
            errors["input.bench"],
            [
                "shirt number 100 is not 1 to 99",
                "a player's name must be 1 to 100 characters"
            ]
        );
    }

    #[test]
    fn a_number_on_the_bench_may_not_repeat_a_starter_s() {
        let errors = problems(NewLineup {
            formation: None,
            starters: eleven(),
            bench: vec![player(7, "Twin")],
        });
        assert_eq!(errors["input.bench"], ["shirt number 7 is used twice"]);
    }
}
