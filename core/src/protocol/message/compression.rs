//! Body compression and decompression: zlib, LZ4 frames and Zstandard as the Java 5.x client
//! writes them, always with a cap on what a body may inflate to (docs/compression.md).

#[allow(unused_imports)]
use super::*;

/// Bodies at least this long are compressed by single-message sends (`compressMsgBodyOverHowmuch`).
pub const COMPRESS_BODY_THRESHOLD: usize = 4096;
/// Java's default deflate level (`rocketmq.message.compressLevel`).
pub const DEFAULT_COMPRESS_LEVEL: u32 = 5;
/// Largest body [`decompress_body`] produces; a larger result is an error, so a small
/// compressed body cannot expand without bound (brokers store at most 4 MiB by default).
pub const MAX_DECOMPRESSED_BODY_LEN: usize = 64 * 1024 * 1024;

/// Compresses a body as Java's producer does: a zlib (RFC 1950) stream at `level` (0..=9,
/// larger values are clamped to 9; Java uses [`DEFAULT_COMPRESS_LEVEL`]).
pub fn compress_body(body: &[u8], level: u32) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(body.len() / 2 + 64),
        flate2::Compression::new(level.min(9)),
    );
    // Writing into a Vec has no I/O that could fail; the only error source would be a
    // flate2 internal bug.
    encoder.write_all(body).expect("zlib compression into a Vec cannot fail");
    encoder.finish().expect("zlib compression into a Vec cannot fail")
}

/// Compresses a body with `kind` as the Java 5.x producer does (`Lz4Compressor`: an LZ4 frame
/// of independent blocks, no level; `ZstdCompressor`: one Zstandard frame at `level`; zlib as
/// [`compress_body`]). `level` is clamped into [`CompressionType::level_range`].
pub fn compress_body_as(body: &[u8], kind: CompressionType, level: i32) -> Result<Vec<u8>> {
    let range = kind.level_range();
    let level = level.clamp(*range.start(), *range.end());
    match kind {
        CompressionType::Zlib => Ok(compress_body(body, level.unsigned_abs())),
        CompressionType::Lz4 => {
            // Independent blocks: lz4-java's LZ4FrameInputStream reads no other kind.
            let info = lz4_flex::frame::FrameInfo::new().block_mode(lz4_flex::frame::BlockMode::Independent);
            let mut encoder =
                lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::with_capacity(body.len() / 2 + 64));
            encoder.write_all(body).map_err(|e| Error::invalid_argument(format!("LZ4 compression failed: {e}")))?;
            encoder.finish().map_err(|e| Error::invalid_argument(format!("LZ4 compression failed: {e}")))
        }
        CompressionType::Zstd => zstd::stream::encode_all(body, level)
            .map_err(|e| Error::invalid_argument(format!("ZSTD compression failed: {e}"))),
    }
}

/// Decompresses a zlib body, failing if it is corrupt, truncated, or would exceed
/// [`MAX_DECOMPRESSED_BODY_LEN`].
pub fn decompress_body(data: &[u8]) -> Result<Vec<u8>> {
    decompress_body_with_limit(data, MAX_DECOMPRESSED_BODY_LEN)
}

/// [`decompress_body`] with an explicit output limit in bytes.
pub fn decompress_body_with_limit(data: &[u8], limit: usize) -> Result<Vec<u8>> {
    decompress_body_as(data, CompressionType::Zlib, limit)
}

/// Largest Zstandard window a body may ask for (8 MiB). The decoder allocates the window a
/// frame header announces, so without this a 20-byte hostile frame could claim 128 MiB or
/// more; a Java producer's frame for a message under the broker's 4 MiB limit (or a larger
/// body that compresses under it, at the default level) never needs more.
const ZSTD_WINDOW_LOG_MAX: u32 = 23;

/// Decompresses a body compressed with `kind`, failing if it is corrupt, truncated, or would
/// exceed `limit` bytes. Never holds more than `limit + 1` bytes of output, whatever sizes the
/// compressed stream announces.
pub fn decompress_body_as(data: &[u8], kind: CompressionType, limit: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let read = match kind {
        CompressionType::Zlib => read_at_most(flate2::read::ZlibDecoder::new(data), limit, &mut out),
        CompressionType::Lz4 => read_at_most(lz4_flex::frame::FrameDecoder::new(data), limit, &mut out),
        CompressionType::Zstd => zstd::stream::read::Decoder::with_buffer(data).and_then(|mut decoder| {
            decoder.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
            // One frame, as Java writes; bytes after it are not part of the body.
            read_at_most(decoder.single_frame(), limit, &mut out)
        }),
    };
    let more = read.map_err(|e| Error::protocol(format!("cannot decompress {} message body: {e}", kind.name())))?;
    if more {
        return Err(Error::protocol(format!(
            "decompressed {} message body exceeds the {limit}-byte limit",
            kind.name()
        )));
    }
    Ok(out)
}

/// Reads `reader` into `out`, at most `limit` bytes; returns whether more was left. The probe
/// for "more" reads one byte aside, so `out` never grows past the limit for it.
fn read_at_most(reader: impl Read, limit: usize, out: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut reader = reader;
    (&mut reader).take(u64::try_from(limit).unwrap_or(u64::MAX)).read_to_end(out)?;
    let mut probe = [0u8; 1];
    loop {
        match reader.read(&mut probe) {
            Ok(n) => return Ok(n > 0),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Body CRC as brokers store it: CRC32 (IEEE) of the stored body bytes with the top bit
/// cleared (Java `UtilAll.crc32`).
pub fn body_crc(body: &[u8]) -> i32 {
    // The mask leaves 31 bits, so the value always fits a non-negative i32.
    (crc32fast::hash(body) & 0x7FFF_FFFF) as i32
}
