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

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ons_tests::bench::{cpu_secs, runtime, status_kb, BoxResult, Opts};
use rocketmq_ons::admin::Admin;
use rocketmq_ons::config::keys;
use rocketmq_ons::{Action, Consumer, Message, Producer, Properties};

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
    let stored: i64 = admin.max_offsets(&topic).await?.iter().map(|(_, _, o)| *o).sum();
    eprintln!(
        "bench_consumer fill: {total} messages of {size} bytes in {:.1}s; topic {topic} holds {stored}",
        started.elapsed().as_secs_f64()
    );
    if stored < total as i64 {
        return Err(format!("topic {topic} holds {stored} messages, fewer than the {total} sent").into());
    }
    Ok(())
}

/// When the first and the last counted delivery happened, with the process's CPU seconds then.
#[derive(Default)]
struct Window {
    first: Option<(Instant, f64)>,
    last: Option<(Instant, f64)>,
}

fn drain(opts: &Opts) -> BoxResult<()> {
    let namesrv = opts.str("namesrv")?;
    let topic = opts.str("topic")?;
    let group = opts.str("group")?;
    let total: usize = opts.get("messages", 200_000)?;
    let threads: usize = opts.get("threads", 20)?;
    let per_queue: usize = opts.get("cache-per-queue", 1000)?;
    let admin_props = Properties::new().with(keys::NAMESRV_ADDR, namesrv).with(keys::GROUP_ID, group);
    let rt = runtime();
    // The consumer's tasks live on this runtime; its listeners run on the consumer's own threads.
    let _in_runtime = rt.enter();
    let queues = rt.block_on(async { Admin::new(&admin_props)?.max_offsets(topic).await })?.len();
    // Java bounds each queue (pullThresholdForQueue); ours bounds the whole consumer and splits
    // the bound over its queues, so the same per-queue bound is queues x per_queue in total.
    let props = admin_props
        .clone()
        .with(keys::CONSUME_THREAD_NUMS, threads.to_string())
        .with(keys::MAX_CACHED_MESSAGE_AMOUNT, (per_queue * queues.max(1)).clamp(100, 50_000).to_string())
        .with(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_FIRST_OFFSET");
    // `BENCH_MSG_TRACE` (`true`/`false`), when set, is the consumer's `MsgTraceSwitch`
    // (tests/bench/trace-cost.sh drains with traces on and off; the client's default is on).
    let props = match std::env::var("BENCH_MSG_TRACE") {
        Ok(v) if !v.is_empty() => props.with(keys::MSG_TRACE_SWITCH, v),
        _ => props,
    };

    let seen = Arc::new(AtomicUsize::new(0));
    let window = Arc::new(Mutex::new(Window::default()));
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let done_tx = Mutex::new(Some(done_tx));
    let consumer = Consumer::new(&props)?;
    {
        let (seen, window) = (seen.clone(), window.clone());
        consumer.subscribe(
            topic,
            "*",
            Arc::new(move |m: &Message, _: &_| {
                std::hint::black_box(m.body.len());
                let n = seen.fetch_add(1, Ordering::Relaxed) + 1;
                if n == 1 {
                    window.lock().unwrap().first = Some((Instant::now(), cpu_secs()));
                } else if n == total {
                    window.lock().unwrap().last = Some((Instant::now(), cpu_secs()));
                    if let Some(tx) = done_tx.lock().unwrap().take() {
                        let _ = tx.send(());
                    }
                }
                Action::CommitMessage
            }),
        )?;
    }
    consumer.start()?;
    let deadline = Duration::from_secs(opts.get("max-secs", 600)?);
    let finished = done_rx.recv_timeout(deadline).is_ok();
    let peak_rss_kib = status_kb("self", "VmHWM").unwrap_or(0);
    rt.block_on(consumer.shutdown());
    if let Some(t) = consumer.trace_counts() {
        // On stderr: the result on stdout keeps its fields.
        eprintln!("trace records of drain: sent {}, dropped {}", t.sent, t.dropped);
    }
    if !finished {
        return Err(
            format!("only {} of {total} messages arrived within {deadline:?}", seen.load(Ordering::Relaxed)).into()
        );
    }
    let w = window.lock().unwrap();
    let ((t0, c0), (t1, c1)) = (w.first.unwrap(), w.last.unwrap());
    let secs = (t1 - t0).as_secs_f64();
    // The first delivery opens the window, so total - 1 messages are inside it.
    let counted = (total - 1) as f64;
    println!(
        "{}",
        serde_json::json!({
            "side": "ours",
            "messages": total,
            "queues": queues,
            "threads": threads,
            "secs": secs,
            "rate": counted / secs,
            "cpuSecsPer100k": (c1 - c0) / counted * 100_000.0,
            "peakRssKiB": peak_rss_kib,
        })
    );
    Ok(())
}
