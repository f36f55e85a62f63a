//! Message ids: the offset message id brokers derive from the store host and commit-log offset
//! (docs/remoting-protocol.md §7.1) and the client unique key `UNIQ_KEY` producers attach to
//! every message (§7.2). Which IP, process id and counter a process uses is the client's business
//! (`crate::client::identity`); this module only encodes and decodes.
//!
//! # Time in the unique key
//!
//! Java writes milliseconds since the start of the current month in the JVM's *local* time
//! zone. The standard library has no time-zone database, so this generator counts from the
//! start of the month in **UTC**. The field only feeds Java's `getNearlyTimeFromID` (used by
//! admin tools as the lower bound when querying a message by unique key); a decoder in a zone
//! east of UTC gets a time that is too early (harmless), one west of UTC a time that is too late
//! by its offset for messages older than that offset.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::error::{Error, Result};

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Hex digits as text.
fn hex_text(digits: &[u8]) -> &str {
    debug_assert!(digits.iter().all(u8::is_ascii_hexdigit));
    // SAFETY: callers pass HEX's digits only (a suffix, or digits made by `write_hex`): ASCII.
    unsafe { std::str::from_utf8_unchecked(digits) }
}

/// Room for the longest key: an IPv6 host's prefix (44 characters) and the suffix (12).
const INLINE_ID_LEN: usize = 56;

/// A unique key held in place ([`UniqueIdGenerator::next_inline_id_at`]).
#[derive(Clone, Copy)]
pub(crate) struct InlineId {
    len: u8,
    bytes: [u8; INLINE_ID_LEN],
}

impl InlineId {
    pub(crate) fn as_str(&self) -> &str {
        hex_text(&self.bytes[..usize::from(self.len)])
    }
}

/// Writes the hex digits of `bytes` to the front of `out` (twice as long); returns how many.
/// Four bytes at a time ([`hex_digits_of`]): every consumed message's offset id and every
/// unique key go through here (one table lookup per digit was some 5 instructions a digit).
fn write_hex(out: &mut [u8], bytes: &[u8]) -> usize {
    let mut words = bytes.chunks_exact(4);
    let mut at = 0;
    for word in &mut words {
        let word = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        out[at..at + 8].copy_from_slice(&hex_digits_of(word));
        at += 8;
    }
    for (pair, b) in out[at..].chunks_exact_mut(2).zip(words.remainder()) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 0xF)];
    }
    2 * bytes.len()
}

/// The 8 uppercase hex digits of `word`, most significant first, computed in one 64-bit word:
/// its nibbles spread one to a byte, then each byte turned into its digit at once.
fn hex_digits_of(word: u32) -> [u8; 8] {
    const LOW_NIBBLES: u64 = 0x0F0F_0F0F_0F0F_0F0F;
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut x = u64::from(word);
    // Halves, then bytes, then nibbles apart: the least significant nibble ends in the lowest
    // byte.
    x = (x | x << 16) & 0x0000_FFFF_0000_FFFF;
    x = (x | x << 8) & 0x00FF_00FF_00FF_00FF;
    x = (x | x << 4) & LOW_NIBBLES;
    // A nibble of 10 or more carries into bit 4 of its byte when 6 is added (no byte
    // overflows: at most 15 + 6); those bytes take 7 more, from '9' + 1 to 'A'.
    let letters = ((x + 6 * ONES) >> 4) & ONES;
    let digits = x + u64::from(b'0') * ONES + 7 * letters;
    digits.to_be_bytes()
}

/// Decodes hex (either case) into bytes; `None` on an odd length or a non-hex character.
fn parse_hex(s: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let pairs = s.as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return None;
    }
    pairs.map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?)).collect()
}

/// The address's bytes as Java writes them (4 or 16), in a buffer of 16 and their count: a
/// consumer encodes an id for every message, so no allocation for them.
fn ip_octets(ip: IpAddr) -> ([u8; 16], usize) {
    let four = |v4: std::net::Ipv4Addr| {
        let mut octets = [0u8; 16];
        octets[..4].copy_from_slice(&v4.octets());
        (octets, 4)
    };
    match ip {
        IpAddr::V4(v4) => four(v4),
        // Java represents an IPv4-mapped address as an Inet4Address (4 bytes); match it.
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => four(v4),
            None => (v6.octets(), 16),
        },
    }
}

