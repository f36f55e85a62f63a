//! The command line of the administrative commands (`cluster`, `topic`, `group`, `consumer`,
//! `offset`, `message`): their subcommands, options, defaults and help text, and the parser of
//! times (`--to`, `--begin`, `--end`). Each maps onto one `rocketmq_ons::admin::Admin` operation
//! (docs/admin.md).

use clap::{Args, Subcommand, ValueEnum};

use crate::args::{ClusterArgs, AFTER_HELP};

/// What every admin command takes: how to print and how to reach the cluster.
#[derive(Debug, Args)]
pub struct Common {
    /// Print the result as one JSON document (snake_case field names) instead of tables
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// The cluster a change applies to: every master broker of it.
#[derive(Debug, Args)]
pub struct TargetCluster {
    /// The cluster whose master brokers get the change (`ons cluster list` names them)
    #[arg(long = "cluster", value_name = "NAME", default_value = "DefaultCluster")]
    pub name: String,
}

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Every broker the name servers know: cluster, name, id, address, role, version, TPS
    #[command(after_help = AFTER_HELP)]
    List(Common),
}

#[derive(Debug, Subcommand)]
pub enum TopicCommand {
    /// Create a topic on every master of a cluster; fails if the topic exists
    #[command(after_help = AFTER_HELP)]
    Create(TopicWrite),
    /// Change an existing topic's queues, permission or order flag; options not given keep
    /// their current values
    #[command(after_help = AFTER_HELP)]
    Update(TopicWrite),
    /// Delete a topic (its config and stored messages) from a cluster's brokers and routes
    #[command(after_help = AFTER_HELP)]
    Delete {
        /// The topic
        topic: String,
        #[command(flatten)]
        target: TargetCluster,
        #[command(flatten)]
        common: Common,
    },
    /// Every topic the name servers know, system topics included
    #[command(after_help = AFTER_HELP)]
    List(Common),
    /// The brokers and queues the name servers route a topic to
    #[command(after_help = AFTER_HELP)]
    Route(TopicName),
    /// The min and max offset and last store time of every queue of a topic
    #[command(after_help = AFTER_HELP)]
    Stats(TopicName),
}

#[derive(Debug, Args)]
pub struct TopicName {
    /// The topic
    pub topic: String,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct TopicWrite {
    /// The topic
    pub topic: String,

    /// Read and write queues on each broker [default: create 8, update unchanged]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub queues: Option<u32>,

    /// Read queues on each broker, when they differ from the write queues [default: --queues]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub read_queues: Option<u32>,

    /// Write queues on each broker [default: --queues]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub write_queues: Option<u32>,

    /// Who may use the topic: `rw` (producers and consumers), `r` (consumers only), `w`
    /// (producers only) [default: create rw, update unchanged]
    #[arg(long, value_enum, value_name = "PERM")]
    pub perm: Option<Perm>,

    /// Mark the topic ordered (`true`) or not (`false`); 4.x brokers ignore the flag
    /// [default: create false, update unchanged]
    #[arg(long, value_name = "BOOL")]
    pub order: Option<bool>,

    #[command(flatten)]
    pub target: TargetCluster,
    #[command(flatten)]
    pub common: Common,
}

/// A topic's permission (Java `PermName`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Perm {
    Rw,
    R,
    W,
}

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create a subscription group on every master of a cluster; fails if the group exists
    #[command(after_help = AFTER_HELP)]
    Create(GroupWrite),
    /// Change an existing group's settings; options not given keep their current values
    #[command(after_help = AFTER_HELP)]
    Update(GroupWrite),
    /// Delete a subscription group from a cluster's brokers
    #[command(after_help = AFTER_HELP)]
    Delete {
        /// The group
        group: String,
        /// Delete the group's committed offsets too
        #[arg(long)]
        clean_offsets: bool,
        #[command(flatten)]
        target: TargetCluster,
        #[command(flatten)]
        common: Common,
    },
    /// The subscription groups of a cluster's brokers, system groups included
    #[command(after_help = AFTER_HELP)]
    List {
        #[command(flatten)]
        target: TargetCluster,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Args)]
pub struct GroupWrite {
    /// The group
    pub group: String,

    /// Whether the group may consume [default: create true, update unchanged]
    #[arg(long, value_name = "BOOL")]
    pub consume_enable: Option<bool>,

    /// Whether broadcast consumption is allowed [default: create true, update unchanged]
    #[arg(long, value_name = "BOOL")]
    pub broadcast_enable: Option<bool>,

