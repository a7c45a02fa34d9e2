//! The bundled sample files and the table corrections that go with them.

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use chrono_tz::Tz;
use entity::{CompetitionKind, competition, points_adjustment, season, team};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter,
};

use crate::import::{CompetitionCode, CompetitionName, ImportOptions};
use crate::values::{SeasonLabel, TimeZone};

/// One bundled openfootball file and how to file it.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub file_name: &'static str,
    pub json: &'static str,
    pub competition_code: &'static str,
    pub season: &'static str,
    pub time_zone: &'static str,
    pub competition_name: Option<&'static str>,
    pub kind: Option<CompetitionKind>,
}

impl Sample {
    pub fn options(&self) -> Result<ImportOptions, String> {
        let mut options = ImportOptions::new(
            CompetitionCode::parse(self.competition_code)?,
            SeasonLabel::parse(self.season)?,
            TimeZone::parse(self.time_zone)?,
        );
        options.competition_name = self
            .competition_name
            .map(CompetitionName::parse)
            .transpose()?;
        options.kind = self.kind;
        Ok(options)
    }
}

// The files live in `api/samples/` beside their licence; they are compiled
// in so that the binary seeds from any working directory.
pub const SAMPLES: &[Sample] = &[
    Sample {
        file_name: "en.1-2023-24.json",
        json: include_str!("../../../api/samples/en.1-2023-24.json"),
        competition_code: "PL",
        season: "2023/24",
        time_zone: "Europe/London",
        competition_name: None,
        kind: None,
    },
    Sample {
        file_name: "uefa.cl-2024-25.json",
        json: include_str!("../../../api/samples/uefa.cl-2024-25.json"),
        competition_code: "CL",
        season: "2024/25",
        time_zone: "Europe/Berlin",
        competition_name: Some("UEFA Champions League"),
        kind: Some(CompetitionKind::Cup),
    },
    Sample {
        file_name: "en.1-2025-26.json",
        json: include_str!("../../../api/samples/en.1-2025-26.json"),
        competition_code: "PL",
        season: "2025/26",
        time_zone: "Europe/London",
        competition_name: None,
        kind: None,
    },
];

/// A points deduction (or its partial refund) as the league announced it.
struct Adjustment {
    competition_code: &'static str,
    season: &'static str,
    team_slug: &'static str,
    points: i32,
    /// The day it entered the official table, in the league's time zone.
    effective: (i32, u32, u32),
    zone: Tz,
    reason: &'static str,
}

/// The 2023/24 Premier League deductions, without which a table computed
/// from the results differs from the official one (Everton 40 points,
/// Nottingham Forest 32).
const ADJUSTMENTS: &[Adjustment] = &[
    Adjustment {
        competition_code: "PL",
        season: "2023/24",
        team_slug: "everton-fc",
        points: -10,
        effective: (2023, 11, 17),
        zone: Tz::Europe__London,
        reason: "Breach of the Profitability and Sustainability Rules (2021/22)",
    },
    Adjustment {
        competition_code: "PL",
        season: "2023/24",
        team_slug: "everton-fc",
        points: 4,
        effective: (2024, 2, 26),
        zone: Tz::Europe__London,
        reason: "Appeal Board reduced the 2021/22 deduction from 10 points to 6",
    },
    Adjustment {
        competition_code: "PL",
        season: "2023/24",
        team_slug: "nottingham-forest-fc",
        points: -4,
        effective: (2024, 3, 18),
        zone: Tz::Europe__London,
        reason: "Breach of the Profitability and Sustainability Rules (2022/23)",
    },
    Adjustment {
        competition_code: "PL",
        season: "2023/24",
        team_slug: "everton-fc",
        points: -2,
        effective: (2024, 4, 8),
        zone: Tz::Europe__London,
        reason: "Breach of the Profitability and Sustainability Rules (2022/23)",
    },
];

/// Adds each adjustment that is not there yet; returns how many it added.
pub(super) async fn add_points_adjustments(db: &impl ConnectionTrait) -> anyhow::Result<usize> {
    let now = Utc::now();
    let mut added = 0;
    for adjustment in ADJUSTMENTS {
        let what = || {
            format!(
                "demo: points adjustment for {} in {} {}",
                adjustment.team_slug, adjustment.competition_code, adjustment.season
            )
        };
        let season = season::Entity::find()
            .inner_join(competition::Entity)
            .filter(competition::Column::Code.eq(adjustment.competition_code))
            .filter(season::Column::Label.eq(adjustment.season))
            .one(db)
            .await
            .with_context(what)?
            .with_context(|| format!("{}: no such season", what()))?;
        let team = team::Entity::find()
            .filter(team::Column::Slug.eq(adjustment.team_slug))
            .one(db)
            .await
            .with_context(what)?
            .with_context(|| format!("{}: no such team", what()))?;
        let effective_at = local_midnight(adjustment.zone, adjustment.effective)
            .with_context(|| format!("{}: the effective day has no midnight", what()))?;
        let already = points_adjustment::Entity::find()
            .filter(points_adjustment::Column::SeasonId.eq(season.id))
            .filter(points_adjustment::Column::TeamId.eq(team.id))
            .filter(points_adjustment::Column::Points.eq(adjustment.points))
            .filter(points_adjustment::Column::EffectiveAt.eq(effective_at))
            .count(db)
            .await
            .with_context(what)?;
        if already > 0 {
            continue;
        }
        points_adjustment::ActiveModel {
            season_id: Set(season.id),
            team_id: Set(team.id),
            points: Set(adjustment.points),
            reason: Set(adjustment.reason.to_owned()),
            effective_at: Set(effective_at),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .with_context(what)?;
        added += 1;
    }
    Ok(added)
}

fn local_midnight(zone: Tz, (y, m, d): (i32, u32, u32)) -> Option<DateTime<Utc>> {
    let midnight = NaiveDate::from_ymd_opt(y, m, d)?.and_hms_opt(0, 0, 0)?;
    Some(
        zone.from_local_datetime(&midnight)
            .earliest()?
            .with_timezone(&Utc),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_has_options_that_parse() {
        for sample in SAMPLES {
            assert!(sample.options().is_ok(), "{}", sample.file_name);
        }
    }

    #[test]
    fn the_everton_deductions_add_up_to_eight_points() {
        let everton: i32 = ADJUSTMENTS
            .iter()
            .filter(|a| a.team_slug == "everton-fc")
            .map(|a| a.points)
            .sum();
        assert_eq!(everton, -8);
    }

    #[test]
    fn an_adjustment_takes_effect_at_local_midnight() {
        let at = local_midnight(Tz::Europe__London, (2024, 4, 8)).unwrap();
        assert_eq!(at.to_rfc3339(), "2024-04-07T23:00:00+00:00");
    }
}
