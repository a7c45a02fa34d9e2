//! After a write: the outbox row the worker reads, written in the write's
//! transaction, and the bus message subscribers get once it committed.

use chrono::Utc;
use entity::{football_match, match_event, outbox, season};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait};

use crate::Result;
use crate::live::bus::{Bus, BusMessage};

/// Writes an outbox row in the caller's transaction, for the worker.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    topic: &str,
    payload: serde_json::Value,
) -> Result<()> {
    outbox::ActiveModel {
        topic: Set(topic.to_owned()),
        payload: Set(payload),
        created_at: Set(Utc::now()),
        attempts: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Publishes a committed change to a match, in the background: the
/// caller answers from its commit whatever the bus does.
pub fn publish(
    db: &DatabaseConnection,
    bus: &Bus,
    football_match: &football_match::Model,
    event: Option<match_event::Model>,
) {
    let db = db.clone();
    let football_match = football_match.clone();
    bus.publish_with(async move {
        let competition_id = match season::Entity::find_by_id(football_match.season_id)
            .one(&db)
            .await
        {
            Ok(Some(season)) => season.competition_id,
            _ => 0,
        };
        Some(BusMessage::Match {
            football_match: Box::new(football_match),
            competition_id,
            event,
        })
    });
}
