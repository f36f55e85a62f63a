//! Broker ACL against a real cluster with authentication on (`rmq.sh start --acl`): 5.3.x runs
//! ACL 2.0 (super user `rocketmq`), 4.9.x plain ACL 1.0 (admin account `rocketmq2`); the cluster's
//! `env` file names the account. One such cluster serves every test of this binary.
//!
//! Right keys: every send mode, transactions with check-back, consumption and admin calls work.
//! Wrong secret, unknown key, missing key: an `Authentication` error at once, not a timeout.
//! Secrets and signatures never show in errors, `Debug` output or TRACE logs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use ons_tests::support::{capture_logs, captured_logs, new_topic_as, rt, wait_for};
use ons_tests::{query_until_found, stored_count_reaching, OwnCluster};
use rocketmq_ons::admin::Admin;
use rocketmq_ons::client::ClientInstance;
use rocketmq_ons::config::{keys, ClientConfig};
use rocketmq_ons::{
    Action, ConsumeContext, Consumer, Error, ErrorKind, Message, Producer, Properties, TransactionProducer,
    TransactionStatus,
};

/// A secret that is never right; it must not leak anywhere either.
const WRONG_SECRET: &str = "wrong-Secret-4f1d9c";

fn acl_cluster() -> &'static OwnCluster {
    static CLUSTER: OnceLock<Result<OwnCluster, String>> = OnceLock::new();
    match CLUSTER.get_or_init(|| OwnCluster::start(&["--acl", "--broker-conf", "transactionCheckInterval=3000"])) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

fn access_key() -> String {
    acl_cluster().var("ONS_TEST_ACCESS_KEY").expect("an --acl cluster names its account")
}

fn secret_key() -> String {
    acl_cluster().var("ONS_TEST_SECRET_KEY").expect("an --acl cluster names its account")
}

fn anonymous(group: &str) -> Properties {
    Properties::new().with(keys::NAMESRV_ADDR, &acl_cluster().namesrv).with(keys::GROUP_ID, group)
}

fn signed(group: &str) -> Properties {
    anonymous(group).with(keys::ACCESS_KEY, access_key()).with(keys::SECRET_KEY, secret_key())
}

/// The ways to be refused, each with a group of its own.
fn refused_variants() -> Vec<(&'static str, Properties)> {
    vec![
        (
            "wrong secret",
            anonymous("GID_acl_wrong").with(keys::ACCESS_KEY, access_key()).with(keys::SECRET_KEY, WRONG_SECRET),
        ),
        (
            "unknown key",
            anonymous("GID_acl_unknown").with(keys::ACCESS_KEY, "nobody").with(keys::SECRET_KEY, WRONG_SECRET),
        ),
        ("missing key", anonymous("GID_acl_missing")),
    ]
}

/// Neither the secret nor a signature may show in `text`. The remoting ext field carrying the
/// signature is named `Signature` (brokers' remarks say "signature" in lower case).
fn assert_no_secrets(what: &str, text: &str) {
    for needle in [WRONG_SECRET, "Signature"] {
        assert!(!text.contains(needle), "{what} shows {needle:?}:\n{text}");
    }
    // The harness's right secret is short and numeric: look for it where a value would stand.
    let sk = secret_key();
    for pattern in [format!("={sk}"), format!(": {sk}"), format!("\"{sk}\""), format!("'{sk}'")] {
        assert!(!text.contains(&pattern), "{what} shows the secret ({pattern:?}):\n{text}");
    }
}

fn assert_authentication(label: &str, err: &Error) {
    assert_eq!(err.kind(), ErrorKind::Authentication, "{label}: {err}");
    assert_no_secrets(label, &err.to_string());
    assert_no_secrets(label, &format!("{err:?}"));
}

