//! The threads listeners run on: a pool of up to ConsumeThreadNums plain OS threads per
//! consumer, so a listener may block (or be a binding's callback) without ever stalling the
//! runtime's workers.
//!
//! Threads are started on demand and wake each other in a chain: a submit wakes one sleeping
//! thread, and a thread that takes a job while more are queued wakes the next. Fast listeners
//! thus keep one or two threads busy without a wake-up per message, while slow listeners soon
//! have every thread working.

use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::sync::Arc;

type Job = Box<dyn FnOnce() + Send + 'static>;

struct State {
    jobs: VecDeque<Job>,
    threads: usize,
    max_threads: usize,
    sleeping: usize,
    /// A sleeping thread was notified and has not taken the lock yet.
    wake_pending: bool,
    closed: bool,
}

struct PoolState {
    state: Mutex<State>,
    wake: Condvar,
    name: String,
}

pub struct ConsumePool {
    shared: Arc<PoolState>,
}

impl ConsumePool {
    pub fn new(max_threads: usize, name: &str) -> Self {
        ConsumePool {
            shared: Arc::new(PoolState {
                state: Mutex::new(State {
                    jobs: VecDeque::new(),
                    threads: 0,
                    max_threads: max_threads.max(1),
                    sleeping: 0,
                    wake_pending: false,
                    closed: false,
                }),
                wake: Condvar::new(),
                name: name.to_owned(),
            }),
        }
    }

    /// Queues jobs (run in order of submission, by whichever thread is free).
    pub fn submit(&self, jobs: impl IntoIterator<Item = Job>) {
        let mut st = self.shared.state.lock();
        if st.closed {
            return;
        }
        st.jobs.extend(jobs);
        PoolState::wake_one(&self.shared, &mut st);
    }

    /// Allows one more thread: a listener stuck past ConsumeTimeout no longer counts.
    pub fn replace_stuck_thread(&self) {
        let mut st = self.shared.state.lock();
        st.max_threads += 1;
        PoolState::wake_one(&self.shared, &mut st);
    }

    /// Drops queued jobs and lets every thread exit after its current job.
    pub fn close(&self) {
        let mut st = self.shared.state.lock();
        st.closed = true;
        st.jobs.clear();
        self.shared.wake.notify_all();
    }
}

impl Drop for ConsumePool {
    fn drop(&mut self) {
        self.close();
    }
}

impl PoolState {
    /// Makes sure someone will take the queued work: a sleeping thread, or a new one.
    fn wake_one(this: &Arc<PoolState>, st: &mut State) {
        if st.jobs.is_empty() || st.wake_pending {
            return;
        }
        if st.sleeping > 0 {
            st.wake_pending = true;
            this.wake.notify_one();
        } else if st.threads < st.max_threads {
            let shared = this.clone();
            let spawned =
                std::thread::Builder::new().name(format!("{}-{}", this.name, st.threads)).spawn(move || shared.run());
            match spawned {
                Ok(_) => {
                    st.threads += 1;
                    st.wake_pending = true;
                }
                Err(e) => tracing::warn!(error = %e, "cannot start a consume thread"),
            }
        }
    }

    fn run(self: Arc<Self>) {
        let mut st = self.state.lock();
        // A new thread counts as the pending wake-up that created it.
        st.wake_pending = false;
        loop {
            if st.closed {
                st.threads -= 1;
                return;
            }
            if let Some(job) = st.jobs.pop_front() {
                PoolState::wake_one(&self, &mut st);
                drop(st);
                job();
                st = self.state.lock();
                continue;
            }
            st.sleeping += 1;
            self.wake.wait(&mut st);
            st.sleeping -= 1;
            st.wake_pending = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    fn wait_until(cond: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !cond() {
            assert!(Instant::now() < deadline, "timed out");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn runs_every_job_with_bounded_concurrency() {
        let pool = ConsumePool::new(4, "t");
        let (running, peak, done) =
            (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let jobs: Vec<Job> = (0..40)
            .map(|_| {
                let (running, peak, done) = (running.clone(), peak.clone(), done.clone());
                Box::new(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(10));
                    running.fetch_sub(1, Ordering::SeqCst);
                    done.fetch_add(1, Ordering::SeqCst);
                }) as Job
            })
            .collect();
        pool.submit(jobs);
        wait_until(|| done.load(Ordering::SeqCst) == 40);
        assert_eq!(peak.load(Ordering::SeqCst), 4, "slow jobs use every thread, and no more");
    }

    #[test]
    fn a_stuck_thread_can_be_replaced_and_close_drops_queued_jobs() {
        let pool = ConsumePool::new(1, "t");
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let g = gate.clone();
        pool.submit([Box::new(move || {
            let (open, cv) = &*g;
            let mut open = open.lock();
            while !*open {
                cv.wait(&mut open);
            }
        }) as Job]);
        let done = Arc::new(AtomicUsize::new(0));
        let d = done.clone();
        pool.submit([Box::new(move || {
            d.fetch_add(1, Ordering::SeqCst);
        }) as Job]);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(done.load(Ordering::SeqCst), 0, "the only thread is stuck");
        pool.replace_stuck_thread();
        wait_until(|| done.load(Ordering::SeqCst) == 1);
        pool.close();
        let d = done.clone();
        pool.submit([Box::new(move || {
            d.fetch_add(1, Ordering::SeqCst);
        }) as Job]);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(done.load(Ordering::SeqCst), 1, "a closed pool runs nothing");
        let (open, cv) = &*gate;
        *open.lock() = true;
        cv.notify_all();
    }
}
