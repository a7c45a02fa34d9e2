//! Tells every process when a mutation ran, so that results remembered
//! from before it (the response cache) are not served after it. On every
//! transport: HTTP and both websocket protocols execute through the schema.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Response, ServerResult, Variables};
use service::live::bus::Bus;

pub struct AnnounceWrites(pub Bus);

impl ExtensionFactory for AnnounceWrites {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Announcer {
            bus: self.0.clone(),
            mutation: AtomicBool::new(false),
        })
    }
}

/// One per request.
struct Announcer {
    bus: Bus,
    mutation: AtomicBool,
}

#[async_trait::async_trait]
impl Extension for Announcer {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let response = next.run(ctx).await;
        // After the mutation's writes are committed and before its client
        // hears back, so its next read cannot be answered from before them.
        // Whether it succeeded or not: a failed one may have written part.
        if self.mutation.load(Ordering::Relaxed) {
            self.bus.changed();
        }
        response
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        // Any mutation in the document, whichever operation runs: an extra
        // announcement only costs the cache a miss.
        let mutation = document
            .operations
            .iter()
            .any(|(_, operation)| operation.node.ty == OperationType::Mutation);
        self.mutation.store(mutation, Ordering::Relaxed);
        Ok(document)
    }
}
