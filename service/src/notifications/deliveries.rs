//! Deliveries: one notification over one channel. The worker claims a
//! pending delivery before it sends, so two jobs for the same delivery (a
//! retry racing a sweep, two workers) never both send it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{DeliveryStatus, delivery, notification, notification_preference as prefs, user};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait, EntityTrait as _, QueryFilter, QueryOrder as _,
    QuerySelect as _,
};

use crate::{Error, Result};

/// A claimed delivery with everything needed to send it.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub delivery: delivery::Model,
    pub notification: notification::Model,
    pub user: user::Model,
    pub preferences: prefs::Model,
}

/// Takes the delivery for one attempt until `lease_until`, if it is due
/// and nobody else holds it. `None`: delivered, dead, or held elsewhere.
pub async fn claim(
    db: &impl ConnectionTrait,
    delivery_id: i64,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Option<Claimed>> {
    // A retry may wake a moment before its time: job stores count in seconds.
    let due_by = now + chrono::Duration::seconds(1);
    // One statement takes the delivery and returns it; one more reads
    // what it carries and to whom.
    let taken = delivery::Entity::update_many()
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(lease_until))
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.eq(delivery_id))
        .filter(delivery::Column::Status.is_in([DeliveryStatus::Pending, DeliveryStatus::Failed]))
        .filter(
            Condition::any()
                .add(delivery::Column::NextAttemptAt.is_null())
                .add(delivery::Column::NextAttemptAt.lte(due_by)),
        )
        .exec_with_returning(db)
        .await?;
    let Some(delivery) = taken.into_iter().next() else {
        return Ok(None);
    };
    let Some((notification, Some(user))) =
        notification::Entity::find_by_id(delivery.notification_id)
            .find_also_related(user::Entity)
            .one(db)
            .await?
    else {
        return Ok(None);
    };
    let Some(preferences) = prefs::Entity::find_by_id(notification.user_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Claimed {
        delivery,
        notification,
        user,
        preferences,
    }))
}

/// `claim` for many deliveries at once (at most a few thousand, from one
/// batch of notifications): the ones due and not held elsewhere, in three
/// statements whatever their number.
pub async fn claim_many(
    db: &impl ConnectionTrait,
    delivery_ids: &[i64],
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Vec<Claimed>> {
    if delivery_ids.is_empty() {
        return Ok(Vec::new());
    }
    let due_by = now + chrono::Duration::seconds(1);
    let taken = delivery::Entity::update_many()
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(lease_until))
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.is_in(delivery_ids.iter().copied()))
        .filter(delivery::Column::Status.is_in([DeliveryStatus::Pending, DeliveryStatus::Failed]))
        .filter(
            Condition::any()
                .add(delivery::Column::NextAttemptAt.is_null())
                .add(delivery::Column::NextAttemptAt.lte(due_by)),
        )
        .exec_with_returning(db)
        .await?;
    if taken.is_empty() {
        return Ok(Vec::new());
    }
    let mut notification_ids: Vec<i64> = taken.iter().map(|d| d.notification_id).collect();
    notification_ids.sort_unstable();
    notification_ids.dedup();
    let notifications: HashMap<i64, notification::Model> =
        notifications_by_ids(db, &notification_ids)
            .await?
            .into_iter()
            .map(|n| (n.id, n))
            .collect();
    let mut user_ids: Vec<i64> = notifications.values().map(|n| n.user_id).collect();
    user_ids.sort_unstable();
    user_ids.dedup();
    let mut members = HashMap::new();
    for chunk in user_ids.chunks(super::WRITE_BATCH) {
        for (preferences, user) in super::audience::load(db, chunk).await? {
            members.insert(user.id, (preferences, user));
        }
    }
    Ok(taken
        .into_iter()
        .filter_map(|delivery| {
            let notification = notifications.get(&delivery.notification_id)?.clone();
            let (preferences, user) = members.get(&notification.user_id)?.clone();
            Some(Claimed {
                delivery,
                notification,
                user,
                preferences,
            })
        })
        .collect())
}

