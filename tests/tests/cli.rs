//! The `ons` command-line tool as a user and a script see it, through the built binary: help
//! and exit statuses, a send/consume round trip in a pipe (quiet stderr, JSON on stdout) and
//! with stderr on a pseudo-terminal (progress, summaries, start-up note, the count at Ctrl-C),
//! and the messages for a wrong name server address and a topic that does not exist.
//!
//! The binary is `ONS_TEST_CLI` when set (a release build, say), else `cargo build -p ons-cli`
//! run once by the first test that needs it. Waits have generous deadlines that only keep a
//! broken build from hanging; nothing here asserts how long anything takes.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ons_tests::support::new_topic;
use parking_lot::Mutex;

/// How long a wait may last before the test gives up (a hung build, not a slow one).
const GIVE_UP_AFTER: Duration = Duration::from_secs(90);

/// The `ons` binary under test.
fn ons_binary() -> &'static PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| match std::env::var_os("ONS_TEST_CLI").filter(|v| !v.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => build_ons(),
    })
}

/// `cargo build -p ons-cli --bin ons`, in the target directory of this build; the path of the
/// executable from cargo's JSON messages.
fn build_ons() -> PathBuf {
    let cargo = std::env::var("CARGO").ok().or(option_env!("CARGO").map(str::to_owned)).unwrap_or("cargo".into());
    let mut command = Command::new(cargo);
    // What cargo set for this test process describes ons-tests; build scripts that watch such
    // variables (ring's) would see them change from a build started in a shell, and rebuild.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let per_package = ["CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_CRATE_", "CARGO_BIN_", "CARGO_PRIMARY_PACKAGE"]
            .iter()
            .any(|prefix| name.starts_with(prefix));
        if per_package || name == "CARGO_TARGET_TMPDIR" || name == "CARGO_RUSTC_CURRENT_DIR" || name == "OUT_DIR" {
            command.env_remove(name.as_ref());
        }
    }
    let out = command
        .arg("build")
        .arg("--manifest-path")
        .arg(ons_tests::repo_root().join("Cargo.toml"))
        .args(["-p", "ons-cli", "--bin", "ons", "--message-format=json-render-diagnostics"])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "cargo build -p ons-cli failed ({})", out.status);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "ons")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo names the ons executable")
}

/// `ons ARGS` with a clean environment as far as the tool reads it (no NAMESRV_ADDR, ONS_*,
/// NO_COLOR from the caller) and stdin closed.
fn ons(args: &[&str]) -> Command {
    let mut command = Command::new(ons_binary());
    command.args(args).stdin(Stdio::null());
    for var in ["NAMESRV_ADDR", "ONS_LOG", "ONS_ACCESS_KEY", "ONS_SECRET_KEY", "NO_COLOR"] {
        command.env_remove(var);
    }
    command
}

/// `ons ARGS` against the test cluster (NAMESRV_ADDR set), run to its end in pipes.
fn ons_on_cluster(args: &[&str]) -> Output {
    ons(args).env("NAMESRV_ADDR", ons_tests::namesrv()).output().expect("ons runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn exit_code(out: &Output) -> Option<i32> {
    out.status.code()
}

/// A name server address where nothing listens: a port the kernel just gave and took back.
fn closed_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr.to_string()
}

#[test]
fn help_and_version_describe_the_tool() {
    let out = ons(&["--help"]).output().unwrap();
    assert_eq!(exit_code(&out), Some(0));
    let help = text(&out.stdout);
    for expected in ["send", "consume", "completions", "Exit status", "130", "ONS_LOG", "NAMESRV_ADDR"] {
        assert!(help.contains(expected), "--help lacks {expected:?}:\n{help}");
    }
    for args in [&["send", "--help"][..], &["send", "-h"], &["help", "send"]] {
        let out = ons(args).output().unwrap();
        assert_eq!(exit_code(&out), Some(0), "{args:?}");
        let help = text(&out.stdout);
        for expected in ["--deliver-at", "--sharding-key", "--header-format", "[default: GID_ons_cli]", "oneway"] {
            assert!(help.contains(expected), "{args:?} lacks {expected:?}:\n{help}");
        }
    }
    let out = ons(&["consume", "--help"]).output().unwrap();
    let help = text(&out.stdout);
    for expected in ["--from", "[default: last]", "--orderly", "--broadcast", "--sql", "--offset-dir", "--instance"] {
        assert!(help.contains(expected), "consume --help lacks {expected:?}:\n{help}");
    }
    let out = ons(&["--version"]).output().unwrap();
    assert_eq!(exit_code(&out), Some(0));
    assert_eq!(text(&out.stdout).trim(), format!("ons {}", env!("CARGO_PKG_VERSION")));
    let out = ons(&["completions", "bash"]).output().unwrap();
    assert_eq!(exit_code(&out), Some(0));
    assert!(text(&out.stdout).contains("consume"));
}

