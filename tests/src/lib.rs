//! Real-cluster harness helpers for the integration tests.
//!
//! Every integration test talks to a real Apache RocketMQ name server and broker started by
//! `tests/harness/rmq.sh` from Maven Central jars. Two ways to get one:
//!
//! * `tests/harness/rmq.sh run [--version V] [--auto-ports] -- cargo test -p ons-tests`: the
//!   script starts the cluster, exports `ONS_TEST_NAMESRV`, `ONS_TEST_BROKER_VERSION`, `RMQ_DIR`
//!   (and TLS/ACL settings, see the cluster's `env` file) and stops it afterwards;
//! * plain `cargo test -p ons-tests`: the first call to [`namesrv`] starts a cluster for this test
//!   process in a temporary directory on free ports. A watchdog started by the script
//!   (`--watch-pid`) stops it and deletes the directory once this process has exited, also when
//!   tests failed or panicked.
//!
//! Tests that need a cluster of their own (ACL, TLS, two brokers to kill one of) start an
//! [`OwnCluster`] with harness options; it is stopped when dropped.
//!
//! Environment: `ONS_TEST_NAMESRV` (use this cluster), `ONS_TEST_BROKER_VERSION` (version to
//! start, default [`DEFAULT_BROKER_VERSION`]), `ONS_TEST_ORACLE_CLIENT_VERSION` (Java client
//! version of the oracle, default the script's), `RMQ_CACHE` (jar cache, see `rmq.sh help`).

pub mod bench;
pub mod fake_server;
pub mod fault_proxy;
pub mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// The broker version started when neither `ONS_TEST_BROKER_VERSION` nor a running cluster says.
pub const DEFAULT_BROKER_VERSION: &str = "5.3.3";

/// A cluster the tests use: given by the environment or started for this process.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// `127.0.0.1:PORT` of the name server.
    pub namesrv: String,
    /// The `rmq.sh` cluster directory, if known (it holds `env`, logs, TLS files).
    pub dir: Option<PathBuf>,
    /// The cluster's `env` file (`NAMESRV_ADDR`, `BROKER_A_ADDR`, `ONS_TEST_TLS`, ...), if any.
    pub env: HashMap<String, String>,
}

impl Cluster {
    /// A value from the cluster's `env` file, else from the process environment.
    pub fn var(&self, key: &str) -> Option<String> {
        self.env.get(key).cloned().or_else(|| std::env::var(key).ok())
    }
}

/// The repository root (the workspace directory).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `tests/harness/rmq.sh`.
pub fn rmq_sh() -> PathBuf {
    repo_root().join("tests").join("harness").join("rmq.sh")
}

/// The broker version under test: `ONS_TEST_BROKER_VERSION`, else [`DEFAULT_BROKER_VERSION`].
pub fn broker_version() -> String {
    non_empty_env("ONS_TEST_BROKER_VERSION").unwrap_or_else(|| DEFAULT_BROKER_VERSION.to_string())
}

/// The name server address of the test cluster, starting one for this process if needed.
pub fn namesrv() -> String {
    cluster().namesrv.clone()
}

/// The test cluster (see the module docs). Panics with the harness's output if it cannot start.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
    // The result, not a panic, is cached: after a failed start every test fails fast with the
    // same message instead of trying again.
    match CLUSTER.get_or_init(init_cluster) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

fn init_cluster() -> Result<Cluster, String> {
    if let Some(ns) = non_empty_env("ONS_TEST_NAMESRV") {
        let dir = non_empty_env("RMQ_DIR").map(PathBuf::from);
        let env = dir.as_deref().map(read_env_file).unwrap_or_default();
        return Ok(Cluster { namesrv: ns, dir, env });
    }
    // As tests/run.sh starts it: transaction check-backs every 3 s, not the broker's 30-60 s.
    start_cluster(&["--broker-conf", "transactionCheckInterval=3000"])
}

