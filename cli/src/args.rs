//! The command line as clap parses it: every subcommand and option, its default and its help
//! text, and the parsers of values clap cannot check by type (`--deliver-at`, `--from`,
//! `--property`). Values that parse here are usage-valid; what needs the file system or the
//! environment (files, credentials) is checked by the commands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::admin::args::{ClusterCommand, ConsumerCommand, GroupCommand, MessageCommand, OffsetCommand, TopicCommand};
use crate::bench::BenchCommand;

/// Shown after the top-level help and each subcommand's help: what scripts and people need to
/// know about the tool as a whole.
pub const AFTER_HELP: &str = "\
Output:
  Results go to stdout: one JSON line per sent message, one line per consumed message; the
  other commands print tables, or one JSON document with --json.
  Progress, summaries and start-up notes go to stderr only when stderr is a terminal;
  warnings and errors always do. Colours only on a terminal, never with NO_COLOR set.

Exit status:
  0    success
  1    runtime failure (name server unreachable, send failed, no such topic or group, ...)
  2    usage error (unknown option, missing or malformed value)
  130  interrupted (Ctrl-C)

Environment:
  NAMESRV_ADDR    name server address(es) when --namesrv is absent
  ONS_ACCESS_KEY  ACL access key when --access-key is absent
  ONS_SECRET_KEY  ACL secret key when neither --secret-key-file nor --secret-key is given
  ONS_LOG         the client library's log on stderr, a tracing filter: `warn` (default),
                  `info`, `debug`, `rocketmq_ons::consumer=trace,warn`, `off`
  NO_COLOR        no colours, also on a terminal

Reference with examples: docs/cli.md";

#[derive(Debug, Parser)]
#[command(
    name = "ons",
    version,
    about = "Send, consume and administer RocketMQ messages, topics and groups (the rocketmq-ons client on the command line)",
    after_help = AFTER_HELP,
    propagate_version = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send a message (or --count copies of it); prints one JSON line per sent message
    #[command(after_help = AFTER_HELP)]
    Send(SendArgs),
    /// Consume a topic's messages as a group; prints one line per message until --count or Ctrl-C
    #[command(after_help = AFTER_HELP)]
    Consume(ConsumeArgs),
    /// The brokers of the cluster
    #[command(subcommand, subcommand_required = true, arg_required_else_help = true)]
    Cluster(ClusterCommand),
    /// Create, change, delete, list and inspect topics
    #[command(subcommand, subcommand_required = true, arg_required_else_help = true)]
    Topic(TopicCommand),
    /// Create, change, delete and list subscription (consumer) groups
    #[command(subcommand, subcommand_required = true, arg_required_else_help = true)]
    Group(GroupCommand),
    /// A consumer group's online clients, progress, lag and running state
    #[command(subcommand, subcommand_required = true, arg_required_else_help = true)]
    Consumer(ConsumerCommand),
    /// Move a consumer group's offsets
    #[command(subcommand, subcommand_required = true, arg_required_else_help = true)]
    Offset(OffsetCommand),
    /// Look stored messages up, see who consumed one, hand one to a consumer again
    #[command(subcommand, subcommand_required = true, arg_required_else_help = true)]
    Message(MessageCommand),
    /// Measure producer or consumer throughput and latency
    #[command(subcommand, subcommand_required = true, arg_required_else_help = true)]
    Bench(BenchCommand),
    /// Print a shell completion script
    ///
    /// Install for bash: `ons completions bash > ~/.local/share/bash-completion/completions/ons`;
    /// zsh: `ons completions zsh > "${fpath[1]}/_ons"`; fish: `ons completions fish >
    /// ~/.config/fish/completions/ons.fish`.
    Completions {
        /// The shell to complete in
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// How to reach the cluster: the same for every command.
#[derive(Debug, Args)]
#[command(next_help_heading = "Connection")]
pub struct ClusterArgs {
    /// Name server address, `host:port` (several separated by `;`). Name servers listen on 9876
    /// by default; a broker's address does not work here
    #[arg(long, env = "NAMESRV_ADDR", value_name = "ADDR")]
    pub namesrv: String,

    /// ACL access key (default: ONS_ACCESS_KEY); needs a secret key too
    #[arg(long, value_name = "AK")]
    pub access_key: Option<String>,

    /// File whose first line is the ACL secret key (default: ONS_SECRET_KEY)
    #[arg(long, value_name = "FILE", conflicts_with = "secret_key")]
    pub secret_key_file: Option<PathBuf>,

    /// ACL secret key. Visible to every user in `ps`: prefer --secret-key-file or ONS_SECRET_KEY
    #[arg(long, value_name = "SK")]
    pub secret_key: Option<String>,

    /// How request headers are encoded: `json` (what the Java client sends) or `rocketmq` (the
    /// compact binary form). Every name server and broker version accepts both
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = HeaderFormat::Json)]
    pub header_format: HeaderFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HeaderFormat {
    Json,
    Rocketmq,
}