/// A reader that stops early (`ons completions bash | head -1`) ends the output; it is not a
/// crash. The script (~90 KB) is larger than a pipe's buffer, so the write meets the closed end.
#[test]
fn completions_into_a_closed_pipe_end_quietly() {
    let mut child = ons(&["completions", "bash"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(exit_code(&out), Some(0), "stderr: {}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("panicked"), "stderr: {}", text(&out.stderr));
}

#[test]
fn usage_errors_exit_2_and_name_what_is_wrong() {
    let cases: [(&[&str], &str); 7] = [
        (&["send", "--namesrv", "n:1", "--body", "b"], "--topic"),
        (&["send", "--namesrv", "n:1", "--topic", "T"], "--body"),
        (&["send", "--namesrv", "n:1", "--topic", "T", "--body", "b", "--no-such-option"], "--no-such-option"),
        (&["send", "--namesrv", "n:1", "--topic", "T", "--body", "b", "extra"], "extra"),
        (&["send", "--namesrv", "n:1", "--topic", "T", "--body", "b", "--deliver-at", "tomorrow"], "--deliver-at"),
        (&["send", "--topic", "T", "--body", "b"], "--namesrv"),
        (&["send", "--namesrv", "n:1", "--topic", "T", "--body", "b", "--access-key", "AK"], "secret key"),
    ];
    for (args, named) in cases {
        let out = ons(args).output().unwrap();
        assert_eq!(exit_code(&out), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(named), "{args:?} should name {named:?}: {}", text(&out.stderr));
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let out = ons(&["frobnicate"]).output().unwrap();
    assert_eq!(exit_code(&out), Some(2));
    let out = ons(&["consume", "--namesrv", "n:1", "--topic", "T"]).output().unwrap();
    assert_eq!(exit_code(&out), Some(2));
    assert!(text(&out.stderr).contains("--group"), "{}", text(&out.stderr));
}

/// Runs `ons args` and checks that it failed at run time (exit 1) saying each of `said` on
/// stderr, with nothing on stdout.
fn assert_runtime_failure(args: &[&str], said: &[&str]) {
    let out = ons(args).output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(exit_code(&out), Some(1), "{args:?}: {stderr}");
    for expected in said {
        assert!(stderr.contains(expected), "{args:?} should say {expected:?}: {stderr}");
    }
    assert!(out.stdout.is_empty(), "{args:?}");
}

#[test]
fn an_unreadable_body_file_is_a_runtime_failure() {
    let args = ["send", "--namesrv", &closed_address(), "--topic", "T", "--body-file", "/nonexistent/body"];
    assert_runtime_failure(&args, &["--body-file /nonexistent/body"]);
}

#[test]
fn an_unreachable_name_server_fails_send_and_consume_with_exit_1() {
    let addr = closed_address();
    let said = format!("cannot reach the name server at {addr}");
    assert_runtime_failure(&["send", "--namesrv", &addr, "--topic", "T", "--body", "b"], &[&said]);
    assert_runtime_failure(&["consume", "--namesrv", &addr, "--topic", "T", "--group", "GID_cli_down"], &[&said]);
}

#[test]
fn a_broker_given_as_name_server_is_named_as_such() {
    let cluster = ons_tests::cluster();
    let broker = cluster.var("BROKER_A_ADDR").expect("the cluster's env names broker-a's address");
    let said = ["does not look like a name server", "9876"];
    assert_runtime_failure(&["send", "--namesrv", &broker, "--topic", "T", "--body", "b"], &said);
    assert_runtime_failure(&["consume", "--namesrv", &broker, "--topic", "T", "--group", "GID_cli_broker"], &said);
}

#[test]
fn send_and_consume_in_a_pipe_print_json_lines_and_nothing_else() {
    let topic = new_topic("cli_pipe", 4);
    let out = ons_on_cluster(&["send", "--topic", &topic, "--tag", "TagA", "--body", "hello from ons", "--count", "3"]);
    assert_eq!(exit_code(&out), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "stderr is quiet when it is not a terminal");
    let sent: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|r| r["msgId"].as_str().is_some_and(|id| id.len() == 32) && r["status"] == "SEND_OK"));

    let out = ons_on_cluster(&[
        "consume",
        "--topic",
        &topic,
        "--group",
        &ons_tests::unique_name("GID_cli_pipe"),
        "--expr",
        "TagA",
        "--from",
        "first",
        "--count",
        "3",
        "--json",
    ]);
    assert_eq!(exit_code(&out), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "stderr is quiet when it is not a terminal");
    let got: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|m| m["bodyUtf8"] == "hello from ons" && m["tag"] == "TagA"));
    let mut sent_ids: Vec<&str> = sent.iter().map(|r| r["msgId"].as_str().unwrap()).collect();
    let mut got_ids: Vec<&str> = got.iter().map(|m| m["msgId"].as_str().unwrap()).collect();
    sent_ids.sort();
    got_ids.sort();
    assert_eq!(sent_ids, got_ids);
}

