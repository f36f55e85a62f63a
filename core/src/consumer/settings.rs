//! The consumer settings: ONS property keys parsed once into [`ConsumerSettings`], with the ONS
//! defaults and ranges. Every malformed or out-of-range value is an error naming the property.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{keys, Properties};
use crate::error::{Error, Result};
use crate::message::now_ms;

pub use super::allocate::AllocateStrategy;

/// CLUSTERING shares a group's queues among its instances; BROADCASTING gives every instance
/// every message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageModel {
    Clustering,
    Broadcasting,
}

impl MessageModel {
    pub fn wire_name(self) -> &'static str {
        match self {
            MessageModel::Clustering => "CLUSTERING",
            MessageModel::Broadcasting => "BROADCASTING",
        }
    }
}

/// Where a group that has no committed offset for a queue starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumeFromWhere {
    /// At the end of the queue (messages stored before the group first ran are skipped).
    LastOffset,
    /// At the beginning of the queue.
    FirstOffset,
    /// At the first message stored at or after the timestamp (ms since the epoch).
    Timestamp(i64),
}

impl ConsumeFromWhere {
    pub fn wire_name(self) -> &'static str {
        match self {
            ConsumeFromWhere::LastOffset => "CONSUME_FROM_LAST_OFFSET",
            ConsumeFromWhere::FirstOffset => "CONSUME_FROM_FIRST_OFFSET",
            ConsumeFromWhere::Timestamp(_) => "CONSUME_FROM_TIMESTAMP",
        }
    }
}

/// Which consumer the settings are for: defaults differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumerKind {
    Concurrent,
    Orderly,
    Batch,
}

/// Typed consumer settings.
#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    pub message_model: MessageModel,
    pub consume_threads: usize,
    /// Deliveries after the first before a message goes to the dead-letter queue.
    pub max_reconsume_times: i32,
    pub consume_timeout: Duration,
    pub batch_max_size: usize,
    /// Batch consumers: how long a batch not yet of `batch_max_size` waits for more messages
    /// (batchConsumeMaxAwaitDurationInSeconds); zero for no wait.
    pub batch_await: Duration,
    /// Orderly: pause before a suspended message is delivered again.
    pub suspend_time: Duration,
    pub max_cached_messages: usize,
    pub max_cached_bytes: usize,
    pub consume_from: ConsumeFromWhere,
    pub offset_store_dir: PathBuf,
    /// Messages asked of a broker per pull (maxBatchMessageCount; Java's pullBatchSize).
    pub pull_batch_size: u32,
    /// How a clustering group's queues are split (ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME).
    pub allocate_strategy: AllocateStrategy,
}

const DEFAULT_CONSUME_THREADS: usize = 64;
const DEFAULT_MAX_RECONSUME_TIMES: i32 = 16;
const DEFAULT_CONSUME_TIMEOUT_MINUTES: u64 = 15;
const DEFAULT_SUSPEND_TIME_MS: u64 = 3000;
const DEFAULT_MAX_CACHED_MESSAGES: usize = 5000;
const DEFAULT_MAX_CACHED_MIB: usize = 512;
/// Java's default pullBatchSize, and the range `DefaultMQPushConsumerImpl.checkConfig` allows
/// (apache/rocketmq `client/.../impl/consumer/DefaultMQPushConsumerImpl.java`).
pub const DEFAULT_PULL_BATCH_SIZE: u32 = 32;
const MAX_PULL_BATCH_SIZE: u32 = 1024;
/// Java's default consumeTimestamp: half an hour before start.
const DEFAULT_TIMESTAMP_LOOKBACK_MS: i64 = 30 * 60 * 1000;

