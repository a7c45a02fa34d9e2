//! What a fan asked to hear of a match: a JSON array of match event kinds
//! as stored in `notification_preference.live_kinds` and in each follow's
//! own `live_kinds` (null there: the user's preferences decide).

use entity::MatchEventKind;
use serde_json::Value;

/// The kinds in a stored array; anything unreadable (a kind from a newer
/// release) is skipped rather than failing the whole read.
pub fn read(stored: &Value) -> Vec<MatchEventKind> {
    serde_json::from_value::<Vec<Value>>(stored.clone())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect()
}

/// The stored form of `kinds`.
pub fn stored(kinds: &[MatchEventKind]) -> Value {
    serde_json::to_value(kinds).unwrap_or_else(|_| Value::Array(Vec::new()))
}

/// The alert kinds one follower asked for a match: the union over every
/// follow of theirs that covers it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Asked {
    kinds: Vec<MatchEventKind>,
}

impl Asked {
    /// Adds what one follow asks for.
    pub fn add(&mut self, kinds: impl IntoIterator<Item = MatchEventKind>) {
        for kind in kinds {
            if !self.kinds.contains(&kind) {
                self.kinds.push(kind);
            }
        }
    }

    /// Whether an event of `kind` is among what was asked. Each kind
    /// stands for its family: a goal of every sort counts as a goal, a
    /// second yellow as a red card.
    pub fn hears(&self, kind: MatchEventKind) -> bool {
        use MatchEventKind as K;
        let family = match kind {
            K::OwnGoal | K::PenaltyGoal => K::Goal,
            K::SecondYellow => K::RedCard,
            other => other,
        };
        self.kinds.contains(&kind) || self.kinds.contains(&family)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MatchEventKind as K;

    fn asked(kinds: &[MatchEventKind]) -> Asked {
        let mut asked = Asked::default();
        asked.add(kinds.iter().copied());
        asked
    }

    #[test]
    fn a_goal_of_every_sort_is_heard_by_who_asked_for_goals() {
        let goals = asked(&[K::Goal]);
        for kind in [K::Goal, K::OwnGoal, K::PenaltyGoal] {
            assert!(goals.hears(kind), "{kind:?}");
        }
        assert!(!goals.hears(K::RedCard));
    }

    #[test]
    fn a_second_yellow_is_heard_by_who_asked_for_red_cards() {
        assert!(asked(&[K::RedCard]).hears(K::SecondYellow));
        assert!(!asked(&[K::RedCard]).hears(K::YellowCard));
    }

    #[test]
    fn what_two_follows_ask_adds_up() {
        let mut both = asked(&[K::Goal]);
        both.add([K::FullTime, K::Goal]);
        assert!(both.hears(K::Goal) && both.hears(K::FullTime));
        assert!(!both.hears(K::KickOff));
        assert!(!Asked::default().hears(K::Goal));
    }

    #[test]
    fn a_kind_this_release_does_not_know_is_skipped_when_read() {
        let stored = serde_json::json!(["GOAL", "SOMETHING_NEW", 3]);
        assert_eq!(read(&stored), [K::Goal]);
        assert_eq!(read(&Value::Null), []);
        assert_eq!(
            stored_then_read(&[K::Goal, K::FullTime]),
            [K::Goal, K::FullTime]
        );
    }

    fn stored_then_read(kinds: &[MatchEventKind]) -> Vec<MatchEventKind> {
        read(&stored(kinds))
    }
}
