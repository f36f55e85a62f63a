use super::*;
use proptest::prelude::*;

fn sample(topic: &str) -> StoredMessage {
    let mut properties = MessageProperties::new();
    properties.insert("TAGS".into(), "TagA".into());
    properties.insert("UNIQ_KEY".into(), "7F0000010F5A18B4AAC2636DA2E90000".into());
    properties.insert("WAIT".into(), "true".into());
    StoredMessage {
        store_size: 0,
        queue_id: 3,
        flag: 7,
        queue_offset: 42,
        commit_log_offset: 0x1234,
        sys_flag: 0,
        born_timestamp: 1_700_000_000_000,
        born_host: "10.0.0.5:53211".parse().unwrap(),
        store_timestamp: 1_700_000_000_123,
        store_host: "127.0.0.1:10911".parse().unwrap(),
        reconsume_times: 1,
        prepared_transaction_offset: 0,
        body_crc: body_crc(b"hello"),
        body: Bytes::from_static(b"hello"),
        topic: topic.into(),
        properties: properties.iter().collect(),
        offset_msg_id: String::new(),
    }
}

/// What decoding an encoded message yields: size and id filled, compressed flag cleared.
fn expected_after_round_trip(msg: &StoredMessage, encoded_len: usize) -> StoredMessage {
    let mut m = msg.clone();
    m.store_size = encoded_len as i32;
    m.sys_flag &= !(sys_flag::BORNHOST_V6 | sys_flag::STOREHOST_V6);
    if m.born_host.is_ipv6() {
        m.sys_flag |= sys_flag::BORNHOST_V6;
    }
    if m.store_host.is_ipv6() {
        m.sys_flag |= sys_flag::STOREHOST_V6;
    }
    if !m.body.is_empty() {
        m.sys_flag = sys_flag::clear_compressed(m.sys_flag);
    }
    m.properties = m.properties.iter().filter(|(_, v)| !v.is_empty()).collect();
    m.offset_msg_id = encode_offset_msg_id(m.store_host, m.commit_log_offset);
    m
}

#[test]
fn parse_properties_rules() {
    let p = parse_properties(b"TAGS\x01TagA\x02KEYS\x01k1 k2\x02");
    assert_eq!(p.get("TAGS"), Some("TagA"));
    assert_eq!(p.get("KEYS"), Some("k1 k2"));
    assert_eq!(p.len(), 2);
    // Last entry without the trailing separator is kept.
    assert_eq!(parse_properties(b"a\x01b").get("a"), Some("b"));
    // Empty value, empty name, no separator: dropped.
    assert!(parse_properties(b"a\x01\x02\x01b\x02ab\x02\x02\x02").is_empty());
    // Duplicate: last wins. A value may contain 0x01.
    let p = parse_properties(b"k\x01v1\x02k\x01v\x012\x02");
    assert_eq!(p.get("k"), Some("v\u{1}2"));
    // Invalid UTF-8 is replaced, not an error.
    let p = parse_properties(b"k\x01\xff\x02");
    assert_eq!(p.get("k"), Some("\u{FFFD}"));
    assert!(parse_properties(b"").is_empty());
}

#[test]
fn encode_properties_rules() {
    let s = encode_properties([("TAGS", "TagA"), ("EMPTY", ""), ("WAIT", "true")]).unwrap();
    assert_eq!(s, "TAGS\u{1}TagA\u{2}WAIT\u{1}true\u{2}");
    assert!(encode_properties([("", "v")]).is_err());
    assert!(encode_properties([("k", "a\u{2}b")]).is_err());
    assert!(encode_properties([("k\u{1}", "v")]).is_err());
    assert_eq!(encode_properties(Vec::<(String, String)>::new()).unwrap(), "");
}

#[test]
fn reserved_set_matches_java() {
    for k in ["TAGS", "KEYS", "UNIQ_KEY", "WAIT", "DELAY", "TRAN_MSG", "PGROUP", "__CRC32#", "TIMER_DELIVER_MS"] {
        assert!(is_reserved_property(k), "{k}");
    }
    for k in ["CHECK_IMMUNITY_TIME_IN_SECONDS", "__SHARDINGKEY", "__STARTDELIVERTIME", "__transactionId__", "myKey"]
    {
        assert!(!is_reserved_property(k), "{k}");
    }
    let unique: std::collections::BTreeSet<_> = RESERVED_PROPERTIES.iter().collect();
    assert_eq!(unique.len(), RESERVED_PROPERTIES.len());
}

