//! The signal that stops both binaries gracefully.

use std::future::Future;

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (what container runtimes send).
/// The handlers are installed when this is called, not when the future is
/// first polled: a process that says it is serving already stops
/// gracefully on a signal sent the moment it says so.
pub fn signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    let (mut interrupt, mut terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let interrupted = async {
                match &mut interrupt {
                    Some(stream) => stream.recv().await,
                    None => std::future::pending().await,
                }
            };
            let terminated = async {
                match &mut terminate {
                    Some(stream) => stream.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = interrupted => {},
                _ = terminated => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutdown signal received, finishing in-flight work");
    }
}
