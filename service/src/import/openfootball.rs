//! Reading an openfootball season file into a plan of what to write. Nothing
//! here touches the database: every row is checked before the first write.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{CompetitionKind, MatchStatus};
use serde::Deserialize;
use serde_json::Value;

use super::rules::{self, Kickoff, Round, TeamName, TimeOfDay};
use super::{ImportOptions, MatchRef, Problem, Skipped, Warning};

/// The column `matches.external_ref` holds 128 characters.
const MAX_EXTERNAL_REF_LEN: usize = 128;

/// The file as openfootball writes it. Fields we check ourselves are
/// optional here, so that a missing one is reported with its match rather
/// than as a bare position.
#[derive(Deserialize)]
struct RawFile {
    name: Option<String>,
    matches: Vec<RawMatch>,
}

#[derive(Deserialize)]
struct RawMatch {
    round: Option<String>,
    date: Option<String>,
    time: Option<String>,
    team1: Option<String>,
    team2: Option<String>,
    /// "Group A" in the matches of a group stage.
    group: Option<String>,
    #[serde(default)]
    score: Option<RawScore>,
    status: Option<String>,
}

#[derive(Default, Deserialize)]
struct RawScore {
    ht: Option<Value>,
    ft: Option<Value>,
    et: Option<Value>,
    p: Option<Value>,
}

/// Everything the import will write, already checked.
pub(super) struct Plan {
    pub competition: CompetitionPlan,
    pub season: SeasonPlan,
    /// One per slug, in the order the file first names them.
    pub teams: Vec<TeamPlan>,
    pub matches: Vec<MatchPlan>,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<Warning>,
}

pub(super) struct CompetitionPlan {
    pub code: String,
    pub name: String,
    /// Given by the operator, so it overrides what is stored; an inferred
    /// value only names a new competition.
    pub name_given: bool,
    pub kind: CompetitionKind,
    pub kind_given: bool,
}

pub(super) struct SeasonPlan {
    pub label: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

pub(super) struct TeamPlan {
    pub slug: String,
    pub name: String,
    pub area: Option<String>,
}

pub(super) struct MatchPlan {
    pub at: MatchRef,
    pub external_ref: String,
    pub round: Round,
    pub group: Option<String>,
    pub home_slug: String,
    pub away_slug: String,
    pub kickoff_at: DateTime<Utc>,
    pub kickoff_time_known: bool,
    pub status: MatchStatus,
    pub score: Score,
}

/// Goals per side at each point openfootball records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Score {
    pub ft: Option<(i32, i32)>,
    pub ht: Option<(i32, i32)>,
    pub et: Option<(i32, i32)>,
    pub p: Option<(i32, i32)>,
}

/// A row that passed every check.
struct Row {
    at: MatchRef,
    raw_round: String,
    round: Round,
    group: Option<String>,
    home: TeamName,
    away: TeamName,
    date: NaiveDate,
    time: Option<TimeOfDay>,
    status: Option<String>,
    score: Score,
}

