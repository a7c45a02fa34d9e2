use sea_orm_migration::{prelude::*, schema::*};

use crate::{ENUM_LEN, create_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Competitions::Table)
                    .col(big_pk_auto(Competitions::Id))
                    .col(string_len_uniq(Competitions::Code, 16))
                    .col(text(Competitions::Name))
                    .col(text_null(Competitions::Area))
                    .col(string_len(Competitions::Kind, ENUM_LEN))
                    .col(timestamp_with_time_zone(Competitions::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Seasons::Table)
                    .col(big_pk_auto(Seasons::Id))
                    .col(big_integer(Seasons::CompetitionId))
                    .col(text(Seasons::Label))
                    .col(date_null(Seasons::StartDate))
                    .col(date_null(Seasons::EndDate))
                    .col(timestamp_with_time_zone(Seasons::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_seasons_competition_id")
                            .from(Seasons::Table, Seasons::CompetitionId)
                            .to(Competitions::Table, Competitions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_seasons_competition_id_label")
                    .table(Seasons::Table)
                    .col(Seasons::CompetitionId)
                    .col(Seasons::Label)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Teams::Table)
                    .col(big_pk_auto(Teams::Id))
                    .col(text(Teams::Name))
                    .col(text_null(Teams::ShortName))
                    .col(string_len_null(Teams::Tla, 3))
                    .col(text_null(Teams::Area))
                    .col(integer_null(Teams::Founded))
                    .col(text_null(Teams::Venue))
                    .col(text_null(Teams::CrestUrl))
                    .col(text_uniq(Teams::Slug))
                    .col(timestamp_with_time_zone(Teams::CreatedAt))
                    .col(timestamp_with_time_zone(Teams::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_teams_name")
                    .table(Teams::Table)
                    .col(Teams::Name)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Matches::Table)
                    .col(big_pk_auto(Matches::Id))
                    .col(big_integer(Matches::SeasonId))
                    .col(text_null(Matches::Round))
                    .col(integer_null(Matches::Matchday))
                    .col(text_null(Matches::Stage))
                    .col(big_integer(Matches::HomeTeamId))
                    .col(big_integer(Matches::AwayTeamId))
                    .col(timestamp_with_time_zone(Matches::KickoffAt))
                    .col(boolean(Matches::KickoffTimeKnown).default(true))
                    .col(string_len(Matches::Status, ENUM_LEN))
                    .col(integer_null(Matches::HomeScore))
                    .col(integer_null(Matches::AwayScore))
                    .col(integer_null(Matches::HalfTimeHome))
                    .col(integer_null(Matches::HalfTimeAway))
                    .col(integer_null(Matches::ExtraTimeHome))
                    .col(integer_null(Matches::ExtraTimeAway))
                    .col(integer_null(Matches::PenaltiesHome))
                    .col(integer_null(Matches::PenaltiesAway))
                    .col(integer_null(Matches::Minute))
                    .col(integer(Matches::LastEventSeq).default(0))
                    .col(string_len_null(Matches::ExternalSource, 64))
                    .col(string_len_null(Matches::ExternalRef, 128))
                    .col(timestamp_with_time_zone(Matches::CreatedAt))
                    .col(timestamp_with_time_zone(Matches::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_matches_season_id")
                            .from(Matches::Table, Matches::SeasonId)
                            .to(Seasons::Table, Seasons::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_matches_home_team_id")
                            .from(Matches::Table, Matches::HomeTeamId)
                            .to(Teams::Table, Teams::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_matches_away_team_id")
                            .from(Matches::Table, Matches::AwayTeamId)
                            .to(Teams::Table, Teams::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // NULLs are distinct in unique indexes on both backends, so matches
        // without an external reference do not collide.
        create_index(
            manager,
            "uq_matches_external_source_external_ref",
            Matches::Table,
            [Matches::ExternalSource, Matches::ExternalRef],
            true,
        )
        .await?;
        create_index(
            manager,
            "idx_matches_home_team_id_kickoff_at",
            Matches::Table,
            [Matches::HomeTeamId, Matches::KickoffAt],
            false,
        )
        .await?;
        create_index(
            manager,
            "idx_matches_away_team_id_kickoff_at",
            Matches::Table,
            [Matches::AwayTeamId, Matches::KickoffAt],
            false,
        )
        .await?;
        create_index(
            manager,
            "idx_matches_season_id_round",
            Matches::Table,
            [Matches::SeasonId, Matches::Round],
            false,
        )
        .await?;
        create_index(
            manager,
            "idx_matches_season_id_kickoff_at",
            Matches::Table,
            [Matches::SeasonId, Matches::KickoffAt],
            false,
        )
        .await?;
        create_index(
            manager,
            "idx_matches_status",
            Matches::Table,
            [Matches::Status],
            false,
        )
        .await?;
        create_index(
            manager,
            "idx_matches_kickoff_at",
            Matches::Table,
            [Matches::KickoffAt],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(MatchEvents::Table)
                    .col(big_pk_auto(MatchEvents::Id))
                    .col(big_integer(MatchEvents::MatchId))
                    .col(integer(MatchEvents::Seq))
                    .col(string_len(MatchEvents::Kind, ENUM_LEN))
                    .col(integer_null(MatchEvents::Minute))
                    .col(integer_null(MatchEvents::AddedTime))
                    .col(big_integer_null(MatchEvents::TeamId))
                    .col(text_null(MatchEvents::Player))
                    .col(text_null(MatchEvents::Detail))
                    .col(string_len_null(MatchEvents::ExternalId, 128))
                    .col(boolean(MatchEvents::Cancelled).default(false))
                    .col(text_null(MatchEvents::CancelledReason))
                    .col(big_integer_null(MatchEvents::CorrectsEventId))
                    .col(timestamp_with_time_zone(MatchEvents::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_match_events_match_id")
                            .from(MatchEvents::Table, MatchEvents::MatchId)
                            .to(Matches::Table, Matches::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_match_events_team_id")
                            .from(MatchEvents::Table, MatchEvents::TeamId)
                            .to(Teams::Table, Teams::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_match_events_corrects_event_id")
                            .from(MatchEvents::Table, MatchEvents::CorrectsEventId)
                            .to(MatchEvents::Table, MatchEvents::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "uq_match_events_match_id_seq",
            MatchEvents::Table,
            [MatchEvents::MatchId, MatchEvents::Seq],
            true,
        )
        .await?;
        create_index(
            manager,
            "uq_match_events_match_id_external_id",
            MatchEvents::Table,
            [MatchEvents::MatchId, MatchEvents::ExternalId],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(PointsAdjustments::Table)
                    .col(big_pk_auto(PointsAdjustments::Id))
                    .col(big_integer(PointsAdjustments::SeasonId))
                    .col(big_integer(PointsAdjustments::TeamId))
                    .col(integer(PointsAdjustments::Points))
                    .col(text(PointsAdjustments::Reason))
                    .col(timestamp_with_time_zone(PointsAdjustments::EffectiveAt))
                    .col(timestamp_with_time_zone(PointsAdjustments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_points_adjustments_season_id")
                            .from(PointsAdjustments::Table, PointsAdjustments::SeasonId)
                            .to(Seasons::Table, Seasons::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_points_adjustments_team_id")
                            .from(PointsAdjustments::Table, PointsAdjustments::TeamId)
                            .to(Teams::Table, Teams::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "idx_points_adjustments_season_id",
            PointsAdjustments::Table,
            [PointsAdjustments::SeasonId],
            false,
        )
        .await?;

        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PointsAdjustments::Table.into_iden(),
            MatchEvents::Table.into_iden(),
            Matches::Table.into_iden(),
            Teams::Table.into_iden(),
            Seasons::Table.into_iden(),
            Competitions::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Competitions {
    Table,
    Id,
    Code,
    Name,
    Area,
    Kind,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Seasons {
    Table,
    Id,
    CompetitionId,
    Label,
    StartDate,
    EndDate,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
    Name,
    ShortName,
    Tla,
    Area,
    Founded,
    Venue,
    CrestUrl,
    Slug,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Matches {
    Table,
    Id,
    SeasonId,
    Round,
    Matchday,
    Stage,
    HomeTeamId,
    AwayTeamId,
    KickoffAt,
    KickoffTimeKnown,
    Status,
    HomeScore,
    AwayScore,
    HalfTimeHome,
    HalfTimeAway,
    ExtraTimeHome,
    ExtraTimeAway,
    PenaltiesHome,
    PenaltiesAway,
    Minute,
    LastEventSeq,
    ExternalSource,
    ExternalRef,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MatchEvents {
    Table,
    Id,
    MatchId,
    Seq,
    Kind,
    Minute,
    AddedTime,
    TeamId,
    Player,
    Detail,
    ExternalId,
    Cancelled,
    CancelledReason,
    CorrectsEventId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PointsAdjustments {
    Table,
    Id,
    SeasonId,
    TeamId,
    Points,
    Reason,
    EffectiveAt,
    CreatedAt,
}
