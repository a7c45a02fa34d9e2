//! A season's stages: a league or group phase played for a table, and
//! play-offs and knockout rounds played in ties. Sources name stages in
//! words (openfootball's `League, Matchday 3`, `Finals, Round of 16`; the
//! feed's `stage` and `round`), so a stage's kind is read from its name,
//! by rules that each have a test.

pub mod ties;

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use entity::{CompetitionKind, competition, football_match, season};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::{Error, Result};

/// How a stage is played.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StageKind {
    /// Every result counts in a table (one per group where there are groups).
    Table,
    /// Ties between two teams, one or two matches each; the winner goes on.
    Knockout,
}

/// Words that name a knockout stage or round in the sources we read.
const KNOCKOUT_WORDS: [&str; 12] = [
    "final",
    "playoff",
    "play-off",
    "play off",
    "knockout",
    "knock-out",
    "round of",
    "last 16",
    "last 32",
    "qualifying",
    "qualification",
    "1/8",
];

fn says_knockout(text: &str) -> bool {
    let text = text.to_lowercase();
    KNOCKOUT_WORDS.iter().any(|word| text.contains(word))
}

/// The kind of stage a match is played in. A named stage is a knockout
/// when its name says so (`Playoffs`, `Finals`, `Knockout round`) and a
/// table otherwise (`League`, `Group stage`, `Regular season`). Without a
/// stage, a knockout round name (`Final`, `Round of 16`) makes a knockout,
/// a matchday a table, and otherwise the competition's kind decides.
pub fn kind_of(
    stage: Option<&str>,
    round: Option<&str>,
    matchday: Option<i32>,
    competition: CompetitionKind,
) -> StageKind {
    match stage.map(str::trim).filter(|s| !s.is_empty()) {
        Some(stage) if says_knockout(stage) => StageKind::Knockout,
        Some(_) => StageKind::Table,
        None => match round.map(str::trim).filter(|r| !r.is_empty()) {
            Some(round) if says_knockout(round) => StageKind::Knockout,
            _ if matchday.is_some() => StageKind::Table,
            Some(round) if round.to_lowercase().starts_with("matchday") => StageKind::Table,
            _ => match competition {
                CompetitionKind::League => StageKind::Table,
                CompetitionKind::Cup => StageKind::Knockout,
            },
        },
    }
}

/// The kind of the stage `m` is played in.
pub fn kind_of_match(m: &football_match::Model, competition: CompetitionKind) -> StageKind {
    kind_of(
        m.stage.as_deref(),
        m.round.as_deref(),
        m.matchday,
        competition,
    )
}

/// One stage of a season, as its matches describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// As the source names it; none when it names no stage.
    pub name: Option<String>,
    pub kind: StageKind,
    /// Round names in the order they are first played.
    pub rounds: Vec<String>,
    /// Group names, sorted; empty for a stage without groups.
    pub groups: Vec<String>,
    pub starts_at: DateTime<Utc>,
}

/// A season's stages in the order they begin. A season whose source names
/// no stage has one, unnamed (both kinds when its rounds mix them).
pub fn stages(matches: &[football_match::Model], competition: CompetitionKind) -> Vec<Stage> {
    let mut ordered: Vec<&football_match::Model> = matches.iter().collect();
    ordered.sort_by_key(|m| (m.kickoff_at, m.id));
    let mut stages: Vec<Stage> = Vec::new();
    let mut groups: Vec<BTreeSet<String>> = Vec::new();
    for m in ordered {
        let kind = kind_of_match(m, competition);
        let index = match stages
            .iter()
            .position(|s| s.name == m.stage && s.kind == kind)
        {
            Some(index) => index,
            None => {
                stages.push(Stage {
                    name: m.stage.clone(),
                    kind,
                    rounds: Vec::new(),
                    groups: Vec::new(),
                    starts_at: m.kickoff_at,
                });
                groups.push(BTreeSet::new());
                stages.len() - 1
            }
        };
        if let Some(round) = &m.round
            && !stages[index].rounds.contains(round)
        {
            stages[index].rounds.push(round.clone());
        }
        if let Some(group) = &m.group_name {
            groups[index].insert(group.clone());
        }
    }
    for (stage, groups) in stages.iter_mut().zip(groups) {
        stage.groups = groups.into_iter().collect();
    }
    stages
}

/// A season with what its stages are read from.
#[derive(Clone, Debug)]
pub struct SeasonMatches {
    pub season: season::Model,
    pub competition_kind: CompetitionKind,
    /// Every match of the season, in kick-off order.
    pub matches: Vec<football_match::Model>,
}

impl SeasonMatches {
    pub fn stages(&self) -> Vec<Stage> {
        stages(&self.matches, self.competition_kind)
    }
}

