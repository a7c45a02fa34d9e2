//! How a GraphQL request executes, the same on HTTP and on both websocket
//! protocols. The transport hands over a decoded request; [`Pipeline::prepare`]
//! does the work that needs only the request, once: the document limits (one
//! lexical scan, one parse, one walk of the parsed document; or, for a
//! document that passed them before, a clone of it from `admitted`) and the
//! choice of operation. The prepared request then runs on the schema, and every
//! response comes back with a code on each error (`coded_errors`) and its
//! fields in the query's order (`field_order`). Live subscriptions that
//! many sockets share run once and are serialised once (`fanout`).
//!
//! This is done around the schema rather than in schema extensions: with
//! any extension installed, async-graphql sends every field of every row
//! through the extension chain.

pub mod admitted;
pub mod coded_errors;
pub mod document_limits;
pub mod fanout;
pub mod field_order;
pub mod persisted;

use std::sync::Arc;
use std::time::Instant;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType,
};
use async_graphql::{Data, Executor, Request, Response, ServerError};
use futures::StreamExt as _;
use futures::stream::BoxStream;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use tracing::Instrument as _;

use crate::graphql::AppSchema;
use document_limits::DocumentLimits;
use field_order::QueryOrder;

/// The schema and what runs around it.
#[derive(Clone)]
pub struct Pipeline {
    schema: AppSchema,
    limits: DocumentLimits,
    persisted: Arc<persisted::PersistedDocuments>,
    admitted: Arc<admitted::AdmittedDocuments>,
    latency: OperationLatency,
}

/// How long queries and mutations took to run, on any transport, by type.
pub type OperationLatency = Family<OperationLabels, Histogram, fn() -> Histogram>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    /// `query` or `mutation` (`unknown` when a document holds several and
    /// names none).
    pub r#type: &'static str,
}

fn operation_histogram() -> Histogram {
    Histogram::new(crate::http::timing::LATENCY_BUCKETS)
}

/// A request as the edge prepared it: checked against the document limits
/// and parsed, once.
pub struct Prepared {
    request: Request,
    /// Why it cannot run (a limit, or a syntax error), if it cannot.
    refusal: Option<ServerError>,
    order: QueryOrder,
}

impl Pipeline {
    pub fn new(
        schema: AppSchema,
        limits: &crate::app::Limits,
        persisted: Arc<persisted::PersistedDocuments>,
    ) -> Self {
        Self {
            schema,
            limits: DocumentLimits::from_limits(limits),
            persisted,
            admitted: Arc::default(),
            latency: Family::new_with_constructor(operation_histogram as fn() -> Histogram),
        }
    }

    /// The persisted documents, which the edge asks before a request is
    /// prepared (a document by hash held in Redis, a cache key).
    pub fn persisted(&self) -> &persisted::PersistedDocuments {
        &self.persisted
    }

    /// The operations' latency histograms, for `/metrics`.
    pub fn latency(&self) -> OperationLatency {
        self.latency.clone()
    }

    pub fn prepare(&self, mut request: Request) -> Prepared {
        // A document named by its hash is found first, so that the limits
        // run on it; one sent to be registered is kept once it passed them.
        let (admitted, registering) = match self.persisted.resolve(&mut request) {
            Ok(registering) => (self.admit(&mut request), registering),
            Err(refusal) => (Err(refusal), None),
        };
        if admitted.is_ok()
            && let Some(hash) = registering
        {
            self.persisted.register(hash, &request.query);
        }
        let operation = request.operation_name.clone();
        let (order, refusal) = match admitted {
            Ok(document) => (QueryOrder::new(Some(document), operation.as_deref()), None),
            // A document refused for its size is still parsed (when that is
            // safe), so that its operation's type is known: a mutation sent
            // with GET is refused for that first.
            Err(refusal) => {
                let document = document_limits::parses_safely(&request.query)
                    .then(|| async_graphql::parser::parse_query(&request.query).ok())
                    .flatten();
                let order = QueryOrder::new(document.map(Arc::new), operation.as_deref());
                (order, Some(refusal))
            }
        };
        Prepared {
            request,
            refusal,
            order,
        }
    }

