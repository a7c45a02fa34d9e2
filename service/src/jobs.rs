//! The seam between what needs background work and the worker that does
//! it. The api queues work through a [`JobQueue`] without knowing the
//! worker: the worker implements it over its job queues, and the process
//! that composes the two hands it in.

use std::sync::Arc;

use futures::future::BoxFuture;

/// Where work for the worker is queued, and how the worker's loops in this
/// process are doing.
pub trait JobQueue: Send + Sync {
    /// Queues an attempt at each of these email or webhook deliveries,
    /// now, in as few jobs as the queue's batches allow.
    fn push_deliveries<'a>(&'a self, delivery_ids: &'a [i64]) -> BoxFuture<'a, anyhow::Result<()>>;

    /// The worker's loops running in this process, each `"ok"` or
    /// `"down"`, and whether all are ok; `None` when none run here.
    fn loops(&self) -> Option<(bool, serde_json::Value)>;
}

/// A shared handle on the job queue.
pub type Jobs = Arc<dyn JobQueue>;