/// The season and its competition's kind; not found when there is none.
pub async fn season_kind(
    db: &impl ConnectionTrait,
    season_id: i64,
) -> Result<(season::Model, CompetitionKind)> {
    let (season, competition) = season::Entity::find_by_id(season_id)
        .find_also_related(competition::Entity)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("season"))?;
    let competition = competition.ok_or_else(|| {
        Error::Internal(anyhow::anyhow!(
            "season {season_id} has no competition {}",
            season.competition_id
        ))
    })?;
    Ok((season, competition.kind))
}

/// Loads a season's matches with its competition's kind.
pub async fn season_matches(db: &impl ConnectionTrait, season_id: i64) -> Result<SeasonMatches> {
    let (season, competition_kind) = season_kind(db, season_id).await?;
    let matches = football_match::Entity::find()
        .filter(football_match::Column::SeasonId.eq(season_id))
        .order_by_asc(football_match::Column::KickoffAt)
        .order_by_asc(football_match::Column::Id)
        .all(db)
        .await?;
    Ok(SeasonMatches {
        season,
        competition_kind,
        matches,
    })
}

/// Loads several seasons' matches at once (for a page of matches that
/// each ask for their tie): three statements whatever the number.
pub async fn seasons_matches(
    db: &impl ConnectionTrait,
    season_ids: &[i64],
) -> Result<Vec<SeasonMatches>> {
    let seasons = season::Entity::find()
        .filter(season::Column::Id.is_in(season_ids.iter().copied()))
        .all(db)
        .await?;
    let competitions = crate::competitions::by_ids(
        db,
        &seasons.iter().map(|s| s.competition_id).collect::<Vec<_>>(),
    )
    .await?;
    let mut matches = football_match::Entity::find()
        .filter(football_match::Column::SeasonId.is_in(season_ids.iter().copied()))
        .order_by_asc(football_match::Column::KickoffAt)
        .order_by_asc(football_match::Column::Id)
        .all(db)
        .await?;
    seasons
        .into_iter()
        .map(|season| {
            let competition_kind = competitions
                .iter()
                .find(|c| c.id == season.competition_id)
                .map(|c| c.kind)
                .ok_or_else(|| {
                    Error::Internal(anyhow::anyhow!(
                        "season {} has no competition {}",
                        season.id,
                        season.competition_id
                    ))
                })?;
            let (own, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut matches)
                .into_iter()
                .partition(|m| m.season_id == season.id);
            matches = rest;
            Ok(SeasonMatches {
                season,
                competition_kind,
                matches: own,
            })
        })
        .collect()
}

/// The matches as a viewer who keeps results away sees them: a result
/// they have not revealed is taken out, as if the match were still to
/// finish, so no tie tells it.
pub fn hide_results(
    matches: &[football_match::Model],
    shown: &crate::accounts::spoilers::Shown,
) -> Vec<football_match::Model> {
    matches
        .iter()
        .map(|m| {
            if shown.hides(m) {
                football_match::Model {
                    home_score: None,
                    away_score: None,
                    half_time_home: None,
                    half_time_away: None,
                    extra_time_home: None,
                    extra_time_away: None,
                    penalties_home: None,
                    penalties_away: None,
                    ..m.clone()
                }
            } else {
                m.clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use CompetitionKind::{Cup, League};
    use StageKind::{Knockout, Table};

    #[test]
    fn openfootball_champions_league_stages_are_read_from_their_names() {
        assert_eq!(
            kind_of(Some("League"), Some("Matchday 3"), Some(3), Cup),
            Table
        );
        assert_eq!(
            kind_of(Some("Playoffs"), Some("Matchday 1"), Some(1), Cup),
            Knockout,
            "a play-off's legs are matchdays, yet it is a knockout"
        );
        assert_eq!(
            kind_of(Some("Finals"), Some("Round of 16"), None, Cup),
            Knockout
        );
        assert_eq!(
            kind_of(Some("Group stage"), Some("Matchday 1"), Some(1), Cup),
            Table
        );
        assert_eq!(
            kind_of(Some("Knockout round play-offs"), None, None, Cup),
            Knockout
        );
        assert_eq!(
            kind_of(Some("Championship round"), None, None, League),
            Table
        );
    }

    #[test]
    fn without_a_stage_the_round_then_the_competition_decides() {
        assert_eq!(kind_of(None, Some("Matchday 1"), Some(1), League), Table);
        assert_eq!(kind_of(None, Some("Matchday 1"), None, Cup), Table);
        assert_eq!(
            kind_of(None, Some("Quarter-finals"), None, League),
            Knockout
        );
        assert_eq!(kind_of(None, Some("Round 3"), None, Cup), Knockout);
        assert_eq!(kind_of(None, Some("Round 3"), None, League), Table);
        assert_eq!(kind_of(Some("  "), None, None, League), Table);
    }
}
