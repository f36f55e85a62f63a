//! Producer benchmark (not a test); `tests/bench/producer.sh` drives it against a real cluster.
//!
//! Subcommands (each prints tab-separated result records on stdout; `table` renders them):
//!
//! * `idle  --namesrv A --topic T --format json|rocketmq`: start a producer, send one message,
//!   print the process's VmRSS.
//! * `ours  --namesrv A --topic T [--formats json,rocketmq] [--sweep 1,2,4,8,16,32]
//!   [--messages 50000] [--max-secs 8] [--size 1024] [--async-window 256 (or a list: 1,256)] [--oneway-tasks 8]
//!   [--batch 32] [--batch-tasks 4] [--rate 0] [--paced C:R] [--blocking N]`: every phase (sync with
//!   N tasks in flight, async, oneway, batch) in both header formats. Per phase: messages/s,
//!   latency percentiles, CPU seconds from `getrusage(RUSAGE_SELF)` and peak RSS (VmHWM, reset per
//!   phase through /proc/self/clear_refs).
//!   `--rate N` paces the sync and batch phases to N messages per second (0: as fast as they
//!   go), so that two runs compare at one offered load (the message-trace cost, where a broker
//!   slowed by storing the traces would otherwise change the traced run's I/O pattern).
//!   `--paced C:R[,C:R...]` adds a `paced` phase per pair: sync sends by C tasks, paced to R
//!   messages per second in all, for latency at an offered load every client can carry (the
//!   Java loop's `bench-produce --rate`); its record's mode is `paced`. `--blocking N[,N...]`
//!   adds a `blocking` phase per count: sync sends by N plain OS threads, each blocked in
//!   `Handle::block_on` for its call, as the C and Python bindings call the core; the answer,
//!   read by a runtime thread, then has to wake the caller's thread (a second context switch per
//!   send that the sync phase's tasks, awaiting on the thread that read the answer, do not pay).
//! * `trace-pairs --namesrv A --topic T [--phases sync,async,batch] [--sync-tasks 1] [--async-window 256]
//!   [--batch 32] [--batch-tasks 4] [--rate 0] [--pairs 10] [--messages 20000] [--size 1024]
//!   [--format rocketmq]`: what tracing costs per message, measured in one process holding an
//!   untraced and a traced producer: for each phase, `--pairs` pairs of segments of `--messages`
//!   messages, one segment per producer (which goes first alternates), each segment's CPU
//!   (`getrusage`) per message; a traced segment ends when the broker has stored its trace
//!   records (or 10 s have passed), so their sending is counted in it and not in the next.
//!   Segments seconds apart see the machine in about the same state, which separate runs minutes
//!   apart did not (their CPU per message moved by 15-20%). Prints one line per pair and per
//!   phase the medians and the median of the pairs' cost (traced / untraced - 1).
//! * `blocking-pairs --namesrv A --topic T [--conc 1,8] [--pairs 10] [--messages 20000] [--size 1024]
//!   [--format rocketmq]`: what calling the core from blocked threads costs against awaiting it in
//!   runtime tasks (the `blocking` and `sync` phases), in one process with one producer: per
//!   concurrency, `--pairs` pairs of segments of `--messages` sync sends, one segment each way
//!   (which goes first alternates), CPU per message of each; prints each pair and the median of
//!   the pairs' ratios (threads / tasks).
//! * `java  --namesrv A --topic T --mode M --conc N [--warmup-secs 2] [--secs 8] --log F -- CMD..`:
//!   runs CMD (the official Java benchmark producer), waits until messages land, then measures
//!   its CPU (/proc/PID/stat utime+stime) and the topic's max offsets over `--secs` seconds,
//!   reads VmHWM, and stops it.
//! * `table --machine TEXT [--notes TEXT] FILE...`: the comparison table; records of the Go client
//!   (`go ...`, printed by tests/bench/go-peer) add a section comparing ours with Go, and records of
//!   RocketMQ-Rust's client (`rust ...`, same fields, printed by tests/bench/rust-peer) one comparing
//!   ours with it.

use parking_lot::Mutex;
use std::alloc::{GlobalAlloc, Layout};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mimalloc::MiMalloc;
use ons_tests::bench::{
    cpu_secs, median, proc_cpu_secs, reset_peak_rss, runtime, status_kb, user_and_system_cpu_secs, BoxResult, Opts,
};
use rocketmq_ons::admin::Admin;
use rocketmq_ons::config::keys;
use rocketmq_ons::{Error, ErrorKind, Message, Producer, Properties};

/// mimalloc, counting allocations (one relaxed atomic add each), so every phase can report
/// heap allocations per message. mimalloc because every library we ship (`ffi-c`, `py`, `node`)
/// makes it the allocator: the benchmark measures the core as C, Python and Node programs get it
/// (ffi-c/Cargo.toml says what glibc malloc costs instead).
struct CountingAlloc;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to mimalloc.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        MiMalloc.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        MiMalloc.dealloc(ptr, layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        MiMalloc.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        MiMalloc.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        eprintln!("usage: bench_producer idle|ours|trace-pairs|blocking-pairs|java|table ... (see the source header)");
        std::process::exit(2);
    };
    let opts = Opts::parse(rest);
    let result = match cmd.as_str() {
        "idle" => runtime().block_on(idle(&opts)),
        "ours" => runtime().block_on(ours(&opts)),
        "java" => runtime().block_on(java(&opts)),
        "trace-pairs" => runtime().block_on(trace_pairs(&opts)),
        "blocking-pairs" => runtime().block_on(blocking_pairs(&opts)),
        "table" => table(&opts),
        other => Err(format!("unknown subcommand {other}").into()),
    };
    if let Err(e) = result {
        eprintln!("bench_producer {cmd}: {e}");
        std::process::exit(1);
    }
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    /// Messages that reached the broker (a batch counts its messages).
    ok: usize,
    errors: usize,
    busy: usize,
    first_error: Option<String>,
}

impl Tally {
    fn success(&mut self, started: Instant, messages: usize) {
        self.latencies_us.push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
        self.ok += messages;
    }

    fn failure(&mut self, e: &Error) {
        self.errors += 1;
        if e.kind() == ErrorKind::Busy || e.response_code() == Some(2) {
            self.busy += 1;
        }
        if self.first_error.is_none() {
            self.first_error = Some(e.to_string());
        }
    }

    fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        self.ok += other.ok;
        self.errors += other.errors;
        self.busy += other.busy;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    /// The p-th percentile (0..=100) in milliseconds, nearest rank.
    fn percentile_ms(sorted: &[u32], p: f64) -> f64 {
        if sorted.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
    }
}

// ------------------------------------------------------------------------------ our producer

/// Our producer's properties; `BENCH_MSG_TRACE` (`true`/`false`), when set, is its
/// `MsgTraceSwitch` (traced against untraced runs; the client's default is on).
fn props(namesrv: &str, format: &str) -> Properties {
    let p = Properties::new()
        .with(keys::NAMESRV_ADDR, namesrv)
        .with(keys::GROUP_ID, format!("GID_bench_{}", format.to_ascii_lowercase()))
        .with(keys::HEADER_FORMAT, format.to_ascii_uppercase());
    match std::env::var("BENCH_MSG_TRACE") {
        Ok(v) if !v.is_empty() => p.with(keys::MSG_TRACE_SWITCH, v),
        _ => p,
    }
}

/// A 1 KiB (by default) alphanumeric body, like the Java benchmark's.
fn body(size: usize) -> Vec<u8> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..size)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            alphabet[(seed % alphabet.len() as u64) as usize]
        })
        .collect()
}

async fn idle(opts: &Opts) -> BoxResult<()> {
    let namesrv = opts.str("namesrv")?;
    let topic = opts.str("topic")?;
    let format = opts.get("format", "json".to_owned())?;
    let producer = Producer::new(&props(namesrv, &format))?;
    producer.start()?;
    producer.send(&Message::new(topic, None, body(opts.get("size", 1024)?))).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss = status_kb("self", "VmRSS").ok_or("no VmRSS in /proc/self/status")?;
    println!("idle\t{format}\t{rss}");
    producer.shutdown().await;
    Ok(())
}

#[derive(Clone, Copy)]
enum Phase {
    Sync(usize),
    Async(usize),
    Oneway(usize),
    Batch {
        size: usize,
        tasks: usize,
    },
    /// Sync sends by `tasks` tasks, paced to `rate` messages per second in all.
    Paced {
        tasks: usize,
        rate: f64,
    },
    /// Sync sends by this many plain OS threads, each blocked in `Handle::block_on` for its
    /// call: how the C and Python bindings call the core (ffi-c/src/runtime.rs,
    /// py/src/runtime.rs), so the answer, read by a runtime thread, then wakes the caller's.
    Blocking(usize),
}

impl Phase {
    fn mode(self) -> &'static str {
        match self {
            Phase::Sync(_) => "sync",
            Phase::Async(_) => "async",
            Phase::Oneway(_) => "oneway",
            Phase::Batch { .. } => "batch",
            Phase::Paced { .. } => "paced",
            Phase::Blocking(_) => "blocking",
        }
    }

    fn concurrency(self) -> usize {
        match self {
            Phase::Sync(n) | Phase::Async(n) | Phase::Oneway(n) | Phase::Blocking(n) => n,
            Phase::Batch { tasks, .. } | Phase::Paced { tasks, .. } => tasks,
        }
    }
}

/// What one phase sends: clones of `template` (they share its body buffer), up to `messages`
/// or until `max_time` has passed.
#[derive(Clone)]
struct Load {
    template: Message,
    messages: usize,
    max_time: Duration,
    /// Messages per second the sync and batch phases are paced to; 0 for no pacing.
    rate: f64,
}

async fn ours(opts: &Opts) -> BoxResult<()> {
    let namesrv = opts.str("namesrv")?.to_owned();
    let topic = opts.str("topic")?.to_owned();
    let size: usize = opts.get("size", 1024)?;
    let payload = body(size);
    let mut phases = Vec::new();
    for n in opts.list("sweep", "1,2,4,8,16,32") {
        phases.push(Phase::Sync(n.parse().map_err(|_| format!("--sweep: bad value {n:?}"))?));
    }
    for w in opts.list("async-window", "256") {
        phases.push(Phase::Async(w.parse().map_err(|_| format!("--async-window: bad value {w:?}"))?));
    }
    phases.push(Phase::Oneway(opts.get("oneway-tasks", 8)?));
    phases.push(Phase::Batch { size: opts.get("batch", 32)?, tasks: opts.get("batch-tasks", 4)? });
    for pair in opts.list("paced", "") {
        let bad = || format!("--paced: {pair:?} is not TASKS:RATE (sync tasks, messages per second)");
        let (tasks, rate) = pair.split_once(':').ok_or_else(bad)?;
        let (tasks, rate): (usize, f64) = (tasks.parse().map_err(|_| bad())?, rate.parse().map_err(|_| bad())?);
        if tasks == 0 || !rate.is_finite() || rate <= 0.0 {
            return Err(bad().into());
        }
        phases.push(Phase::Paced { tasks, rate });
    }
    for n in opts.list("blocking", "") {
        phases.push(Phase::Blocking(n.parse().map_err(|_| format!("--blocking: bad value {n:?}"))?));
    }
    let only: Vec<String> = opts.list("phases", "sync,async,oneway,batch,paced,blocking");
    let broker_pid: Option<u32> = opts.named.get("broker-pid").and_then(|p| p.parse().ok());

    for format in opts.list("formats", "json,rocketmq") {
        let p = props(&namesrv, &format);
        let load = Load {
            template: Message::new(topic.as_str(), None, payload.clone()),
            messages: opts.get("messages", 50_000)?,
            max_time: Duration::from_secs_f64(opts.get("max-secs", 8.0)?),
            rate: opts.get("rate", 0.0)?,
        };
        let cluster = Cluster { admin: Admin::new(&p)?, topic: topic.clone(), broker_pid };
        for &phase in phases.iter().filter(|ph| only.iter().any(|o| o == ph.mode())) {
            let producer = Arc::new(Producer::new(&p)?);
            producer.start()?;
            // A phase that cannot run (a broker still choking on an earlier flood) is reported
            // and skipped; the others still run.
            match run_phase(&load, &cluster, &producer, phase).await {
                Ok(record) => println!("ours\t{}\t{record}", format.to_ascii_uppercase()),
                Err(e) => eprintln!("{} {} {format}: phase skipped: {e}", phase.mode(), phase.concurrency()),
            }
            producer.shutdown().await;
            if let Some(t) = producer.trace_counts() {
                // On stderr: the records on stdout keep their fields.
                eprintln!(
                    "trace records of {} {} {format}: sent {}, dropped {}",
                    phase.mode(),
                    phase.concurrency(),
                    t.sent,
                    t.dropped
                );
            }
        }
    }
    Ok(())
}

