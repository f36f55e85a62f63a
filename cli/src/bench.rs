//! `ons bench produce|consume`: a throughput run of one producer with several sends in flight,
//! or of one consumer, for a duration or a message count; reports messages and megabytes per
//! second and latency percentiles (send to acknowledgement; store to consume), as a summary or
//! with `--json` one JSON document. Progress on a terminal; Ctrl-C ends the run early and
//! still reports it (exit 130).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use parking_lot::Mutex;
use rocketmq_ons::config::keys;
use rocketmq_ons::consumer::{Action, ConsumeContext, Consumer, MessageListener};
use rocketmq_ons::message::Message;
use rocketmq_ons::producer::Producer;
use serde_json::json;

use crate::admin::args::duration_ms;
use crate::args::{ClusterArgs, AFTER_HELP};
use crate::cluster::{client_properties, explain};
use crate::report::{Progress, Reporter};
use crate::table::{print, Table};
use crate::{Failure, Interrupt};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Send messages with --in-flight sends at once until --duration or --count; report
    /// msg/s, MB/s and send latency (to the broker's acknowledgement)
    #[command(after_help = AFTER_HELP)]
    Produce(ProduceBench),
    /// Consume a topic as a group until --duration or --count; report msg/s, MB/s and latency
    /// from store to consume
    #[command(after_help = AFTER_HELP)]
    Consume(ConsumeBench),
}

#[derive(Debug, Args)]
pub struct ProduceBench {
    /// Topic to send to
    #[arg(long)]
    pub topic: String,
    /// Body size in bytes
    #[arg(long, value_name = "BYTES", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=4_194_304))]
    pub size: u32,
    /// Sends waiting for their acknowledgement at once
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub in_flight: u32,
    /// How long to send: N with unit ms, s, m or h
    #[arg(long, value_name = "TIME", default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Stop after this many messages, if --duration has not ended first
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Producer group
    #[arg(long, default_value = "GID_ons_bench")]
    pub group: String,
    /// Print the report as one JSON document (snake_case field names)
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

#[derive(Debug, Args)]
pub struct ConsumeBench {
    /// Topic to consume
    #[arg(long)]
    pub topic: String,
    /// Consumer group; it resumes where it stopped (`ons offset reset` moves it back)
    #[arg(long, default_value = "GID_ons_bench")]
    pub group: String,
    /// How long to consume: N with unit ms, s, m or h
    #[arg(long, value_name = "TIME", default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Stop once this many messages were consumed (those delivered meanwhile are counted too),
    /// if --duration has not ended first
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Where a group without offsets starts: `first` (every stored message) or `last` (only
    /// messages sent from now on)
    #[arg(long, value_name = "WHERE", default_value = "first", value_parser = ["first", "last"])]
    pub from: String,
    /// Messages handled at once [default: 64]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub threads: Option<u32>,
    /// Print the report as one JSON document (snake_case field names)
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

fn parse_duration(raw: &str) -> Result<Duration, String> {
    let ms = duration_ms(raw)?;
    match u64::try_from(ms) {
        Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
        _ => Err(format!("{raw:?} must be longer than 0")),
    }
}

pub async fn run(command: BenchCommand, reporter: Reporter, interrupt: Interrupt) -> Result<(), Failure> {
    match command {
        BenchCommand::Produce(args) => produce(args, reporter, interrupt).await,
        BenchCommand::Consume(args) => consume(args, reporter, interrupt).await,
    }
}

/// What a run measured.
struct Measured {
    messages: u64,
    bytes: u64,
    /// Sends that failed (a produce run only).
    failed: Option<u64>,
    elapsed: Duration,
    /// Latencies in microseconds, unsorted.
    latencies_us: Vec<u64>,
}

impl Measured {
    fn per_second(&self, n: u64) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            n as f64 / secs
        } else {
            0.0
        }
    }

    /// The latency below which `fraction` of the measured ones are, in milliseconds (nearest
    /// rank); `None` without any.
    fn percentile_ms(sorted_us: &[u64], fraction: f64) -> Option<f64> {
        let rank = ((fraction * sorted_us.len() as f64).ceil() as usize).clamp(1, sorted_us.len().max(1));
        sorted_us.get(rank - 1).map(|us| *us as f64 / 1000.0)
    }

