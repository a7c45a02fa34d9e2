//! League tables computed from results and points adjustments: one per
//! table stage of a season, or per group of a stage with groups.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use entity::{CompetitionKind, MatchStatus, football_match, points_adjustment, team};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::Result;
use crate::accounts::spoilers::Shown;

/// How long after kick-off a result is taken to stand, for tables "as of"
/// an instant: the match record does not say when the final whistle blew.
pub const RESULT_AFTER_KICKOFF: Duration = Duration::minutes(120);

/// A match result from one team's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Won,
    Drawn,
    Lost,
}

/// Which results a table counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Counting {
    /// Finished matches: the table as it stands.
    #[default]
    Final,
    /// The table as it stood at an instant: results count
    /// `RESULT_AFTER_KICKOFF` after kick-off, adjustments from when they
    /// took effect.
    AsOf(DateTime<Utc>),
    /// Finished matches, and matches in play at their current score; the
    /// rows of teams playing are provisional.
    Live,
}

/// What a table needs of a match with a score: seven columns, not the
/// whole row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromQueryResult)]
pub struct MatchResult {
    pub id: i64,
    pub kickoff_at: DateTime<Utc>,
    pub status: MatchStatus,
    pub home_team_id: i64,
    pub away_team_id: i64,
    pub home_score: i32,
    pub away_score: i32,
}

/// One team's line in the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub position: u32,
    pub team: team::Model,
    pub played: u32,
    pub won: u32,
    pub drawn: u32,
    pub lost: u32,
    pub goals_for: i32,
    pub goals_against: i32,
    /// Points from results plus `points_adjustment`.
    pub points: i32,
    pub points_adjustment: i32,
    /// The last five results, newest first.
    pub form: Vec<Outcome>,
    /// A match in play counts at its current score (live tables only).
    pub provisional: bool,
    /// Goals scored in away matches.
    pub away_goals_for: i32,
    pub away_won: u32,
    /// The points, goal difference and goals scored of the opponents
    /// played, added up (an opponent met twice counts twice).
    pub opponents_points: i32,
    pub opponents_goal_difference: i32,
    pub opponents_goals_for: i32,
}

impl Row {
    pub fn goal_difference(&self) -> i32 {
        self.goals_for - self.goals_against
    }
}

/// One thing a table is ranked by; the higher value ranks first, except
/// for the name, which ranks in alphabetical order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Criterion {
    Points,
    GoalDifference,
    GoalsFor,
    AwayGoalsFor,
    Wins,
    AwayWins,
    OpponentsPoints,
    OpponentsGoalDifference,
    OpponentsGoalsFor,
    Name,
}

impl Criterion {
    /// `a` before `b` is `Less`.
    fn compare(self, a: &Row, b: &Row) -> std::cmp::Ordering {
        match self {
            Criterion::Points => b.points.cmp(&a.points),
            Criterion::GoalDifference => b.goal_difference().cmp(&a.goal_difference()),
            Criterion::GoalsFor => b.goals_for.cmp(&a.goals_for),
            Criterion::AwayGoalsFor => b.away_goals_for.cmp(&a.away_goals_for),
            Criterion::Wins => b.won.cmp(&a.won),
            Criterion::AwayWins => b.away_won.cmp(&a.away_won),
            Criterion::OpponentsPoints => b.opponents_points.cmp(&a.opponents_points),
            Criterion::OpponentsGoalDifference => b
                .opponents_goal_difference
                .cmp(&a.opponents_goal_difference),
            Criterion::OpponentsGoalsFor => b.opponents_goals_for.cmp(&a.opponents_goals_for),
            Criterion::Name => a.team.name.cmp(&b.team.name),
        }
    }
}