#[test]
fn sys_flags() {
    assert_eq!(CompressionType::from_sys_flag(0x1).unwrap(), CompressionType::Zlib);
    assert_eq!(CompressionType::from_sys_flag(0x301).unwrap(), CompressionType::Zlib);
    assert_eq!(CompressionType::from_sys_flag(0x101).unwrap(), CompressionType::Lz4);
    assert_eq!(CompressionType::from_sys_flag(0x201).unwrap(), CompressionType::Zstd);
    assert!(CompressionType::from_sys_flag(0x401).is_err());
    assert_eq!(sys_flag::transaction_value(0x7), sys_flag::TRANSACTION_PREPARED_TYPE);
    assert_eq!(sys_flag::reset_transaction_value(0x5, sys_flag::TRANSACTION_COMMIT_TYPE), 0x9);
    assert!(sys_flag::is_inner_batch_to_unwrap(0xC0));
    assert!(!sys_flag::is_inner_batch_to_unwrap(0x80));
    assert_eq!(pull_sys_flag::build(true, true, true, false), 0x7);
    assert_eq!(pull_sys_flag::clear_commit_offset(0x7), 0x6);
}

#[test]
fn compression_round_trip_and_limits() {
    let body = vec![b'x'; 100_000];
    let z = compress_body(&body, DEFAULT_COMPRESS_LEVEL);
    assert_eq!(&z[..1], &[0x78], "RFC 1950 header");
    assert!(z.len() < 1000);
    assert_eq!(decompress_body(&z).unwrap(), body);
    assert_eq!(decompress_body_with_limit(&z, 100_000).unwrap().len(), 100_000);
    assert!(decompress_body_with_limit(&z, 99_999).is_err());
    assert!(decompress_body(&z[..z.len() / 2]).is_err(), "truncated stream");
    assert!(decompress_body(b"not zlib").is_err());
    assert!(decompress_body(&[]).is_err());
}

#[test]
fn zip_bomb_is_capped() {
    // 80 MiB of zeros compresses to ~80 KiB; the decoder must refuse, not allocate it.
    let z = compress_body(&vec![0u8; 80 * 1024 * 1024], 9);
    let err = decompress_body(&z).unwrap_err();
    assert!(err.message().contains("limit"), "{err}");
    // The same bomb as a stored body: the decoder reports it instead of expanding it.
    let mut m = sample("T");
    m.sys_flag = sys_flag::COMPRESSED;
    let bytes = encode_stored_entry(&m, MessageVersion::V1, &z).unwrap();
    let err = decode_stored_messages(&bytes).unwrap_err();
    assert!(err.message().contains("limit"), "{err}");
}

#[test]
fn decodes_v1_and_v2_and_ipv6() {
    let m = sample("TopicTest");
    let v1 = encode_stored_message(&m, MessageVersion::V1).unwrap();
    assert_eq!(&v1[4..8], &MAGIC_CODE_V1.to_be_bytes());
    let decoded = decode_stored_messages(&v1).unwrap();
    assert_eq!(decoded, vec![expected_after_round_trip(&m, v1.len())]);
    assert_eq!(decoded[0].offset_msg_id, "7F00000100002A9F0000000000001234");
    assert_eq!(decoded[0].msg_id(), "7F0000010F5A18B4AAC2636DA2E90000");
    assert_eq!(decoded[0].tags(), Some("TagA"));

    let long_topic = "T".repeat(200);
    let mut m2 = sample(&long_topic);
    m2.born_host = "[2001:db8::5]:40000".parse().unwrap();
    m2.store_host = "[2001:db8::1]:10911".parse().unwrap();
    assert!(encode_stored_message(&m2, MessageVersion::V1).is_err());
    let v2 = encode_stored_message(&m2, MessageVersion::V2).unwrap();
    let decoded = decode_stored_messages(&v2).unwrap();
    assert_eq!(decoded, vec![expected_after_round_trip(&m2, v2.len())]);
    assert_eq!(decoded[0].sys_flag, sys_flag::BORNHOST_V6 | sys_flag::STOREHOST_V6);
    assert_eq!(decoded[0].offset_msg_id.len(), 56);

    // Several entries back to back.
    let mut both = v1.clone();
    both.extend_from_slice(&v2);
    assert_eq!(decode_stored_messages(&both).unwrap().len(), 2);
    assert!(decode_stored_messages(&[]).unwrap().is_empty());
}