    /// Prints the report: `what` names the run ("produce to T"), `fields` are the run's settings.
    fn report(
        mut self,
        json_wanted: bool,
        what: &str,
        fields: serde_json::Value,
        latency: &str,
    ) -> Result<(), Failure> {
        self.latencies_us.sort_unstable();
        let p50 = Self::percentile_ms(&self.latencies_us, 0.50);
        let p99 = Self::percentile_ms(&self.latencies_us, 0.99);
        let max = self.latencies_us.last().map(|us| *us as f64 / 1000.0);
        let (msg_rate, mb_rate) = (self.per_second(self.messages), self.per_second(self.bytes) / 1e6);
        let mut json = json!({
            "messages": self.messages,
            "bytes": self.bytes,
            "failed": self.failed,
            "elapsed_s": self.elapsed.as_secs_f64(),
            "msg_per_s": msg_rate,
            "mb_per_s": mb_rate,
            "latency": latency,
            "latency_ms": { "p50": p50, "p99": p99, "max": max },
        });
        if let (Some(json), serde_json::Value::Object(fields)) = (json.as_object_mut(), fields) {
            json.extend(fields);
        }
        let shown = |ms: Option<f64>| ms.map_or_else(|| "-".to_owned(), |ms| format!("{ms:.2} ms"));
        print(json_wanted, json, || {
            let mut table = Table::new(&["", ""]);
            let failed = self.failed.map(|n| format!(" ({n} failed)")).unwrap_or_default();
            table.row(vec!["messages".into(), format!("{}{failed}", self.messages)]);
            table.row(vec!["elapsed".into(), format!("{:.2} s", self.elapsed.as_secs_f64())]);
            table.row(vec!["throughput".into(), format!("{msg_rate:.1} msg/s, {mb_rate:.2} MB/s")]);
            table.row(vec![
                format!("latency ({latency})"),
                format!("p50 {}, p99 {}, max {}", shown(p50), shown(p99), shown(max)),
            ]);
            let body: String = table.render().lines().skip(1).map(|line| format!("  {line}\n")).collect();
            format!("{what}:\n{body}")
        })
    }
}

async fn produce(args: ProduceBench, reporter: Reporter, interrupt: Interrupt) -> Result<(), Failure> {
    let props = client_properties(&args.cluster, &args.group)?;
    let namesrv = args.cluster.namesrv.clone();
    let producer = Arc::new(Producer::new(&props).map_err(|e| Failure::Runtime(e.to_string()))?);
    producer.start().map_err(|e| Failure::Runtime(e.to_string()))?;
    let message = Message::new(args.topic.as_str(), Some("bench"), vec![b'x'; args.size as usize]);
    let claimed = Arc::new(AtomicU64::new(0));
    let sent = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(Mutex::new(None));
    let limit = args.count.unwrap_or(u64::MAX);
    let started = Instant::now();
    let deadline = started + args.duration;
    // Checked before each send: a send is never cut short, so every message stored is counted.
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..args.in_flight)
        .map(|_| {
            let (producer, message, claimed, sent, first_error, stop) =
                (producer.clone(), message.clone(), claimed.clone(), sent.clone(), first_error.clone(), stop.clone());
            tokio::spawn(async move {
                let (mut latencies, mut failed) = (Vec::new(), 0u64);
                while !stop.load(Ordering::Relaxed)
                    && Instant::now() < deadline
                    && claimed.fetch_add(1, Ordering::Relaxed) < limit
                {
                    let at = Instant::now();
                    match producer.send(&message).await {
                        Ok(_) => {
                            latencies.push(u64::try_from(at.elapsed().as_micros()).unwrap_or(u64::MAX));
                            sent.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            failed += 1;
                            first_error.lock().get_or_insert(e);
                        }
                    }
                }
                (latencies, failed)
            })
        })
        .collect();
    let mut progress = Progress::new(reporter);
    let all_done = futures_join(senders);
    tokio::pin!(all_done);
    let mut interrupted = false;
    let results = loop {
        tokio::select! {
            results = &mut all_done => break results,
            () = tokio::time::sleep(Duration::from_millis(200)) => {
                progress.update(|| format!("sending: {} sent in {:.0} s", sent.load(Ordering::Relaxed), started.elapsed().as_secs_f64()));
            }
            () = interrupt.pressed(), if !interrupted => {
                interrupted = true;
                stop.store(true, Ordering::Relaxed);
            }
        }
    };
    let elapsed = started.elapsed();
    progress.clear();
    producer.shutdown().await;
    let mut measured = Measured { messages: 0, bytes: 0, failed: None, elapsed, latencies_us: Vec::new() };
    let mut failed = 0;
    for (latencies, failed_sends) in results {
        measured.messages += latencies.len() as u64;
        measured.latencies_us.extend(latencies);
        failed += failed_sends;
    }
    measured.bytes = measured.messages * u64::from(args.size);
    measured.failed = Some(failed);
    let fields = json!({ "mode": "produce", "topic": args.topic, "size": args.size, "in_flight": args.in_flight });
    measured.report(args.json, &format!("produce to {}", args.topic), fields, "send to acknowledgement")?;
    if interrupted {
        return Err(Failure::Interrupted);
    }
    let first_error = first_error.lock().take();
    match first_error {
        Some(e) => Err(Failure::Runtime(format!("{failed} sends failed, the first: {}", explain(&e, &namesrv)))),
        None => Ok(()),
    }
}

