//! The accept loop: axum's `serve`, plus what it does not let us set. A
//! client gets `HEADER_READ_TIMEOUT_SECS` to send a request's headers (and
//! an idle keep-alive connection as long to start the next request), so
//! sockets that trickle headers a byte at a time are closed rather than
//! held open forever.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::watch;
use tower::ServiceExt as _;

/// Serves `router` until `signal` resolves, then lets the open connections
/// finish their requests (websockets close with the server's shutdown).
pub async fn serve<L>(
    mut listener: L,
    router: Router,
    header_read_timeout: Duration,
    signal: impl Future<Output = ()> + Send + 'static,
) where
    L: Listener<Addr = SocketAddr>,
{
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    // Every connection holds a receiver; shutdown waits until all are gone.
    let (closing, _) = watch::channel(());
    let mut signal = pin!(signal);
    loop {
        // The listener waits out accept errors (such as running out of
        // descriptors) itself rather than spinning on them.
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut signal => break,
        };
        let service = router
            .clone()
            .map_request(move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(remote));
                request.map(Body::new)
            });
        let connection = http
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
            .with_upgrades();
        let mut closing = closing.subscribe();
        tokio::spawn(async move {
            let mut connection = pin!(connection);
            tokio::select! {
                result = connection.as_mut() => log_end(result, remote),
                _ = closing.changed() => {
                    connection.as_mut().graceful_shutdown();
                    log_end(connection.await, remote);
                }
            }
        });
    }
    drop(listener);
    let _ = closing.send(());
    closing.closed().await;
}

fn log_end(result: Result<(), hyper::Error>, remote: SocketAddr) {
    if let Err(err) = result {
        tracing::debug!(error = %err, %remote, "connection ended with an error");
    }
}