#[test]
fn ipv4_mapped_store_host_becomes_ipv4() {
    let mut m = sample("T");
    m.store_host = "[::ffff:127.0.0.1]:10911".parse().unwrap();
    let bytes = encode_stored_message(&m, MessageVersion::V1).unwrap();
    let d = decode_stored_messages(&bytes).unwrap();
    assert_eq!(d[0].store_host, "127.0.0.1:10911".parse::<SocketAddr>().unwrap());
    assert_eq!(d[0].offset_msg_id, "7F00000100002A9F0000000000001234");
}

/// The input of the Java vectors below: `"rocketmq-ons {i % 7} "` for i in 0..40.
fn java_vector_input() -> Vec<u8> {
    (0..40).map(|i| format!("rocketmq-ons {} ", i % 7)).collect::<String>().into_bytes()
}

/// What Apache RocketMQ 5.3.3's own compressors (`CompressorFactory.getCompressor(type)
/// .compress(input, 5)`: lz4-java 1.8.0's LZ4FrameOutputStream, zstd-jni 1.5.2's
/// ZstdOutputStream, java.util.zip's Deflater) wrote for [`java_vector_input`].
const JAVA_LZ4: &str = "04224d1860707336000000f900726f636b65746d712d6f6e732030200f001a310f001a320f001a330f001a340f001a350f001a360f000f6900ffcb506e7320342000000000";
const JAVA_ZSTD: &str = "28b52ffd00589403007403726f636b65746d712d6f6e73203020313233343536303132333435363031323334353630313233343536303132333435363031323334202720e0e7b2c8273359e493992cf2c94c16f964268b7c3293453e99c9423e99c9229fcc64914f66b2c8273359e493992cf2c94c162d5f72a43a010000";
const JAVA_ZLIB: &str =
    "785e2bca4fce4e2dc92dd4cdcf2b5630502842e61aa2728d50b9c6a85c1354ae292ad70c953b6ad170b708005a3bd56c";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn decompresses_what_the_java_compressors_write() {
    let input = java_vector_input();
    for (kind, hex) in
        [(CompressionType::Lz4, JAVA_LZ4), (CompressionType::Zstd, JAVA_ZSTD), (CompressionType::Zlib, JAVA_ZLIB)]
    {
        let body = decompress_body_as(&unhex(hex), kind, MAX_DECOMPRESSED_BODY_LEN).unwrap();
        assert_eq!(body, input, "{kind:?}");
        // The limit holds exactly: one byte less is an error, not a truncated body.
        let err = decompress_body_as(&unhex(hex), kind, input.len() - 1).unwrap_err();
        assert!(err.message().contains("exceeds"), "{kind:?}: {err}");
    }
}

#[test]
fn every_compression_type_round_trips_and_mislabelled_bodies_fail_clearly() {
    let mut m = sample("T");
    m.body = Bytes::from(vec![b'a'; 10_000]);
    for (kind, bits) in [
        (CompressionType::Zlib, sys_flag::COMPRESSION_ZLIB_TYPE),
        (CompressionType::Lz4, sys_flag::COMPRESSION_LZ4_TYPE),
        (CompressionType::Zstd, sys_flag::COMPRESSION_ZSTD_TYPE),
    ] {
        let compressed = compress_body_as(&m.body, kind, DEFAULT_COMPRESS_LEVEL as i32).unwrap();
        assert!(compressed.len() < 1000, "{kind:?}: {} bytes", compressed.len());
        m.sys_flag = sys_flag::COMPRESSED | bits;
        let bytes = encode_stored_message(&m, MessageVersion::V1).unwrap();
        let d = decode_stored_messages(&bytes).unwrap();
        assert_eq!(d[0].body, m.body, "{kind:?}");
        assert_eq!(d[0].sys_flag, bits, "{kind:?}: 0x1 cleared, type kept");
    }

    // 4.x style: only 0x1 means zlib.
    m.sys_flag = sys_flag::COMPRESSED;
    let bytes = encode_stored_message(&m, MessageVersion::V1).unwrap();
    assert_eq!(decode_stored_messages(&bytes).unwrap()[0].body, m.body);

    // zlib bytes labelled LZ4: a clear error naming the type, not garbage.
    let mut lz4 = bytes.clone();
    lz4[36..40].copy_from_slice(&(sys_flag::COMPRESSED | sys_flag::COMPRESSION_LZ4_TYPE).to_be_bytes());
    let err = decode_stored_messages(&lz4).unwrap_err();
    assert!(err.message().contains("cannot decompress LZ4"), "{err}");
    assert_eq!(err.kind(), crate::error::ErrorKind::Protocol);
    // Type bits 4..=7 name nothing.
    let mut unknown = bytes.clone();
    unknown[36..40].copy_from_slice(&(sys_flag::COMPRESSED | 0x400).to_be_bytes());
    let err = decode_stored_messages(&unknown).unwrap_err();
    assert!(err.message().contains("unknown compression type 4"), "{err}");
}

