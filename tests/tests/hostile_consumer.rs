//! A consumer against a fake broker that answers every pull with far more than was asked for:
//! 150 messages where 32 were asked, each body inflating from about 64 KiB on the wire to
//! 64 MiB. The consumer must keep near its configured cache (MaxCachedMessageSizeInMiB) however
//! long this goes on. Peak memory is the process's own high-water mark (VmHWM), so this file
//! holds this one test: nothing else runs in its process.
//!
//! No real broker sends this; `ons_tests::fake_server` exists for such answers.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ons_tests::fake_server::{fake_namesrv, route_json, FakeServer, LoneConsumer, Reply};
use rocketmq_ons::config::keys;
use rocketmq_ons::protocol::codes::{request, response};
use rocketmq_ons::protocol::command::RemotingCommand;
use rocketmq_ons::protocol::message::{
    encode_stored_message, sys_flag, MessageVersion, StoredMessage, StoredProperties,
};
use rocketmq_ons::{Action, ConsumeContext, Consumer, Message};

const MIB: u64 = 1 << 20;
/// The consumer's configured cache.
const CACHE_MIB: u64 = 128;
/// Messages in every pull reply (32 are asked for).
const PER_REPLY: i64 = 150;
const QUEUES: i32 = 4;

/// The process's peak resident memory so far.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status");
    kb * 1024
}

/// One stored entry whose zlib body inflates to 64 MiB of zeros.
fn inflating_entry() -> Vec<u8> {
    let host = "127.0.0.1:10911".parse().unwrap();
    let m = StoredMessage {
        store_size: 0,
        queue_id: 0,
        flag: 0,
        queue_offset: 0,
        commit_log_offset: 0,
        sys_flag: sys_flag::COMPRESSED,
        born_timestamp: 1,
        born_host: host,
        store_timestamp: 2,
        store_host: host,
        reconsume_times: 0,
        prepared_transaction_offset: 0,
        body_crc: 0,
        body: Bytes::from(vec![0u8; 64 * MIB as usize]),
        topic: "HOSTILE".into(),
        properties: StoredProperties::default(),
        offset_msg_id: String::new(),
    };
    encode_stored_message(&m, MessageVersion::V1).unwrap()
}

#[test]
fn a_consumer_keeps_near_its_cache_limit_whatever_the_broker_sends() {
    let entry = Arc::new(inflating_entry());
    assert!(entry.len() < 128 * 1024, "{} bytes on the wire", entry.len());
    let member = LoneConsumer::default();
    let pulls = Arc::new(AtomicUsize::new(0));
    let broker = {
        let (entry, member, pulls) = (entry.clone(), member.clone(), pulls.clone());
        FakeServer::start(move |req| {
            if let Some(reply) = member.answer(req) {
                return reply;
            }
            let ok = || RemotingCommand::response(response::SUCCESS, 0, None);
            match req.code {
                request::PULL_MESSAGE => {
                    pulls.fetch_add(1, Ordering::Relaxed);
                    let from: i64 = req.ext("queueOffset").and_then(|v| v.parse().ok()).unwrap_or(0);
                    let mut body = Vec::with_capacity(entry.len() * PER_REPLY as usize);
                    for offset in from..from + PER_REPLY {
                        let start = body.len();
                        body.extend_from_slice(&entry);
                        body[start + 20..start + 28].copy_from_slice(&offset.to_be_bytes());
                        // QUEUEOFFSET
                    }
                    Reply::Answer(
                        ok().with_ext("nextBeginOffset", from + PER_REPLY)
                            .with_ext("minOffset", 0)
                            .with_ext("maxOffset", i64::MAX / 2)
                            .with_ext("suggestWhichBrokerId", 0)
                            .with_body(body),
                    )
                }
                _ => Reply::Answer(ok()),
            }
        })
    };
    let namesrv = fake_namesrv(route_json(&[("broker-hostile", broker.addr())], QUEUES));

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let release = Arc::new(AtomicBool::new(false));
    let delivered = Arc::new(AtomicUsize::new(0));
    let consumer = Consumer::new(
        &rocketmq_ons::Properties::new()
            .with(keys::NAMESRV_ADDR, namesrv.addr())
            .with(keys::GROUP_ID, "GID_hostile")
            .with(keys::MAX_CACHED_MESSAGE_SIZE_IN_MIB, CACHE_MIB.to_string())
            .with(keys::CONSUME_THREAD_NUMS, "4"),
    )
    .unwrap();
    let (hold, count) = (release.clone(), delivered.clone());
    consumer
        .subscribe(
            "HOSTILE",
            "*",
            Arc::new(move |m: &Message, _: &ConsumeContext| {
                assert_eq!(m.body.len(), 64 * MIB as usize);
                count.fetch_add(1, Ordering::Relaxed);
                // Listeners hold their messages: the cache can only fill.
                while !hold.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Action::CommitMessage
            }),
        )
        .unwrap();
    let before = peak_rss();
    runtime.block_on(async { consumer.start() }).unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let peak = peak_rss();
    let (pulled, got) = (pulls.load(Ordering::Relaxed), delivered.load(Ordering::Relaxed));
    release.store(true, Ordering::Relaxed);
    runtime.block_on(consumer.shutdown());
    eprintln!(
        "hostile broker: {pulled} pulls answered with {PER_REPLY} × 64 MiB-inflating messages; {got} delivered; \
         peak RSS {} MiB (was {} MiB before the consumer started; cache {CACHE_MIB} MiB)",
        peak / MIB,
        before / MIB
    );
    assert!(got >= 1, "nothing was delivered");
    assert!(pulled >= 2, "the broker was pulled from only {pulled} times");
    // The cache, one message of the whole cache's room beyond a queue's share, a reply frame
    // (about 10 MB) per queue of the topic and its retry topic, decompression buffers that
    // grow by doubling, and the process itself.
    let bound = before + 2 * CACHE_MIB * MIB + 2 * QUEUES as u64 * 10 * MIB + 64 * MIB;
    assert!(peak <= bound, "peak RSS {} MiB over the bound {} MiB", peak / MIB, bound / MIB);
}