/// The `trace-pairs` subcommand (module docs).
async fn trace_pairs(opts: &Opts) -> BoxResult<()> {
    let namesrv = opts.str("namesrv")?.to_owned();
    let topic = opts.str("topic")?.to_owned();
    let format = opts.get("format", "rocketmq".to_owned())?;
    let pairs: usize = opts.get("pairs", 10)?;
    let load = Load {
        template: Message::new(topic.as_str(), None, body(opts.get("size", 1024)?)),
        messages: opts.get("messages", 20_000)?,
        max_time: Duration::from_secs(60),
        rate: opts.get("rate", 0.0)?,
    };
    let mut phases = Vec::new();
    for mode in opts.list("phases", "sync,async,batch") {
        phases.push(match mode.as_str() {
            "sync" => Phase::Sync(opts.get("sync-tasks", 1)?),
            "async" => Phase::Async(opts.get("async-window", 256)?),
            "batch" => Phase::Batch { size: opts.get("batch", 32)?, tasks: opts.get("batch-tasks", 4)? },
            other => return Err(format!("--phases: {other:?} is not sync, async or batch").into()),
        });
    }
    let side = |traced: bool| -> BoxResult<Producer> {
        let p = props(&namesrv, &format)
            .with(keys::GROUP_ID, format!("GID_bench_trace_{traced}"))
            .with(keys::MSG_TRACE_SWITCH, traced.to_string());
        let producer = Producer::new(&p)?;
        producer.start()?;
        Ok(producer)
    };
    let producers = [Arc::new(side(false)?), Arc::new(side(true)?)];
    // Messages each has sent (the traced one's records to wait for).
    let mut sent_by = [0usize; 2];
    let pace = if load.rate > 0.0 { format!(" paced to {} msg/s", load.rate) } else { String::new() };
    println!("phase\tpair\tuntraced_us\ttraced_us\tcost_pct\tuntraced_user+system_us\ttraced_user+system_us");
    for phase in phases {
        let name = format!("{} {}{pace}", phase.mode(), phase.concurrency());
        // Warm-up (routes, connections, the trace topic's route): not measured.
        let warm = Load { messages: 2_000, ..load.clone() };
        for (producer, sent) in producers.iter().zip(&mut sent_by) {
            *sent += run_segment(&warm, producer, phase).await?;
            flush_traces(producer, *sent).await;
        }
        let mut costs = Vec::with_capacity(pairs);
        let mut sides: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        let mut users: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        let mut systems: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for pair in 0..pairs {
            let mut us = [0.0; 2];
            let mut split = [(0.0, 0.0); 2];
            let order = if pair % 2 == 0 { [0, 1] } else { [1, 0] };
            for i in order {
                let (user0, system0) = user_and_system_cpu_secs();
                let sent = run_segment(&load, &producers[i], phase).await?;
                sent_by[i] += sent;
                flush_traces(&producers[i], sent_by[i]).await;
                let (user1, system1) = user_and_system_cpu_secs();
                let per_message = |secs: f64| secs / sent as f64 * 1e6;
                split[i] = (per_message(user1 - user0), per_message(system1 - system0));
                us[i] = split[i].0 + split[i].1;
                sides[i].push(us[i]);
                users[i].push(split[i].0);
                systems[i].push(split[i].1);
            }
            let cost = (us[1] / us[0] - 1.0) * 100.0;
            costs.push(cost);
            println!(
                "{name}\t{pair}\t{:.3}\t{:.3}\t{cost:.1}\t{:.2}+{:.2}\t{:.2}+{:.2}",
                us[0], us[1], split[0].0, split[0].1, split[1].0, split[1].1
            );
        }
        let [user_untraced, user_traced] = users.map(median);
        let [system_untraced, system_traced] = systems.map(median);
        println!(
            "{name}\tmedians\tuser {user_untraced:.3} -> {user_traced:.3} us ({:+.3}), system {system_untraced:.3} -> {system_traced:.3} us ({:+.3})",
            user_traced - user_untraced,
            system_traced - system_untraced
        );
        let [untraced, traced] = sides.map(median);
        let (lowest, highest) = costs.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &c| (lo.min(c), hi.max(c)));
        println!(
            "{name}\tmedian\t{untraced:.3}\t{traced:.3}\t{:.1}\t(median of the pairs' costs; they range {lowest:.1}..{highest:.1}%; cost of the medians {:.1}%)",
            median(costs.clone()),
            (traced / untraced - 1.0) * 100.0
        );
    }
    for producer in &producers {
        producer.shutdown().await;
        if let Some(t) = producer.trace_counts() {
            eprintln!("trace records: sent {}, dropped {}", t.sent, t.dropped);
        }
    }
    Ok(())
}

/// The `blocking-pairs` subcommand (module docs).
async fn blocking_pairs(opts: &Opts) -> BoxResult<()> {
    let namesrv = opts.str("namesrv")?.to_owned();
    let topic = opts.str("topic")?.to_owned();
    let pairs: usize = opts.get("pairs", 10)?;
    let load = Load {
        template: Message::new(topic.as_str(), None, body(opts.get("size", 1024)?)),
        messages: opts.get("messages", 20_000)?,
        max_time: Duration::from_secs(60),
        rate: 0.0,
    };
    let producer = Producer::new(&props(&namesrv, &opts.get("format", "rocketmq".to_owned())?))?;
    producer.start()?;
    let producer = Arc::new(producer);
    println!("conc\tpair\ttasks_us\tthreads_us\tratio");
    for conc in opts.list("conc", "1,8") {
        let conc: usize = conc.parse().map_err(|_| format!("--conc: bad value {conc:?}"))?;
        let sides = [Phase::Sync(conc), Phase::Blocking(conc)];
        // Warm-up (route, connection, threads' first calls): not measured.
        for phase in sides {
            run_segment(&Load { messages: 2_000, ..load.clone() }, &producer, phase).await?;
        }
        let mut ratios = Vec::with_capacity(pairs);
        let mut per_side: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for pair in 0..pairs {
            let mut us = [0.0; 2];
            let order = if pair % 2 == 0 { [0, 1] } else { [1, 0] };
            for i in order {
                let cpu0 = cpu_secs();
                let sent = run_segment(&load, &producer, sides[i]).await?;
                us[i] = (cpu_secs() - cpu0) / sent as f64 * 1e6;
                per_side[i].push(us[i]);
            }
            ratios.push(us[1] / us[0]);
            println!("{conc}\t{pair}\t{:.2}\t{:.2}\t{:.2}", us[0], us[1], us[1] / us[0]);
        }
        let (lowest, highest) = ratios.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &r| (lo.min(r), hi.max(r)));
        let [tasks, threads] = per_side.map(median);
        println!(
            "{conc}\tmedian\t{tasks:.2}\t{threads:.2}\t{:.2}\t(median of the pairs' ratios; they range {lowest:.2}..{highest:.2})",
            median(ratios)
        );
    }
    producer.shutdown().await;
    Ok(())
}

