// Writes each scenario's request bodies for the load runs, asks both servers
// once, and fails unless both answer without errors and with the same
// content (each in its own schema's shape, brought to one form here).
import { writeFileSync } from "node:fs";
import { deepStrictEqual } from "node:assert";

const [results] = process.argv.slice(2);
const { API_URL, PEER_URL, SEASON_ID, MATCH_ID } = process.env;

const team = (t) => t.name;
const instant = (s) => new Date(s).toISOString();

const scenarios = {
  // A season page: 50 matches with both teams and the score.
  season_page: {
    ours: `{ matches(first: 50, filter: { seasonId: "${SEASON_ID}" }) { nodes { id kickoffAt status homeTeam { name } awayTeam { name } score { home away } } } }`,
    peer: `{ allMatches(first: 50, condition: { seasonId: "${SEASON_ID}" }, orderBy: [KICKOFF_AT_ASC, ROW_ID_ASC]) { nodes { rowId kickoffAt status teamByHomeTeamId { name } teamByAwayTeamId { name } homeScore awayScore } } }`,
    fromOurs: (d) => d.matches.nodes.map((m) => [m.id, instant(m.kickoffAt), m.status, team(m.homeTeam), team(m.awayTeam), m.score.home, m.score.away]),
    fromPeer: (d) => d.allMatches.nodes.map((m) => [m.rowId, instant(m.kickoffAt), m.status, team(m.teamByHomeTeamId), team(m.teamByAwayTeamId), m.homeScore, m.awayScore]),
  },
  // One match with its teams, score and every event.
  match_events: {
    ours: `{ match(id: "${MATCH_ID}") { id status homeTeam { name } awayTeam { name } score { home away } events { seq kind minute player } } }`,
    peer: `{ matchByRowId(rowId: "${MATCH_ID}") { rowId status teamByHomeTeamId { name } teamByAwayTeamId { name } homeScore awayScore matchEventsByMatchId(orderBy: SEQ_ASC) { nodes { seq kind minute player } } } }`,
    fromOurs: (d) => [d.match.id, d.match.status, team(d.match.homeTeam), team(d.match.awayTeam), d.match.score.home, d.match.score.away, d.match.events],
    fromPeer: (d) => {
      const m = d.matchByRowId;
      return [m.rowId, m.status, team(m.teamByHomeTeamId), team(m.teamByAwayTeamId), m.homeScore, m.awayScore, m.matchEventsByMatchId.nodes];
    },
  },
  // The league table: ours alone (PostGraphile has no such field).
  standings: {
    ours: `{ standings(seasonId: "${SEASON_ID}") { position team { name } played won drawn lost goalsFor goalsAgainst points form } }`,
    fromOurs: (d) => {
      if (d.standings.length !== 20 || d.standings[0].played !== 38) throw new Error("unexpected table");
      return d.standings;
    },
  },
  // The cost of a request alone.
  typename: {
    ours: "{ __typename }",
    peer: "{ __typename }",
    fromOurs: (d) => d.__typename,
    fromPeer: (d) => d.__typename,
  },
};

async function ask(url, query) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ query }),
  });
  const body = await response.json();
  if (response.status !== 200 || body.errors) {
    throw new Error(`${url}: ${response.status} ${JSON.stringify(body).slice(0, 500)}`);
  }
  return body.data;
}

for (const [name, s] of Object.entries(scenarios)) {
  writeFileSync(`${results}/api-${name}.json`, JSON.stringify({ query: s.ours }));
  const ours = s.fromOurs(await ask(API_URL, s.ours));
  if (!s.peer) {
    console.error(`${name}: ours answers (no peer)`);
    continue;
  }
  writeFileSync(`${results}/peer-${name}.json`, JSON.stringify({ query: s.peer }));
  const theirs = s.fromPeer(await ask(PEER_URL, s.peer));
  deepStrictEqual(ours, theirs, `${name}: the servers disagree`);
  console.error(`${name}: same content (${JSON.stringify(ours).length} bytes compared)`);
}
