//! The Rust core's side of `node/bench/run.sh`: the same producer and consumer workloads the
//! Node side runs, on the core directly, printing one JSON line like `bench/bench.js` does.
//!
//!   core_bench produce|consume NAMESRV_ADDR TOPIC MESSAGES CONCURRENCY SIZE

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rocketmq_ons::config::keys;
use rocketmq_ons::{Action, ConsumeContext, Consumer, Message, Producer, Properties};

/// The addon's allocator (src/lib.rs), so that the two sides differ only in what the binding adds.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// User plus system CPU seconds of this process so far (all threads), from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the full line, 11 and 12 after the ')'.
    (ticks(11) + ticks(12)) / 100.0
}

fn report(mode: &str, messages: usize, concurrency: usize, secs: f64, cpu: f64) {
    println!(
        "{{\"side\":\"core\",\"mode\":\"{mode}\",\"messages\":{messages},\"concurrency\":{concurrency},\"secs\":{secs:.3},\"rate\":{:.1},\"cpuUsPerMsg\":{:.2}}}",
        messages as f64 / secs,
        cpu * 1e6 / messages as f64
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 6 {
        eprintln!("usage: core_bench produce|consume NAMESRV_ADDR TOPIC MESSAGES CONCURRENCY SIZE");
        std::process::exit(2);
    }
    let (mode, namesrv, topic) = (args[0].as_str(), args[1].as_str(), args[2].clone());
    let messages: usize = args[3].parse().expect("MESSAGES");
    let concurrency: usize = args[4].parse().expect("CONCURRENCY");
    let size: usize = args[5].parse().expect("SIZE");
    let group = format!("GID_core_bench_{}_{}", mode, std::process::id());
    // Untraced, as ali-ons (which traces nothing) and the addon in bench.js.
    let props = Properties::new()
        .with(keys::NAMESRV_ADDR, namesrv)
        .with(keys::GROUP_ID, group)
        .with(keys::MSG_TRACE_SWITCH, "false");
    match mode {
        "produce" => {
            let producer = Arc::new(Producer::new(&props).expect("producer"));
            producer.start().expect("start");
            // Warm up the route and the connection, as the Node side does.
            producer.send(&Message::new(topic.clone(), Some("warm"), vec![b'x'; size])).await.expect("send");
            let next = Arc::new(AtomicUsize::new(0));
            let (t0, c0) = (Instant::now(), cpu_seconds());
            let tasks: Vec<_> = (0..concurrency)
                .map(|_| {
                    let (producer, next, topic) = (producer.clone(), next.clone(), topic.clone());
                    tokio::spawn(async move {
                        while next.fetch_add(1, Ordering::Relaxed) < messages {
                            let msg = Message::new(topic.clone(), Some("bench"), vec![b'x'; size]);
                            producer.send(&msg).await.expect("send");
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.expect("task");
            }
            report(mode, messages, concurrency, t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
            producer.shutdown().await;
        }
        "consume" => {
            let props = props
                .with(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_FIRST_OFFSET")
                .with(keys::CONSUME_THREAD_NUMS, concurrency.to_string());
            let consumer = Consumer::new(&props).expect("consumer");
            let seen = Arc::new(AtomicUsize::new(0));
            // (time, cpu) at the first message and at the last.
            let marks: Arc<Mutex<Vec<(Instant, f64)>>> = Arc::default();
            let (s, m) = (seen.clone(), marks.clone());
            let listener = move |_: &Message, _: &ConsumeContext| {
                let n = s.fetch_add(1, Ordering::AcqRel) + 1;
                if n == 1 || n == messages {
                    m.lock().unwrap().push((Instant::now(), cpu_seconds()));
                }
                Action::CommitMessage
            };
            consumer.subscribe(&topic, "bench", Arc::new(listener)).expect("subscribe");
            consumer.start().expect("start");
            while seen.load(Ordering::Acquire) < messages {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let marks = marks.lock().unwrap().clone();
            let (first, last) = (marks[0], marks[marks.len() - 1]);
            report(mode, messages - 1, concurrency, (last.0 - first.0).as_secs_f64(), last.1 - first.1);
            consumer.shutdown().await;
        }
        other => panic!("unknown mode {other}"),
    }
}
