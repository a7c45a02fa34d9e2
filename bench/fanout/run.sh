#!/usr/bin/env bash
# Starts the api (one or two replicas) on a fresh database with the demo
# fixtures, creates a FEED account, and runs `fanout run` against it with
# the arguments given, printing its JSON report. Everything it starts it
# stops again.
#
#   BIN=target/release BACKEND=sqlite|postgres REPLICAS=1|2 bench/fanout/run.sh \
#     --subscribers 1000 --matches 1 --events 20 --rate 2
#
# API_BIN (default $BIN/api) runs another build of the api, to compare
# builds with the same load client.
#
# BACKEND=postgres uses PG_URL (default postgres://postgres@127.0.0.1:5432)
# with a database of its own, dropped afterwards, and REDIS_URL (default
# redis://127.0.0.1:6379) with a channel prefix of its own.
set -euo pipefail
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release}
API=${API_BIN:-$BIN/api}
BACKEND=${BACKEND:-sqlite}
REPLICAS=${REPLICAS:-1}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
REDIS=${REDIS_URL:-redis://127.0.0.1:6379}

dir=$(mktemp -d)
pids=()
db=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$db" ]; then psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

common=(env -u DATABASE_URL -u REDIS_URL HOST=127.0.0.1 PORT=0 RUST_LOG=warn,api=info
  REQUESTS_PER_IP_PER_MINUTE=0 REQUESTS_PER_TOKEN_PER_MINUTE=0 AUTH_ATTEMPTS_PER_IP_PER_MINUTE=0
  AUTH_ATTEMPTS_PER_EMAIL_PER_MINUTE=0 MAIL_OUTBOX_DIR="$dir/outbox")
if [ "$BACKEND" = postgres ]; then
  db="fanout_$$"
  psql "$PG_URL/postgres" -qc "CREATE DATABASE $db" >/dev/null
  common+=(DATABASE_URL="$PG_URL/$db?sslmode=disable" REDIS_URL="$REDIS" BUS_CHANNEL_PREFIX="fanout-$$")
else
  common+=(DATABASE_URL="sqlite://$dir/bench.db?mode=rwc")
fi

urls=()
for i in $(seq 1 "$REPLICAS"); do
  demo=false
  [ "$i" = 1 ] && demo=true
  (cd "$dir" && exec "${common[@]}" DEMO=$demo DEMO_MINUTE_MS=0 "$API" >"$dir/api-$i.log" 2>&1) &
  pids+=($!)
  url=""
  for _ in $(seq 1 120); do
    url=$(grep -o 'GraphiQL: http://[^ ]*' "$dir/api-$i.log" | head -n 1 | cut -d' ' -f2 || true)
    [ -n "$url" ] && break
    sleep 0.5
  done
  [ -n "$url" ] || { cat "$dir/api-$i.log" >&2; echo "api $i did not start" >&2; exit 1; }
  urls+=("${url%/graphql}")
done
api_pids=$(for p in "${pids[@]}"; do pgrep -P "$p" -x api || echo "$p"; done | paste -sd, -)
grep -h "descriptor budget" "$dir"/api-*.log >&2 || true

"${common[@]}" "$API" create-user --email feed@bench.local --role feed \
  --password "fan-out bench password" >/dev/null

"$BIN/fanout" run --url "$(IFS=,; echo "${urls[*]}")" --api-pid "$api_pids" \
  --email feed@bench.local --password "fan-out bench password" "$@"
