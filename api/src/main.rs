use clap::{Parser, Subcommand};
use service::Config;

use api::ServeOptions;

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
    /// Create an account with any role, e.g. the first admin:
    /// `api create-user --email you@example.com --role admin`.
    CreateUser(api::admin::CreateUserArgs),
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
        Command::CreateUser(args) => api::admin::create_user(&cli.config, &cli.serve, args).await,
    };
    if let Err(err) = result {
        // One line, no backtrace: the message names what to fix.
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

async fn serve(config: Config, options: ServeOptions) -> anyhow::Result<()> {
    service::telemetry::init(&config);
    let app = api::App::start(config, options).await?;
    tracing::info!("GraphiQL: {}", app.graphiql_url());
    app.run_until(service::shutdown::signal()).await
}
