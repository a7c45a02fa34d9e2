# Multi-stage build: one image holds both binaries; compose picks the command.
#
# The dependencies build in a layer of their own, from the manifests and
# the lock file alone, so an edit to the code rebuilds only our crates.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY entity/Cargo.toml entity/
COPY migration/Cargo.toml migration/
COPY service/Cargo.toml service/
COPY api/Cargo.toml api/
COPY worker/Cargo.toml worker/
COPY test-support/Cargo.toml test-support/
COPY bench/fanout/Cargo.toml bench/fanout/
COPY bench/notify/Cargo.toml bench/notify/
COPY bench/read/floor/Cargo.toml bench/read/floor/
# A patched dependency (vendor/lettre/PATCHED.md) builds with the others.
COPY vendor/ vendor/
# Empty crates with the real manifests: building them compiles every
# dependency (the layer Docker keeps), then the stand-ins go.
RUN for crate in entity migration service api worker test-support bench/fanout bench/notify bench/read/floor; do \
      mkdir -p "$crate/src" \
      && echo 'fn main() {}' > "$crate/src/main.rs" \
      && touch "$crate/src/lib.rs"; \
    done \
 && cargo build --release --locked -p api -p worker \
 && rm -rf entity migration service api worker test-support bench \
      target/release/.fingerprint/entity-* target/release/.fingerprint/migration-* \
      target/release/.fingerprint/service-* target/release/.fingerprint/api-* \
      target/release/.fingerprint/worker-*
COPY . .
RUN cargo build --release --locked -p api -p worker

# No shell tools needed: the binaries check their own health
# (`api healthcheck`, `worker healthcheck`).
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /app inthegame
WORKDIR /app
COPY --from=build /src/target/release/api /src/target/release/worker /usr/local/bin/
USER inthegame
ENV HOST=0.0.0.0 PORT=8002 LOG_FORMAT=json
EXPOSE 8002
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=5 CMD ["api", "healthcheck"]
CMD ["api"]