/// The offset message id: uppercase hex of store IP (4 or 16 bytes) + port (i32) + commit-log
/// offset (i64); 32 hex characters for IPv4, 56 for IPv6.
/// `127.0.0.1:10911`, offset 0 → `7F00000100002A9F0000000000000000`.
pub fn encode_offset_msg_id(store_host: SocketAddr, commit_log_offset: i64) -> String {
    let (octets, len) = ip_octets(store_host.ip());
    // Every consumed message gets one: its digits are written in place and copied into the
    // string once (pushed one by one, each checked the string's capacity and encoded a char:
    // some 480 instructions per IPv4 id, callgrind of a drain).
    let mut digits = [0u8; 2 * (16 + 4 + 8)];
    let mut at = write_hex(&mut digits, &octets[..len]);
    at += write_hex(&mut digits[at..], &i32::from(store_host.port()).to_be_bytes());
    at += write_hex(&mut digits[at..], &commit_log_offset.to_be_bytes());
    hex_text(&digits[..at]).to_owned()
}

/// A decoded offset message id: where the message is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OffsetMsgId {
    /// Broker address to send VIEW_MESSAGE_BY_ID to.
    pub store_host: SocketAddr,
    /// Commit-log offset (VIEW_MESSAGE_BY_ID, END_TRANSACTION).
    pub commit_log_offset: i64,
}

/// Decodes an offset message id (32 or 56 hex characters, either case). Errors on another
/// length, a non-hex character, or a port outside 0..=65535.
pub fn decode_offset_msg_id(id: &str) -> Result<OffsetMsgId> {
    let ip_len = match id.len() {
        32 => 4,
        56 => 16,
        n => {
            return Err(Error::invalid_argument(format!(
                "offset message id {id:?} has {n} characters, expected 32 (IPv4) or 56 (IPv6)"
            )))
        }
    };
    let bytes = parse_hex(id).ok_or_else(|| Error::invalid_argument(format!("offset message id {id:?} is not hex")))?;
    let (ip, rest) = bytes.split_at(ip_len);
    let ip = match <[u8; 16]>::try_from(ip) {
        Ok(v6) => IpAddr::from(v6),
        Err(_) => {
            let v4: [u8; 4] = [ip[0], ip[1], ip[2], ip[3]];
            IpAddr::from(v4)
        }
    };
    let port = i32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
    let port = u16::try_from(port)
        .map_err(|_| Error::invalid_argument(format!("offset message id {id:?} has port {port}")))?;
    let mut offset = [0u8; 8];
    offset.copy_from_slice(&rest[4..12]);
    Ok(OffsetMsgId { store_host: SocketAddr::new(ip, port), commit_log_offset: i64::from_be_bytes(offset) })
}

/// The fields of a client unique key (§7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UniqKeyParts {
    pub ip: IpAddr,
    /// Low 16 bits of the producer's process id.
    pub pid: u16,
    /// Per-process random value (Java: a class-loader hash code).
    pub random: i32,
    /// Milliseconds since the start of the month the key was made in (local time for Java,
    /// UTC for this client).
    pub month_millis: u32,
    pub counter: u16,
}

/// Splits a client unique key into its fields. Errors unless it is 32 or 56 hex characters.
pub fn parse_uniq_key(key: &str) -> Result<UniqKeyParts> {
    let ip_len = match key.len() {
        32 => 4,
        56 => 16,
        n => return Err(Error::invalid_argument(format!("unique key {key:?} has {n} characters"))),
    };
    let b = parse_hex(key).ok_or_else(|| Error::invalid_argument(format!("unique key {key:?} is not hex")))?;
    let (ip, r) = b.split_at(ip_len);
    let ip = match <[u8; 16]>::try_from(ip) {
        Ok(v6) => IpAddr::from(v6),
        Err(_) => IpAddr::from([ip[0], ip[1], ip[2], ip[3]]),
    };
    Ok(UniqKeyParts {
        ip,
        pid: u16::from_be_bytes([r[0], r[1]]),
        random: i32::from_be_bytes([r[2], r[3], r[4], r[5]]),
        month_millis: u32::from_be_bytes([r[6], r[7], r[8], r[9]]),
        counter: u16::from_be_bytes([r[10], r[11]]),
    })
}

/// Makes client unique keys: a fixed per-process prefix (IP, pid, random) computed once, then
/// per call the month time and a 16-bit counter. Thread-safe and lock-free.
#[derive(Debug)]
pub struct UniqueIdGenerator {
    /// Hex of IP + pid + random: 20 characters (IPv4) or 44 (IPv6).
    prefix: String,
    counter: AtomicU32,
    /// Cached current month: start (seconds since the epoch) in the high half, length in
    /// seconds in the low half. One word, so readers never see a start and length of
    /// different months. 0 = not computed yet.
    month: AtomicU64,
}