#[test]
fn a_zstd_frame_asking_for_a_huge_window_is_refused_without_allocating_it() {
    // A frame header with Window_Descriptor exponent 30 (1 GiB window), no content size,
    // then one raw block of 1 byte: legal Zstandard, but no Java producer writes it for a
    // message body and the decoder would allocate the window.
    let mut frame = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, (30 - 10) << 3];
    frame.extend_from_slice(&[0x09, 0x00, 0x00, b'x']);
    let err = decompress_body_as(&frame, CompressionType::Zstd, MAX_DECOMPRESSED_BODY_LEN).unwrap_err();
    assert!(err.message().contains("cannot decompress ZSTD"), "{err}");
}

#[test]
fn compression_names_and_levels() {
    assert_eq!(CompressionType::from_name("lz4"), Some(CompressionType::Lz4));
    assert_eq!(CompressionType::from_name(" ZSTD "), Some(CompressionType::Zstd));
    assert_eq!(CompressionType::from_name("gzip"), None);
    assert!(CompressionType::Zlib.level_range().contains(&9) && !CompressionType::Zlib.level_range().contains(&10));
    assert!(!CompressionType::Zstd.level_range().contains(&0));
}

#[test]
fn unwraps_inner_batch() {
    let entries = vec![
        BatchEntry { flag: 1, body: Bytes::from_static(b"one"), properties: "TAGS\u{1}A\u{2}".into() },
        BatchEntry { flag: 2, body: Bytes::from_static(b"two"), properties: "TAGS\u{1}B\u{2}".into() },
        BatchEntry { flag: 3, body: Bytes::new(), properties: String::new() },
    ];
    let batch = encode_batch_body(&entries).unwrap();
    assert_eq!(decode_batch_body(&batch).unwrap(), entries);

    let mut m = sample("T");
    m.body = Bytes::from(batch);
    m.sys_flag = sys_flag::INNER_BATCH | sys_flag::NEED_UNWRAP | sys_flag::COMPRESSED;
    m.queue_offset = 100;
    let bytes = encode_stored_message(&m, MessageVersion::V1).unwrap();
    let d = decode_stored_messages(&bytes).unwrap();
    assert_eq!(d.len(), 3);
    for (i, msg) in d.iter().enumerate() {
        assert_eq!(msg.queue_offset, 100 + i as i64);
        assert_eq!(msg.flag, i as i32 + 1);
        assert_eq!(msg.topic, "T");
        assert_eq!(msg.queue_id, 3);
        assert_eq!(msg.commit_log_offset, 0x1234);
        assert_eq!(msg.sys_flag, 0);
    }
    assert_eq!(d[0].body, Bytes::from_static(b"one"));
    assert_eq!(d[1].tags(), Some("B"));
    assert!(d[2].properties.is_empty());
}

#[test]
fn batch_body_layout() {
    let e = BatchEntry { flag: 9, body: Bytes::from_static(b"xy"), properties: "a\u{1}b\u{2}".into() };
    let b = encode_batch_body(std::slice::from_ref(&e)).unwrap();
    let mut expected = Vec::new();
    expected.extend_from_slice(&28i32.to_be_bytes());
    expected.extend_from_slice(&[0; 8]);
    expected.extend_from_slice(&9i32.to_be_bytes());
    expected.extend_from_slice(&2i32.to_be_bytes());
    expected.extend_from_slice(b"xy");
    expected.extend_from_slice(&4i16.to_be_bytes());
    expected.extend_from_slice(b"a\x01b\x02");
    assert_eq!(b, expected);
    let too_long = BatchEntry { properties: "x".repeat(MAX_PROPERTIES_LEN + 1), ..e };
    assert!(encode_batch_body(&[too_long]).is_err());
    assert!(decode_batch_body(&b[..b.len() - 1]).is_err());
}