#[test]
fn an_orderly_consume_stops_at_its_count_quietly_and_the_group_resumes_after_it() {
    let topic = new_topic("cli_orderly", 2);
    let out = ons_on_cluster(&["send", "--topic", &topic, "--body", "o", "--sharding-key", "k", "--count", "4"]);
    assert_eq!(exit_code(&out), Some(0), "{}", text(&out.stderr));
    let group = ons_tests::unique_name("GID_cli_orderly");
    let mut offsets = Vec::new();
    for _ in 0..2 {
        let args = ["consume", "--topic", &topic, "--group", &group, "--from", "first", "--orderly", "--count", "2"];
        let out = ons_on_cluster(&[&args[..], &["--json"]].concat());
        assert_eq!(exit_code(&out), Some(0), "{}", text(&out.stderr));
        assert_eq!(text(&out.stderr), "", "no warning about held deliveries");
        for line in text(&out.stdout).lines() {
            let message: serde_json::Value = serde_json::from_str(line).unwrap();
            offsets.push(message["queueOffset"].as_i64().unwrap());
        }
    }
    assert_eq!(offsets, [0, 1, 2, 3], "one queue, in order, each message once");
}

#[test]
fn the_client_log_has_no_colour_codes_in_a_pipe() {
    let topic = new_topic("cli_log", 1);
    let out = ons(&["send", "--topic", &topic, "--body", "b"])
        .env("NAMESRV_ADDR", ons_tests::namesrv())
        .env("ONS_LOG", "debug")
        .output()
        .unwrap();
    assert_eq!(exit_code(&out), Some(0));
    let log = text(&out.stderr);
    assert!(log.contains("DEBUG"), "ONS_LOG=debug logs: {log}");
    assert!(!log.contains('\x1b'), "no escape sequences in a pipe: {log:?}");
}

/// A running `ons`: stdout lines as they come, stderr collected (from a pipe or a terminal).
struct Running {
    child: Child,
    stdout_lines: Receiver<String>,
    stdout_reader: Option<JoinHandle<()>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    stderr_reader: Option<JoinHandle<()>>,
}