/// Extends the hold of an attempt on a claimed delivery that it has not
/// sent yet, to `lease_until`, if nobody took it meanwhile: the hold is
/// still the one the attempt was given (`held_until`, as stored) and the
/// delivery is still waiting. `None`: another attempt holds it now, or it
/// was settled; this attempt must not send it.
pub async fn renew(
    db: &impl ConnectionTrait,
    delivery_id: i64,
    held_until: DateTime<Utc>,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>> {
    let renewed = delivery::Entity::update_many()
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(lease_until))
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.eq(delivery_id))
        .filter(delivery::Column::Status.is_in([DeliveryStatus::Pending, DeliveryStatus::Failed]))
        .filter(delivery::Column::NextAttemptAt.eq(held_until))
        .exec_with_returning(db)
        .await?;
    Ok(renewed.into_iter().next().and_then(|d| d.next_attempt_at))
}

/// Records a successful attempt.
pub async fn delivered(
    db: &impl ConnectionTrait,
    delivery_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    delivery::Entity::update_many()
        .col_expr(
            delivery::Column::Status,
            Expr::value(DeliveryStatus::Delivered),
        )
        .col_expr(
            delivery::Column::Attempts,
            Expr::col(delivery::Column::Attempts).add(1),
        )
        .col_expr(delivery::Column::DeliveredAt, Expr::value(now))
        .col_expr(
            delivery::Column::NextAttemptAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.eq(delivery_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Records a failed attempt: to be retried at `retry_at`, or, with `None`,
/// dead-lettered for an admin to look at and redeliver.
pub async fn failed(
    db: &impl ConnectionTrait,
    delivery_id: i64,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<()> {
    let status = if retry_at.is_some() {
        DeliveryStatus::Failed
    } else {
        DeliveryStatus::Dead
    };
    delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(status))
        .col_expr(
            delivery::Column::Attempts,
            Expr::col(delivery::Column::Attempts).add(1),
        )
        .col_expr(delivery::Column::LastError, Expr::value(error.to_owned()))
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(retry_at))
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.eq(delivery_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Email and webhook deliveries that should be moving but have no job:
/// their worker died mid-send, or between writing them and queueing them.
pub async fn stalled(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    grace: chrono::Duration,
) -> Result<Vec<i64>> {
    let cutoff = now - grace;
    Ok(delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .filter(delivery::Column::Status.is_in([DeliveryStatus::Pending, DeliveryStatus::Failed]))
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(delivery::Column::NextAttemptAt.is_null())
                        .add(delivery::Column::UpdatedAt.lt(cutoff)),
                )
                .add(delivery::Column::NextAttemptAt.lt(cutoff)),
        )
        .order_by_asc(delivery::Column::Id)
        .limit(500)
        .into_tuple()
        .all(db)
        .await?)
}

/// The notifications with these ids, in any order.
pub async fn notifications_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<notification::Model>> {
    Ok(notification::Entity::find()
        .filter(notification::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// One page of deliveries, newest first, for admins.
pub type Page = crate::pagination::NewestFirst<delivery::Model>;

/// Deliveries with `status` (all when `None`), newest first, after the one with id `after`.
pub async fn page(
    db: &impl ConnectionTrait,
    status: Option<DeliveryStatus>,
    first: u64,
    after: Option<i64>,
) -> Result<Page> {
    let mut select = delivery::Entity::find();
    if let Some(status) = status {
        select = select.filter(delivery::Column::Status.eq(status));
    }
    crate::pagination::newest_first(db, select, delivery::Column::Id, first, after).await
}

/// Puts a dead or failed delivery back in line with a fresh set of
/// attempts. A delivered one is refused: sending it again would send twice.
pub async fn reset_for_redelivery(
    db: &impl ConnectionTrait,
    delivery_id: i64,
    now: DateTime<Utc>,
) -> Result<delivery::Model> {
    let delivery = delivery::Entity::find_by_id(delivery_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("delivery"))?;
    match delivery.status {
        DeliveryStatus::Dead | DeliveryStatus::Failed => {}
        DeliveryStatus::Delivered => {
            return Err(Error::invalid(
                "deliveryId",
                "the delivery was already delivered",
            ));
        }
        DeliveryStatus::Pending => {
            return Err(Error::invalid(
                "deliveryId",
                "the delivery is already on its way",
            ));
        }
    }
    delivery::Entity::update_many()
        .col_expr(
            delivery::Column::Status,
            Expr::value(DeliveryStatus::Pending),
        )
        .col_expr(delivery::Column::Attempts, Expr::value(0))
        .col_expr(
            delivery::Column::NextAttemptAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.eq(delivery_id))
        .filter(delivery::Column::Status.eq(delivery.status))
        .exec(db)
        .await?;
    delivery::Entity::find_by_id(delivery_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("delivery"))
}