/// Starts a cluster of [`broker_version`] in a fresh temporary directory on free ports, with
/// `options` passed on to `rmq.sh start`, watched by a watchdog that stops it and deletes the
/// directory once this process has exited.
fn start_cluster(options: &[&str]) -> Result<Cluster, String> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("ons-tests-{}-{:x}-{seq}", std::process::id(), nanos));
    let pid = std::process::id().to_string();
    let out = Command::new("bash")
        .arg(rmq_sh())
        .arg("start")
        .arg("--dir")
        .arg(&dir)
        .args(["--version", &broker_version(), "--auto-ports", "--watch-pid", &pid, "--purge"])
        .args(options)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", rmq_sh().display()))?;
    if !out.status.success() {
        return Err(format!(
            "rmq.sh start failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let env = read_env_file(&dir);
    let namesrv =
        env.get("NAMESRV_ADDR").cloned().ok_or_else(|| format!("no NAMESRV_ADDR in {}/env", dir.display()))?;
    Ok(Cluster { namesrv, dir: Some(dir), env })
}

/// Runs `mqadmin` (`org.apache.rocketmq.tools.command.MQAdminStartup`) of the broker's version
/// against the test cluster (`-n` may be left out) and returns its stdout. Panics if it cannot
/// run. Note that mqadmin itself exits 0 even when a command failed: check the output.
pub fn mqadmin(args: &[&str]) -> String {
    let out = mqadmin_output(args);
    if !out.status.success() {
        panic!(
            "mqadmin {args:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Like [`mqadmin`], returning the whole process output.
pub fn mqadmin_output(args: &[&str]) -> Output {
    mqadmin_output_in(cluster(), args)
}

fn mqadmin_output_in(c: &Cluster, args: &[&str]) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(rmq_sh()).arg("mqadmin");
    match &c.dir {
        Some(dir) => {
            cmd.arg("--dir").arg(dir);
        }
        None => {
            cmd.args(["--version", &broker_version()]);
        }
    }
    cmd.arg("--").args(args).env("NAMESRV_ADDR", &c.namesrv).stdin(Stdio::null());
    cmd.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", rmq_sh().display()))
}

/// Runs the Java-client oracle (`tests/java-oracle`, built once and cached by the script) with
/// `args`, adding `--namesrv` and the cluster's TLS/ACL settings unless `args` give them.
/// Its stdout holds JSON lines; see `tests/java-oracle/README.md`.
pub fn java_oracle(args: &[&str]) -> Output {
    java_oracle_in(cluster(), args)
}

/// [`java_oracle`] with a Java client of the cluster's own line (4.9.7 against 4.x brokers)
/// unless `ONS_TEST_ORACLE_CLIENT_VERSION` says otherwise: for requests older brokers do not
/// know, such as the 5.x client's LITE_PULL_MESSAGE (code 361), which its
/// `DefaultLitePullConsumer` sends.
pub fn java_oracle_of_broker_line(args: &[&str]) -> Output {
    let line = if broker_version().starts_with("4.") { Some("4.9.7".to_owned()) } else { None };
    java_oracle_with(cluster(), non_empty_env("ONS_TEST_ORACLE_CLIENT_VERSION").or(line), args)
}

fn java_oracle_in(c: &Cluster, args: &[&str]) -> Output {
    java_oracle_with(c, non_empty_env("ONS_TEST_ORACLE_CLIENT_VERSION"), args)
}

fn java_oracle_with(c: &Cluster, client_version: Option<String>, args: &[&str]) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(rmq_sh()).arg("oracle");
    if let Some(v) = client_version {
        cmd.args(["--client-version", &v]);
    }
    if let Some(dir) = &c.dir {
        cmd.arg("--dir").arg(dir);
    }
    cmd.arg("--").args(args);
    if !args.contains(&"--namesrv") {
        cmd.args(["--namesrv", &c.namesrv]);
    }
    cmd.stdin(Stdio::null());
    cmd.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", rmq_sh().display()))
}

/// A cluster a test starts for itself, with harness options (`--acl`, `--tls`, `--brokers 2`,
/// `--broker-conf K=V`, ...), of the broker version under test, in its own temporary directory
/// on free ports. Dropping it kills the cluster at once (it is thrown away) and deletes the
/// directory. To share one among the tests of a binary keep it in a `static`: statics are never
/// dropped, and the harness's watchdog stops the cluster once the test process has exited.
pub struct OwnCluster {
    cluster: Cluster,
}

impl OwnCluster {
    /// Starts the cluster and waits until every broker is registered.
    pub fn start(options: &[&str]) -> Result<OwnCluster, String> {
        start_cluster(options).map(|cluster| OwnCluster { cluster })
    }

    /// The cluster directory (`env`, logs, `tls/ca.pem`, ...).
    pub fn dir(&self) -> &Path {
        self.cluster.dir.as_deref().unwrap_or(Path::new("."))
    }

    /// Runs mqadmin against this cluster (with its TLS and ACL settings); see [`mqadmin_output`].
    pub fn mqadmin(&self, args: &[&str]) -> Output {
        mqadmin_output_in(&self.cluster, args)
    }

    /// Runs the Java oracle against this cluster (with its TLS and ACL settings); see
    /// [`java_oracle`].
    pub fn java_oracle(&self, args: &[&str]) -> Output {
        java_oracle_in(&self.cluster, args)
    }

    /// `rmq.sh broker --dir DIR ACTION NAME`: `stop`, `kill` or `start` one broker (`broker-a`,
    /// `broker-b`); `start` returns once the name server lists it again.
    pub fn broker(&self, action: &str, name: &str) -> Result<(), String> {
        let out = Command::new("bash")
            .arg(rmq_sh())
            .arg("broker")
            .arg("--dir")
            .arg(self.dir())
            .args([action, name])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", rmq_sh().display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "rmq.sh broker {action} {name} failed ({}):\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }
}

impl std::ops::Deref for OwnCluster {
    type Target = Cluster;

    fn deref(&self) -> &Cluster {
        &self.cluster
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let Some(dir) = &self.cluster.dir else { return };
        let _ = Command::new("bash")
            .arg(rmq_sh())
            .arg("stop")
            .arg("--dir")
            .arg(dir)
            .args(["--kill", "--purge"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Repeats `query` (an index lookup: `Admin::query_by_key` or `query_by_msg_id`) until it finds
/// something or 30 s have passed, and returns its last answer. Brokers build the message index
/// asynchronously after a send has been acknowledged (4.9.x visibly later), so a lookup right
/// after a send may legitimately find nothing yet; errors are returned at once.
pub async fn query_until_found<F, Fut>(mut query: F) -> rocketmq_ons::Result<Vec<rocketmq_ons::Message>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = rocketmq_ons::Result<Vec<rocketmq_ons::Message>>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let found = query().await?;
        if !found.is_empty() || std::time::Instant::now() >= deadline {
            return Ok(found);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// The sum of `topic`'s queue max offsets (messages stored), read again until it reaches
/// `expected` or 30 s have passed. The broker counts a message in its queue once its dispatch
/// service has written the consume queue, shortly after the send was acknowledged; callers
/// compare the result with `expected`, so too many messages fail as well as too few.
pub async fn stored_count_reaching(
    admin: &rocketmq_ons::admin::Admin,
    topic: &str,
    expected: i64,
) -> rocketmq_ons::Result<i64> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let stored = admin.max_offsets(topic).await?.iter().map(|(_, _, offset)| offset).sum::<i64>();
        if stored >= expected || std::time::Instant::now() >= deadline {
            return Ok(stored);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// A topic or group name valid for RocketMQ (`[A-Za-z0-9_-]`, well under 127 characters) that is
/// unique per call, per process and per run: `<prefix>_<pid>_<time>_<counter>`. Characters of
/// `prefix` outside that set become `_`.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let clean: String = prefix
        .chars()
        .take(64)
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
        .collect();
    format!("{clean}_{:x}_{:x}_{n}", std::process::id(), millis & 0xff_ffff_ffff)
}

fn non_empty_env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// Reads `DIR/env` (`KEY=VALUE` lines; values may be shell-quoted by `printf %q`).
fn read_env_file(dir: &Path) -> HashMap<String, String> {
    let text = std::fs::read_to_string(dir.join("env")).unwrap_or_default();
    text.lines()
        .map(|line| line.strip_prefix("export ").unwrap_or(line))
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), shell_unquote(v.trim())))
        .collect()
}

/// Undoes `printf %q` for the values the script writes (backslash escapes, '...' quoting).
fn shell_unquote(v: &str) -> String {
    if let Some(inner) = v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        return inner.to_string();
    }
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_are_valid_and_distinct() {
        let a = unique_name("Topic.with spaces/å");
        let b = unique_name("Topic.with spaces/å");
        assert_ne!(a, b);
        for n in [&a, &b] {
            assert!(n.len() < 127, "{n}");
            assert!(n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'), "{n}");
        }
        assert!(a.starts_with("Topic_with_spaces__"), "{a}");
    }

    #[test]
    fn unquotes_printf_q_values() {
        assert_eq!(shell_unquote("127.0.0.1:9876"), "127.0.0.1:9876");
        assert_eq!(shell_unquote(r"/tmp/a\ b"), "/tmp/a b");
        assert_eq!(shell_unquote("'x y'"), "x y");
    }
}
