//! Persisted documents: Apollo's automatic persisted queries, and an
//! allowlist for operators who run only documents they know.
//!
//! A client sends `extensions.persistedQuery = {version: 1, sha256Hash}`.
//! With the hash alone, the document stored under it runs, or the answer
//! is `PERSISTED_QUERY_NOT_FOUND` (message `PersistedQueryNotFound`, which
//! Apollo's client and others switch on) and the client sends the hash
//! again with the document, which is stored once its hash and the
//! document limits check out. A query sent by hash with GET is a URL that
//! names one document, so a CDN can keep a public answer by its URL.
//!
//! async-graphql ships this protocol as a schema extension
//! (`ApolloPersistedQueries`). It does not fit here: it runs in
//! `prepare_request`, after this pipeline has already applied the document
//! limits to the request's (empty) text, so a document registered through
//! it is never checked against them; any installed extension sends every
//! field of every row through the extension chain (see `mod.rs`); its
//! storage keeps parsed documents, bounded by count only and local to one
//! process; and its errors carry no `extensions.code`. So it is done at
//! the edge, as part of preparing a request: the document is found (or
//! checked and stored) before the limits run, and the rest of the pipeline
//! sees an ordinary request.
//!
//! Storage: every process keeps the documents it has seen in memory,
//! bounded in count and bytes, least recently used first out. With Redis,
//! registrations are also written there (bounded the same way, by one
//! script), and a hash this process does not know is looked up there
//! before it is answered `PERSISTED_QUERY_NOT_FOUND`, so a document
//! registered through one replica is known to all. A hash names its
//! document for good, so a copy held here is never stale; Redis that does
//! not answer makes a replica fall back on its own copies.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use async_graphql::{Request, ServerError, Value};
use fred::prelude::*;
use fred::types::scripts::Script;
use prometheus_client::metrics::counter::Counter;
use sha2::{Digest as _, Sha256};

use super::document_limits::{DocumentLimits, refusal};
use crate::graphql::error::code;

/// `PERSISTED_QUERIES`: how persisted documents are handled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Apollo's automatic persisted queries: clients register documents by
    /// hash; any document also runs when sent in full.
    #[default]
    Automatic,
    /// Only the documents in `PERSISTED_QUERIES_FILE` run, sent by hash or
    /// in full; anything else is refused with `PERSISTED_QUERY_NOT_IN_LIST`.
    Allowlist,
    /// No persisted documents: a request with a hash is answered
    /// `PERSISTED_QUERY_NOT_SUPPORTED`, and clients send documents in full.
    Off,
}

/// `PERSISTED_QUERIES`, `PERSISTED_QUERIES_FILE`, `PERSISTED_QUERIES_MAX`
/// and `PERSISTED_QUERIES_MB`.
#[derive(Clone, Debug, clap::Args)]
pub struct PersistedOptions {
    /// `automatic` (clients register documents by their SHA-256, Apollo's
    /// protocol), `allowlist` (only the documents of
    /// `PERSISTED_QUERIES_FILE` run) or `off`.
    #[arg(
        long = "persisted-queries",
        env = "PERSISTED_QUERIES",
        value_enum,
        default_value_t = Mode::Automatic
    )]
    pub mode: Mode,

    /// With `allowlist`: a JSON file of the documents that may run, either
    /// Apollo's persisted query manifest (`{"format":
    /// "apollo-persisted-query-manifest", "operations": [{"id", "body"}]}`)
    /// or an object of SHA-256 to document (`{"<sha256>": "query …"}`).
    #[arg(long = "persisted-queries-file", env = "PERSISTED_QUERIES_FILE")]
    pub file: Option<PathBuf>,

    /// With `automatic`: most registered documents kept (in this process,
    /// and in Redis when configured), least recently used first out.
    #[arg(
        long = "persisted-queries-max",
        env = "PERSISTED_QUERIES_MAX",
        default_value_t = 10_000,
        value_parser = clap::value_parser!(u64).range(1..=1_000_000)
    )]
    pub max_documents: u64,

    /// With `automatic`: most MiB the registered documents take (1 to 1024).
    #[arg(
        long = "persisted-queries-mb",
        env = "PERSISTED_QUERIES_MB",
        default_value_t = 16,
        value_parser = clap::value_parser!(u64).range(1..=1024)
    )]
    pub max_storage_mb: u64,
}

