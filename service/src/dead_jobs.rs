//! Jobs that failed every attempt. The worker records them here rather than
//! leave them to the queue backend, so admins see them the same way on
//! Redis and on SQLite.

use chrono::Utc;
use entity::dead_job;
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ConnectionTrait, EntityTrait as _, QueryOrder as _,
    QuerySelect as _,
};

use crate::Result;

/// Records a job that will not be tried again.
pub async fn record(
    db: &impl ConnectionTrait,
    queue: &str,
    job: serde_json::Value,
    attempts: i32,
    last_error: &str,
) -> Result<dead_job::Model> {
    Ok(dead_job::ActiveModel {
        queue: Set(queue.to_owned()),
        job: Set(job),
        attempts: Set(attempts),
        last_error: Set(last_error.to_owned()),
        failed_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// The latest `limit` dead jobs, newest first.
pub async fn latest(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<dead_job::Model>> {
    Ok(dead_job::Entity::find()
        .order_by_desc(dead_job::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}