/// The results of every task, in order; a task that panicked counts as nothing measured.
async fn futures_join<T: Default>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.unwrap_or_default());
    }
    results
}

/// What the bench consumer's listener counted.
#[derive(Default)]
struct Consumed {
    messages: u64,
    bytes: u64,
    latencies_us: Vec<u64>,
}

async fn consume(args: ConsumeBench, reporter: Reporter, interrupt: Interrupt) -> Result<(), Failure> {
    let mut props = client_properties(&args.cluster, &args.group)?;
    let from = if args.from == "first" { "CONSUME_FROM_FIRST_OFFSET" } else { "CONSUME_FROM_LAST_OFFSET" };
    props.set(keys::CONSUME_FROM_WHERE, from);
    if let Some(threads) = args.threads {
        props.set(keys::CONSUME_THREAD_NUMS, threads.to_string());
    }
    let limit = args.count.unwrap_or(u64::MAX);
    let consumed = Arc::new(Mutex::new(Consumed::default()));
    let reached = Arc::new(tokio::sync::Notify::new());
    let consumer = Consumer::new(&props).map_err(|e| Failure::Runtime(e.to_string()))?;
    let (tally, done) = (consumed.clone(), reached.clone());
    let listener: Arc<dyn MessageListener> = Arc::new(move |m: &Message, _: &ConsumeContext| {
        let mut tally = tally.lock();
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let stored = m.received.as_ref().map_or(now_ms, |r| r.store_timestamp);
        // Broker and client clocks may differ a little: a negative latency counts as 0.
        tally.latencies_us.push(u64::try_from(now_ms.saturating_sub(stored)).unwrap_or(0) * 1000);
        tally.messages += 1;
        tally.bytes += m.body.len() as u64;
        // Messages delivered past the count are consumed and counted too: the report says
        // what the group consumed.
        if tally.messages >= limit {
            done.notify_one();
        }
        Action::CommitMessage
    });
    consumer.subscribe(&args.topic, "*", listener).map_err(|e| Failure::Runtime(e.to_string()))?;
    let started = Instant::now();
    consumer.start().map_err(|e| Failure::Runtime(explain(&e, &args.cluster.namesrv)))?;
    let mut progress = Progress::new(reporter);
    let deadline = tokio::time::sleep(args.duration);
    tokio::pin!(deadline);
    let interrupted = loop {
        tokio::select! {
            () = &mut deadline => break false,
            () = reached.notified() => break false,
            () = interrupt.pressed() => break true,
            () = tokio::time::sleep(Duration::from_millis(200)) => {
                progress.update(|| format!("consuming: {} consumed in {:.0} s", consumed.lock().messages, started.elapsed().as_secs_f64()));
            }
        }
    };
    let elapsed = started.elapsed();
    progress.clear();
    consumer.shutdown().await;
    let tally = std::mem::take(&mut *consumed.lock());
    let measured = Measured {
        messages: tally.messages,
        bytes: tally.bytes,
        failed: None,
        elapsed,
        latencies_us: tally.latencies_us,
    };
    let fields = json!({ "mode": "consume", "topic": args.topic, "group": args.group });
    measured.report(args.json, &format!("consume {} as {}", args.topic, args.group), fields, "store to consume")?;
    if interrupted {
        Err(Failure::Interrupted)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_ranks() {
        let sorted: Vec<u64> = (1..=100).map(|ms| ms * 1000).collect();
        assert_eq!(Measured::percentile_ms(&sorted, 0.50), Some(50.0));
        assert_eq!(Measured::percentile_ms(&sorted, 0.99), Some(99.0));
        assert_eq!(Measured::percentile_ms(&[7000], 0.99), Some(7.0));
        assert_eq!(Measured::percentile_ms(&[], 0.5), None);
    }

    #[test]
    fn durations_need_a_unit_and_a_length() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("0s").is_err());
    }
}
