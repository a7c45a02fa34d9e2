//! Load client for live fan-out. `fanout run` logs in as a feeder, starts
//! M matches, has worker processes (`fanout subscribe`, spawned by `run`)
//! open N graphql-transport-ws subscriptions to `matchEvents` over
//! 127.0.0.x source addresses at a controlled ramp, records goals at a
//! rate, and reports per event the share of subscribers that got it, the
//! latency from the mutation's send to each arrival, connection failures,
//! the api's RSS per idle subscriber and the CPU split. See README.md.

use std::collections::HashMap;
use std::io::{BufRead as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use futures::{SinkExt as _, StreamExt as _};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt as _;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

/// The README's `matchEvents` selection.
const SUBSCRIPTION: &str = "subscription($id: ID!, $after: Int!) { matchEvents(matchId: $id, afterSeq: $after) { seq kind minute team { name } player cancelled } }";

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs a whole measurement and prints its report as JSON.
    Run(RunArgs),
    /// One worker process: opens subscriptions, and on end of stdin prints
    /// what arrived when. Started by `run`.
    Subscribe(SubscribeArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// The api replicas' base URLs; subscribers are spread over them and
    /// the feed writes to the first.
    #[arg(long, required = true, value_delimiter = ',')]
    url: Vec<String>,
    /// The api replicas' process ids, for RSS and CPU.
    #[arg(long, value_delimiter = ',')]
    api_pid: Vec<u32>,
    /// A FEED or ADMIN account (see README.md for `api create-user`).
    #[arg(long)]
    email: String,
    #[arg(long)]
    password: String,
    /// Subscribers in all.
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// Matches the subscribers spread over (1: one hot match).
    #[arg(long, default_value_t = 1)]
    matches: usize,
    /// New connections per second, over all workers.
    #[arg(long, default_value_t = 2000)]
    ramp_per_sec: u32,
    /// Worker processes; each holds at most about 19,000 sockets.
    #[arg(long, default_value_t = 1)]
    processes: usize,
    /// Source addresses 127.0.0.1 ..= 127.0.0.N, to stay clear of the
    /// ephemeral ports of one address.
    #[arg(long, default_value_t = 4)]
    sources: u8,
    /// Goals to record (with `--rate 0`: record for `--duration` seconds).
    #[arg(long, default_value_t = 20)]
    events: usize,
    /// Goals per second; 0 records as fast as the feed answers.
    #[arg(long, default_value_t = 2.0)]
    rate: f64,
    /// With `--rate 0`: seconds to record for.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// With `--rate 0`: concurrent feed writers.
    #[arg(long, default_value_t = 8)]
    writers: usize,
    /// Seconds to wait for the last deliveries after the last write.
    #[arg(long, default_value_t = 5)]
    drain: u64,
}

#[derive(clap::Args)]
struct SubscribeArgs {
    #[arg(long, value_delimiter = ',')]
    url: Vec<String>,
    /// `match_id:after_seq` for each match; sockets take them in turn.
    #[arg(long, value_delimiter = ',')]
    matches: Vec<String>,
    #[arg(long)]
    count: usize,
    /// Index of this worker's first socket, for spreading.
    #[arg(long, default_value_t = 0)]
    offset: usize,
    #[arg(long)]
    ramp_per_sec: u32,
    #[arg(long)]
    sources: u8,
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Run(args) => tokio::runtime::Runtime::new()?.block_on(run(args)),
        // A subscriber process runs on one thread: its sockets never wait
        // for each other, and it spends nothing on handing tasks and
        // arrivals between threads, on the cores it shares with the api.
        Command::Subscribe(args) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(subscribe(args)),
    }
}

// ---- worker ------------------------------------------------------------