impl Default for PersistedOptions {
    fn default() -> Self {
        Self {
            mode: Mode::Automatic,
            file: None,
            max_documents: 10_000,
            max_storage_mb: 16,
        }
    }
}

/// The extension's message when a hash is unknown, which Apollo's client
/// matches to send the document in full.
pub const NOT_FOUND_MESSAGE: &str = "PersistedQueryNotFound";
/// The message when persisted queries are off, on which Apollo's client
/// stops sending hashes.
pub const NOT_SUPPORTED_MESSAGE: &str = "PersistedQueryNotSupported";

/// What `persistedQuery` holds.
#[derive(serde::Deserialize)]
struct Extension {
    version: i64,
    #[serde(rename = "sha256Hash")]
    sha256_hash: String,
}

/// The stored documents, and how requests name them.
pub struct PersistedDocuments {
    mode: Mode,
    /// Allowlist mode: every document that may run, by its hash.
    allowlist: HashMap<String, Arc<str>>,
    /// Automatic mode: the documents this process has seen.
    local: quick_cache::sync::Cache<String, Arc<str>, ByBytes>,
    /// Automatic mode with Redis: the documents every replica registered.
    shared: Option<Arc<Shared>>,
    registered: Counter,
    not_found: Counter,
}

#[derive(Clone)]
struct ByBytes {
    /// Each document weighs at least this much, so that the count is
    /// bounded as well as the bytes.
    floor: u64,
}

impl quick_cache::Weighter<String, Arc<str>> for ByBytes {
    fn weight(&self, key: &String, document: &Arc<str>) -> u64 {
        ((key.len() + document.len() + 64) as u64).max(self.floor)
    }
}

impl PersistedDocuments {
    /// Reads the allowlist, when there is one, refusing a document that
    /// does not pass the limits or whose id is not its hash.
    pub fn new(options: &PersistedOptions, limits: &DocumentLimits) -> anyhow::Result<Self> {
        let allowlist = match (options.mode, &options.file) {
            (Mode::Allowlist, Some(file)) => read_allowlist(file, limits)?,
            (Mode::Allowlist, None) => {
                bail!(
                    "PERSISTED_QUERIES=allowlist needs PERSISTED_QUERIES_FILE, the documents that may run"
                )
            }
            _ => HashMap::new(),
        };
        let bytes = options.max_storage_mb << 20;
        let floor = (bytes / options.max_documents).max(1);
        let capacity = match options.mode {
            Mode::Automatic => options.max_documents as usize,
            _ => 1,
        };
        Ok(Self {
            mode: options.mode,
            allowlist,
            local: quick_cache::sync::Cache::with_weighter(capacity, bytes, ByBytes { floor }),
            shared: None,
            registered: Counter::default(),
            not_found: Counter::default(),
        })
    }