impl UniqueIdGenerator {
    /// A generator for the fixed parts of a key: the host's `ip`, the low 16 bits of the
    /// process id, and a per-process random value (`crate::client::identity` makes the
    /// process's own).
    pub fn with_parts(ip: IpAddr, pid: u16, random: i32) -> Self {
        let (octets, len) = ip_octets(ip);
        let mut digits = [0u8; 2 * (16 + 2 + 4)];
        let mut at = write_hex(&mut digits, &octets[..len]);
        at += write_hex(&mut digits[at..], &pid.to_be_bytes());
        at += write_hex(&mut digits[at..], &random.to_be_bytes());
        let prefix = hex_text(&digits[..at]).to_owned();
        UniqueIdGenerator { prefix, counter: AtomicU32::new(0), month: AtomicU64::new(0) }
    }

    /// The fixed part of every key this generator makes.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A new unique key for the current time.
    pub fn next_id(&self) -> String {
        self.next_id_at(crate::message::now_ms())
    }

    /// A new unique key as if the time were `now_ms` (ms since the Unix epoch).
    pub fn next_id_at(&self, now_ms: i64) -> String {
        let suffix = self.next_suffix(now_ms);
        let mut id = String::with_capacity(self.prefix.len() + suffix.len());
        id.push_str(&self.prefix);
        id.push_str(hex_text(&suffix));
        id
    }

    /// [`next_id_at`](Self::next_id_at), kept in place rather than on the heap (a consumer
    /// makes one per listener call for its trace records, only to drop it after the call).
    pub(crate) fn next_inline_id_at(&self, now_ms: i64) -> InlineId {
        let suffix = self.next_suffix(now_ms);
        let mut id = InlineId { len: 0, bytes: [0; INLINE_ID_LEN] };
        // The prefix is at most 44 characters (an IPv6 address's), the suffix 12.
        let len = self.prefix.len() + suffix.len();
        id.bytes[..self.prefix.len()].copy_from_slice(self.prefix.as_bytes());
        id.bytes[self.prefix.len()..len].copy_from_slice(&suffix);
        id.len = len as u8;
        id
    }

    /// The part of a new key after the prefix: the ms since the start of the month of `now_ms`
    /// and the counter, in hex.
    fn next_suffix(&self, now_ms: i64) -> [u8; 12] {
        let now_ms = now_ms.max(0);
        let start_ms = self.month_start_ms(now_ms);
        // Less than 31 days, so it fits in u32. Java casts the same value to int, which wraps
        // after ~24.8 days; the bits are identical and readers take them as unsigned.
        let month_millis = u32::try_from(now_ms - start_ms).unwrap_or(u32::MAX);
        // Wrapping at 16 bits is the format.
        let counter = self.counter.fetch_add(1, Ordering::Relaxed) as u16;
        // The month time and the counter, big-endian, as 12 hex digits written in place
        // (every send makes a key).
        let mut bytes = [0u8; 6];
        bytes[..4].copy_from_slice(&month_millis.to_be_bytes());
        bytes[4..].copy_from_slice(&counter.to_be_bytes());
        let mut suffix = [0u8; 12];
        write_hex(&mut suffix, &bytes);
        suffix
    }

    fn month_start_ms(&self, now_ms: i64) -> i64 {
        let now_s = now_ms / 1000;
        let cached = self.month.load(Ordering::Relaxed);
        let (start, len) = (i64::from((cached >> 32) as u32), i64::from(cached as u32));
        if cached != 0 && now_s >= start && now_s < start + len {
            return start * 1000;
        }
        let (start, end) = utc_month_bounds_secs(now_s);
        // Dates past 2106 do not fit the cache word; compute them every time instead.
        if let (Ok(s), Ok(l)) = (u32::try_from(start), u32::try_from(end - start)) {
            self.month.store(u64::from(s) << 32 | u64::from(l), Ordering::Relaxed);
        }
        start * 1000
    }
}

/// Start of the UTC month containing `secs` and start of the next one, in seconds since the
/// epoch (`secs` ≥ 0).
fn utc_month_bounds_secs(secs: i64) -> (i64, i64) {
    let days = secs.div_euclid(86_400);
    let (y, m, _) = civil_from_days(days);
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    (days_from_civil(y, m, 1) * 86_400, days_from_civil(ny, nm, 1) * 86_400)
}

