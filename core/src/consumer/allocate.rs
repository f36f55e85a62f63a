//! Queue allocation among a group's instances: the Java client's
//! `AllocateMessageQueueAveragely`, with queues and client ids sorted exactly as Java sorts them,
//! so that a group mixing Java instances and ours splits the queues without gap or overlap.

use crate::protocol::java_hash::java_string_cmp;
use crate::protocol::route::MessageQueue;

/// The queues `me` owns among `client_ids` (both lists in any order). Empty when `me` is not
/// among the ids (the broker does not know this instance yet).
pub fn allocate_averagely(queues: &[MessageQueue], client_ids: &[String], me: &str) -> Vec<MessageQueue> {
    let mut queues = queues.to_vec();
    queues.sort();
    queues.dedup();
    let mut ids: Vec<&str> = client_ids.iter().map(String::as_str).collect();
    ids.sort_by(|a, b| java_string_cmp(a, b));
    ids.dedup();
    let (Some(index), n, c) = (ids.iter().position(|id| *id == me), queues.len(), ids.len()) else {
        return Vec::new();
    };
    if n == 0 {
        return Vec::new();
    }
    let remainder = n % c;
    let size = if n <= c {
        1
    } else if index < remainder {
        n / c + 1
    } else {
        n / c
    };
    let start = if index < remainder { index * size } else { index * size + remainder };
    // Java: range = min(size, n - start), which is negative (nothing) when start >= n.
    let range = size.min(n.saturating_sub(start));
    (0..range).map(|i| queues[(start + i) % n].clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn qs(n: i32) -> Vec<MessageQueue> {
        (0..n).map(|i| MessageQueue::new("T", if i % 2 == 0 { "broker-a" } else { "broker-b" }, i / 2)).collect()
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("10.0.0.1@{i}")).collect()
    }

    #[test]
    fn java_examples() {
        // 8 queues, 3 clients: 3, 3, 2 in sorted queue order.
        let queues = qs(8);
        let mut sorted = queues.clone();
        sorted.sort();
        let cids = ids(3);
        assert_eq!(allocate_averagely(&queues, &cids, &cids[0]), sorted[0..3].to_vec());
        assert_eq!(allocate_averagely(&queues, &cids, &cids[1]), sorted[3..6].to_vec());
        assert_eq!(allocate_averagely(&queues, &cids, &cids[2]), sorted[6..8].to_vec());
        // More clients than queues: the last ones get nothing.
        let cids = ids(5);
        assert_eq!(allocate_averagely(&qs(3), &cids, &cids[2]).len(), 1);
        assert!(allocate_averagely(&qs(3), &cids, &cids[3]).is_empty());
        assert!(allocate_averagely(&qs(3), &cids, "unknown").is_empty());
    }

    #[test]
    fn client_ids_sort_as_java_strings() {
        // Java sorts by UTF-16 units: U+FF21 (BMP) sorts after a surrogate pair, unlike UTF-8.
        let cids = vec!["1.1.1.1@\u{FF21}".to_owned(), "1.1.1.1@\u{1F600}".to_owned()];
        let first = allocate_averagely(&qs(2), &cids, "1.1.1.1@\u{1F600}");
        let mut sorted = qs(2);
        sorted.sort();
        assert_eq!(first, vec![sorted[0].clone()]);
    }

    proptest! {
        #[test]
        fn every_queue_exactly_once(n in 0i32..40, c in 1usize..12) {
            let queues = qs(n);
            let cids = ids(c);
            let mut all: Vec<MessageQueue> = cids.iter().flat_map(|me| allocate_averagely(&queues, &cids, me)).collect();
            all.sort();
            let mut expected = queues.clone();
            expected.sort();
            prop_assert_eq!(all, expected);
        }
    }
}
