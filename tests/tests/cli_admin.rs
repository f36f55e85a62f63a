//! The administrative commands of `ons` (`cluster`, `topic`, `group`, `consumer`, `offset`,
//! `message`) and `ons bench`, through the built binary against the real test cluster: each
//! command's `--json` document parsed and checked, the state it left or read checked with the
//! official `mqadmin` of the broker's version, usage errors exiting 2 and names that do not
//! exist exiting 1 with a message naming them. Tables are checked for their headers only (their
//! layout is docs/cli.md's); nothing here asserts how long anything takes.
//!
//! The binary is `ONS_TEST_CLI` when set, else `cargo build -p ons-cli` run once by the first
//! test that needs it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ons_tests::{mqadmin, unique_name};
use serde_json::Value;

/// How long a state may take to show (a 4.x broker registers a topic change with the name
/// server on its next heartbeat, every 30 s).
const SETTLES_WITHIN: Duration = Duration::from_secs(45);

/// The `ons` binary under test.
fn ons_binary() -> &'static PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Some(path) = std::env::var_os("ONS_TEST_CLI").filter(|v| !v.is_empty()) {
            return PathBuf::from(path);
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        // Variables cargo set for this test target describe ons-tests: left to the build, they
        // would make build scripts that watch them (ring's) rebuild.
        let mut build = Command::new(cargo);
        for (name, _) in std::env::vars_os() {
            let text = name.to_string_lossy();
            let of_this_target = ["CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_CRATE_", "CARGO_BIN_", "CARGO_PRIMARY_"]
                .iter()
                .any(|prefix| text.starts_with(prefix));
            if of_this_target || ["OUT_DIR", "CARGO_TARGET_TMPDIR", "CARGO_RUSTC_CURRENT_DIR"].contains(&text.as_ref())
            {
                build.env_remove(&name);
            }
        }
        let out = build
            .args(["build", "-p", "ons-cli", "--bin", "ons", "--message-format=json-render-diagnostics"])
            .arg("--manifest-path")
            .arg(ons_tests::repo_root().join("Cargo.toml"))
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .expect("cargo runs");
        assert!(out.status.success(), "cargo build -p ons-cli failed ({})", out.status);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "ons")
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .expect("cargo names the ons executable")
    })
}

/// `ons ARGS` against the test cluster, stdin closed, none of the caller's ONS settings.
fn command(args: &[&str]) -> Command {
    let mut command = Command::new(ons_binary());
    command.args(args).stdin(Stdio::null()).env("NAMESRV_ADDR", ons_tests::namesrv());
    for var in ["ONS_LOG", "ONS_ACCESS_KEY", "ONS_SECRET_KEY", "NO_COLOR"] {
        command.env_remove(var);
    }
    command
}

fn run(args: &[&str]) -> Output {
    command(args).output().expect("ons runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `ons ARGS` that must succeed; its stdout.
fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(out.status.code(), Some(0), "ons {args:?} failed:\n{}{}", stdout(&out), stderr(&out));
    stdout(&out)
}

/// `ons ARGS --json` that must succeed; its one JSON document.
fn json(args: &[&str]) -> Value {
    let args = [args, &["--json"]].concat();
    let text = ok(&args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("ons {args:?} printed no JSON document ({e}):\n{text}"))
}

/// `ons ARGS` that must fail with `code`, saying each of `said` on stderr.
fn fails(args: &[&str], code: i32, said: &[&str]) {
    let out = run(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "ons {args:?}:\n{}{err}", stdout(&out));
    for expected in said {
        assert!(err.contains(expected), "ons {args:?}: stderr lacks {expected:?}:\n{err}");
    }
}

/// Waits until `check` holds, retrying every half second; panics naming `what` after
/// [`SETTLES_WITHIN`].
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + SETTLES_WITHIN;
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not so after {SETTLES_WITHIN:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The mqadmin output's lines that start (after spaces) with `first` as a whitespace-separated
/// word, split into words.
fn rows_of(out: &str, first: &str) -> Vec<Vec<String>> {
    out.lines()
        .map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter(|words| words.first().is_some_and(|w| w == first))
        .collect()
}

fn is_4x() -> bool {
    ons_tests::broker_version().starts_with("4.")
}

/// The messages stored in `topic`, summed over mqadmin topicStatus's `#Max Offset` column.
fn stored_per_mqadmin(topic: &str) -> i64 {
    let out = mqadmin(&["topicStatus", "-t", topic]);
    // #Broker Name  #QID  #Min Offset  #Max Offset  #Last Updated
    out.lines()
        .filter_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            (words.len() >= 4 && !l.starts_with('#')).then(|| words[3].parse::<i64>().ok()).flatten()
        })
        .sum()
}

