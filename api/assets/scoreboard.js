// The live scoreboard: today's and live matches, their scores and events
// as they happen (the liveScores and matchEvents subscriptions, over one
// websocket through the graphql-ws client), and a season's tables (one per
// group), knockout bracket and a team's scorers; "Notify me" on a team
// signs in (or registers), follows the team and subscribes this browser
// to its alerts by Web Push (the service worker is /push-sw.js).
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

  // The signed-in account's bearer token, for "Notify me"; kept for this
  // browser so a second team needs no second sign-in.
  const TOKEN_KEY = 'inthegame.token';
  const token = () => window.localStorage.getItem(TOKEN_KEY);

  async function query(text, variables = {}, { auth = false } = {}) {
    const headers = { 'content-type': 'application/json', accept: 'application/json' };
    if (auth && token()) headers.authorization = `Bearer ${token()}`;
    const response = await fetch(endpoint, {
      method: 'POST',
      headers,
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

  // ------------------------------------------- tables, bracket, scorers

  /** Fills the season picker and opens the current season. */
  async function loadSeasons() {
    const { competitions } = await query(`{ competitions { name seasons { id label startDate endDate } } }`);
    const select = $('season');
    const today = new Date().toISOString().slice(0, 10);
    const playing = new Set(
      [...shown.values()].filter((e) => IN_PLAY.includes(e.match.status)).map((e) => e.match.season.id),
    );
    const all = [];
    for (const competition of competitions) {
      const group = el('optgroup', { label: competition.name });
      for (const season of competition.seasons) {
        group.append(el('option', { value: season.id, textContent: `${competition.name} ${season.label}` }));
        all.push(season);
      }
      if (group.children.length) select.append(group);
    }
    // The season under way today; else one with a match in play; else the
    // one that began last.
    const current =
      all.find((s) => s.startDate && s.endDate && s.startDate <= today && today <= s.endDate) ||
      all.find((s) => playing.has(s.id)) ||
      [...all].sort((a, b) => (b.startDate || '').localeCompare(a.startDate || ''))[0];
    if (current) select.value = current.id;
    select.addEventListener('change', () => loadSeason().catch(report));
    await loadSeason();
  }

  async function loadSeason() {
    const seasonId = $('season').value;
    if (!seasonId) return;
    const { season } = await query(
      `query($id: ID!) { season(id: $id) {
        tables { stage group rows { position team { id name } played won drawn lost goalDifference points } }
        bracket { name ties { teamA { id name } teamB { id name } aggregate { teamA teamB }
          penalties { teamA teamB } status winner { id } winnerInferred } } } }`,
      { id: seasonId },
    );
    // A season picked while this one loaded wins: its answer may come first.
    if (!season || $('season').value !== seasonId) return;
    $('tables').replaceChildren(...season.tables.map((table) => standingsTable(table, season.tables.length)));
    $('bracket').replaceChildren(...season.bracket.map(bracketRound));
    $('bracket-title').hidden = season.bracket.length === 0;
  }

  const HEAD = [
    ['#', 'Position'], ['Team', null], ['P', 'Played'], ['W', 'Won'], ['D', 'Drawn'],
    ['L', 'Lost'], ['GD', 'Goal difference'], ['Pts', 'Points'],
  ];

  function standingsTable(table, count) {
    const name = [table.stage, table.group].filter(Boolean).join(' · ');
    const head = el(
      'tr',
      {},
      ...HEAD.map(([text, title]) =>
        el(
          'th',
          { scope: 'col', className: title === null ? 'team' : ['Won', 'Drawn', 'Lost'].includes(title) ? 'wdl' : '' },
          title ? el('abbr', { title, textContent: text }) : text,
        ),
      ),
    );
    const rows = table.rows.map((row) =>
      el(
        'tr',
        {},
        el('td', { textContent: row.position }),
        el(
          'th',
          { scope: 'row', className: 'team' },
          el('button', {
            type: 'button',
            className: 'link',
            textContent: row.team.name,
            onclick: () => loadScorers(row.team).catch(report),
          }),
          notifyButton(row.team),
        ),
        el('td', { textContent: row.played }),
        ...[row.won, row.drawn, row.lost].map((n) => el('td', { className: 'wdl', textContent: n })),
        el('td', { textContent: row.goalDifference }),
        el('td', { textContent: row.points }),
      ),
    );
    const caption = count > 1 || name ? el('caption', { textContent: name || 'Table' }) : '';
    return el(
      'div',
      { className: 'table-wrap' },
      el('table', { className: 'standings' }, caption, el('thead', {}, head), el('tbody', {}, ...rows)),
    );
  }

  function bracketRound(round) {
    const score = (pair) => (pair ? `${pair.teamA} – ${pair.teamB}` : '–');
    const side = (team, tie) =>
      el('span', {
        className: tie.winner && tie.winner.id === team.id ? 'team winner' : 'team',
        textContent: team.name,
      });
    const ties = round.ties.map((tie) => {
      const notes = [];
      if (tie.penalties) notes.push(`pens ${score(tie.penalties)}`);
      if (tie.winnerInferred) notes.push('winner from who played on');
      if (tie.status === 'UNRESOLVED') notes.push('winner unknown');
      const li = el(
        'li',
        { className: 'tie' },
        side(tie.teamA, tie),
        el('span', { className: 'aggregate', textContent: score(tie.aggregate) }),
        side(tie.teamB, tie),
        notes.length ? el('small', { className: 'notes', textContent: notes.join(' · ') }) : '',
      );
      li.dataset.status = tie.status;
      return li;
    });
    return el(
      'section',
      { className: 'round' },
      el('h4', { textContent: round.name }),
      el('ol', { className: 'ties' }, ...ties),
    );
  }

  async function loadScorers(team) {
    const { scorers } = await query(
      `query($s: ID!, $t: ID!) { scorers(seasonId: $s, teamId: $t) {
        player goals penalties assists yellowCards redCards } }`,
      { s: $('season').value, t: team.id },
    );
    $('scorers-title').textContent = `Scorers: ${team.name}`;
    $('scorers').hidden = false;
    const list = scorers.filter((line) => line.goals || line.assists);
    $('scorers-list').replaceChildren(
      ...list.map((line) => {
        const detail = [
          line.penalties ? `${line.penalties} pen.` : '',
          line.assists ? `${line.assists} assist${line.assists === 1 ? '' : 's'}` : '',
        ].filter(Boolean);
        return el(
          'li',
          {},
          el('span', { className: 'player', textContent: line.player }),
          el('span', { className: 'goals', textContent: line.goals }),
          detail.length ? el('small', { textContent: ` (${detail.join(', ')})` }) : '',
        );
      }),
    );
    $('no-scorers').hidden = list.length > 0;
  }

  // -------------------------------------------------------- notify me

  const pushSupported = 'serviceWorker' in navigator && 'PushManager' in window;
  // The server's VAPID key, asked once: a server without one sends no Web
  // Push, and then no team offers "Notify me".
  let pushKey = null;
  function webPushKey() {
    pushKey ??= query('{ webPushPublicKey }')
      .then((data) => data.webPushPublicKey)
      .catch(() => null);
    return pushKey;
  }

  function notifyButton(team) {
    if (!pushSupported) return '';
    const button = el('button', {
      type: 'button',
      className: 'notify',
      textContent: 'Notify me',
      title: `Alerts for ${team.name} on this device`,
    });
    button.hidden = true;
    webPushKey().then((key) => {
      button.hidden = !key;
    });
    button.setAttribute('aria-pressed', 'false');
    button.onclick = () =>
      notifyMe(team)
        .then(() => {
          button.textContent = 'Notifying';
          button.setAttribute('aria-pressed', 'true');
        })
        .catch(report);
    return button;
  }

  /** Asks for an email and password and signs in or registers. */
  function signIn(team) {
    const dialog = $('sign-in');
    $('sign-in-team').textContent = team.name;
    $('sign-in-error').hidden = true;
    return new Promise((resolve, reject) => {
      $('sign-in-cancel').onclick = () => {
        dialog.close();
        reject(new Error('not signed in'));
      };
      $('sign-in-form').onsubmit = async (submit) => {
        submit.preventDefault();
        const email = $('sign-in-email').value;
        const password = $('sign-in-password').value;
        try {
          const auth =
            submit.submitter && submit.submitter.value === 'register'
              ? (await query(
                  'mutation($i: RegisterInput!) { register(input: $i) { token } }',
                  { i: { email, password, displayName: email.split('@')[0] } },
                )).register
              : (await query(
                  'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }',
                  { e: email, p: password },
                )).login;
          window.localStorage.setItem(TOKEN_KEY, auth.token);
          dialog.close();
          resolve();
        } catch (err) {
          $('sign-in-error').textContent = err.message;
          $('sign-in-error').hidden = false;
        }
      };
      dialog.showModal();
    });
  }

  /** The server's VAPID key as pushManager.subscribe takes it. */
  function keyBytes(base64url) {
    const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
    const raw = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  async function notifyMe(team) {
    const webPushPublicKey = await webPushKey();
    if (!webPushPublicKey) throw new Error('this server does not send Web Push');
    if (!token()) await signIn(team);
    if ((await Notification.requestPermission()) !== 'granted') {
      throw new Error('notifications are blocked for this site');
    }
    const registration = await navigator.serviceWorker.register('/push-sw.js', { scope: '/' });
    await navigator.serviceWorker.ready;
    const subscription =
      (await registration.pushManager.getSubscription()) ||
      (await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(webPushPublicKey),
      }));
    const { endpoint, keys } = subscription.toJSON();
    try {
      await query(
        `mutation($e: String!, $k: WebPushKeysInput!, $t: ID!) {
          subscribeWebPush(endpoint: $e, keys: $k) { id }
          followTeam(teamId: $t) { team { id } }
          updateNotificationPreferences(input: { liveAlerts: { enabled: true } }) { preferences { timeZone } }
        }`,
        { e: endpoint, k: { p256dh: keys.p256dh, auth: keys.auth }, t: team.id },
        { auth: true },
      );
    } catch (err) {
      // A token that expired or was revoked: sign in again next time.
      if (/Authorization|authentication/i.test(err.message)) window.localStorage.removeItem(TOKEN_KEY);
      throw err;
    }
  }

  let standingsTimer;
  function refreshStandingsSoon() {
    clearTimeout(standingsTimer);
    standingsTimer = setTimeout(() => loadSeason().catch(report), 1000);
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
