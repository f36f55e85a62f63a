//! Consumer benchmark (not a test); `tests/bench/consumer.sh` drives it against a real cluster
//! together with the Java push consumer (`Oracle bench-consume` in tests/java-oracle).
//!
//! Subcommands:
//!
//! * `fill --namesrv A --topic T --messages N [--size 1024] [--tasks 4] [--batch 32]`: puts a
//!   backlog of N messages of SIZE bytes into T (batches sent by TASKS concurrent tasks).
//! * `drain --namesrv A --topic T --group G --messages N [--threads 20] [--cache-per-queue 1000]`:
//!   a new group consumes T from its first offset until N messages were delivered, then prints
//!   one JSON line: messages/s, CPU seconds per 100k messages and peak RSS. The clock and the CPU
//!   count run from the first delivery to the N-th, as the Java side measures them, so client
//!   start-up and the group's first rebalance are left out on both sides. `BENCH_MSG_TRACE`
//!   (`true`/`false`), when set, is the consumer's `MsgTraceSwitch`.
//! * `drain-pairs --namesrv A --topic T --messages N [--pairs 10] [--threads 20]
//!   [--cache-per-queue 1000]`: what tracing costs a drain, in one process: `--pairs` pairs of
//!   drains of T (holding N messages) by new groups, one untraced and one traced (which goes
//!   first alternates), each measured as `drain` does, except that a traced drain's window ends
//!   once its trace records (two per message) are sent, so their sending is counted. Prints one
//!   line per pair (CPU us per message, user + system; minor page faults per 1000 messages) and
//!   the medians (see `bench_producer trace-pairs` for why pairs).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ons_tests::bench::{median, minor_faults, runtime, status_kb, user_and_system_cpu_secs, BoxResult, Opts};
use rocketmq_ons::admin::Admin;
use rocketmq_ons::config::keys;
use rocketmq_ons::{Action, Consumer, Message, Producer, Properties};

/// The allocator every library we ship makes its own (`ffi-c`, `py`, `node`): the benchmark
/// measures the core as C, Python and Node programs get it. Messages are decoded on runtime
/// threads and freed on listener threads, which glibc malloc pays for (ffi-c/Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        eprintln!("usage: bench_consumer fill|drain ... (see the source header)");
        std::process::exit(2);
    };
    let opts = Opts::parse(rest);
    let result = match cmd.as_str() {
        "fill" => runtime().block_on(fill(&opts)),
        "drain" => drain(&opts),
        "drain-pairs" => drain_pairs(&opts),
        other => Err(format!("unknown subcommand {other}").into()),
    };
    if let Err(e) = result {
        eprintln!("bench_consumer {cmd}: {e}");
        std::process::exit(1);
    }
}

