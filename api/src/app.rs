//! Starting and stopping the server: connections, migrations, the router and
//! (on the embedded default) the worker loop inside this process.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use sea_orm::DatabaseConnection;
use service::Config;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::graphql::{self, AccountSettings, AppSchema};
use crate::rate_limit::RateLimits;

/// Options that only the server has.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ServeOptions {
    /// Do not apply pending database migrations on start.
    #[arg(long, env = "SKIP_MIGRATIONS", default_value_t = false)]
    pub skip_migrations: bool,

    /// Run the worker inside this process. Defaults to on without
    /// `REDIS_URL` (the embedded default) and off with it, where separate
    /// `worker` processes do the work.
    #[arg(long, env = "EMBEDDED_WORKER")]
    pub embedded_worker: Option<bool>,
}

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub schema: AppSchema,
    pub db: DatabaseConnection,
    pub redis: Option<fred::clients::Client>,
    pub limits: Arc<RateLimits>,
}

/// A started server, bound to its address but not yet serving.
pub struct App {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    shutdown: CancellationToken,
    worker: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl App {
    /// Connects, migrates, binds, and starts the embedded worker if asked.
    pub async fn start(config: Config, options: ServeOptions) -> anyhow::Result<Self> {
        let db = service::db::connect(&config.database_url).await?;
        if !options.skip_migrations {
            service::db::migrate(&db).await?;
        }
        let redis = match &config.redis_url {
            Some(url) => Some(service::redis::connect(url).await?),
            None => None,
        };
        let limits = Arc::new(RateLimits::from_config(&config));
        let accounts = AccountSettings::from_config(&config, limits.clone());
        let state = AppState {
            schema: graphql::build_schema(db.clone(), accounts),
            db: db.clone(),
            redis,
            limits,
        };
        let listener = TcpListener::bind((config.host, config.port))
            .await
            .with_context(|| {
                format!(
                    "HOST/PORT: cannot listen on {}:{}",
                    config.host, config.port
                )
            })?;
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let embedded = options
            .embedded_worker
            .unwrap_or(config.redis_url.is_none());
        let worker = embedded.then(|| {
            let context = worker::Context { db };
            tokio::spawn(worker::run(context, shutdown.child_token()))
        });
        Ok(Self {
            listener,
            addr,
            state,
            shutdown,
            worker,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn graphiql_url(&self) -> String {
        format!("http://{}/graphql", self.addr)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `signal` resolves, then lets in-flight requests finish
    /// and stops the embedded worker.
    pub async fn run_until(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = crate::http::router(self.state.clone());
        let shutdown = self.shutdown.clone();
        axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            signal.await;
            shutdown.cancel();
        })
        .await
        .context("serving HTTP")?;
        self.shutdown.cancel();
        if let Some(worker) = self.worker {
            worker.await.context("worker task panicked")??;
        }
        tracing::info!("stopped");
        Ok(())
    }
}