/// The rules a table is ranked by, chosen by its stage
/// (`Ranking::for_table`). Each compares the whole table at once, never a
/// mini-table of the teams level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ranking {
    /// A league's table, and each group's: points, goal difference, goals
    /// scored, then name.
    #[default]
    League,
    /// A UEFA league phase (the Champions League's from 2024/25): points,
    /// goal difference, goals scored, away goals scored, wins, away wins,
    /// then the opponents' points, goal difference and goals scored. The
    /// criteria UEFA lists after those (disciplinary points, the club
    /// coefficient) are not in the results, so the name decides after.
    UefaLeaguePhase,
}

impl Ranking {
    /// The league phase of a cup competition (its table stage without
    /// groups) is ranked by UEFA's rules; every other table, a league's
    /// above all, by `League`.
    pub fn for_table(competition: CompetitionKind, group: Option<&str>) -> Self {
        match (competition, group) {
            (CompetitionKind::Cup, None) => Ranking::UefaLeaguePhase,
            _ => Ranking::League,
        }
    }

    /// The criteria in the order they apply.
    pub fn criteria(self) -> &'static [Criterion] {
        use Criterion::*;
        match self {
            Ranking::League => &[Points, GoalDifference, GoalsFor, Name],
            Ranking::UefaLeaguePhase => &[
                Points,
                GoalDifference,
                GoalsFor,
                AwayGoalsFor,
                Wins,
                AwayWins,
                OpponentsPoints,
                OpponentsGoalDifference,
                OpponentsGoalsFor,
                Name,
            ],
        }
    }

    fn compare(self, a: &Row, b: &Row) -> std::cmp::Ordering {
        self.criteria()
            .iter()
            .fold(std::cmp::Ordering::Equal, |order, criterion| {
                order.then_with(|| criterion.compare(a, b))
            })
    }
}

/// One table of a season: a table stage's, or one group's within it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageTable {
    /// The stage as the source names it; none when it names no stage.
    pub stage: Option<String>,
    /// The group, in a stage with groups.
    pub group: Option<String>,
    /// How its rows are ranked.
    pub ranking: Ranking,
    pub rows: Vec<Row>,
}

/// The season's table: every team with a match in its table stages,
/// ranked as each table's `Ranking` says (a league's by points, then goal
/// difference, then goals scored, then name), counting the results
/// `counting` says. Knockout matches never count.
/// A season with several tables (groups) gives each one's rows in turn,
/// each ranked within its own table.
pub async fn table(
    db: &impl ConnectionTrait,
    season_id: i64,
    counting: Counting,
) -> Result<Vec<Row>> {
    table_shown(db, season_id, counting, &Shown::Everything).await
}

/// The table as a user who keeps results away sees it: only the results
/// `shown` lets through count.
pub async fn table_shown(
    db: &impl ConnectionTrait,
    season_id: i64,
    counting: Counting,
    shown: &Shown,
) -> Result<Vec<Row>> {
    Ok(tables_shown(db, season_id, counting, shown)
        .await?
        .into_iter()
        .flat_map(|t| t.rows)
        .collect())
}