/// One `trace-pairs` or `blocking-pairs` segment of `phase`: the messages the broker took.
async fn run_segment(load: &Load, producer: &Arc<Producer>, phase: Phase) -> BoxResult<usize> {
    let tally = run_load(load, producer, phase).await;
    if tally.errors > 0 || tally.ok == 0 {
        return Err(
            format!("segment of {}: {} errors; first: {:?}", phase.mode(), tally.errors, tally.first_error).into()
        );
    }
    Ok(tally.ok)
}

/// Waits until a traced producer's tracer has sent or dropped `records` records in all (one
/// per message sent: every send succeeded), at most 10 s; an untraced producer returns at once.
async fn flush_traces(producer: &Producer, records: usize) {
    let give_up = Instant::now() + Duration::from_secs(10);
    while let Some(t) = producer.trace_counts() {
        if t.sent + t.dropped >= records as u64 || Instant::now() >= give_up {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Sum of the topic's max offsets: how many messages the broker has stored.
async fn stored(admin: &Admin, topic: &str) -> BoxResult<i64> {
    Ok(admin.max_offsets(topic).await?.iter().map(|(_, _, o)| *o).sum())
}

/// Waits (at most 30 s) until the broker has stopped storing messages for this topic, so a
/// phase does not start while the broker still works through an earlier phase's backlog.
async fn settle(admin: &Admin, topic: &str) {
    let give_up = Instant::now() + Duration::from_secs(30);
    let mut last = None;
    while Instant::now() < give_up {
        let now = stored(admin, topic).await.ok();
        if now.is_some() && now == last {
            return;
        }
        last = now;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Where a phase's messages go: for counting what the broker stored and its CPU time.
struct Cluster {
    admin: Admin,
    topic: String,
    broker_pid: Option<u32>,
}

async fn run_phase(load: &Load, cluster: &Cluster, producer: &Arc<Producer>, phase: Phase) -> BoxResult<String> {
    let (admin, topic) = (&cluster.admin, cluster.topic.as_str());
    settle(admin, topic).await;
    // Warm-up (route lookup, connection, allocator): not measured.
    let warm = Load { messages: 200.max(phase.concurrency() * 4), max_time: Duration::from_secs(10), ..load.clone() };
    let warm_tally = match phase {
        Phase::Batch { size, tasks } => run_tasks(&warm, producer, tasks, Call::Batch(size)).await,
        _ => run_tasks(&warm, producer, phase.concurrency().min(32), Call::Send).await,
    };
    if warm_tally.ok == 0 {
        return Err(format!("warm-up sends failed: {}", warm_tally.first_error.unwrap_or_default()).into());
    }
    let before = stored(admin, topic).await?;
    let peak_ok = reset_peak_rss();
    let broker0 = cluster.broker_pid.and_then(proc_cpu_secs);
    let allocs0 = ALLOCATIONS.load(Ordering::Relaxed);
    let cpu0 = cpu_secs();
    let t0 = Instant::now();
    let mut tally = run_load(load, producer, phase).await;
    let mut t1 = Instant::now();
    if let Phase::Oneway(_) = phase {
        // Oneway sends are done when queued; the phase ends when the broker has stored them, or
        // (a saturated broker drops oneway requests without a word) when it stops storing.
        let target = before + tally.ok as i64;
        let mut last = stored(admin, topic).await?;
        while last < target && t1.elapsed() < Duration::from_secs(1) {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let now = stored(admin, topic).await?;
            if now != last {
                (last, t1) = (now, Instant::now());
            }
        }
        // What the broker never stored counts as errors.
        let landed = (last - before).max(0) as usize;
        tally.errors += tally.ok.saturating_sub(landed);
        tally.ok = tally.ok.min(landed);
    }
    let secs = (t1 - t0).as_secs_f64();
    let cpu = cpu_secs() - cpu0;
    let allocs = ALLOCATIONS.load(Ordering::Relaxed) - allocs0;
    let broker_cpu = match (broker0, cluster.broker_pid.and_then(proc_cpu_secs)) {
        (Some(a), Some(b)) => format!("{:.2}", b - a),
        _ => "-".into(),
    };
    let hwm = if peak_ok { status_kb("self", "VmHWM").unwrap_or(0) } else { 0 };
    if let Some(e) = &tally.first_error {
        eprintln!(
            "{} {}: {} errors ({} busy); first: {e}",
            phase.mode(),
            phase.concurrency(),
            tally.errors,
            tally.busy
        );
    }
    let lat = &mut tally.latencies_us;
    lat.sort_unstable();
    Ok(format!(
        "{}\t{}\t{}\t{:.3}\t{:.4}\t{:.3}\t{:.3}\t{:.3}\t{}\t{}\t{}\t{broker_cpu}\t{:.1}",
        phase.mode(),
        phase.concurrency(),
        tally.ok,
        secs,
        cpu,
        Tally::percentile_ms(lat, 50.0),
        Tally::percentile_ms(lat, 99.0),
        Tally::percentile_ms(lat, 99.9),
        hwm,
        tally.errors,
        tally.busy,
        allocs as f64 / tally.ok.max(1) as f64
    ))
}

/// Sends `load` as `phase` says.
async fn run_load(load: &Load, producer: &Arc<Producer>, phase: Phase) -> Tally {
    match phase {
        Phase::Sync(n) => run_tasks(load, producer, n, Call::Send).await,
        Phase::Async(window) => run_async(load, producer, window).await,
        Phase::Oneway(n) => run_tasks(load, producer, n, Call::Oneway).await,
        Phase::Batch { size, tasks } => run_tasks(load, producer, tasks, Call::Batch(size)).await,
        Phase::Paced { tasks, rate } => run_tasks(&Load { rate, ..load.clone() }, producer, tasks, Call::Send).await,
        Phase::Blocking(n) => run_threads(load, producer, n).await,
    }
}

/// What each task of a phase calls in a loop.
#[derive(Clone, Copy)]
enum Call {
    /// `send`: sync semantics with retries.
    Send,
    /// `send_oneway`: the latency recorded is the time to queue the frame.
    Oneway,
    /// `send_batch` with this many messages; the latency is per batch.
    Batch(usize),
}

/// `tasks` tasks, each making `call` one at a time until the load is sent or its time is up.
async fn run_tasks(load: &Load, producer: &Arc<Producer>, tasks: usize, call: Call) -> Tally {
    let next = Arc::new(AtomicUsize::new(0));
    let phase_start = tokio::time::Instant::now();
    let deadline = Instant::now() + load.max_time;
    let per_call = if let Call::Batch(size) = call { size } else { 1 };
    let rate = load.rate;
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (producer, next, template, total) =
                (producer.clone(), next.clone(), load.template.clone(), load.messages);
            tokio::spawn(async move {
                let mut tally = Tally::default();
                loop {
                    let claimed = next.fetch_add(per_call, Ordering::Relaxed);
                    if claimed >= total || Instant::now() >= deadline {
                        break;
                    }
                    if rate > 0.0 {
                        // The call is due when the messages before it are, at `rate`.
                        tokio::time::sleep_until(phase_start + Duration::from_secs_f64(claimed as f64 / rate)).await;
                    }
                    let started = Instant::now();
                    let result = match call {
                        Call::Send => producer.send(&template.clone()).await.map(drop),
                        Call::Oneway => producer.send_oneway(&template.clone()).await,
                        Call::Batch(size) => {
                            let batch: Vec<Message> = (0..size).map(|_| template.clone()).collect();
                            producer.send_batch(&batch).await.map(drop)
                        }
                    };
                    match result {
                        Ok(()) => tally.success(started, per_call),
                        Err(e) => tally.failure(&e),
                    }
                }
                tally
            })
        })
        .collect();
    join(handles).await
}

/// `threads` plain OS threads, each blocking on one `send` at a time with `Handle::block_on`
/// (the first poll, which writes the request, runs on the calling thread; a runtime thread reads
/// the answer and wakes it), until the load is sent or its time is up.
async fn run_threads(load: &Load, producer: &Arc<Producer>, threads: usize) -> Tally {
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + load.max_time;
    let runtime = tokio::runtime::Handle::current();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (producer, next, template, total, runtime) =
                (producer.clone(), next.clone(), load.template.clone(), load.messages, runtime.clone());
            let (done, tally) = tokio::sync::oneshot::channel();
            std::thread::spawn(move || {
                let mut tally = Tally::default();
                loop {
                    let claimed = next.fetch_add(1, Ordering::Relaxed);
                    if claimed >= total || Instant::now() >= deadline {
                        break;
                    }
                    let started = Instant::now();
                    match runtime.block_on(producer.send(&template.clone())) {
                        Ok(_) => tally.success(started, 1),
                        Err(e) => tally.failure(&e),
                    }
                }
                let _ = done.send(tally);
            });
            tally
        })
        .collect();
    let mut outcomes = Vec::with_capacity(handles.len());
    for tally in handles {
        outcomes.push(tally.await.map_err(|_| "a sending thread panicked".to_owned()));
    }
    merge_all(outcomes)
}

/// One driver task issuing `send_with_callback` (the async API), at most `window` in flight.
async fn run_async(load: &Load, producer: &Arc<Producer>, window: usize) -> Tally {
    let (producer, template, total) = (producer.clone(), load.template.clone(), load.messages);
    let deadline = Instant::now() + load.max_time;
    let driver = tokio::spawn(async move {
        let shared = Arc::new(Mutex::new(Tally::default()));
        let slots = Arc::new(tokio::sync::Semaphore::new(window));
        for _ in 0..total {
            if Instant::now() >= deadline {
                break;
            }
            let Ok(permit) = slots.clone().acquire_owned().await else { break };
            let shared = shared.clone();
            let started = Instant::now();
            producer.send_with_callback(template.clone(), move |result| {
                drop(permit);
                let mut tally = shared.lock();
                match result {
                    Ok(_) => tally.success(started, 1),
                    Err(e) => tally.failure(&e),
                }
            });
        }
        let _ = slots.acquire_many(window as u32).await;
        let mut tally = shared.lock();
        std::mem::take(&mut *tally)
    });
    driver.await.unwrap_or_default()
}

async fn join(handles: Vec<tokio::task::JoinHandle<Tally>>) -> Tally {
    let mut outcomes = Vec::with_capacity(handles.len());
    for h in handles {
        outcomes.push(h.await.map_err(|e| format!("task failed: {e}")));
    }
    merge_all(outcomes)
}

/// The tallies of a phase's senders in one; a sender that failed counts as an error.
fn merge_all(outcomes: Vec<Result<Tally, String>>) -> Tally {
    let mut all = Tally::default();
    for outcome in outcomes {
        match outcome {
            Ok(t) => all.merge(t),
            Err(e) => {
                all.errors += 1;
                all.first_error.get_or_insert(e);
            }
        }
    }
    all
}

// ------------------------------------------------------------------------------ Java

struct Sample {
    at: Instant,
    cpu: f64,
    broker_cpu: Option<f64>,
    stored: i64,
}

async fn java(opts: &Opts) -> BoxResult<()> {
    let namesrv = opts.str("namesrv")?;
    let topic = opts.str("topic")?;
    let mode = opts.str("mode")?;
    let conc: usize = opts.get("conc", 1)?;
    let warmup = Duration::from_secs_f64(opts.get("warmup-secs", 2.0)?);
    let measure = Duration::from_secs_f64(opts.get("secs", 8.0)?);
    let log_path = opts.str("log")?;
    let broker_pid: Option<u32> = opts.named.get("broker-pid").and_then(|p| p.parse().ok());
    let (program, args) = opts.command.split_first().ok_or("java: give the command after --")?;
    let admin = Admin::new(&props(namesrv, "json"))?;
    settle(&admin, topic).await;
    let base = stored(&admin, topic).await?;

    let log = std::fs::File::create(log_path)?;
    let mut child =
        Command::new(program).args(args).stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log).spawn()?;
    let pid = child.id();
    let started = Instant::now();
    let sample = |stored: i64| Sample {
        at: Instant::now(),
        cpu: proc_cpu_secs(pid).unwrap_or(f64::NAN),
        broker_cpu: broker_pid.and_then(proc_cpu_secs),
        stored,
    };

    // 1. wait for the first stored message; 2. warm-up; 3. measure.
    let mut begin: Option<Sample> = None;
    let mut moving_since: Option<Instant> = None;
    let mut end: Option<Sample> = None;
    let mut hwm = 0;
    let mut exited = None;
    while end.is_none() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Some(status) = child.try_wait()? {
            exited = Some(status);
            break;
        }
        hwm = hwm.max(status_kb(&pid.to_string(), "VmHWM").unwrap_or(0));
        // A broker too busy to answer in time just costs this sample.
        let Ok(now_stored) = stored(&admin, topic).await else { continue };
        match (&begin, moving_since) {
            (None, None) if now_stored > base => moving_since = Some(Instant::now()),
            (None, Some(since)) if since.elapsed() >= warmup => begin = Some(sample(now_stored)),
            (Some(b), _) if b.at.elapsed() >= measure => end = Some(sample(now_stored)),
            _ => {}
        }
        if begin.is_none() && started.elapsed() > Duration::from_secs(120) {
            break;
        }
    }
    let total_cpu = proc_cpu_secs(pid).unwrap_or(f64::NAN);
    if exited.is_none() {
        // SAFETY: kill(2) on the child we spawned and have not reaped yet.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
        let give_up = Instant::now() + Duration::from_secs(5);
        while child.try_wait()?.is_none() {
            if Instant::now() > give_up {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let (Some(b), Some(e)) = (begin, end) else {
        let log = std::fs::read_to_string(log_path).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        return Err(format!(
            "the Java producer ({mode}, {conc}) {} before a full measurement window; log tail:\n{}",
            if exited.is_some() { "exited" } else { "stored nothing" },
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )
        .into());
    };
    let log = std::fs::read_to_string(log_path).unwrap_or_default();
    let last = |key: &str| -> String {
        log.lines()
            .rev()
            .find_map(|l| {
                let rest = &l[l.find(key)? + key.len()..];
                Some(rest.split('|').next()?.trim().to_owned())
            })
            .unwrap_or_else(|| "-".into())
    };
    let broker_cpu = match (b.broker_cpu, e.broker_cpu) {
        (Some(x), Some(y)) => format!("{:.2}", y - x),
        _ => "-".into(),
    };
    println!(
        "java\t{mode}\t{conc}\t{}\t{:.3}\t{:.4}\t{hwm}\t{}\t{}\t{}\t{:.3}\t{broker_cpu}",
        e.stored - b.stored,
        (e.at - b.at).as_secs_f64(),
        e.cpu - b.cpu,
        last("Average RT(ms):"),
        last("Send Failed:"),
        last("Response Failed:"),
        total_cpu
    );
    Ok(())
}

// ------------------------------------------------------------------------------ table

/// One result record: `ours FMT MODE CONC msgs secs cpu p50 p99 p99.9 hwm_kb errors busy broker_cpu
/// allocations_per_message`
/// or `java MODE CONC msgs secs cpu hwm_kb avg_rt send_failed response_failed total_cpu broker_cpu`
/// or `go MODE CONC msgs secs cpu p50 p99 p99.9 hwm_kb errors busy broker_cpu` (and `rust ...`, the same
/// fields).
struct Row {
    msgs: f64,
    secs: f64,
    cpu: f64,
    rss_kb: f64,
    broker_cpu: f64,
    fields: Vec<String>,
}

impl Row {
    fn rate(&self) -> f64 {
        self.msgs / self.secs
    }

    fn per_100k(&self, secs: f64) -> f64 {
        secs / self.msgs * 100_000.0
    }

    fn field(&self, i: usize) -> &str {
        self.fields.get(i).map(String::as_str).unwrap_or("-")
    }
}

fn field_num(row: &Row, i: usize) -> f64 {
    row.field(i).parse().unwrap_or(f64::NAN)
}

fn parse_row(f: Vec<String>, msgs: usize, cpu: usize, rss: usize, broker: usize) -> Row {
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
    Row { msgs: num(msgs), secs: num(msgs + 1), cpu: num(cpu), rss_kb: num(rss), broker_cpu: num(broker), fields: f }
}

const MODES: [&str; 6] = ["sync", "async", "oneway", "batch", "paced", "blocking"];

/// A peer's best run of each (mode, concurrency).
type PeerRuns = HashMap<(String, usize), Row>;

/// The peers whose programs measure as ours does and print the same record (`SIDE MODE CONC
/// msgs secs cpu p50 p99 p99.9 hwm_kb errors busy broker_cpu`): record side, name in the table.
const MEASURED_PEERS: [(&str, &str); 4] = [("java-loop", "Java loop"), ("go", "Go"), ("rust", "Rust"), ("cpp", "C++")];

fn mode_rank(m: &str) -> usize {
    MODES.iter().position(|x| *x == m).unwrap_or(MODES.len())
}

/// A number, or blank when it is not one (missing records, zero messages).
fn num(v: f64, width: usize, decimals: usize) -> String {
    if v.is_finite() {
        format!("{v:>width$.decimals$}")
    } else {
        format!("{:>width$}", "-")
    }
}

fn phase_label(mode: &str, conc: usize) -> String {
    match mode {
        "sync" => format!("sync c={conc}"),
        "async" => format!("async w={conc}"),
        "oneway" => format!("oneway c={conc}"),
        "batch" => format!("batch t={conc}"),
        "paced" => format!("paced c={conc}"),
        "blocking" => format!("blocking c={conc}"),
        m => format!("{m} {conc}"),
    }
}

/// A peer's run to compare with our phase: sync and paced sync at equal concurrency, the other
/// modes with the peer's run of that mode. Our blocking phase compares with the peer's sync
/// sends at equal concurrency: the peers' sync sends are calls that block their caller's thread
/// too (the Java client's caller waits on a latch its Netty thread releases).
fn peer_run<'a>(peer: &'a HashMap<(String, usize), Row>, mode: &str, conc: usize) -> Option<&'a Row> {
    if mode == "sync" || mode == "paced" {
        peer.get(&(mode.to_owned(), conc))
    } else if mode == "blocking" {
        peer.get(&("sync".to_owned(), conc))
    } else {
        peer.iter().find(|((m, _), _)| m == mode).map(|(_, v)| v)
    }
}

