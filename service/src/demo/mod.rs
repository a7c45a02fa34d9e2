//! Demo data for `api --demo`: real seasons bundled into the binary, so a
//! newcomer sees a full database without finding files first.
//!
//! `seed` fills an empty database and does nothing to one that already has
//! matches, so restarting with `--demo` is safe. It runs its steps in one
//! transaction: a start that fails half-way leaves no half-seeded database
//! behind to stop the next start from seeding. Add a step as a function of
//! its own and call it from `seed`; something that keeps running while the
//! server serves (such as replaying a match live) belongs in its own
//! function that the api starts after `seed`.

pub mod replay;
mod samples;

use anyhow::Context as _;
use entity::football_match;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait, TransactionTrait};

use crate::import::{self, ImportReport};

pub use samples::{SAMPLES, Sample};

/// What `seed` did.
#[derive(Debug)]
pub enum Seeded {
    /// The database already had matches, so nothing was added.
    AlreadyHadMatches,
    /// The samples were imported, one report each, and the points
    /// adjustments added.
    Imported {
        reports: Vec<ImportReport>,
        points_adjustments: usize,
    },
}

/// Imports the bundled samples and the 2023/24 Premier League points
/// deductions into a database that has no matches yet.
#[tracing::instrument(skip_all, err)]
pub async fn seed(db: &DatabaseConnection) -> anyhow::Result<Seeded> {
    let existing = football_match::Entity::find()
        .count(db)
        .await
        .context("demo: counting matches")?;
    if existing > 0 {
        tracing::info!(
            matches = existing,
            "demo: the database already has matches; no demo data imported"
        );
        return Ok(Seeded::AlreadyHadMatches);
    }
    let txn = db.begin().await.context("demo: starting a transaction")?;
    let mut reports = Vec::with_capacity(SAMPLES.len());
    for sample in SAMPLES {
        let options = sample.options().map_err(anyhow::Error::msg)?;
        let report = import::import_openfootball(&txn, sample.file_name, sample.json, &options)
            .await
            .context("demo: importing a bundled sample")?;
        reports.push(report);
    }
    let points_adjustments = samples::add_points_adjustments(&txn).await?;
    txn.commit().await.context("demo: committing")?;
    let matches: usize = reports.iter().map(|r| r.matches.created).sum();
    tracing::info!(
        seasons = reports.len(),
        matches,
        points_adjustments,
        "demo: data imported"
    );
    Ok(Seeded::Imported {
        reports,
        points_adjustments,
    })
}
