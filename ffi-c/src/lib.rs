//! The C ABI of rocketmq-ons: `librocketmq_ons.so` / `.a` and `include/rocketmq_ons.h`
//! (generated from this crate by cbindgen; `header_is_current` below fails when they differ).
//!
//! This crate translates types, errors and threads; every RocketMQ decision is core's. The
//! rules every export follows (the header repeats them for C users):
//! * it returns a status code (0 = ONS_OK, else core's stable ErrorKind code) and leaves the
//!   details in the thread-local last error ([`error`]); a panic becomes ONS_ERR_INTERNAL;
//! * NULL pointers, invalid UTF-8 and bad lengths are ONS_ERR_INVALID_ARGUMENT ([`args`]);
//! * synchronous calls block on the library's runtime; callbacks run on library threads, never
//!   the runtime's workers, and never after their handle's shutdown returned ([`runtime`]);
//! * the core's log goes to stderr (WARN and up, or what ONS_LOG says) or to the handler set
//!   with `ons_set_log_handler`, called on a log thread of its own ([`log`]).

// Every export takes raw pointers from C; the contract of each is in its doc comment, which
// the header carries, and in the header's preamble. A `# Safety` section on each of ~100
// functions would repeat the same sentence.
#![allow(clippy::missing_safety_doc)]

// The library's own allocations (everything it hands to C is freed through its own functions).
// The `mimalloc` feature is on by default; see Cargo.toml for why a build leaves it out.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// Declared in the order the header presents them (cbindgen follows it); the blank lines keep
// rustfmt from sorting them.
mod error;

mod properties;

mod message;

mod producer;

mod consumer;

mod pull_consumer;

mod admin;

mod admin_results;

mod open_api;

mod log;

mod args;
mod handle;
mod runtime;

pub use admin::*;
pub use admin_results::*;
pub use consumer::*;
pub use error::*;
pub use log::*;
pub use message::*;
pub use open_api::*;
pub use producer::*;
pub use properties::*;
pub use pull_consumer::*;

#[cfg(test)]
mod header {
    use std::path::Path;

    /// Regenerates the header and compares it with the committed one. With
    /// `ONS_BLESS_HEADER=1` it writes the new header instead (ffi-c/run-tests.sh --bless).
    #[test]
    fn header_is_current() {
        let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let committed_path = crate_dir.join("../include/rocketmq_ons.h");
        let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("ffi-c/cbindgen.toml");
        let bindings = cbindgen::Builder::new()
            .with_crate(crate_dir)
            .with_config(config)
            .generate()
            .expect("cbindgen could not parse ffi-c/src");
        let mut generated = Vec::new();
        bindings.write(&mut generated);
        let generated = String::from_utf8(generated).expect("header is UTF-8");
        if std::env::var_os("ONS_BLESS_HEADER").is_some() {
            std::fs::write(&committed_path, &generated).expect("write include/rocketmq_ons.h");
            return;
        }
        let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
        assert!(
            committed == generated,
            "include/rocketmq_ons.h is not what cbindgen generates from ffi-c/src; run \
             `ONS_BLESS_HEADER=1 cargo test -p rocketmq-ons-ffi --lib header` and commit the result"
        );
    }
}
