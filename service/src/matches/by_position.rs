//! A page of matches and its teams decoded by column position. sea-orm's
//! `FromQueryResult` looks each column up by name and, for every NULL in
//! an optional column, formats an error message that `Option` then throws
//! away; on a page of 50 matches with both teams that was about a fifth of
//! the api's CPU. The statement [`super::page_with_teams`] builds lists the
//! match's columns, then each team's, in the entities' own column order,
//! and [`check_order`] makes sure of that on the first row, whose column
//! types are also checked against the fields' (the later rows' are the same).

use entity::{MatchStatus, football_match, team};
use sea_orm::sqlx::postgres::{PgRow, Postgres};
use sea_orm::sqlx::{Column as _, Decode, Row as _, Type};
use sea_orm::{ActiveEnum as _, DbErr, IdenStatic as _, Iterable as _};

/// The next columns of one row, read in order.
pub struct Columns<'r> {
    row: &'r PgRow,
    at: usize,
    /// Whether each column's type is checked against the one decoded.
    /// Every row of a statement has the same types, so only the first
    /// row's need checking.
    checked: bool,
}

impl<'r> Columns<'r> {
    /// A statement's first row: its column types are checked.
    pub fn first(row: &'r PgRow) -> Self {
        Self {
            row,
            at: 0,
            checked: true,
        }
    }

    /// A later row of the same statement.
    pub fn next_row(row: &'r PgRow) -> Self {
        Self {
            row,
            at: 0,
            checked: false,
        }
    }

    fn next<T>(&mut self) -> Result<T, DbErr>
    where
        T: for<'a> Decode<'a, Postgres> + Type<Postgres>,
    {
        let value = if self.checked {
            self.row.try_get(self.at)
        } else {
            self.row.try_get_unchecked(self.at)
        };
        let value = value.map_err(|err| DbErr::Custom(format!("column {}: {err}", self.at)))?;
        self.at += 1;
        Ok(value)
    }

    /// Passes over columns not needed.
    pub fn skip(&mut self, columns: usize) {
        self.at += columns;
    }

    /// A match, from its columns in `football_match::Column` order. (A
    /// struct expression evaluates its fields in the order written.)
    pub fn football_match(&mut self) -> Result<football_match::Model, DbErr> {
        Ok(football_match::Model {
            id: self.next()?,
            season_id: self.next()?,
            round: self.next()?,
            matchday: self.next()?,
            stage: self.next()?,
            group_name: self.next()?,
            home_team_id: self.next()?,
            away_team_id: self.next()?,
            kickoff_at: self.next()?,
            kickoff_time_known: self.next()?,
            status: MatchStatus::try_from_value(&self.next::<String>()?)?,
            home_score: self.next()?,
            away_score: self.next()?,
            half_time_home: self.next()?,
            half_time_away: self.next()?,
            extra_time_home: self.next()?,
            extra_time_away: self.next()?,
            penalties_home: self.next()?,
            penalties_away: self.next()?,
            minute: self.next()?,
            last_event_seq: self.next()?,
            external_source: self.next()?,
            external_ref: self.next()?,
            created_at: self.next()?,
            updated_at: self.next()?,
            last_event_at: self.next()?,
            schedule_revision: self.next()?,
        })
    }

    /// A team, from its columns in `team::Column` order.
    pub fn team(&mut self) -> Result<team::Model, DbErr> {
        Ok(team::Model {
            id: self.next()?,
            name: self.next()?,
            short_name: self.next()?,
            tla: self.next()?,
            area: self.next()?,
            founded: self.next()?,
            venue: self.next()?,
            crest_url: self.next()?,
            slug: self.next()?,
            created_at: self.next()?,
            updated_at: self.next()?,
        })
    }
}

pub fn match_columns() -> usize {
    football_match::Column::iter().count()
}

pub fn team_columns() -> usize {
    team::Column::iter().count()
}

/// Fails unless the row lists the match's columns and then each prefixed
/// team's, in the entities' order: what the decoders above read.
pub fn check_order(row: &PgRow, team_prefixes: &[&str]) -> Result<(), DbErr> {
    let names = row.columns().iter().map(|column| column.name());
    let expected =
        football_match::Column::iter()
            .map(|column| ("", column.as_str()))
            .chain(team_prefixes.iter().flat_map(|prefix| {
                team::Column::iter().map(move |column| (*prefix, column.as_str()))
            }));
    let mut count = 0;
    for (name, (prefix, column)) in names.zip(expected) {
        if name.strip_prefix(prefix) != Some(column) {
            return Err(DbErr::Custom(format!(
                "a page's column {count} is {name}, not {prefix}{column}"
            )));
        }
        count += 1;
    }
    let wanted = match_columns() + team_columns() * team_prefixes.len();
    if count != wanted || row.columns().len() != wanted {
        return Err(DbErr::Custom(format!(
            "a page has {} columns, not {wanted}",
            row.columns().len()
        )));
    }
    Ok(())
}
