//! Fans listening on `notificationReceived`, each on its own
//! graphql-transport-ws socket with its own token, counting what arrives.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context as _, bail};
use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

const SUBSCRIPTION: &str = "subscription { notificationReceived { id kind title } }";

/// How many notifications each listening fan received.
pub struct Listening {
    counts: Arc<Vec<AtomicUsize>>,
}

pub struct PushTally {
    /// Fans who received none.
    pub missing: usize,
    /// Fans who received more than one.
    pub repeated: usize,
}

impl Listening {
    /// Fans who received at least one.
    pub fn received(&self) -> usize {
        self.counts
            .iter()
            .filter(|c| c.load(Ordering::Relaxed) > 0)
            .count()
    }

    pub fn tally(&self) -> PushTally {
        let counts: Vec<usize> = self
            .counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        PushTally {
            missing: counts.iter().filter(|&&c| c == 0).count(),
            repeated: counts.iter().filter(|&&c| c > 1).count(),
        }
    }
}

/// Opens one subscription per `(user id, token)` and returns once every
/// socket is acknowledged and subscribed.
pub async fn connect(base: &str, fans: &[(i64, String)]) -> anyhow::Result<Listening> {
    let counts: Arc<Vec<AtomicUsize>> =
        Arc::new(fans.iter().map(|_| AtomicUsize::new(0)).collect());
    let url = format!("{}/graphql", base.replacen("http", "ws", 1));
    let (ready_tx, mut ready_rx) =
        tokio::sync::mpsc::channel::<anyhow::Result<()>>(fans.len().max(1));
    for (i, (_, token)) in fans.iter().enumerate() {
        let (url, token, counts, ready) =
            (url.clone(), token.clone(), counts.clone(), ready_tx.clone());
        tokio::spawn(async move {
            if let Err(err) = listen(&url, &token, i, &counts, &ready).await {
                let _ = ready.send(Err(err)).await;
            }
        });
    }
    drop(ready_tx);
    for _ in fans {
        match ready_rx.recv().await {
            Some(Ok(())) => {}
            Some(Err(err)) => return Err(err.context("a listening fan could not subscribe")),
            None => bail!("the listening fans' tasks ended"),
        }
    }
    // The subscriptions are sent; give the server a moment to open them.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    Ok(Listening { counts })
}

async fn listen(
    url: &str,
    token: &str,
    index: usize,
    counts: &[AtomicUsize],
    ready: &tokio::sync::mpsc::Sender<anyhow::Result<()>>,
) -> anyhow::Result<()> {
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .context("upgrade")?;
    ws.send(Message::Text(
        json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } })
            .to_string()
            .into(),
    ))
    .await?;
    while let Some(message) = ws.next().await {
        let Message::Text(text) = message? else {
            continue;
        };
        let value: Value = serde_json::from_str(&text)?;
        match value["type"].as_str() {
            Some("connection_ack") => {
                ws.send(Message::Text(
                    json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIPTION } })
                        .to_string()
                        .into(),
                ))
                .await?;
                let _ = ready.send(Ok(())).await;
            }
            Some("next") => {
                if value["payload"].get("errors").is_some() {
                    bail!("the subscription failed: {text}");
                }
                counts[index].fetch_add(1, Ordering::Relaxed);
            }
            Some("ping") => {
                ws.send(Message::Text(r#"{"type":"pong"}"#.into())).await?;
            }
            Some("error") | Some("complete") => bail!("subscription ended: {text}"),
            _ => {}
        }
    }
    Ok(())
}
