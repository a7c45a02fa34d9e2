//! How a GraphQL request executes, the same on HTTP and on both websocket
//! protocols. The transport hands over a decoded request; [`Pipeline::prepare`]
//! does the work that needs only the request, once: the document limits (one
//! lexical scan, one parse, one walk of the parsed document) and the choice
//! of operation. The prepared request then runs on the schema, and every
//! response comes back with a code on each error (`coded_errors`) and its
//! fields in the query's order (`field_order`). Live subscriptions that
//! many sockets share run once and are serialised once (`fanout`).
//!
//! This is done around the schema rather than in schema extensions: with
//! any extension installed, async-graphql sends every field of every row
//! through the extension chain.

pub mod coded_errors;
pub mod document_limits;
pub mod fanout;
pub mod field_order;

use std::sync::Arc;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType,
};
use async_graphql::{Data, Executor, Request, Response, ServerError};
use futures::StreamExt as _;
use futures::stream::BoxStream;

use crate::graphql::AppSchema;
use document_limits::DocumentLimits;
use field_order::QueryOrder;

/// The schema and what runs around it.
#[derive(Clone)]
pub struct Pipeline {
    schema: AppSchema,
    limits: DocumentLimits,
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
    pub fn new(schema: AppSchema, limits: &crate::app::Limits) -> Self {
        Self {
            schema,
            limits: DocumentLimits::from_limits(limits),
        }
    }

    pub fn prepare(&self, mut request: Request) -> Prepared {
        let refusal = self.limits.admit(&mut request).err();
        let operation = request.operation_name.clone();
        let order = match &refusal {
            None => QueryOrder::new(request.parsed_query().ok(), operation.as_deref()),
            // A document refused for its size is still parsed (when that is
            // safe), so that its operation's type is known: a mutation sent
            // with GET is refused for that first.
            Some(_) => {
                let document = document_limits::parses_safely(&request.query)
                    .then(|| async_graphql::parser::parse_query(&request.query).ok())
                    .flatten();
                QueryOrder::new(document.as_ref(), operation.as_deref())
            }
        };
        Prepared {
            request,
            refusal,
            order,
        }
    }

    /// Runs a prepared query or mutation.
    pub async fn run(&self, prepared: Prepared) -> Response {
        let Prepared {
            request,
            refusal,
            order,
        } = prepared;
        if let Some(error) = refusal {
            return refused(error);
        }
        let mut response = self.schema.execute(request).await;
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
        let Prepared {
            request,
            refusal,
            order,
        } = prepared;
        if let Some(error) = refusal {
            return futures::stream::once(std::future::ready(refused(error))).boxed();
        }
        self.schema
            .execute_stream_with_session_data(request, session_data.unwrap_or_default())
            .map(move |mut response| {
                coded_errors::label(&mut response);
                order.apply(response)
            })
            .boxed()
    }
}

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