/// Reads and checks the whole file. Fails on the first wrong row, counting
/// the others that are wrong too.
pub(super) fn plan(json: &str, options: &ImportOptions) -> Result<Plan, Problem> {
    let file: RawFile = serde_json::from_str(json).map_err(json_problem)?;

    let mut rows = Vec::with_capacity(file.matches.len());
    let mut first_error = None;
    let mut more = 0;
    for (index, raw) in file.matches.into_iter().enumerate() {
        match check_row(index, raw) {
            Ok(row) => rows.push(row),
            Err((at, message)) if first_error.is_none() => first_error = Some((at, message)),
            Err(_) => more += 1,
        }
    }
    if let Some((at, message)) = first_error {
        return Err(Problem::Match { at, message, more });
    }
    let (Some(start), Some(end)) = (
        rows.iter().map(|r| r.date).min(),
        rows.iter().map(|r| r.date).max(),
    ) else {
        return Err(Problem::File("the file has no matches".to_owned()));
    };

    let mut warnings = Vec::new();
    let file_name = file
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if let Some(suffix) = file_name.and_then(rules::season_suffix)
        && suffix.get(..4) != options.season.as_str().get(..4)
    {
        warnings.push(Warning {
            at: None,
            message: format!(
                "the file's name says season {suffix}, but it is imported as {}",
                options.season
            ),
        });
    }
    let name = match (&options.competition_name, file_name) {
        (Some(given), _) => given.as_str().to_owned(),
        (None, Some(name)) => rules::strip_season_suffix(name).to_owned(),
        (None, None) => {
            return Err(Problem::File(
                "the file has no \"name\", so the competition needs one: pass a competition name"
                    .to_owned(),
            ));
        }
    };
    let kind = options.kind.unwrap_or_else(|| {
        // A league plays only numbered matchdays; anything else (a final, a
        // quarter-final) makes it a cup.
        if rows.iter().all(|r| r.round.matchday.is_some()) {
            CompetitionKind::League
        } else {
            CompetitionKind::Cup
        }
    });

    let teams = plan_teams(&rows, &mut warnings);

    let code = options.competition_code.as_str();
    let season = options.season.as_str();
    let zone = options.time_zone.tz();
    let mut matches = Vec::with_capacity(rows.len());
    let mut skipped = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for row in rows {
        let home_slug = crate::values::slug(&row.home.name);
        let away_slug = crate::values::slug(&row.away.name);
        let skip = |reason: String| Skipped {
            at: row.at.clone(),
            reason,
        };
        if home_slug == away_slug {
            skipped.push(skip("a team cannot play itself".to_owned()));
            continue;
        }
        let external_ref = format!(
            "{code}/{season}/{}/{home_slug}/{away_slug}",
            crate::values::slug(&row.raw_round)
        );
        if external_ref.len() > MAX_EXTERNAL_REF_LEN {
            skipped.push(skip(format!(
                "its reference {external_ref} is longer than {MAX_EXTERNAL_REF_LEN} characters"
            )));
            continue;
        }
        if let Some(first) = seen.get(&external_ref) {
            skipped.push(skip(format!(
                "duplicate of matches[{first}]: same round and teams"
            )));
            continue;
        }
        let status = match row.status.as_deref().map(str::trim) {
            None => None,
            Some(text) => match status_from_text(text) {
                Some(status) => Some(status),
                None => {
                    skipped.push(skip(format!("unknown status \"{text}\"")));
                    continue;
                }
            },
        };
        let kickoff_at = match Kickoff::from_local(zone, row.date, row.time) {
            Kickoff::Exact(at) => at,
            Kickoff::Ambiguous { earlier, later } => {
                warnings.push(Warning {
                    at: Some(row.at.clone()),
                    message: format!(
                        "local kick-off happened twice in {zone} (clocks went back); took the \
                         earlier instant {earlier}, not {later}"
                    ),
                });
                earlier
            }
            Kickoff::Nonexistent => {
                skipped.push(skip(format!(
                    "kick-off {} {} never happened in {zone}: the clocks went forward over it",
                    row.date,
                    row.time
                        .map_or("00:00".to_owned(), |t| t.time.format("%H:%M").to_string())
                )));
                continue;
            }
        };
        let status = status.unwrap_or(if row.score.ft.is_some() {
            MatchStatus::Finished
        } else {
            MatchStatus::Scheduled
        });
        warnings.extend(
            score_oddities(status, &row.score)
                .into_iter()
                .map(|message| Warning {
                    at: Some(row.at.clone()),
                    message,
                }),
        );
        seen.insert(external_ref.clone(), row.at.index);
        matches.push(MatchPlan {
            at: row.at,
            external_ref,
            round: row.round,
            group: row.group,
            home_slug,
            away_slug,
            kickoff_at,
            kickoff_time_known: row.time.is_some(),
            status,
            score: row.score,
        });
    }

    Ok(Plan {
        competition: CompetitionPlan {
            code: code.to_owned(),
            name,
            name_given: options.competition_name.is_some(),
            kind,
            kind_given: options.kind.is_some(),
        },
        season: SeasonPlan {
            label: season.to_owned(),
            start,
            end,
        },
        teams,
        matches,
        skipped,
        warnings,
    })
}

fn json_problem(err: serde_json::Error) -> Problem {
    use serde_json::error::Category;
    let kind = match err.classify() {
        Category::Syntax | Category::Eof | Category::Io => "invalid JSON",
        Category::Data => "unexpected JSON",
    };
    // serde_json appends the position to its message; we print it ourselves.
    let full = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
    Problem::Json {
        kind,
        line: err.line(),
        column: err.column(),
        message,
    }
}

