//! rust-peer is the side of the project's benchmarks (tests/bench/producer.sh and
//! tests/bench/consumer.sh) for the Rust client of the RocketMQ-Rust project, the crate
//! `rocketmq-client-rust` (https://github.com/mxsm/rocketmq-rust), measured exactly the way
//! tests/bench/go-peer measures the Go client, so the scripts can print the clients side by side.
//!
//! Subcommands (the CLI and the output of go-peer; only the first field says `rust`):
//!
//! ```text
//! produce --namesrv A --topic T --mode sync|async|batch [--conc N] [--messages 300000]
//!         [--max-secs 5] [--size 1024] [--batch 32] [--broker-pid PID]
//!     One phase: sync = N tasks each awaiting DefaultMQProducer::send; async =
//!     send_with_callback with at most N in flight; batch = N tasks each awaiting send_batch of
//!     --batch messages. A warm-up (route lookup, connections) is not measured. Prints one
//!     tab-separated record:
//!     rust MODE CONC msgs secs cpu_s p50_ms p99_ms p99.9_ms vmhwm_kb errors busy broker_cpu_s
//!     where cpu_s is getrusage(RUSAGE_SELF) over the measured window, latencies are per call
//!     (per batch for batch), VmHWM is reset after the warm-up (/proc/self/clear_refs), and
//!     broker_cpu_s is the broker process's utime+stime over the window ("-" without a pid).
//! drain --namesrv A --topic T --group G --messages N [--threads 20] [--cache-per-queue 1000]
//!       [--max-secs 600]
//!     A push consumer of a new group reads T from its first offset until N messages were
//!     delivered, then prints one JSON line like the other consumers of consumer.sh: the clock
//!     and the CPU count run from the first delivery to the N-th.
//! ```
//!
//! The crate runs its clients on a `rocketmq_runtime::RuntimeOwner` (its own Tokio runtime) and
//! a `ClientRuntime` made from it; this program runs everything, its own tasks included, on that
//! runtime. The crate's telemetry is left at its no-op handle and no tracing subscriber is
//! installed, so the client logs nothing.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rocketmq_client_rust::{
    ClientError, ClientRuntime, ClientRuntimeConfig, ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus,
    DefaultMQProducer, DefaultMQPushConsumer, MQPushConsumer, MessageListenerConcurrently, SendResult, TelemetryHandle,
};
use rocketmq_model::common::consumer::consume_from_where::ConsumeFromWhere;
use rocketmq_model::common::message::message_ext::MessageExt;
use rocketmq_model::common::message::message_single::Message;
use rocketmq_runtime::{RuntimeConfig, RuntimeOwner};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// A response code of the broker's flow control (RemotingSysResponseCode.SYSTEM_BUSY).
const SYSTEM_BUSY: i32 = 2;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(subcommand) = args.first() else {
        eprintln!("usage: rust-peer produce|drain ... (see the source header)");
        return ExitCode::from(2);
    };
    let result = match subcommand.as_str() {
        "produce" => with_client_runtime(0, |client| produce(client, &args[1..])),
        "drain" => listener_threads(&args[1..])
            .and_then(|threads| with_client_runtime(threads, |client| drain(client, &args[1..]))),
        other => Err(format!("unknown subcommand {other:?}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("rust-peer {subcommand}: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `body` on a runtime owner and a client runtime made from it, as the crate's own examples
/// set them up, and shuts both down afterwards. `listener_threads` (0 for none) is how many
/// push-consumer listener calls must be able to run at once.
fn with_client_runtime<F, Fut>(listener_threads: usize, body: F) -> Result<(), String>
where
    F: FnOnce(Arc<ClientRuntime>) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut config = RuntimeConfig { thread_name: "rust-peer".to_string(), ..Default::default() };
    if listener_threads > 0 {
        // The crate runs each listener call on the runtime's metadata-io blocking lane
        // (spawn_client_blocking_io_with_context in its src/runtime.rs), whose default size comes
        // from the CPU count (2 x cores running, 8 x cores queued), not from consume_thread_min.
        // With fewer slots than consume threads, draining the last messages of a backlog took
        // 10 s instead of 1 s here (20 threads, 2 cores), so the lane gets one slot per thread,
        // as Java's consumeThreadMin sizes its pool.
        let default_total = config.max_blocking_threads;
        config = config
            .with_max_blocking_threads((default_total + listener_threads).min(512))
            .map_err(|err| format!("sizing the runtime's blocking threads: {err}"))?;
        let lane = &mut config.blocking_lane_policies.metadata_io;
        lane.max_concurrency = lane.max_concurrency.max(listener_threads);
        lane.max_queue_depth = lane.max_queue_depth.max(listener_threads);
    }
    let owner = RuntimeOwner::plan(config)
        .map_err(|err| format!("runtime configuration: {err}"))?
        .build()
        .map_err(|err| format!("building the runtime: {err}"))?;
    let client = ClientRuntime::try_new(
        owner.root_context().component("client"),
        ClientRuntimeConfig::default(),
        TelemetryHandle::noop(),
    )
    .map_err(|err| format!("creating the client runtime: {err}"))?;
    let outcome = owner.block_on(async {
        let outcome = body(Arc::clone(&client)).await;
        client.shutdown().await;
        owner.shutdown_tasks().await;
        outcome
    });
    owner.shutdown_background();
    outcome
}

// ------------------------------------------------------------------------------------ flags

/// `--name value` / `--name=value` flags of one subcommand, checked against the names it takes.
struct Flags(HashMap<String, String>);

impl Flags {
    fn parse(args: &[String], known: &[&str]) -> Result<Self, String> {
        let mut values = HashMap::new();
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            let flag = arg
                .strip_prefix("--")
                .or_else(|| arg.strip_prefix('-'))
                .ok_or_else(|| format!("unexpected argument {arg:?}"))?;
            let (name, value) = match flag.split_once('=') {
                Some((name, value)) => (name.to_string(), value.to_string()),
                None => {
                    let value = rest.next().ok_or_else(|| format!("--{flag} needs a value"))?;
                    (flag.to_string(), value.clone())
                }
            };
            if !known.contains(&name.as_str()) {
                return Err(format!("unknown flag --{name} (flags: --{})", known.join(", --")));
            }
            values.insert(name, value);
        }
        Ok(Self(values))
    }

    fn required(&self, name: &str) -> Result<String, String> {
        match self.0.get(name) {
            Some(value) if !value.is_empty() => Ok(value.clone()),
            _ => Err(format!("--{name} is required")),
        }
    }

    fn get<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.0.get(name) {
            None => Ok(default),
            Some(value) => value.parse().map_err(|_| format!("--{name}: {value:?} is not a valid value")),
        }
    }
}