async fn subscribe(args: SubscribeArgs) -> anyhow::Result<()> {
    let targets: Vec<SocketAddr> = args
        .url
        .iter()
        .map(|u| {
            u.trim_start_matches("http://")
                .trim_end_matches('/')
                .parse()
                .context("--url must be http://IP:PORT")
        })
        .collect::<anyhow::Result<_>>()?;
    let matches: Vec<(String, i64)> = args
        .matches
        .iter()
        .map(|m| {
            let (id, after) = m.split_once(':').unwrap_or((m, "0"));
            (id.to_owned(), after.parse().unwrap_or(0))
        })
        .collect();
    // Each socket notes its arrivals here itself, on this one thread.
    let arrived = Arrivals::default();
    let (failed_tx, mut failed_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let interval = Duration::from_secs_f64(1.0 / f64::from(args.ramp_per_sec.max(1)));
    let mut ticker = tokio::time::interval(interval);
    for i in 0..args.count {
        ticker.tick().await;
        let n = args.offset + i;
        let target = targets[n % targets.len()];
        let which = n % matches.len();
        let (match_id, after) = matches[which].clone();
        let source = Ipv4Addr::new(127, 0, 0, 1 + (n % usize::from(args.sources.max(1))) as u8);
        let (arrived, failed) = (arrived.clone(), failed_tx.clone());
        tokio::spawn(async move {
            if let Err(err) = hold(target, source, (which, match_id), after, arrived).await {
                let _ = failed.send(format!("{err:#}"));
            }
        });
    }
    drop(failed_tx);
    eprintln!("worker: {} connections started", args.count);
    // Run until `run` closes our stdin, collecting failures meanwhile.
    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut failures: Vec<String> = Vec::new();
    loop {
        tokio::select! {
            line = stdin.next_line() => if !matches!(line, Ok(Some(_))) { break },
            Some(f) = failed_rx.recv() => failures.push(f),
        }
    }
    // Arrivals are noted as they come and grouped by match (its index) and
    // seq only for the report: the subscribers share the machine with the
    // api they measure, so what they cost per message is kept low.
    let mut seen: HashMap<(usize, i64), Vec<u64>> = HashMap::new();
    for a in arrived.take() {
        seen.entry((a.match_index, a.seq)).or_default().push(a.at);
    }
    while let Ok(f) = failed_rx.try_recv() {
        failures.push(f);
    }
    let arrivals: HashMap<String, Vec<u64>> = seen
        .into_iter()
        .map(|((m, seq), at)| (format!("{}:{seq}", matches[m].0), at))
        .collect();
    let report = json!({ "failures": failures, "arrivals": arrivals });
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &report)?;
    writeln!(out)?;
    out.flush()?;
    std::process::exit(0);
}

/// Every arrival at this process's subscribers, in the order they came.
#[derive(Clone, Default)]
struct Arrivals(std::sync::Arc<std::sync::Mutex<Vec<Arrival>>>);

impl Arrivals {
    fn note(&self, arrival: Arrival) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(arrival);
    }

    fn take(&self) -> Vec<Arrival> {
        std::mem::take(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// An event's arrival at one subscriber.
struct Arrival {
    /// The match's place in `--matches`.
    match_index: usize,
    seq: i64,
    /// Microseconds since the epoch.
    at: u64,
}

/// What a subscriber reads of a graphql-transport-ws message: its type
/// and, in a `next`, the event's seq. The rest is skipped unread.
#[derive(Deserialize)]
struct Incoming<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    payload: Option<Payload>,
}

#[derive(Deserialize)]
struct Payload {
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "matchEvents")]
    match_events: Option<Event>,
}

#[derive(Deserialize)]
struct Event {
    seq: i64,
}