impl HeaderFormat {
    /// The value of the core's `HeaderFormat` property.
    pub fn property_value(self) -> &'static str {
        match self {
            HeaderFormat::Json => "JSON",
            HeaderFormat::Rocketmq => "ROCKETMQ",
        }
    }
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("body_source").args(["body", "body_file"]).required(true)))]
pub struct SendArgs {
    /// Topic to send to
    #[arg(long)]
    pub topic: String,

    /// Message body, as text
    #[arg(long, value_name = "TEXT")]
    pub body: Option<String>,

    /// Message body, the bytes of a file (`-`: standard input)
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,

    /// Message tag (what consumers filter on with --expr)
    #[arg(long)]
    pub tag: Option<String>,

    /// Message key(s), indexed by the broker for lookups; several separated by a space
    #[arg(long)]
    pub key: Option<String>,

    /// A user property of the message; repeat for several
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = parse_property)]
    pub properties: Vec<(String, String)>,

    /// Timed delivery: consumers see the message only from this time on, epoch milliseconds or
    /// relative to now as +N with unit ms, s (default), m, h or d (`+10s`, `+2m`)
    #[arg(long, value_name = "WHEN", value_parser = parse_deliver_at)]
    pub deliver_at: Option<i64>,

    /// Send in order: messages with the same sharding key go to the same queue (OrderProducer,
    /// synchronous)
    #[arg(long, value_name = "KEY", conflicts_with = "mode")]
    pub sharding_key: Option<String>,

    /// How many copies of the message to send, one after the other; sending stops at the first
    /// failure
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub count: u64,

    /// `sync`: wait for the broker's acknowledgement of each message, retrying failures;
    /// `async`: the same through the asynchronous send path; `oneway`: do not wait for any
    /// answer (nothing is printed per message, and a lost message goes unnoticed)
    #[arg(long, value_enum, default_value_t = SendMode::Sync)]
    pub mode: SendMode,

    /// Producer group
    #[arg(long, default_value = "GID_ons_cli")]
    pub group: String,

    #[command(flatten)]
    pub cluster: ClusterArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SendMode {
    Sync,
    Async,
    Oneway,
}

#[derive(Debug, Args)]
pub struct ConsumeArgs {
    /// Topic to consume
    #[arg(long)]
    pub topic: String,

    /// Consumer group: consumers of one group share the topic's messages (each message goes to
    /// one of them) and resume where the group stopped
    #[arg(long)]
    pub group: String,

    /// Tag expression: `*` for every message, or tags separated by `||` (`TagA || TagB`)
    #[arg(long, value_name = "EXPR", default_value = "*", conflicts_with = "sql")]
    pub expr: String,

    /// SQL92 filter on message properties instead of tags (`a > 5 AND b = 'x'`); the broker
    /// must run with enablePropertyFilter=true
    #[arg(long, value_name = "SQL")]
    pub sql: Option<String>,

    /// Where a group without a committed offset starts: `last` (only messages sent from now
    /// on), `first` (every stored message) or epoch milliseconds (messages stored since then).
    /// A group that committed offsets resumes from them whatever this says
    #[arg(long, value_name = "WHERE", value_parser = parse_start, default_value = "last")]
    pub from: StartFrom,

    /// Stop after this many messages; later deliveries are left uncommitted for the group.
    /// Without it: until Ctrl-C
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,

    /// Print each message as a JSON object (msgId, topic, tag, keys, bodyBase64, bodyUtf8,
    /// properties, reconsumeTimes, queueId, queueOffset, brokerName, bornTimestamp,
    /// storeTimestamp) instead of a line of text
    #[arg(long)]
    pub json: bool,

    /// Every consumer of the group gets every message (offsets kept locally, see --offset-dir)
    /// instead of sharing them
    #[arg(long)]
    pub broadcast: bool,

    /// Consume each queue in order, one message at a time (OrderConsumer)
    #[arg(long)]
    pub orderly: bool,

    /// Client instance name; two consumers of one group in one process need different names
    /// [default: DEFAULT]
    #[arg(long, value_name = "NAME")]
    pub instance: Option<String>,

    /// Messages handled at once [default: 64]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub threads: Option<u32>,