    /// Shares registered documents through Redis, under `prefix` (the
    /// deployment's, as its bus channels), bounded as this process is.
    pub fn shared_in(mut self, client: Client, prefix: &str, options: &PersistedOptions) -> Self {
        if self.mode == Mode::Automatic {
            self.shared = Some(Arc::new(Shared {
                client,
                register: Script::from_lua(REGISTER),
                lookup: Script::from_lua(LOOKUP),
                prefix: format!("{prefix}:pq"),
                max_documents: options.max_documents,
                max_bytes: options.max_storage_mb << 20,
                failed_at: Mutex::new(None),
            }));
        }
        self
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Documents registered by clients in this process, for `/metrics`.
    pub fn registered(&self) -> Counter {
        self.registered.clone()
    }

    /// Hashes answered `PERSISTED_QUERY_NOT_FOUND`, for `/metrics`.
    pub fn not_found(&self) -> Counter {
        self.not_found.clone()
    }

    /// The document a request runs, without changing it, when that is
    /// known here at once: its text, or the one its hash names. `None` for
    /// a request that registers a document, names one this process does
    /// not hold, or carries other extensions.
    pub fn document_of<'a>(&self, request: &'a Request) -> Option<DocumentText<'a>> {
        match request.extensions.len() {
            0 => Some(DocumentText::Sent(&request.query)),
            1 if request.query.is_empty() => {
                let hash = hash_only(request)?;
                self.known(&hash).map(DocumentText::Stored)
            }
            _ => None,
        }
    }

    /// Brings a document this process does not hold from Redis, so that
    /// `resolve` finds it: for a request that names one by hash alone.
    pub async fn fetch(&self, request: &Request) {
        let Some(shared) = &self.shared else {
            return;
        };
        if !request.query.is_empty() {
            return;
        }
        let Some(hash) = hash_only(request) else {
            return;
        };
        if self.local.get(&hash).is_some() {
            return;
        }
        if let Some(document) = shared.lookup(&hash).await {
            self.local.insert(hash, Arc::from(document));
        }
    }

    /// Takes `persistedQuery` off the request and gives it its document,
    /// or refuses it. Returns the hash of a document to register once it
    /// passed the limits.
    pub fn resolve(&self, request: &mut Request) -> Result<Option<String>, ServerError> {
        let Some(value) = request.extensions.remove("persistedQuery") else {
            return match self.mode {
                Mode::Allowlist if !self.allowlist.contains_key(&sha256(&request.query)) => {
                    Err(not_in_list())
                }
                _ => Ok(None),
            };
        };
        if self.mode == Mode::Off {
            return Err(refusal(
                code::PERSISTED_QUERY_NOT_SUPPORTED,
                NOT_SUPPORTED_MESSAGE.to_owned(),
            ));
        }
        let hash = parse_extension(value)?;
        if request.query.is_empty() {
            let Some(document) = self.known(&hash) else {
                self.not_found.inc();
                return Err(refusal(
                    code::PERSISTED_QUERY_NOT_FOUND,
                    NOT_FOUND_MESSAGE.to_owned(),
                ));
            };
            request.query = document.to_string();
            return Ok(None);
        }
        if sha256(&request.query) != hash {
            return Err(refusal(
                code::BAD_REQUEST,
                "provided sha does not match query".to_owned(),
            ));
        }
        match self.mode {
            Mode::Allowlist if !self.allowlist.contains_key(&hash) => Err(not_in_list()),
            Mode::Allowlist => Ok(None),
            _ if self.local.get(&hash).is_some() => Ok(None),
            _ => Ok(Some(hash)),
        }
    }

    /// Keeps a document that a client sent with its hash and that passed
    /// the limits, here and, with Redis, for every replica.
    pub fn register(&self, hash: String, document: &str) {
        let document: Arc<str> = Arc::from(document);
        self.registered.inc();
        self.local.insert(hash.clone(), document.clone());
        if let Some(shared) = &self.shared
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let shared = shared.clone();
            runtime.spawn(async move { shared.register(&hash, &document).await });
        }
    }

    fn known(&self, hash: &str) -> Option<Arc<str>> {
        match self.mode {
            Mode::Allowlist => self.allowlist.get(hash).cloned(),
            Mode::Automatic => self.local.get(hash),
            Mode::Off => None,
        }
    }
}

/// The document of a request, as `document_of` found it.
pub enum DocumentText<'a> {
    Sent(&'a str),
    Stored(Arc<str>),
}

impl DocumentText<'_> {
    pub fn as_str(&self) -> &str {
        match self {
            DocumentText::Sent(text) => text,
            DocumentText::Stored(text) => text,
        }
    }
}

/// The lowercase hexadecimal SHA-256 of a document, as clients compute it.
pub fn sha256(document: &str) -> String {
    format!("{:x}", Sha256::digest(document.as_bytes()))
}

/// The hash of a request that carries `persistedQuery` alone and well formed.
fn hash_only(request: &Request) -> Option<String> {
    let value = request.extensions.get("persistedQuery")?;
    parse_extension(value.clone()).ok()
}

