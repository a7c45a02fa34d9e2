//! Starting and stopping the server: connections, migrations, the router and
//! (on the embedded default) the worker loop inside this process.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::serve::ListenerExt as _;
use sea_orm::DatabaseConnection;
use service::Config;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::graphql::{self, AccountSettings};
use crate::rate_limit::RateLimits;

/// Options that only the server has.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ServeOptions {
    #[command(flatten)]
    pub limits: Limits,

    #[command(flatten)]
    pub response_cache: crate::http::response_cache::ResponseCacheOptions,

    #[command(flatten)]
    pub persisted_queries: crate::execution::persisted::PersistedOptions,

    /// Do not apply pending database migrations on start (for deployments
    /// that run `api migrate` as a step of their own).
    #[arg(long, env = "SKIP_MIGRATIONS", default_value_t = false)]
    pub skip_migrations: bool,

    /// Milliseconds to keep accepting requests after SIGTERM, answering
    /// `/ready` with 503 meanwhile, so that a load balancer that polls
    /// `/ready` stops sending new requests before the listener closes. 0
    /// closes it at once (right where the load balancer learns of a stop
    /// from the orchestrator, as Docker's and Kubernetes' do).
    #[arg(long, env = "SHUTDOWN_DELAY_MS", default_value_t = 0)]
    pub shutdown_delay_ms: u64,

    /// Seconds of silence after which a websocket gets the server's
    /// keep-alive ping (`ping` in graphql-transport-ws, `ka` in the legacy
    /// protocol), so proxies keep idle subscriptions open; 0 sends none.
    #[arg(long, env = "WS_KEEPALIVE_SECS", default_value_t = 15)]
    pub ws_keepalive_secs: u64,

    /// Most websockets this process holds at once; past it an upgrade is
    /// refused with HTTP 503 (`AT_CAPACITY`). Default: the open-files limit
    /// (raised to its hard limit at start) minus 256, which leaves room for
    /// plain HTTP, the database and Redis.
    #[arg(long, env = "MAX_WEBSOCKETS")]
    pub max_websockets: Option<usize>,

    /// Origins whose web pages may call `/graphql` from a browser: `*` for
    /// any (the API is public, and bearer tokens are sent by the page, not
    /// by the browser as cookies are), or a comma-separated list such as
    /// `https://app.example.com,https://admin.example.com`. `/metrics` and
    /// the probes never allow cross-origin reads.
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        default_value = "*",
        value_parser = crate::http::cors::AllowedOrigins::parse
    )]
    pub cors_allowed_origins: crate::http::cors::AllowedOrigins,

    /// Reverse proxies and load balancers allowed to say who the client is:
    /// a comma-separated list of addresses and CIDR networks, such as
    /// `10.0.0.0/8,fd00::/8`. A request from one of them is attributed
    /// (in logs and rate limits) to the address its `Forwarded` or
    /// `X-Forwarded-For` header names; from any other peer, those headers
    /// are ignored. Empty: the TCP peer is the client.
    #[arg(
        long,
        env = "TRUSTED_PROXIES",
        default_value = "",
        value_parser = crate::http::client_ip::TrustedProxies::parse
    )]
    pub trusted_proxies: crate::http::client_ip::TrustedProxies,

    /// Run the worker inside this process. Defaults to on without
    /// `REDIS_URL` or `QUEUE_REDIS_URL` (the embedded default) and off with
    /// one, where separate
    /// `worker` processes do the work.
    #[arg(long, env = "EMBEDDED_WORKER")]
    pub embedded_worker: Option<bool>,

    /// Import the bundled demo seasons (Premier League 2023/24 and 2025/26,
    /// Champions League 2024/25) on start, if the database has no matches.
    #[arg(long, env = "DEMO", default_value_t = false)]
    pub demo: bool,

    /// With `--demo`: how many milliseconds one minute of play lasts in the
    /// live replays of real matches, 0 to 60000 (real time); 0 turns the
    /// replays off.
    #[arg(long, env = "DEMO_MINUTE_MS", default_value_t = 1000, value_parser = parse_demo_minute_ms)]
    pub demo_minute_ms: u64,
}

fn parse_demo_minute_ms(raw: &str) -> Result<u64, String> {
    const RANGE: &str =
        "expected milliseconds per minute of play, from 0 (no replays) to 60000 (real time)";
    match raw.trim().parse::<u64>() {
        Ok(ms) if ms <= 60_000 => Ok(ms),
        _ => Err(RANGE.to_owned()),
    }
}

