//! The bindings' one tokio runtime per process.
//!
//! It is created on first use and never dropped: dropping a multi-thread runtime joins its
//! threads, which at process exit (or in a forked child, where those threads do not exist)
//! could hang. Its worker threads carry connections, never user code. A forked child gets a
//! runtime of its own on first use; the parent's, inherited without threads, is leaked.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicPtr, Ordering};

use rocketmq_ons::{Error, ErrorKind};
use tokio::runtime::Runtime;

/// The runtime of the current process, with the id of the process that created it. Read
/// without the lock on the hot path; the lock only serialises creation (first use, and first
/// use after a fork).
static CURRENT: AtomicPtr<ProcessRuntime> = AtomicPtr::new(std::ptr::null_mut());
static CREATE: Mutex<()> = Mutex::new(());

struct ProcessRuntime {
    pid: u32,
    runtime: Runtime,
}

fn current() -> Option<&'static Runtime> {
    // SAFETY: a published runtime is leaked, so it lives for the rest of the process.
    let owned = unsafe { CURRENT.load(Ordering::Acquire).as_ref() }?;
    (owned.pid == rocketmq_ons::current_process_id()).then_some(&owned.runtime)
}

/// The runtime of this process, created on first use (again after a fork).
pub fn runtime() -> Result<&'static Runtime, Error> {
    if let Some(rt) = current() {
        return Ok(rt);
    }
    let _creating = CREATE.lock();
    if let Some(rt) = current() {
        return Ok(rt);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rocketmq-ons")
        .build()
        .map_err(|e| Error::new(ErrorKind::Internal, format!("could not start the library's runtime: {e}")))?;
    let owned: &'static mut ProcessRuntime =
        Box::leak(Box::new(ProcessRuntime { pid: rocketmq_ons::current_process_id(), runtime }));
    CURRENT.store(owned, Ordering::Release);
    Ok(&owned.runtime)
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_runtime_per_process() {
        let a = super::runtime().unwrap() as *const _;
        let b = super::runtime().unwrap() as *const _;
        assert_eq!(a, b);
        assert_eq!(super::runtime().unwrap().block_on(async { 1 + 1 }), 2);
    }
}
