//! The process's descriptor budget. Every connection holds a file
//! descriptor, and so do the database pool, Redis, log files and the
//! runtime itself; when `accept()` takes the last one, everything else that
//! needs one fails. So the server raises its soft open-files limit to the
//! hard one at start, refuses websocket upgrades (HTTP 503, `AT_CAPACITY`)
//! a margin before the limit, and past a smaller margin closes new
//! connections as soon as they are accepted, so existing subscribers,
//! queries and `/metrics` keep working at the limit.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Descriptors kept free of websockets by default: room for plain HTTP
/// requests, the database pool, Redis and files.
pub const DEFAULT_WEBSOCKET_RESERVE: u64 = 256;

/// Descriptors no connection may take: the database, Redis and files
/// need some even when clients hold every other one.
pub const CONNECTION_RESERVE: u64 = 64;

/// Raises the soft open-files limit to the hard one, and returns the limit
/// now in force with what it was before.
pub fn raise_open_files_limit() -> (u64, u64) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let before = getrlimit(Resource::Nofile);
    let soft = before.current.unwrap_or(u64::MAX);
    let Some(hard) = before.maximum else {
        return (soft, soft);
    };
    if soft >= hard {
        return (soft, soft);
    }
    let raised = Rlimit {
        current: Some(hard),
        maximum: Some(hard),
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => (hard, soft),
        Err(err) => {
            tracing::warn!(error = %err, soft, hard, "cannot raise the open-files limit");
            (soft, soft)
        }
    }
}

/// How many connections and websockets this process holds, and how many
/// it may hold.
#[derive(Debug)]
pub struct Capacity {
    connections: AtomicUsize,
    websockets: AtomicUsize,
    max_connections: usize,
    max_websockets: usize,
    last_refusal_log: std::sync::Mutex<Option<Instant>>,
}

impl Capacity {
    /// The budget for an open-files limit of `open_files`, with at most
    /// `max_websockets` websockets (default: the limit minus
    /// [`DEFAULT_WEBSOCKET_RESERVE`]).
    pub fn new(open_files: u64, max_websockets: Option<usize>) -> Self {
        let max_connections = open_files.saturating_sub(CONNECTION_RESERVE);
        let default_websockets = open_files.saturating_sub(DEFAULT_WEBSOCKET_RESERVE);
        let to_usize = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        let max_connections = to_usize(max_connections);
        Self {
            connections: AtomicUsize::new(0),
            websockets: AtomicUsize::new(0),
            max_connections,
            max_websockets: max_websockets
                .unwrap_or(to_usize(default_websockets))
                .min(max_connections),
            last_refusal_log: std::sync::Mutex::new(None),
        }
    }

    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    pub fn max_websockets(&self) -> usize {
        self.max_websockets
    }

    pub fn websockets(&self) -> usize {
        self.websockets.load(Ordering::Relaxed)
    }

    /// Resolves when no websocket is open, or after `grace`.
    pub async fn websockets_closed(&self, grace: Duration) {
        let deadline = tokio::time::Instant::now() + grace;
        while self.websockets() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Takes a websocket slot, or `None` when every slot is taken. The
    /// slot is given back when the returned guard is dropped.
    pub fn admit_websocket(self: &Arc<Self>) -> Option<WebsocketSlot> {
        let admitted = self
            .websockets
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |n| {
                (n < self.max_websockets).then_some(n + 1)
            })
            .is_ok();
        if !admitted {
            self.log_refusal("websocket upgrade refused: at the websocket limit");
        }
        admitted.then(|| WebsocketSlot(self.clone()))
    }

    /// One warning per second at most: at the limit, refusals come in floods.
    fn log_refusal(&self, message: &'static str) {
        let Ok(mut last) = self.last_refusal_log.lock() else {
            return;
        };
        if last.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
            *last = Some(Instant::now());
            tracing::warn!(
                connections = self.connections.load(Ordering::Relaxed),
                websockets = self.websockets(),
                max_connections = self.max_connections,
                max_websockets = self.max_websockets,
                "{message}"
            );
        }
    }
}

/// A websocket's place in the budget, held for the socket's life.
pub struct WebsocketSlot(Arc<Capacity>);

impl Drop for WebsocketSlot {
    fn drop(&mut self) {
        self.0.websockets.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A TCP listener that counts its open connections and closes new ones at
/// once past the connection limit, rather than letting `accept()` take the
/// descriptors the rest of the process needs.
pub struct CountingListener {
    inner: TcpListener,
    capacity: Arc<Capacity>,
}

impl CountingListener {
    pub fn new(inner: TcpListener, capacity: Arc<Capacity>) -> Self {
        Self { inner, capacity }
    }
}

impl Listener for CountingListener {
    type Io = Counted;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, addr) = Listener::accept(&mut self.inner).await;
            let capacity = &self.capacity;
            let admitted = capacity
                .connections
                .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |n| {
                    (n < capacity.max_connections).then_some(n + 1)
                })
                .is_ok();
            if admitted {
                return (
                    Counted {
                        stream,
                        capacity: capacity.clone(),
                    },
                    addr,
                );
            }
            capacity.log_refusal("connection closed on accept: at the connection limit");
            drop(stream);
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// An accepted connection, counted until it closes.
pub struct Counted {
    stream: TcpStream,
    capacity: Arc<Capacity>,
}

impl Counted {
    /// Subscribers' small frames should leave at once, not wait for
    /// Nagle's algorithm.
    pub fn set_nodelay(&mut self) {
        let _ = self.stream.set_nodelay(true);
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.capacity.connections.fetch_sub(1, Ordering::AcqRel);
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websockets_are_refused_past_the_limit_and_admitted_again_when_one_closes() {
        let capacity = Arc::new(Capacity::new(1000, Some(2)));
        let first = capacity.admit_websocket().expect("first");
        let _second = capacity.admit_websocket().expect("second");
        assert!(capacity.admit_websocket().is_none());
        drop(first);
        assert!(capacity.admit_websocket().is_some());
    }

    #[test]
    fn the_default_limits_leave_descriptors_for_the_rest_of_the_process() {
        let capacity = Capacity::new(20_000, None);
        assert_eq!(capacity.max_websockets(), 19_744);
        assert_eq!(capacity.max_connections(), 19_936);
        // A setting above the connection limit cannot hand out descriptors
        // the process keeps for itself.
        assert_eq!(Capacity::new(500, Some(10_000)).max_websockets(), 436);
    }
}
