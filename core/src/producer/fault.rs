//! Broker avoidance for sends: a broker that failed or answered slowly is skipped for a while,
//! following the Java client's latency table, so retries and later sends go elsewhere.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::hashing::WordHashing;

/// (latency at least, avoid for) — Java `MQFaultStrategy` defaults.
const LATENCY_TABLE: [(u64, u64); 7] =
    [(15_000, 30_000), (5_000, 10_000), (3_000, 6_000), (1_800, 5_000), (550, 2_000), (100, 0), (50, 0)];
/// A failed request counts as this slow.
const FAILURE_LATENCY_MS: u64 = 10_000;

#[derive(Default)]
pub struct FaultTracker {
    avoid_until: Mutex<HashMap<String, Instant, WordHashing>>,
}

impl FaultTracker {
    /// Records how long a send to `broker` took (or that it failed).
    pub fn record(&self, broker: &str, latency: Duration, failed: bool) {
        let latency_ms = if failed { FAILURE_LATENCY_MS } else { latency.as_millis() as u64 };
        let avoid_ms =
            LATENCY_TABLE.iter().find(|(at_least, _)| latency_ms >= *at_least).map(|(_, avoid)| *avoid).unwrap_or(0);
        let mut map = self.avoid_until.lock();
        if avoid_ms == 0 {
            map.remove(broker);
        } else {
            map.insert(broker.to_owned(), Instant::now() + Duration::from_millis(avoid_ms));
        }
    }

    pub fn is_available(&self, broker: &str) -> bool {
        let map = self.avoid_until.lock();
        map.get(broker).is_none_or(|until| Instant::now() >= *until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_and_slow_answers_isolate_brokers() {
        let t = FaultTracker::default();
        assert!(t.is_available("a"));
        t.record("a", Duration::from_millis(5), true);
        assert!(!t.is_available("a"));
        t.record("a", Duration::from_millis(20), false);
        assert!(t.is_available("a"));
        t.record("b", Duration::from_millis(600), false);
        assert!(!t.is_available("b"));
        t.record("c", Duration::from_millis(120), false);
        assert!(t.is_available("c"));
    }
}
