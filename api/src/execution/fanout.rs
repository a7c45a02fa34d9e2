//! One execution and one serialisation per distinct live subscription,
//! however many sockets ask for it. Subscribers of `matchEvents`,
//! `matchUpdated` or `standingsChanged` with the same document, variables
//! and operation share one execution of the selection set per event (its
//! database reads and DataLoader batches included), and its response is
//! written to JSON once; each socket then writes those bytes with its own
//! operation id spliced in (see [`Splice`]). The fields these reach never depend on
//! who is asking (a viewer in spoiler-free mode, or with a stream delay,
//! never shares), which is what
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

use async_graphql::parser::types::{OperationType, Selection};
use async_graphql::{Data, Executor, Request, Response};
use futures::StreamExt as _;
use futures::stream::BoxStream;
use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::{Notify, watch};

use super::{Pipeline, Prepared};
use crate::graphql::OpenSubscriptions;

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
    pipeline: Pipeline,
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
    /// Each response as the JSON of a `next` (or `data`) message's payload.
    responses: Vec<Payload>,
    finished: bool,
}

/// A response written to JSON once, for every socket.
type Payload = Arc<str>;

/// What a shared stream yields in place of its response: a response whose
/// `data` is a string, which no execution can produce (its `data` is an
/// object or null), so the socket's writer can tell it apart.
const MARKER: &str = "\u{0}shared";

/// The end of a message async-graphql wrote for [`MARKER`]: both protocols
/// write `{"type":…,"id":…,"payload":…}`, in that order.
const MARKED_END: &str = r#","payload":{"data":"\u0000shared"}}"#;

/// One socket's handover of shared payloads, between a shared stream (which
/// yields [`MARKER`] and leaves the payload here) and the socket's writer,
/// which puts the payload in the marker's place. async-graphql serialises
/// and hands over each message in the poll that produced it, so the
/// payloads are taken in the order they were left.
///
/// The protocol stays async-graphql's: it still writes every message, ids,
/// `complete` and errors included; only a shared payload's bytes are put in
/// afterwards.
#[derive(Clone, Default)]
pub struct Splice(Arc<Mutex<std::collections::VecDeque<Payload>>>);

impl Splice {
    fn leave(&self, payload: Payload) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(payload);
    }

    /// The message to write for one async-graphql wrote.
    pub fn fill(&self, message: String) -> String {
        let Some(head) = message.strip_suffix(MARKED_END) else {
            return message;
        };
        let payload = self.0.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
        let Some(payload) = payload else {
            // Never happens: every marker leaves its payload first.
            tracing::error!("a shared subscription's payload went missing");
            return message;
        };
        let mut filled = String::with_capacity(head.len() + payload.len() + 12);
        filled.push_str(head);
        filled.push_str(r#","payload":"#);
        filled.push_str(&payload);
        filled.push('}');
        filled
    }

    fn of(session_data: Option<&Arc<Data>>) -> Option<Self> {
        session_data?
            .get(&std::any::TypeId::of::<Splice>())?
            .downcast_ref::<Splice>()
            .cloned()
    }
}

fn marker() -> Response {
    Response::new(async_graphql::Value::String(MARKER.to_owned()))
}

fn serialise(response: &Response) -> Payload {
    match serde_json::to_string(response) {
        Ok(json) => json.into(),
        Err(err) => {
            tracing::error!(error = %err, "could not serialise a shared subscription's response");
            r#"{"data":null,"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}"#.into()
        }
    }
}

impl SharedExecutor {
    pub fn new(pipeline: Pipeline, open: OpenSubscriptions) -> Self {
        Self {
            pipeline,
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

    fn join(
        &self,
        key: Key,
        replay: Replay,
        prepared: Prepared,
        splice: Splice,
    ) -> BoxStream<'static, Response> {
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
                    let execution = self.pipeline.run_stream(prepared, None);
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
        read(group, start, member, splice).boxed()
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
                    log.responses.push(serialise(&response));
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
    splice: Splice,
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
            for payload in batch {
                splice.leave(payload);
                yield marker();
            }
            if caught_up && (finished || progress.changed().await.is_err()) {
                break;
            }
        }
    }
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
fn shareable(prepared: &Prepared) -> Option<(Key, Replay)> {
    let operation = prepared.operation()?;
    if operation.ty != OperationType::Subscription {
        return None;
    }
    let [selection] = operation.selection_set.node.items.as_slice() else {
        return None;
    };
    let Selection::Field(field) = &selection.node else {
        return None;
    };
    if !field.node.directives.is_empty() {
        return None;
    }
    let replay = replay_of(field.node.name.node.as_str())?;
    let request = prepared.request();
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
        self.pipeline.execute(request).await
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        use crate::graphql::StreamDelayed;
        let delayed = session_data
            .as_deref()
            .and_then(|data| data.get(&std::any::TypeId::of::<StreamDelayed>()))
            .and_then(|value| value.downcast_ref::<StreamDelayed>())
            .map(|StreamDelayed(delay)| *delay)
            .filter(|delay| !delay.is_off());
        if let Some(delay) = delayed {
            // Its own execution, each response held back by the delay.
            let happened = crate::graphql::Happened::default();
            let prepared = self.pipeline.prepare(request.data(happened.clone()));
            let responses = self.pipeline.run_stream(prepared, session_data);
            return crate::graphql::hold_responses(delay, happened, responses);
        }
        let prepared = self.pipeline.prepare(request);
        // A shared execution runs without any viewer; one who keeps
        // results away runs their own, where the resolvers see them.
        let own = session_data.as_ref().is_some_and(|data| {
            data.contains_key(&std::any::TypeId::of::<
                crate::graphql::spoilers::SpoilerShield,
            >())
        });
        // Only a socket that splices shared payloads in can read them.
        let splice = Splice::of(session_data.as_ref());
        match shareable(&prepared).filter(|_| !own).zip(splice) {
            Some(((key, replay), splice)) => self.join(key, replay, prepared, splice),
            None => self.pipeline.run_stream(prepared, session_data),
        }
    }
}
