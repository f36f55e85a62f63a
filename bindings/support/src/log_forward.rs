//! What every binding does with the core's `tracing` events before handing them to its own
//! logging: turning an event into one line of text ([`format_event`]: the message, then its
//! fields as ` key=value`), and bounding how many formatted records wait for the binding's
//! delivery thread ([`Budget`]: beyond its limit records are counted, not queued, and the
//! count is reported later as a record of its own).
//!
//! The subscriber layers stay in each binding: which levels are enabled and where records go
//! (Python `logging`, a C handler or stderr, `process.emitWarning` or a JS handler) differ.
//! Those layers run on whatever thread logs, often a network thread of the runtime, so they
//! only format and queue; no user code runs there.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};

use tracing::field::{Field, Visit};
use tracing::{Event, Level};

/// How many formatted records may wait for delivery in each binding.
pub const MAX_QUEUED: usize = 10_000;

/// One event as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub level: Level,
    /// The module path of the event (`rocketmq_ons::consumer::engine`).
    pub target: &'static str,
    /// The message followed by the other fields, ` key=value` each.
    pub message: String,
}

struct Fields {
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.rest, " {}={:?}", field.name(), value);
        }
    }

    // Strings without Debug's quotes and escapes, as they were logged.
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.rest, " {}={}", field.name(), value);
        }
    }
}

/// The event's level, target and text (the message, then ` key=value` per other field).
pub fn format_event(event: &Event<'_>) -> LogRecord {
    let meta = event.metadata();
    let mut fields = Fields { message: String::new(), rest: String::new() };
    event.record(&mut fields);
    fields.message.push_str(&fields.rest);
    LogRecord { level: *meta.level(), target: meta.target(), message: fields.message }
}

/// Counts the records queued for a delivery thread and those dropped because [`MAX_QUEUED`]
/// were waiting: a logging thread must never block on a slow consumer of the records, and an
/// unbounded queue behind a stalled handler would grow without end.
pub struct Budget {
    queued: AtomicUsize,
    dropped: AtomicUsize,
}

impl Budget {
    pub const fn new() -> Self {
        Budget { queued: AtomicUsize::new(0), dropped: AtomicUsize::new(0) }
    }

    /// Takes a place in the queue, or counts a drop and returns false when it is full.
    pub fn admit(&self) -> bool {
        if self.queued.fetch_add(1, Ordering::AcqRel) >= MAX_QUEUED {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Gives back `n` places: records delivered, or never queued after all.
    pub fn release(&self, n: usize) {
        self.queued.fetch_sub(n, Ordering::AcqRel);
    }

    /// The records dropped since the last call.
    pub fn take_dropped(&self) -> usize {
        self.dropped.swap(0, Ordering::Relaxed)
    }

    /// The record a binding delivers in place of `dropped` records it could not queue.
    pub fn dropped_record(dropped: usize) -> LogRecord {
        LogRecord {
            level: Level::WARN,
            target: "rocketmq_ons",
            message: format!("{dropped} log records were dropped: more than {MAX_QUEUED} waited for delivery"),
        }
    }
}

impl Default for Budget {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use parking_lot::Mutex;
    use tracing::Subscriber;
    use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

    struct Capture(Arc<Mutex<Vec<LogRecord>>>);

    impl<S: Subscriber> Layer<S> for Capture {
        fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
            self.0.lock().push(format_event(event));
        }
    }

    #[test]
    fn message_then_fields_strings_unquoted() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry().with(Capture(seen.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(target: "rocketmq_ons::consumer", group = "G", queues = 4, "route of {} failed", "T");
        });
        let seen = seen.lock();
        assert_eq!(
            *seen,
            vec![LogRecord {
                level: Level::WARN,
                target: "rocketmq_ons::consumer",
                message: "route of T failed group=G queues=4".into(),
            }]
        );
    }

    #[test]
    fn budget_counts_what_it_cannot_queue() {
        let budget = Budget::new();
        for _ in 0..MAX_QUEUED {
            assert!(budget.admit());
        }
        assert!(!budget.admit());
        assert!(!budget.admit());
        budget.release(1);
        assert!(budget.admit());
        assert_eq!(budget.take_dropped(), 2);
        assert_eq!(budget.take_dropped(), 0);
        assert!(Budget::dropped_record(2).message.starts_with("2 log records were dropped"));
    }
}
