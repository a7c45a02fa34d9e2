use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use service::Config;
use service::notifications::period::DigestKind;
use tokio_util::sync::CancellationToken;

/// InTheGame's background worker: digests, live alerts, kick-off reminders
/// and their delivery. Without a subcommand it runs until stopped.
#[derive(Parser)]
#[command(name = "worker", version, about)]
struct Cli {
    #[command(flatten)]
    config: Config,

    /// Serve `/metrics` (Prometheus) and `/health` on this port, on `HOST`.
    /// Unset: no HTTP server.
    #[arg(long, env = "METRICS_PORT", global = true)]
    metrics_port: Option<u16>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Exit 0 when this machine's worker answers `/health` with 200 on
    /// `METRICS_PORT`, else 1: a container healthcheck that needs no
    /// tools in the image.
    Healthcheck,
    /// Run the digest dispatcher once as if it were `--as-of`, and queue
    /// a digest job for each user whose digest is due then (for back-fills
    /// and checks). Running workers send them; a period already handled is
    /// never sent again.
    Digest {
        #[arg(long, value_enum)]
        kind: Kind,
        /// The instant to dispatch as of, RFC 3339, e.g. 2026-03-29T06:00:00Z.
        #[arg(long, value_parser = parse_instant)]
        as_of: DateTime<Utc>,
        /// Only this user (by email address).
        #[arg(long)]
        user: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    Daily,
    Weekly,
}

fn parse_instant(raw: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("expected an RFC 3339 instant such as 2026-03-29T06:00:00Z: {e}"))
}

#[tokio::main]
async fn main() {
    let cli: Cli = service::cli::parse_or_exit();
    if let Err(err) = run(cli).await {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    if let Some(Command::Healthcheck) = cli.command {
        let port = cli
            .metrics_port
            .ok_or_else(|| anyhow::anyhow!("METRICS_PORT: the healthcheck needs it"))?;
        return service::healthcheck::check(config.host, port, "/health").await;
    }
    let telemetry = service::telemetry::init(&config, "worker");
    let result = work(cli.command, cli.metrics_port, config).await;
    telemetry.shutdown().await;
    result
}

async fn work(
    command: Option<Command>,
    metrics_port: Option<u16>,
    config: Config,
) -> anyhow::Result<()> {
    let db = service::db::connect(&config.database_url, config.pool_options()).await?;
    let bus = match &config.bus_redis() {
        Some(url) => {
            let client = service::redis::connect(url).await?;
            service::live::bus::Bus::redis(client, url, &config.bus_channel_prefix).await?
        }
        None => service::live::bus::Bus::in_process(),
    };
    let ctx = worker::Context::connect(&config, db, bus).await?;
    match command {
        None => {
            let shutdown = CancellationToken::new();
            let stop = shutdown.clone();
            let signal = service::shutdown::signal();
            tokio::spawn(async move {
                signal.await;
                stop.cancel();
            });
            if let Some(port) = metrics_port {
                serve_metrics(&ctx, config.host, port, shutdown.clone()).await?;
            }
            worker::run(ctx, shutdown).await
        }
        Some(Command::Healthcheck) => Ok(()),
        Some(Command::Digest { kind, as_of, user }) => {
            let kind = match kind {
                Kind::Daily => DigestKind::Daily,
                Kind::Weekly => DigestKind::Weekly,
            };
            let user_id = match &user {
                Some(email) => Some(
                    service::accounts::find_by_email(&ctx.db, email)
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("--user: no account has the email {email}"))?
                        .id,
                ),
                None => None,
            };
            let started = std::time::Instant::now();
            let queued = worker::jobs::digest::dispatch_due(&ctx, kind, as_of, user_id).await?;
            println!(
                "queued {queued} {} digest job(s) as of {as_of} in {:.1} ms",
                kind.as_str(),
                started.elapsed().as_secs_f64() * 1000.0
            );
            if let (Some(user_id), Some(email)) = (user_id, &user) {
                use service::notifications::digest;
                if queued == 0 {
                    let catch_up = ctx.settings.digest_catch_up;
                    let why = digest::why_not_due(&ctx.db, kind, as_of, catch_up, user_id).await?;
                    println!("none for {email}: {why}");
                } else if !digest::follows_anything(&ctx.db, user_id).await? {
                    println!(
                        "{email} follows no team, competition or match, so the digest will have nothing to report"
                    );
                }
            }
            Ok(())
        }
    }
}

/// `/metrics` and `/health` for the worker, until `shutdown`.
async fn serve_metrics(
    ctx: &worker::Context,
    host: std::net::IpAddr,
    port: u16,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    use axum::http::{StatusCode, header};
    use axum::routing::get;

    let mut registry = prometheus_client::registry::Registry::with_prefix("inthegame");
    ctx.register_metrics(&mut registry);
    ctx.bus.register_metrics(&mut registry);
    let registry = std::sync::Arc::new(registry);
    let scraped = ctx.clone();
    let supervision = ctx.supervision.clone();
    let router = axum::Router::new()
        .route(
            "/health",
            get(move || {
                let report = supervision.report();
                async move {
                    // Before the loops start, and after they stop, there is nothing down.
                    let (up, loops) = report.unwrap_or((true, serde_json::json!({})));
                    let status = if up {
                        StatusCode::OK
                    } else {
                        StatusCode::SERVICE_UNAVAILABLE
                    };
                    let body = serde_json::json!({
                        "status": if up { "ok" } else { "down" },
                        "workers": loops,
                    });
                    (status, axum::Json(body))
                }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                let registry = registry.clone();
                let ctx = scraped.clone();
                async move {
                    ctx.refresh_metrics().await;
                    match worker::metrics::encode(&registry) {
                        Some(body) => (
                            StatusCode::OK,
                            [(
                                header::CONTENT_TYPE,
                                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                            )],
                            body,
                        ),
                        None => (
                            StatusCode::INTERNAL_SERVER_ERROR,
                            [(header::CONTENT_TYPE, "text/plain")],
                            String::new(),
                        ),
                    }
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind((host, port))
        .await
        .map_err(|e| anyhow::anyhow!("METRICS_PORT: cannot listen on {host}:{port}: {e}"))?;
    tracing::info!(addr = %listener.local_addr()?, "metrics served");
    tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
        if let Err(err) = served {
            tracing::warn!(error = %err, "the metrics server stopped");
        }
    });
    Ok(())
}