/// Every table of the season: one per table stage, or per group of a
/// stage with groups, in the order the stages begin.
pub async fn tables_shown(
    db: &impl ConnectionTrait,
    season_id: i64,
    counting: Counting,
    shown: &Shown,
) -> Result<Vec<StageTable>> {
    use football_match::Column as M;
    let (_, competition) = crate::stages::season_kind(db, season_id).await?;
    let counted = match counting {
        Counting::Final | Counting::AsOf(_) => vec![MatchStatus::Finished],
        Counting::Live => [MatchStatus::Finished]
            .into_iter()
            .chain(crate::live::stream::IN_PLAY)
            .collect(),
    };
    let matches = football_match::Entity::find()
        .select_only()
        .columns([
            M::Id,
            M::KickoffAt,
            M::Status,
            M::HomeTeamId,
            M::AwayTeamId,
            M::HomeScore,
            M::AwayScore,
            M::Stage,
            M::Round,
            M::Matchday,
            M::GroupName,
        ])
        .filter(M::SeasonId.eq(season_id))
        .order_by_asc(M::KickoffAt)
        .order_by_asc(M::Id)
        .into_model::<StagedMatch>()
        .all(db)
        .await?;
    let adjustments = points_adjustment::Entity::find()
        .filter(points_adjustment::Column::SeasonId.eq(season_id))
        .all(db)
        .await?;

    // The tables in the order their stages begin, with the matches of each.
    let mut tables: Vec<(Option<String>, Option<String>, Vec<&StagedMatch>)> = Vec::new();
    for m in &matches {
        let kind = crate::stages::kind_of(
            m.stage.as_deref(),
            m.round.as_deref(),
            m.matchday,
            competition,
        );
        if kind != crate::stages::StageKind::Table {
            continue;
        }
        match tables
            .iter_mut()
            .find(|(stage, group, _)| *stage == m.stage && *group == m.group_name)
        {
            Some((_, _, list)) => list.push(m),
            None => tables.push((m.stage.clone(), m.group_name.clone(), vec![m])),
        }
    }
    if tables.is_empty() && !adjustments.is_empty() {
        tables.push((None, None, Vec::new()));
    }
    let single = tables.len() == 1;
    let team_ids: HashSet<i64> = tables
        .iter()
        .flat_map(|(_, _, list)| list.iter().flat_map(|m| [m.home_team_id, m.away_team_id]))
        .chain(adjustments.iter().map(|a| a.team_id))
        .collect();
    let teams: HashMap<i64, team::Model> = if team_ids.is_empty() {
        HashMap::new()
    } else {
        team::Entity::find()
            .filter(team::Column::Id.is_in(team_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect()
    };
    Ok(tables
        .into_iter()
        .map(|(stage, group, list)| {
            let mut members: HashSet<i64> = list
                .iter()
                .flat_map(|m| [m.home_team_id, m.away_team_id])
                .collect();
            // With one table, a team with an adjustment and no match yet
            // has a line, as it always had.
            if single {
                members.extend(adjustments.iter().map(|a| a.team_id));
            }
            let results: Vec<MatchResult> = list
                .iter()
                .filter(|m| counted.contains(&m.status) && shown.shows_id(m.id))
                .filter_map(|m| m.result())
                .collect();
            let table_teams = members
                .iter()
                .filter_map(|id| teams.get(id).cloned())
                .collect();
            let table_adjustments: Vec<points_adjustment::Model> = adjustments
                .iter()
                .filter(|a| members.contains(&a.team_id))
                .cloned()
                .collect();
            let ranking = Ranking::for_table(competition, group.as_deref());
            StageTable {
                rows: compute(table_teams, &results, &table_adjustments, counting, ranking),
                stage,
                group,
                ranking,
            }
        })
        .collect())
}

/// A match as tables read it: its result and where in the season it is.
#[derive(Clone, Debug, FromQueryResult)]
struct StagedMatch {
    id: i64,
    kickoff_at: DateTime<Utc>,
    status: MatchStatus,
    home_team_id: i64,
    away_team_id: i64,
    home_score: Option<i32>,
    away_score: Option<i32>,
    stage: Option<String>,
    round: Option<String>,
    matchday: Option<i32>,
    group_name: Option<String>,
}

impl StagedMatch {
    fn result(&self) -> Option<MatchResult> {
        Some(MatchResult {
            id: self.id,
            kickoff_at: self.kickoff_at,
            status: self.status,
            home_team_id: self.home_team_id,
            away_team_id: self.away_team_id,
            home_score: self.home_score?,
            away_score: self.away_score?,
        })
    }
}

/// The table from rows already loaded; pure, so the rules are easy to test.
pub fn compute(
    teams: Vec<team::Model>,
    matches: &[MatchResult],
    adjustments: &[points_adjustment::Model],
    counting: Counting,
    ranking: Ranking,
) -> Vec<Row> {
    let as_of = match counting {
        Counting::AsOf(at) => Some(at),
        Counting::Final | Counting::Live => None,
    };
    let in_play = |m: &MatchResult| crate::live::stream::IN_PLAY.contains(&m.status);
    let mut rows: HashMap<i64, Row> = teams
        .into_iter()
        .map(|team| {
            let row = Row {
                position: 0,
                team,
                played: 0,
                won: 0,
                drawn: 0,
                lost: 0,
                goals_for: 0,
                goals_against: 0,
                points: 0,
                points_adjustment: 0,
                form: Vec::new(),
                provisional: false,
                away_goals_for: 0,
                away_won: 0,
                opponents_points: 0,
                opponents_goal_difference: 0,
                opponents_goals_for: 0,
            };
            (row.team.id, row)
        })
        .collect();

    let mut results: Vec<&MatchResult> = matches
        .iter()
        .filter(|m| counting == Counting::Live || !in_play(m))
        .filter(|m| as_of.is_none_or(|at| m.kickoff_at + RESULT_AFTER_KICKOFF <= at))
        .collect();
    // Newest first, so form fills in the right order.
    results.sort_by_key(|m| std::cmp::Reverse((m.kickoff_at, m.id)));
    // Each team's opponents, once per match counted.
    let mut opponents: HashMap<i64, Vec<i64>> = HashMap::new();
    for m in results {
        let (home_goals, away_goals) = (m.home_score, m.away_score);
        for (team_id, opponent_id, away, scored, conceded) in [
            (
                m.home_team_id,
                m.away_team_id,
                false,
                home_goals,
                away_goals,
            ),
            (m.away_team_id, m.home_team_id, true, away_goals, home_goals),
        ] {
            let Some(row) = rows.get_mut(&team_id) else {
                continue;
            };
            opponents.entry(team_id).or_default().push(opponent_id);
            let outcome = match scored.cmp(&conceded) {
                std::cmp::Ordering::Greater => Outcome::Won,
                std::cmp::Ordering::Equal => Outcome::Drawn,
                std::cmp::Ordering::Less => Outcome::Lost,
            };
            row.played += 1;
            row.provisional |= in_play(m);
            row.goals_for += scored;
            row.goals_against += conceded;
            if away {
                row.away_goals_for += scored;
            }
            match outcome {
                Outcome::Won => {
                    row.won += 1;
                    row.away_won += u32::from(away);
                    row.points += 3;
                }
                Outcome::Drawn => {
                    row.drawn += 1;
                    row.points += 1;
                }
                Outcome::Lost => row.lost += 1,
            }
            if row.form.len() < 5 {
                row.form.push(outcome);
            }
        }
    }
    for adjustment in adjustments {
        if as_of.is_some_and(|at| adjustment.effective_at > at) {
            continue;
        }
        if let Some(row) = rows.get_mut(&adjustment.team_id) {
            row.points_adjustment += adjustment.points;
            row.points += adjustment.points;
        }
    }

    let standing: HashMap<i64, (i32, i32, i32)> = rows
        .iter()
        .map(|(id, r)| (*id, (r.points, r.goal_difference(), r.goals_for)))
        .collect();
    for (team_id, played) in &opponents {
        let Some(row) = rows.get_mut(team_id) else {
            continue;
        };
        for (points, goal_difference, goals_for) in
            played.iter().filter_map(|opponent| standing.get(opponent))
        {
            row.opponents_points += points;
            row.opponents_goal_difference += goal_difference;
            row.opponents_goals_for += goals_for;
        }
    }

    let mut table: Vec<Row> = rows.into_values().collect();
    table.sort_by(|a, b| ranking.compare(a, b));
    for (index, row) in table.iter_mut().enumerate() {
        row.position = u32::try_from(index + 1).unwrap_or(u32::MAX);
    }
    table
}

/// Two teams' record against each other.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeadToHead {
    pub played: u32,
    pub team_a_wins: u32,
    pub team_b_wins: u32,
    pub draws: u32,
    pub team_a_goals: i32,
    pub team_b_goals: i32,
}

/// Sums finished matches between `a` and `b`. A match decided on penalties
/// counts as a draw, as its score does.
pub fn head_to_head(a: i64, matches: &[football_match::Model]) -> HeadToHead {
    let mut record = HeadToHead::default();
    for m in matches {
        let Some((home, away)) = crate::matches::final_score(m) else {
            continue;
        };
        let (a_goals, b_goals) = if m.home_team_id == a {
            (home, away)
        } else {
            (away, home)
        };
        record.played += 1;
        record.team_a_goals += a_goals;
        record.team_b_goals += b_goals;
        match a_goals.cmp(&b_goals) {
            std::cmp::Ordering::Greater => record.team_a_wins += 1,
            std::cmp::Ordering::Less => record.team_b_wins += 1,
            std::cmp::Ordering::Equal => record.draws += 1,
        }
    }
    record
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn team(id: i64, name: &str) -> team::Model {
        let now = Utc::now();
        team::Model {
            id,
            name: name.to_owned(),
            short_name: None,
            tla: None,
            area: None,
            founded: None,
            venue: None,
            crest_url: None,
            slug: name.to_lowercase(),
            created_at: now,
            updated_at: now,
        }
    }

    fn result(id: i64, day: u32, home: i64, away: i64, score: (i32, i32)) -> football_match::Model {
        let at = Utc.with_ymd_and_hms(2024, 1, day, 15, 0, 0).unwrap();
        football_match::Model {
            id,
            season_id: 1,
            round: None,
            matchday: None,
            stage: None,
            group_name: None,
            home_team_id: home,
            away_team_id: away,
            kickoff_at: at,
            kickoff_time_known: true,
            status: MatchStatus::Finished,
            home_score: Some(score.0),
            away_score: Some(score.1),
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

    fn finished(id: i64, day: u32, home: i64, away: i64, score: (i32, i32)) -> MatchResult {
        MatchResult {
            id,
            kickoff_at: Utc.with_ymd_and_hms(2024, 1, day, 15, 0, 0).unwrap(),
            status: MatchStatus::Finished,
            home_team_id: home,
            away_team_id: away,
            home_score: score.0,
            away_score: score.1,
        }
    }

    fn adjustment(team_id: i64, points: i32, day: u32) -> points_adjustment::Model {
        let at = Utc.with_ymd_and_hms(2024, 1, day, 12, 0, 0).unwrap();
        points_adjustment::Model {
            id: 1,
            season_id: 1,
            team_id,
            points,
            reason: "breach".into(),
            effective_at: at,
            created_at: at,
        }
    }

    fn names(table: &[Row]) -> Vec<&str> {
        table.iter().map(|r| r.team.name.as_str()).collect()
    }

    #[test]
    fn ties_break_on_goal_difference_then_goals_then_name() {
        let teams = vec![
            team(1, "Bees"),
            team(2, "Ants"),
            team(3, "Cats"),
            team(4, "Dogs"),
        ];
        let matches = [
            finished(1, 1, 1, 4, (3, 1)), // Bees +2, 3 scored
            finished(2, 1, 2, 3, (2, 0)), // Ants +2, 2 scored
            finished(3, 2, 3, 4, (0, 0)),
        ];
        let table = compute(teams, &matches, &[], Counting::Final, Ranking::League);
        // Cats and Dogs both -2; Dogs scored one.
        assert_eq!(names(&table), ["Bees", "Ants", "Dogs", "Cats"]);
        assert_eq!(table[0].position, 1);
        assert_eq!(table[3].points, 1);
    }

    #[test]
    fn equal_on_everything_falls_back_to_the_name() {
        let teams = vec![team(1, "Zebras"), team(2, "Yaks")];
        let table = compute(
            teams,
            &[finished(1, 1, 1, 2, (1, 1))],
            &[],
            Counting::Final,
            Ranking::League,
        );
        assert_eq!(names(&table), ["Yaks", "Zebras"]);
    }

    #[test]
    fn a_league_phase_ranks_level_teams_by_away_goals_where_a_league_ranks_by_name() {
        let teams = vec![
            team(1, "Alpha"),
            team(2, "Bravo"),
            team(3, "Charlie"),
            team(4, "Delta"),
        ];
        let matches = [
            finished(1, 1, 1, 3, (2, 1)), // Alpha win at home
            finished(2, 1, 4, 2, (1, 2)), // Bravo win away
        ];
        let league = compute(
            teams.clone(),
            &matches,
            &[],
            Counting::Final,
            Ranking::League,
        );
        assert_eq!(names(&league), ["Alpha", "Bravo", "Charlie", "Delta"]);
        let phase = compute(
            teams,
            &matches,
            &[],
            Counting::Final,
            Ranking::UefaLeaguePhase,
        );
        // Bravo's two goals and Charlie's one were scored away.
        assert_eq!(names(&phase), ["Bravo", "Alpha", "Charlie", "Delta"]);
        let bravo = &phase[0];
        assert_eq!((bravo.away_goals_for, bravo.away_won), (2, 1));
        assert_eq!(
            (
                bravo.opponents_points,
                bravo.opponents_goal_difference,
                bravo.opponents_goals_for
            ),
            (0, -1, 1),
            "Delta's"
        );
    }

    #[test]
    fn a_league_phase_then_ranks_by_away_wins_and_then_by_the_opponents_points() {
        // Level on points, goals and away goals: Yankee won away, Xray at home.
        let teams = vec![
            team(1, "Yankee"),
            team(2, "Xray"),
            team(3, "Oscar"),
            team(4, "Papa"),
        ];
        let matches = [
            finished(1, 1, 3, 1, (0, 1)),
            finished(2, 2, 1, 4, (1, 2)),
            finished(3, 1, 2, 3, (1, 0)),
            finished(4, 2, 4, 2, (2, 1)),
        ];
        let league = compute(
            teams.clone(),
            &matches,
            &[],
            Counting::Final,
            Ranking::League,
        );
        assert_eq!(names(&league)[..3], ["Papa", "Xray", "Yankee"]);
        let phase = compute(
            teams,
            &matches,
            &[],
            Counting::Final,
            Ranking::UefaLeaguePhase,
        );
        assert_eq!(names(&phase)[..3], ["Papa", "Yankee", "Xray"]);

        // Level on all of that too: the stronger opponents rank higher.
        let teams = vec![
            team(1, "Kilo"),
            team(2, "Juliet"),
            team(3, "Weak"),
            team(4, "Strong"),
            team(5, "Other"),
        ];
        let matches = [
            finished(1, 1, 1, 4, (1, 0)), // Kilo beat Strong
            finished(2, 1, 2, 3, (1, 0)), // Juliet beat Weak
            finished(3, 2, 4, 5, (3, 0)), // Strong beat Other
        ];
        let phase = compute(
            teams,
            &matches,
            &[],
            Counting::Final,
            Ranking::UefaLeaguePhase,
        );
        assert_eq!(names(&phase)[..2], ["Strong", "Kilo"]);
        assert_eq!(names(&phase)[2], "Juliet");
    }

    #[test]
    fn the_league_phase_of_a_cup_is_ranked_by_uefa_rules_and_every_other_table_as_a_league() {
        assert_eq!(
            Ranking::for_table(CompetitionKind::Cup, None),
            Ranking::UefaLeaguePhase
        );
        assert_eq!(
            Ranking::for_table(CompetitionKind::Cup, Some("Group A")),
            Ranking::League
        );
        assert_eq!(
            Ranking::for_table(CompetitionKind::League, None),
            Ranking::League
        );
        assert_eq!(
            Ranking::League.criteria(),
            [
                Criterion::Points,
                Criterion::GoalDifference,
                Criterion::GoalsFor,
                Criterion::Name
            ]
        );
    }

    #[test]
    fn form_lists_the_last_five_results_newest_first() {
        let teams = vec![team(1, "A"), team(2, "B")];
        let matches: Vec<_> = [(1, 0), (0, 1), (1, 1), (2, 0), (2, 0), (0, 3)]
            .into_iter()
            .enumerate()
            .map(|(i, s)| finished(i as i64 + 1, i as u32 + 1, 1, 2, s))
            .collect();
        let table = compute(teams, &matches, &[], Counting::Final, Ranking::League);
        let a = table.iter().find(|r| r.team.id == 1).unwrap();
        use Outcome::*;
        assert_eq!(a.form, vec![Lost, Won, Won, Drawn, Lost]);
        assert_eq!(a.played, 6);
    }

    #[test]
    fn a_deduction_counts_only_from_when_it_took_effect() {
        let teams = vec![team(1, "A"), team(2, "B")];
        let matches = [finished(1, 1, 1, 2, (1, 0))];
        let deduction = [adjustment(1, -4, 10)];
        let before = Utc.with_ymd_and_hms(2024, 1, 9, 0, 0, 0).unwrap();
        let after = Utc.with_ymd_and_hms(2024, 1, 11, 0, 0, 0).unwrap();
        let early = compute(
            teams.clone(),
            &matches,
            &deduction,
            Counting::AsOf(before),
            Ranking::League,
        );
        assert_eq!(names(&early), ["A", "B"]);
        let late = compute(
            teams,
            &matches,
            &deduction,
            Counting::AsOf(after),
            Ranking::League,
        );
        assert_eq!(names(&late), ["B", "A"]);
        let a = late.iter().find(|r| r.team.id == 1).unwrap();
        assert_eq!((a.points, a.points_adjustment), (-1, -4));
    }

    #[test]
    fn a_result_counts_only_once_it_stood() {
        let teams = vec![team(1, "A"), team(2, "B")];
        let matches = [finished(1, 1, 1, 2, (1, 0))];
        let during = Utc.with_ymd_and_hms(2024, 1, 1, 16, 0, 0).unwrap();
        let table = compute(
            teams,
            &matches,
            &[],
            Counting::AsOf(during),
            Ranking::League,
        );
        assert!(table.iter().all(|r| r.played == 0));
    }

    #[test]
    fn a_live_table_counts_a_match_in_play_at_its_score_and_marks_its_teams() {
        let teams = vec![team(1, "A"), team(2, "B"), team(3, "C")];
        let mut playing = finished(2, 2, 2, 1, (2, 0));
        playing.status = MatchStatus::HalfTime;
        let matches = [finished(1, 1, 1, 3, (1, 0)), playing];

        let final_table = compute(
            teams.clone(),
            &matches,
            &[],
            Counting::Final,
            Ranking::League,
        );
        assert_eq!(names(&final_table), ["A", "B", "C"]);
        assert!(final_table.iter().all(|r| !r.provisional));
        assert_eq!(final_table[1].played, 0, "the match in play does not count");

        let live = compute(teams, &matches, &[], Counting::Live, Ranking::League);
        assert_eq!(names(&live), ["B", "A", "C"]);
        let provisional: Vec<bool> = live.iter().map(|r| r.provisional).collect();
        assert_eq!(provisional, [true, true, false]);
        assert_eq!((live[0].points, live[0].played), (3, 1));
        assert_eq!(live[1].form, vec![Outcome::Lost, Outcome::Won]);
    }

    #[test]
    fn head_to_head_counts_a_shootout_as_a_draw() {
        let mut cup_tie = result(2, 2, 2, 1, (1, 1));
        cup_tie.extra_time_home = Some(1);
        cup_tie.extra_time_away = Some(1);
        cup_tie.penalties_home = Some(5);
        cup_tie.penalties_away = Some(4);
        let record = head_to_head(1, &[result(1, 1, 1, 2, (2, 0)), cup_tie]);
        assert_eq!(
            record,
            HeadToHead {
                played: 2,
                team_a_wins: 1,
                team_b_wins: 0,
                draws: 1,
                team_a_goals: 3,
                team_b_goals: 1
            }
        );
    }
}
