//! After a write has committed: the bus message that carries it to every
//! subscriber. (The worker hears of it through the outbox row written in
//! the write's own transaction: `crate::outbox`.)

use entity::{football_match, match_event, season};
use sea_orm::{DatabaseConnection, EntityTrait};

use crate::live::bus::{Bus, BusMessage};

/// Publishes a committed change to a match, in the background: the
/// caller answers from its commit whatever the bus does.
pub fn publish(
    db: &DatabaseConnection,
    bus: &Bus,
    football_match: &football_match::Model,
    event: Option<match_event::Model>,
) {
    // This process stops answering from before the change at once; the
    // others when the message reaches them.
    bus.note_change();
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
            event: event.map(Box::new),
        })
    });
}