fn parse_extension(value: Value) -> Result<String, ServerError> {
    let malformed = || {
        refusal(
            code::BAD_REQUEST,
            "extensions.persistedQuery must be {\"version\": 1, \"sha256Hash\": \"<64 hexadecimal digits>\"}"
                .to_owned(),
        )
    };
    let extension: Extension = async_graphql::from_value(value).map_err(|_| malformed())?;
    if extension.version != 1 {
        return Err(refusal(
            code::PERSISTED_QUERY_NOT_SUPPORTED,
            format!(
                "persisted query version {} is not supported; use version 1",
                extension.version
            ),
        ));
    }
    let hash = extension.sha256_hash.to_ascii_lowercase();
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed());
    }
    Ok(hash)
}

fn not_in_list() -> ServerError {
    refusal(
        code::PERSISTED_QUERY_NOT_IN_LIST,
        "this server runs only the documents on its allowlist, and this is not one of them"
            .to_owned(),
    )
}

/// Reads an allowlist file: Apollo's manifest, or an object of hash to
/// document. Every id must be its document's SHA-256 and every document
/// must pass the limits, or the process does not start.
fn read_allowlist(
    file: &Path,
    limits: &DocumentLimits,
) -> anyhow::Result<HashMap<String, Arc<str>>> {
    let name = file.display();
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("PERSISTED_QUERIES_FILE: cannot read {name}"))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("PERSISTED_QUERIES_FILE: {name} is not JSON"))?;
    let entries: Vec<(String, String)> = match &json {
        serde_json::Value::Object(map) if map.contains_key("operations") => map["operations"]
            .as_array()
            .context("PERSISTED_QUERIES_FILE: `operations` is not a list")?
            .iter()
            .enumerate()
            .map(|(index, operation)| {
                let field = |key: &str| {
                    operation
                        .get(key)
                        .and_then(|v| v.as_str())
                        .map(str::to_owned)
                        .with_context(|| {
                            format!(
                                "PERSISTED_QUERIES_FILE: operation {index} has no string `{key}`"
                            )
                        })
                };
                Ok((field("id")?, field("body")?))
            })
            .collect::<anyhow::Result<_>>()?,
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(hash, document)| {
                let document = document.as_str().with_context(|| {
                    format!("PERSISTED_QUERIES_FILE: the value of {hash} is not a document")
                })?;
                Ok((hash.clone(), document.to_owned()))
            })
            .collect::<anyhow::Result<_>>()?,
        _ => bail!(
            "PERSISTED_QUERIES_FILE: {name} is neither an Apollo persisted query manifest nor an object of hash to document"
        ),
    };
    let mut allowlist = HashMap::with_capacity(entries.len());
    for (id, document) in entries {
        let hash = sha256(&document);
        if id.to_ascii_lowercase() != hash {
            bail!("PERSISTED_QUERIES_FILE: {id} is not the SHA-256 of its document ({hash})");
        }
        let mut request = Request::new(document.clone());
        if let Err(error) = limits.admit(&mut request) {
            bail!(
                "PERSISTED_QUERIES_FILE: the document {id} is refused: {}",
                error.message
            );
        }
        allowlist.insert(hash, Arc::from(document));
    }
    Ok(allowlist)
}

/// Longest a lookup or registration waits for Redis.
const REDIS_TIMEOUT: Duration = Duration::from_millis(200);
/// After Redis failed, how long this process relies on its own copies
/// before asking it again.
const REDIS_COOL_OFF: Duration = Duration::from_secs(1);

/// Stores a document and marks it used, then drops the least recently
/// used past either bound, in one step on the server. KEYS: the document,
/// the index (document key by last use, in ms), the byte count. ARGV: the
/// document, the most documents, the most bytes.
const REGISTER: &str = r#"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if redis.call('ZADD', KEYS[2], now, KEYS[1]) == 1 then
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('INCRBY', KEYS[3], string.len(ARGV[1]))
elseif redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SET', KEYS[1], ARGV[1])
end
local count = redis.call('ZCARD', KEYS[2])
local bytes = tonumber(redis.call('GET', KEYS[3]) or '0')
while count > tonumber(ARGV[2]) or bytes > tonumber(ARGV[3]) do
  local oldest = redis.call('ZPOPMIN', KEYS[2])
  if #oldest == 0 then break end
  bytes = redis.call('DECRBY', KEYS[3], redis.call('STRLEN', oldest[1]))
  redis.call('DEL', oldest[1])
  count = count - 1
