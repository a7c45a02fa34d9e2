//! Operator commands that run against the database directly, such as
//! creating the first admin before anyone can sign in to make one.

use std::io::IsTerminal as _;

use anyhow::Context as _;
use entity::UserRole;
use service::Config;

use crate::ServeOptions;

/// A role as typed on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleArg {
    User,
    Feed,
    Admin,
}

impl From<RoleArg> for UserRole {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::User => UserRole::User,
            RoleArg::Feed => UserRole::Feed,
            RoleArg::Admin => UserRole::Admin,
        }
    }
}

/// `api create-user`: makes an account with any role.
#[derive(Clone, Debug, clap::Args)]
pub struct CreateUserArgs {
    /// The account's email address.
    #[arg(long)]
    pub email: String,

    /// What the account may do.
    #[arg(long, value_enum, default_value = "user", ignore_case = true)]
    pub role: RoleArg,

    /// Defaults to the part of the email before the @.
    #[arg(long)]
    pub display_name: Option<String>,

    /// IANA time zone, e.g. Europe/London.
    #[arg(long, default_value = "UTC")]
    pub time_zone: String,

    /// The password. Left out, it is asked for on the terminal, which keeps
    /// it out of the shell history and the process list.
    #[arg(long)]
    pub password: Option<String>,
}

/// Creates the account and prints one line about it.
pub async fn create_user(
    config: &Config,
    options: &ServeOptions,
    args: CreateUserArgs,
) -> anyhow::Result<()> {
    let password = match args.password {
        Some(password) => password,
        None => prompt_password()?,
    };
    let db = service::db::connect(&config.database_url, config.pool_options()).await?;
    if !options.skip_migrations {
        service::db::migrate(&db).await?;
    }
    let display_name = args
        .display_name
        .unwrap_or_else(|| args.email.split('@').next().unwrap_or_default().to_owned());
    let registration = service::accounts::Registration {
        email: args.email,
        password,
        display_name,
        time_zone: Some(args.time_zone),
    };
    let user = service::accounts::create_user(&db, registration, args.role.into())
        .await
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    println!(
        "created user {} <{}> with role {}",
        user.id,
        user.email,
        sea_orm::ActiveEnum::to_value(&user.role)
    );
    Ok(())
}

fn prompt_password() -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("no terminal to ask for the password on; pass --password");
    }
    let first = rpassword::prompt_password("Password: ").context("reading the password")?;
    let again = rpassword::prompt_password("Again: ").context("reading the password")?;
    if first != again {
        anyhow::bail!("the two passwords differ");
    }
    Ok(first)
}
