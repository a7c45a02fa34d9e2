//! Reading teams.

use entity::team;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};

use sea_orm::sea_query::{Expr, ExprTrait as _, Func};

use crate::Result;
use crate::pagination::{From, Page, PageRequest};

/// The sort key of a team: name, then id to break ties.
pub type TeamKey = (String, i64);

pub fn key(t: &team::Model) -> TeamKey {
    (t.name.clone(), t.id)
}

fn search(text: Option<&str>) -> Select<team::Entity> {
    let select = team::Entity::find();
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        // Names and short names, any case; LIKE is case-insensitive for
        // ASCII on SQLite, so lower-case both sides for PostgreSQL too.
        Some(text) => {
            let pattern = format!("%{}%", text.to_lowercase().replace(['%', '_'], ""));
            let lower = |column: team::Column| Expr::expr(Func::lower(Expr::col(column)));
            select.filter(
                Condition::any()
                    .add(lower(team::Column::Name).like(pattern.clone()))
                    .add(lower(team::Column::ShortName).like(pattern.clone()))
                    .add(team::Column::Slug.like(pattern)),
            )
        }
        None => select,
    }
}

/// One page of teams by name, optionally matching `text`.
pub async fn page(
    db: &impl ConnectionTrait,
    text: Option<&str>,
    request: &PageRequest<TeamKey>,
) -> Result<Page<team::Model>> {
    use team::Column as T;
    let mut select = search(text);
    if let Some((name, id)) = &request.after {
        select = select.filter(
            Condition::any()
                .add(T::Name.gt(name.as_str()))
                .add(T::Name.eq(name.as_str()).and(T::Id.gt(*id))),
        );
    }
    if let Some((name, id)) = &request.before {
        select = select.filter(
            Condition::any()
                .add(T::Name.lt(name.as_str()))
                .add(T::Name.eq(name.as_str()).and(T::Id.lt(*id))),
        );
    }
    let walk = if request.from == From::Start {
        Order::Asc
    } else {
        Order::Desc
    };
    let rows = select
        .order_by(T::Name, walk.clone())
        .order_by(T::Id, walk)
        .limit(request.size + 1)
        .all(db)
        .await?;
    Ok(Page::from_lookahead(request, rows))
}

pub async fn count(db: &impl ConnectionTrait, text: Option<&str>) -> Result<u64> {
    Ok(search(text).count(db).await?)
}

pub async fn by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<team::Model>> {
    Ok(team::Entity::find_by_id(id).one(db).await?)
}

pub async fn by_slug(db: &impl ConnectionTrait, slug: &str) -> Result<Option<team::Model>> {
    Ok(team::Entity::find()
        .filter(team::Column::Slug.eq(slug.trim().to_lowercase()))
        .one(db)
        .await?)
}

/// The teams with these ids, in no particular order; unknown ids are skipped.
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<team::Model>> {
    Ok(team::Entity::find()
        .filter(team::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}