/// Bounds on what one request may cost. Each refusal is a GraphQL error
/// with its own `extensions.code`.
#[derive(Clone, Debug, clap::Args)]
pub struct Limits {
    /// Deepest nesting of selections a query may have (`QUERY_TOO_DEEP`).
    #[arg(long, env = "MAX_QUERY_DEPTH", default_value_t = 15)]
    pub max_query_depth: usize,

    /// Most a query may cost: each field is 1, and a list multiplies what
    /// it selects by its page size (`QUERY_TOO_COMPLEX`).
    #[arg(long, env = "MAX_QUERY_COMPLEXITY", default_value_t = 5000)]
    pub max_query_complexity: usize,

    /// Most lexical tokens a document may have, counted before it is
    /// parsed (`TOO_MANY_TOKENS`).
    #[arg(long, env = "MAX_QUERY_TOKENS", default_value_t = 2000)]
    pub max_query_tokens: usize,

    /// Most fields, fragment spreads and inline fragments a document may
    /// select once its fragments are expanded, counted before validation
    /// (`QUERY_TOO_COMPLEX`): stops fragments that spread each other
    /// exponentially.
    #[arg(long, env = "MAX_QUERY_SELECTIONS", default_value_t = 1000)]
    pub max_query_selections: usize,

    /// Most aliases a document may have, fragments expanded (`TOO_MANY_ALIASES`).
    #[arg(long, env = "MAX_QUERY_ALIASES", default_value_t = 50)]
    pub max_query_aliases: usize,

    /// Most directives a document may have, fragments expanded (`TOO_MANY_DIRECTIVES`).
    #[arg(long, env = "MAX_QUERY_DIRECTIVES", default_value_t = 50)]
    pub max_query_directives: usize,

    /// Largest request body, in bytes (`REQUEST_TOO_LARGE`).
    #[arg(long, env = "MAX_REQUEST_BYTES", default_value_t = 65_536)]
    pub max_request_bytes: usize,

    /// Longest a request may run, in milliseconds (`TIMEOUT`).
    #[arg(long, env = "REQUEST_TIMEOUT_MS", default_value_t = 10_000)]
    pub request_timeout_ms: u64,

    /// Seconds a client has to send a request's headers, and an idle
    /// keep-alive connection to start its next request, before the
    /// connection is closed.
    #[arg(
        long,
        env = "HEADER_READ_TIMEOUT_SECS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=300)
    )]
    pub header_read_timeout_secs: u64,

    #[command(flatten)]
    pub websocket: crate::http::ws_limits::WsLimits,

    /// Answer introspection queries (GraphiQL needs them).
    #[arg(long, env = "INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_query_depth: 15,
            max_query_complexity: 5000,
            max_query_tokens: 2000,
            max_query_selections: 1000,
            max_query_aliases: 50,
            max_query_directives: 50,
            max_request_bytes: 65_536,
            request_timeout_ms: 10_000,
            header_read_timeout_secs: 10,
            websocket: Default::default(),
            introspection: true,
        }
    }
}

/// Counts the SQL statements the app sends, for `/metrics` and for tests
/// that prove a query's cost does not grow with its page size.
#[derive(Clone, Debug, Default)]
pub struct StatementCounter(Counter);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.get()
    }
}

/// What every request handler can reach. One allocation shared by all:
/// each request's middleware and handler take a copy of the state, which
/// is one reference count, not one per part.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct Shared {
    /// How a prepared request runs, on every transport.
    pub pipeline: crate::execution::Pipeline,
    /// The pipeline for websockets: identical live subscriptions share one
    /// execution.
    pub subscriptions: crate::execution::fanout::SharedExecutor,
    pub db: DatabaseConnection,
    pub redis: Option<fred::clients::Client>,
    pub bus: service::live::bus::Bus,
    pub open_subscriptions: crate::graphql::OpenSubscriptions,
    /// The shared clock of the websockets' keep-alive pings.
    pub ws_keepalive: Option<crate::http::keepalive::Keepalive>,
    /// This process's metrics, served at `/metrics`. Kept per app rather
    /// than global, so that several apps in one process report their own.
    pub metrics: Arc<Registry>,
    pub limits: Limits,
    pub cors: crate::http::cors::AllowedOrigins,
    pub statements: StatementCounter,
    pub rate_limits: Arc<RateLimits>,
    /// Connections and websockets held, against the descriptor limit.
    pub capacity: Arc<crate::http::capacity::Capacity>,
    /// Anonymous query results, kept until a write is announced.
    pub response_cache: Arc<crate::http::response_cache::ResponseCache>,
    /// Bearer tokens checked lately, kept until their user's sessions change.
    pub verified_tokens: Arc<crate::http::verified_tokens::VerifiedTokens>,
    /// Where operations queue work for the worker, and how the worker's
    /// loops in this process are doing.
    pub jobs: service::jobs::Jobs,
    /// Cancelled when the process is told to stop: `/ready` turns 503,
    /// websockets close with 1001 (going away) so their clients resume on
    /// another replica, and new upgrades are refused.
    pub draining: CancellationToken,
    /// 1 when Redis answered the last probe or scrape, 0 when it did not.
    pub redis_up: prometheus_client::metrics::gauge::Gauge,
    /// Who may say who the client is (`TRUSTED_PROXIES`).
    pub trusted_proxies: Arc<crate::http::client_ip::TrustedProxies>,
    /// How long HTTP requests took, by route, method and status class.
    pub request_latency: crate::http::timing::RequestLatency,
}

