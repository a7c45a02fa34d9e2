-- Two more seasons cloned from the imported Premier League 2023/24 (one and
-- two years earlier), then events for every finished match: kick-off, each
-- goal with its scorer, cards, a substitution, half time, second half and
-- full time, numbered in order. Runs once, on the benchmark's own database.
WITH source AS (
  SELECT s.id, s.competition_id FROM seasons s
  JOIN competitions c ON c.id = s.competition_id
  WHERE c.code = 'PL' AND s.label = '2023/24'
), cloned AS (
  INSERT INTO seasons (competition_id, label, created_at)
  SELECT source.competition_id, v.label, now() FROM source,
         (VALUES ('2021/22'), ('2022/23')) AS v(label)
  RETURNING id, label
)
INSERT INTO matches (season_id, round, matchday, stage, home_team_id, away_team_id,
                     kickoff_at, kickoff_time_known, status, home_score, away_score,
                     half_time_home, half_time_away, last_event_seq, created_at, updated_at)
SELECT cloned.id, m.round, m.matchday, m.stage, m.home_team_id, m.away_team_id,
       m.kickoff_at - make_interval(years => 2024 - substr(cloned.label, 1, 4)::int - 1),
       m.kickoff_time_known, 'FINISHED',
       coalesce(m.home_score, (m.id % 4)::int), coalesce(m.away_score, (m.id % 3)::int),
       m.half_time_home, m.half_time_away, 0, now(), now()
FROM matches m, source, cloned
WHERE m.season_id = source.id;

INSERT INTO match_events (match_id, seq, kind, minute, team_id, player, cancelled, created_at)
SELECT m.id,
       row_number() OVER (PARTITION BY m.id ORDER BY e.minute, e.ord),
       e.kind, e.minute, e.team_id, e.player, false, now()
FROM matches m
CROSS JOIN LATERAL (
  SELECT 'KICK_OFF' AS kind, 0 AS minute, NULL::bigint AS team_id, NULL::text AS player, 0 AS ord
  UNION ALL SELECT 'GOAL', 1 + (g * 17 + m.id::int % 11) % 89, m.home_team_id, 'Home Scorer ' || g, 1
    FROM generate_series(1, m.home_score) AS g
  UNION ALL SELECT 'GOAL', 1 + (g * 23 + m.id::int % 7) % 89, m.away_team_id, 'Away Scorer ' || g, 1
    FROM generate_series(1, m.away_score) AS g
  UNION ALL SELECT 'YELLOW_CARD', 20 + m.id::int % 25, m.home_team_id, 'Booked Home', 2
  UNION ALL SELECT 'YELLOW_CARD', 50 + m.id::int % 30, m.away_team_id, 'Booked Away', 2
  UNION ALL SELECT 'HALF_TIME', 45, NULL, NULL, 3
  UNION ALL SELECT 'SECOND_HALF', 46, NULL, NULL, 0
  UNION ALL SELECT 'SUBSTITUTION', 60 + m.id::int % 20, m.away_team_id, 'Sub On', 2
  UNION ALL SELECT 'FULL_TIME', 90, NULL, NULL, 9
) AS e
WHERE m.status = 'FINISHED';

UPDATE matches m SET last_event_seq = e.last
FROM (SELECT match_id, max(seq) AS last FROM match_events GROUP BY match_id) AS e
WHERE e.match_id = m.id;

ANALYZE;
