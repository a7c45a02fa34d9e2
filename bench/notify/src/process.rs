//! The release `worker` and `api` processes under test, and what the
//! kernel says they cost (`/proc`).

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context as _;

/// A child process, killed when dropped so a failed run leaves none behind.
pub struct Running {
    child: Child,
    pub name: String,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// User + system CPU seconds used so far.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(self.pid()).unwrap_or(0.0)
    }

    /// The peak resident set, in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        peak_rss_kib(self.pid()).unwrap_or(0) as f64 / 1024.0
    }

    /// Exits with a non-zero status when the process has died.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            anyhow::bail!("{} exited early: {status}", self.name);
        }
        Ok(())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// When the dispatchers of all workers had queued `n` digests in total,
/// read from their JSON logs ("digests queued", with a `count`).
#[derive(Clone, Default)]
pub struct Dispatched {
    inner: Arc<Mutex<(usize, Option<Instant>)>>,
}

impl Dispatched {
    pub fn reset(&self) {
        *self.inner.lock().unwrap() = (0, None);
    }

    pub fn count(&self) -> usize {
        self.inner.lock().unwrap().0
    }

    /// The instant the last digest job was queued.
    pub fn last(&self) -> Option<Instant> {
        self.inner.lock().unwrap().1
    }

    fn add(&self, n: usize) {
        let mut inner = self.inner.lock().unwrap();
        inner.0 += n;
        inner.1 = Some(Instant::now());
    }
}

/// Starts `bin` with exactly `env` (and `PATH`). Its JSON log (on stdout)
/// is read for dispatches; warnings and errors are passed on to stderr.
pub fn spawn(
    bin: &Path,
    name: &str,
    env: &[(&str, String)],
    dispatched: &Dispatched,
) -> anyhow::Result<Running> {
    let mut child = Command::new(bin)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "warn,worker::jobs::digest=info")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    // The log goes to stdout.
    let log = child.stdout.take().context("stdout")?;
    let dispatched = dispatched.clone();
    let label = name.to_owned();
    std::thread::spawn(move || {
        for line in BufReader::new(log).lines().map_while(Result::ok) {
            let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else {
                eprintln!("[{label}] {line}");
                continue;
            };
            // The product logs events flattened: fields beside `message`.
            if entry["message"] == "digests queued" {
                dispatched.add(entry["count"].as_u64().unwrap_or(0) as usize);
            } else if entry["level"] != "INFO" {
                eprintln!("[{label}] {line}");
            }
        }
    });
    Ok(Running {
        child,
        name: name.to_owned(),
    })
}

/// Runs `bin` to completion with `env` and `args`, returning its stdout.
pub fn run(bin: &Path, env: &[(&str, String)], args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(bin)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .args(args)
        .output()
        .with_context(|| format!("running {}", bin.display()))?;
    if !out.status.success() {
        anyhow::bail!(
            "{} {}: {}\n{}",
            bin.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which may itself hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / clock_ticks_per_second())
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn clock_ticks_per_second() -> f64 {
    // USER_HZ is 100 on every Linux this runs on.
    100.0
}
