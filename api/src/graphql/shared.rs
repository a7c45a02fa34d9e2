//! One execution per distinct live subscription, however many sockets ask
//! for it. Subscribers of `matchEvents`, `matchUpdated` or
//! `standingsChanged` with the same document, variables and operation
//! share one execution of the selection set per event (its database reads
//! and DataLoader batches included); each socket only copies the finished
//! response into its own message. The fields these reach never depend on
//! who is asking (a viewer in spoiler-free mode never shares), which is what
//! makes sharing them safe; every other subscription (`notificationReceived`
//! above all) runs once per subscriber, as before.
//!
//! A shared execution keeps every response it produced, in order. A socket
//! that joins later replays them first: for `matchEvents` that is exactly
//! what its own execution would have read from the database (the same
//! `afterSeq`, then every event since), for `matchUpdated` and
//! `standingsChanged` only the latest (the match or the table as it is
//! now). A slow socket reads the log at its own pace, so nothing is
//! dropped for it and it cannot hold the others back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use async_graphql::parser::types::{DocumentOperations, OperationType, Selection};
use async_graphql::{Data, Executor, Request, Response};
use futures::StreamExt as _;
use futures::stream::BoxStream;
use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::{Notify, watch};

use super::field_order::InQueryOrder;
use super::{AppSchema, OpenSubscriptions};

/// The root fields whose executions are shared, and where a newcomer
/// starts reading the log.
fn replay_of(root_field: &str) -> Option<Replay> {
    match root_field {
        "matchEvents" => Some(Replay::Everything),
        "matchUpdated" | "standingsChanged" => Some(Replay::Latest),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug)]
enum Replay {
    Everything,
    Latest,
}

/// What makes two subscriptions the same execution.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    query: String,
    variables: String,
    operation_name: Option<String>,
}

/// The schema as the websocket sees it: shares what can be shared.
#[derive(Clone)]
pub struct SharedExecutor {
    /// Every execution answers in the query's field order.
    schema: InQueryOrder,
    open: OpenSubscriptions,
    groups: Arc<Mutex<HashMap<Key, Arc<Group>>>>,
    /// Shared executions running, for `/metrics`.
    running: Gauge,
}

/// One shared execution and the sockets reading it.
struct Group {
    log: RwLock<Log>,
    /// The log's length, for readers waiting for more.
    progress: watch::Sender<usize>,
    /// Changed under the executor's map lock only.
    members: std::sync::atomic::AtomicUsize,
    /// Told when the last member left, so the execution stops.
    abandoned: Notify,
    replay: Replay,
}

#[derive(Default)]
struct Log {
    responses: Vec<Arc<Response>>,
    finished: bool,
}

impl SharedExecutor {
    pub fn new(schema: AppSchema, open: OpenSubscriptions) -> Self {
        Self {
            schema: InQueryOrder(schema),
            open,
            groups: Arc::default(),
            running: Gauge::default(),
        }
    }