// ------------------------------------------------------------------------------ measurements

/// The process's user+system CPU time, as getrusage(RUSAGE_SELF) reports it.
fn cpu_secs() -> f64 {
    // SAFETY: getrusage only writes the struct it is given, which is zero-initialised here.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// A "Key:   N kB" line of /proc/self/status, in kB (0 when unreadable).
fn self_status_kb(key: &str) -> u64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Another process's utime+stime from /proc/PID/stat. Linux reports them in USER_HZ ticks,
/// which is 100 on every architecture (proc(5)).
fn proc_cpu_secs(pid: u32) -> Option<f64> {
    if pid == 0 {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after it start at its ')'.
    let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// SIZE alphanumeric bytes from the same xorshift sequence bench_producer and go-peer use.
fn body(size: usize) -> Bytes {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    (0..size)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            ALPHABET[(seed % ALPHABET.len() as u64) as usize]
        })
        .collect::<Vec<u8>>()
        .into()
}

// ---------------------------------------------------------------------------------- produce

/// What one task (or the async callbacks, under a lock) observed.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    ok: u64,
    errors: u64,
    busy: u64,
    first_error: Option<String>,
}

impl Tally {
    fn success(&mut self, started: Instant, messages: u64) {
        self.latencies.push(started.elapsed());
        self.ok += messages;
    }

    fn failure(&mut self, err: &ClientError) {
        self.errors += 1;
        // The broker's flow control answers SYSTEM_BUSY; the crate keeps the broker's code.
        if err.broker_response_code() == Some(SYSTEM_BUSY) || err.to_string().to_lowercase().contains("busy") {
            self.busy += 1;
        }
        self.first_error.get_or_insert_with(|| err.to_string());
    }