/// One subscriber: connect from `source`, handshake, subscribe, and report
/// each event's arrival until the socket ends.
async fn hold(
    target: SocketAddr,
    source: Ipv4Addr,
    (match_index, match_id): (usize, String),
    after: i64,
    arrived: Arrivals,
) -> anyhow::Result<()> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((source, 0)))?;
    let stream = socket.connect(target).await.context("connect")?;
    stream.set_nodelay(true)?;
    let mut request = format!("ws://{target}/graphql").into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let (mut ws, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .context("upgrade")?;
    ws.send(Message::Text(
        json!({ "type": "connection_init", "payload": {} })
            .to_string()
            .into(),
    ))
    .await?;
    ws.send(Message::Text(
        json!({ "id": "1", "type": "subscribe", "payload": {
            "query": SUBSCRIPTION, "variables": { "id": match_id, "after": after } } })
        .to_string()
        .into(),
    ))
    .await?;
    while let Some(message) = ws.next().await {
        let Message::Text(text) = message? else {
            continue;
        };
        let at = now_micros();
        let message: Incoming = serde_json::from_str(&text)?;
        match message.kind {
            "next" => {
                let seq = message
                    .payload
                    .and_then(|p| p.data)
                    .and_then(|d| d.match_events)
                    .map(|e| e.seq)
                    .with_context(|| format!("unexpected payload {text}"))?;
                arrived.note(Arrival {
                    match_index,
                    seq,
                    at,
                });
            }
            "ping" => {
                ws.send(Message::Text(r#"{"type":"pong"}"#.into())).await?;
            }
            "error" | "complete" => bail!("subscription ended: {text}"),
            _ => {}
        }
    }
    bail!("socket closed")
}

// ---- run ---------------------------------------------------------------

struct Feed {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Feed {
    async fn graphql(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        let body: Value = self
            .http
            .post(format!("{}/graphql", self.url))
            .bearer_auth(&self.token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await?
            .json()
            .await?;
        if !body["errors"].is_null() {
            bail!("GraphQL errors: {}", body["errors"]);
        }
        Ok(body["data"].clone())
    }
}

/// (utime + stime) of a process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let (user, kernel) = cpu_split(pid);
    user + kernel
}

/// The user and kernel (utime, stime) CPU seconds of a process. On
/// loopback the kernel's share includes much of the receiving side's TCP
/// work, done in the sender's system call.
fn cpu_split(pid: u32) -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return (0.0, 0.0);
    };
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields 14 and 15 of stat, counted after the name (state is the 3rd).
    (ticks(11) / 100.0, ticks(12) / 100.0)
}

fn per_delivery_us(seconds: f64, deliveries: usize) -> f64 {
    (seconds * 1e6 / deliveries.max(1) as f64 * 10.0).round() / 10.0
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

async fn open_subscriptions(http: &reqwest::Client, urls: &[String]) -> u64 {
    let mut total = 0;
    for url in urls {
        if let Ok(response) = http.get(format!("{url}/metrics")).send().await
            && let Ok(text) = response.text().await
        {
            total += text
                .lines()
                .find_map(|l| l.strip_prefix("inthegame_open_subscriptions "))
                .and_then(|n| n.trim().parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    total
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let base = args.url[0].trim_end_matches('/').to_owned();
    let login: Value = http
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
                       "variables": { "e": args.email, "p": args.password } }))
        .send()
        .await?
        .json()
        .await?;
    let token = login["data"]["login"]["token"]
        .as_str()
        .with_context(|| format!("login failed: {login}"))?
        .to_owned();
    let feed = Feed {
        http: http.clone(),
        url: base.clone(),
        token,
    };

    // M scheduled matches (the demo's imported fixtures), started now.
    let page = feed
        .graphql(
            "query($n: Int!) { matches(first: $n, filter: { status: [SCHEDULED] }) { nodes { id homeTeam { id } } } }",
            json!({ "n": args.matches }),
        )
        .await?;
    let nodes = page["matches"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if nodes.len() < args.matches {
        bail!(
            "only {} scheduled matches; start the api with DEMO=true on a fresh database",
            nodes.len()
        );
    }
    let mut matches = Vec::new();
    for node in &nodes {
        let id = node["id"].as_str().unwrap_or_default().to_owned();
        let started = feed
            .graphql(
                "mutation($m: ID!) { startMatch(matchId: $m) { match { lastEventSeq } } }",
                json!({ "m": id }),
            )
            .await?;
        let seq = started["startMatch"]["match"]["lastEventSeq"]
            .as_i64()
            .unwrap_or(0);
        matches.push((
            id,
            node["homeTeam"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            seq,
        ));
    }
    let match_arg: Vec<String> = matches
        .iter()
        .map(|(id, _, seq)| format!("{id}:{seq}"))
        .collect();

    let rss_before: u64 = args.api_pid.iter().map(|p| rss_kib(*p)).sum();
    let exe = std::env::current_exe()?;
    let per = args.subscribers.div_ceil(args.processes.max(1));
    let mut workers = Vec::new();
    let mut offset = 0;
    while offset < args.subscribers {
        let count = per.min(args.subscribers - offset);
        let child = std::process::Command::new(&exe)
            .arg("subscribe")
            .arg(format!("--url={}", args.url.join(",")))
            .arg(format!("--matches={}", match_arg.join(",")))
            .arg(format!("--count={count}"))
            .arg(format!("--offset={offset}"))
            .arg(format!(
                "--ramp-per-sec={}",
                (args.ramp_per_sec as usize / args.processes.max(1)).max(1)
            ))
            .arg(format!("--sources={}", args.sources))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        workers.push(child);
        offset += count;
    }

    // Idle: every subscription open.
    let ramp_started = Instant::now();
    let want = args.subscribers as u64;
    let mut open = 0;
    let deadline = ramp_started
        + Duration::from_secs_f64(
            args.subscribers as f64 / f64::from(args.ramp_per_sec) * 3.0 + 30.0,
        );
    while Instant::now() < deadline {
        open = open_subscriptions(&http, &args.url).await;
        if open >= want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let ramp_secs = ramp_started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle: u64 = args.api_pid.iter().map(|p| rss_kib(*p)).sum();
    let worker_pids: Vec<u32> = workers.iter().map(|w| w.id()).collect();
    let cpu = |pids: &[u32]| pids.iter().map(|p| cpu_seconds(*p)).sum::<f64>();
    let api_kernel = |pids: &[u32]| pids.iter().map(|p| cpu_split(*p).1).sum::<f64>();
    let api_kernel0 = api_kernel(&args.api_pid);
    let (api_cpu0, workers_cpu0, own_cpu0) = (
        cpu(&args.api_pid),
        cpu(&worker_pids),
        cpu(&[std::process::id()]),
    );

    // Record goals; remember each one's send time.
    let mut sent: HashMap<String, u64> = HashMap::new();
    let mut write_ms: Vec<u64> = Vec::new();
    let started = Instant::now();
    if args.rate > 0.0 {
        let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate));
        for i in 0..args.events {
            ticker.tick().await;
            let (id, team, _) = &matches[i % matches.len()];
            let at = now_micros();
            let t = Instant::now();
            let data = feed
                .graphql(
                    "mutation($m: ID!, $t: ID!) { recordMatchEvent(matchId: $m, input: { kind: GOAL, minute: 10, teamId: $t }) { event { seq } } }",
                    json!({ "m": id, "t": team }),
                )
                .await?;
            write_ms.push(t.elapsed().as_micros() as u64);
            let seq = data["recordMatchEvent"]["event"]["seq"]
                .as_i64()
                .unwrap_or(0);
            sent.insert(format!("{id}:{seq}"), at);
        }
    } else {
        let stop = Instant::now() + Duration::from_secs(args.duration);
        let mut tasks = Vec::new();
        for w in 0..args.writers {
            let feed = Feed {
                http: feed.http.clone(),
                url: feed.url.clone(),
                token: feed.token.clone(),
            };
            let mine: Vec<(String, String)> = matches
                .iter()
                .enumerate()
                .filter(|(i, _)| i % args.writers == w)
                .map(|(_, (id, team, _))| (id.clone(), team.clone()))
                .collect();
            tasks.push(tokio::spawn(async move {
                let mut out = Vec::new();
                let mut i = 0;
                while Instant::now() < stop && !mine.is_empty() {
                    let (id, team) = &mine[i % mine.len()];
                    i += 1;
                    let at = now_micros();
                    let t = Instant::now();
                    let Ok(data) = feed
                        .graphql(
                            "mutation($m: ID!, $t: ID!) { recordMatchEvent(matchId: $m, input: { kind: GOAL, minute: 10, teamId: $t }) { event { seq } } }",
                            json!({ "m": id, "t": team }),
                        )
                        .await
                    else {
                        continue;
                    };
                    let seq = data["recordMatchEvent"]["event"]["seq"].as_i64().unwrap_or(0);
                    out.push((format!("{id}:{seq}"), at, t.elapsed().as_micros() as u64));
                }
                out
            }));
        }
        for task in tasks {
            for (key, at, micros) in task.await? {
                sent.insert(key, at);
                write_ms.push(micros);
            }
        }
    }
    let record_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(args.drain)).await;
    let api_kernel_cpu = api_kernel(&args.api_pid) - api_kernel0;
    let (api_cpu, workers_cpu, own_cpu) = (
        cpu(&args.api_pid) - api_cpu0,
        cpu(&worker_pids) - workers_cpu0,
        cpu(&[std::process::id()]) - own_cpu0,
    );

    // Collect what each worker saw.
    let mut arrivals: HashMap<String, Vec<u64>> = HashMap::new();
    let mut failures = 0usize;
    let mut failure_samples: Vec<String> = Vec::new();
    for mut worker in workers {
        drop(worker.stdin.take());
        let stdout = worker.stdout.take().context("worker stdout")?;
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            line
        })
        .await?;
        let _ = worker.wait();
        let report: Value = serde_json::from_str(&line).context("worker report")?;
        if let Some(f) = report["failures"].as_array() {
            failures += f.len();
            failure_samples.extend(
                f.iter()
                    .take(3)
                    .filter_map(|v| v.as_str().map(str::to_owned)),
            );
        }
        if let Some(map) = report["arrivals"].as_object() {
            for (key, times) in map {
                let entry = arrivals.entry(key.clone()).or_default();
                entry.extend(
                    times
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_u64),
                );
            }
        }
    }

    // Per event: share delivered and latency from the mutation's send.
    let per_match = |id: &str| {
        let i = matches.iter().position(|(m, _, _)| m == id).unwrap_or(0);
        (0..args.subscribers)
            .filter(|n| n % matches.len() == i)
            .count()
    };
    let mut latencies: Vec<u64> = Vec::new();
    let mut shares: Vec<f64> = Vec::new();
    for (key, at) in &sent {
        let id = key.split(':').next().unwrap_or_default();
        let times = arrivals.get(key).cloned().unwrap_or_default();
        shares.push(times.len() as f64 / per_match(id).max(1) as f64);
        latencies.extend(times.iter().map(|t| t.saturating_sub(*at)));
    }
    latencies.sort_unstable();
    write_ms.sort_unstable();
    shares.sort_by(f64::total_cmp);
    let report = json!({
        "subscribers": args.subscribers,
        "matches": args.matches,
        "replicas": args.url.len(),
        "open_subscriptions_seen": open,
        "ramp_seconds": (ramp_secs * 10.0).round() / 10.0,
        "connection_failures": failures,
        "failure_samples": failure_samples,
        "events_recorded": sent.len(),
        "events_per_second": (sent.len() as f64 / record_secs * 10.0).round() / 10.0,
        "delivered_share_min": shares.first().copied().unwrap_or(0.0),
        "delivered_share_mean": shares.iter().sum::<f64>() / shares.len().max(1) as f64,
        "events_fully_delivered": shares.iter().filter(|s| **s >= 1.0).count(),
        "deliveries": latencies.len(),
        "latency_ms": { "p50": percentile(&latencies, 0.5), "p99": percentile(&latencies, 0.99), "max": percentile(&latencies, 1.0) },
        "feed_write_ms": { "p50": percentile(&write_ms, 0.5), "p99": percentile(&write_ms, 0.99), "max": percentile(&write_ms, 1.0) },
        "api_rss_kib": { "before": rss_before, "idle": rss_idle,
            "per_idle_subscriber_kib": (rss_idle.saturating_sub(rss_before)) as f64 / args.subscribers.max(1) as f64 },
        "cpu_seconds_during_events": { "api": api_cpu, "api_kernel": api_kernel_cpu,
            "subscriber_workers": workers_cpu, "feed_client": own_cpu },
        "api_cpu_per_delivery_us": {
            "all": per_delivery_us(api_cpu, latencies.len()),
            "kernel": per_delivery_us(api_kernel_cpu, latencies.len()),
        },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
