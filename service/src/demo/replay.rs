//! Live replays for `--demo`: real 2023/24 Premier League results played
//! again as new live matches, sped up, one after another, for ever. Each
//! replay goes through the same feed commands as a real feeder, so its
//! events reach subscribers exactly as live ones would.

use std::time::Duration;

use chrono::Utc;
use entity::{CompetitionKind, MatchEventKind, MatchStatus, football_match, season};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use tokio_util::sync::CancellationToken;

use crate::live::bus::Bus;
use crate::live::feed::{self, NewEvent, NewMatch};

const REPLAY_CODE: &str = "REPLAY";

/// One replayed event, at its minute of play.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub minute: i32,
    pub kind: MatchEventKind,
    /// True for the home team, false for the away team, None for neither.
    pub home: Option<bool>,
}

/// The events of a match that ended `full` with `half` at half time: goals
/// spread over plausible minutes of the right half, in minute order.
pub fn script(seed: u64, half: (i32, i32), full: (i32, i32)) -> Vec<Step> {
    let mut random = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    let mut next = |range: std::ops::RangeInclusive<i32>| {
        random = random
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let span = (range.end() - range.start() + 1) as u64;
        range.start() + ((random >> 33) % span) as i32
    };
    let mut goals = |home: i32, away: i32, minutes: std::ops::RangeInclusive<i32>| {
        let mut steps: Vec<Step> = (0..home.max(0))
            .map(|_| true)
            .chain((0..away.max(0)).map(|_| false))
            .map(|is_home| Step {
                minute: next(minutes.clone()),
                kind: MatchEventKind::Goal,
                home: Some(is_home),
            })
            .collect();
        steps.sort_by_key(|s| s.minute);
        steps
    };
    let mut steps = vec![Step {
        minute: 0,
        kind: MatchEventKind::KickOff,
        home: None,
    }];
    steps.extend(goals(half.0, half.1, 2..=44));
    steps.push(Step {
        minute: 45,
        kind: MatchEventKind::HalfTime,
        home: None,
    });
    steps.push(Step {
        minute: 46,
        kind: MatchEventKind::SecondHalf,
        home: None,
    });
    steps.extend(goals(full.0 - half.0, full.1 - half.1, 47..=89));
    steps.push(Step {
        minute: 90,
        kind: MatchEventKind::FullTime,
        home: None,
    });
    steps
}

/// Replays matches until `shutdown`, one `minute` of play per `minute_length`.
pub async fn run(
    db: DatabaseConnection,
    bus: Bus,
    minute_length: Duration,
    shutdown: CancellationToken,
) {
    let mut played = 0_u64;
    loop {
        let outcome = tokio::select! {
            () = shutdown.cancelled() => return,
            outcome = replay_one(&db, &bus, played, minute_length) => outcome,
        };
        if let Err(err) = outcome {
            tracing::warn!(
                error = format!("{err:#}"),
                "demo replay failed; trying the next match"
            );
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
        }
        played += 1;
    }
}

async fn replay_one(
    db: &DatabaseConnection,
    bus: &Bus,
    played: u64,
    minute_length: Duration,
) -> anyhow::Result<()> {
    let originals = football_match::Entity::find()
        .filter(football_match::Column::Status.eq(MatchStatus::Finished))
        .filter(football_match::Column::HalfTimeHome.is_not_null())
        .filter(football_match::Column::ExternalSource.eq("openfootball"))
        .order_by_asc(football_match::Column::KickoffAt)
        .order_by_asc(football_match::Column::Id)
        .all(db)
        .await?;
    anyhow::ensure!(!originals.is_empty(), "no finished matches to replay");
    let original = &originals[(played as usize * 7) % originals.len()];
    let season_id = replay_season(db, bus).await?;
    let replay = feed::schedule_match(
        db,
        bus,
        NewMatch {
            season_id,
            home_team_id: original.home_team_id,
            away_team_id: original.away_team_id,
            kickoff_at: Utc::now(),
            round: Some(format!(
                "Replay of {}",
                original.kickoff_at.format("%d %b %Y")
            )),
            matchday: None,
            stage: Some("Replay".into()),
            group: None,
        },
    )
    .await?;
    tracing::info!(match_id = replay.id, "demo: replaying a match live");
    let half = (
        original.half_time_home.unwrap_or(0),
        original.half_time_away.unwrap_or(0),
    );
    let full = (
        original.home_score.unwrap_or(0),
        original.away_score.unwrap_or(0),
    );
    let mut clock = 0;
    for step in script(original.id as u64, half, full) {
        // The clock ticks each minute of play, as a live feed's does.
        while clock < step.minute {
            tokio::time::sleep(minute_length).await;
            clock += 1;
            if clock < step.minute {
                feed::set_minute(db, bus, replay.id, clock).await?;
            }
        }
        let mut event = NewEvent::of(step.kind);
        event.minute = Some(step.minute);
        event.team_id = step.home.map(|home| {
            if home {
                original.home_team_id
            } else {
                original.away_team_id
            }
        });
        feed::record_event(db, bus, replay.id, event).await?;
    }
    // Let the full-time score sit for a moment before the next kick-off.
    tokio::time::sleep(minute_length * 5).await;
    Ok(())
}

/// The competition and season replays are filed under.
async fn replay_season(db: &DatabaseConnection, bus: &Bus) -> anyhow::Result<i64> {
    let competition = match crate::competitions::by_code(db, REPLAY_CODE).await? {
        Some(found) => found,
        None => {
            feed::create_competition(
                db,
                bus,
                REPLAY_CODE,
                "InTheGame Replays",
                None,
                CompetitionKind::League,
            )
            .await?
        }
    };
    let label = "2026/27";
    let existing = season::Entity::find()
        .filter(season::Column::CompetitionId.eq(competition.id))
        .filter(season::Column::Label.eq(label))
        .one(db)
        .await?;
    Ok(match existing {
        Some(season) => season.id,
        None => {
            feed::create_season(db, bus, competition.id, label, None, None)
                .await?
                .id
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn goals(steps: &[Step], home: bool, minutes: std::ops::RangeInclusive<i32>) -> usize {
        steps
            .iter()
            .filter(|s| {
                s.kind == MatchEventKind::Goal
                    && s.home == Some(home)
                    && minutes.contains(&s.minute)
            })
            .count()
    }

    #[test]
    fn a_script_puts_each_goal_in_the_half_the_real_scores_say() {
        for seed in 0..50 {
            let steps = script(seed, (1, 2), (4, 2));
            assert_eq!(goals(&steps, true, 1..=44), 1);
            assert_eq!(goals(&steps, false, 1..=44), 2);
            assert_eq!(goals(&steps, true, 46..=89), 3);
            assert_eq!(goals(&steps, false, 46..=89), 0);
            assert!(
                steps.windows(2).all(|w| w[0].minute <= w[1].minute),
                "{steps:?}"
            );
            assert_eq!(steps.first().unwrap().kind, MatchEventKind::KickOff);
            assert_eq!(steps.last().unwrap().kind, MatchEventKind::FullTime);
        }
    }

    #[test]
    fn replaying_a_script_through_the_rules_ends_with_the_real_score() {
        let steps = script(7, (0, 1), (2, 1));
        let mut status = MatchStatus::Scheduled;
        for step in &steps {
            status = crate::live::rules::next_status(status, step.kind).unwrap();
        }
        assert_eq!(status, MatchStatus::Finished);
    }
}