fn check_row(index: usize, raw: RawMatch) -> Result<Row, (MatchRef, String)> {
    // A missing value shows as `?`, so the row can still be recognised.
    let text = |v: &Option<String>| match v.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => t.to_owned(),
        _ => "?".to_owned(),
    };
    let at = MatchRef {
        index,
        round: text(&raw.round),
        home: text(&raw.team1),
        away: text(&raw.team2),
    };
    let fail = |message: String| (at.clone(), message);

    let raw_round = raw.round.as_deref().unwrap_or_default();
    let round = Round::parse(raw_round).ok_or_else(|| fail("\"round\" is missing".to_owned()))?;
    let team = |field: &str, value: &Option<String>| {
        let name = TeamName::parse(value.as_deref().unwrap_or_default())
            .ok_or_else(|| fail(format!("\"{field}\" (a team) is missing")))?;
        if crate::values::slug(&name.name).is_empty() {
            return Err(fail(format!(
                "\"{field}\" \"{}\" has no letters or digits",
                name.name
            )));
        }
        Ok(name)
    };
    let home = team("team1", &raw.team1)?;
    let away = team("team2", &raw.team2)?;
    let date_text = raw
        .date
        .as_deref()
        .ok_or_else(|| fail("\"date\" is missing".to_owned()))?;
    let date = NaiveDate::parse_from_str(date_text.trim(), "%Y-%m-%d").map_err(|_| {
        fail(format!(
            "\"date\" \"{date_text}\" is not a date of the form YYYY-MM-DD"
        ))
    })?;
    let time = match raw.time.as_deref() {
        None => None,
        Some(t) => Some(TimeOfDay::parse(t).ok_or_else(|| {
            fail(format!(
                "\"time\" \"{t}\" is not a time of the form HH:MM (optionally followed by UTC+H)"
            ))
        })?),
    };
    let raw_score = raw.score.unwrap_or_default();
    let pair = |field: &str, value: Option<Value>| match value {
        None | Some(Value::Null) => Ok(None),
        Some(value) => goals(&value).map(Some).ok_or_else(|| {
            fail(format!(
                "\"score.{field}\" must be two non-negative whole numbers, not {value}"
            ))
        }),
    };
    let score = Score {
        ht: pair("ht", raw_score.ht)?,
        ft: pair("ft", raw_score.ft)?,
        et: pair("et", raw_score.et)?,
        p: pair("p", raw_score.p)?,
    };
    Ok(Row {
        raw_round: raw_round.trim().to_owned(),
        at,
        round,
        group: raw
            .group
            .map(|g| g.trim().to_owned())
            .filter(|g| !g.is_empty()),
        home,
        away,
        date,
        time,
        status: raw.status,
        score,
    })
}

/// `[h, a]` with both sides whole numbers from 0 up.
fn goals(value: &Value) -> Option<(i32, i32)> {
    let [home, away] = value.as_array()?.as_slice() else {
        return None;
    };
    let side = |v: &Value| v.as_u64().and_then(|n| i32::try_from(n).ok());
    Some((side(home)?, side(away)?))
}

fn status_from_text(text: &str) -> Option<MatchStatus> {
    match text.to_ascii_lowercase().as_str() {
        "postponed" => Some(MatchStatus::Postponed),
        "cancelled" | "canceled" => Some(MatchStatus::Cancelled),
        "suspended" => Some(MatchStatus::Suspended),
        _ => None,
    }
}