impl ConsumerSettings {
    /// Each key is read by any of its spellings (`config::catalogue`).
    pub fn from_properties(props: &Properties, kind: ConsumerKind) -> Result<Self> {
        let message_model = match props.get(keys::MESSAGE_MODEL) {
            None => MessageModel::Clustering,
            Some(v) if v.eq_ignore_ascii_case("CLUSTERING") => MessageModel::Clustering,
            Some(v) if v.eq_ignore_ascii_case("BROADCASTING") => MessageModel::Broadcasting,
            Some(v) => {
                return Err(Error::invalid_config(format!(
                    "property {} must be CLUSTERING or BROADCASTING, got {v:?}",
                    keys::MESSAGE_MODEL
                )))
            }
        };
        let consume_threads =
            props.parse_in(&[keys::CONSUME_THREAD_NUMS], 1usize, 1000)?.unwrap_or(DEFAULT_CONSUME_THREADS);
        // -1 means "the default" in the Java client: 16 for concurrent consumers, unbounded for
        // orderly ones (a suspended ordered message is retried until it succeeds).
        let max_reconsume_times = match props.parse_in(&[keys::MAX_RECONSUME_TIMES], -1i32, 100_000)? {
            None | Some(-1) if kind == ConsumerKind::Orderly => i32::MAX,
            None | Some(-1) => DEFAULT_MAX_RECONSUME_TIMES,
            Some(n) => n,
        };
        let timeout_minutes =
            props.parse_in(&[keys::CONSUME_TIMEOUT], 1u64, 24 * 60)?.unwrap_or(DEFAULT_CONSUME_TIMEOUT_MINUTES);
        let batch_max_size = match kind {
            ConsumerKind::Batch => props.parse_in(&[keys::CONSUME_MESSAGE_BATCH_MAX_SIZE], 1usize, 32)?.unwrap_or(1),
            _ => 1,
        };
        // The ONS Java SDK (BatchConsumerImpl) hands it to setMaxBatchConsumeWaitTime, which
        // refuses more than half the consume timeout.
        let batch_await_secs = match kind {
            ConsumerKind::Batch => props
                .parse_in(&[keys::BATCH_CONSUME_MAX_AWAIT_DURATION_IN_SECONDS], 0u64, timeout_minutes * 60 / 2)?
                .unwrap_or(0),
            _ => 0,
        };
        let suspend_ms =
            props.parse_in(&[keys::SUSPEND_TIME_MILLIS], 10u64, 30_000)?.unwrap_or(DEFAULT_SUSPEND_TIME_MS);
        let max_cached_messages = props
            .parse_in(&[keys::MAX_CACHED_MESSAGE_AMOUNT], 100usize, 50_000)?
            .unwrap_or(DEFAULT_MAX_CACHED_MESSAGES);
        let max_cached_mib =
            props.parse_in(&[keys::MAX_CACHED_MESSAGE_SIZE_IN_MIB], 16usize, 2048)?.unwrap_or(DEFAULT_MAX_CACHED_MIB);
        let consume_from = parse_consume_from(props)?;
        // The ONS Java SDK passes maxBatchMessageCount to DefaultMQPushConsumer.setPullBatchSize
        // for every consumer kind (ONSConsumerAbstract's constructor).
        let pull_batch_size = props
            .parse_in(&[keys::MAX_BATCH_MESSAGE_COUNT], 1u32, MAX_PULL_BATCH_SIZE)?
            .unwrap_or(DEFAULT_PULL_BATCH_SIZE);
        let allocate_strategy = parse_allocate_strategy(props)?;
        let offset_store_dir = match props.get(keys::OFFSET_STORE_DIR) {
            Some(dir) => PathBuf::from(dir),
            None => {
                std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir).join(".rocketmq_offsets")
            }
        };
        Ok(ConsumerSettings {
            message_model,
            consume_threads,
            max_reconsume_times,
            consume_timeout: Duration::from_secs(timeout_minutes * 60),
            batch_max_size,
            batch_await: Duration::from_secs(batch_await_secs),
            suspend_time: Duration::from_millis(suspend_ms),
            max_cached_messages,
            max_cached_bytes: max_cached_mib * 1024 * 1024,
            consume_from,
            offset_store_dir,
            pull_batch_size,
            allocate_strategy,
        })
    }
}