    /// Checks the request's document against the limits and parses it, or
    /// finds it among those that passed before.
    fn admit(&self, request: &mut Request) -> Result<Arc<ExecutableDocument>, ServerError> {
        if let Some(document) = self.admitted.get(&request.query) {
            request.set_parsed_query(ExecutableDocument::clone(&document));
            return Ok(document);
        }
        let tokens = self.limits.admit(request)?;
        // A copy for the pipeline: the schema consumes the request's own.
        let document = Arc::new(request.parsed_query()?.clone());
        self.admitted.keep(&request.query, tokens, document.clone());
        Ok(document)
    }

    /// Runs a prepared query or mutation.
    pub async fn run(&self, prepared: Prepared) -> Response {
        let r#type = prepared.type_label();
        let span = prepared.span(r#type);
        let Prepared {
            request,
            refusal,
            order,
        } = prepared;
        if let Some(error) = refusal {
            return refused(error);
        }
        let started = Instant::now();
        let mut response = self.schema.execute(request).instrument(span).await;
        self.latency
            .get_or_create(&OperationLabels { r#type })
            .observe(started.elapsed().as_secs_f64());
        coded_errors::label(&mut response);
        order.apply(response)
    }

    /// Runs a prepared operation as a stream: a subscription's events, or
    /// the one response of anything else.
    pub fn run_stream(
        &self,
        prepared: Prepared,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let r#type = prepared.type_label();
        // A query or mutation over a websocket is a span of its own, in
        // the trace the socket's `connection_init` named, if it named one
        // (else in the socket's). A subscription lives as long as its
        // socket, and a shared one serves many: it has none.
        let span = match r#type {
            "subscription" => tracing::Span::none(),
            _ => {
                let span = prepared.span(r#type);
                let traceparent = session_data
                    .as_deref()
                    .and_then(|data| data.get(&std::any::TypeId::of::<Traceparent>()))
                    .and_then(|value| value.downcast_ref::<Traceparent>());
                service::telemetry::continue_trace(&span, traceparent.map(|t| t.0.as_str()));
                span
            }
        };
        let Prepared {
            request,
            refusal,
            order,
        } = prepared;
        if let Some(error) = refusal {
            return futures::stream::once(std::future::ready(refused(error))).boxed();
        }
        let started = Instant::now();
        // A query or mutation sent over a websocket answers once; a
        // subscription's events come when they happen, not a latency.
        let mut first = (r#type != "subscription").then(|| {
            self.latency
                .get_or_create(&OperationLabels { r#type })
                .clone()
        });
        let mut responses = self
            .schema
            .execute_stream_with_session_data(request, session_data.unwrap_or_default());
        // Polled inside the span, so what the operation writes joins its trace.
        futures::stream::poll_fn(move |cx| {
            let _entered = span.enter();
            responses.poll_next_unpin(cx)
        })
        .map(move |mut response| {
            if let Some(histogram) = first.take() {
                histogram.observe(started.elapsed().as_secs_f64());
            }
            coded_errors::label(&mut response);
            order.apply(response)
        })
        .boxed()
    }
}

/// The trace a websocket's `connection_init` payload named in its
/// `traceparent` field, kept with the connection's data.
pub struct Traceparent(pub String);

fn refused(error: ServerError) -> Response {
    let mut response = Response::from_errors(vec![error]);
    coded_errors::label(&mut response);
    response
}

impl Executor for Pipeline {
    async fn execute(&self, request: Request) -> Response {
        self.run(self.prepare(request)).await
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        self.run_stream(self.prepare(request), session_data)
    }
}

impl Prepared {
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The operation's type, as the latency histograms label it.
    fn type_label(&self) -> &'static str {
        match self.operation_types().as_slice() {
            [OperationType::Query] => "query",
            [OperationType::Mutation] => "mutation",
            [OperationType::Subscription] => "subscription",
            _ => "unknown",
        }
    }

    /// The operation's span, when spans are exported; none otherwise.
    fn span(&self, kind: &'static str) -> tracing::Span {
        if !service::telemetry::exporting() {
            return tracing::Span::none();
        }
        // Named by the request, or by the document's only operation.
        let name = match (&self.request.operation_name, self.document()) {
            (Some(name), _) => name.as_str(),
            (None, Some(document)) => match &document.operations {
                DocumentOperations::Multiple(ops) if ops.len() == 1 => {
                    ops.keys().next().map_or("", |name| name.as_str())
                }
                _ => "",
            },
            (None, None) => "",
        };
        let title = format!("{kind} {name}");
        tracing::info_span!(
            "graphql",
            otel.name = title.trim_end(),
            graphql.operation.type = kind,
            graphql.operation.name = name,
        )
    }

    /// Adds to the request's data (who is calling, say).
    pub fn with(mut self, attach: impl FnOnce(Request) -> Request) -> Self {
        self.request = attach(self.request);
        self
    }

    pub fn document(&self) -> Option<&ExecutableDocument> {
        self.order.document()
    }

    /// The operation that runs, when the document names one clearly.
    pub fn operation(&self) -> Option<&OperationDefinition> {
        let document = self.document()?;
        match (&document.operations, &self.request.operation_name) {
            (DocumentOperations::Single(op), _) => Some(&op.node),
            (DocumentOperations::Multiple(ops), Some(name)) => {
                ops.get(name.as_str()).map(|op| &op.node)
            }
            (DocumentOperations::Multiple(_), None) => None,
        }
    }

    /// Whether the operation selects a field whose answer depends on who
    /// asks (`graphql::query::VIEWER_FIELDS`), at its root, fragments
    /// included; true when it cannot tell (no single operation).
    pub fn reads_viewer(&self) -> bool {
        let Some(document) = self.document() else {
            return true;
        };
        // A document's only operation runs without being named.
        let operation = self.operation().or(match &document.operations {
            DocumentOperations::Multiple(ops) if ops.len() == 1 => {
                ops.values().next().map(|op| &op.node)
            }
            _ => None,
        });
        let Some(operation) = operation else {
            return true;
        };
        selects_viewer_fields(
            document,
            &operation.selection_set.node,
            &mut Default::default(),
        )
    }

    /// The type of the operation that runs; when several could and none is
    /// named (which fails when it runs), the types of them all; none when
    /// the document does not parse.
    pub fn operation_types(&self) -> Vec<OperationType> {
        let Some(document) = self.document() else {
            return Vec::new();
        };
        match (&document.operations, &self.request.operation_name) {
            (DocumentOperations::Multiple(ops), None) => {
                ops.values().map(|op| op.node.ty).collect()
            }
            _ => self.operation().map(|op| op.ty).into_iter().collect(),
        }
    }
}

/// Whether a root selection set selects a viewer field, directly or
/// through its fragments. Each fragment is walked once (a fragment seen
/// before added nothing), so the cost is linear in the document's size
/// whatever its spreads expand to.
fn selects_viewer_fields(
    document: &ExecutableDocument,
    selections: &async_graphql::parser::types::SelectionSet,
    seen: &mut std::collections::HashSet<async_graphql::Name>,
) -> bool {
    use async_graphql::parser::types::Selection;
    selections
        .items
        .iter()
        .any(|selection| match &selection.node {
            Selection::Field(field) => {
                crate::graphql::query::VIEWER_FIELDS.contains(&field.node.name.node.as_str())
            }
            Selection::InlineFragment(fragment) => {
                selects_viewer_fields(document, &fragment.node.selection_set.node, seen)
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                if !seen.insert(name.clone()) {
                    return false;
                }
                document.fragments.get(name).is_none_or(|fragment| {
                    selects_viewer_fields(document, &fragment.node.selection_set.node, seen)
                })
            }
        })
}
