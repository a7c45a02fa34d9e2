//! Knockout ties: the one or two matches two teams play for a place in
//! the next round, their aggregate, and who went through and how. Where the
//! results cannot say (a shoot-out recorded as a draw, a level aggregate
//! with no shoot-out), the team that plays in the next round is the winner,
//! marked as inferred; with no next round to tell, the winner is unknown.
//! Pure functions over a season's matches.

use std::collections::HashSet;

use entity::{CompetitionKind, MatchStatus, football_match};

use super::{StageKind, kind_of_match};
use crate::matches::final_score;

/// Where a tie stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TieStatus {
    /// No match of the tie has kicked off.
    Upcoming,
    /// A match has kicked off and another is still to finish.
    InProgress,
    /// Every match finished and the winner is known (or inferred).
    Decided,
    /// Every match finished, but nothing tells who went through.
    Unresolved,
}

/// What settled a tie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The aggregate (or the one match's score) after regular time.
    RegularTime,
    /// Goals in extra time.
    ExtraTime,
    Penalties,
    /// The results do not say; the winner is the team that plays in the
    /// next round.
    NextRound,
}

/// Goals (or penalties) of the two sides of a tie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pair {
    pub team_a: i32,
    pub team_b: i32,
}

/// Two teams' tie in one knockout round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tie {
    pub stage: Option<String>,
    /// The round of the bracket: `Round of 16`, or the stage's name for a
    /// stage whose legs are numbered matchdays (`Playoffs`).
    pub round: String,
    /// The home side of the first match.
    pub team_a: i64,
    pub team_b: i64,
    /// In kick-off order.
    pub matches: Vec<football_match::Model>,
    /// Goals over the matches that kicked off, extra time included; none
    /// before the first kicks off.
    pub aggregate: Option<Pair>,
    /// The last match went to extra time.
    pub extra_time: bool,
    /// The shoot-out of the last match, as recorded.
    pub penalties: Option<Pair>,
    pub status: TieStatus,
    pub winner: Option<i64>,
    pub decided_by: Option<Decision>,
}

impl Tie {
    /// True when the winner comes from who played on, not from a result.
    pub fn winner_inferred(&self) -> bool {
        self.decided_by == Some(Decision::NextRound)
    }

    pub fn contains(&self, match_id: i64) -> bool {
        self.matches.iter().any(|m| m.id == match_id)
    }
}

/// One round of a season's knockout bracket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Round {
    pub stage: Option<String>,
    pub name: String,
    pub ties: Vec<Tie>,
}

/// The season's knockout rounds in the order they are played, across its
/// knockout stages (play-offs, then the finals), each tie decided.
pub fn bracket(matches: &[football_match::Model], competition: CompetitionKind) -> Vec<Round> {
    let mut knockout: Vec<&football_match::Model> = matches
        .iter()
        .filter(|m| kind_of_match(m, competition) == StageKind::Knockout)
        .collect();
    knockout.sort_by_key(|m| (m.kickoff_at, m.id));

    let mut rounds: Vec<Round> = Vec::new();
    for m in knockout {
        let name = round_name(m);
        let index = match rounds
            .iter()
            .position(|r| r.stage == m.stage && r.name == name)
        {
            Some(index) => index,
            None => {
                rounds.push(Round {
                    stage: m.stage.clone(),
                    name,
                    ties: Vec::new(),
                });
                rounds.len() - 1
            }
        };
        let pair = |a: i64, b: i64| (a.min(b), a.max(b));
        let key = pair(m.home_team_id, m.away_team_id);
        let round = &mut rounds[index];
        match round
            .ties
            .iter_mut()
            .find(|t| pair(t.team_a, t.team_b) == key)
        {
            Some(tie) => tie.matches.push(m.clone()),
            None => round.ties.push(Tie {
                stage: m.stage.clone(),
                round: round.name.clone(),
                team_a: m.home_team_id,
                team_b: m.away_team_id,
                matches: vec![m.clone()],
                aggregate: None,
                extra_time: false,
                penalties: None,
                status: TieStatus::Upcoming,
                winner: None,
                decided_by: None,
            }),
        }
    }
    for round in &mut rounds {
        for tie in &mut round.ties {
            decide(tie);
        }
    }
    // Who played on tells the winner the results do not.
    for index in 0..rounds.len() {
        let Some(next) = rounds.get(index + 1) else {
            break;
        };
        let playing_on: HashSet<i64> = next
            .ties
            .iter()
            .flat_map(|t| [t.team_a, t.team_b])
            .collect();
        for tie in &mut rounds[index].ties {
            if tie.status != TieStatus::Unresolved {
                continue;
            }
            let a = playing_on.contains(&tie.team_a);
            let b = playing_on.contains(&tie.team_b);
            if a != b {
                tie.winner = Some(if a { tie.team_a } else { tie.team_b });
                tie.decided_by = Some(Decision::NextRound);
                tie.status = TieStatus::Decided;
            }
        }
    }
    rounds
}

