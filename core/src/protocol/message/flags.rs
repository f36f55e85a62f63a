//! Message and pull sys-flag bits and the compression types they encode
//! (docs/remoting-protocol.md §5.5, docs/compression.md).

#[allow(unused_imports)]
use super::*;

/// Message sys flag bits (send header `f`, stored SYSFLAG; docs/remoting-protocol.md §5.5).
pub mod sys_flag {
    /// Body is compressed (type in [`COMPRESSION_TYPE_MASK`]).
    pub const COMPRESSED: i32 = 0x1;
    /// Broker-set for MULTI_TAG topics.
    pub const MULTI_TAGS: i32 = 0x2;
    /// Transaction bits: none.
    pub const TRANSACTION_NOT_TYPE: i32 = 0;
    /// Transaction bits: half (prepared) message.
    pub const TRANSACTION_PREPARED_TYPE: i32 = 0x4;
    /// Transaction bits: commit.
    pub const TRANSACTION_COMMIT_TYPE: i32 = 0x8;
    /// Transaction bits: rollback; also the mask of the transaction bits.
    pub const TRANSACTION_ROLLBACK_TYPE: i32 = 0xC;
    /// Born host is IPv6 (20 bytes instead of 8).
    pub const BORNHOST_V6: i32 = 0x10;
    /// Store host is IPv6 (20 bytes instead of 8).
    pub const STOREHOST_V6: i32 = 0x20;
    /// Inner batch that the client must unwrap.
    pub const NEED_UNWRAP: i32 = 0x40;
    /// Body is an inner batch (§5.4 layout).
    pub const INNER_BATCH: i32 = 0x80;
    /// Compression type LZ4 (LZ4 frame format).
    pub const COMPRESSION_LZ4_TYPE: i32 = 0x100;
    /// Compression type ZSTD.
    pub const COMPRESSION_ZSTD_TYPE: i32 = 0x200;
    /// Compression type ZLIB (type bits 0 also mean zlib: 4.x clients set only 0x1).
    pub const COMPRESSION_ZLIB_TYPE: i32 = 0x300;
    /// Mask of the compression-type bits.
    pub const COMPRESSION_TYPE_MASK: i32 = 0x700;

    /// The transaction bits of `flag`.
    pub fn transaction_value(flag: i32) -> i32 {
        flag & TRANSACTION_ROLLBACK_TYPE
    }

    /// `flag` with its transaction bits replaced by `kind`.
    pub fn reset_transaction_value(flag: i32, kind: i32) -> i32 {
        (flag & !TRANSACTION_ROLLBACK_TYPE) | (kind & TRANSACTION_ROLLBACK_TYPE)
    }

    /// `flag` without [`COMPRESSED`].
    pub fn clear_compressed(flag: i32) -> i32 {
        flag & !COMPRESSED
    }

    /// Whether any bit of `expected` is set in `flag` (Java `MessageSysFlag.check`).
    pub fn check(flag: i32, expected: i32) -> bool {
        flag & expected != 0
    }

    /// Whether the message is an inner batch to unwrap (both 0x80 and 0x40 set).
    pub fn is_inner_batch_to_unwrap(flag: i32) -> bool {
        check(flag, INNER_BATCH) && check(flag, NEED_UNWRAP)
    }
}

/// Pull request sys flags (pull header `sysFlag`).
pub mod pull_sys_flag {
    /// Also commit the consumer offset carried in the request.
    pub const COMMIT_OFFSET: i32 = 0x1;
    /// Long polling: the broker may hold the request.
    pub const SUSPEND: i32 = 0x2;
    /// The request carries a subscription expression.
    pub const SUBSCRIPTION: i32 = 0x4;
    /// Class filter mode.
    pub const CLASS_FILTER: i32 = 0x8;
    /// Lite pull consumer.
    pub const LITE_PULL: i32 = 0x10;

    /// Java `PullSysFlag.buildSysFlag`.
    pub fn build(commit_offset: bool, suspend: bool, subscription: bool, class_filter: bool) -> i32 {
        let mut flag = 0;
        if commit_offset {
            flag |= COMMIT_OFFSET;
        }
        if suspend {
            flag |= SUSPEND;
        }
        if subscription {
            flag |= SUBSCRIPTION;
        }
        if class_filter {
            flag |= CLASS_FILTER;
        }
        flag
    }

    /// `flag` without [`COMMIT_OFFSET`].
    pub fn clear_commit_offset(flag: i32) -> i32 {
        flag & !COMMIT_OFFSET
    }
}

/// Compression algorithm named by the sys-flag type bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompressionType {
    /// zlib (RFC 1950); type bits 0x300, or 0 for 4.x clients.
    Zlib,
    /// LZ4 frame format (what lz4-java's `LZ4FrameOutputStream` writes); type bits 0x100.
    Lz4,
    /// Zstandard frames (what zstd-jni's `ZstdOutputStream` writes); type bits 0x200.
    Zstd,
}

impl CompressionType {
    /// The compression type of a sys flag (Java `CompressionType.findByValue`): bits 0 and 3
    /// mean zlib, 1 LZ4, 2 ZSTD; 4..=7 are unknown and an error.
    pub fn from_sys_flag(flag: i32) -> Result<CompressionType> {
        match (flag & sys_flag::COMPRESSION_TYPE_MASK) >> 8 {
            0 | 3 => Ok(CompressionType::Zlib),
            1 => Ok(CompressionType::Lz4),
            2 => Ok(CompressionType::Zstd),
            other => Err(Error::protocol(format!("unknown compression type {other} in sys flag {flag:#x}"))),
        }
    }

    /// The sys-flag bits announcing this type.
    pub fn sys_flag_bits(self) -> i32 {
        match self {
            CompressionType::Zlib => sys_flag::COMPRESSION_ZLIB_TYPE,
            CompressionType::Lz4 => sys_flag::COMPRESSION_LZ4_TYPE,
            CompressionType::Zstd => sys_flag::COMPRESSION_ZSTD_TYPE,
        }
    }

    /// The Java name (`CompressionType.name()`).
    pub fn name(self) -> &'static str {
        match self {
            CompressionType::Zlib => "ZLIB",
            CompressionType::Lz4 => "LZ4",
            CompressionType::Zstd => "ZSTD",
        }
    }

    /// The type named `name` (ZLIB, LZ4 or ZSTD, any case), as Java's `CompressionType.of`.
    pub fn from_name(name: &str) -> Option<CompressionType> {
        [CompressionType::Zlib, CompressionType::Lz4, CompressionType::Zstd]
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The levels this type accepts (zlib 0..=9, Zstandard 1..=22; LZ4 frames have none and
    /// ignore the level, as Java's `Lz4Compressor` does).
    pub fn level_range(self) -> std::ops::RangeInclusive<i32> {
        match self {
            CompressionType::Zlib => 0..=9,
            CompressionType::Lz4 => i32::MIN..=i32::MAX,
            CompressionType::Zstd => 1..=22,
        }
    }
}
