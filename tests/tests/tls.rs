//! TLS against a real cluster whose name server and broker enforce TLS (`rmq.sh start --tls`: a
//! test CA and a server certificate for 127.0.0.1/localhost in `DIR/tls`; plaintext connections
//! are closed at the first byte). One such cluster serves every test of this binary.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ons_tests::support::{create_topic, rt};
use ons_tests::OwnCluster;
use rocketmq_ons::admin::Admin;
use rocketmq_ons::config::keys;
use rocketmq_ons::{ErrorKind, Message, Producer, Properties};

fn tls_cluster() -> &'static OwnCluster {
    static CLUSTER: OnceLock<Result<OwnCluster, String>> = OnceLock::new();
    match CLUSTER.get_or_init(|| OwnCluster::start(&["--tls"])) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

fn ca_file() -> String {
    tls_cluster().dir().join("tls").join("ca.pem").to_string_lossy().into_owned()
}

fn props(group: &str) -> Properties {
    Properties::new().with(keys::NAMESRV_ADDR, &tls_cluster().namesrv).with(keys::GROUP_ID, group)
}

/// Sends a message and a batch through `p` and reads them back through an Admin with the same
/// TLS settings; with `java`, also checks the Java client (over its own TLS) sees the message.
fn send_and_read_back(p: Properties, label: &str, java: bool) {
    let topic = ons_tests::unique_name(&format!("tls_{label}"));
    let sent = rt().block_on(async {
        let admin = Admin::new(&p).unwrap();
        create_topic(&admin, &topic, 2).await;
        let producer = Producer::new(&p).unwrap();
        producer.start().unwrap();
        let body = format!("over TLS ({label}) \0 ✓").into_bytes();
        let sent = producer.send(&Message::new(&topic, Some("tls"), body.clone())).await.unwrap();
        let back = admin.view_message(&topic, &sent.offset_msg_id).await.unwrap();
        assert_eq!(back.body, body, "{label}");
        assert_eq!(back.tag.as_deref(), Some("tls"));
        let batch: Vec<Message> = (0..3).map(|i| Message::new(&topic, Some("b"), format!("b{i}"))).collect();
        let results = producer.send_batch(&batch).await.unwrap();
        let last = admin.view_message(&topic, &results[2].offset_msg_id).await.unwrap();
        assert_eq!(last.body, "b2");
        producer.shutdown().await;
        sent
    });
    if !java {
        return;
    }
    let out = tls_cluster().java_oracle(&["view", "--topic", &topic, "--offset-msg-id", &sent.offset_msg_id]);
    assert!(out.status.success(), "oracle view over TLS: {}", String::from_utf8_lossy(&out.stderr));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["msgId"].as_str(), Some(sent.message_id.as_str()));
}

#[test]
fn ca_file_client_sends_and_reads_back() {
    send_and_read_back(props("GID_tls_ca").with(keys::TLS_CA_FILE, ca_file()), "ca", true);
}

#[test]
fn skip_verify_client_sends_and_warns_once() {
    ons_tests::support::capture_logs();
    send_and_read_back(props("GID_tls_insecure").with(keys::TLS_INSECURE_SKIP_VERIFY, "true"), "insecure", false);
    // A second client (another instance, so other connections) does not warn again.
    send_and_read_back(
        props("GID_tls_insecure2").with(keys::TLS_INSECURE_SKIP_VERIFY, "true").with(keys::INSTANCE_NAME, "second"),
        "insecure2",
        false,
    );
    let logs = ons_tests::support::captured_logs();
    let warnings = logs.lines().filter(|l| l.contains("WARN") && l.contains("TlsInsecureSkipVerify")).count();
    assert_eq!(warnings, 1, "logs:\n{logs}");
}