    /// How many shared executions are running, for `/metrics`.
    pub fn executions(&self) -> Gauge {
        self.running.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Arc<Group>>> {
        self.groups.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn join(&self, key: Key, replay: Replay, request: Request) -> BoxStream<'static, Response> {
        use std::sync::atomic::Ordering;
        let (group, start) = {
            let mut groups = self.lock();
            match groups.get(&key) {
                Some(group) => {
                    // The execution counts its first member in the gauge.
                    group.members.fetch_add(1, Ordering::AcqRel);
                    self.open.gauge().inc();
                    let len = group
                        .log
                        .read()
                        .unwrap_or_else(|e| e.into_inner())
                        .responses
                        .len();
                    let start = match group.replay {
                        Replay::Everything => 0,
                        Replay::Latest => len.saturating_sub(1),
                    };
                    (group.clone(), start)
                }
                None => {
                    let group = Arc::new(Group {
                        log: RwLock::default(),
                        progress: watch::channel(0).0,
                        members: 1.into(),
                        abandoned: Notify::new(),
                        replay,
                    });
                    groups.insert(key.clone(), group.clone());
                    let execution = self.schema.execute_stream(request, None);
                    let running = self.running.clone();
                    running.inc();
                    let driven = drive(execution, group.clone(), key.clone(), self.groups.clone());
                    tokio::spawn(async move {
                        driven.await;
                        running.dec();
                    });
                    (group, 0)
                }
            }
        };
        let member = Member {
            group: group.clone(),
            key,
            groups: self.groups.clone(),
            open: self.open.clone(),
        };
        read(group, start, member).boxed()
    }
}

/// Runs the execution, appending each response to the log, until it ends
/// or nobody reads it any more.
async fn drive(
    mut execution: BoxStream<'static, Response>,
    group: Arc<Group>,
    key: Key,
    groups: Arc<Mutex<HashMap<Key, Arc<Group>>>>,
) {
    loop {
        tokio::select! {
            response = execution.next() => {
                let Some(response) = response else { break };
                let len = {
                    let mut log = group.log.write().unwrap_or_else(|e| e.into_inner());
                    log.responses.push(Arc::new(response));
                    log.responses.len()
                };
                group.progress.send_replace(len);
            }
            () = group.abandoned.notified() => return,
        }
    }
    // Ended (the match's stream stopped): newcomers start afresh.
    {
        let mut map = groups.lock().unwrap_or_else(|e| e.into_inner());
        if map.get(&key).is_some_and(|g| Arc::ptr_eq(g, &group)) {
            map.remove(&key);
        }
    }
    let mut log = group.log.write().unwrap_or_else(|e| e.into_inner());
    log.finished = true;
    let len = log.responses.len();
    drop(log);
    group.progress.send_replace(len);
}

/// One socket's reading of the log from `start`.
fn read(
    group: Arc<Group>,
    start: usize,
    member: Member,
) -> impl futures::Stream<Item = Response> + Send + 'static {
    async_stream::stream! {
        let _member = member;
        // Subscribed before the first read: an append after it is seen.
        let mut progress = group.progress.subscribe();
        let mut cursor = start;
        loop {
            let (batch, finished) = {
                let log = group.log.read().unwrap_or_else(|e| e.into_inner());
                (log.responses.get(cursor..).unwrap_or_default().to_vec(), log.finished)
            };
            cursor += batch.len();
            let caught_up = batch.is_empty();
            for response in batch {
                yield copy(&response);
            }
            if caught_up && (finished || progress.changed().await.is_err()) {
                break;
            }
        }
    }
}

/// Each socket's message takes its own response (async-graphql's
/// `Response` is not `Clone`); cache hints and headers mean nothing on a
/// websocket.
fn copy(response: &Response) -> Response {
    let mut copy = Response::new(response.data.clone());
    copy.errors = response.errors.clone();
    copy.extensions = response.extensions.clone();
    copy
}

/// A socket's membership; leaving last stops the execution.
struct Member {
    group: Arc<Group>,
    key: Key,
    groups: Arc<Mutex<HashMap<Key, Arc<Group>>>>,
    open: OpenSubscriptions,
}

impl Drop for Member {
    fn drop(&mut self) {
        use std::sync::atomic::Ordering;
        let mut map = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        let left = self.group.members.fetch_sub(1, Ordering::AcqRel) - 1;
        if left > 0 {
            self.open.gauge().dec();
            return;
        }
        if map
            .get(&self.key)
            .is_some_and(|g| Arc::ptr_eq(g, &self.group))
        {
            map.remove(&self.key);
        }
        // The execution's own count leaves with it.
        self.group.abandoned.notify_one();
    }
}

/// The key and replay of a request that may be shared: a subscription
/// whose only root field is one of the shared ones.
fn shareable(request: &Request) -> Option<(Key, Replay)> {
    // The parser recurses without a limit: a document too deep is left to
    // the schema's document limits, which refuse it.
    if !super::document_limits::parses_safely(&request.query) {
        return None;
    }
    let document = async_graphql::parser::parse_query(&request.query).ok()?;
    let operation = match (&document.operations, &request.operation_name) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name.as_str())?,
        (DocumentOperations::Multiple(_), None) => return None,
    };
    if operation.node.ty != OperationType::Subscription {
        return None;
    }
    let [selection] = operation.node.selection_set.node.items.as_slice() else {
        return None;
    };
    let Selection::Field(field) = &selection.node else {
        return None;
    };
    if !field.node.directives.is_empty() {
        return None;
    }
    let replay = replay_of(field.node.name.node.as_str())?;
    Some((
        Key {
            query: request.query.clone(),
            variables: serde_json::to_string(&request.variables).ok()?,
            operation_name: request.operation_name.clone(),
        },
        replay,
    ))
}

impl Executor for SharedExecutor {
    async fn execute(&self, request: Request) -> Response {
        self.schema.execute(request).await
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        // A shared execution runs without any viewer; one who keeps
        // results away runs their own, where the resolvers see them.
        let spoiler_free = session_data.as_ref().is_some_and(|data| {
            data.contains_key(&std::any::TypeId::of::<super::spoilers::SpoilerShield>())
        });
        match shareable(&request).filter(|_| !spoiler_free) {
            Some((key, replay)) => self.join(key, replay, request),
            None => self.schema.execute_stream(request, session_data),
        }
    }
}
