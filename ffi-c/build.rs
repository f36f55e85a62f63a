//! Gives `librocketmq_ons.so` its SONAME in release builds of the C library.
//!
//! scripts/release.sh sets `ROCKETMQ_ONS_SONAME=1`; the shared library then records
//! `librocketmq_ons.so.<abi>` (see docs/releasing.md), which is what programs linked against it
//! ask the loader for. Development builds stay without one: ffi-c/run-tests.sh links its programs
//! straight against `target/<profile>/librocketmq_ons.so`, and a SONAME would make them look for
//! a versioned file that cargo does not create.

fn main() {
    println!("cargo:rerun-if-env-changed=ROCKETMQ_ONS_SONAME");
    if std::env::var("ROCKETMQ_ONS_SONAME").as_deref() != Ok("1") {
        return;
    }
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets CARGO_PKG_VERSION_MAJOR");
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").expect("cargo sets CARGO_PKG_VERSION_MINOR");
    // Semantic versioning allows breaking changes between 0.x minors, so before 1.0 the ABI
    // version is MAJOR.MINOR; from 1.0 on it is MAJOR.
    let abi = if major == "0" { format!("0.{minor}") } else { major };
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,librocketmq_ons.so.{abi}");
}
