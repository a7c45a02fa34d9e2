use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use service::Config;
use service::import::{CompetitionCode, CompetitionName, ImportOptions};
use service::values::{SeasonLabel, TimeZone};

use api::ServeOptions;

/// jemalloc: on the read path glibc's malloc and free took over a quarter of
/// the CPU; see `bench/read/README.md`.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// InTheGame's GraphQL API server.
#[derive(Parser)]
#[command(name = "api", version, about)]
struct Cli {
    #[command(flatten)]
    config: Config,

    #[command(flatten)]
    serve: ServeOptions,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Print the GraphQL schema (SDL) to stdout.
    PrintSchema,
    /// Apply pending database migrations and exit, for deployments that
    /// migrate as a separate step before starting replicas with
    /// `SKIP_MIGRATIONS=true`. Safe to run while replicas start: migrations
    /// take a lock and run once.
    Migrate,
    /// Exit 0 when the server on `HOST`/`PORT` of this machine answers
    /// `/ready` with 200, else 1: a container healthcheck that needs no
    /// tools in the image.
    Healthcheck,
    /// Create an account with any role, e.g. the first admin:
    /// `api create-user --email you@example.com --role admin`.
    CreateUser(api::admin::CreateUserArgs),
    /// Import an openfootball season file into the database (migrating it
    /// first), then print what was created, updated, unchanged and skipped.
    Import(ImportArgs),
}

#[derive(clap::Args)]
struct ImportArgs {
    /// The openfootball JSON file, such as `2023-24/en.1.json`.
    file: PathBuf,

    /// The competition's code, such as `PL`; created when new.
    #[arg(long, value_parser = CompetitionCode::parse)]
    competition_code: CompetitionCode,

    /// The season the file holds, `YYYY/YY`, such as `2023/24`.
    #[arg(long, value_parser = SeasonLabel::parse)]
    season: SeasonLabel,

    /// The IANA time zone of the file's local kick-off times, such as
    /// `Europe/London`.
    #[arg(long, value_parser = TimeZone::parse)]
    timezone: TimeZone,

    /// The competition's name. Default: the file's `name` without its season.
    #[arg(long, value_parser = CompetitionName::parse)]
    competition_name: Option<CompetitionName>,

    /// League or cup. Default: cup when any round is not a numbered matchday.
    #[arg(long, value_enum)]
    kind: Option<Kind>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    League,
    Cup,
}

#[tokio::main]
async fn main() {
    let cli: Cli = service::cli::parse_or_exit();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::PrintSchema => {
            print!("{}", api::graphql::sdl());
            Ok(())
        }
        Command::Serve => serve(cli.config, cli.serve).await,
        Command::Migrate => migrate(cli.config).await,
        Command::Healthcheck => {
            service::healthcheck::check(cli.config.host, cli.config.port, "/ready").await
        }
        Command::CreateUser(args) => api::admin::create_user(&cli.config, &cli.serve, args).await,
        Command::Import(args) => import(cli.config, args).await,
    };
    if let Err(err) = result {
        // One line, no backtrace: the message names what to fix.
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

async fn serve(config: Config, options: ServeOptions) -> anyhow::Result<()> {
    let telemetry = service::telemetry::init(&config, "api");
    // Listening for the signal before saying we serve.
    let stop = service::shutdown::signal();
    let served = async {
        let app = api::App::start(config, options).await?;
        tracing::info!("GraphiQL: {}", app.graphiql_url());
        app.run_until(stop).await
    }
    .await;
    telemetry.shutdown().await;
    served
}

/// Logs go to stderr through telemetry; the last line on stdout says what
/// the database's schema is now.
async fn migrate(config: Config) -> anyhow::Result<()> {
    let telemetry = service::telemetry::init(&config, "api");
    let migrated = async {
        let db = service::db::connect(&config.database_url, config.pool_options()).await?;
        service::db::migrate(&db).await?;
        let applied = service::db::applied_migrations(&db).await?;
        println!(
            "the database schema is up to date: {} migration(s) applied, the last {}",
            applied.len(),
            applied.last().map_or("none", String::as_str)
        );
        db.close().await.ok();
        anyhow::Ok(())
    }
    .await;
    telemetry.shutdown().await;
    migrated
}

/// Telemetry stays off: the report on stdout and one error line on stderr
/// are this command's whole output.
async fn import(config: Config, args: ImportArgs) -> anyhow::Result<()> {
    let source_name = args.file.display().to_string();
    let json = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {source_name}"))?;
    let mut options = ImportOptions::new(args.competition_code, args.season, args.timezone);
    options.competition_name = args.competition_name;
    options.kind = args.kind.map(|kind| match kind {
        Kind::League => entity::CompetitionKind::League,
        Kind::Cup => entity::CompetitionKind::Cup,
    });
    let db = service::db::connect(&config.database_url, config.pool_options()).await?;
    service::db::migrate(&db).await?;
    let report = service::import::import_openfootball(&db, &source_name, &json, &options).await?;
    print!("{report}");
    db.close().await.ok();
    Ok(())
}
