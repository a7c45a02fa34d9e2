//! The `api` binary as an operator runs it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const API: &str = env!("CARGO_BIN_EXE_api");

/// Runs `api` with a clean environment plus `vars`, in `dir`.
fn api(dir: &std::path::Path, vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(API);
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(vars.iter().copied());
    command
}

fn fails_with_one_line(dir: &std::path::Path, vars: &[(&str, &str)]) -> String {
    let output = api(dir, vars).output().expect("api runs");
    assert!(!output.status.success(), "api should refuse {vars:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.trim().lines().count(), 1, "one line, got:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn a_bad_port_is_refused_in_one_line_naming_port() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = fails_with_one_line(dir.path(), &[("PORT", "eighty")]);
    assert!(stderr.starts_with("error: PORT"), "{stderr}");
    assert!(stderr.contains("eighty"), "{stderr}");
}

#[test]
fn a_database_url_of_an_unsupported_kind_is_refused_naming_database_url() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = fails_with_one_line(dir.path(), &[("DATABASE_URL", "mysql://root@localhost/x")]);
    assert!(stderr.starts_with("error: DATABASE_URL"), "{stderr}");
}

#[test]
fn an_unreachable_database_is_refused_naming_database_url() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = fails_with_one_line(
        dir.path(),
        &[(
            "DATABASE_URL",
            "postgres://nobody:secret@127.0.0.1:1/nothing",
        )],
    );
    assert!(stderr.starts_with("error: DATABASE_URL"), "{stderr}");
    assert!(!stderr.contains("secret"), "the password leaked: {stderr}");
    assert!(
        stderr.contains("connection refused by 127.0.0.1:1: is PostgreSQL running"),
        "{stderr}"
    );
}

#[test]
fn a_bad_demo_minute_length_is_refused_with_its_range() {
    let dir = tempfile::tempdir().unwrap();
    for value in ["-1", "60001", "fast"] {
        let stderr = fails_with_one_line(dir.path(), &[("DEMO_MINUTE_MS", value)]);
        assert!(stderr.starts_with("error: DEMO_MINUTE_MS"), "{stderr}");
        assert!(stderr.contains("from 0 (no replays) to 60000"), "{stderr}");
    }
}

#[test]
fn a_bad_log_format_is_refused_naming_log_format() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = fails_with_one_line(dir.path(), &[("LOG_FORMAT", "xml")]);
    assert!(stderr.starts_with("error: LOG_FORMAT"), "{stderr}");
    assert!(stderr.contains("text, json"), "{stderr}");
}

#[test]
fn print_schema_prints_the_sdl() {
    let dir = tempfile::tempdir().unwrap();
    let output = api(dir.path(), &[]).arg("print-schema").output().unwrap();
    assert!(output.status.success());
    let sdl = String::from_utf8(output.stdout).unwrap();
    assert!(sdl.contains("type Query"), "{sdl}");
}

/// The newcomer's path: no configuration at all.
#[test]
fn with_nothing_configured_it_serves_on_sqlite_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = api(dir.path(), &[("PORT", "0")])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut graphiql = None;
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some(at) = line.find("GraphiQL: ") {
            graphiql = Some(line[at + "GraphiQL: ".len()..].trim().to_owned());
            break;
        }
        assert!(Instant::now() < deadline, "no GraphiQL URL printed");
    }
    let graphiql = graphiql.expect("the GraphiQL URL is printed on start");
    assert!(
        graphiql.starts_with("http://127.0.0.1:") && graphiql.ends_with("/graphql"),
        "{graphiql}"
    );
    assert!(
        dir.path().join("data/inthegame.db").exists(),
        "the SQLite file was not created"
    );

    let body: serde_json::Value =
        reqwest::blocking_get_json(&graphiql.replace("/graphql", "/ready"));
    assert_eq!(body["checks"]["database"], "ok");

    // The container healthcheck: the binary asks its own `/ready`.
    let port = graphiql
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches("/graphql");
    let healthy = api(dir.path(), &[("PORT", port)])
        .arg("healthcheck")
        .status()
        .unwrap();
    assert!(healthy.success(), "healthcheck failed on a ready server");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "api exited with {exit} on SIGTERM");
    let output = api(dir.path(), &[("PORT", port)])
        .arg("healthcheck")
        .output()
        .unwrap();
    assert!(
        !output.status.success(),
        "healthcheck passed with no server"
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("error: cannot connect to 127.0.0.1:"),
        "{stderr}"
    );
}

mod reqwest {
    /// A tiny blocking GET over a fresh runtime; the test itself is sync.
    pub fn blocking_get_json(url: &str) -> serde_json::Value {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async { ::reqwest::get(url).await.unwrap().json().await.unwrap() })
    }
}
