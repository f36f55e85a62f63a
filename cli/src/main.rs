//! `ons`: a command-line tool over the rocketmq-ons core (`ons --help`, docs/cli.md).
//!
//! This module owns the process: it parses the command line, sets up the client log
//! (`ONS_LOG`) and the runtime, runs the command and turns its outcome into the exit status
//! (0 ok, 1 runtime failure, 2 usage error, 130 interrupted). The modules:
//! * `args`: the command line (clap), every option's meaning and default;
//! * `cluster`: client properties and credentials, the route check, explaining wrong addresses;
//! * `send`, `consume`: the messaging commands;
//! * `admin`: the administrative commands (`cluster`, `topic`, `group`, `consumer`, `offset`,
//!   `message`); `bench`: throughput runs;
//! * `records`: what send and consume print on stdout; `table`: the tables and JSON documents
//!   of the others; `report`: what goes to stderr, for people.

mod admin;
mod args;
mod bench;
mod cluster;
mod consume;
mod records;
mod report;
mod send;
mod table;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser};

use admin::AdminCommand;
use args::{Cli, Command};
use report::Reporter;

/// How a command ended, when not successfully.
#[derive(Debug)]
pub enum Failure {
    /// The input is wrong in a way the parser could not see (incomplete credentials, a reserved
    /// property name): exit 2, like clap's own usage errors.
    Usage(String),
    /// The command ran and failed: exit 1.
    Runtime(String),
    /// Ctrl-C: exit 130 (128 + SIGINT, what shells report). The command has said what it did.
    Interrupted,
}

const EXIT_RUNTIME_FAILURE: u8 = 1;
const EXIT_INTERRUPTED: u8 = 130;

/// Ctrl-C (SIGINT), listened for from the start of a command to its end, so that one arriving
/// between two waits is not lost. A second Ctrl-C ends the process at once, for a shutdown
/// that takes longer than the user is willing to wait.
#[derive(Clone)]
pub struct Interrupt(tokio::sync::watch::Receiver<bool>);

impl Interrupt {
    /// Starts listening; must be called within the runtime.
    fn listen() -> Interrupt {
        let (pressed, receiver) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_err() {
                // No signal handler could be installed: never interrupted (`pressed` lives on).
                return std::future::pending().await;
            }
            pressed.send_replace(true);
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(i32::from(EXIT_INTERRUPTED));
            }
        });
        Interrupt(receiver)
    }

    /// Resolves once Ctrl-C was pressed (at once if it already was).
    pub async fn pressed(&self) {
        let mut receiver = self.0.clone();
        if receiver.wait_for(|pressed| *pressed).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

fn main() -> ExitCode {
    // Exits 0 for --help and --version, 2 for usage errors.
    let cli = Cli::parse();
    let reporter = Reporter::for_stderr();
    init_client_log(reporter);
    let (name, result) = match cli.command {
        Command::Completions { shell } => {
            // Generated into memory first: clap_complete panics on a write error, and a reader
            // that stops early (`| head`) is an ordinary end of output, not a crash.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "ons", &mut script);
            let mut stdout = std::io::stdout().lock();
            return match stdout.write_all(&script).and_then(|()| stdout.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    reporter.error(&format!("cannot write to stdout: {e}"));
                    ExitCode::FAILURE
                }
            };
        }
        Command::Send(args) => ("send", run_async(|interrupt| send::run(args, reporter, interrupt))),
        Command::Consume(args) => ("consume", run_async(|interrupt| consume::run(args, reporter, interrupt))),
        Command::Bench(command) => ("bench", run_async(|interrupt| bench::run(command, reporter, interrupt))),
        Command::Cluster(c) => run_admin(AdminCommand::Cluster(c)),
        Command::Topic(c) => run_admin(AdminCommand::Topic(c)),
        Command::Group(c) => run_admin(AdminCommand::Group(c)),
        Command::Consumer(c) => run_admin(AdminCommand::Consumer(c)),
        Command::Offset(c) => run_admin(AdminCommand::Offset(c)),
        Command::Message(c) => run_admin(AdminCommand::Message(c)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => usage_error(name, &message),
        Err(Failure::Runtime(message)) => {
            reporter.error(&message);
            ExitCode::from(EXIT_RUNTIME_FAILURE)
        }
        Err(Failure::Interrupted) => ExitCode::from(EXIT_INTERRUPTED),
    }
}

/// Runs an admin command; its name for usage errors.
fn run_admin(command: AdminCommand) -> (&'static str, Result<(), Failure>) {
    (command.name(), run_async(|interrupt| admin::run(command, interrupt)))
}

/// Runs a command on a multi-threaded runtime (the client's connections and consumer threads
/// live on it), listening for Ctrl-C from the start.
fn run_async<F: std::future::Future<Output = Result<(), Failure>>>(
    command: impl FnOnce(Interrupt) -> F,
) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start the runtime: {e}")))?;
    let result = runtime.block_on(async {
        let interrupt = Interrupt::listen();
        command(interrupt).await
    });
    // Consumer listeners held past --count block their threads for good: do not wait for them.
    runtime.shutdown_timeout(Duration::from_millis(200));
    result
}

/// Reports `message` as clap reports its own usage errors (with the usage line of the
/// subcommand the command line named, `ons message query` say) and exits 2.
fn usage_error(subcommand: &str, message: &str) -> ExitCode {
    let mut command = Cli::command();
    // Builds every subcommand's usage line too.
    command.build();
    // The command line's leading words that name subcommands, from `subcommand` on.
    let words: Vec<String> = std::env::args().skip(1).skip_while(|w| w != subcommand).collect();
    let mut current = command;
    for word in &words {
        match current.find_subcommand(word).cloned() {
            Some(sub) => current = sub,
            None => break,
        }
    }
    current.error(clap::error::ErrorKind::ValueValidation, message).exit()
}

/// The client library's log on stderr: `ONS_LOG` is a tracing filter (`debug`,
/// `rocketmq_ons::consumer=trace`, ...); by default warnings and errors. ANSI colours only when
/// stderr is a terminal that may have them.
fn init_client_log(reporter: Reporter) {
    let filter = match std::env::var("ONS_LOG") {
        Ok(directives) if !directives.trim().is_empty() => tracing_subscriber::EnvFilter::try_new(&directives)
            .unwrap_or_else(|e| {
                reporter.warn(&format!("ONS_LOG={directives:?} is not a log filter ({e}); logging warnings only"));
                tracing_subscriber::EnvFilter::new("warn")
            }),
        _ => tracing_subscriber::EnvFilter::new("warn"),
    };
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(reporter.colour()).init();
}