#[test]
fn usage_errors_exit_2_and_help_names_every_command() {
    let help = ok(&["--help"]);
    for command in ["cluster", "topic", "group", "consumer", "offset", "message", "bench", "completions"] {
        assert!(help.contains(command), "--help lacks {command}:\n{help}");
    }
    let help = ok(&["topic", "create", "--help"]);
    for expected in ["[default: DefaultCluster]", "--queues", "--perm", "--json", "Exit status"] {
        assert!(help.contains(expected), "topic create --help lacks {expected:?}:\n{help}");
    }
    let help = ok(&["bench", "produce", "--help"]);
    for expected in ["[default: 1024]", "[default: 32]", "[default: 10s]"] {
        assert!(help.contains(expected), "bench produce --help lacks {expected:?}:\n{help}");
    }
    assert!(ok(&["completions", "bash"]).contains("consumer"));
    let cases: [(&[&str], &str); 7] = [
        (&["topic"], "Usage"),
        (&["topic", "create"], "<TOPIC>"),
        (&["offset", "reset", "--group", "G", "--topic", "T", "--to", "soon"], "--to"),
        (&["topic", "create", "T", "--perm", "x"], "--perm"),
        (&["message", "query", "--topic", "T", "--key", "k", "--begin", "now", "--end", "-1h"], "--begin"),
        (&["message", "read", "--topic", "T", "--broker", "b", "--queue", "0", "--from", "5", "--to", "5"], "--to"),
        (&["bench", "produce", "--topic", "T", "--duration", "10"], "--duration"),
    ];
    for (args, named) in cases {
        fails(args, 2, &[named]);
    }
}

#[test]
fn cluster_and_topic_commands_match_mqadmin() {
    // cluster list: every broker mqadmin clusterList shows, by name and address.
    let brokers = json(&["cluster", "list"]);
    let theirs = mqadmin(&["clusterList"]);
    let ours = brokers["brokers"].as_array().expect("brokers");
    assert!(!ours.is_empty());
    for b in ours {
        let (name, addr) = (b["broker_name"].as_str().unwrap(), b["addr"].as_str().unwrap());
        assert!(theirs.contains(name) && theirs.contains(addr), "{b}; mqadmin clusterList:\n{theirs}");
        assert_eq!(b["role"], if b["broker_id"] == 0 { "master" } else { "slave" });
    }
    assert!(ok(&["cluster", "list"]).starts_with("CLUSTER "));

    let topic = unique_name("CliAdminT");
    let created = json(&["topic", "create", &topic, "--queues", "4"]);
    assert_eq!((created["read_queue_nums"].as_u64(), created["perm"].as_str()), (Some(4), Some("rw")), "{created}");
    fails(&["topic", "create", &topic], 1, &[&topic, "already exists"]);
    eventually("the new topic is routed with 4 queues", || {
        let route = run(&["topic", "route", &topic, "--json"]);
        route.status.success()
            && serde_json::from_str::<Value>(&stdout(&route)).is_ok_and(|r| r["queues"][0]["write_queue_nums"] == 4)
    });
    let updated = json(&["topic", "update", &topic, "--write-queues", "6", "--perm", "r"]);
    assert_eq!((updated["read_queue_nums"].as_u64(), updated["write_queue_nums"].as_u64()), (Some(4), Some(6)));
    eventually("mqadmin topicRoute shows the update", || {
        let route = mqadmin(&["topicRoute", "-t", &topic]);
        route.contains("\"writeQueueNums\":6") && route.contains("\"perm\":4")
    });
    ok(&["topic", "update", &topic, "--perm", "rw"]);
    eventually("the topic is writable again", || json(&["topic", "route", &topic])["queues"][0]["perm"] == "rw");
    assert!(json(&["topic", "list"])["topics"].as_array().unwrap().iter().any(|t| t == topic.as_str()));

    ok(&["send", "--topic", &topic, "--body", "x", "--count", "3"]);
    // A queue counts a message once the broker's dispatch, which follows the send's answer, has
    // written it.
    eventually("the 3 messages sent are in the topic's stats", || {
        json(&["topic", "stats", &topic])["stored_messages"] == 3
    });
    let stats = json(&["topic", "stats", &topic]);
    assert_eq!(stats["stored_messages"], 3, "{stats}");
    assert_eq!(stats["queues"].as_array().unwrap().len(), 6, "{stats}");
    assert_eq!(stored_per_mqadmin(&topic), 3);
    assert!(ok(&["topic", "stats", &topic]).contains("3 messages stored"));

    let deleted = json(&["topic", "delete", &topic]);
    assert_eq!(deleted["deleted"], true);
    assert!(!mqadmin(&["topicList"]).lines().any(|l| l.trim() == topic), "mqadmin topicList still has {topic}");
    for args in [&["topic", "route", &topic][..], &["topic", "stats", &topic], &["topic", "delete", &topic]] {
        fails(args, 1, &[&format!("topic {topic} does not exist")]);
    }
}