#[test]
fn bad_entries_are_reported() {
    let good = encode_stored_message(&sample("T"), MessageVersion::V1).unwrap();
    let mut lz4 = sample("T");
    lz4.sys_flag = sys_flag::COMPRESSED;
    let mut lz4 = encode_stored_message(&lz4, MessageVersion::V1).unwrap();
    lz4[36..40].copy_from_slice(&(sys_flag::COMPRESSED | sys_flag::COMPRESSION_ZSTD_TYPE).to_be_bytes());

    // good, bad-but-framed, good: lenient skips only the bad one.
    let mut buf = good.clone();
    buf.extend_from_slice(&lz4);
    buf.extend_from_slice(&good);
    let d = decode_stored_messages_lenient(&buf);
    assert_eq!(d.messages.len(), 2);
    assert_eq!(d.failures.len(), 1);
    let f = &d.failures[0];
    assert_eq!((f.entry_index, f.byte_offset, f.resumed), (1, good.len(), true));
    assert_eq!((f.queue_id, f.queue_offset, f.commit_log_offset), (Some(3), Some(42), Some(0x1234)));
    assert_eq!(f.skipped_bytes, lz4.len());
    let err = decode_stored_messages(&buf).unwrap_err();
    assert!(err.message().contains("entry 1 at byte"), "{err}");
    assert!(err.message().contains("ZSTD"), "{err}");

    // good, then a broken frame: the walk stops and says how much was left.
    let mut buf = good.clone();
    buf.extend_from_slice(&good[..50]);
    let d = decode_stored_messages_lenient(&buf);
    assert_eq!(d.messages.len(), 1);
    assert_eq!(d.failures.len(), 1);
    assert!(!d.failures[0].resumed);
    assert_eq!(d.failures[0].skipped_bytes, 50);
    assert!(decode_stored_messages(&buf).is_err());

    // Blank padding magic and a negative topic length are errors.
    let mut blank = good.clone();
    blank[4..8].copy_from_slice(&BLANK_MAGIC_CODE.to_be_bytes());
    assert!(decode_stored_messages(&blank).is_err());
    let mut neg = good.clone();
    let topic_at = 84 + 4 + 5;
    assert_eq!(neg[topic_at], 1);
    neg[topic_at] = 0xFF;
    assert!(decode_stored_messages(&neg).unwrap_err().message().contains("negative"));
}

#[test]
fn per_response_budgets() {
    let mut m = sample("T");
    m.body = Bytes::from(vec![b'z'; 10_000]);
    m.sys_flag = sys_flag::COMPRESSED;
    let bytes = encode_stored_message(&m, MessageVersion::V1).unwrap();
    let mut budget = Budget { body_bytes: 9_999, messages: 10, over_budget: false };
    let err = decode_stored_entry(&bytes, &mut budget).unwrap_err();
    assert!(err.message().contains("budget"), "{err}");
    let mut budget = Budget { body_bytes: 10_000, messages: 10, over_budget: false };
    assert_eq!(decode_stored_entry(&bytes, &mut budget).unwrap().len(), 1);
    assert_eq!((budget.body_bytes, budget.messages), (0, 9));

    let entries = vec![BatchEntry::default(); 3];
    m.body = Bytes::from(encode_batch_body(&entries).unwrap());
    m.sys_flag = sys_flag::INNER_BATCH | sys_flag::NEED_UNWRAP;
    let bytes = encode_stored_message(&m, MessageVersion::V1).unwrap();
    let mut budget = Budget { body_bytes: MAX_DECODED_BODY_BYTES, messages: 2, over_budget: false };
    assert!(decode_stored_entry(&bytes, &mut budget).is_err());
    let mut budget = Budget { body_bytes: MAX_DECODED_BODY_BYTES, messages: 3, over_budget: false };
    assert_eq!(decode_stored_entry(&bytes, &mut budget).unwrap().len(), 3);
}

