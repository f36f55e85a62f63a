//! Rate-limited log lines for what a peer can trigger at will.
//!
//! A broker (or anything speaking the protocol on a client's connection) decides how often
//! some warnings fire: every unreadable offset-reset request, every transaction check that
//! cannot be answered, every answer that does not encode. 120,000 such requests wrote 20,000
//! WARN lines before this module existed. [`warn_limited!`], [`error_limited!`] and
//! [`debug_limited!`] log like `tracing::warn!`/`tracing::error!`/`tracing::debug!`, but each
//! call site writes at most one line per [`INTERVAL`]; the next line it writes carries `suppressed = N`, the number of lines left out
//! since the previous one (lines left out after the last written one are not reported).
//! Bindings use [`LogLimiter`] for the warnings they show their users (Node's
//! `process.emitWarning` of a failing listener).

use parking_lot::Mutex;
use std::time::{Duration, Instant};

/// At most one line per call site per this interval.
pub const INTERVAL: Duration = Duration::from_secs(10);

/// One call site's window: when its last line was written, and how many were left out since.
pub struct LogLimiter {
    interval: Duration,
    window: Mutex<Window>,
}

struct Window {
    last_written: Option<Instant>,
    suppressed: u64,
}

impl LogLimiter {
    pub const fn new(interval: Duration) -> Self {
        LogLimiter { interval, window: Mutex::new(Window { last_written: None, suppressed: 0 }) }
    }

    /// Whether a line may be written at `now`: `Some(lines left out since the last one)`, or
    /// `None` (counted as left out). `now` is a parameter so tests can drive the clock.
    pub fn admit(&self, now: Instant) -> Option<u64> {
        let mut w = self.window.lock();
        match w.last_written {
            Some(last) if now.saturating_duration_since(last) < self.interval => {
                w.suppressed += 1;
                None
            }
            _ => {
                w.last_written = Some(now);
                Some(std::mem::take(&mut w.suppressed))
            }
        }
    }
}

/// `tracing::$level!(...)` through a limiter of its own call site.
macro_rules! log_limited {
    ($level:ident, $($arg:tt)+) => {{
        static LIMITER: $crate::log_limit::LogLimiter =
            $crate::log_limit::LogLimiter::new($crate::log_limit::INTERVAL);
        match LIMITER.admit(::std::time::Instant::now()) {
            Some(0) => ::tracing::$level!($($arg)+),
            Some(suppressed) => ::tracing::$level!(suppressed, $($arg)+),
            None => {}
        }
    }};
}

/// `tracing::warn!`, at most one line per call site per [`INTERVAL`].
macro_rules! warn_limited {
    ($($arg:tt)+) => { $crate::log_limit::log_limited!(warn, $($arg)+) };
}

/// `tracing::debug!`, at most one line per call site per [`INTERVAL`].
macro_rules! debug_limited {
    ($($arg:tt)+) => { $crate::log_limit::log_limited!(debug, $($arg)+) };
}

/// `tracing::error!`, at most one line per call site per [`INTERVAL`].
macro_rules! error_limited {
    ($($arg:tt)+) => { $crate::log_limit::log_limited!(error, $($arg)+) };
}

pub(crate) use {debug_limited, error_limited, log_limited, warn_limited};

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn one_line_per_interval_with_the_count_left_out() {
        let limiter = LogLimiter::new(Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(limiter.admit(t0), Some(0), "the first line is written");
        for ms in (1..10_000).step_by(7) {
            assert_eq!(limiter.admit(t0 + Duration::from_millis(ms)), None, "at {ms} ms");
        }
        let left_out = (1..10_000).step_by(7).count() as u64;
        assert_eq!(limiter.admit(t0 + Duration::from_secs(10)), Some(left_out), "the interval is over");
        assert_eq!(limiter.admit(t0 + Duration::from_secs(11)), None);
        // A quiet stretch: the next line is written at once and reports the one left out.
        assert_eq!(limiter.admit(t0 + Duration::from_secs(100)), Some(1));
        assert_eq!(limiter.admit(t0 + Duration::from_secs(200)), Some(0));
    }

    #[test]
    fn a_clock_that_goes_back_does_not_open_the_window() {
        let limiter = LogLimiter::new(Duration::from_secs(10));
        let t0 = Instant::now() + Duration::from_secs(60);
        assert_eq!(limiter.admit(t0), Some(0));
        assert_eq!(limiter.admit(t0 - Duration::from_secs(30)), None);
    }

    /// Counts the events it sees and keeps their formatted fields.
    #[derive(Default)]
    struct Recorder {
        lines: AtomicUsize,
        last: Mutex<String>,
    }

    struct Fields<'a>(&'a mut String);

    impl tracing::field::Visit for Fields<'_> {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            self.0.push_str(&format!("{}={:?} ", field.name(), value));
        }
    }

    struct Counting(Arc<Recorder>);

    impl tracing::Subscriber for Counting {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            self.0.lines.fetch_add(1, Ordering::Relaxed);
            let mut text = String::new();
            event.record(&mut Fields(&mut text));
            *self.0.last.lock() = text;
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    /// The figure of the issue: 120,000 peer-triggered warnings in a burst (well within one
    /// interval) wrote one line per request; now the call site writes one.
    #[test]
    fn a_burst_of_120k_writes_one_line_per_call_site() {
        let recorder = Arc::new(Recorder::default());
        tracing::subscriber::with_default(Counting(recorder.clone()), || {
            for i in 0..120_000 {
                warn_limited!(request = i, "unreadable test request");
            }
            for _ in 0..10 {
                debug_limited!("another call site");
            }
        });
        assert_eq!(recorder.lines.load(Ordering::Relaxed), 2);
        assert!(recorder.last.lock().contains("another call site"));
    }
}
