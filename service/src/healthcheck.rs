//! The `healthcheck` subcommand of both binaries: one HTTP GET to the
//! process's own probe, so a container image needs no curl or wget for
//! its healthcheck.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Longest the whole check may take.
const TIMEOUT: Duration = Duration::from_secs(3);

/// GETs `path` from the server listening on `host:port` (an unspecified
/// host, as `0.0.0.0`, means this machine) and succeeds on HTTP 200.
pub async fn check(host: IpAddr, port: u16, path: &str) -> anyhow::Result<()> {
    let host = match host {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let addr = SocketAddr::new(host, port);
    let status = tokio::time::timeout(TIMEOUT, get(addr, path))
        .await
        .map_err(|_| anyhow::anyhow!("no answer from http://{addr}{path} within {TIMEOUT:?}"))??;
    anyhow::ensure!(
        status == "200",
        "http://{addr}{path} answered {status}, not 200"
    );
    Ok(())
}

/// The status code of `GET path` over HTTP/1.0 (the server closes the
/// connection after answering, so reading to the end is bounded).
async fn get(addr: SocketAddr, path: &str) -> anyhow::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| format!("cannot connect to {addr}"))?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::with_capacity(256);
    let mut buf = [0u8; 256];
    // The status line is all we need.
    while !head.contains(&b'\n') && head.len() < 4096 {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    let status = line
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .with_context(|| format!("no HTTP status line from {addr}"))?;
    Ok(status.to_owned())
}
