//! What admins watch: deliveries by status and the dead letters.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Object};
use sea_orm::DatabaseConnection;

use crate::graphql::error::{GqlResultExt as _, bad_input};
use crate::graphql::guards::RoleGuard;
use crate::graphql::types::delivery::{Delivery, DeliveryPage, DeliveryStatus};

#[derive(Default)]
pub struct OperationsQuery;

#[Object]
impl OperationsQuery {
    /// Deliveries, newest first; with `status`, only those. Admins only.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        status: Option<DeliveryStatus>,
        #[graphql(default = 20, desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Delivery, DeliveryPage>> {
        page(ctx, status.map(Into::into), first, after).await
    }

    /// Dead-lettered deliveries: every attempt failed. Each one can be
    /// sent again with `redeliver`. Admins only.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn dead_letters(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Delivery, DeliveryPage>> {
        page(ctx, Some(entity::DeliveryStatus::Dead), first, after).await
    }

    /// Digest and reminder jobs that failed every attempt, newest first
    /// (at most `first`, 1 to 100). Admins only.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn failed_jobs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> async_graphql::Result<Vec<FailedJob>> {
        let first = u64::try_from(first)
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| bad_input("first", "must be between 1 and 100"))?;
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let jobs = service::dead_jobs::latest(db, first).await.gql()?;
        Ok(jobs.into_iter().map(FailedJob).collect())
    }
}

/// A job that failed its last attempt.
pub struct FailedJob(entity::dead_job::Model);

#[Object]
impl FailedJob {
    async fn id(&self) -> async_graphql::ID {
        async_graphql::ID(self.0.id.to_string())
    }
    /// `digests` or `reminders`.
    async fn queue(&self) -> &str {
        &self.0.queue
    }
    /// What the job was asked to do, e.g. `{"user_id": 7, "kind": "daily", …}`.
    async fn args(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(self.0.job.clone())
    }
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    async fn last_error(&self) -> &str {
        &self.0.last_error
    }
    async fn failed_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.failed_at
    }
}

async fn page(
    ctx: &Context<'_>,
    status: Option<entity::DeliveryStatus>,
    first: i32,
    after: Option<String>,
) -> async_graphql::Result<Connection<String, Delivery, DeliveryPage>> {
    use service::notifications::deliveries::page;
    use service::pagination::MAX_PAGE;
    let first = u64::try_from(first)
        .ok()
        .filter(|n| (1..=MAX_PAGE).contains(n))
        .ok_or_else(|| bad_input("first", format!("must be between 1 and {MAX_PAGE}")))?;
    let after = after
        .as_deref()
        .map(|cursor| {
            cursor
                .strip_prefix('d')
                .and_then(|id| id.parse::<i64>().ok())
                .filter(|id| *id > 0)
                .ok_or_else(|| bad_input("after", "is not a cursor from this connection"))
        })
        .transpose()?;
    let db = ctx.data_unchecked::<DatabaseConnection>();
    let page = page(db, status, first, after).await.gql()?;
    let mut connection = Connection::with_additional_fields(
        after.is_some(),
        page.has_next_page,
        DeliveryPage {
            total_count: i32::try_from(page.total_count).unwrap_or(i32::MAX),
        },
    );
    connection.edges.extend(
        page.items
            .into_iter()
            .map(|d| Edge::new(format!("d{}", d.id), Delivery(d))),
    );
    Ok(connection)
}