#[test]
fn group_commands_match_mqadmin() {
    let group = unique_name("GID_cli_admin");
    let created = json(&["group", "create", &group, "--retry-max-times", "3"]);
    assert_eq!(created["config"]["retry_max_times"], 3, "{created}");
    fails(&["group", "create", &group], 1, &[&group, "already exists"]);
    ok(&["group", "update", &group, "--retry-max-times", "5", "--broadcast-enable", "false"]);
    let listed = json(&["group", "list"]);
    let ours: Vec<&Value> = listed["brokers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["groups"].as_array().unwrap())
        .filter(|g| g["group_name"] == group.as_str())
        .collect();
    assert!(!ours.is_empty(), "group list lacks {group}: {listed}");
    for g in &ours {
        assert_eq!((g["retry_max_times"].as_i64(), g["consume_broadcast_enable"].as_bool()), (Some(5), Some(false)));
    }
    let theirs = mqadmin(&["getConsumerConfig", "-g", &group]);
    let field = |name: &str| rows_of(&theirs, name).first().and_then(|r| r.last().cloned());
    assert_eq!(field("retryMaxTimes").as_deref(), Some("5"), "mqadmin getConsumerConfig:\n{theirs}");
    assert_eq!(field("consumeBroadcastEnable").as_deref(), Some("false"), "mqadmin getConsumerConfig:\n{theirs}");

    ok(&["group", "delete", &group]);
    let theirs = mqadmin(&["getConsumerConfig", "-g", &group]);
    assert!(rows_of(&theirs, "retryMaxTimes").is_empty(), "mqadmin getConsumerConfig after delete:\n{theirs}");
    fails(&["group", "delete", &group], 1, &[&format!("group {group} does not exist")]);
    fails(&["group", "update", &group], 1, &[&format!("group {group} does not exist")]);
}

/// An `ons consume` running in the background, its stdout lines read by a thread.
struct Consuming {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Consuming {
    fn start(topic: &str, group: &str) -> Consuming {
        let mut child = command(&["consume", "--topic", topic, "--group", group, "--from", "first"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("ons consume starts");
        let out = child.stdout.take().expect("piped stdout");
        let (sender, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        Consuming { child, lines }
    }

    /// The next `n` lines printed.
    fn next(&self, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                self.lines
                    .recv_timeout(SETTLES_WITHIN)
                    .unwrap_or_else(|e| panic!("ons consume printed {i} of {n} lines: {e}"))
            })
            .collect()
    }
}

impl Drop for Consuming {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn consumer_offset_and_message_commands_match_mqadmin() {
    let topic = ons_tests::support::new_topic("CliAdminMsg", 4);
    let group = unique_name("GID_cli_admin_c");
    let key = unique_name("key");
    let sent: Vec<Value> = ok(&["send", "--topic", &topic, "--body", "hello", "--key", &key, "--count", "3"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("a send result"))
        .collect();
    let ids: Vec<&str> = sent.iter().map(|s| s["msgId"].as_str().unwrap()).collect();
    let consuming = Consuming::start(&topic, &group);
    consuming.next(3);

    // consumer list: our one client, as mqadmin consumerConnection sees it.
    let connections = json(&["consumer", "list", &group]);
    let client_id = connections["clients"][0]["client_id"].as_str().expect("a client id").to_owned();
    assert_eq!(connections["clients"][0]["language"], "RUST");
    assert!(connections["subscriptions"].as_array().unwrap().iter().any(|s| s["topic"] == topic.as_str()));
    let theirs = mqadmin(&["consumerConnection", "-g", &group]);
    assert!(theirs.contains(&client_id), "mqadmin consumerConnection:\n{theirs}");

    // progress and lag: everything consumed, as mqadmin consumerProgress says.
    eventually("the group's offsets reach the 3 messages", || {
        let progress = json(&["consumer", "progress", &group, "--topic", &topic]);
        let consumed: i64 =
            progress["queues"].as_array().unwrap().iter().map(|q| q["consumer_offset"].as_i64().unwrap()).sum();
        consumed == 3 && progress["total_lag"] == 0
    });
    let theirs = mqadmin(&["consumerProgress", "-g", &group]);
    let their_rows = rows_of(&theirs, &topic);
    assert_eq!(their_rows.len(), 4, "mqadmin consumerProgress:\n{theirs}");
    let lag = json(&["consumer", "lag", &group]);
    assert_eq!(lag["total_lag"], 0, "{lag}");
    assert!(lag["topics"].as_array().unwrap().iter().any(|t| t["topic"] == topic.as_str() && t["queues"] == 4));
    assert!(ok(&["consumer", "progress", &group]).contains("total lag 0"));

    // info: the client's queues of the topic.
    let info = json(&["consumer", "info", &group]);
    let queues = info["clients"][0]["queues"].as_array().expect("queues");
    assert_eq!(queues.iter().filter(|q| q["queue"]["topic"] == topic.as_str()).count(), 4, "{info}");

    // get, query, read, trace: the messages as mqadmin queryMsgByKey finds them.
    let message = json(&["message", "get", "--topic", &topic, "--id", ids[0]]);
    assert_eq!((message["body_utf8"].as_str(), message["keys"].as_str()), (Some("hello"), Some(key.as_str())));
    let found = json(&["message", "query", "--topic", &topic, "--key", &key]);
    let mut found_ids: Vec<&str> =
        found["messages"].as_array().unwrap().iter().map(|m| m["msg_id"].as_str().unwrap()).collect();
    found_ids.sort_unstable();
    let mut expected = ids.clone();
    expected.sort_unstable();
    assert_eq!(found_ids, expected);
    let theirs = mqadmin(&["queryMsgByKey", "-t", &topic, "-k", &key]);
    for id in &ids {
        assert!(theirs.contains(id), "mqadmin queryMsgByKey lacks {id}:\n{theirs}");
    }
    let (broker, queue, offset) =
        (sent[0]["brokerName"].as_str().unwrap(), sent[0]["queueId"].to_string(), sent[0]["queueOffset"].to_string());
    let read = json(&["message", "read", "--topic", &topic, "--broker", broker, "--queue", &queue, "--from", &offset]);
    assert_eq!(read["messages"][0]["msg_id"], ids[0], "{read}");
    let trace = json(&["message", "trace", "--topic", &topic, "--id", ids[0]]);
    let states: Vec<(&str, &str)> = trace["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["group"].as_str().unwrap(), g["status"].as_str().unwrap()))
        .collect();
    assert!(states.contains(&(group.as_str(), "CONSUMED")), "{trace}");

    // resend: the running consumer prints the message once more.
    let resent =
        json(&["message", "resend", "--topic", &topic, "--id", ids[0], "--group", &group, "--client-id", &client_id]);
    assert_eq!(resent["result"], "CR_SUCCESS", "{resent}");
    assert!(consuming.next(1)[0].starts_with(ids[0]));
    drop(consuming);

    // offset reset: the offline group back to the start, as mqadmin consumerProgress shows.
    let reset = json(&["offset", "reset", "--group", &group, "--topic", &topic, "--to", "earliest"]);
    assert!(reset["offsets"].as_array().unwrap().iter().all(|o| o["offset"] == 0), "{reset}");
    eventually("mqadmin consumerProgress shows the 3 messages to consume again", || {
        let theirs = mqadmin(&["consumerProgress", "-g", &group]);
        // #Topic #Broker Name #QID #Broker Offset #Consumer Offset (#Client IP) #Diff ...
        rows_of(&theirs, &topic)
            .iter()
            .map(|r| r[3].parse::<i64>().unwrap_or(-1) - r[4].parse::<i64>().unwrap_or(0))
            .sum::<i64>()
            == 3
    });

    // Names that do not exist.
    let nobody = unique_name("GID_cli_admin_none");
    fails(&["consumer", "progress", &nobody], 1, &[&format!("group {nobody} has no offsets")]);
    fails(&["consumer", "list", &nobody], 1, &[&format!("group {nobody} has no consumer online")]);
    fails(&["message", "get", "--topic", &topic, "--id", "0A0000000000000000000000000000FF"], 1, &["no message"]);
    let missing = unique_name("CliAdminNone");
    fails(
        &["offset", "reset", "--group", &group, "--topic", &missing, "--to", "latest"],
        1,
        &[&format!("topic {missing} does not exist")],
    );
    if is_4x() {
        // 4.x brokers name a group they do not know in their answer.
        fails(&["offset", "reset", "--group", &nobody, "--topic", &topic, "--to", "latest"], 1, &[&nobody]);
    }
}

#[test]
fn bench_runs_count_and_report() {
    let topic = ons_tests::support::new_topic("CliAdminBench", 2);
    let produced = json(&[
        "bench",
        "produce",
        "--topic",
        &topic,
        "--count",
        "20",
        "--in-flight",
        "4",
        "--size",
        "100",
        "--duration",
        "60s",
    ]);
    assert_eq!((produced["messages"].as_u64(), produced["failed"].as_u64()), (Some(20), Some(0)), "{produced}");
    assert_eq!(produced["bytes"], 2000);
    assert!(
        produced["latency_ms"]["p50"].as_f64().is_some() && produced["msg_per_s"].as_f64().is_some_and(|r| r > 0.0)
    );
    assert_eq!(stored_per_mqadmin(&topic), 20);
    let text = ok(&["bench", "produce", "--topic", &topic, "--count", "5", "--duration", "60s"]);
    for expected in ["5 (0 failed)", "msg/s", "MB/s", "p50", "p99"] {
        assert!(text.contains(expected), "bench produce lacks {expected:?}:\n{text}");
    }
    let group = unique_name("GID_cli_bench");
    let consumed =
        json(&["bench", "consume", "--topic", &topic, "--group", &group, "--count", "25", "--duration", "60s"]);
    assert_eq!(
        (consumed["messages"].as_u64(), consumed["bytes"].as_u64()),
        (Some(25), Some(2000 + 5 * 1024)),
        "{consumed}"
    );
    assert!(consumed["latency_ms"]["p99"].as_f64().is_some());
}

#[test]
fn ctrl_c_ends_a_bench_run_with_130_and_its_report() {
    let topic = ons_tests::support::new_topic("CliAdminBenchInt", 2);
    let child = command(&["bench", "produce", "--topic", &topic, "--in-flight", "2", "--duration", "10m", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ons bench starts");
    // Interrupted once the messages it sent are stored: the run is under way.
    eventually("bench produce stores messages", || {
        json(&["topic", "stats", &topic])["stored_messages"].as_i64() > Some(0)
    });
    let pid = libc::pid_t::try_from(child.id()).expect("a pid");
    // SAFETY: kill(2) with a child's pid and SIGINT has no memory effects.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let out = child.wait_with_output().expect("ons bench ends");
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("a report");
    let sent = report["messages"].as_i64().expect("a count");
    assert!(sent > 0, "{report}");
    // Stored before they were acknowledged, counted in the stats once dispatched (no more).
    eventually("every acknowledged message is in the topic's stats", || {
        json(&["topic", "stats", &topic])["stored_messages"].as_i64() >= Some(sent)
    });
    assert_eq!(json(&["topic", "stats", &topic])["stored_messages"].as_i64(), Some(sent), "{report}");
}
