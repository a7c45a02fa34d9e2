//! The catalogue the feed writes into: competitions, their seasons, and teams.
//! Each write is announced on the bus (`Bus::changed`) once it is stored, so
//! no process answers from what it remembered of the catalogue before it.

use chrono::Utc;
use entity::{competition, season, team};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, IntoActiveModel};

use super::required_text;
use crate::error::DbResultExt as _;
use crate::live::bus::Bus;
use crate::values::{SeasonLabel, slug};
use crate::{Error, Result};

/// The code of a competition: 2 to 10 letters or digits, stored upper case.
pub async fn create_competition(
    db: &impl ConnectionTrait,
    bus: &Bus,
    code: &str,
    name: &str,
    area: Option<&str>,
    kind: entity::CompetitionKind,
) -> Result<competition::Model> {
    let code = code.trim().to_uppercase();
    if !(2..=10).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::invalid(
            "input.code",
            "must be 2 to 10 letters or digits",
        ));
    }
    let name = required_text("input.name", name, 100)?;
    let created = competition::ActiveModel {
        code: Set(code),
        name: Set(name),
        area: Set(area
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)),
        kind: Set(kind),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .on_unique_violation("input.code", "is already taken");
    announced(bus, created)
}

pub async fn create_season(
    db: &impl ConnectionTrait,
    bus: &Bus,
    competition_id: i64,
    label: &str,
    start_date: Option<chrono::NaiveDate>,
    end_date: Option<chrono::NaiveDate>,
) -> Result<season::Model> {
    let label = SeasonLabel::parse(label).map_err(|m| Error::invalid("input.label", m))?;
    if let (Some(start), Some(end)) = (start_date, end_date)
        && end < start
    {
        return Err(Error::invalid(
            "input.endDate",
            "must not be before startDate",
        ));
    }
    competition::Entity::find_by_id(competition_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("competition"))?;
    let created = season::ActiveModel {
        competition_id: Set(competition_id),
        label: Set(label.as_str().to_owned()),
        start_date: Set(start_date),
        end_date: Set(end_date),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .on_unique_violation("input.label", "the competition already has this season");
    announced(bus, created)
}

/// A team's editable details; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct TeamDetails {
    pub name: Option<String>,
    pub short_name: Option<String>,
    pub tla: Option<String>,
    pub area: Option<String>,
    pub founded: Option<i32>,
    pub venue: Option<String>,
    pub crest_url: Option<String>,
}

pub async fn create_team(
    db: &impl ConnectionTrait,
    bus: &Bus,
    details: TeamDetails,
) -> Result<team::Model> {
    let name = required_text(
        "input.name",
        details.name.as_deref().unwrap_or_default(),
        100,
    )?;
    let slug = slug(&name);
    if slug.is_empty() {
        return Err(Error::invalid(
            "input.name",
            "must contain letters or digits",
        ));
    }
    let now = Utc::now();
    let mut active = team::ActiveModel {
        name: Set(name),
        slug: Set(slug),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    apply_details(&mut active, &details)?;
    let created = active
        .insert(db)
        .await
        .on_unique_violation("input.name", "a team with this name already exists");
    announced(bus, created)
}

pub async fn update_team(
    db: &impl ConnectionTrait,
    bus: &Bus,
    team_id: i64,
    details: TeamDetails,
) -> Result<team::Model> {
    let current = team::Entity::find_by_id(team_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("team"))?;
    let mut active = current.into_active_model();
    if let Some(name) = &details.name {
        active.name = Set(required_text("input.name", name, 100)?);
    }
    apply_details(&mut active, &details)?;
    active.updated_at = Set(Utc::now());
    let updated = active.update(db).await.map_err(Into::into);
    announced(bus, updated)
}

/// Announces a stored catalogue write, and passes on what it returned.
pub(super) fn announced<T>(bus: &Bus, written: Result<T>) -> Result<T> {
    if written.is_ok() {
        bus.changed();
    }
    written
}

fn apply_details(active: &mut team::ActiveModel, details: &TeamDetails) -> Result<()> {
    if let Some(tla) = &details.tla {
        let tla = tla.trim().to_uppercase();
        if tla.len() != 3 || !tla.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(Error::invalid(
                "input.tla",
                "must be three letters, e.g. ARS",
            ));
        }
        active.tla = Set(Some(tla));
    }
    if let Some(founded) = details.founded {
        if !(1800..=2100).contains(&founded) {
            return Err(Error::invalid(
                "input.founded",
                "must be a year between 1800 and 2100",
            ));
        }
        active.founded = Set(Some(founded));
    }
    if let Some(url) = &details.crest_url {
        match url::Url::parse(url.trim()) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {
                active.crest_url = Set(Some(parsed.to_string()))
            }
            _ => {
                return Err(Error::invalid(
                    "input.crestUrl",
                    "must be an http or https URL",
                ));
            }
        }
    }
    for (field, value, column) in [
        (
            "input.shortName",
            &details.short_name,
            &mut active.short_name,
        ),
        ("input.area", &details.area, &mut active.area),
        ("input.venue", &details.venue, &mut active.venue),
    ] {
        if let Some(value) = value {
            *column = Set(Some(required_text(field, value, 100)?));
        }
    }
    Ok(())
}