/// A peer measured as ours are (the Go client by tests/bench/go-peer, RocketMQ-Rust's client by
/// tests/bench/rust-peer), named `name`, against each of our rows: its own figures and our ratios
/// to them. Reported only.
fn peer_section(
    out: &mut String,
    name: &str,
    ours: &[(String, String, usize, Row)],
    peer: &HashMap<(String, usize), Row>,
) {
    const W: [usize; 15] = [13, 9, 8, 10, 7, 7, 8, 8, 8, 9, 8, 6, 6, 6, 6];
    let line = |cols: [&str; 15]| {
        let mut l = String::new();
        for (i, (c, w)) in cols.iter().zip(W).enumerate() {
            if i < 2 {
                let _ = write!(l, "{c:<w$}");
            } else {
                if i == 2 || i == 3 || i == 11 {
                    l.push_str(" |");
                }
                let _ = write!(l, "{c:>w$}");
            }
        }
        l
    };
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{}",
        line([
            "",
            "",
            "ours:",
            &format!("{name}:"),
            "p50",
            "p99",
            "p99.9",
            "CPU s",
            "peak",
            "errors",
            "broker",
            "our/",
            name,
            "",
            ""
        ])
    );
    let _ = writeln!(
        out,
        "{}",
        line([
            "phase", "header", "msg/s", "msg/s", "ms", "ms", "ms", "/100k", "RSS MB", "(busy)", "CPU s", "thr", "CPU",
            "p99", "RSS"
        ])
    );
    let rule = "-".repeat(line([""; 15]).len());
    let _ = writeln!(out, "{rule}");
    for (mode, header, conc, r) in ours {
        let Some(g) = peer_run(peer, mode, *conc) else { continue };
        let ms = |i: usize| num(g.field(i).parse().unwrap_or(f64::NAN), 0, 2);
        let cells = [
            phase_label(mode, *conc),
            header.clone(),
            num(r.rate(), 0, 0),
            num(g.rate(), 0, 0),
            ms(6),
            ms(7),
            ms(8),
            num(g.per_100k(g.cpu), 0, 2),
            num(g.rss_kb / 1024.0, 0, 1),
            format!("{}({})", g.field(10), g.field(11)),
            num(g.per_100k(g.broker_cpu), 0, 1),
            num(r.rate() / g.rate(), 0, 2),
            num(r.per_100k(r.cpu) / g.per_100k(g.cpu), 0, 2),
            // Our p99 latency per call over the peer's (ours: field 8, the peer's: field 7).
            num(field_num(r, 8) / field_num(g, 7), 0, 2),
            num(r.rss_kb / g.rss_kb, 0, 3),
        ];
        let _ = writeln!(out, "{}", line(cells.each_ref().map(String::as_str)));
    }
    let _ = writeln!(out, "{rule}");
}