impl Running {
    /// Starts `command` with stdout piped and stderr on a pseudo-terminal (`on_terminal`) or
    /// piped.
    fn start(mut command: Command, on_terminal: bool) -> Running {
        command.stdout(Stdio::piped());
        let stderr_source: Box<dyn Read + Send> = if on_terminal {
            let (primary, secondary) = pty::open();
            command.stderr(Stdio::from(secondary));
            Box::new(pty::Reader(primary))
        } else {
            command.stderr(Stdio::piped());
            Box::new(std::io::empty())
        };
        let mut child = command.spawn().expect("ons starts");
        // The terminal's other end now lives in the child only (it went with `command`).
        drop(command);
        let stderr_source = match child.stderr.take() {
            Some(pipe) => Box::new(pipe) as Box<dyn Read + Send>,
            None => stderr_source,
        };
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = stderr.clone();
        let stderr_reader = std::thread::spawn(move || {
            let mut source = stderr_source;
            let mut buf = [0u8; 4096];
            while let Ok(n) = source.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().extend_from_slice(&buf[..n]);
            }
        });
        let (tx, stdout_lines) = mpsc::channel();
        let stdout: ChildStdout = child.stdout.take().unwrap();
        let stdout_reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running { child, stdout_lines, stdout_reader: Some(stdout_reader), stderr, stderr_reader: Some(stderr_reader) }
    }

    fn stderr_text(&self) -> String {
        text(&self.stderr.lock())
    }

    fn wait_for_stderr(&self, expected: &str) {
        let deadline = Instant::now() + GIVE_UP_AFTER;
        while !self.stderr_text().contains(expected) {
            assert!(Instant::now() < deadline, "stderr never said {expected:?}: {:?}", self.stderr_text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn next_stdout_line(&self) -> String {
        self.stdout_lines
            .recv_timeout(GIVE_UP_AFTER)
            .unwrap_or_else(|e| panic!("no line on stdout ({e}); stderr: {:?}", self.stderr_text()))
    }

    fn interrupt(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: a signal to our own child, which has not been waited for yet.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    }

    /// Waits for the exit; returns the exit code, the rest of stdout and all of stderr.
    fn finish(mut self) -> (Option<i32>, Vec<String>, String) {
        let deadline = Instant::now() + GIVE_UP_AFTER;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "ons did not exit; stderr: {:?}", self.stderr_text());
            std::thread::sleep(Duration::from_millis(50));
        };
        for reader in [self.stdout_reader.take(), self.stderr_reader.take()].into_iter().flatten() {
            reader.join().unwrap();
        }
        let rest = self.stdout_lines.try_iter().collect();
        (status.code(), rest, self.stderr_text())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A failed test must not leave a consumer running.
        if self.stdout_reader.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Pseudo-terminals through libc (POSIX openpt), so that no crate or package is needed.
mod pty {
    use std::ffi::CStr;
    use std::fs::{File, OpenOptions};
    use std::io::Read;
    use std::os::fd::FromRawFd;
    use std::os::unix::fs::OpenOptionsExt;

    /// The terminal's controlling side (read what the child writes) and the side given to the
    /// child as its stderr.
    pub fn open() -> (File, File) {
        // SAFETY: plain POSIX calls on a descriptor we own; ptsname_r writes into our buffer.
        unsafe {
            let fd = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
            assert!(fd >= 0, "posix_openpt: {}", std::io::Error::last_os_error());
            let primary = File::from_raw_fd(fd);
            assert_eq!(libc::grantpt(fd), 0, "grantpt: {}", std::io::Error::last_os_error());
            assert_eq!(libc::unlockpt(fd), 0, "unlockpt: {}", std::io::Error::last_os_error());
            let mut name = [0 as libc::c_char; 256];
            assert_eq!(libc::ptsname_r(fd, name.as_mut_ptr(), name.len()), 0, "ptsname_r");
            let path = CStr::from_ptr(name.as_ptr()).to_string_lossy().into_owned();
            let secondary = OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(libc::O_NOCTTY)
                .open(&path)
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            (primary, secondary)
        }
    }

    /// Reads the terminal until the child's side is closed everywhere, which Linux reports as
    /// EIO rather than end of file.
    pub struct Reader(pub File);

    impl Read for Reader {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match self.0.read(buf) {
                Err(e) if e.raw_os_error() == Some(libc::EIO) => Ok(0),
                other => other,
            }
        }
    }
}

/// What a terminal shows of `raw` without the escape sequences (colours, line erasing).
fn without_escapes(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ parameters final-byte.
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn send_on_a_terminal_shows_progress_and_a_summary() {
    let topic = new_topic("cli_tty_send", 4);
    let mut command = ons(&["send", "--topic", &topic, "--body", "b", "--count", "20"]);
    command.env("NAMESRV_ADDR", ons_tests::namesrv());
    let run = Running::start(command, true);
    let (code, lines, stderr) = run.finish();
    assert_eq!(code, Some(0), "{stderr:?}");
    assert_eq!(lines.len(), 20, "stdout keeps one JSON line per message");
    assert!(lines.iter().all(|l| l.starts_with('{') && l.contains("\"msgId\"")));
    let shown = without_escapes(&stderr);
    assert!(shown.contains("ons: sending: 1/20 sent, 0 failed"), "progress: {shown:?}");
    assert!(shown.contains(&format!("ons: sent 20 messages to {topic}, 0 failed, in ")), "summary: {shown:?}");
    assert!(shown.contains("msg/s"), "{shown:?}");

    let mut command = ons(&["send", "--topic", &topic, "--body", "b", "--count", "3", "--mode", "oneway"]);
    command.env("NAMESRV_ADDR", ons_tests::namesrv()).env("NO_COLOR", "1");
    let (code, lines, stderr) = Running::start(command, true).finish();
    assert_eq!(code, Some(0), "{stderr:?}");
    assert!(lines.is_empty(), "one-way sends have no results: {lines:?}");
    assert!(stderr.contains(&format!("ons: sent 3 messages one-way to {topic}")), "{stderr:?}");
    assert!(!stderr.contains("\x1b[2m") && !stderr.contains("\x1b[3"), "NO_COLOR: no colours: {stderr:?}");
}

#[test]
fn ctrl_c_stops_a_send_with_130_and_a_summary_of_what_was_sent() {
    let topic = new_topic("cli_tty_interrupt", 1);
    let mut command = ons(&["send", "--topic", &topic, "--body", "b", "--count", "100000000"]);
    command.env("NAMESRV_ADDR", ons_tests::namesrv());
    let run = Running::start(command, true);
    run.next_stdout_line();
    run.wait_for_stderr("ons: sending: ");
    run.interrupt();
    let (code, _, stderr) = run.finish();
    assert_eq!(code, Some(130), "{stderr:?}");
    assert!(without_escapes(&stderr).contains(" of 100000000 messages to "), "{stderr:?}");
}

#[test]
fn consume_on_a_terminal_says_what_it_waits_for_and_counts_at_ctrl_c() {
    let topic = new_topic("cli_tty_consume", 2);
    let group = ons_tests::unique_name("GID_cli_tty");
    let out = ons_on_cluster(&["send", "--topic", &topic, "--body", "before", "--count", "2"]);
    assert_eq!(exit_code(&out), Some(0), "{}", text(&out.stderr));

    let mut command = ons(&["consume", "--topic", &topic, "--group", &group, "--from", "first", "--json"]);
    command.env("NAMESRV_ADDR", ons_tests::namesrv());
    let run = Running::start(command, true);
    for _ in 0..2 {
        let line = run.next_stdout_line();
        assert!(line.contains("\"bodyUtf8\":\"before\""), "{line}");
    }
    // The note was written before the first message, but the terminal is read by another thread.
    run.wait_for_stderr("Ctrl-C to stop");
    let note = without_escapes(&run.stderr_text());
    for expected in [&topic, &group, "tags \"*\"", ons_tests::namesrv().as_str(), " queues, ", "Ctrl-C"] {
        assert!(note.contains(expected), "the start-up note lacks {expected:?}: {note:?}");
    }
    run.interrupt();
    let (code, rest, stderr) = run.finish();
    assert_eq!(code, Some(130), "{stderr:?}");
    assert!(rest.is_empty(), "{rest:?}");
    assert!(without_escapes(&stderr).contains(&format!("ons: consumed 2 messages of topic {topic}")), "{stderr:?}");
}

#[test]
fn consuming_a_topic_that_does_not_exist_warns_and_waits() {
    let topic = ons_tests::unique_name("cli_no_such_topic");
    let mut command = ons(&["consume", "--topic", &topic, "--group", "GID_cli_missing"]);
    command.env("NAMESRV_ADDR", ons_tests::namesrv());
    let run = Running::start(command, false);
    let expected =
        format!("ons: warning: topic {topic} has no route on {}; waiting for it to be created", ons_tests::namesrv());
    run.wait_for_stderr(&expected);
    run.interrupt();
    let (code, lines, stderr) = run.finish();
    assert_eq!(code, Some(130), "{stderr:?}");
    assert!(lines.is_empty());
    // In a pipe, only warnings: the command's own, and the client's WARN giving the cause
    // (it repeats at most every 30 s while the route is missing).
    let core_warning = format!("route lookup of topic {topic} failed, retrying: [TOPIC_NOT_FOUND]");
    let others: Vec<&str> =
        stderr.lines().filter(|l| *l != expected && !(l.contains(" WARN ") && l.contains(&core_warning))).collect();
    assert!(others.is_empty(), "only warnings in a pipe: {stderr:?}");
}
