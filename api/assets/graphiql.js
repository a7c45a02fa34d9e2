// GraphiQL for InTheGame: queries and mutations over HTTP POST,
// subscriptions over a websocket (graphql-transport-ws, through the
// graphql-ws client). Served from the api itself, like every script here.
'use strict';
(function () {
  const endpoint = new URL('/graphql', window.location.href);
  const socketUrl = new URL(endpoint);
  socketUrl.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';

  // The Headers tab's headers of the latest request. A websocket cannot
  // carry headers, so its Authorization goes in connection_init instead.
  let headers = {};
  const authorization = () => {
    const name = Object.keys(headers).find((h) => h.toLowerCase() === 'authorization');
    return name ? { authorization: headers[name] } : {};
  };
  // Lazy: the socket opens with the first subscription and closes after
  // the last, so the next one connects with the headers then in the tab.
  const wsClient = graphqlWs.createClient({
    url: socketUrl.href,
    lazy: true,
    connectionParams: authorization,
  });
  const fetchGraphQL = GraphiQL.createFetcher({ url: endpoint.href, wsClient });
  // GraphiQL's own fetcher sends an anonymous subscription over HTTP
  // (it only recognises named ones), so this one picks the socket itself.
  const fetcher = (params, options) => {
    headers = (options && options.headers) || {};
    if (operationType(params.query, params.operationName) === 'subscription') {
      return wsClient.iterate(params);
    }
    return fetchGraphQL(params, options);
  };

  /**
   * The type of the operation a document runs: the one named, or its only
   * one. Reads the top level only, skipping strings and comments, so a
   * field or variable called `query` does not count.
   */
  function operationType(query, operationName) {
    const tokens =
      String(query).match(/"""[\s\S]*?"""|"(?:\\.|[^"\\])*"|#[^\n]*|[{}()]|\$?[_A-Za-z]\w*/g) || [];
    const operations = [];
    let braces = 0;
    let parens = 0;
    let keyword; // of the top-level definition being read, until its `{`
    tokens.forEach((token, i) => {
      if (token === '(') parens += 1;
      else if (token === ')') parens -= 1;
      else if (parens > 0) return; // variable defaults and directive arguments
      else if (token === '}') braces -= 1;
      else if (token === '{') {
        if (braces === 0 && !keyword) operations.push({ type: 'query' }); // `{ … }`
        if (braces === 0) keyword = undefined;
        braces += 1;
      } else if (braces === 0 && !keyword && /^(query|mutation|subscription|fragment)$/.test(token)) {
        keyword = token;
        const name = /^[_A-Za-z]/.test(tokens[i + 1] || '') ? tokens[i + 1] : undefined;
        if (token !== 'fragment') operations.push({ type: token, name });
      }
    });
    const chosen = operationName
      ? operations.find((op) => op.name === operationName)
      : operations.length === 1 && operations[0];
    return chosen ? chosen.type : undefined;
  }

  const defaultQuery = `# Welcome to InTheGame. Press the run button (or Ctrl-Enter).
# Subscriptions run over a websocket: try liveScores with --demo running.
{
  matches(first: 10, filter: { competitionCode: "PL" }) {
    totalCount
    nodes {
      id
      kickoffAt
      status
      homeTeam { name }
      awayTeam { name }
      score { home away }
    }
  }
}
`;

  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultQuery,
      defaultEditorToolsVisibility: true,
    }),
  );
})();