/// A started server, bound to its address but not yet serving.
pub struct App {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    shutdown: CancellationToken,
    worker: crate::embedded::Worker,
    /// The embedded worker's loops, when this process runs them.
    worker_task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    shutdown_delay: std::time::Duration,
}

impl App {
    /// Connects, migrates, binds, and starts the embedded worker if asked.
    pub async fn start(config: Config, options: ServeOptions) -> anyhow::Result<Self> {
        let mut db = service::db::connect(&config.database_url, config.pool_options()).await?;
        // Set before the connection is cloned: each clone keeps its own callback.
        let statements = StatementCounter::default();
        let counter = statements.0.clone();
        db.set_metric_callback(move |_| {
            counter.inc();
        });
        if !options.skip_migrations {
            service::db::migrate(&db).await?;
        }
        if options.demo {
            service::demo::seed(&db).await?;
        }
        let (redis, bus) = match &config.bus_redis() {
            Some(url) => {
                let client = service::redis::connect(url).await?;
                let bus =
                    service::live::bus::Bus::redis(client.clone(), url, &config.bus_channel_prefix)
                        .await?;
                (Some(client), bus)
            }
            None => (None, service::live::bus::Bus::in_process()),
        };
        let worker = crate::embedded::Worker::connect(&config, db.clone(), bus.clone()).await?;
        let shutdown = CancellationToken::new();
        if options.demo && options.demo_minute_ms > 0 {
            tokio::spawn(service::demo::replay::run(
                db.clone(),
                bus.clone(),
                std::time::Duration::from_millis(options.demo_minute_ms),
                shutdown.child_token(),
            ));
        }
        let open_subscriptions = crate::graphql::OpenSubscriptions::default();
        let mut metrics = Registry::with_prefix("inthegame");
        metrics.register(
            "open_subscriptions",
            "GraphQL subscriptions open in this process",
            open_subscriptions.gauge(),
        );
        metrics.register(
            "db_statements",
            "SQL statements this process sent to the database",
            statements.0.clone(),
        );
        worker.register_metrics(&mut metrics);
        let redis_up = prometheus_client::metrics::gauge::Gauge::default();
        if redis.is_some() {
            // Connected at start, or start would have failed.
            redis_up.set(1);
            metrics.register(
                "redis_up",
                "1 when Redis answered this process's last check, 0 when it did not: \
                 without it live events do not cross replicas",
                redis_up.clone(),
            );
        }
        let response_cache = Arc::new(crate::http::response_cache::ResponseCache::new(
            &options.response_cache,
        ));
        metrics.register(
            "response_cache_hits",
            "Queries answered with a result kept from an identical one (anonymous, or from a \
             viewer who sees what anonymous readers see)",
            response_cache.hits(),
        );
        metrics.register(
            "response_cache_misses",
            "Queries that could have been answered from the response cache but ran",
            response_cache.misses(),
        );
        let verified_tokens = Arc::new(crate::http::verified_tokens::VerifiedTokens::default());
        metrics.register(
            "verified_tokens_hits",
            "Requests whose bearer token this process knew from a moment ago, without the database",
            verified_tokens.hits(),
        );
        metrics.register(
            "verified_tokens_misses",
            "Requests whose bearer token was checked in the database",
            verified_tokens.misses(),
        );
        let rate_limits = RateLimits::from_config(&config);
        let rate_limits = Arc::new(match &redis {
            Some(client) => rate_limits.shared_in(client.clone(), &config.bus_channel_prefix),
            None => rate_limits,
        });
        let (open_files, before) = crate::http::capacity::raise_open_files_limit();
        let capacity = Arc::new(crate::http::capacity::Capacity::new(
            open_files,
            options.max_websockets,
        ));
        tracing::info!(
            open_files,
            raised_from = before,
            max_connections = capacity.max_connections(),
            max_websockets = capacity.max_websockets(),
            "descriptor budget"
        );
        let accounts = AccountSettings::from_config(&config, rate_limits.clone(), worker.vapid());
        let jobs = worker.jobs();
        let schema = graphql::build_schema(
            db.clone(),
            &options.limits,
            accounts,
            bus.clone(),
            open_subscriptions.clone(),
            jobs.clone(),
        );
        let mut persisted = crate::execution::persisted::PersistedDocuments::new(
            &options.persisted_queries,
            &crate::execution::document_limits::DocumentLimits::from_limits(&options.limits),
        )?;
        if let Some(client) = &redis {
            persisted = persisted.shared_in(
                client.clone(),
                &config.bus_channel_prefix,
                &options.persisted_queries,
            );
        }
        metrics.register(
            "persisted_queries_registered",
            "Documents clients registered by hash (automatic persisted queries) in this process",
            persisted.registered(),
        );
        metrics.register(
            "persisted_queries_not_found",
            "Requests by hash answered PERSISTED_QUERY_NOT_FOUND in this process",
            persisted.not_found(),
        );
        let pipeline =
            crate::execution::Pipeline::new(schema, &options.limits, Arc::new(persisted));
        let subscriptions = crate::execution::fanout::SharedExecutor::new(
            pipeline.clone(),
            open_subscriptions.clone(),
        );
        let request_latency = crate::http::timing::request_latency();
        metrics.register(
            "http_request_duration_seconds",
            "How long HTTP requests took until their response's head, by route, method and \
             status class (a websocket until its upgrade)",
            request_latency.clone(),
        );
        metrics.register(
            "graphql_operation_duration_seconds",
            "How long GraphQL queries and mutations took to run, on any transport, by type",
            pipeline.latency(),
        );
        bus.register_metrics(&mut metrics);
        metrics.register(
            "shared_executions",
            "Live subscriptions executed once for all their subscribers in this process",
            subscriptions.executions(),
        );
        let state = AppState(Arc::new(Shared {
            subscriptions,
            pipeline,
            db: db.clone(),
            redis,
            limits: options.limits.clone(),
            cors: options.cors_allowed_origins.clone(),
            statements,
            rate_limits,
            capacity,
            response_cache,
            verified_tokens,
            bus,
            open_subscriptions,
            ws_keepalive: (options.ws_keepalive_secs > 0).then(|| {
                crate::http::keepalive::Keepalive::start(std::time::Duration::from_secs(
                    options.ws_keepalive_secs,
                ))
            }),
            metrics: Arc::new(metrics),
            jobs,
            draining: CancellationToken::new(),
            redis_up,
            trusted_proxies: Arc::new(options.trusted_proxies.clone()),
            request_latency,
        }));
        let listener = TcpListener::bind((config.host, config.port))
            .await
            .with_context(|| {
                format!(
                    "HOST/PORT: cannot listen on {}:{}",
                    config.host, config.port
                )
            })?;
        let addr = listener.local_addr()?;
        let embedded = options
            .embedded_worker
            .unwrap_or(config.queue_redis().is_none());
        let worker_task = embedded.then(|| worker.spawn(shutdown.child_token()));
        Ok(Self {
            listener,
            addr,
            state,
            shutdown,
            worker,
            worker_task,
            shutdown_delay: std::time::Duration::from_millis(options.shutdown_delay_ms),
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

    /// The worker this process composed, whether or not it runs its loops.
    pub fn worker(&self) -> &crate::embedded::Worker {
        &self.worker
    }

    /// Serves until `signal` resolves, then drains: `/ready` turns 503 and
    /// websockets close with 1001 at once; after `SHUTDOWN_DELAY_MS` the
    /// listener closes and in-flight requests finish; then the embedded
    /// worker stops.
    pub async fn run_until(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = crate::http::router(self.state.clone());
        let draining = self.state.draining.clone();
        let delay = self.shutdown_delay;
        let listener = crate::http::capacity::CountingListener::new(
            self.listener,
            self.state.capacity.clone(),
        )
        .tap_io(crate::http::capacity::Counted::set_nodelay);
        let header_read_timeout =
            std::time::Duration::from_secs(self.state.limits.header_read_timeout_secs);
        crate::http::server::serve(listener, router, header_read_timeout, async move {
            signal.await;
            draining.cancel();
            tokio::time::sleep(delay).await;
        })
        .await;
        // Upgraded sockets are no longer hyper's connections: wait (a
        // little) for each to write its close frame.
        self.state
            .capacity
            .websockets_closed(WEBSOCKET_CLOSE_GRACE)
            .await;
        self.shutdown.cancel();
        if let Some(worker) = self.worker_task {
            worker.await.context("worker task panicked")??;
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Longest a stopping process waits for its websockets to send their
/// close frames.
const WEBSOCKET_CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(2);
