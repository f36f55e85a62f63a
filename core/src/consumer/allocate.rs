//! Queue allocation among a group's instances: the Java client's
//! `AllocateMessageQueueAveragely` and `AllocateMessageQueueAveragelyByCircle` (apache/rocketmq
//! `client/src/main/java/org/apache/rocketmq/client/consumer/rebalance/`), with queues and client
//! ids sorted exactly as Java's `RebalanceImpl` sorts them, so that a group mixing Java instances
//! and ours (all using the same strategy) splits the queues without gap or overlap; and the
//! group's live instances that allocation is among ([`group_consumer_ids`]), which the push
//! engine's rebalance and the pull consumer's subscribe mode both ask a broker for.

use std::time::Duration;

use crate::client::instance::{ClientInstance, TopicRoute};
use crate::error::{Error, Result};
use crate::protocol::codes::response;
use crate::protocol::headers::{GetConsumerListByGroupRequestHeader, RequestHeader};
use crate::protocol::java_hash::java_string_cmp;
use crate::protocol::lenient_json;
use crate::protocol::route::MessageQueue;

const CONSUMER_LIST_TIMEOUT: Duration = Duration::from_secs(3);

/// The live client ids of `group` (as on the wire), from the first master of `route` that
/// answers (GET_CONSUMER_LIST_BY_GROUP, as Java's `MQClientInstance.findConsumerIdList`).
pub async fn group_consumer_ids(instance: &ClientInstance, group: &str, route: &TopicRoute) -> Result<Vec<String>> {
    let mut last = None;
    for bd in &route.data.broker_datas {
        let Some(addr) = bd.master_addr() else { continue };
        let cmd = GetConsumerListByGroupRequestHeader { consumer_group: group }.command();
        match instance.invoke(addr, cmd, CONSUMER_LIST_TIMEOUT).await {
            Ok(resp) if resp.code == response::SUCCESS => {
                let v = lenient_json::parse(&resp.body)?;
                let ids = v
                    .get("consumerIdList")
                    .and_then(|l| l.as_array())
                    .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default();
                return Ok(ids);
            }
            Ok(resp) => last = Some(Error::from_response(resp.code, resp.remark.as_deref(), "get consumer list")),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::network("no master broker in the route")))
}

/// How a clustering group's queues are split among its instances
/// (ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AllocateStrategy {
    /// `AVG`: contiguous ranges of the sorted queues ([`allocate_averagely`]).
    #[default]
    Averagely,
    /// `AVG_BY_CIRCLE`: queues dealt round robin ([`allocate_by_circle`]).
    ByCircle,
}

impl AllocateStrategy {
    /// The name Java's strategy reports (`AllocateMessageQueueStrategy.getName`).
    pub fn name(self) -> &'static str {
        match self {
            AllocateStrategy::Averagely => "AVG",
            AllocateStrategy::ByCircle => "AVG_BY_CIRCLE",
        }
    }

    /// The queues `me` owns among `client_ids` under this strategy.
    pub fn allocate(self, queues: &[MessageQueue], client_ids: &[String], me: &str) -> Vec<MessageQueue> {
        match self {
            AllocateStrategy::Averagely => allocate_averagely(queues, client_ids, me),
            AllocateStrategy::ByCircle => allocate_by_circle(queues, client_ids, me),
        }
    }
}

/// Queues and ids sorted and deduplicated as Java sorts them, and `me`'s index among the ids.
fn sorted<'a>(
    queues: &[MessageQueue],
    client_ids: &'a [String],
    me: &str,
) -> (Vec<MessageQueue>, usize, Option<usize>) {
    let mut queues = queues.to_vec();
    queues.sort();
    queues.dedup();
    let mut ids: Vec<&'a str> = client_ids.iter().map(String::as_str).collect();
    ids.sort_by(|a, b| java_string_cmp(a, b));
    ids.dedup();
    let index = ids.iter().position(|id| *id == me);
    (queues, ids.len(), index)
}