end
return count
"#;

/// A document by its key, marked used. KEYS: the document, the index.
const LOOKUP: &str = r#"
local document = redis.call('GET', KEYS[1])
if document then
  local time = redis.call('TIME')
  redis.call('ZADD', KEYS[2], 'XX', tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000), KEYS[1])
end
return document
"#;

struct Shared {
    client: Client,
    register: Script,
    lookup: Script,
    prefix: String,
    max_documents: u64,
    max_bytes: u64,
    failed_at: Mutex<Option<Instant>>,
}

impl Shared {
    fn keys(&self, hash: &str) -> Vec<String> {
        vec![
            format!("{}:doc:{hash}", self.prefix),
            format!("{}:index", self.prefix),
            format!("{}:bytes", self.prefix),
        ]
    }

    fn cooling_off(&self) -> bool {
        self.failed_at
            .lock()
            .map(|at| at.is_some_and(|at| at.elapsed() < REDIS_COOL_OFF))
            .unwrap_or(false)
    }

    fn outcome<T>(
        &self,
        result: Result<Result<T, fred::error::Error>, tokio::time::error::Elapsed>,
    ) -> Option<T> {
        let error = match result {
            Ok(Ok(value)) => {
                if let Ok(mut at) = self.failed_at.lock()
                    && at.take().is_some()
                {
                    tracing::info!("persisted queries: Redis answers again");
                }
                return Some(value);
            }
            Ok(Err(err)) => err.to_string(),
            Err(_) => "timed out".to_owned(),
        };
        if let Ok(mut at) = self.failed_at.lock() {
            if at.is_none() {
                tracing::warn!(
                    error,
                    "persisted queries: Redis did not answer; using this process's documents until it does"
                );
            }
            *at = Some(Instant::now());
        }
        None
    }

    async fn lookup(&self, hash: &str) -> Option<String> {
        if self.cooling_off() {
            return None;
        }
        let mut keys = self.keys(hash);
        keys.truncate(2);
        let call = self.lookup.evalsha_with_reload::<Option<String>, _, _>(
            &self.client,
            keys,
            Vec::<String>::new(),
        );
        self.outcome(tokio::time::timeout(REDIS_TIMEOUT, call).await)
            .flatten()
    }

