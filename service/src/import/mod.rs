//! Importing whole seasons from files. An import reads and checks every row
//! before it writes anything, then writes in one transaction, so a file
//! either goes in whole or not at all. Matches are keyed by their source and
//! a reference built from the file, so running an import again changes only
//! what the file changed.

mod openfootball;
mod options;
pub mod rules;
mod store;

use std::fmt;

use sea_orm::{DbErr, TransactionSession as _, TransactionTrait};

pub use options::{CompetitionCode, CompetitionName, ImportOptions};

/// `matches.external_source` of every match this importer writes.
pub const OPENFOOTBALL: &str = "openfootball";

/// Imports one openfootball season file (`{"name", "matches": [...]}`).
///
/// `source_name` names the file in the report and in errors. Competition,
/// season and teams are created as needed; matches are created, updated in
/// place, or left alone when the file has not changed them. A file with any
/// malformed row is refused whole and nothing is written.
#[tracing::instrument(
    skip_all,
    fields(file = source_name, competition = %options.competition_code, season = %options.season),
    err
)]
pub async fn import_openfootball(
    db: &impl TransactionTrait,
    source_name: &str,
    json: &str,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let plan = openfootball::plan(json, options).map_err(|problem| ImportError::Malformed {
        file: source_name.to_owned(),
        problem,
    })?;
    let mut report = ImportReport {
        source_name: source_name.to_owned(),
        competition_code: options.competition_code.to_string(),
        season: options.season.to_string(),
        ..ImportReport::default()
    };
    let database = |cause| ImportError::Database {
        file: source_name.to_owned(),
        cause,
    };
    let txn = db.begin().await.map_err(database)?;
    // On an error the transaction is dropped, which rolls it back.
    store::apply(&txn, plan, &mut report)
        .await
        .map_err(database)?;
    txn.commit().await.map_err(database)?;
    tracing::info!("{}", report.summary());
    for skipped in &report.skipped {
        tracing::debug!("skipped {}: {}", skipped.at, skipped.reason);
    }
    for warning in &report.warnings {
        tracing::debug!("warning {warning}");
    }
    Ok(report)
}

/// Why a file was not imported. Either way, nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is not a season file we can read.
    #[error("{file}: {problem}")]
    Malformed { file: String, problem: Problem },
    /// The database failed while writing; the transaction was rolled back.
    #[error("{file}: the import was rolled back")]
    Database {
        file: String,
        #[source]
        cause: DbErr,
    },
}

/// What is wrong with a file, and where.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    /// Not JSON, or JSON of the wrong shape; the position is serde_json's.
    #[error("{kind} at line {line} column {column}: {message}")]
    Json {
        kind: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
    /// A match row is wrong. `more` counts the other rows that are wrong too.
    #[error("{at}: {message}{}", and_more(*.more))]
    Match {
        at: MatchRef,
        message: String,
        more: usize,
    },
    /// The file as a whole is wrong.
    #[error("{0}")]
    File(String),
}

fn and_more(more: usize) -> String {
    match more {
        0 => String::new(),
        1 => " (and 1 more problem)".to_owned(),
        n => format!(" (and {n} more problems)"),
    }
}

impl From<ImportError> for crate::Error {
    fn from(err: ImportError) -> Self {
        match err {
            ImportError::Malformed { .. } => crate::Error::invalid("file", err.to_string()),
            ImportError::Database { .. } => crate::Error::Internal(err.into()),
        }
    }
}

/// One match row of the file, as a person finds it again: its position in
/// the `matches` array (from 0) and what it says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MatchRef {
    pub index: usize,
    pub round: String,
    pub home: String,
    pub away: String,
}

impl fmt::Display for MatchRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "matches[{}] ({}: {} v {})",
            self.index, self.round, self.home, self.away
        )
    }
}

/// How many rows of one kind an import created, changed, found as they were,
/// or left out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped: usize,
}

/// A match row that was not imported, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub at: MatchRef,
    pub reason: String,
}

/// Something odd in the data that was imported as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub at: Option<MatchRef>,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            Some(at) => write!(f, "{at}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub source_name: String,
    pub competition_code: String,
    pub season: String,
    pub competitions: Tally,
    pub seasons: Tally,
    pub teams: Tally,
    pub matches: Tally,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<Warning>,
}

impl ImportReport {
    /// One line for a log.
    pub fn summary(&self) -> String {
        let m = &self.matches;
        format!(
            "imported {} into {} {}: matches {} created, {} updated, {} unchanged, {} skipped; \
             {} new teams; {} warnings",
            self.source_name,
            self.competition_code,
            self.season,
            m.created,
            m.updated,
            m.unchanged,
            m.skipped,
            self.teams.created,
            self.warnings.len()
        )
    }
}

/// The counts as a table, then each skipped row and each warning.
impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} -> {} {}",
            self.source_name, self.competition_code, self.season
        )?;
        writeln!(
            f,
            "{:<14}{:>9}{:>9}{:>11}{:>9}",
            "", "created", "updated", "unchanged", "skipped"
        )?;
        for (kind, t) in [
            ("competitions", self.competitions),
            ("seasons", self.seasons),
            ("teams", self.teams),
            ("matches", self.matches),
        ] {
            writeln!(
                f,
                "{kind:<14}{:>9}{:>9}{:>11}{:>9}",
                t.created, t.updated, t.unchanged, t.skipped
            )?;
        }
        for skipped in &self.skipped {
            writeln!(f, "skipped: {}: {}", skipped.at, skipped.reason)?;
        }
        for warning in &self.warnings {
            writeln!(f, "warning: {warning}")?;
        }
        Ok(())
    }
}