#[test]
fn plain_client_fails_fast_and_suggests_tls() {
    rt().block_on(async {
        let p = props("GID_tls_plain").with(keys::SEND_MSG_TIMEOUT_MILLIS, "3000");
        let producer = Producer::new(&p).unwrap();
        producer.start().unwrap();
        let started = Instant::now();
        let err = producer.send(&Message::new("TLS_PLAIN", None, "x")).await.unwrap_err();
        // The name server closes the connection at once; nothing waits for a timeout, and the
        // generous bound only guards against a hang.
        assert!(started.elapsed() < Duration::from_secs(10), "took {:?}: {err}", started.elapsed());
        assert_eq!(err.kind(), ErrorKind::Network, "{err}");
        assert!(err.message().contains("TlsEnable"), "{err}");
        producer.shutdown().await;

        // Straight to the broker (an admin call) says the same.
        let broker = tls_cluster().var("BROKER_A_ADDR").unwrap();
        let instance = rocketmq_ons::client::ClientInstance::get_or_create(
            &rocketmq_ons::config::ClientConfig::from_properties(&p, true).unwrap(),
        );
        let err = instance.heartbeat(&broker).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Network, "{err}");
        assert!(err.message().contains("TlsEnable"), "{err}");
    });
}

#[test]
fn untrusted_server_certificate_is_refused() {
    rt().block_on(async {
        // The harness CA is in no system store: a client trusting only the system roots must
        // refuse the server (and say how to trust it).
        let p = props("GID_tls_untrusted").with(keys::TLS_ENABLE, "true").with(keys::SEND_MSG_TIMEOUT_MILLIS, "3000");
        let producer = match Producer::new(&p) {
            Ok(p) => p,
            Err(e) => {
                // A machine without any system root certificate cannot even configure this.
                assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{e}");
                assert!(e.message().contains("TlsCaFile"), "{e}");
                return;
            }
        };
        producer.start().unwrap();
        let err = producer.send(&Message::new("TLS_UNTRUSTED", None, "x")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Network, "{err}");
        assert!(err.message().contains("TLS handshake"), "{err}");
        assert!(err.message().contains("TlsCaFile"), "{err}");
        producer.shutdown().await;

        // A certificate checked against a name it was not issued for is refused too.
        let wrong_name = props("GID_tls_wrong_name")
            .with(keys::TLS_CA_FILE, ca_file())
            .with(keys::TLS_SERVER_NAME, "broker.invalid")
            .with(keys::SEND_MSG_TIMEOUT_MILLIS, "3000");
        let producer = Producer::new(&wrong_name).unwrap();
        producer.start().unwrap();
        let err = producer.send(&Message::new("TLS_UNTRUSTED", None, "x")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Network, "{err}");
        assert!(err.message().contains("TLS handshake"), "{err}");
        producer.shutdown().await;
    });
}

/// TLS with the system roots, where the "system store" holds the harness CA: rustls-native-certs
/// reads `SSL_CERT_FILE` as the system bundle, so this runs in a child process of this binary
/// with that variable set (setting it here would race with other threads).
#[test]
fn system_roots_client_sends_when_the_store_trusts_the_ca() {
    let namesrv = tls_cluster().namesrv.clone();
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args(["--exact", "system_roots_child", "--ignored", "--nocapture", "--test-threads=1"])
        .env("SSL_CERT_FILE", ca_file())
        .env("ONS_TEST_TLS_CHILD_NAMESRV", &namesrv)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "child failed:\n{text}");
    assert!(text.contains("1 passed"), "the child ran no test:\n{text}");
}

#[test]
#[ignore = "run by system_roots_client_sends_when_the_store_trusts_the_ca in a child process"]
fn system_roots_child() {
    let namesrv = std::env::var("ONS_TEST_TLS_CHILD_NAMESRV").expect("started by the parent test");
    let p = Properties::new()
        .with(keys::NAMESRV_ADDR, namesrv)
        .with(keys::GROUP_ID, "GID_tls_system")
        .with(keys::TLS_ENABLE, "true");
    rt().block_on(async {
        let admin = Admin::new(&p).unwrap();
        let topic = ons_tests::unique_name("tls_system");
        create_topic(&admin, &topic, 2).await;
        let producer = Producer::new(&p).unwrap();
        producer.start().unwrap();
        let sent = producer.send(&Message::new(&topic, None, "system roots")).await.unwrap();
        assert_eq!(admin.view_message(&topic, &sent.offset_msg_id).await.unwrap().body, "system roots");
        producer.shutdown().await;
    });
}