#[test]
fn field_overrunning_totalsize_is_an_error() {
    let good = encode_stored_message(&sample("T"), MessageVersion::V1).unwrap();
    // Shrink TOTALSIZE by one: the properties no longer fit the entry.
    let mut short = good.clone();
    short[..4].copy_from_slice(&(good.len() as i32 - 1).to_be_bytes());
    short.pop();
    assert!(decode_stored_messages(&short).is_err());
    // Grow TOTALSIZE with trailing bytes inside the entry: tolerated.
    let mut long = good.clone();
    long.extend_from_slice(&[0xEE; 3]);
    long[..4].copy_from_slice(&(good.len() as i32 + 3).to_be_bytes());
    assert_eq!(decode_stored_messages(&long).unwrap().len(), 1);
}

fn arb_addr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, p)| SocketAddr::new(Ipv4Addr::from(ip).into(), p)),
        (any::<[u8; 16]>(), any::<u16>())
            .prop_map(|(ip, p)| { SocketAddr::new(canonical_ip(IpAddr::V6(Ipv6Addr::from(ip))), p) }),
    ]
}

fn arb_props() -> impl Strategy<Value = MessageProperties> {
    proptest::collection::btree_map("[A-Za-z0-9_#.]{1,12}", "[^\u{1}\u{2}]{0,20}", 0..6)
}

prop_compose! {
    fn arb_stored()(
        queue_id in any::<i32>(), flag in any::<i32>(), queue_offset in any::<i64>(),
        commit_log_offset in any::<i64>(),
        sys in prop_oneof![Just(0), Just(0x1), Just(0x301), Just(0x2), Just(0x4), Just(0x8)],
        born_timestamp in any::<i64>(), born_host in arb_addr(), store_timestamp in any::<i64>(),
        store_host in arb_addr(), reconsume_times in any::<i32>(),
        prepared_transaction_offset in any::<i64>(), body_crc in any::<i32>(),
        body in proptest::collection::vec(any::<u8>(), 0..300),
        topic in "[%|a-zA-Z0-9_-]{0,200}", properties in arb_props(),
    ) -> StoredMessage {
        StoredMessage {
            store_size: 0, queue_id, flag, queue_offset, commit_log_offset, sys_flag: sys,
            born_timestamp, born_host, store_timestamp, store_host, reconsume_times,
            prepared_transaction_offset, body_crc, body: Bytes::from(body), topic,
            properties: properties.iter().collect(),
            offset_msg_id: String::new(),
        }
    }
}