/// The bracket round of a knockout match: its round, unless the round is
/// a numbered matchday (a play-off's legs), which the stage names.
fn round_name(m: &football_match::Model) -> String {
    let stage = m.stage.as_deref().filter(|s| !s.trim().is_empty());
    let round = m.round.as_deref().filter(|r| !r.trim().is_empty());
    match (stage, round) {
        (Some(stage), _) if m.matchday.is_some() => stage.to_owned(),
        (Some(stage), Some(round)) if round.to_lowercase().starts_with("matchday") => {
            stage.to_owned()
        }
        (_, Some(round)) => round.to_owned(),
        (Some(stage), None) => stage.to_owned(),
        (None, None) => "Knockout".to_owned(),
    }
}

fn has_kicked_off(m: &football_match::Model) -> bool {
    !matches!(
        m.status,
        MatchStatus::Scheduled | MatchStatus::Postponed | MatchStatus::Cancelled
    ) && m.home_score.is_some()
}

/// Sets the aggregate, status and winner from the results alone.
fn decide(tie: &mut Tie) {
    let (a, b) = (tie.team_a, tie.team_b);
    let from_a = |m: &football_match::Model, (home, away): (i32, i32)| {
        if m.home_team_id == a {
            Pair {
                team_a: home,
                team_b: away,
            }
        } else {
            Pair {
                team_a: away,
                team_b: home,
            }
        }
    };
    let mut aggregate = None::<Pair>;
    for m in tie.matches.iter().filter(|m| has_kicked_off(m)) {
        if let Some(score) = final_score(m) {
            let goals = from_a(m, score);
            let sum = aggregate.get_or_insert(Pair {
                team_a: 0,
                team_b: 0,
            });
            sum.team_a += goals.team_a;
            sum.team_b += goals.team_b;
        }
    }
    tie.aggregate = aggregate;
    let Some(last) = tie.matches.last() else {
        return;
    };
    tie.extra_time = last.extra_time_home.is_some() && last.extra_time_away.is_some();
    tie.penalties = last
        .penalties_home
        .zip(last.penalties_away)
        .map(|score| from_a(last, score));
    let finished = tie
        .matches
        .iter()
        .all(|m| m.status == MatchStatus::Finished && m.home_score.is_some());
    if !finished {
        tie.status = if aggregate.is_some() {
            TieStatus::InProgress
        } else {
            TieStatus::Upcoming
        };
        return;
    }
    let Some(total) = aggregate else {
        tie.status = TieStatus::Unresolved;
        return;
    };
    let (winner, decided_by) = if total.team_a != total.team_b {
        let winner = if total.team_a > total.team_b { a } else { b };
        let how = if tie.extra_time {
            Decision::ExtraTime
        } else {
            Decision::RegularTime
        };
        (Some(winner), Some(how))
    } else {
        match tie.penalties {
            Some(p) if p.team_a != p.team_b => {
                let winner = if p.team_a > p.team_b { a } else { b };
                (Some(winner), Some(Decision::Penalties))
            }
            // A drawn shoot-out, or a level tie without one: the results
            // cannot say.
            _ => (None, None),
        }
    };
    tie.winner = winner;
    tie.decided_by = decided_by;
    tie.status = if winner.is_some() {
        TieStatus::Decided
    } else {
        TieStatus::Unresolved
    };
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;

    fn game(
        id: i64,
        round: &str,
        home: i64,
        away: i64,
        score: Option<(i32, i32)>,
    ) -> football_match::Model {
        let at = Utc.with_ymd_and_hms(2025, 2, 1, 20, 0, 0).unwrap() + Duration::days(id);
        let (stage, round) = round.split_once(", ").unwrap();
        football_match::Model {
            id,
            season_id: 1,
            round: Some(round.to_owned()),
            matchday: round.strip_prefix("Matchday ").and_then(|n| n.parse().ok()),
            stage: Some(stage.to_owned()),
            group_name: None,
            home_team_id: home,
            away_team_id: away,
            kickoff_at: at,
            kickoff_time_known: true,
            status: if score.is_some() {
                MatchStatus::Finished
            } else {
                MatchStatus::Scheduled
            },
            home_score: score.map(|s| s.0),
            away_score: score.map(|s| s.1),
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
            schedule_revision: 0,
        }
    }

    fn with_shootout(
        mut m: football_match::Model,
        et: (i32, i32),
        p: (i32, i32),
    ) -> football_match::Model {
        m.extra_time_home = Some(et.0);
        m.extra_time_away = Some(et.1);
        m.penalties_home = Some(p.0);
        m.penalties_away = Some(p.1);
        m
    }

    #[test]
    fn a_play_off_over_two_matchdays_is_one_tie_won_on_aggregate() {
        let matches = [
            game(1, "Playoffs, Matchday 1", 10, 20, Some((1, 0))),
            game(2, "Playoffs, Matchday 2", 20, 10, Some((1, 1))),
        ];
        let rounds = bracket(&matches, CompetitionKind::Cup);
        assert_eq!(rounds.len(), 1);
        assert_eq!(rounds[0].name, "Playoffs");
        let tie = &rounds[0].ties[0];
        assert_eq!(tie.matches.len(), 2);
        assert_eq!(
            tie.aggregate,
            Some(Pair {
                team_a: 2,
                team_b: 1
            })
        );
        assert_eq!(
            (tie.winner, tie.decided_by),
            (Some(10), Some(Decision::RegularTime))
        );
        assert_eq!(tie.status, TieStatus::Decided);
    }

    #[test]
    fn a_drawn_shootout_takes_the_winner_from_the_next_round_marked_inferred() {
        let matches = [
            game(1, "Finals, Round of 16", 10, 20, Some((0, 1))),
            with_shootout(
                game(2, "Finals, Round of 16", 20, 10, Some((0, 1))),
                (0, 1),
                (4, 4),
            ),
            game(3, "Finals, Quarterfinals", 20, 30, None),
        ];
        let rounds = bracket(&matches, CompetitionKind::Cup);
        let tie = &rounds[0].ties[0];
        assert_eq!(
            tie.aggregate,
            Some(Pair {
                team_a: 1,
                team_b: 1
            })
        );
        assert!(tie.extra_time);
        assert_eq!(
            tie.penalties,
            Some(Pair {
                team_a: 4,
                team_b: 4
            })
        );
        assert_eq!(tie.winner, Some(20));
        assert!(tie.winner_inferred());
        assert_eq!(rounds[1].ties[0].status, TieStatus::Upcoming);
    }

    #[test]
    fn with_no_next_round_an_unclear_result_leaves_the_winner_unknown() {
        let matches = [with_shootout(
            game(1, "Finals, Final", 10, 20, Some((1, 1))),
            (1, 1),
            (3, 3),
        )];
        let tie = &bracket(&matches, CompetitionKind::Cup)[0].ties[0];
        assert_eq!((tie.status, tie.winner), (TieStatus::Unresolved, None));
        assert!(!tie.winner_inferred());
    }

    #[test]
    fn a_shootout_or_extra_time_says_how_a_tie_was_decided() {
        let on_penalties = [with_shootout(
            game(1, "Finals, Final", 10, 20, Some((1, 1))),
            (1, 1),
            (3, 5),
        )];
        let tie = &bracket(&on_penalties, CompetitionKind::Cup)[0].ties[0];
        assert_eq!(
            (tie.winner, tie.decided_by),
            (Some(20), Some(Decision::Penalties))
        );

        let mut after_extra_time = game(1, "Finals, Final", 10, 20, Some((1, 1)));
        after_extra_time.extra_time_home = Some(2);
        after_extra_time.extra_time_away = Some(1);
        let tie = &bracket(&[after_extra_time], CompetitionKind::Cup)[0].ties[0];
        assert_eq!(
            tie.aggregate,
            Some(Pair {
                team_a: 2,
                team_b: 1
            })
        );
        assert_eq!(
            (tie.winner, tie.decided_by),
            (Some(10), Some(Decision::ExtraTime))
        );
    }

    #[test]
    fn a_tie_in_progress_counts_the_second_leg_at_its_current_score() {
        let mut second = game(2, "Finals, Semifinals", 20, 10, Some((2, 0)));
        second.status = MatchStatus::Live;
        let matches = [game(1, "Finals, Semifinals", 10, 20, Some((1, 0))), second];
        let tie = &bracket(&matches, CompetitionKind::Cup)[0].ties[0];
        assert_eq!(tie.status, TieStatus::InProgress);
        assert_eq!(
            tie.aggregate,
            Some(Pair {
                team_a: 1,
                team_b: 2
            })
        );
        assert_eq!(tie.winner, None);
    }

    #[test]
    fn league_matches_are_not_in_the_bracket() {
        let matches = [game(1, "League, Matchday 1", 10, 20, Some((1, 0)))];
        assert!(bracket(&matches, CompetitionKind::Cup).is_empty());
    }
}