async fn fill(opts: &Opts) -> BoxResult<()> {
    let namesrv = opts.str("namesrv")?;
    let topic = opts.str("topic")?.to_owned();
    let total: usize = opts.get("messages", 200_000)?;
    let size: usize = opts.get("size", 1024)?;
    let tasks: usize = opts.get("tasks", 4)?;
    let batch: usize = opts.get("batch", 32)?;
    let props = Properties::new().with(keys::NAMESRV_ADDR, namesrv).with(keys::GROUP_ID, "GID_bench_consumer_fill");
    let producer = Arc::new(Producer::new(&props)?);
    producer.start()?;
    let body: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (producer, next, topic, body) = (producer.clone(), next.clone(), topic.clone(), body.clone());
        handles.push(tokio::spawn(async move {
            loop {
                let from = next.fetch_add(batch, Ordering::Relaxed);
                if from >= total {
                    return Ok::<(), rocketmq_ons::Error>(());
                }
                let msgs: Vec<Message> = (from..total.min(from + batch))
                    .map(|_| Message::new(&topic, Some("bench"), body.clone()))
                    .collect();
                // A busy broker (flow control) answers with an error: wait and send the batch again.
                let mut attempts = 0;
                while let Err(e) = producer.send_batch(&msgs).await {
                    attempts += 1;
                    if attempts == 20 {
                        return Err(e);
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }));
    }
    for h in handles {
        h.await??;
    }
    producer.shutdown().await;
    let admin = Admin::new(&props)?;
    // A send is acknowledged once the broker's commit log holds it; its queue's offset moves
    // when the broker has dispatched it there, a little later (longer on a busy machine).
    let settle_by = Instant::now() + Duration::from_secs(30);
    let stored = loop {
        let stored: i64 = admin.max_offsets(&topic).await?.iter().map(|(_, _, o)| *o).sum();
        if stored >= total as i64 || Instant::now() >= settle_by {
            break stored;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!(
        "bench_consumer fill: {total} messages of {size} bytes in {:.1}s; topic {topic} holds {stored}",
        started.elapsed().as_secs_f64()
    );
    if stored < total as i64 {
        return Err(format!("topic {topic} holds {stored} messages, fewer than the {total} sent").into());
    }
    Ok(())
}

/// When the first and the last counted delivery happened, with the process's user and system
/// CPU seconds and minor page faults then.
#[derive(Default)]
struct Window {
    first: Option<(Instant, (f64, f64), u64)>,
    last: Option<(Instant, (f64, f64), u64)>,
}

/// Now, for a [`Window`].
fn window_mark() -> (Instant, (f64, f64), u64) {
    (Instant::now(), user_and_system_cpu_secs(), minor_faults())
}

/// What one drain measures: seconds and user and system CPU seconds from the first delivery to
/// the last (or, `until_traced`, to when its trace records were sent), and peak RSS.
struct Drained {
    secs: f64,
    user: f64,
    system: f64,
    /// Minor page faults (`minor_faults`).
    faults: u64,
    peak_rss_kib: u64,
}

/// How to drain: of `topic`, `total` messages, by a new group.
struct DrainLoad<'a> {
    namesrv: &'a str,
    topic: &'a str,
    total: usize,
    threads: usize,
    per_queue: usize,
    max_time: Duration,
}

impl<'a> DrainLoad<'a> {
    /// The load `opts` name; `total` when they do not say how many messages.
    fn of(opts: &'a Opts, total: usize) -> BoxResult<Self> {
        Ok(DrainLoad {
            namesrv: opts.str("namesrv")?,
            topic: opts.str("topic")?,
            total: opts.get("messages", total)?,
            threads: opts.get("threads", 20)?,
            per_queue: opts.get("cache-per-queue", 1000)?,
            max_time: Duration::from_secs(opts.get("max-secs", 600)?),
        })
    }
}

fn drain(opts: &Opts) -> BoxResult<()> {
    let load = DrainLoad::of(opts, 200_000)?;
    // `BENCH_MSG_TRACE` (`true`/`false`), when set, is the consumer's `MsgTraceSwitch`
    // (tests/bench/trace-cost.sh drains with traces on and off; the client's default is on).
    let trace = std::env::var("BENCH_MSG_TRACE").ok().filter(|v| !v.is_empty());
    let rt = runtime();
    let (queues, d) = drain_once(&rt, &load, opts.str("group")?, trace.as_deref(), false)?;
    // The first delivery opens the window, so total - 1 messages are inside it.
    let counted = (load.total - 1) as f64;
    println!(
        "{}",
        serde_json::json!({
            "side": "ours",
            "messages": load.total,
            "queues": queues,
            "threads": load.threads,
            "secs": d.secs,
            "rate": counted / d.secs,
            "cpuSecsPer100k": (d.user + d.system) / counted * 100_000.0,
            "peakRssKiB": d.peak_rss_kib,
        })
    );
    Ok(())
}

fn drain_pairs(opts: &Opts) -> BoxResult<()> {
    let load = DrainLoad::of(opts, 100_000)?;
    let pairs: usize = opts.get("pairs", 10)?;
    let rt = runtime();
    let run = std::process::id();
    println!(
        "phase\tpair\tuntraced_us\ttraced_us\tcost_pct\tuntraced_user+system_us\ttraced_user+system_us\tpage_faults_per_1000_untraced/traced"
    );
    let counted = (load.total - 1) as f64;
    let mut sides: [Vec<(f64, f64)>; 2] = [Vec::new(), Vec::new()];
    let mut faults: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut costs = Vec::new();
    for pair in 0..pairs {
        let order = if pair % 2 == 0 { [0, 1] } else { [1, 0] };
        let mut split = [(0.0, 0.0); 2];
        let mut faulted = [0.0; 2];
        for i in order {
            let traced = i == 1;
            let group = format!("GID_drain_pairs_{run}_{pair}_{traced}");
            let (_, d) = drain_once(&rt, &load, &group, Some(if traced { "true" } else { "false" }), traced)?;
            split[i] = (d.user / counted * 1e6, d.system / counted * 1e6);
            sides[i].push(split[i]);
            faulted[i] = d.faults as f64 / counted * 1000.0;
            faults[i].push(faulted[i]);
        }
        let [untraced, traced] = split.map(|(user, system)| user + system);
        let cost = (traced / untraced - 1.0) * 100.0;
        costs.push(cost);
        println!(
            "drain\t{pair}\t{untraced:.3}\t{traced:.3}\t{cost:.1}\t{:.2}+{:.2}\t{:.2}+{:.2}\t{:.1}/{:.1}",
            split[0].0, split[0].1, split[1].0, split[1].1, faulted[0], faulted[1]
        );
    }
    let medians = |side: &[(f64, f64)]| {
        (
            median(side.iter().map(|s| s.0).collect()),
            median(side.iter().map(|s| s.1).collect()),
            median(side.iter().map(|s| s.0 + s.1).collect()),
        )
    };
    let ((user0, system0, total0), (user1, system1, total1)) = (medians(&sides[0]), medians(&sides[1]));
    println!(
        "drain\tmedians\tuser {user0:.3} -> {user1:.3} us ({:+.3}), system {system0:.3} -> {system1:.3} us ({:+.3}), page faults {:.1} -> {:.1} per 1000",
        user1 - user0,
        system1 - system0,
        median(faults[0].clone()),
        median(faults[1].clone())
    );
    let (lowest, highest) = costs.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &c| (lo.min(c), hi.max(c)));
    println!(
        "drain\tmedian\t{total0:.3}\t{total1:.3}\t{:.1}\t(median of the pairs' costs; they range {lowest:.1}..{highest:.1}%; cost of the medians {:.1}%)",
        median(costs),
        (total1 / total0 - 1.0) * 100.0
    );
    Ok(())
}

/// One drain of `load` by `group` with `MsgTraceSwitch` = `trace` (the default when `None`):
/// the topic's queue count, and what was measured. `until_traced`: the window ends once the
/// consumer's tracer has sent (or dropped) two records per message, or 10 s after the last
/// delivery.
fn drain_once(
    rt: &tokio::runtime::Runtime,
    load: &DrainLoad<'_>,
    group: &str,
    trace: Option<&str>,
    until_traced: bool,
) -> BoxResult<(usize, Drained)> {
    let total = load.total;
    let admin_props = Properties::new().with(keys::NAMESRV_ADDR, load.namesrv).with(keys::GROUP_ID, group);
    // The consumer's tasks live on this runtime; its listeners run on the consumer's own threads.
    let _in_runtime = rt.enter();
    let queues = rt.block_on(async { Admin::new(&admin_props)?.max_offsets(load.topic).await })?.len();
    // Java bounds each queue (pullThresholdForQueue); ours bounds the whole consumer and splits
    // the bound over its queues, so the same per-queue bound is queues x per_queue in total.
    let props = admin_props
        .clone()
        .with(keys::CONSUME_THREAD_NUMS, load.threads.to_string())
        .with(keys::MAX_CACHED_MESSAGE_AMOUNT, (load.per_queue * queues.max(1)).clamp(100, 50_000).to_string())
        .with(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_FIRST_OFFSET");
    let props = match trace {
        Some(v) => props.with(keys::MSG_TRACE_SWITCH, v),
        None => props,
    };

    let seen = Arc::new(AtomicUsize::new(0));
    let window = Arc::new(Mutex::new(Window::default()));
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let done_tx = Mutex::new(Some(done_tx));
    let consumer = Consumer::new(&props)?;
    {
        let (seen, window) = (seen.clone(), window.clone());
        consumer.subscribe(
            load.topic,
            "*",
            Arc::new(move |m: &Message, _: &_| {
                std::hint::black_box(m.body.len());
                let n = seen.fetch_add(1, Ordering::Relaxed) + 1;
                if n == 1 {
                    window.lock().unwrap().first = Some(window_mark());
                } else if n == total {
                    window.lock().unwrap().last = Some(window_mark());
                    if let Some(tx) = done_tx.lock().unwrap().take() {
                        let _ = tx.send(());
                    }
                }
                Action::CommitMessage
            }),
        )?;
    }
    consumer.start()?;
    let finished = done_rx.recv_timeout(load.max_time).is_ok();
    if finished && until_traced {
        let give_up = Instant::now() + Duration::from_secs(10);
        while let Some(t) = consumer.trace_counts() {
            if t.sent + t.dropped >= 2 * total as u64 || Instant::now() >= give_up {
                window.lock().unwrap().last = Some(window_mark());
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let peak_rss_kib = status_kb("self", "VmHWM").unwrap_or(0);
    rt.block_on(consumer.shutdown());
    if let Some(t) = consumer.trace_counts() {
        // On stderr: the result on stdout keeps its fields.
        eprintln!("trace records of drain: sent {}, dropped {}", t.sent, t.dropped);
    }
    if !finished {
        return Err(format!(
            "only {} of {total} messages arrived within {:?}",
            seen.load(Ordering::Relaxed),
            load.max_time
        )
        .into());
    }
    let w = window.lock().unwrap();
    let ((t0, (user0, system0), faults0), (t1, (user1, system1), faults1)) = (w.first.unwrap(), w.last.unwrap());
    Ok((
        queues,
        Drained {
            secs: (t1 - t0).as_secs_f64(),
            user: user1 - user0,
            system: system1 - system0,
            faults: faults1 - faults0,
            peak_rss_kib,
        },
    ))
}