/// What only the pull consumer reads, with the ONS Java SDK's defaults (`PullConsumerImpl`
/// reads autoCommit, autoCommitIntervalMillis and pollTimeoutMillis into a
/// `DefaultLitePullConsumer`, whose defaults these are: apache/rocketmq
/// `client/src/main/java/org/apache/rocketmq/client/consumer/DefaultLitePullConsumer.java`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullSettings {
    pub auto_commit: bool,
    pub auto_commit_interval: Duration,
    /// What `poll_default` waits.
    pub poll_timeout: Duration,
}

/// Java refuses an autoCommitIntervalMillis under 1 s (`DefaultLitePullConsumerImpl.checkConfig`).
const MIN_AUTO_COMMIT_INTERVAL_MS: u64 = 1000;
const DEFAULT_AUTO_COMMIT_INTERVAL_MS: u64 = 5000;
const DEFAULT_POLL_TIMEOUT_MS: u64 = 5000;
const MAX_INTERVAL_MS: u64 = 86_400_000;

impl PullSettings {
    pub fn from_properties(props: &Properties) -> Result<Self> {
        let auto_commit = props.parse_bool(keys::AUTO_COMMIT)?.unwrap_or(true);
        let interval = props
            .parse_in(&[keys::AUTO_COMMIT_INTERVAL_MILLIS], MIN_AUTO_COMMIT_INTERVAL_MS, MAX_INTERVAL_MS)?
            .unwrap_or(DEFAULT_AUTO_COMMIT_INTERVAL_MS);
        let poll =
            props.parse_in(&[keys::POLL_TIMEOUT_MILLIS], 1u64, MAX_INTERVAL_MS)?.unwrap_or(DEFAULT_POLL_TIMEOUT_MS);
        Ok(PullSettings {
            auto_commit,
            auto_commit_interval: Duration::from_millis(interval),
            poll_timeout: Duration::from_millis(poll),
        })
    }
}

/// ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME, or the older ONS spelling `AVG_BY_CIRCLE=AVG_BY_CIRCLE`
/// (the ONS Java SDK's `ONSConsumerAbstract.getAllocateMessageQueueStrategy` reads both).
/// AVG_BY_HEURISTIC, which that SDK also knows, is refused: Apache RocketMQ has no such strategy.
fn parse_allocate_strategy(props: &Properties) -> Result<AllocateStrategy> {
    match props.lookup(&[keys::ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME]) {
        None => Ok(AllocateStrategy::Averagely),
        Some((_, v)) if v.eq_ignore_ascii_case("AVG") => Ok(AllocateStrategy::Averagely),
        Some((_, v)) if v.eq_ignore_ascii_case("AVG_BY_CIRCLE") => Ok(AllocateStrategy::ByCircle),
        Some((name, v)) => {
            Err(Error::invalid_config(format!("property {name} must be AVG or AVG_BY_CIRCLE, got {v:?}")))
        }
    }
}

fn parse_consume_from(props: &Properties) -> Result<ConsumeFromWhere> {
    let raw = props.get(keys::CONSUME_FROM_WHERE).unwrap_or("CONSUME_FROM_LAST_OFFSET");
    let short = raw.strip_prefix("CONSUME_FROM_").unwrap_or(raw).to_ascii_uppercase();
    match short.as_str() {
        "LAST_OFFSET" | "LAST" => Ok(ConsumeFromWhere::LastOffset),
        "FIRST_OFFSET" | "FIRST" => Ok(ConsumeFromWhere::FirstOffset),
        "TIMESTAMP" => {
            let at = match props.get(keys::CONSUME_TIMESTAMP) {
                None => now_ms() - DEFAULT_TIMESTAMP_LOOKBACK_MS,
                Some(v) => parse_timestamp(v).ok_or_else(|| {
                    Error::invalid_config(format!(
                        "property {} must be epoch milliseconds or yyyyMMddHHmmss, got {v:?}",
                        keys::CONSUME_TIMESTAMP
                    ))
                })?,
            };
            Ok(ConsumeFromWhere::Timestamp(at))
        }
        _ => Err(Error::invalid_config(format!(
            "property {} must be CONSUME_FROM_LAST_OFFSET, CONSUME_FROM_FIRST_OFFSET or CONSUME_FROM_TIMESTAMP, got {raw:?}",
            keys::CONSUME_FROM_WHERE
        ))),
    }
}