proptest! {
    /// Every separator is reported once, in order, wherever it falls against the words read
    /// (texts of every length up to 40, separators next to the byte a borrow may flag).
    #[test]
    fn each_separator_is_found_once_in_order(bytes in proptest::collection::vec(
        proptest::sample::select(vec![0u8, 1, 2, 3, 4, b'a', 0x80, 0xFF]), 0..40,
    )) {
        let mut found = Vec::new();
        properties::for_each_separator(&bytes, |at, b| found.push((at, b)));
        let expected: Vec<(usize, u8)> =
            bytes.iter().copied().enumerate().filter(|&(_, b)| b == 1 || b == 2).collect();
        prop_assert_eq!(found, expected);
    }

    #[test]
    fn stored_round_trip(msgs in proptest::collection::vec(arb_stored(), 0..5)) {
        let mut buf = Vec::new();
        let mut expected = Vec::new();
        for m in &msgs {
            let version = if m.topic.len() > 127 { MessageVersion::V2 } else { MessageVersion::V1 };
            let bytes = encode_stored_message(m, version).unwrap();
            expected.push(expected_after_round_trip(m, bytes.len()));
            buf.extend_from_slice(&bytes);
        }
        prop_assert_eq!(decode_stored_messages(&buf).unwrap(), expected);
    }

    #[test]
    fn stored_decoder_never_panics(buf in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = decode_stored_messages(&buf);
        let _ = decode_stored_messages_lenient(&buf);
    }

    #[test]
    fn stored_decoder_survives_mutations(
        m in arb_stored(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        // Mutating valid entries reaches far deeper than random bytes.
        let version = if m.topic.len() > 127 { MessageVersion::V2 } else { MessageVersion::V1 };
        let mut bytes = encode_stored_message(&m, version).unwrap();
        for (i, b) in flips {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        let _ = decode_stored_messages(&bytes);
        let _ = decode_stored_messages_lenient(&bytes);
    }

    #[test]
    fn batch_round_trip(entries in proptest::collection::vec(
        (any::<i32>(), proptest::collection::vec(any::<u8>(), 0..100), "[^\u{1}\u{2}]{0,30}")
            .prop_map(|(flag, body, properties)| BatchEntry { flag, body: Bytes::from(body), properties }),
        0..6,
    )) {
        let encoded = encode_batch_body(&entries).unwrap();
        prop_assert_eq!(decode_batch_body(&encoded).unwrap(), entries);
    }

    #[test]
    fn batch_decoder_never_panics(buf in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_batch_body(&buf);
    }

    #[test]
    fn properties_round_trip(props in arb_props()) {
        let encoded = encode_properties(&props).unwrap();
        let mut expected = props.clone();
        expected.retain(|_, v| !v.is_empty());
        prop_assert_eq!(parse_properties(encoded.as_bytes()).to_map(), expected);
    }

    /// The parser keeps what the rule, applied entry by entry to a map, keeps: split on 0x02,
    /// the name up to the first 0x01, entries with an empty name or value dropped, the last
    /// value of a repeated name, invalid UTF-8 replaced. A small alphabet makes repeated names
    /// and separators common.
    #[test]
    fn properties_parser_keeps_what_the_rule_keeps(buf in proptest::collection::vec(
        prop_oneof![Just(1u8), Just(2u8), Just(b'a'), Just(b'b'), Just(0xe4u8), any::<u8>()],
        0..120,
    )) {
        let mut expected = MessageProperties::new();
        for entry in buf.split(|&b| b == PROPERTY_SEPARATOR) {
            if let Some(sep) = entry.iter().position(|&b| b == NAME_VALUE_SEPARATOR) {
                let (name, value) = (&entry[..sep], &entry[sep + 1..]);
                if !name.is_empty() && !value.is_empty() {
                    expected.insert(
                        String::from_utf8_lossy(name).into_owned(),
                        String::from_utf8_lossy(value).into_owned(),
                    );
                }
            }
        }
        prop_assert_eq!(parse_properties(&buf).to_map(), expected);
    }

    #[test]
    fn properties_parser_never_panics(buf in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_properties(&buf);
    }

    #[test]
    fn decompress_never_panics(buf in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decompress_body_with_limit(&buf, 4096);
    }

    #[test]
    fn compress_round_trip(body in proptest::collection::vec(any::<u8>(), 0..2000), level in 0u32..12) {
        prop_assert_eq!(decompress_body(&compress_body(&body, level)).unwrap(), body);
    }
}

#[test]
fn separators_are_found_in_short_and_long_values_at_any_offset() {
    for len in [0usize, 1, 10, 63, 64, 65, 200, 5000] {
        let clean = "k".repeat(len);
        assert!(!contains_separator(&clean), "{len} clean bytes");
        for at in [0, len / 2, len.saturating_sub(1)] {
            if len == 0 {
                continue;
            }
            for sep in ['\u{1}', '\u{2}'] {
                let mut s = clean.clone();
                s.replace_range(at..at + 1, &sep.to_string());
                assert!(contains_separator(&s), "{sep:?} at {at} of {len}");
            }
        }
    }
    // Bytes next to the separators' values, and multi-byte characters, are not separators.
    assert!(!contains_separator("\u{0}\u{3}\u{7f}é漢"));
}

proptest! {
    /// The word-at-a-time search agrees with a byte-by-byte one, on strings made mostly of the
    /// bytes a borrow between a word's bytes could confuse (0x00-0x03, 0x7f-0x81, 0xff's
    /// neighbours in multi-byte characters).
    #[test]
    fn the_separator_search_agrees_with_a_byte_by_byte_one(
        chars in proptest::collection::vec(proptest::sample::select(vec!['\u{0}', '\u{1}', '\u{2}', '\u{3}', '\u{7f}', 'a', 'é', '\u{80}', '\u{ff}', '漢']), 0..80)
    ) {
        let s: String = chars.into_iter().collect();
        prop_assert_eq!(contains_separator(&s), s.bytes().any(|b| b == 1 || b == 2));
    }
}
