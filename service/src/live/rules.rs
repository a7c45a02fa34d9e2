//! The rules of a match as events arrive: which event may follow which
//! status, and what the score is. Pure functions, so each rule has a test.

use entity::{MatchEventKind as Kind, MatchStatus as Status, match_event};

/// The status a match moves to when `kind` is recorded in `status`, or why
/// that event cannot happen now.
pub fn next_status(status: Status, kind: Kind) -> Result<Status, String> {
    use Status::*;
    let refused = || match status {
        Scheduled => "the match has not started".to_owned(),
        Postponed => "the match is postponed; reschedule it first".to_owned(),
        Cancelled => "the match was cancelled".to_owned(),
        Finished => "the match has finished".to_owned(),
        other => format!(
            "{} cannot happen while the match is {}",
            label(kind),
            label_status(other)
        ),
    };
    let next = match (kind, status) {
        (Kind::KickOff, Scheduled | Suspended) => Live,
        (Kind::HalfTime, Live) => HalfTime,
        (Kind::SecondHalf, HalfTime) => Live,
        (Kind::ExtraTime, Live) => ExtraTime,
        (Kind::PenaltyShootout, Live | ExtraTime) => Penalties,
        (Kind::FullTime, Live | ExtraTime | Penalties) => Finished,
        (Kind::Goal | Kind::OwnGoal, Live | ExtraTime) => status,
        (Kind::PenaltyGoal | Kind::MissedPenalty, Live | ExtraTime | Penalties) => status,
        (Kind::PenaltyAwarded, Live | ExtraTime) => status,
        (Kind::VarCheck | Kind::VarDecision, Live | HalfTime | ExtraTime | Penalties) => status,
        (
            Kind::YellowCard | Kind::SecondYellow | Kind::RedCard | Kind::Substitution,
            Live | HalfTime | ExtraTime | Penalties,
        ) => status,
        (Kind::Correction, _) => return Err("record a correction with cancelMatchEvent".into()),
        (Kind::Lineups, Scheduled) => Scheduled,
        (Kind::Lineups, Postponed | Cancelled | Finished) => return Err(refused()),
        (Kind::Lineups, _) => return Err("line-ups are set before kick-off".into()),
        (Kind::KickOff, Live | HalfTime | ExtraTime | Penalties) => {
            return Err("the match has already kicked off".into());
        }
        _ => return Err(refused()),
    };
    Ok(next)
}

/// Whether an event of this kind belongs to one of the two teams.
pub fn needs_team(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Goal
            | Kind::OwnGoal
            | Kind::PenaltyGoal
            | Kind::MissedPenalty
            | Kind::PenaltyAwarded
            | Kind::YellowCard
            | Kind::SecondYellow
            | Kind::RedCard
            | Kind::Substitution
    )
}

/// Whether a correction may take this event back.
pub fn is_correctable(kind: Kind) -> bool {
    needs_team(kind)
}

/// The score as the events tell it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scoreline {
    /// Goals in regular time (90 minutes and added time).
    pub home: i32,
    pub away: i32,
    pub half_time: Option<(i32, i32)>,
    /// The total after extra time, once extra time began.
    pub extra_time: Option<(i32, i32)>,
    pub penalties: Option<(i32, i32)>,
}

/// Folds a match's events, in sequence order, into its score. Cancelled
/// events count for nothing; an own goal counts for the other side.
pub fn score(events: &[match_event::Model], home_team_id: i64) -> Scoreline {
    #[derive(PartialEq)]
    enum Phase {
        Regular,
        Extra,
        Shootout,
    }
    let mut phase = Phase::Regular;
    let mut line = Scoreline::default();
    for event in events {
        match event.kind {
            Kind::HalfTime if line.half_time.is_none() => {
                line.half_time = Some((line.home, line.away))
            }
            Kind::ExtraTime => {
                phase = Phase::Extra;
                line.extra_time = Some((line.home, line.away));
            }
            Kind::PenaltyShootout => {
                phase = Phase::Shootout;
                line.penalties = Some((0, 0));
            }
            Kind::Goal | Kind::OwnGoal | Kind::PenaltyGoal if !event.cancelled => {
                let mut for_home = event.team_id == Some(home_team_id);
                if event.kind == Kind::OwnGoal {
                    for_home = !for_home;
                }
                let pair = match phase {
                    Phase::Regular => None,
                    Phase::Extra => line.extra_time.as_mut(),
                    Phase::Shootout if event.kind == Kind::PenaltyGoal => line.penalties.as_mut(),
                    Phase::Shootout => continue,
                };
                match pair {
                    Some((h, a)) => *(if for_home { h } else { a }) += 1,
                    None if for_home => line.home += 1,
                    None => line.away += 1,
                }
            }
            _ => {}
        }
    }
    line
}