    /// Deliveries of a failed message before it goes to the dead-letter queue
    /// [default: create 16, update unchanged]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(-1..))]
    pub retry_max_times: Option<i32>,

    /// Queues of the group's retry topic on each broker [default: create 1, update unchanged]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(1..=1024))]
    pub retry_queues: Option<i32>,

    #[command(flatten)]
    pub target: TargetCluster,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Subcommand)]
pub enum ConsumerCommand {
    /// The group's online clients and subscriptions
    #[command(after_help = AFTER_HELP)]
    List(GroupName),
    /// The group's progress on every queue (broker offset, consumer offset, lag) with totals
    #[command(after_help = AFTER_HELP)]
    Progress {
        #[command(flatten)]
        group: GroupName,
        /// Only the queues of this topic [default: every topic the group has offsets for]
        #[arg(long)]
        topic: Option<String>,
    },
    /// The group's lag per topic and in all, and its consume rate
    #[command(after_help = AFTER_HELP)]
    Lag(GroupName),
    /// What the group's online clients report about themselves: settings, queues, caches
    #[command(after_help = AFTER_HELP)]
    Info {
        #[command(flatten)]
        group: GroupName,
        /// Only this client (`ons consumer list` shows the ids) [default: every online client]
        #[arg(long, value_name = "ID")]
        client_id: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct GroupName {
    /// The consumer group
    pub group: String,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Subcommand)]
pub enum OffsetCommand {
    /// Move a group's offsets on every queue of a topic; running consumers of the group jump
    /// there
    #[command(after_help = AFTER_HELP)]
    Reset {
        /// The consumer group
        #[arg(long)]
        group: String,
        /// The topic
        #[arg(long)]
        topic: String,
        /// `earliest` (consume every stored message again), `latest` (skip everything stored),
        /// or a time: the first message stored at or after it (`now`, epoch ms, `-N` ago with unit ms, s, m, h or d as
        /// in `-2h`, or UTC `2024-12-04T10:30:00Z`)
        #[arg(long, value_name = "WHERE", allow_hyphen_values = true, value_parser = parse_reset_position)]
        to: ResetTo,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetTo {
    Earliest,
    Latest,
    /// Epoch milliseconds.
    Time(i64),
}

#[derive(Debug, Subcommand)]
pub enum MessageCommand {
    /// One message by its id (the msgId or the offsetMsgId of a send), with its properties
    #[command(after_help = AFTER_HELP)]
    Get(MessageId),
    /// The messages with a key stored within a time range
    #[command(after_help = AFTER_HELP)]
    Query {
        /// The topic
        #[arg(long)]
        topic: String,
        /// The business key (what `ons send --key` set)
        #[arg(long)]
        key: String,
        /// Stored at or after this time (`now`, epoch ms, `-N` ago with unit ms, s, m, h or d as
        /// in `-2h`, or UTC `2024-12-04T10:30:00Z`)
        #[arg(long, value_name = "TIME", allow_hyphen_values = true, value_parser = parse_time, default_value = "-3d")]
        begin: i64,
        /// Stored before this time (`now`, epoch ms, `-N` ago with unit ms, s, m, h or d as
        /// in `-2h`, or UTC `2024-12-04T10:30:00Z`)
        #[arg(long, value_name = "TIME", allow_hyphen_values = true, value_parser = parse_time, default_value = "now")]
        end: i64,
        /// Most messages each broker returns (brokers cap it, 64 by default)
        #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(i32).range(1..))]
        max: i32,
        #[command(flatten)]
        common: Common,
    },
    /// The messages of one queue between two offsets, without consuming them
    #[command(after_help = AFTER_HELP)]
    Read {
        /// The topic
        #[arg(long)]
        topic: String,
        /// The broker (name) holding the queue (`ons topic route` shows them)
        #[arg(long, value_name = "NAME")]
        broker: String,
        /// The queue id
        #[arg(long, value_name = "ID", value_parser = clap::value_parser!(i32).range(0..))]
        queue: i32,
        /// The first offset to read
        #[arg(long, value_name = "OFFSET", value_parser = clap::value_parser!(i64).range(0..))]
        from: i64,
        /// The offset to stop before (at most 2048 past --from) [default: --from + 32]
        #[arg(long, value_name = "OFFSET", value_parser = clap::value_parser!(i64).range(0..))]
        to: Option<i64>,
        #[command(flatten)]
        common: Common,
    },
    /// Whether each group consuming the topic has consumed a message
    #[command(after_help = AFTER_HELP)]
    Trace(MessageId),
    /// Have one online consumer client run its listener on a stored message again; nothing
    /// else happens to the message (no offset moves)
    #[command(after_help = AFTER_HELP)]
    Resend {
        #[command(flatten)]
        message: MessageId,
        /// The consumer group of the client
        #[arg(long)]
        group: String,
        /// The client (`ons consumer list` shows the ids)
        #[arg(long, value_name = "ID")]
        client_id: String,
    },
}

#[derive(Debug, Args)]
pub struct MessageId {
    /// The topic
    #[arg(long)]
    pub topic: String,
    /// The message id: the msgId or the offsetMsgId a send printed
    #[arg(long, value_name = "ID")]
    pub id: String,
    #[command(flatten)]
    pub common: Common,
}

fn parse_reset_position(raw: &str) -> Result<ResetTo, String> {
    match raw {
        "earliest" => Ok(ResetTo::Earliest),
        "latest" => Ok(ResetTo::Latest),
        time => {
            parse_time(time).map(ResetTo::Time).map_err(|e| format!("expected `earliest`, `latest` or a time ({e})"))
        }
    }
}

/// Parses a time (`now`, epoch ms, `-N<unit>` ago, UTC `YYYY-MM-DDTHH:MM[:SS][Z]`), in epoch milliseconds.
pub fn parse_time(raw: &str) -> Result<i64, String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    parse_time_at(raw, now)
}

fn parse_time_at(raw: &str, now: i64) -> Result<i64, String> {
    let raw = raw.trim();
    if raw == "now" {
        return Ok(now);
    }
    if let Some(ago) = raw.strip_prefix('-') {
        return duration_ms(ago).map(|ms| now.saturating_sub(ms));
    }
    if raw.chars().all(|c| c.is_ascii_digit()) && !raw.is_empty() {
        return raw.parse::<i64>().map_err(|_| format!("{raw} is too large for epoch milliseconds"));
    }
    utc_date_time(raw)
}

/// `N` followed by `ms`, `s`, `m`, `h` or `d`, in milliseconds.
pub fn duration_ms(raw: &str) -> Result<i64, String> {
    let digits = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(digits);
    let n: i64 = number.parse().map_err(|_| format!("{raw:?} is not a number with a unit (ms, s, m, h, d)"))?;
    let scale = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("{raw:?} has no unit: ms, s, m, h or d")),
    };
    n.checked_mul(scale).ok_or_else(|| format!("{raw:?} is too long"))
}