// Proleptic Gregorian calendar conversions (Howard Hinnant's `days_from_civil` and
// `civil_from_days` algorithms), days counted from 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    #[test]
    fn offset_id_fact_sheet_vector() {
        let host: SocketAddr = "127.0.0.1:10911".parse().unwrap();
        assert_eq!(encode_offset_msg_id(host, 0), "7F00000100002A9F0000000000000000");
        let d = decode_offset_msg_id("7F00000100002A9F0000000000000000").unwrap();
        assert_eq!(d, OffsetMsgId { store_host: host, commit_log_offset: 0 });
        // Lowercase is accepted, as Java's parser upper-cases first.
        let d = decode_offset_msg_id("7f00000100002a9f00000000000004d2").unwrap();
        assert_eq!(d.commit_log_offset, 1234);
    }

    #[test]
    fn offset_id_ipv6() {
        let host: SocketAddr = "[2001:db8::1]:10911".parse().unwrap();
        let id = encode_offset_msg_id(host, 0x0102_0304_0506_0708);
        assert_eq!(id.len(), 56);
        assert_eq!(id, "20010DB800000000000000000000000100002A9F0102030405060708");
        assert_eq!(decode_offset_msg_id(&id).unwrap().store_host, host);
        // A mapped IPv4 address encodes as IPv4, like Java.
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:10911".parse().unwrap();
        assert_eq!(encode_offset_msg_id(mapped, 0).len(), 32);
    }

    #[test]
    fn offset_id_errors() {
        assert!(decode_offset_msg_id("").is_err());
        assert!(decode_offset_msg_id("7F00000100002A9F000000000000000").is_err());
        assert!(decode_offset_msg_id("7F00000100002A9F00000000000000ZZ").is_err());
        // Port 0x00012A9F does not fit u16.
        assert!(decode_offset_msg_id("7F00000100012A9F0000000000000000").is_err());
        // Multi-byte characters with a byte length of 32 must not panic.
        assert!(decode_offset_msg_id("ééééééééééééééee").is_err());
    }

    #[test]
    fn uniq_key_layout() {
        let g = UniqueIdGenerator::with_parts("10.0.0.5".parse().unwrap(), 0x1234, 0x0BAD_F00D);
        assert_eq!(g.prefix(), "0A00000512340BADF00D");
        // 2024-02-29T12:00:00.007Z; the month started 2024-02-01T00:00:00Z.
        let now = 1_709_208_000_007;
        let feb1 = 1_706_745_600_000;
        let id = g.next_id_at(now);
        assert_eq!(id, "0A00000512340BADF00D92C53E070000", "prefix, ms into the month (2462400007), counter 0");
        let parts = parse_uniq_key(&id).unwrap();
        assert_eq!(parts.ip, "10.0.0.5".parse::<IpAddr>().unwrap());
        assert_eq!(parts.pid, 0x1234);
        assert_eq!(parts.random, 0x0BAD_F00D);
        assert_eq!(i64::from(parts.month_millis), now - feb1);
        assert_eq!(parts.counter, 0);
        assert_eq!(parse_uniq_key(&g.next_id_at(now)).unwrap().counter, 1);
        // Crossing into March resets the month base.
        let mar1 = 1_709_251_200_000;
        assert_eq!(parse_uniq_key(&g.next_id_at(mar1 + 5)).unwrap().month_millis, 5);
        // And going back in time recomputes it too.
        assert_eq!(i64::from(parse_uniq_key(&g.next_id_at(now)).unwrap().month_millis), now - feb1);
    }

    #[test]
    fn uniq_key_late_in_long_month_keeps_java_bits() {
        let g = UniqueIdGenerator::with_parts("127.0.0.1".parse().unwrap(), 1, 1);
        // 2024-01-31T23:59:59.999Z: 30 days and change, past i32::MAX ms.
        let jan1 = 1_704_067_200_000_i64;
        let now = jan1 + 31 * 86_400_000 - 1;
        let parts = parse_uniq_key(&g.next_id_at(now)).unwrap();
        assert_eq!(i64::from(parts.month_millis), now - jan1);
        assert!(i64::from(parts.month_millis) > i64::from(i32::MAX));
    }

    #[test]
    fn uniq_key_ipv6_and_counter_wrap() {
        let g = UniqueIdGenerator::with_parts("2001:db8::7".parse().unwrap(), 1, -1);
        let id = g.next_id();
        assert_eq!(id.len(), 56);
        assert_eq!(&id[..44], g.prefix());
        for _ in 0..70_000 {
            g.next_id_at(0);
        }
        let parts = parse_uniq_key(&g.next_id_at(0)).unwrap();
        assert_eq!(parts.counter, (70_001 % 65_536) as u16);
        // Kept in place, the longest key is whole.
        let inline = g.next_inline_id_at(0);
        assert_eq!((inline.as_str().len(), &inline.as_str()[..44]), (56, g.prefix()));
        assert_eq!(parse_uniq_key(inline.as_str()).unwrap().counter, (70_002 % 65_536) as u16);
    }

    #[test]
    fn inline_keys_are_the_keys_next_id_at_makes() {
        let g = UniqueIdGenerator::with_parts("10.0.0.5".parse().unwrap(), 0x1234, 0x0BAD_F00D);
        let now = 1_709_208_000_007;
        assert_eq!(g.next_inline_id_at(now).as_str(), "0A00000512340BADF00D92C53E070000");
        assert_eq!(g.next_id_at(now), "0A00000512340BADF00D92C53E070001");
        assert_eq!(g.next_inline_id_at(now).as_str(), "0A00000512340BADF00D92C53E070002");
    }

    #[test]
    fn uniq_keys_are_unique_across_threads() {
        let g = std::sync::Arc::new(UniqueIdGenerator::with_parts("127.0.0.1".parse().unwrap(), 1, 2));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let g = g.clone();
                std::thread::spawn(move || (0..5000).map(|_| g.next_id_at(1_000)).collect::<Vec<_>>())
            })
            .collect();
        let mut seen = HashSet::new();
        for h in handles {
            for id in h.join().unwrap() {
                assert!(seen.insert(id));
            }
        }
        assert_eq!(seen.len(), 20_000);
    }

    #[test]
    fn calendar_matches_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(utc_month_bounds_secs(1_709_208_000), (1_706_745_600, 1_709_251_200));
        assert_eq!(utc_month_bounds_secs(1_733_011_200), (1_733_011_200, 1_735_689_600));
    }

    proptest! {
        #[test]
        fn hex_digits_are_uppercase_hex(word in any::<u32>()) {
            prop_assert_eq!(hex_digits_of(word).to_vec(), format!("{word:08X}").into_bytes());
        }

        #[test]
        fn written_hex_is_each_byte_in_order(bytes in proptest::collection::vec(any::<u8>(), 0..24)) {
            let mut out = vec![0u8; 2 * bytes.len()];
            prop_assert_eq!(write_hex(&mut out, &bytes), 2 * bytes.len());
            let expected: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
            prop_assert_eq!(out, expected.into_bytes());
        }

        #[test]
        fn key_suffix_is_month_time_and_counter(month_millis in any::<u32>(), counter in any::<u16>()) {
            let g = UniqueIdGenerator::with_parts(IpAddr::from([10, 0, 0, 1]), 7, 9);
            g.counter.store(u32::from(counter), Ordering::Relaxed);
            // 2026-02-01T00:00:00Z plus up to 28 days, within that month.
            let feb1 = 1_769_904_000_000_i64;
            let now = feb1 + i64::from(month_millis % (28 * 86_400_000));
            let parts = parse_uniq_key(&g.next_id_at(now)).unwrap();
            prop_assert_eq!(i64::from(parts.month_millis), now - feb1);
            prop_assert_eq!(parts.counter, counter);
        }

        #[test]
        fn offset_id_round_trip(ip in any::<[u8; 16]>(), v4 in any::<[u8; 4]>(), use_v4 in any::<bool>(),
                                port in any::<u16>(), offset in any::<i64>()) {
            let ip = if use_v4 { IpAddr::from(v4) } else { IpAddr::from(ip) };
            let ip = match ip { IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip), v4 => v4 };
            let host = SocketAddr::new(ip, port);
            let id = encode_offset_msg_id(host, offset);
            prop_assert_eq!(decode_offset_msg_id(&id).unwrap(), OffsetMsgId { store_host: host, commit_log_offset: offset });
            prop_assert_eq!(decode_offset_msg_id(&id.to_lowercase()).unwrap().commit_log_offset, offset);
        }

        #[test]
        fn id_decoders_never_panic(s in ".{0,60}", hex in "[0-9a-fA-F]{0,60}") {
            let _ = decode_offset_msg_id(&s);
            let _ = decode_offset_msg_id(&hex);
            let _ = parse_uniq_key(&s);
            let _ = parse_uniq_key(&hex);
        }

        #[test]
        fn month_bounds_contain_the_instant(secs in 0i64..4_000_000_000) {
            let (start, end) = utc_month_bounds_secs(secs);
            prop_assert!(start <= secs && secs < end);
            let (y, m, d) = civil_from_days(start / 86_400);
            prop_assert_eq!(d, 1);
            prop_assert_eq!(days_from_civil(y, m, 1) * 86_400, start);
            prop_assert!((28 * 86_400..=31 * 86_400).contains(&(end - start)));
        }
    }
}