/// Epoch milliseconds, or `yyyyMMddHHmmss` read as UTC.
fn parse_timestamp(v: &str) -> Option<i64> {
    if v.len() == 14 && v.bytes().all(|b| b.is_ascii_digit()) {
        let n = |r: std::ops::Range<usize>| v[r].parse::<i64>().ok();
        let (y, mo, d) = (n(0..4)?, n(4..6)?, n(6..8)?);
        let (h, mi, s) = (n(8..10)?, n(10..12)?, n(12..14)?);
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
            return None;
        }
        return Some((days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s) * 1000);
    }
    v.parse::<i64>().ok().filter(|ms| *ms >= 0)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn settings(kind: ConsumerKind, kv: &[(&str, &str)]) -> Result<ConsumerSettings> {
        let props: Properties = kv.iter().copied().collect();
        ConsumerSettings::from_properties(&props, kind)
    }

    #[test]
    fn pull_settings() {
        let p = PullSettings::from_properties(&Properties::new()).unwrap();
        assert_eq!(
            p,
            PullSettings {
                auto_commit: true,
                auto_commit_interval: Duration::from_secs(5),
                poll_timeout: Duration::from_secs(5)
            }
        );
        let props = Properties::new()
            .with(keys::AUTO_COMMIT, "false")
            .with(keys::AUTO_COMMIT_INTERVAL_MILLIS, "1500")
            .with(keys::POLL_TIMEOUT_MILLIS, "20");
        let p = PullSettings::from_properties(&props).unwrap();
        assert!(!p.auto_commit);
        assert_eq!((p.auto_commit_interval, p.poll_timeout), (Duration::from_millis(1500), Duration::from_millis(20)));
        let e = PullSettings::from_properties(&Properties::new().with(keys::AUTO_COMMIT_INTERVAL_MILLIS, "999"))
            .unwrap_err();
        assert!(e.message().contains(keys::AUTO_COMMIT_INTERVAL_MILLIS), "{}", e.message());
        assert!(PullSettings::from_properties(&Properties::new().with(keys::AUTO_COMMIT, "maybe")).is_err());
    }

    #[test]
    fn defaults() {
        let s = settings(ConsumerKind::Concurrent, &[]).unwrap();
        assert_eq!(s.message_model, MessageModel::Clustering);
        assert_eq!(s.max_reconsume_times, 16);
        assert_eq!(s.consume_timeout, Duration::from_secs(15 * 60));
        assert_eq!(s.batch_max_size, 1);
        assert_eq!(s.consume_from, ConsumeFromWhere::LastOffset);
        assert_eq!(s.max_cached_messages, 5000);
        assert_eq!(s.max_cached_bytes, 512 << 20);
        let o = settings(ConsumerKind::Orderly, &[]).unwrap();
        assert_eq!(o.max_reconsume_times, i32::MAX);
        assert_eq!(o.suspend_time, Duration::from_millis(3000));
    }

    #[test]
    fn batch_size_range_is_enforced_with_the_property_name() {
        for bad in ["0", "33", "-1", "x"] {
            let e = settings(ConsumerKind::Batch, &[(keys::CONSUME_MESSAGE_BATCH_MAX_SIZE, bad)]).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidConfig);
            assert!(e.message().contains("ConsumeMessageBatchMaxSize"), "{e}");
        }
        let s = settings(ConsumerKind::Batch, &[(keys::CONSUME_MESSAGE_BATCH_MAX_SIZE, "32")]).unwrap();
        assert_eq!(s.batch_max_size, 32);
    }

    #[test]
    fn max_batch_message_count_sets_the_pull_size_of_every_kind() {
        for kind in [ConsumerKind::Concurrent, ConsumerKind::Orderly, ConsumerKind::Batch] {
            assert_eq!(settings(kind, &[]).unwrap().pull_batch_size, 32);
            for n in ["1", "100", "1024"] {
                let s = settings(kind, &[(keys::MAX_BATCH_MESSAGE_COUNT, n)]).unwrap();
                assert_eq!(s.pull_batch_size.to_string(), n);
            }
        }
        // DefaultMQPushConsumerImpl.checkConfig: pullBatchSize out of range [1, 1024].
        for bad in ["0", "1025", "-1", "x"] {
            let e = settings(ConsumerKind::Concurrent, &[(keys::MAX_BATCH_MESSAGE_COUNT, bad)]).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidConfig);
            assert!(e.message().contains("maxBatchMessageCount"), "{e}");
        }
    }

    #[test]
    fn batch_await_is_for_batch_consumers_within_half_the_consume_timeout() {
        let key = keys::BATCH_CONSUME_MAX_AWAIT_DURATION_IN_SECONDS;
        assert_eq!(settings(ConsumerKind::Batch, &[]).unwrap().batch_await, Duration::ZERO);
        let s = settings(ConsumerKind::Batch, &[(key, "5")]).unwrap();
        assert_eq!(s.batch_await, Duration::from_secs(5));
        assert_eq!(settings(ConsumerKind::Concurrent, &[(key, "5")]).unwrap().batch_await, Duration::ZERO);
        // Half of the default 15 minutes, or of the ConsumeTimeout given.
        assert_eq!(settings(ConsumerKind::Batch, &[(key, "450")]).unwrap().batch_await, Duration::from_secs(450));
        for (timeout, bad) in [("15", "451"), ("1", "31"), ("15", "-1"), ("15", "x")] {
            let e = settings(ConsumerKind::Batch, &[(keys::CONSUME_TIMEOUT, timeout), (key, bad)]).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidConfig);
            assert!(e.message().contains(key), "{e}");
        }
    }

    #[test]
    fn allocate_strategy_names() {
        let strategy = |kv: &[(&str, &str)]| settings(ConsumerKind::Concurrent, kv).map(|s| s.allocate_strategy);
        assert_eq!(strategy(&[]).unwrap(), AllocateStrategy::Averagely);
        let name = keys::ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME;
        assert_eq!(strategy(&[(name, "AVG")]).unwrap(), AllocateStrategy::Averagely);
        assert_eq!(strategy(&[(name, "AVG_BY_CIRCLE")]).unwrap(), AllocateStrategy::ByCircle);
        assert_eq!(strategy(&[(name, " avg_by_circle ")]).unwrap(), AllocateStrategy::ByCircle);
        // The older ONS spelling: PropertyKeyConst.ALLOCATE_MESSAGE_QUEUE_STRATEGY as the key.
        let ons = keys::ALLOCATE_MESSAGE_QUEUE_STRATEGY_ONS;
        assert_eq!(strategy(&[(ons, "AVG_BY_CIRCLE")]).unwrap(), AllocateStrategy::ByCircle);
        for bad in ["AVG_BY_HEURISTIC", "CONSISTENT_HASH"] {
            let e = strategy(&[(name, bad)]).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidConfig);
            assert!(e.message().contains("ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME"), "{e}");
        }
    }

    #[test]
    fn bad_values_name_the_property() {
        let cases = [
            (keys::MESSAGE_MODEL, "CLUSTER", "MessageModel"),
            (keys::CONSUME_THREAD_NUMS, "0", "ConsumeThreadNums"),
            (keys::MAX_CACHED_MESSAGE_AMOUNT, "99", "MaxCachedMessageAmount"),
            (keys::MAX_CACHED_MESSAGE_SIZE_IN_MIB, "4096", "MaxCachedMessageSizeInMiB"),
            (keys::CONSUME_FROM_WHERE, "MIDDLE", "ConsumeFromWhere"),
            (keys::SUSPEND_TIME_MILLIS, "1", "suspendTimeMillis"),
        ];
        for (k, v, name) in cases {
            let e = settings(ConsumerKind::Concurrent, &[(k, v)]).unwrap_err();
            assert!(e.message().contains(name), "{k}={v}: {e}");
        }
        let e = settings(
            ConsumerKind::Concurrent,
            &[(keys::CONSUME_FROM_WHERE, "TIMESTAMP"), (keys::CONSUME_TIMESTAMP, "2024-01-01")],
        )
        .unwrap_err();
        assert!(e.message().contains("ConsumeTimestamp"));
    }

    #[test]
    fn the_cpp_sdk_spellings_are_accepted() {
        let s = settings(
            ConsumerKind::Orderly,
            &[(keys::SUSPEND_TIME_MILLIS_CPP, "1500"), (keys::MAX_MSG_CACHE_SIZE_CPP, "2000")],
        )
        .unwrap();
        assert_eq!(s.suspend_time, Duration::from_millis(1500));
        assert_eq!(s.max_cached_messages, 2000);
    }

    /// Every spelling in the catalogue is honoured, not only the canonical one.
    #[test]
    fn every_alias_of_every_consumer_key_is_read() {
        use crate::config::catalogue;
        let cases = [
            (keys::MAX_RECONSUME_TIMES, "7"),
            (keys::CONSUME_TIMEOUT, "3"),
            (keys::SUSPEND_TIME_MILLIS, "1500"),
            (keys::MAX_CACHED_MESSAGE_AMOUNT, "2000"),
            (keys::MAX_CACHED_MESSAGE_SIZE_IN_MIB, "64"),
        ];
        for (key, value) in cases {
            for spelling in catalogue::find(key).unwrap().names() {
                let s = settings(ConsumerKind::Concurrent, &[(spelling, value)]).unwrap();
                let read = [
                    s.max_reconsume_times.to_string(),
                    (s.consume_timeout.as_secs() / 60).to_string(),
                    s.suspend_time.as_millis().to_string(),
                    s.max_cached_messages.to_string(),
                    (s.max_cached_bytes >> 20).to_string(),
                ];
                assert!(read.contains(&value.to_owned()), "{spelling}={value} was ignored: {read:?}");
            }
        }
        let s = settings(ConsumerKind::Concurrent, &[(keys::MAX_RECONSUME_TIMES_JAVA, "3")]).unwrap();
        assert_eq!(s.max_reconsume_times, 3);
        let e = settings(ConsumerKind::Concurrent, &[(keys::MAX_RECONSUME_TIMES_JAVA, "x")]).unwrap_err();
        assert!(e.message().contains("property maxReconsumeTimes must be a number"), "{e}");
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("19700101000000"), Some(0));
        assert_eq!(parse_timestamp("20240229123456"), Some(1_709_210_096_000));
        assert_eq!(parse_timestamp("1709210096000"), Some(1_709_210_096_000));
        assert_eq!(parse_timestamp("20241301000000"), None);
        let s = settings(
            ConsumerKind::Concurrent,
            &[(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_TIMESTAMP"), (keys::CONSUME_TIMESTAMP, "1000")],
        )
        .unwrap();
        assert_eq!(s.consume_from, ConsumeFromWhere::Timestamp(1000));
        assert_eq!(s.consume_from.wire_name(), "CONSUME_FROM_TIMESTAMP");
    }
}
