//! What a client's message traces came to, as every producer and consumer class returns it from
//! `traceCounts()` (the core's `TraceCounts`).

use napi_derive::napi;

/// What a client's message traces came to (`traceCounts()`): records sent (stored by a broker)
/// and records dropped (queue full, trace topic missing, failed trace sends).
#[napi(object)]
pub struct TraceCounts {
    pub sent: i64,
    pub dropped: i64,
}

impl From<rocketmq_ons::trace::TraceCounts> for TraceCounts {
    fn from(c: rocketmq_ons::trace::TraceCounts) -> Self {
        // Counts of records fit an i64 (and a JS number) for centuries of tracing.
        TraceCounts { sent: c.sent as i64, dropped: c.dropped as i64 }
    }
}
