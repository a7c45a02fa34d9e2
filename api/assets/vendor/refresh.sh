#!/usr/bin/env bash
# Re-vendors GraphiQL, React, ReactDOM and the graphql-ws browser client
# from npm. Edit the versions, run it, update README.md's table and the
# file names in api/src/http/pages.rs, then check /graphql in a browser
# (the browser tests in e2e/ do).
set -euo pipefail
cd "$(dirname "$0")"

GRAPHIQL=3.9.0      # the last release with a UMD bundle (4.x is ESM only)
REACT=18.3.1        # the last React with UMD builds (19 has none)
GRAPHQL_WS=6.0.6

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" \
  "react-dom@$REACT" "graphql-ws@$GRAPHQL_WS" >/dev/null)
for tgz in "$work"/*.tgz; do
  mkdir -p "${tgz%.tgz}" && tar xzf "$tgz" -C "${tgz%.tgz}"
done

rm -f ./*.js ./*.css
# The source-map comments point at files not vendored; drop them so a
# browser's developer tools do not ask for them.
copy() { grep -v '^//# sourceMappingURL=' "$1" >"$2" || true; }
copy "$work/graphiql-$GRAPHIQL/package/graphiql.min.js" "graphiql-$GRAPHIQL.min.js"
copy "$work/graphiql-$GRAPHIQL/package/graphiql.min.css" "graphiql-$GRAPHIQL.min.css"
copy "$work/react-$REACT/package/umd/react.production.min.js" "react-$REACT.production.min.js"
copy "$work/react-dom-$REACT/package/umd/react-dom.production.min.js" "react-dom-$REACT.production.min.js"
copy "$work/graphql-ws-$GRAPHQL_WS/package/umd/graphql-ws.min.js" "graphql-ws-$GRAPHQL_WS.min.js"
sha256sum ./*.js ./*.css