fn label(kind: Kind) -> String {
    format!("{kind:?}").to_lowercase()
}

fn label_status(status: Status) -> String {
    match status {
        Status::HalfTime => "at half time".into(),
        Status::ExtraTime => "in extra time".into(),
        Status::Penalties => "in a penalty shoot-out".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    const HOME: i64 = 1;
    const AWAY: i64 = 2;

    fn event(seq: i32, kind: Kind, team: Option<i64>) -> match_event::Model {
        match_event::Model {
            id: seq.into(),
            match_id: 1,
            seq,
            kind,
            minute: None,
            added_time: None,
            team_id: team,
            player: None,
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
    fn a_penalty_is_awarded_in_play_and_var_checks_run_until_the_final_whistle() {
        assert_eq!(
            next_status(Status::Live, Kind::PenaltyAwarded),
            Ok(Status::Live)
        );
        assert!(next_status(Status::Penalties, Kind::PenaltyAwarded).is_err());
        assert!(needs_team(Kind::PenaltyAwarded));
        for status in [Status::Live, Status::HalfTime, Status::ExtraTime] {
            assert_eq!(next_status(status, Kind::VarCheck), Ok(status));
            assert_eq!(next_status(status, Kind::VarDecision), Ok(status));
        }
        assert!(next_status(Status::Scheduled, Kind::VarCheck).is_err());
        assert!(next_status(Status::Finished, Kind::VarDecision).is_err());
        assert!(!needs_team(Kind::VarCheck));
    }

    #[test]
    fn no_goal_before_kick_off_or_after_full_time() {
        assert_eq!(
            next_status(Status::Scheduled, Kind::Goal).unwrap_err(),
            "the match has not started"
        );
        assert_eq!(
            next_status(Status::Finished, Kind::Goal).unwrap_err(),
            "the match has finished"
        );
        assert!(next_status(Status::HalfTime, Kind::Goal).is_err());
    }

    #[test]
    fn a_cancelled_match_cannot_start_and_a_postponed_one_needs_a_new_date() {
        assert_eq!(
            next_status(Status::Cancelled, Kind::KickOff).unwrap_err(),
            "the match was cancelled"
        );
        assert!(
            next_status(Status::Postponed, Kind::KickOff)
                .unwrap_err()
                .contains("reschedule")
        );
        assert_eq!(
            next_status(Status::Scheduled, Kind::KickOff),
            Ok(Status::Live)
        );
        assert!(next_status(Status::Live, Kind::KickOff).is_err());
    }

    #[test]
    fn the_status_follows_the_periods_of_play() {
        let mut status = Status::Scheduled;
        for kind in [
            Kind::KickOff,
            Kind::HalfTime,
            Kind::SecondHalf,
            Kind::ExtraTime,
            Kind::PenaltyShootout,
            Kind::FullTime,
        ] {
            status = next_status(status, kind).unwrap();
        }
        assert_eq!(status, Status::Finished);
        assert!(next_status(Status::Live, Kind::SecondHalf).is_err());
    }

    #[test]
    fn an_own_goal_counts_for_the_other_side_and_a_cancelled_goal_for_nobody() {
        let mut disallowed = event(4, Kind::Goal, Some(HOME));
        disallowed.cancelled = true;
        let events = [
            event(1, Kind::KickOff, None),
            event(2, Kind::Goal, Some(HOME)),
            event(3, Kind::OwnGoal, Some(HOME)),
            disallowed,
            event(5, Kind::HalfTime, None),
            event(6, Kind::PenaltyGoal, Some(AWAY)),
        ];
        let line = score(&events, HOME);
        assert_eq!((line.home, line.away), (1, 2));
        assert_eq!(line.half_time, Some((1, 1)));
    }

    #[test]
    fn extra_time_and_shootout_goals_are_kept_apart_from_regular_time() {
        let events = [
            event(1, Kind::KickOff, None),
            event(2, Kind::Goal, Some(HOME)),
            event(3, Kind::Goal, Some(AWAY)),
            event(4, Kind::ExtraTime, None),
            event(5, Kind::Goal, Some(AWAY)),
            event(6, Kind::Goal, Some(HOME)),
            event(7, Kind::PenaltyShootout, None),
            event(8, Kind::PenaltyGoal, Some(HOME)),
            event(9, Kind::MissedPenalty, Some(AWAY)),
            event(10, Kind::PenaltyGoal, Some(HOME)),
        ];
        let line = score(&events, HOME);
        assert_eq!((line.home, line.away), (1, 1));
        assert_eq!(line.extra_time, Some((2, 2)));
        assert_eq!(line.penalties, Some((2, 0)));
    }
}
