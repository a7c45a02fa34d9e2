//! The SMTP server the workers send to: a real one (mailin), which accepts
//! every mail and keeps, per recipient, how many it got and when the last
//! arrived. It does not parse bodies, so it costs the machine little next
//! to the workers it measures.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use mailin_embedded::response::{self, Response};

/// What the server received since it was last reset.
#[derive(Default)]
struct Received {
    per_recipient: HashMap<String, u32>,
    total: usize,
    first: Option<Instant>,
    last: Option<Instant>,
}

#[derive(Clone)]
pub struct Sink {
    pub url: String,
    received: Arc<Mutex<Received>>,
}

/// A summary of what arrived.
pub struct Tally {
    pub total: usize,
    pub distinct: usize,
    /// Recipients who got more than one mail.
    pub repeated: usize,
    pub first: Option<Instant>,
    pub last: Option<Instant>,
}

#[derive(Clone)]
struct Handler {
    received: Arc<Mutex<Received>>,
    to: Vec<String>,
}

impl mailin_embedded::Handler for Handler {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        response::OK
    }

    fn data(&mut self, _buf: &[u8]) -> std::io::Result<()> {
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let now = Instant::now();
        let mut received = self.received.lock().unwrap();
        for to in self.to.drain(..) {
            *received.per_recipient.entry(to).or_default() += 1;
            received.total += 1;
        }
        received.first.get_or_insert(now);
        received.last = Some(now);
        response::OK
    }
}

impl Sink {
    /// Listens on a free loopback port, with a thread per connection up to
    /// `threads` (the workers' pools together must fit).
    pub fn start(threads: u32) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let received = Arc::new(Mutex::new(Received::default()));
        let mut server = mailin_embedded::Server::new(Handler {
            received: received.clone(),
            to: Vec::new(),
        });
        server
            .with_name("smtp.bench")
            .with_ssl(mailin_embedded::SslConfig::None)
            .map_err(|e| anyhow::anyhow!("smtp: {e}"))?
            .with_num_threads(threads)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Ok(Self {
            url: format!("smtp://127.0.0.1:{port}"),
            received,
        })
    }

    pub fn reset(&self) {
        *self.received.lock().unwrap() = Received::default();
    }

    pub fn total(&self) -> usize {
        self.received.lock().unwrap().total
    }

    pub fn tally(&self) -> Tally {
        let received = self.received.lock().unwrap();
        Tally {
            total: received.total,
            distinct: received.per_recipient.len(),
            repeated: received.per_recipient.values().filter(|&&n| n > 1).count(),
            first: received.first,
            last: received.last,
        }
    }
}