/// Scores that a real feed gets wrong now and then. They are imported as
/// given; these messages tell the operator what to look at.
fn score_oddities(status: MatchStatus, score: &Score) -> Vec<String> {
    let mut odd = Vec::new();
    let show = |(h, a): (i32, i32)| format!("{h}-{a}");
    if let Some(p) = score.p
        && p.0 == p.1
    {
        odd.push(format!(
            "penalty shoot-out recorded as a draw {}; stored as given",
            show(p)
        ));
    }
    if score.p.is_some() && score.et.is_none() {
        odd.push("penalties without extra time; stored as given".to_owned());
    }
    if let (Some(ht), Some(ft)) = (score.ht, score.ft)
        && (ht.0 > ft.0 || ht.1 > ft.1)
    {
        odd.push(format!(
            "half-time score {} is more than the full-time score {}; stored as given",
            show(ht),
            show(ft)
        ));
    }
    let has_parts = score.ht.is_some() || score.et.is_some() || score.p.is_some();
    if score.ft.is_none() && has_parts {
        odd.push("part of a score but no full-time result; imported as not played".to_owned());
    }
    if score.ft.is_some() && status != MatchStatus::Finished {
        odd.push(format!(
            "{} but has a full-time score; both stored as given",
            status_word(status)
        ));
    }
    odd
}

fn status_word(status: MatchStatus) -> &'static str {
    match status {
        MatchStatus::Postponed => "postponed",
        MatchStatus::Cancelled => "cancelled",
        MatchStatus::Suspended => "suspended",
        _ => "not finished",
    }
}