/// `YYYY-MM-DDTHH:MM[:SS][Z]`, UTC.
fn utc_date_time(raw: &str) -> Result<i64, String> {
    let bad = || format!("{raw:?} is not `now`, epoch milliseconds, `-N<unit>` or YYYY-MM-DDTHH:MM[:SS]Z");
    let text = raw.strip_suffix('Z').unwrap_or(raw);
    let (date, time) = text.split_once(['T', ' ']).ok_or_else(bad)?;
    let numbers = |part: &str, sep: char| -> Option<Vec<i64>> { part.split(sep).map(|n| n.parse().ok()).collect() };
    let date = numbers(date, '-').filter(|d| d.len() == 3).ok_or_else(bad)?;
    let time = numbers(time, ':').filter(|t| t.len() == 2 || t.len() == 3).ok_or_else(bad)?;
    let (month, day) = (date[1], date[2]);
    let (hour, minute, second) = (time[0], time[1], time.get(2).copied().unwrap_or(0));
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return Err(bad());
    }
    let days = crate::table::days_from_civil(date[0], month, day);
    Ok(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_every_form() {
        let now = 1_700_000_000_000;
        assert_eq!(parse_time_at("now", now), Ok(now));
        assert_eq!(parse_time_at("-30m", now), Ok(now - 1_800_000));
        assert_eq!(parse_time_at("-2d", now), Ok(now - 172_800_000));
        assert_eq!(parse_time_at("1733300000000", now), Ok(1_733_300_000_000));
        assert_eq!(parse_time_at("2023-11-14T22:13:20Z", now), Ok(1_700_000_000_000));
        assert_eq!(parse_time_at("2023-11-14T22:13", now), Ok(1_699_999_980_000));
        for bad in ["", "-5", "-5y", "yesterday", "2023-13-01T00:00Z", "2023-11-14"] {
            assert!(parse_time_at(bad, now).is_err(), "{bad}");
        }
        assert_eq!(parse_reset_position("earliest"), Ok(ResetTo::Earliest));
        assert!(parse_reset_position("soon").unwrap_err().contains("earliest"));
    }
}
