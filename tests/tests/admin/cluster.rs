//! `Admin::cluster_list` against `mqadmin clusterList`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use ons_tests::support::rt;
use rocketmq_ons::admin::{BrokerRole, ClusterBroker};
use rocketmq_ons::ErrorKind;

use super::{admin, broker_addrs, cluster_name, mqadmin, version_desc};

/// The cluster list once every broker answers GET_BROKER_RUNTIME_INFO. A 4.9.7 broker answers it
/// with code 1 (`NoSuchElementException` from `LinkedList.getLast`) until its store statistics
/// took their first sample (`store/src/main/java/org/apache/rocketmq/store/StoreStatsService.java`
/// at `rocketmq-all-4.9.7`), shortly after it started; until then ours lists the broker with its
/// `runtime_error`, as mqadmin prints the exception and an empty version.
async fn cluster_list_with_runtime_info() -> Vec<ClusterBroker> {
    let admin = admin();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let brokers = admin.cluster_list().await.unwrap();
        if brokers.iter().all(|b| b.runtime_error.is_none()) || Instant::now() > deadline {
            return brokers;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[test]
fn cluster_list_shows_both_masters_with_their_version_like_mqadmin() {
    let brokers = rt().block_on(cluster_list_with_runtime_info());
    let ours: BTreeSet<(String, String, String, String, String)> = brokers
        .iter()
        .map(|b| {
            assert_eq!(b.role, BrokerRole::Master, "{b:?}");
            assert!(b.runtime_error.is_none(), "{b:?}");
            assert!(b.runtime.contains_key("putTps"), "runtime figures are read too: {b:?}");
            (
                b.cluster.clone(),
                b.broker_name.clone(),
                b.broker_id.to_string(),
                b.addr.clone(),
                b.version.clone().unwrap_or_default(),
            )
        })
        .collect();
    let [a, b] = broker_addrs();
    let expected: BTreeSet<_> = [("broker-a", a), ("broker-b", b)]
        .into_iter()
        .map(|(name, addr)| (cluster_name(), name.to_owned(), "0".to_owned(), addr, version_desc()))
        .collect();
    assert_eq!(ours, expected);

    // mqadmin clusterList: #Cluster Name, #Broker Name, #BID, #Addr, #Version, then load figures.
    let out = mqadmin(&["clusterList"]);
    let theirs: BTreeSet<_> = super::rows_starting_with(&out, &cluster_name())
        .into_iter()
        .map(|c| (c[0].to_owned(), c[1].to_owned(), c[2].to_owned(), c[3].to_owned(), c[4].to_owned()))
        .collect();
    assert_eq!(ours, theirs, "mqadmin clusterList:\n{out}");
}

#[test]
fn runtime_info_of_one_broker_and_errors_name_the_broker() {
    rt().block_on(async {
        cluster_list_with_runtime_info().await;
        let admin = admin();
        let [a, _] = broker_addrs();
        let info = admin.broker_runtime_info(&a).await.unwrap();
        assert_eq!(info.get("brokerVersionDesc"), Some(&version_desc()));
        // Nothing listens on port 1: the error says which address and what was asked.
        let err = admin.broker_runtime_info("127.0.0.1:1").await.unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Network | ErrorKind::Timeout), "{err}");
        assert!(err.message().contains("get broker runtime info on broker 127.0.0.1:1"), "{err}");
    });
}