/// `AVG_BY_CIRCLE`: the `i`-th sorted queue goes to the `i mod c`-th sorted client id, as
/// `AllocateMessageQueueAveragelyByCircle.allocate` does. Empty when `me` is not among the ids.
pub fn allocate_by_circle(queues: &[MessageQueue], client_ids: &[String], me: &str) -> Vec<MessageQueue> {
    let (queues, c, index) = sorted(queues, client_ids, me);
    let Some(index) = index else { return Vec::new() };
    queues.into_iter().skip(index).step_by(c).collect()
}

/// `AVG`: the queues `me` owns among `client_ids` (both lists in any order). Empty when `me` is
/// not among the ids (the broker does not know this instance yet).
pub fn allocate_averagely(queues: &[MessageQueue], client_ids: &[String], me: &str) -> Vec<MessageQueue> {
    let (queues, c, index) = sorted(queues, client_ids, me);
    let (Some(index), n) = (index, queues.len()) else {
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

    /// Indices into the sorted queues that each sorted client gets by circle.
    fn circle_indices(n: i32, c: usize) -> Vec<Vec<usize>> {
        let queues = qs(n);
        let mut sorted = queues.clone();
        sorted.sort();
        let cids = ids(c);
        cids.iter()
            .map(|me| {
                allocate_by_circle(&queues, &cids, me)
                    .iter()
                    .map(|q| sorted.iter().position(|s| s == q).unwrap())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn by_circle_java_vectors() {
        // AllocateMessageQueueAveragelyByCircle: for i in index..n, queue i if i % c == index.
        assert_eq!(circle_indices(8, 3), vec![vec![0, 3, 6], vec![1, 4, 7], vec![2, 5]]);
        assert_eq!(circle_indices(4, 2), vec![vec![0, 2], vec![1, 3]]);
        assert_eq!(circle_indices(5, 1), vec![vec![0, 1, 2, 3, 4]]);
        assert_eq!(circle_indices(2, 4), vec![vec![0], vec![1], vec![], vec![]]);
        assert_eq!(circle_indices(0, 2), vec![Vec::<usize>::new(), vec![]]);
        // The ids are sorted as Java strings first: "@10" < "@2" (ids(11) has @0..@10).
        let cids = ids(11);
        let queues = qs(11);
        let mut sorted = queues.clone();
        sorted.sort();
        assert_eq!(allocate_by_circle(&queues, &cids, "10.0.0.1@10"), vec![sorted[2].clone()]);
        assert_eq!(allocate_by_circle(&queues, &cids, "10.0.0.1@2"), vec![sorted[3].clone()]);
        assert!(allocate_by_circle(&queues, &cids, "unknown").is_empty());
        // Duplicate queues and ids count once.
        let doubled: Vec<MessageQueue> = queues.iter().chain(queues.iter()).cloned().collect();
        let one = vec!["x@1".to_owned(), "x@1".to_owned()];
        assert_eq!(allocate_by_circle(&doubled, &one, "x@1"), sorted);
    }

    #[test]
    fn strategy_dispatches() {
        let queues = qs(6);
        let cids = ids(2);
        assert_eq!(AllocateStrategy::default(), AllocateStrategy::Averagely);
        assert_eq!(
            AllocateStrategy::Averagely.allocate(&queues, &cids, &cids[0]),
            allocate_averagely(&queues, &cids, &cids[0])
        );
        assert_eq!(
            AllocateStrategy::ByCircle.allocate(&queues, &cids, &cids[1]),
            allocate_by_circle(&queues, &cids, &cids[1])
        );
        assert_eq!(AllocateStrategy::ByCircle.name(), "AVG_BY_CIRCLE");
    }

    proptest! {
        #[test]
        fn every_queue_exactly_once(n in 0i32..40, c in 1usize..12, circle in any::<bool>()) {
            let strategy = if circle { AllocateStrategy::ByCircle } else { AllocateStrategy::Averagely };
            let queues = qs(n);
            let cids = ids(c);
            let mut all: Vec<MessageQueue> = cids.iter().flat_map(|me| strategy.allocate(&queues, &cids, me)).collect();
            all.sort();
            let mut expected = queues.clone();
            expected.sort();
            prop_assert_eq!(all, expected);
        }
    }
}