    /// Directory of the local offset files of --broadcast [default: $HOME/.rocketmq_offsets]
    #[arg(long, value_name = "DIR")]
    pub offset_dir: Option<PathBuf>,

    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// Where a new consumer group starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartFrom {
    Last,
    First,
    /// Epoch milliseconds.
    Timestamp(i64),
}

fn parse_start(raw: &str) -> Result<StartFrom, String> {
    match raw {
        "last" => Ok(StartFrom::Last),
        "first" => Ok(StartFrom::First),
        ms => ms
            .parse::<i64>()
            .ok()
            .filter(|ms| *ms >= 0)
            .map(StartFrom::Timestamp)
            .ok_or_else(|| "expected `last`, `first` or epoch milliseconds".to_owned()),
    }
}

fn parse_property(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err("expected KEY=VALUE".to_owned()),
    }
}

/// Epoch milliseconds of `raw`: a number as it is, `+N[unit]` from now.
fn parse_deliver_at(raw: &str) -> Result<i64, String> {
    let Some(relative) = raw.strip_prefix('+') else {
        return raw.parse().map_err(|_| "expected epoch milliseconds or +N[ms|s|m|h|d]".to_owned());
    };
    let (number, unit) = relative.split_at(relative.find(|c: char| !c.is_ascii_digit()).unwrap_or(relative.len()));
    let n: i64 = number.parse().map_err(|_| "expected +N[ms|s|m|h|d], e.g. +10s".to_owned())?;
    let millis_per_unit = match unit {
        "ms" => 1,
        "" | "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("unknown unit {unit:?}: expected ms, s, m, h or d")),
    };
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    n.checked_mul(millis_per_unit).and_then(|d| d.checked_add(now)).ok_or_else(|| "too far in the future".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("ons").chain(args.iter().copied()))
    }

    #[test]
    fn send_defaults_and_values() {
        let Command::Send(s) = parse(&["send", "--namesrv", "n:1", "--topic", "T", "--body", "b"]).unwrap().command
        else {
            panic!("not send")
        };
        assert_eq!((s.count, s.mode, s.group.as_str()), (1, SendMode::Sync, "GID_ons_cli"));
        assert_eq!(s.cluster.header_format, HeaderFormat::Json);
        let Command::Send(s) =
            parse(&["send", "--namesrv", "n:1", "--topic", "T", "--body-file", "f", "--property", "a=b=c"])
                .unwrap()
                .command
        else {
            panic!("not send")
        };
        assert_eq!(s.properties, [("a".to_owned(), "b=c".to_owned())]);
    }

    #[test]
    fn usage_errors_name_what_is_wrong() {
        let base = ["send", "--namesrv", "n:1", "--topic", "T"];
        let with = |extra: &[&str]| parse(&[&base[..], extra].concat()).unwrap_err().to_string();
        assert!(with(&[]).contains("--body"), "{}", with(&[]));
        assert!(with(&["--body", "a", "--body-file", "f"]).contains("cannot be used with"));
        assert!(with(&["--body", "a", "--deliver-at", "+3y"]).contains("unknown unit \"y\""));
        assert!(with(&["--body", "a", "--deliver-at", "soon"]).contains("--deliver-at"));
        assert!(with(&["--body", "a", "--property", "novalue"]).contains("KEY=VALUE"));
        assert!(with(&["--body", "a", "--mode", "fast"]).contains("sync, async, oneway"));
        assert!(with(&["--body", "a", "--sharding-key", "k", "--mode", "async"]).contains("cannot be used with"));
        let consume = |extra: &[&str]| {
            parse(&[&["consume", "--namesrv", "n:1", "--topic", "T", "--group", "G"][..], extra].concat())
        };
        assert!(consume(&["--from", "yesterday"]).unwrap_err().to_string().contains("epoch milliseconds"));
        assert!(consume(&["--expr", "A", "--sql", "a>1"]).is_err());
        assert!(consume(&["--threads", "0"]).is_err());
        assert!(consume(&["--from", "1700000000000", "--threads", "8"]).is_ok());
    }

    #[test]
    fn deliver_at_absolute_and_relative() {
        assert_eq!(parse_deliver_at("1700000000000"), Ok(1_700_000_000_000));
        let now = parse_deliver_at("+0").unwrap();
        let in_two_minutes = parse_deliver_at("+2m").unwrap();
        assert!((120_000..121_000).contains(&(in_two_minutes - now)), "{}", in_two_minutes - now);
        assert!(parse_deliver_at("+10").unwrap() >= now + 10_000);
        assert!(parse_deliver_at("+99999999999999999d").is_err());
    }
}
