//! Keep-alive pings for every websocket from one shared clock: a single
//! task ticks, and each socket that has been silent for a whole interval
//! sends its protocol's ping on the next tick. No socket keeps a timer or a
//! writer task of its own.

use std::time::{Duration, Instant};

use tokio::sync::watch;

#[derive(Clone, Debug)]
pub struct Keepalive {
    every: Duration,
    ticks: watch::Receiver<()>,
}

impl Keepalive {
    /// Starts the shared clock; it ticks twice per interval, so a silent
    /// socket pings between one and one and a half intervals after its
    /// last message.
    pub fn start(every: Duration) -> Self {
        let (tick, ticks) = watch::channel(());
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(every / 2);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                if tick.send(()).is_err() {
                    break;
                }
            }
        });
        Self { every, ticks }
    }

    /// One socket's view of the clock.
    pub fn watch(&self) -> SocketClock {
        let mut ticks = self.ticks.clone();
        ticks.mark_unchanged();
        SocketClock {
            every: self.every,
            ticks,
            last_sent: Instant::now(),
        }
    }
}

pub struct SocketClock {
    every: Duration,
    ticks: watch::Receiver<()>,
    last_sent: Instant,
}

impl SocketClock {
    /// Resolves on the first tick at which the socket has been silent for
    /// a whole interval.
    pub async fn ping_due(&mut self) {
        loop {
            if self.ticks.changed().await.is_err() {
                // The clock stopped (the server is shutting down): no pings.
                std::future::pending::<()>().await;
            }
            if self.last_sent.elapsed() >= self.every {
                return;
            }
        }
    }

    pub fn sent(&mut self) {
        self.last_sent = Instant::now();
    }
}