#[test]
fn right_keys_send_every_mode_and_admin_calls_work() {
    capture_logs();
    let topic = new_topic_as(&signed("GID_acl_admin"), "acl_send", 2);
    rt().block_on(async {
        let p = signed("GID_acl_send");
        let admin = Admin::new(&p).unwrap();
        let producer = Arc::new(Producer::new(&p).unwrap());
        producer.start().unwrap();

        let sync =
            producer.send(&Message::new(&topic, Some("sync"), "sync \0 body").with_key("acl-sync")).await.unwrap();
        let back = admin.view_message(&topic, &sync.offset_msg_id).await.unwrap();
        assert_eq!(back.body, "sync \0 body");
        // QUERY_MESSAGE by unique key: the `_UNIQUE_KEY_QUERY` field is sent unsigned with
        // version 399, which both ACL generations accept. The index is built after the send.
        let by_id = query_until_found(|| admin.query_by_msg_id(&topic, &sync.message_id)).await.unwrap();
        assert_eq!(by_id.len(), 1, "query by message id");
        assert_eq!(by_id[0].body, "sync \0 body");
        let by_key = query_until_found(|| admin.query_by_key(&topic, "acl-sync")).await.unwrap();
        assert_eq!(by_key.len(), 1, "query by key");

        let asynchronous = producer.send_async(&Message::new(&topic, Some("async"), "async")).await.unwrap();
        assert_eq!(admin.view_message(&topic, &asynchronous.offset_msg_id).await.unwrap().body, "async");

        let key = ons_tests::unique_name("acl_oneway");
        producer.send_oneway(&Message::new(&topic, Some("oneway"), "oneway").with_key(&key)).await.unwrap();
        let found = query_until_found(|| admin.query_by_key(&topic, &key)).await.unwrap();
        assert_eq!(found.len(), 1, "the oneway message never became visible (refused unsigned?)");
        assert_eq!(found[0].body, "oneway");

        let batch: Vec<Message> = (0..5).map(|i| Message::new(&topic, Some("batch"), format!("batch-{i}"))).collect();
        let results = producer.send_batch(&batch).await.unwrap();
        for (i, r) in results.iter().enumerate() {
            assert_eq!(admin.view_message(&topic, &r.offset_msg_id).await.unwrap().body, format!("batch-{i}"));
        }
        assert_eq!(stored_count_reaching(&admin, &topic, 8).await.unwrap(), 8);

        // Heartbeats are signed too (the broker checks them; see the refused test).
        let broker = acl_cluster().var("BROKER_A_ADDR").unwrap();
        let instance = ClientInstance::get_or_create(&ClientConfig::from_properties(&p, true).unwrap());
        instance.heartbeat(&broker).await.unwrap();
        producer.shutdown().await;
    });
}

#[test]
fn wrong_missing_or_unknown_keys_are_authentication_errors() {
    capture_logs();
    let topic = new_topic_as(&signed("GID_acl_admin"), "acl_refused", 2);
    let broker = acl_cluster().var("BROKER_A_ADDR").unwrap();
    rt().block_on(async {
        for (label, p) in refused_variants() {
            let p = p.with(keys::SEND_MSG_TIMEOUT_MILLIS, "10000");
            assert_no_secrets(label, &format!("{p:?}"));
            let config = ClientConfig::from_properties(&p, true).unwrap();
            assert_no_secrets(label, &format!("{config:?}"));

            let producer = Producer::new(&p).unwrap();
            producer.start().unwrap();
            let started = Instant::now();
            // Name servers do not check signatures: the route comes back, the broker refuses.
            let err = producer.send(&Message::new(&topic, None, "refused")).await.unwrap_err();
            assert_authentication(&format!("{label}: sync send"), &err);
            // Refused at once and not retried: well within the 10 s send timeout.
            assert!(started.elapsed() < Duration::from_secs(8), "{label}: took {:?}", started.elapsed());

            let err = producer.send_async(&Message::new(&topic, None, "refused")).await.unwrap_err();
            assert_authentication(&format!("{label}: async send"), &err);
            let batch = [Message::new(&topic, None, "b1"), Message::new(&topic, None, "b2")];
            let err = producer.send_batch(&batch).await.unwrap_err();
            assert_authentication(&format!("{label}: batch send"), &err);
            producer.shutdown().await;

            let instance = ClientInstance::get_or_create(&config);
            let err = instance.heartbeat(&broker).await.unwrap_err();
            assert_authentication(&format!("{label}: heartbeat"), &err);

            let admin = Admin::new(&p).unwrap();
            let err = admin.max_offsets(&topic).await.unwrap_err();
            assert_authentication(&format!("{label}: max offsets"), &err);
            let err = admin.query_by_key(&topic, "k").await.unwrap_err();
            assert_authentication(&format!("{label}: query"), &err);
            let err = admin.create_topic(&ons_tests::unique_name("acl_nope"), 1, false).await.unwrap_err();
            assert_authentication(&format!("{label}: create topic"), &err);

            // A consumer starts (name servers answer without checking) and says at WARN, in its
            // first rebalance, that the broker refuses its group, with no secret in the line.
            let group = p.get(keys::GROUP_ID).unwrap().to_owned();
            let consumer = Consumer::new(&p).unwrap();
            let ignore = Arc::new(|_: &Message, _: &ConsumeContext| Action::CommitMessage);
            consumer.subscribe(&topic, "*", ignore).unwrap();
            consumer.start().unwrap();
            let refusal = format!("consumer list of group {group} for topic {topic} failed, retrying");
            let warning =
                || captured_logs().lines().find(|l| l.contains("WARN") && l.contains(&refusal)).map(str::to_owned);
            wait_for(&format!("{label}: the consumer's warning"), Duration::from_secs(15), || async {
                warning().is_some()
            })
            .await;
            let line = warning().unwrap_or_default();
            assert!(line.to_lowercase().contains("authentication") || line.contains("AUTH"), "{label}: {line}");
            assert_no_secrets(label, &line);
            consumer.shutdown().await;
        }
        // Nothing was stored by the refused clients.
        let admin = Admin::new(&signed("GID_acl_admin")).unwrap();
        assert_eq!(admin.max_offsets(&topic).await.unwrap().iter().map(|(_, _, o)| o).sum::<i64>(), 0);
    });
}