/// One team per slug. Two spellings that fold to one slug are one team;
/// the first spelling names it, and a warning says so.
fn plan_teams(rows: &[Row], warnings: &mut Vec<Warning>) -> Vec<TeamPlan> {
    let mut teams: Vec<TeamPlan> = Vec::new();
    let mut by_slug: HashMap<String, usize> = HashMap::new();
    for row in rows {
        for name in [&row.home, &row.away] {
            let slug = crate::values::slug(&name.name);
            match by_slug.get(&slug) {
                None => {
                    by_slug.insert(slug.clone(), teams.len());
                    teams.push(TeamPlan {
                        slug,
                        name: name.name.clone(),
                        area: name.area.clone(),
                    });
                }
                Some(&i) if teams[i].name != name.name || teams[i].area != name.area => {
                    let first = &teams[i];
                    warnings.push(Warning {
                        at: Some(row.at.clone()),
                        message: format!(
                            "\"{}\" is taken to be the team \"{}\" named earlier (both are {})",
                            name.name, first.name, first.slug
                        ),
                    });
                }
                Some(_) => {}
            }
        }
    }
    teams
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::CompetitionCode;
    use crate::values::{SeasonLabel, TimeZone};

    fn options() -> ImportOptions {
        ImportOptions::new(
            CompetitionCode::parse("PL").unwrap(),
            SeasonLabel::parse("2023/24").unwrap(),
            TimeZone::parse("Europe/London").unwrap(),
        )
    }

    fn one_match(fields: &str) -> String {
        format!(
            r#"{{"name": "Test League 2023/24", "matches": [{{"round": "Matchday 1", "date": "2023-08-12", "team1": "A FC", "team2": "B FC", {fields}}}]}}"#
        )
    }

    fn problem(json: &str) -> String {
        match plan(json, &options()) {
            Ok(_) => panic!("expected a problem"),
            Err(problem) => problem.to_string(),
        }
    }

    #[test]
    fn a_file_that_is_not_json_is_reported_at_its_line_and_column() {
        let message = problem("{\n  \"name\": \"x\",\n  \"matches\": [,]\n}");
        assert!(
            message.starts_with("invalid JSON at line 3 column 15: expected value"),
            "{message}"
        );
    }

    #[test]
    fn a_field_of_the_wrong_type_is_reported_at_its_line_and_column() {
        let message = problem(r#"{"name": "x", "matches": [{"round": 12}]}"#);
        assert!(
            message.starts_with("unexpected JSON at line 1 column "),
            "{message}"
        );
        assert!(message.contains("invalid type: integer `12`"), "{message}");
    }

    #[test]
    fn a_bad_date_names_the_match_and_the_date() {
        let json = one_match(r#""score": {}"#).replace("2023-08-12", "2023-13-45");
        assert_eq!(
            problem(&json),
            "matches[0] (Matchday 1: A FC v B FC): \"date\" \"2023-13-45\" is not a date of the form YYYY-MM-DD"
        );
    }

    #[test]
    fn a_score_that_is_not_two_non_negative_integers_is_refused() {
        for bad in ["[1]", "[1, -1]", "[1, 2, 3]", "[\"1\", 2]", "[1.5, 2]", "3"] {
            let message = problem(&one_match(&format!(r#""score": {{"ft": {bad}}}"#)));
            assert!(
                message.contains("\"score.ft\" must be two non-negative whole numbers"),
                "{bad}: {message}"
            );
        }
    }

    #[test]
    fn a_missing_team_names_the_field() {
        let json = one_match(r#""score": {}"#).replace(r#""team2": "B FC", "#, "");
        assert_eq!(
            problem(&json),
            "matches[0] (Matchday 1: A FC v ?): \"team2\" (a team) is missing"
        );
    }

    #[test]
    fn every_wrong_row_is_counted_but_the_first_is_named() {
        let json = r#"{"name": "x", "matches": [
            {"round": "Matchday 1", "date": "2023-08-12", "team1": "A", "team2": "B"},
            {"round": "Matchday 1", "date": "bad", "team1": "C", "team2": "D"},
            {"round": "Matchday 1", "date": "bad", "team1": "E", "team2": "F"},
            {"round": "Matchday 1", "date": "2023-08-12", "team1": "G"}]}"#;
        let message = problem(json);
        assert!(message.starts_with("matches[1] "), "{message}");
        assert!(message.ends_with("(and 2 more problems)"), "{message}");
    }

    #[test]
    fn a_file_without_matches_is_refused() {
        assert_eq!(
            problem(r#"{"name": "x", "matches": []}"#),
            "the file has no matches"
        );
    }

    #[test]
    fn a_file_without_a_name_needs_a_competition_name() {
        let json = one_match(r#""score": {}"#).replace(r#""name": "Test League 2023/24", "#, "");
        assert!(problem(&json).contains("pass a competition name"));
    }

    #[test]
    fn a_full_time_score_makes_a_match_finished_and_an_empty_one_scheduled() {
        let finished = plan(
            &one_match(r#""score": {"ft": [2, 1], "ht": [1, 1]}"#),
            &options(),
        );
        let m = &finished.unwrap().matches[0];
        assert_eq!(m.status, MatchStatus::Finished);
        assert_eq!(m.score.ft, Some((2, 1)));
        assert_eq!(m.score.ht, Some((1, 1)));
        let scheduled = plan(&one_match(r#""score": {}"#), &options()).unwrap();
        assert_eq!(scheduled.matches[0].status, MatchStatus::Scheduled);
        assert!(!scheduled.matches[0].kickoff_time_known);
    }

    #[test]
    fn a_postponed_status_wins() {
        let plan = plan(
            &one_match(r#""score": {}, "status": "postponed""#),
            &options(),
        )
        .unwrap();
        assert_eq!(plan.matches[0].status, MatchStatus::Postponed);
    }

    #[test]
    fn an_unknown_status_skips_the_row_with_its_reason() {
        let plan = plan(
            &one_match(r#""score": {}, "status": "abducted""#),
            &options(),
        )
        .unwrap();
        assert!(plan.matches.is_empty());
        assert_eq!(plan.skipped[0].reason, "unknown status \"abducted\"");
    }

    #[test]
    fn a_drawn_shoot_out_is_imported_with_a_warning() {
        let plan = plan(
            &one_match(r#""score": {"ft": [1, 1], "et": [1, 1], "p": [4, 4]}"#),
            &options(),
        )
        .unwrap();
        assert_eq!(plan.matches[0].score.p, Some((4, 4)));
        assert_eq!(
            plan.warnings[0].message,
            "penalty shoot-out recorded as a draw 4-4; stored as given"
        );
    }

    #[test]
    fn a_league_of_matchdays_is_a_league_and_a_final_makes_a_cup() {
        let league = plan(&one_match(r#""score": {}"#), &options()).unwrap();
        assert_eq!(league.competition.kind, CompetitionKind::League);
        assert_eq!(league.competition.name, "Test League");
        let cup = plan(
            &one_match(r#""score": {}"#).replace("Matchday 1", "Finals, Final"),
            &options(),
        )
        .unwrap();
        assert_eq!(cup.competition.kind, CompetitionKind::Cup);
    }

    #[test]
    fn a_file_named_for_another_season_warns() {
        let json = one_match(r#""score": {}"#).replace("2023/24", "2019/20");
        let plan = plan(&json, &options()).unwrap();
        assert!(plan.warnings[0].message.contains("season 2019/20"));
    }
}
