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

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
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
    service::telemetry::init(&config);
    let db = service::db::connect(&config.database_url).await?;
    let bus = match &config.redis_url {
        Some(url) => {
            let client = service::redis::connect(url).await?;
            service::live::bus::Bus::redis(client, url, &config.bus_channel_prefix).await?
        }
        None => service::live::bus::Bus::in_process(),
    };
    let ctx = worker::Context::connect(&config, db, bus).await?;
    match cli.command {
        None => {
            let shutdown = CancellationToken::new();
            let stop = shutdown.clone();
            tokio::spawn(async move {
                service::shutdown::signal().await;
                stop.cancel();
            });
            worker::run(ctx, shutdown).await
        }
        Some(Command::Digest { kind, as_of, user }) => {
            let kind = match kind {
                Kind::Daily => DigestKind::Daily,
                Kind::Weekly => DigestKind::Weekly,
            };
            let user_id = match user {
                Some(email) => Some(
                    service::accounts::find_by_email(&ctx.db, &email)
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("--user: no account has the email {email}"))?
                        .id,
                ),
                None => None,
            };
            let queued = worker::jobs::digest::dispatch_due(&ctx, kind, as_of, user_id).await?;
            println!(
                "queued {queued} {} digest job(s) as of {as_of}",
                kind.as_str()
            );
            Ok(())
        }
    }
}
