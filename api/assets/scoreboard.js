// The live scoreboard: today's and live matches, their scores and events
// as they happen (the liveScores and matchEvents subscriptions, over one
// websocket through the graphql-ws client), and a season's standings.
'use strict';
(function () {
  const endpoint = new URL('/graphql', window.location.href);
  const socketUrl = new URL(endpoint);
  socketUrl.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';

  const IN_PLAY = ['LIVE', 'HALF_TIME', 'EXTRA_TIME', 'PENALTIES'];
  const MATCH = `id kickoffAt status minute lastEventSeq
    competition { code } season { id }
    homeTeam { name } awayTeam { name } score { home away }`;
  const EVENT_NAMES = {
    KICK_OFF: 'Kick-off', GOAL: 'Goal', OWN_GOAL: 'Own goal', PENALTY_GOAL: 'Penalty goal',
    MISSED_PENALTY: 'Missed penalty', YELLOW_CARD: 'Yellow card', SECOND_YELLOW: 'Second yellow',
    RED_CARD: 'Red card', SUBSTITUTION: 'Substitution', HALF_TIME: 'Half-time',
    SECOND_HALF: 'Second half', EXTRA_TIME: 'Extra time', PENALTY_SHOOTOUT: 'Penalty shoot-out',
    FULL_TIME: 'Full time', CORRECTION: 'VAR correction',
  };
  const STATUS_NAMES = {
    SCHEDULED: 'Scheduled', LIVE: 'Live', HALF_TIME: 'Half-time', EXTRA_TIME: 'Extra time',
    PENALTIES: 'Penalties', FINISHED: 'Full time', POSTPONED: 'Postponed',
    SUSPENDED: 'Suspended', CANCELLED: 'Cancelled',
  };

  const $ = (id) => document.getElementById(id);
  const el = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    node.append(...children);
    return node;
  };

  async function query(text, variables = {}) {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: text, variables }),
    });
    const body = await response.json();
    if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
    return body.data;
  }

  // ------------------------------------------------------------ matches

  /** id -> { match, card, events: Map(seq -> li), lastSeq, unsubscribe } */
  const shown = new Map();

  function statusText(match) {
    if (match.status === 'LIVE' && match.minute != null) return `${match.minute}'`;
    if (match.status === 'SCHEDULED') {
      return new Date(match.kickoffAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    }
    return STATUS_NAMES[match.status] || match.status;
  }

  function card(match) {
    const title = `match-${match.id}`;
    const score = el('span', { className: 'score' });
    const status = el('span', { className: 'status' });
    const node = el(
      'li',
      { className: 'match' },
      el(
        'article',
        {},
        el('p', { className: 'meta' }, el('span', { textContent: match.competition.code }), ' · ', status),
        el(
          'h3',
          { id: title },
          el('span', { className: 'home', textContent: match.homeTeam.name }),
          score,
          el('span', { className: 'away', textContent: match.awayTeam.name }),
        ),
        el('ol', { className: 'events' }),
      ),
    );
    node.firstChild.setAttribute('aria-labelledby', title);
    node.querySelector('.events').setAttribute('aria-label', 'Events');
    node.dataset.id = match.id;
    return node;
  }

  function paint(entry) {
    const { match, card: node } = entry;
    node.querySelector('.score').textContent = `${match.score.home} – ${match.score.away}`;
    node.querySelector('.score').setAttribute('aria-label', `${match.score.home} to ${match.score.away}`);
    node.querySelector('.status').textContent = statusText(match);
    node.toggleAttribute('data-live', IN_PLAY.includes(match.status));
  }

  function announce(text) {
    $('announcer').textContent = text;
  }

  /** Shows a match, or updates the one shown; follows its events while in play. */
  function upsert(match) {
    let entry = shown.get(match.id);
    if (!entry) {
      entry = { match, card: card(match), events: new Map(), lastSeq: 0, unsubscribe: null };
      shown.set(match.id, entry);
      placeCard(entry);
    } else {
      const before = entry.match;
      entry.match = match;
      const scored = before.score.home !== match.score.home || before.score.away !== match.score.away;
      if (scored || before.status !== match.status) {
        const line = `${match.homeTeam.name} ${match.score.home}, ${match.awayTeam.name} ${match.score.away}`;
        announce(scored ? `Score: ${line}` : `${STATUS_NAMES[match.status]}: ${line}`);
        entry.card.classList.remove('changed');
        void entry.card.offsetWidth; // restart the flash
        entry.card.classList.add('changed');
        if (match.season.id === $('season').value) refreshStandingsSoon();
      }
    }
    paint(entry);
    $('no-matches').hidden = shown.size > 0;
    if (IN_PLAY.includes(match.status) && !entry.unsubscribe) followEvents(entry);
    if (!IN_PLAY.includes(match.status) && match.status !== 'SCHEDULED' && entry.unsubscribe) {
      // Full time: the last events are in; stop following this match.
      setTimeout(() => stopFollowing(entry), 5000);
    }
  }

  /** Live matches first, then by kick-off. */
  function placeCard(entry) {
    const list = $('matches');
    const rank = (m) => [IN_PLAY.includes(m.status) ? 0 : 1, m.kickoffAt, Number(m.id)];
    const before = [...list.children].find((li) => {
      const other = shown.get(li.dataset.id).match;
      const [a, b] = [rank(entry.match), rank(other)];
      return a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && a[2] < b[2])));
    });
    list.insertBefore(entry.card, before || null);
  }

  function followEvents(entry) {
    entry.unsubscribe = client.subscribe(
      {
        query: `subscription($id: ID!, $after: Int!) {
          matchEvents(matchId: $id, afterSeq: $after) {
            seq kind minute addedTime player cancelled correctsEventId team { name }
          }
        }`,
        variables: { id: entry.match.id, after: entry.lastSeq },
      },
      {
        next: ({ data }) => data && showEvent(entry, data.matchEvents),
        error: () => { entry.unsubscribe = null; },
        complete: () => { entry.unsubscribe = null; },
      },
    );
  }

  function stopFollowing(entry) {
    if (entry.unsubscribe) entry.unsubscribe();
    entry.unsubscribe = null;
  }

  function showEvent(entry, event) {
    // After a reconnect the client resubscribes from the first afterSeq;
    // what was already shown is skipped, so nothing appears twice.
    if (event.seq <= entry.lastSeq) return;
    entry.lastSeq = event.seq;
    if (event.kind === 'CORRECTION') {
      for (const li of entry.events.values()) {
        if (li.dataset.eventId === event.correctsEventId) li.classList.add('cancelled');
      }
    }
    const minute = event.minute == null ? '' : `${event.minute}${event.addedTime ? `+${event.addedTime}` : ''}'`;
    const who = [event.player, event.team && event.team.name].filter(Boolean);
    const li = el(
      'li',
      { className: event.cancelled ? 'cancelled' : '' },
      el('span', { className: 'minute', textContent: minute }),
      EVENT_NAMES[event.kind] || event.kind,
      who.length ? ` · ${who.join(', ')}` : '',
    );
    li.dataset.kind = event.kind;
    entry.events.set(event.seq, li);
    entry.card.querySelector('.events').prepend(li);
  }

  // ---------------------------------------------------------- standings

  /** Fills the season picker; shows the league season with the most results. */
  async function loadSeasons() {
    const { competitions } = await query(`{ competitions { name kind seasons { id label
      matches(first: 1, filter: { status: [FINISHED] }) { totalCount } } } }`);
    const select = $('season');
    let best;
    for (const competition of competitions) {
      const group = el('optgroup', { label: competition.name });
      for (const season of competition.seasons) {
        group.append(el('option', { value: season.id, textContent: `${competition.name} ${season.label}` }));
        const played = season.matches.totalCount;
        if (competition.kind === 'LEAGUE' && (!best || played > best.played)) best = { id: season.id, played };
      }
      if (group.children.length) select.append(group);
    }
    if (best) select.value = best.id;
    select.addEventListener('change', () => loadStandings().catch(report));
    await loadStandings();
  }

  async function loadStandings() {
    const seasonId = $('season').value;
    if (!seasonId) return;
    const { standings } = await query(
      `query($id: ID!) { standings(seasonId: $id) {
        position team { name } played won drawn lost goalDifference points } }`,
      { id: seasonId },
    );
    const rows = standings.map((row) =>
      el(
        'tr',
        {},
        el('td', { textContent: row.position }),
        el('th', { scope: 'row', className: 'team', textContent: row.team.name }),
        el('td', { textContent: row.played }),
        ...[row.won, row.drawn, row.lost].map((n) => el('td', { className: 'wdl', textContent: n })),
        el('td', { textContent: row.goalDifference }),
        el('td', { textContent: row.points }),
      ),
    );
    document.querySelector('#standings tbody').replaceChildren(...rows);
  }

  let standingsTimer;
  function refreshStandingsSoon() {
    clearTimeout(standingsTimer);
    standingsTimer = setTimeout(() => loadStandings().catch(report), 1000);
  }

  // -------------------------------------------------------------- start

  function report(err) {
    $('connection').textContent = `Something went wrong: ${err.message}`;
  }

  const client = graphqlWs.createClient({
    url: socketUrl.href,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    on: {
      connected: () => { $('connection').textContent = 'Live: scores update as they happen.'; },
      closed: () => { $('connection').textContent = 'Reconnecting…'; },
    },
  });

  async function start() {
    const today = new Date();
    today.setHours(0, 0, 0, 0);
    const tomorrow = new Date(today);
    tomorrow.setDate(today.getDate() + 1);
    const data = await query(
      `query Board($from: DateTime!, $to: DateTime!, $inPlay: [MatchStatus!]) {
        today: matches(first: 50, filter: { from: $from, to: $to }) { nodes { ${MATCH} } }
        live: matches(first: 50, filter: { status: $inPlay }) { nodes { ${MATCH} } }
      }`,
      { from: today.toISOString(), to: tomorrow.toISOString(), inPlay: IN_PLAY },
    );
    for (const match of [...data.live.nodes, ...data.today.nodes]) upsert(match);
    $('no-matches').hidden = shown.size > 0;
    client.subscribe(
      { query: `subscription { liveScores { ${MATCH} } }` },
      {
        next: ({ data: update }) => update && upsert(update.liveScores),
        error: report,
        complete: () => {},
      },
    );
    await loadSeasons();
  }

  start().catch(report);
})();