    fn merge(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        self.ok += other.ok;
        self.errors += other.errors;
        self.busy += other.busy;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// The p-th percentile (0..100) of sorted latencies in ms, nearest rank.
fn percentile_ms(sorted: &[Duration], p: f64) -> String {
    if sorted.is_empty() {
        return "-".to_string();
    }
    let rank = ((sorted.len() as f64 * p / 100.0).ceil() as usize).clamp(1, sorted.len());
    format!("{:.3}", sorted[rank - 1].as_micros() as f64 / 1000.0)
}

/// What a phase sends: up to `messages`, until `deadline`.
struct Load {
    producer: Arc<DefaultMQProducer>,
    topic: String,
    body: Bytes,
    messages: u64,
    deadline: Instant,
}

impl Load {
    fn message(&self) -> Message {
        // The topic is always set, which is all build() checks.
        Message::builder().topic(self.topic.as_str()).body(self.body.clone()).build_unchecked()
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Sync,
    Async,
    Batch,
}

/// Runs `workers` tasks, each sending `per_call` messages a call (send_batch when more than
/// one, send otherwise) until the load is sent or its time is up.
async fn run_workers(load: Arc<Load>, workers: usize, per_call: u64) -> Tally {
    let next = Arc::new(AtomicI64::new(0));
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (load, next) = (Arc::clone(&load), Arc::clone(&next));
            tokio::spawn(async move {
                let mut tally = Tally::default();
                while (next.fetch_add(per_call as i64, Ordering::Relaxed) as u64) < load.messages
                    && Instant::now() < load.deadline
                {
                    let started = Instant::now();
                    let sent = if per_call == 1 {
                        load.producer.send(load.message()).await.map(drop)
                    } else {
                        let batch = (0..per_call).map(|_| load.message()).collect();
                        load.producer.send_batch(batch).await.map(drop)
                    };
                    match sent {
                        Ok(()) => tally.success(started, per_call),
                        Err(err) => tally.failure(&err),
                    }
                }
                tally
            })
        })
        .collect();
    let mut all = Tally::default();
    for task in tasks {
        match task.await {
            Ok(tally) => all.merge(tally),
            Err(err) => {
                all.errors += 1;
                all.first_error.get_or_insert_with(|| format!("sending task failed: {err}"));
            }
        }
    }
    all
}

/// Issues send_with_callback from one task with at most `window` sends in flight.
async fn run_async(load: Arc<Load>, window: usize) -> Tally {
    let tally = Arc::new(Mutex::new(Tally::default()));
    let slots = Arc::new(Semaphore::new(window));
    let mut issued = 0;
    while issued < load.messages && Instant::now() < load.deadline {
        issued += 1;
        let permit = Arc::clone(&slots).acquire_owned().await.expect("the semaphore is never closed");
        // The callback is `Fn`: the slot is released (and the send counted) by its first call only.
        let slot: Arc<Mutex<Option<OwnedSemaphorePermit>>> = Arc::new(Mutex::new(Some(permit)));
        let started = Instant::now();
        let (callback_slot, callback_tally) = (Arc::clone(&slot), Arc::clone(&tally));
        let callback = move |_: Option<&SendResult>, err: Option<&ClientError>| {
            let Some(permit) = callback_slot.lock().unwrap().take() else {
                return;
            };
            let mut tally = callback_tally.lock().unwrap();
            match err {
                None => tally.success(started, 1),
                Some(err) => tally.failure(err),
            }
            drop(permit);
        };
        if let Err(err) = load.producer.send_with_callback(load.message(), callback).await {
            if let Some(permit) = slot.lock().unwrap().take() {
                tally.lock().unwrap().failure(&err);
                drop(permit);
            }
        }
    }
    // Every send has answered once all slots are free again; a callback that never comes is
    // reported instead of waited for forever.
    let drained = tokio::time::timeout(Duration::from_secs(60), slots.acquire_many(window as u32)).await;
    let mut tally = std::mem::take(&mut *tally.lock().unwrap());
    if drained.is_err() {
        let missing = window - slots.available_permits();
        tally.errors += missing as u64;
        tally.first_error.get_or_insert_with(|| format!("{missing} send callbacks never came within 60 s"));
    }
    tally
}

async fn run(mode: Mode, load: Arc<Load>, conc: usize, batch: u64) -> Tally {
    match mode {
        Mode::Sync => run_workers(load, conc, 1).await,
        Mode::Async => run_async(load, conc).await,
        Mode::Batch => run_workers(load, conc, batch).await,
    }
}

async fn produce(client: Arc<ClientRuntime>, args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(
        args,
        &["namesrv", "topic", "mode", "conc", "messages", "max-secs", "size", "batch", "broker-pid"],
    )?;
    let namesrv = flags.required("namesrv")?;
    let topic = flags.required("topic")?;
    let mode_name: String = flags.get("mode", "sync".to_string())?;
    let mode = match mode_name.as_str() {
        "sync" => Mode::Sync,
        "async" => Mode::Async,
        "batch" => Mode::Batch,
        other => return Err(format!("--mode: {other:?} is not sync, async or batch")),
    };
    let conc: usize = flags.get("conc", 1)?;
    let messages: u64 = flags.get("messages", 300_000)?;
    let max_secs: f64 = flags.get("max-secs", 5.0)?;
    let size: usize = flags.get("size", 1024)?;
    let batch: u64 = flags.get("batch", 32)?;
    let broker_pid: u32 = flags.get("broker-pid", 0)?;
    if conc < 1 || batch < 1 {
        return Err("--conc and --batch must be at least 1".to_string());
    }
    if !(max_secs.is_finite() && max_secs > 0.0) {
        return Err("--max-secs must be a positive number".to_string());
    }

    // The crate takes the name server list ';'-separated, as the Java client does.
    let mut producer = DefaultMQProducer::builder(client)
        .producer_group("GID_bench_rust")
        .name_server_addr(namesrv)
        .retry_times_when_send_failed(2)
        .build();
    producer.start().await.map_err(|err| format!("starting the producer: {err}"))?;
    let producer = Arc::new(producer);
    let payload = body(size);
    let load = |messages: u64, deadline: Instant| {
        Arc::new(Load {
            producer: Arc::clone(&producer),
            topic: topic.clone(),
            body: payload.clone(),
            messages,
            deadline,
        })
    };

    // Warm-up as bench_producer's and go-peer's: max(200, 4 x in flight) messages, not measured.
    let warm_count = 200.max(conc as u64 * 4);
    let warm = run(mode, load(warm_count, Instant::now() + Duration::from_secs(10)), conc, batch).await;
    let outcome = if warm.ok == 0 {
        Err(format!("warm-up sends failed: {}", warm.first_error.as_deref().unwrap_or("no send finished in 10 s")))
    } else {
        // Resetting the peak RSS to the current RSS (proc(5), clear_refs "5") makes VmHWM this
        // phase's.
        let peak_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let broker0 = proc_cpu_secs(broker_pid);
        let cpu0 = cpu_secs();
        let t0 = Instant::now();
        let mut tally = run(mode, load(messages, t0 + Duration::from_secs_f64(max_secs)), conc, batch).await;
        let secs = t0.elapsed().as_secs_f64();
        let cpu = cpu_secs() - cpu0;
        let broker_cpu = match (broker0, proc_cpu_secs(broker_pid)) {
            (Some(before), Some(after)) => format!("{:.2}", after - before),
            _ => "-".to_string(),
        };
        let hwm = if peak_reset { self_status_kb("VmHWM") } else { 0 };
        if let Some(first) = &tally.first_error {
            eprintln!("rust {mode_name} {conc}: {} errors ({} busy); first: {first}", tally.errors, tally.busy);
        }
        tally.latencies.sort_unstable();
        let lat = &tally.latencies;
        println!(
            "rust\t{mode_name}\t{conc}\t{}\t{secs:.3}\t{cpu:.4}\t{}\t{}\t{}\t{hwm}\t{}\t{}\t{broker_cpu}",
            tally.ok,
            percentile_ms(lat, 50.0),
            percentile_ms(lat, 99.0),
            percentile_ms(lat, 99.9),
            tally.errors,
            tally.busy,
        );
        Ok(())
    };
    match Arc::into_inner(producer) {
        Some(mut producer) => producer.shutdown().await,
        None => eprintln!("rust-peer produce: a sending task still holds the producer; not shut down"),
    }
    outcome
}

// ---------------------------------------------------------------------------------- drain

/// When a delivery happened, with the process's CPU seconds then.
#[derive(Clone, Copy)]
struct Mark {
    at: Instant,
    cpu: f64,
}

/// The listener: counts deliveries and marks the first and the `total`-th.
struct Counter {
    total: i64,
    seen: AtomicI64,
    first: Mutex<Option<Mark>>,
    last: Mutex<Option<Mark>>,
    done: Notify,
    finished: AtomicBool,
}

/// The listener registered with the consumer (a local type, so it can implement the crate's trait).
struct Listener(Arc<Counter>);

impl MessageListenerConcurrently for Listener {
    fn consume_message(
        &self,
        messages: &[&MessageExt],
        _context: &ConsumeConcurrentlyContext,
    ) -> rocketmq_client_rust::ClientResult<ConsumeConcurrentlyStatus> {
        for message in messages {
            std::hint::black_box(message.body().map_or(0, |body| body.len()));
            let counter = &self.0;
            let n = counter.seen.fetch_add(1, Ordering::AcqRel) + 1;
            if n == 1 {
                *counter.first.lock().unwrap() = Some(Mark { at: Instant::now(), cpu: cpu_secs() });
            } else if n == counter.total {
                *counter.last.lock().unwrap() = Some(Mark { at: Instant::now(), cpu: cpu_secs() });
                counter.finished.store(true, Ordering::Release);
                counter.done.notify_one();
            }
        }
        Ok(ConsumeConcurrentlyStatus::ConsumeSuccess)
    }
}

const DRAIN_FLAGS: [&str; 7] = ["namesrv", "topic", "group", "messages", "threads", "cache-per-queue", "max-secs"];

/// drain's --threads, needed before the runtime is built.
fn listener_threads(args: &[String]) -> Result<usize, String> {
    Flags::parse(args, &DRAIN_FLAGS)?.get("threads", 20)
}

async fn drain(client: Arc<ClientRuntime>, args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(args, &DRAIN_FLAGS)?;
    let namesrv = flags.required("namesrv")?;
    let topic = flags.required("topic")?;
    let group = flags.required("group")?;
    let total: i64 = flags.get("messages", 200_000)?;
    let threads: u32 = flags.get("threads", 20)?;
    let per_queue: u32 = flags.get("cache-per-queue", 1000)?;
    let max_secs: u64 = flags.get("max-secs", 600)?;
    if total < 2 {
        return Err("--messages must be at least 2 (the first delivery opens the window)".to_string());
    }
    if threads < 1 {
        return Err("--threads must be at least 1".to_string());
    }
    let counter = Arc::new(Counter {
        total,
        seen: AtomicI64::new(0),
        first: Mutex::new(None),
        last: Mutex::new(None),
        done: Notify::new(),
        finished: AtomicBool::new(false),
    });
    let mut consumer = DefaultMQPushConsumer::builder(client)
        .name_server_addr(namesrv)
        .consumer_group(group)
        .consume_from_where(ConsumeFromWhere::ConsumeFromFirstOffset)
        .consume_thread_min(threads)
        .consume_thread_max(threads)
        .pull_threshold_for_queue(per_queue)
        // One message per listener call, as the Java and Go sides.
        .consume_message_batch_max_size(1)
        .build();
    consumer.subscribe(topic.as_str(), "*").await.map_err(|err| format!("subscribing to {topic}: {err}"))?;
    consumer.register_message_listener_concurrently(Listener(Arc::clone(&counter)));
    consumer.start().await.map_err(|err| format!("starting the consumer: {err}"))?;
    let waited = tokio::time::timeout(Duration::from_secs(max_secs), async {
        while !counter.finished.load(Ordering::Acquire) {
            counter.done.notified().await;
        }
    })
    .await;
    let peak = self_status_kb("VmHWM");
    consumer.shutdown().await;
    if waited.is_err() {
        return Err(format!(
            "only {} of {total} messages arrived within {max_secs}s",
            counter.seen.load(Ordering::Acquire)
        ));
    }
    let (first, last) = match (*counter.first.lock().unwrap(), *counter.last.lock().unwrap()) {
        (Some(first), Some(last)) => (first, last),
        _ => return Err("the first or the last delivery was not recorded".to_string()),
    };
    // The first delivery opens the window, so total - 1 messages are inside it.
    let secs = last.at.duration_since(first.at).as_secs_f64();
    let counted = (total - 1) as f64;
    println!(
        "{{\"side\":\"rust\",\"messages\":{total},\"threads\":{threads},\"secs\":{secs},\"rate\":{},\
         \"cpuSecsPer100k\":{},\"peakRssKiB\":{peak}}}",
        counted / secs,
        (last.cpu - first.cpu) / counted * 100_000.0,
    );
    Ok(())
}
