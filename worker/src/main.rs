use clap::Parser;
use service::Config;
use tokio_util::sync::CancellationToken;

/// InTheGame's background worker.
#[derive(Parser)]
#[command(name = "worker", version, about)]
struct Cli {
    #[command(flatten)]
    config: Config,
}

#[tokio::main]
async fn main() {
    let cli: Cli = service::cli::parse_or_exit();
    if let Err(err) = run(cli.config).await {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    service::telemetry::init(&config);
    let db = service::db::connect(&config.database_url).await?;
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        service::shutdown::signal().await;
        stop.cancel();
    });
    worker::run(worker::Context { db }, shutdown).await
}
