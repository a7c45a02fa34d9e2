//! Tells every process when a mutation that may change public data ran,
//! so that results remembered from before it (the response cache) are not
//! served after it. On every transport: HTTP and both websocket protocols
//! execute through the schema.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection};
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
        // Any mutation in the document that may change public data,
        // whichever operation runs: an extra announcement only costs the
        // cache a miss, a missing one serves a stale answer.
        let public = document.operations.iter().any(|(_, operation)| {
            operation.node.ty == OperationType::Mutation
                && operation.node.selection_set.node.items.iter().any(|item| {
                    !matches!(&item.node, Selection::Field(field)
                        if PRIVATE.contains(&field.node.name.node.as_str()))
                })
        });
        self.mutation.store(public, Ordering::Relaxed);
        Ok(document)
    }
}

/// Mutations that change only what their own user (or an admin) sees,
/// never what an anonymous query can read: a document of these alone
/// leaves the cached answers be, so that sign-ins and read marks do not
/// flush the cache on a busy day. Anything not listed is announced.
const PRIVATE: &[&str] = &[
    "register",
    "login",
    "logout",
    "deleteAccount",
    "setUserRole",
    "createCalendarToken",
    "revokeCalendarToken",
    "followTeam",
    "unfollowTeam",
    "revealMatch",
    "markNotificationsRead",
    "markAllNotificationsRead",
    "sendDigest",
    "redeliver",
    "updateNotificationPreferences",
    "rotateWebhookSecret",
];
