//! The history of InTheGame's database schema: sea-orm migrations that build
//! every table, index and foreign key, written with the schema builder so the
//! same steps run unchanged on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261129_000001_create_football_tables;
mod m20261129_000002_create_account_tables;
mod m20261129_000003_create_notification_tables;
mod m20261129_000004_create_digest_runs;
mod m20261129_000005_create_dead_jobs;
mod m20261203_000006_match_freshness;
mod m20261203_000007_create_calendar_tokens;
mod m20261203_000008_schedule_change_alerts;
mod m20261203_000009_create_lineups;
mod m20261203_000010_spoiler_free;
mod m20261206_000011_outbox_claims;
mod m20261206_000012_digest_next_due;
mod m20261206_000021_match_groups;
mod m20261206_000022_goal_assists;
mod m20261207_000031_digest_due_index;
mod m20261207_000032_outbox_trace_context;
mod m20261207_000041_follow_competitions_and_matches;
mod m20261207_000051_web_push;
mod m20261207_000061_stream_delay;
mod m20261207_000071_inbox_shown_at;
mod m20261207_000081_notification_indexes;
mod m20261207_000082_outbox_match_order;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_create_football_tables::Migration),
            Box::new(m20261129_000002_create_account_tables::Migration),
            Box::new(m20261129_000003_create_notification_tables::Migration),
            Box::new(m20261129_000004_create_digest_runs::Migration),
            Box::new(m20261129_000005_create_dead_jobs::Migration),
            Box::new(m20261203_000006_match_freshness::Migration),
            Box::new(m20261203_000007_create_calendar_tokens::Migration),
            Box::new(m20261203_000008_schedule_change_alerts::Migration),
            Box::new(m20261203_000009_create_lineups::Migration),
            Box::new(m20261203_000010_spoiler_free::Migration),
            Box::new(m20261206_000011_outbox_claims::Migration),
            Box::new(m20261206_000012_digest_next_due::Migration),
            Box::new(m20261206_000021_match_groups::Migration),
            Box::new(m20261206_000022_goal_assists::Migration),
            Box::new(m20261207_000031_digest_due_index::Migration),
            Box::new(m20261207_000032_outbox_trace_context::Migration),
            Box::new(m20261207_000041_follow_competitions_and_matches::Migration),
            Box::new(m20261207_000051_web_push::Migration),
            Box::new(m20261207_000061_stream_delay::Migration),
            Box::new(m20261207_000071_inbox_shown_at::Migration),
            Box::new(m20261207_000081_notification_indexes::Migration),
            Box::new(m20261207_000082_outbox_match_order::Migration),
        ]
    }
}

/// Length of the varchar columns that hold enums. Enums are plain strings
/// rather than native enum types so one schema works on SQLite and PostgreSQL
/// and adding a variant never needs a column migration.
const ENUM_LEN: u32 = 32;

async fn create_index<T, C>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    cols: impl IntoIterator<Item = C>,
    unique: bool,
) -> Result<(), DbErr>
where
    T: IntoIden,
    C: IntoIndexColumn,
{
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(col);
    }
    if unique {
        index.unique();
    }
    manager.create_index(index).await
}
