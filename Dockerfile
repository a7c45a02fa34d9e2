# Multi-stage build: one image holds both binaries; compose picks the command.
# curl is there for compose's healthchecks (/ready, the worker's /health).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p api -p worker

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /app inthegame
WORKDIR /app
COPY --from=build /src/target/release/api /src/target/release/worker /usr/local/bin/
USER inthegame
ENV HOST=0.0.0.0 PORT=8002 LOG_FORMAT=json
EXPOSE 8002
CMD ["api"]