#[test]
fn transactions_commit_and_check_back_under_acl() {
    capture_logs();
    let topic = new_topic_as(&signed("GID_acl_admin"), "acl_tx", 2);
    let checks = Arc::new(AtomicUsize::new(0));
    rt().block_on(async {
        let seen = checks.clone();
        let checker = Arc::new(move |_msg: Message| {
            let seen = seen.clone();
            async move {
                seen.fetch_add(1, Ordering::SeqCst);
                TransactionStatus::CommitTransaction
            }
        });
        let p = signed("GID_acl_tx").with(keys::CHECK_IMMUNITY_TIME_IN_SECONDS, "1");
        let producer = TransactionProducer::new(&p, checker).unwrap();
        producer.start().unwrap();
        for (key, status) in
            [("acl-commit", TransactionStatus::CommitTransaction), ("acl-unknown", TransactionStatus::Unknow)]
        {
            let msg = Message::new(&topic, Some("tx"), key).with_key(key);
            producer.send(&msg, move |_m: Message| async move { status }).await.unwrap();
        }
        // The committed one and, after the broker's check-back (signed heartbeat, signed
        // END_TRANSACTION), the unknown one become visible in the topic.
        let admin = Admin::new(&signed("GID_acl_admin")).unwrap();
        let deadline = Instant::now() + Duration::from_secs(90);
        for key in ["acl-commit", "acl-unknown"] {
            loop {
                if admin.query_by_key(&topic, key).await.unwrap().iter().any(|m| m.body == key.as_bytes()) {
                    break;
                }
                assert!(Instant::now() < deadline, "{key} never became visible (checks: {checks:?})");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        producer.shutdown().await;
    });
    assert!(checks.load(Ordering::SeqCst) >= 1, "the broker never checked back");
}

#[test]
fn signed_consumer_receives() {
    capture_logs();
    let topic = new_topic_as(&signed("GID_acl_admin"), "acl_consume", 2);
    let group = ons_tests::unique_name("GID_acl_consumer");
    rt().block_on(async {
        let producer = Producer::new(&signed("GID_acl_consume_p")).unwrap();
        producer.start().unwrap();
        let mut sent = Vec::new();
        for i in 0..3 {
            sent.push(
                producer.send(&Message::new(&topic, Some("c"), format!("consume-{i}"))).await.unwrap().message_id,
            );
        }
        let got = Arc::new(Mutex::new(Vec::new()));
        let consumer =
            Consumer::new(&signed(&group).with(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_FIRST_OFFSET")).unwrap();
        let sink = got.clone();
        consumer
            .subscribe(
                &topic,
                "*",
                Arc::new(move |m: &Message, _: &ConsumeContext| {
                    sink.lock().unwrap().push(m.msg_id.clone().unwrap_or_default());
                    Action::CommitMessage
                }),
            )
            .unwrap();
        consumer.start().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while got.lock().unwrap().len() < sent.len() {
            assert!(Instant::now() < deadline, "received {:?} of {sent:?}", got.lock().unwrap());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let mut ids = got.lock().unwrap().clone();
        ids.sort();
        ids.dedup();
        sent.sort();
        assert_eq!(ids, sent);
        consumer.shutdown().await;
        producer.shutdown().await;
    });
}

/// Checks the TRACE capture of the whole process as it stands when this test ends (the traffic of
/// the tests that ran before or alongside included) after making refused and accepted requests
/// of its own. The other tests check their own errors and `Debug` output directly.
#[test]
fn trace_logs_show_no_secret_or_signature() {
    capture_logs();
    // Produce some traffic and failures of our own so the capture is not empty.
    let topic = new_topic_as(&signed("GID_acl_admin"), "acl_logs", 2);
    rt().block_on(async {
        for (_, p) in refused_variants() {
            let producer = Producer::new(&p.with(keys::INSTANCE_NAME, "logs")).unwrap();
            producer.start().unwrap();
            let _ = producer.send(&Message::new(&topic, None, "x")).await;
            producer.shutdown().await;
        }
        let producer = Producer::new(&signed("GID_acl_logs")).unwrap();
        producer.start().unwrap();
        producer.send(&Message::new(&topic, None, "x")).await.unwrap();
        producer.shutdown().await;
    });
    let logs = captured_logs();
    assert!(logs.contains("TRACE") || logs.contains("DEBUG"), "the capture saw nothing:\n{logs}");
    assert!(
        logs.to_lowercase().contains("signature") || logs.contains("accessKey") || logs.contains("username"),
        "no refusal was logged:\n{logs}"
    );
    assert_no_secrets("the TRACE log", &logs);
}

/// A second (and third) account on the ACL cluster, made with mqadmin: an ACL 2.0 super user on
/// 5.3+, an ACL 1.0 admin account on 4.9 (both may send, consume and administer).
struct Account {
    access_key: String,
    secret_key: String,
}

impl Account {
    fn create(label: &str) -> Account {
        // ACL 1.0 wants both keys longer than 6 characters, letters and digits.
        let access_key = format!("rotate{label}{}", std::process::id());
        let secret_key = format!("Secret{label}{}x", std::process::id());
        let acl2 = acl_cluster().var("ONS_TEST_ACL_VERSION").as_deref() == Some("2");
        let args: Vec<&str> = if acl2 {
            vec!["createUser", "-c", "DefaultCluster", "-u", &access_key, "-p", &secret_key, "-t", "Super"]
        } else {
            vec!["updateAclConfig", "-c", "DefaultCluster", "-a", &access_key, "-s", &secret_key, "-m", "true"]
        };
        check_mqadmin(&args);
        Account { access_key, secret_key }
    }

    fn delete(&self) {
        let acl2 = acl_cluster().var("ONS_TEST_ACL_VERSION").as_deref() == Some("2");
        if acl2 {
            check_mqadmin(&["deleteUser", "-c", "DefaultCluster", "-u", &self.access_key]);
        } else {
            check_mqadmin(&["deleteAclConfig", "-c", "DefaultCluster", "-a", &self.access_key]);
        }
    }

    fn props(&self) -> Properties {
        Properties::new().with(keys::ACCESS_KEY, &self.access_key).with(keys::SECRET_KEY, &self.secret_key)
    }

    fn client(&self, group: &str) -> Properties {
        anonymous(group).with(keys::ACCESS_KEY, &self.access_key).with(keys::SECRET_KEY, &self.secret_key)
    }
}

/// mqadmin exits 0 whatever happened: a failure shows as an exception or "failed" in its output.
fn check_mqadmin(args: &[&str]) {
    let out = acl_cluster().mqadmin(args);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success() && !text.contains("Exception") && !text.to_lowercase().contains("failed"),
        "mqadmin {args:?}:\n{text}"
    );
}

/// Credential rotation (`update_credential`, the ONS `Admin.updateCredential`) on a running
/// producer and consumer: after it, the first account can be deleted and both keep working,
/// while a client that kept the first account is refused.
#[test]
fn running_clients_rotate_to_a_second_account_and_outlive_the_first() {
    capture_logs();
    let first = Account::create("A");
    let second = Account::create("B");
    let topic = new_topic_as(&signed("GID_acl_admin"), "acl_rotate", 2);
    let group = ons_tests::unique_name("GID_acl_rotate_c");
    rt().block_on(async {
        let producer = Producer::new(&first.client("GID_acl_rotate_p")).unwrap();
        producer.start().unwrap();
        // The same account on an instance of its own: nobody rotates it.
        let stale = Producer::new(&first.client("GID_acl_rotate_p").with(keys::INSTANCE_NAME, "stale")).unwrap();
        stale.start().unwrap();
        let got = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = got.clone();
        let consumer =
            Consumer::new(&first.client(&group).with(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_FIRST_OFFSET")).unwrap();
        consumer
            .subscribe(
                &topic,
                "*",
                Arc::new(move |m: &Message, _: &ConsumeContext| {
                    sink.lock().unwrap().push(String::from_utf8_lossy(&m.body).into_owned());
                    Action::CommitMessage
                }),
            )
            .unwrap();
        consumer.start().unwrap();
        producer.send(&Message::new(&topic, None, "before")).await.unwrap();
        stale.send(&Message::new(&topic, None, "stale-before")).await.unwrap();

        // Validation first: the missing key is named, and nothing changes.
        let err = producer.update_credential(&Properties::new().with(keys::SECRET_KEY, "x")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        assert!(err.message().contains("AccessKey"), "{err}");
        producer.update_credential(&second.props()).unwrap();
        consumer.update_credential(&second.props()).unwrap();

        first.delete();
        // The broker forgets the account at once (ACL 1.0) or when its cache lets go (2.0):
        // wait until the client that kept it is refused.
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            match stale.send(&Message::new(&topic, None, "stale-after")).await {
                Err(e) if e.kind() == ErrorKind::Authentication => {
                    assert_authentication("stale client", &e);
                    break;
                }
                other => {
                    assert!(Instant::now() < deadline, "the deleted account still works: {other:?}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        for i in 0..3 {
            producer.send(&Message::new(&topic, None, format!("after-{i}"))).await.unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let seen = got.lock().unwrap().clone();
            if ["before", "after-0", "after-1", "after-2"].iter().all(|b| seen.iter().any(|s| s == b)) {
                break;
            }
            assert!(Instant::now() < deadline, "the rotated consumer received only {seen:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        consumer.shutdown().await;
        producer.shutdown().await;
        stale.shutdown().await;
        second.delete();
    });
    let logs = captured_logs();
    assert!(logs.contains("credentials updated"), "no log of the rotation");
    for secret in [&first.secret_key, &second.secret_key] {
        assert!(!logs.contains(secret.as_str()), "a rotated secret shows in the logs");
    }
}

/// `OnsChannel` is added to and signed with every request, as the ONS Java SDK does (its
/// `ClientRPCHook`): the broker, which signs every ext field but `Signature`, accepts it. With
/// `LanguageAsJava=true` the broker lists the consumer's connection as `JAVA`, without it `RUST`.
#[test]
fn ons_channel_is_signed_and_language_as_java_is_what_the_broker_sees() {
    let topic = new_topic_as(&signed("GID_acl_admin"), "acl_channel", 2);
    rt().block_on(async {
        let admin = Admin::new(&signed("GID_acl_admin")).unwrap();
        for (java, channel) in [(true, "CLOUD"), (false, "ALL")] {
            let group = ons_tests::unique_name("GID_acl_channel");
            let p = signed(&group).with(keys::ONS_CHANNEL, channel).with(keys::LANGUAGE_AS_JAVA, java.to_string());
            let producer = Producer::new(&p).unwrap();
            producer.start().unwrap();
            let sent = producer.send(&Message::new(&topic, Some("c"), "channel")).await.unwrap();
            assert_eq!(admin.view_message(&topic, &sent.offset_msg_id).await.unwrap().body, "channel");
            producer.shutdown().await;

            let consumer = Consumer::new(&p).unwrap();
            consumer.subscribe(&topic, "*", Arc::new(|_: &Message, _: &ConsumeContext| Action::CommitMessage)).unwrap();
            consumer.start().unwrap();
            wait_for("the consumer online", Duration::from_secs(60), || async {
                admin.consumer_connections(&group).await.is_ok_and(|c| !c.clients.is_empty())
            })
            .await;
            let connections = admin.consumer_connections(&group).await.unwrap();
            let languages: Vec<&str> = connections.clients.iter().map(|c| c.language.as_str()).collect();
            assert_eq!(languages, [if java { "JAVA" } else { "RUST" }], "LanguageAsJava={java}: {connections:?}");
            consumer.shutdown().await;
        }
    });
}
