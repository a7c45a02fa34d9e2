//! Managed Redis speaks TLS (`rediss://`): a real redis-server with a TLS
//! port and a certificate made for the test, and the `api` binary, whose
//! bus, rate limits and job queue all connect to it.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

const API: &str = env!("CARGO_BIN_EXE_api");

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success(), "openssl {args:?}");
}

/// A CA, and a certificate it signed for 127.0.0.1.
fn certificates(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-subj",
            "/CN=InTheGame test CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "redis.key",
            "-out",
            "redis.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "redis.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "san.ext",
            "-out",
            "redis.pem",
        ],
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_api_connects_its_bus_limits_and_queue_to_redis_over_tls() {
    if Command::new("redis-server")
        .arg("--version")
        .output()
        .is_err()
    {
        // CI installs redis-server; without it there is nothing to test against.
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let port = free_port();
    let redis = Killed(
        Command::new("redis-server")
            .current_dir(dir.path())
            .args([
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .args([
                "--tls-cert-file",
                "redis.pem",
                "--tls-key-file",
                "redis.key",
            ])
            .args(["--tls-ca-cert-file", "ca.pem", "--tls-auth-clients", "no"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts"),
    );
    // Until it accepts connections.
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let api_port = free_port();
    let url = format!("rediss://127.0.0.1:{port}");
    let mut api = Command::new(API);
    api.current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", api_port.to_string())
        .env("REDIS_URL", &url)
        // The test's CA, as an operator would point at a private one.
        .env("SSL_CERT_FILE", dir.path().join("ca.pem"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut api = Killed(api.spawn().expect("api starts"));
    let ready_url = format!("http://127.0.0.1:{api_port}/ready");
    let mut body = Value::Null;
    for _ in 0..200 {
        if let Some(status) = api.0.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(api.0.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            panic!("api exited with {status}: {stderr}");
        }
        if let Ok(response) = reqwest::get(&ready_url).await {
            body = response.json().await.unwrap();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(body["status"], "ready", "{body}");
    assert_eq!(body["checks"]["redis"], "ok", "{body}");

    // A request is served, its rate limit counted over the same connection.
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{api_port}/graphql"))
        .json(&serde_json::json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("ratelimit"));
    drop(api);
    drop(redis);
}
