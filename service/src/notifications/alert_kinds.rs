//! What a fan asked to hear of a match: a JSON array of alert kinds as
//! stored in `notification_preference.live_kinds` and in each follow's
//! own `live_kinds` (null there: the user's preferences decide). Each is
//! a match event kind's stored form, or `FINAL_RESULT`.

use entity::MatchEventKind;
use serde_json::Value;

/// The stored form of "the final result only".
const FINAL_RESULT: &str = "FINAL_RESULT";

/// The event kinds a live alert can be asked for. Each stands for its
/// family (see `Asked::hears`).
pub const ALERTABLE_EVENTS: [MatchEventKind; 14] = [
    MatchEventKind::Lineups,
    MatchEventKind::KickOff,
    MatchEventKind::Goal,
    MatchEventKind::PenaltyAwarded,
    MatchEventKind::MissedPenalty,
    MatchEventKind::VarCheck,
    MatchEventKind::VarDecision,
    MatchEventKind::RedCard,
    MatchEventKind::HalfTime,
    MatchEventKind::SecondHalf,
    MatchEventKind::ExtraTime,
    MatchEventKind::PenaltyShootout,
    MatchEventKind::FullTime,
    MatchEventKind::Correction,
];

/// One choice of what to hear.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlertKind {
    /// Events of this kind (and its family).
    Event(MatchEventKind),
    /// The result once the match is over (full time, after extra time or
    /// a shoot-out when there was one), and nothing else: no other event,
    /// no kick-off reminder, no schedule change. It stands alone.
    FinalResult,
}

impl AlertKind {
    /// The name clients and the store use, e.g. `GOAL` or `FINAL_RESULT`.
    pub fn name(self) -> String {
        match self {
            Self::Event(kind) => serde_json::to_value(kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("{kind:?}")),
            Self::FinalResult => FINAL_RESULT.to_owned(),
        }
    }
}

/// The kinds in a stored array; anything unreadable (a kind from a newer
/// release) is skipped rather than failing the whole read.
pub fn read(stored: &Value) -> Vec<AlertKind> {
    serde_json::from_value::<Vec<Value>>(stored.clone())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| match v.as_str() {
            Some(FINAL_RESULT) => Some(AlertKind::FinalResult),
            _ => serde_json::from_value(v).ok().map(AlertKind::Event),
        })
        .collect()
}

/// The stored form of `kinds`.
pub fn stored(kinds: &[AlertKind]) -> Value {
    Value::Array(
        kinds
            .iter()
            .map(|kind| Value::String(kind.name()))
            .collect(),
    )
}

/// `kinds` checked: each one alertable, each once, and `FINAL_RESULT`
/// alone.
pub fn check(kinds: Vec<AlertKind>) -> Result<Vec<AlertKind>, String> {
    let mut chosen = Vec::new();
    for kind in kinds {
        if let AlertKind::Event(event) = kind
            && !ALERTABLE_EVENTS.contains(&event)
        {
            return Err(format!("{} is not a kind of live alert", kind.name()));
        }
        if !chosen.contains(&kind) {
            chosen.push(kind);
        }
    }
    if chosen.len() > 1 && chosen.contains(&AlertKind::FinalResult) {
        return Err(
            "FINAL_RESULT stands alone: it asks for the final result and nothing else".into(),
        );
    }
    Ok(chosen)
}

/// Whether these kinds ask for the final result only.
pub fn final_result_only(kinds: &[AlertKind]) -> bool {
    kinds == [AlertKind::FinalResult]
}

/// The alert kinds one follower asked for a match: the union over every
/// follow of theirs that covers it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Asked {
    kinds: Vec<AlertKind>,
}

impl Asked {
    /// Adds what one follow asks for.
    pub fn add(&mut self, kinds: impl IntoIterator<Item = AlertKind>) {
        for kind in kinds {
            if !self.kinds.contains(&kind) {
                self.kinds.push(kind);
            }
        }
    }

    /// Whether an event of `kind` is among what was asked. Each kind
    /// stands for its family: a goal of every sort counts as a goal, a
    /// second yellow as a red card; the final result is the full-time
    /// event.
    pub fn hears(&self, kind: MatchEventKind) -> bool {
        use MatchEventKind as K;
        let family = match kind {
            K::OwnGoal | K::PenaltyGoal => K::Goal,
            K::SecondYellow => K::RedCard,
            other => other,
        };
        let asked = |k: MatchEventKind| self.kinds.contains(&AlertKind::Event(k));
        asked(kind)
            || asked(family)
            || (kind == K::FullTime && self.kinds.contains(&AlertKind::FinalResult))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AlertKind::{Event, FinalResult};
    use MatchEventKind as K;

    fn asked(kinds: &[AlertKind]) -> Asked {
        let mut asked = Asked::default();
        asked.add(kinds.iter().copied());
        asked
    }

    #[test]
    fn a_goal_of_every_sort_is_heard_by_who_asked_for_goals() {
        let goals = asked(&[Event(K::Goal)]);
        for kind in [K::Goal, K::OwnGoal, K::PenaltyGoal] {
            assert!(goals.hears(kind), "{kind:?}");
        }
        assert!(!goals.hears(K::RedCard));
    }

    #[test]
    fn a_second_yellow_is_heard_by_who_asked_for_red_cards() {
        assert!(asked(&[Event(K::RedCard)]).hears(K::SecondYellow));
        assert!(!asked(&[Event(K::RedCard)]).hears(K::YellowCard));
    }

    #[test]
    fn the_final_result_only_hears_full_time_and_nothing_else() {
        let only = asked(&[FinalResult]);
        assert!(only.hears(K::FullTime));
        for kind in [
            K::KickOff,
            K::Goal,
            K::HalfTime,
            K::PenaltyShootout,
            K::Correction,
        ] {
            assert!(!only.hears(kind), "{kind:?}");
        }
    }

    #[test]
    fn what_two_follows_ask_adds_up() {
        let mut both = asked(&[Event(K::Goal)]);
        both.add([FinalResult, Event(K::Goal)]);
        assert!(both.hears(K::Goal) && both.hears(K::FullTime));
        assert!(!both.hears(K::KickOff));
        assert!(!Asked::default().hears(K::Goal));
    }

    #[test]
    fn a_kind_this_release_does_not_know_is_skipped_when_read() {
        let stored_kinds = serde_json::json!(["GOAL", "SOMETHING_NEW", 3, "FINAL_RESULT"]);
        assert_eq!(read(&stored_kinds), [Event(K::Goal), FinalResult]);
        assert_eq!(read(&Value::Null), []);
        let kinds = [Event(K::VarCheck), Event(K::FullTime)];
        assert_eq!(
            stored(&kinds),
            serde_json::json!(["VAR_CHECK", "FULL_TIME"])
        );
        assert_eq!(read(&stored(&kinds)), kinds);
    }

    #[test]
    fn kinds_are_checked_kept_once_and_the_final_result_stands_alone() {
        assert_eq!(
            check(vec![Event(K::Goal), Event(K::Goal)]),
            Ok(vec![Event(K::Goal)])
        );
        assert_eq!(check(vec![FinalResult]), Ok(vec![FinalResult]));
        assert_eq!(
            check(vec![Event(K::Substitution)]),
            Err("SUBSTITUTION is not a kind of live alert".into())
        );
        assert!(
            check(vec![FinalResult, Event(K::Goal)])
                .unwrap_err()
                .starts_with("FINAL_RESULT stands alone")
        );
        assert!(final_result_only(&[FinalResult]));
        assert!(!final_result_only(&[Event(K::FullTime)]));
    }
}
