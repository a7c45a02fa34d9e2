//! Keeps the worker's loops running. A job worker ends when its queue
//! fails under it (the database locked or full, Redis gone); the
//! supervisor starts it again after a backoff, counts the restart, and
//! says which loops are down meanwhile, for `/ready` and `/health`.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tokio_util::sync::CancellationToken;

/// The first wait before a restart; it doubles per failure in a row.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A loop that ran this long before failing starts again from the first backoff.
const STABLE_AFTER: Duration = Duration::from_secs(60);
/// How long loops may take to finish their jobs in flight on shutdown:
/// well inside the 10 s that Docker (and Kubernetes' 30 s, with room to
/// spare) waits between SIGTERM and SIGKILL. A job still running then is
/// abandoned, not lost: it stays held by this worker's name, and another
/// worker takes it back once this one's heartbeats stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(7);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LoopLabels {
    /// `digests`, `deliveries`, `reminders`, `digest-cron` or `outbox`.
    pub worker: &'static str,
}

/// What one loop is doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoopState {
    Running,
    /// Ended on an error; restarts after the backoff.
    Down {
        error: String,
    },
}

/// The loops of this process and their restarts; clones share both.
#[derive(Clone, Default)]
pub struct Supervision {
    states: Arc<Mutex<BTreeMap<&'static str, LoopState>>>,
    pub restarts: Family<LoopLabels, Counter>,
}

impl Supervision {
    /// Each loop and its state; empty when no worker runs in this process.
    pub fn states(&self) -> BTreeMap<&'static str, LoopState> {
        self.states.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The loops that are down, by name.
    pub fn down(&self) -> Vec<&'static str> {
        self.states()
            .into_iter()
            .filter(|(_, state)| *state != LoopState::Running)
            .map(|(name, _)| name)
            .collect()
    }

    /// Each loop as `"ok"` or `"down"`, and whether all are ok, for the
    /// probes; `None` when no worker runs in this process.
    pub fn report(&self) -> Option<(bool, serde_json::Value)> {
        let states = self.states();
        if states.is_empty() {
            return None;
        }
        let all_up = states.values().all(|s| *s == LoopState::Running);
        let loops = states
            .into_iter()
            .map(|(name, state)| {
                let label = if state == LoopState::Running {
                    "ok"
                } else {
                    "down"
                };
                (name.to_owned(), serde_json::Value::from(label))
            })
            .collect::<serde_json::Map<_, _>>();
        Some((all_up, serde_json::Value::Object(loops)))
    }

    fn set(&self, name: &'static str, state: LoopState) {
        if let Ok(mut states) = self.states.lock() {
            states.insert(name, state);
        }
    }

    /// Runs `start(attempt)` until `shutdown`, starting it again with a
    /// backoff whenever it ends, fails or panics before then. `attempt`
    /// counts from 0, so a loop can take a fresh name in the job store
    /// (which refuses a name whose last heartbeat is recent).
    pub async fn supervise<F, Fut>(&self, name: &'static str, shutdown: CancellationToken, start: F)
    where
        F: Fn(usize) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 0;
        loop {
            self.set(name, LoopState::Running);
            let started = Instant::now();
            let mut run = tokio::spawn(start(attempt));
            let outcome = tokio::select! {
                outcome = &mut run => outcome,
                () = shutdown.cancelled() => {
                    match tokio::time::timeout(SHUTDOWN_GRACE, &mut run).await {
                        Ok(outcome) => outcome,
                        Err(_) => {
                            tracing::warn!(worker = name, "did not stop in time; abandoned");
                            run.abort();
                            Ok(Ok(()))
                        }
                    }
                }
            };
            if shutdown.is_cancelled() {
                if let Ok(Err(err)) = &outcome {
                    tracing::warn!(
                        worker = name,
                        error = format!("{err:#}"),
                        "stopped on an error"
                    );
                }
                break;
            }
            let error = match outcome {
                Ok(Ok(())) => "it ended by itself".to_owned(),
                Ok(Err(err)) => format!("{err:#}"),
                Err(join) => format!("it panicked: {join}"),
            };
            if started.elapsed() >= STABLE_AFTER {
                backoff = FIRST_BACKOFF;
            }
            tracing::warn!(
                worker = name,
                error = %error,
                restart_in_ms = backoff.as_millis() as u64,
                "a worker loop stopped; restarting it"
            );
            self.set(name, LoopState::Down { error });
            self.restarts
                .get_or_create(&LoopLabels { worker: name })
                .inc();
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = shutdown.cancelled() => break,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
            attempt += 1;
        }
        if let Ok(mut states) = self.states.lock() {
            states.remove(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_loop_that_fails_is_restarted_counted_and_reported_down_meanwhile() {
        let supervision = Supervision::default();
        let shutdown = CancellationToken::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let task = {
            let supervision = supervision.clone();
            let shutdown = shutdown.clone();
            let runs = runs.clone();
            tokio::spawn(async move {
                supervision
                    .supervise("digests", shutdown.clone(), move |attempt| {
                        runs.fetch_add(1, Ordering::SeqCst);
                        let shutdown = shutdown.clone();
                        async move {
                            if attempt == 0 {
                                anyhow::bail!("database is locked");
                            }
                            shutdown.cancelled().await;
                            Ok(())
                        }
                    })
                    .await;
            })
        };
        // Down during the first backoff, running again after it.
        tokio::time::sleep(FIRST_BACKOFF / 2).await;
        assert_eq!(supervision.down(), vec!["digests"]);
        tokio::time::sleep(FIRST_BACKOFF).await;
        assert!(supervision.down().is_empty());
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        let restarts = supervision
            .restarts
            .get_or_create(&LoopLabels { worker: "digests" })
            .get();
        assert_eq!(restarts, 1);
        shutdown.cancel();
        task.await.unwrap();
        assert!(supervision.states().is_empty());
    }
}