/// Whether `row` is a better run of a `mode` phase than `old`: a higher throughput, or for a
/// paced phase (whose throughput is the pace) a lower p99 latency, field `p99_field` of the
/// side's records.
fn better_run(mode: &str, row: &Row, old: &Row, p99_field: usize) -> bool {
    if mode == "paced" {
        field_num(row, p99_field) < field_num(old, p99_field)
    } else {
        row.rate() > old.rate()
    }
}

fn table(opts: &Opts) -> BoxResult<()> {
    // With several rounds, each side keeps its best (highest-throughput; for a paced phase
    // lowest-p99) run of every phase: interference from other processes on a shared machine
    // only ever slows a run down.
    let mut best: HashMap<(String, String, usize), Row> = HashMap::new();
    let mut java: HashMap<(String, usize), Row> = HashMap::new();
    // Peers measured as ours are, with the same record: (record side, name in the table, runs).
    let mut measured: Vec<(&str, &str, PeerRuns)> =
        MEASURED_PEERS.iter().map(|&(side, name)| (side, name, HashMap::new())).collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut idle: Vec<(String, u64)> = Vec::new();
    for path in &opts.positional {
        for line in std::fs::read_to_string(path)?.lines() {
            let f: Vec<String> = line.split('\t').map(str::to_owned).collect();
            match f.first().map(String::as_str) {
                Some("idle") if f.len() >= 3 => idle.push((f[1].to_ascii_uppercase(), f[2].parse().unwrap_or(0))),
                Some("ours") if f.len() >= 13 => {
                    let key = (f[2].clone(), f[1].clone(), f[3].parse().unwrap_or(0));
                    *counts.entry("ours".into()).or_default() += 1;
                    let row = parse_row(f, 4, 6, 10, 13);
                    if best.get(&key).is_none_or(|old| better_run(&key.0, &row, old, 8)) {
                        best.insert(key, row);
                    }
                }
                Some(side) if side == "java" && f.len() >= 11 || f.len() >= 13 => {
                    let (row, peer) = if side == "java" {
                        (parse_row(f.clone(), 3, 5, 6, 11), &mut java)
                    } else if let Some((_, _, runs)) = measured.iter_mut().find(|(s, _, _)| *s == side) {
                        (parse_row(f.clone(), 3, 5, 9, 12), runs)
                    } else {
                        continue;
                    };
                    let key = (f[1].clone(), f[2].parse().unwrap_or(0));
                    *counts.entry(side.into()).or_default() += 1;
                    if peer.get(&key).is_none_or(|old| better_run(&key.0, &row, old, 7)) {
                        peer.insert(key, row);
                    }
                }
                _ => {}
            }
        }
    }
    let mut ours: Vec<_> = best.into_iter().map(|((mode, header, conc), row)| (mode, header, conc, row)).collect();
    ours.sort_by(|a, b| (mode_rank(&a.0), a.2, &a.1).cmp(&(mode_rank(&b.0), b.2, &b.1)));

    let mut out = String::new();
    let mib = |kb: f64| kb / 1024.0;
    let further: Vec<&str> =
        measured.iter().filter(|(_, _, runs)| !runs.is_empty()).map(|(_, name, _)| *name).collect();
    let _ = writeln!(
        out,
        "Producer benchmark, 1 KiB bodies: ours = rocketmq-ons (--release) vs Java = the official benchmark{}",
        if further.is_empty() { String::new() } else { format!(" and {} (sections below)", further.join(", ")) }
    );
    let _ = writeln!(out, "Machine: {}", opts.named.get("machine").map(String::as_str).unwrap_or("?"));
    if let Some(notes) = opts.named.get("notes") {
        let _ = writeln!(out, "{notes}");
    }
    let _ = writeln!(out);
    const W: [usize; 20] = [13, 9, 8, 7, 7, 8, 8, 7, 10, 7, 7, 8, 8, 7, 8, 7, 7, 6, 6, 6];
    let line = |cols: [String; 20]| {
        let mut l = String::new();
        for (i, c) in cols.iter().enumerate() {
            match i {
                0 | 1 => {
                    let _ = write!(l, "{c:<w$}", w = W[i]);
                }
                _ => {
                    if i == 2 || i == 11 || i == 17 {
                        l.push_str(if i == 2 { "|" } else { " |" });
                    }
                    let _ = write!(l, "{c:>w$}", w = W[i]);
                }
            }
        }
        l
    };
    let words = |a: [&str; 20]| a.map(str::to_owned);
    let rule = "-".repeat(line(words([""; 20])).len());
    let _ = writeln!(
        out,
        "{}",
        line(words([
            "", "", "ours:", "p50", "p99", "p99.9", "CPU s", "peak", "errors", "allocs", "broker", "Java:", "CPU s",
            "peak", "avg RT", "errors", "broker", "our/", "Java", ""
        ]))
    );
    let _ = writeln!(
        out,
        "{}",
        line(words([
            "phase", "header", "msg/s", "ms", "ms", "ms", "/100k", "RSS MB", "(busy)", "/msg", "CPU s", "msg/s",
            "/100k", "RSS MB", "ms", "", "CPU s", "thr", "CPU", "RSS"
        ]))
    );
    let _ = writeln!(out, "{rule}");
    let mut misses: Vec<String> = Vec::new();
    let f64_of = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
    for (mode, header, conc, r) in &ours {
        let label = phase_label(mode, *conc);
        let j = peer_run(&java, mode, *conc);
        let blank = || "".to_owned();
        let mut jcols: [String; 9] = std::array::from_fn(|_| blank());
        if let Some(j) = j {
            let (thr, cpu, rss) = (r.rate() / j.rate(), r.per_100k(r.cpu) / j.per_100k(j.cpu), r.rss_kb / j.rss_kb);
            if thr < 1.0 {
                misses.push(format!("{label} {header} throughput {thr:.2}x"));
            }
            if cpu > 0.25 {
                misses.push(format!("{label} {header} CPU/msg {cpu:.2}x"));
            }
            let errors = match (j.field(8), j.field(9)) {
                ("-", _) => "-".to_owned(),
                (a, b) => (a.parse::<u64>().unwrap_or(0) + b.parse::<u64>().unwrap_or(0)).to_string(),
            };
            jcols = [
                num(j.rate(), 0, 0),
                num(j.per_100k(j.cpu), 0, 2),
                num(mib(j.rss_kb), 0, 1),
                num(f64_of(j.field(7)), 0, 2),
                errors,
                num(j.per_100k(j.broker_cpu), 0, 1),
                num(thr, 0, 2),
                num(cpu, 0, 2),
                num(rss, 0, 3),
            ];
        } else {
            jcols[0] = "n/a".into();
        }
        let [j0, j1, j2, j3, j4, j5, j6, j7, j8] = jcols;
        let _ = writeln!(
            out,
            "{}",
            line([
                label.clone(),
                header.clone(),
                num(r.rate(), 0, 0),
                num(f64_of(r.field(7)), 0, 2),
                num(f64_of(r.field(8)), 0, 2),
                num(f64_of(r.field(9)), 0, 2),
                num(r.per_100k(r.cpu), 0, 2),
                num(mib(r.rss_kb), 0, 1),
                format!("{}({})", r.field(11), r.field(12)),
                num(f64_of(r.field(14)), 0, 0),
                num(r.per_100k(r.broker_cpu), 0, 1),
                j0,
                j1,
                j2,
                j3,
                j4,
                j5,
                j6,
                j7,
                j8,
            ])
        );
    }
    let _ = writeln!(out, "{rule}");
    for (_, name, peer) in &measured {
        if !peer.is_empty() {
            peer_section(&mut out, name, &ours, peer);
        }
    }
    for (header, kb) in &idle {
        let met = *kb < 20 * 1024;
        let _ = writeln!(
            out,
            "Idle producer RSS ({header}, started, one send done): {:.1} MiB (target < 20 MiB: {})",
            *kb as f64 / 1024.0,
            if met { "met" } else { "MISSED" }
        );
        if !met {
            misses.push(format!("idle RSS {header}"));
        }
    }
    let mut runs: Vec<_> = java.iter().collect();
    runs.sort_by_key(|((mode, conc), _)| (mode_rank(mode), *conc));
    let totals: Vec<String> = runs.iter().map(|((m, c), r)| format!("{m} {c}: {}", r.field(10))).collect();
    let _ =
        writeln!(out, "Java CPU s for the whole process (JVM start-up and warm-up included): {}", totals.join(", "));
    let record_counts: Vec<String> = [("ours", "ours"), ("java", "Java")]
        .into_iter()
        .chain(MEASURED_PEERS)
        .map(|(side, name)| format!("{} of {name}", counts.get(side).copied().unwrap_or(0)))
        .collect();
    let _ = writeln!(
        out,
        "Records: {}; with several rounds each side shows its best run of every phase.",
        record_counts.join(", ")
    );
    let _ = writeln!(
        out,
        "Targets (reported, not asserted): throughput >= Java at equal concurrency; CPU per message <= 1/4 of \
         Java's (CPU ratio <= 0.25) and <= 1/2 of Go's; sync p99 <= Java loop's; idle RSS < 20 MiB."
    );
    if java.is_empty() {
        let _ = writeln!(out, "No Java records: the throughput and CPU targets were not checked.");
    }
    if misses.is_empty() {
        let _ = writeln!(out, "All {}targets met.", if java.is_empty() { "checked " } else { "" });
    } else {
        let _ = writeln!(out, "Missed: {}", misses.join("; "));
    }
    print!("{out}");
    Ok(())
}
