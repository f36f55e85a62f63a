//! Subscription groups: `update_subscription_group`, `delete_subscription_group` and
//! `list_subscription_groups` against `mqadmin updateSubGroup`, `deleteSubGroup` and
//! `exportMetadata -b ADDR -g` (the broker's groups as mqadmin reads them,
//! GET_ALL_SUBSCRIPTIONGROUP_CONFIG without the system groups).

use std::collections::BTreeMap;

use ons_tests::support::rt;
use rocketmq_ons::admin::{Admin, ExponentialRetryPolicy, GroupRetryPolicy, RetryPolicyType, SubscriptionGroupConfig};
use rocketmq_ons::ErrorKind;

use super::{admin, broker_addrs, cluster, cluster_name, is_4x, json_in, mqadmin};

/// The group's config on each broker, by broker name, as ours lists it.
async fn ours_by_broker(admin: &Admin, group: &str) -> BTreeMap<String, Option<SubscriptionGroupConfig>> {
    let listed = admin.list_subscription_groups(&cluster_name()).await.unwrap();
    assert_eq!(listed.iter().map(|b| b.broker_name.as_str()).collect::<Vec<_>>(), ["broker-a", "broker-b"]);
    listed.into_iter().map(|b| (b.broker_name, b.groups.into_iter().find(|g| g.group_name == group))).collect()
}

/// The group's config on each broker as `mqadmin exportMetadata -b ADDR -g` writes it (JSON), by
/// broker name.
fn mqadmin_by_broker(group: &str) -> BTreeMap<String, Option<serde_json::Value>> {
    let [a, b] = broker_addrs();
    [("broker-a", a), ("broker-b", b)]
        .into_iter()
        .map(|(name, addr)| {
            let dir = cluster().dir().join(ons_tests::unique_name("export"));
            let dir_text = dir.to_string_lossy().into_owned();
            let out = mqadmin(&["exportMetadata", "-b", &addr, "-g", "-f", &dir_text]);
            let path = dir.join("subscriptionGroup.json");
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}\n{out}", path.display()));
            let table = json_in(&text);
            (name.to_owned(), table["subscriptionGroupTable"].get(group).cloned())
        })
        .collect()
}

#[test]
fn ours_creates_on_every_master_and_mqadmin_exports_it() {
    let group = ons_tests::unique_name("GID_adm_ours");
    let config = SubscriptionGroupConfig {
        consume_broadcast_enable: false,
        consume_from_min_enable: false,
        retry_queue_nums: 2,
        retry_max_times: 5,
        which_broker_when_consume_slowly: 0,
        ..SubscriptionGroupConfig::new(&group)
    };
    rt().block_on(async {
        let admin = admin();
        let brokers = admin.update_subscription_group(&cluster_name(), &config).await.unwrap();
        assert_eq!(brokers, ["broker-a", "broker-b"]);
        for (broker, stored) in ours_by_broker(&admin, &group).await {
            let stored = stored.unwrap_or_else(|| panic!("{broker} lacks {group}"));
            // 5.x adds its default retry policy to a group created without one.
            assert_eq!(SubscriptionGroupConfig { group_retry_policy: None, ..stored }, config, "{broker}");
        }
    });
    for (broker, exported) in mqadmin_by_broker(&group) {
        let g = exported.unwrap_or_else(|| panic!("mqadmin exportMetadata: {broker} lacks {group}"));
        assert_eq!(g["consumeBroadcastEnable"], false, "{broker}: {g}");
        assert_eq!(g["consumeFromMinEnable"], false, "{broker}: {g}");
        assert_eq!(g["consumeEnable"], true, "{broker}: {g}");
        assert_eq!(g["retryQueueNums"], 2, "{broker}: {g}");
        assert_eq!(g["retryMaxTimes"], 5, "{broker}: {g}");
        assert_eq!(g["whichBrokerWhenConsumeSlowly"], 0, "{broker}: {g}");
    }
}

#[test]
fn mqadmin_creates_and_ours_lists_it_on_both_brokers() {
    let group = ons_tests::unique_name("GID_adm_theirs");
    let c = cluster_name();
    // (mqadmin's own defaults for -d and -m are false, unlike the Java class's.)
    mqadmin(&[
        "updateSubGroup",
        "-c",
        &c,
        "-g",
        &group,
        "-r",
        "7",
        "-q",
        "3",
        "-d",
        "false",
        "-m",
        "true",
        "-s",
        "false",
    ]);
    rt().block_on(async {
        for (broker, stored) in ours_by_broker(&admin(), &group).await {
            let g = stored.unwrap_or_else(|| panic!("{broker} lacks {group}"));
            assert_eq!((g.retry_max_times, g.retry_queue_nums), (7, 3), "{broker}: {g:?}");
            assert!(!g.consume_broadcast_enable && !g.consume_enable && g.consume_from_min_enable, "{broker}: {g:?}");
        }
    });
}

#[test]
fn retry_policy_and_orderly_are_kept_by_5x_brokers_and_ignored_by_4x() {
    let group = ons_tests::unique_name("GID_adm_policy");
    let config = SubscriptionGroupConfig {
        consume_message_orderly: true,
        group_retry_policy: Some(GroupRetryPolicy {
            policy_type: RetryPolicyType::Exponential,
            exponential_retry_policy: Some(ExponentialRetryPolicy { initial: 1000, max: 60_000, multiplier: 3 }),
            customized_retry_policy: None,
        }),
        ..SubscriptionGroupConfig::new(&group)
    };
    rt().block_on(async {
        let admin = admin();
        admin.update_subscription_group(&cluster_name(), &config).await.unwrap();
        for (broker, stored) in ours_by_broker(&admin, &group).await {
            let stored = stored.unwrap_or_else(|| panic!("{broker} lacks {group}"));
            if is_4x() {
                assert_eq!(stored, SubscriptionGroupConfig::new(&group), "{broker}");
            } else {
                assert_eq!(stored, config, "{broker}");
            }
        }
    });
}

#[test]
fn deletes_in_both_directions() {
    let ours = ons_tests::unique_name("GID_adm_del_ours");
    let theirs = ons_tests::unique_name("GID_adm_del_theirs");
    rt().block_on(async {
        let admin = admin();
        for g in [&ours, &theirs] {
            admin.update_subscription_group(&cluster_name(), &SubscriptionGroupConfig::new(g)).await.unwrap();
        }
        assert_eq!(
            admin.delete_subscription_group(&cluster_name(), &ours, true).await.unwrap(),
            ["broker-a", "broker-b"]
        );
        assert!(ours_by_broker(&admin, &ours).await.values().all(Option::is_none));
    });
    assert!(mqadmin_by_broker(&ours).values().all(Option::is_none), "mqadmin still exports {ours}");

    mqadmin(&["deleteSubGroup", "-c", &cluster_name(), "-g", &theirs]);
    rt().block_on(async {
        assert!(ours_by_broker(&admin(), &theirs).await.values().all(Option::is_none), "{theirs} still listed");
    });
}

#[test]
fn bad_group_names_are_refused() {
    rt().block_on(async {
        let admin = admin();
        let err = admin.update_subscription_group(&cluster_name(), &SubscriptionGroupConfig::new("bad group")).await;
        assert_eq!(err.unwrap_err().kind(), ErrorKind::InvalidArgument);
        let err = admin.delete_subscription_group("NoSuchCluster", "GID_x", false).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    });
}
