//! The current process id without a system call per use. glibc no longer caches `getpid`, and
//! the send path asks for it per message (unique keys are per process, and a forked child must
//! notice it is a new process). The id is cached and the cache is emptied in every forked child
//! by a `pthread_atfork` handler, so the answer stays right across `fork`.

use std::sync::atomic::{AtomicU32, Ordering};

/// 0 = not known (never asked, or emptied by a fork).
static CACHED_PID: AtomicU32 = AtomicU32::new(0);

/// The id of the calling process.
pub fn id() -> u32 {
    let cached = CACHED_PID.load(Ordering::Relaxed);
    if cached != 0 {
        return cached;
    }
    register_fork_handler();
    let pid = std::process::id();
    if !NO_CACHE.load(Ordering::Relaxed) {
        CACHED_PID.store(pid, Ordering::Relaxed);
    }
    pid
}

#[cfg(unix)]
fn register_fork_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    extern "C" fn forget_pid_in_child() {
        // Async-signal-safe: one atomic store.
        CACHED_PID.store(0, Ordering::Relaxed);
    }
    ONCE.call_once(|| {
        // SAFETY: registers a handler that only stores to an atomic; no other precondition.
        let rc = unsafe { libc::pthread_atfork(None, None, Some(forget_pid_in_child)) };
        if rc != 0 {
            // Without the handler a child would keep the parent's id: never cache then.
            tracing::warn!("pthread_atfork failed ({rc}); the process id is looked up on every use");
            NO_CACHE.store(true, Ordering::Relaxed);
        }
    });
}

#[cfg(not(unix))]
fn register_fork_handler() {}

static NO_CACHE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[cfg(test)]
mod tests {
    #[test]
    fn matches_the_operating_system() {
        assert_eq!(super::id(), std::process::id());
        assert_eq!(super::id(), std::process::id());
    }

    #[cfg(unix)]
    #[test]
    fn a_forked_child_sees_its_own_id() {
        let parent = super::id();
        let mut fds = [0i32; 2];
        // SAFETY: a plain pipe; the child only calls async-signal-safe functions (getpid via
        // id(), write, _exit) apart from reading an atomic.
        unsafe {
            assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
            let child = libc::fork();
            assert!(child >= 0);
            if child == 0 {
                let ok = super::id() != parent && super::id() == libc::getpid() as u32;
                let byte = [u8::from(ok)];
                libc::write(fds[1], byte.as_ptr().cast(), 1);
                libc::_exit(0);
            }
            let mut byte = [9u8];
            assert_eq!(libc::read(fds[0], byte.as_mut_ptr().cast(), 1), 1);
            libc::waitpid(child, std::ptr::null_mut(), 0);
            libc::close(fds[0]);
            libc::close(fds[1]);
            assert_eq!(byte[0], 1, "the child saw its parent's id");
        }
        assert_eq!(super::id(), parent);
    }
}