    async fn register(&self, hash: &str, document: &str) {
        if self.cooling_off() {
            return;
        }
        let call = self.register.evalsha_with_reload::<i64, _, _>(
            &self.client,
            self.keys(hash),
            vec![
                document.to_owned(),
                self.max_documents.to_string(),
                self.max_bytes.to_string(),
            ],
        );
        self.outcome(tokio::time::timeout(REDIS_TIMEOUT, call).await);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> DocumentLimits {
        DocumentLimits::from_limits(&crate::app::Limits::default())
    }

    fn documents(mode: Mode) -> PersistedDocuments {
        PersistedDocuments::new(
            &PersistedOptions {
                mode,
                max_documents: 2,
                ..PersistedOptions::default()
            },
            &limits(),
        )
        .unwrap()
    }

    fn by_hash(hash: &str, query: &str) -> Request {
        let mut request = Request::new(query);
        request.extensions.insert(
            "persistedQuery".to_owned(),
            Value::from_json(serde_json::json!({ "version": 1, "sha256Hash": hash })).unwrap(),
        );
        request
    }

    fn code_of(error: &ServerError) -> String {
        error
            .extensions
            .as_ref()
            .unwrap()
            .get("code")
            .unwrap()
            .to_string()
    }

    #[test]
    fn a_hash_is_not_found_until_its_document_is_registered() {
        let documents = documents(Mode::Automatic);
        let query = "{ competitions { code } }";
        let hash = sha256(query);
        let error = documents.resolve(&mut by_hash(&hash, "")).unwrap_err();
        assert_eq!(error.message, NOT_FOUND_MESSAGE);
        assert_eq!(code_of(&error), "\"PERSISTED_QUERY_NOT_FOUND\"");

        let mut registering = by_hash(&hash, query);
        assert_eq!(
            documents.resolve(&mut registering).unwrap(),
            Some(hash.clone())
        );
        assert!(registering.extensions.is_empty());
        documents.register(hash.clone(), query);

        let mut named = by_hash(&hash, "");
        assert_eq!(documents.resolve(&mut named).unwrap(), None);
        assert_eq!(named.query, query);
    }

    #[test]
    fn a_document_that_is_not_its_hash_is_refused() {
        let documents = documents(Mode::Automatic);
        let error = documents
            .resolve(&mut by_hash(&sha256("{ a }"), "{ b }"))
            .unwrap_err();
        assert_eq!(error.message, "provided sha does not match query");
        let error = documents.resolve(&mut by_hash("nothex", "")).unwrap_err();
        assert_eq!(code_of(&error), "\"BAD_REQUEST\"");
    }

    #[test]
    fn the_count_of_kept_documents_is_bounded() {
        let documents = documents(Mode::Automatic);
        for n in 0..50 {
            let query = format!("{{ a{n} }}");
            documents.register(sha256(&query), &query);
        }
        assert!(documents.local.len() <= 2, "{}", documents.local.len());
    }

    #[test]
    fn with_persisted_queries_off_a_hash_is_not_supported() {
        let documents = documents(Mode::Off);
        let error = documents
            .resolve(&mut by_hash(&sha256("{ a }"), ""))
            .unwrap_err();
        assert_eq!(error.message, NOT_SUPPORTED_MESSAGE);
        assert_eq!(documents.resolve(&mut Request::new("{ a }")).unwrap(), None);
    }

    #[test]
    fn an_allowlist_runs_its_documents_by_hash_or_in_full_and_nothing_else() {
        let listed = "query Table { competitions { code } }";
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("manifest.json");
        std::fs::write(
            &file,
            serde_json::json!({
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{ "id": sha256(listed), "name": "Table", "type": "query", "body": listed }]
            })
            .to_string(),
        )
        .unwrap();
        let documents = PersistedDocuments::new(
            &PersistedOptions {
                mode: Mode::Allowlist,
                file: Some(file),
                ..PersistedOptions::default()
            },
            &limits(),
        )
        .unwrap();
        let mut named = by_hash(&sha256(listed), "");
        assert_eq!(documents.resolve(&mut named).unwrap(), None);
        assert_eq!(named.query, listed);
        assert_eq!(documents.resolve(&mut Request::new(listed)).unwrap(), None);
        for mut other in [
            Request::new("{ competitions { name } }"),
            by_hash(&sha256("{ a }"), "{ a }"),
        ] {
            let error = documents.resolve(&mut other).unwrap_err();
            assert_eq!(code_of(&error), "\"PERSISTED_QUERY_NOT_IN_LIST\"");
        }
    }

    #[test]
    fn an_allowlist_whose_ids_are_not_hashes_or_whose_documents_break_the_limits_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("list.json");
        let options = PersistedOptions {
            mode: Mode::Allowlist,
            file: Some(file.clone()),
            ..PersistedOptions::default()
        };
        std::fs::write(&file, serde_json::json!({ "abc": "{ a }" }).to_string()).unwrap();
        let error = PersistedDocuments::new(&options, &limits()).err().unwrap();
        assert!(error.to_string().contains("not the SHA-256"), "{error}");

        let deep = format!("{}{}", "{ a ".repeat(40), "}".repeat(40));
        std::fs::write(
            &file,
            serde_json::json!({ sha256(&deep): deep }).to_string(),
        )
        .unwrap();
        let error = PersistedDocuments::new(&options, &limits()).err().unwrap();
        assert!(error.to_string().contains("refused"), "{error}");

        let none = PersistedOptions {
            file: None,
            ..options
        };
        assert!(PersistedDocuments::new(&none, &limits()).is_err());
    }
}
