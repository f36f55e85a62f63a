//! Memory taken by decoding hostile answers, measured by a counting global allocator (this test
//! binary's own: each file under `tests/` is a separate binary, so nothing else is counted):
//!
//! * a route answer whose queue entries would expand to millions of queues, or whose entries
//!   name no broker: refused or trimmed while peak memory stays within a small multiple of the
//!   answer's size;
//! * a pull reply carrying far more messages than were asked for, or bodies that inflate to
//!   64 MiB each: only what the [`DecodeLimits`] allow is decoded, and peak memory follows the
//!   limits, not the reply.
//!
//! The tests share the allocator's counters, so they take turns (one lock).

use parking_lot::Mutex;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use rocketmq_ons::protocol::message::{
    decode_stored_messages_within, encode_stored_message, sys_flag, DecodeLimits, MessageVersion, StoredMessage,
    StoredProperties,
};
use rocketmq_ons::protocol::route::TopicRouteData;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

static TURN: Mutex<()> = Mutex::new(());

/// Runs `f` and returns its result with the peak of memory allocated meanwhile, above what was
/// allocated when it started.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let out = f();
    (out, PEAK.load(Ordering::SeqCst).saturating_sub(base))
}

const MIB: usize = 1 << 20;

fn route(brokers: usize, entries: usize, queues: i32) -> String {
    let broker_datas: Vec<String> = (0..brokers)
        .map(|i| format!(r#"{{"brokerName":"b{i}","brokerAddrs":{{"0":"127.0.0.1:{}"}}}}"#, 20000 + i))
        .collect();
    let queue_datas: Vec<String> = (0..entries)
        .map(|i| {
            let name = if brokers == 0 { format!("gone{i}") } else { format!("b{}", i % brokers) };
            format!(r#"{{"brokerName":"{name}","perm":6,"readQueueNums":{queues},"writeQueueNums":{queues}}}"#)
        })
        .collect();
    format!(r#"{{"brokerDatas":[{}],"queueDatas":[{}]}}"#, broker_datas.join(","), queue_datas.join(","))
}

#[test]
fn hostile_routes_stay_within_a_small_multiple_of_their_size() {
    let _turn = TURN.lock();
    // 300 brokers × 65,536 queues (issue: 1.9 GB allocation, SIGABRT).
    let body = route(300, 300, 65_536);
    let (parsed, peak) = peak_during(|| TopicRouteData::parse(body.as_bytes()).map(|r| r.publish_queues("T").len()));
    assert!(parsed.is_err(), "{parsed:?}");
    eprintln!("300 × 65,536 queues: {} bytes of JSON, peak {peak} bytes", body.len());
    assert!(peak <= 40 * body.len(), "peak {peak} bytes for a {}-byte route", body.len());

    // 100 queue entries naming no broker (issue: consumer at 2.86 GB).
    let body = route(0, 100, 65_536);
    let (queues, peak) = peak_during(|| {
        let r = TopicRouteData::parse(body.as_bytes()).unwrap();
        (r.publish_queues("T").len(), r.subscribe_queues("T").len())
    });
    assert_eq!(queues, (0, 0));
    eprintln!("100 broker-less entries: {} bytes of JSON, peak {peak} bytes", body.len());
    assert!(peak <= 40 * body.len(), "peak {peak} bytes for a {}-byte route", body.len());
}

fn stored(offset: i64, body: Vec<u8>, compressed: bool) -> Vec<u8> {
    let host = "127.0.0.1:10911".parse().unwrap();
    let m = StoredMessage {
        store_size: 0,
        queue_id: 0,
        flag: 0,
        queue_offset: offset,
        commit_log_offset: 1000 + offset,
        sys_flag: if compressed { sys_flag::COMPRESSED } else { 0 },
        born_timestamp: 1,
        born_host: host,
        store_timestamp: 2,
        store_host: host,
        reconsume_times: 0,
        prepared_transaction_offset: 0,
        body_crc: 0,
        body: Bytes::from(body),
        topic: "T".into(),
        properties: StoredProperties::default(),
        offset_msg_id: String::new(),
    };
    encode_stored_message(&m, MessageVersion::V1).unwrap()
}

#[test]
fn hostile_pull_replies_are_decoded_only_as_far_as_the_limits() {
    let _turn = TURN.lock();
    // 100,000 messages where 32 were asked for.
    let reply: Vec<u8> = (0..100_000).flat_map(|o| stored(o, vec![b'x'; 100], false)).collect();
    let limits = DecodeLimits { messages: 32, body_bytes: 32 * MIB, first_body_bytes: 32 * MIB };
    let (decoded, peak) = peak_during(|| decode_stored_messages_within(&reply, limits));
    assert_eq!(decoded.messages.len(), 32);
    assert!(decoded.stopped_at_limit.is_some() && decoded.failures.is_empty());
    eprintln!("100,000 messages ({} bytes) with 32 asked: peak {peak} bytes", reply.len());
    assert!(peak < MIB, "peak {peak} bytes to take 32 small messages");
    drop(decoded);

    // Bodies that inflate to 64 MiB each (a few KiB on the wire each), against a queue share of
    // 32 MiB: the first body does not fit the share, nor anything after it.
    let one = stored(0, vec![0; 64 * MIB], true);
    let reply: Vec<u8> = (0..16i64)
        .flat_map(|o| {
            let mut entry = one.clone();
            entry[20..28].copy_from_slice(&o.to_be_bytes()); // QUEUEOFFSET
            entry
        })
        .collect();
    assert!(reply.len() < 2 * MIB, "{}", reply.len());
    let limits = DecodeLimits { messages: 32, body_bytes: 32 * MIB, first_body_bytes: 32 * MIB };
    let (decoded, peak) = peak_during(|| decode_stored_messages_within(&reply, limits));
    assert!(decoded.messages.is_empty() && decoded.failures.is_empty());
    assert_eq!(decoded.stopped_at_limit, Some(0));
    eprintln!("16 bodies inflating to 64 MiB, 32 MiB share: peak {} MiB", peak / MIB);
    // Decompression stops one byte past the room it was given (plus the output buffer's growth).
    assert!(peak <= 2 * 32 * MIB + MIB, "peak {peak} bytes");
    drop(decoded);

    // With the whole cache's room for the first (nothing else cached): exactly one is taken.
    let limits = DecodeLimits { messages: 32, body_bytes: 32 * MIB, first_body_bytes: 64 * MIB };
    let (decoded, peak) = peak_during(|| decode_stored_messages_within(&reply, limits));
    assert_eq!(decoded.messages.len(), 1);
    assert_eq!(decoded.messages[0].body.len(), 64 * MIB);
    eprintln!("the same with room for one: peak {} MiB", peak / MIB);
    assert!(peak <= 2 * 64 * MIB + MIB, "peak {peak} bytes");
}

mod fuzz {
    //! Property tests over arbitrary and mutated answers (cargo-fuzz needs a nightly compiler,
    //! which this project's toolchain is not): nothing panics, and peak memory follows the
    //! input's size (routes) or the limits (pull replies).

    use super::*;
    use proptest::prelude::*;

    fn valid_route() -> Vec<u8> {
        route(3, 6, 8).into_bytes()
    }

    fn valid_reply() -> Vec<u8> {
        let mut reply = Vec::new();
        for o in 0..4 {
            reply.extend(stored(o, vec![b'a' + o as u8; 300], o % 2 == 1));
        }
        reply
    }

    /// `base` with `edits` applied: (position, byte) overwrites, then a cut at `cut`.
    fn mutate(mut base: Vec<u8>, edits: &[(usize, u8)], cut: usize) -> Vec<u8> {
        for (pos, byte) in edits {
            if !base.is_empty() {
                let i = pos % base.len();
                base[i] = *byte;
            }
        }
        base.truncate(cut.max(1));
        base
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn routes_never_panic_and_stay_small(
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
            cut in 0usize..4096,
            random in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let _turn = TURN.lock();
            for body in [mutate(valid_route(), &edits, cut), random] {
                let (_, peak) = peak_during(|| {
                    TopicRouteData::parse(&body).map(|r| (r.publish_queues("T").len(), r.subscribe_queues("T").len()))
                });
                // The JSON tree, and a route's queue lists (capped at 65,536 queues in all).
                prop_assert!(peak <= 64 * body.len() + 16 * MIB, "peak {} for {} bytes", peak, body.len());
            }
        }

        #[test]
        fn pull_replies_never_panic_and_stay_within_the_limits(
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
            cut in 0usize..2048,
            messages in 1usize..40,
            body_bytes in 0usize..4096,
        ) {
            let _turn = TURN.lock();
            let body = mutate(valid_reply(), &edits, cut);
            let limits = DecodeLimits { messages, body_bytes, first_body_bytes: body_bytes };
            let (decoded, peak) = peak_during(|| decode_stored_messages_within(&body, limits));
            prop_assert!(decoded.messages.len() <= messages.max(1));
            // Bodies are bounded by the limits (twice, for the growth of a decompression
            // buffer), the rest by what the reply itself holds, plus a decompressor's state:
            // about 75 KiB for zlib, and for Zstandard up to the 8 MiB window a frame may ask for.
            let decoder_state = 9 * MIB;
            prop_assert!(
                peak <= 2 * body_bytes + 8 * body.len() + decoder_state,
                "peak {} for {} bytes", peak, body.len()
            );
        }
    }
}
