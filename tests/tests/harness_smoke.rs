//! The harness itself: a real cluster comes up, mqadmin sees it, and the Java oracle can send and
//! receive a binary body through it.

#[test]
fn cluster_lists_broker_a() {
    let ns = ons_tests::namesrv();
    assert!(ns.starts_with("127.0.0.1:"), "{ns}");
    let out = ons_tests::mqadmin(&["clusterList", "-n", &ns]);
    assert!(out.contains("broker-a"), "clusterList output:\n{out}");
    assert!(out.contains("DefaultCluster"), "clusterList output:\n{out}");
}

#[test]
fn java_oracle_round_trip() {
    let topic = ons_tests::unique_name("harness_smoke");
    let out = ons_tests::mqadmin(&["updateTopic", "-c", "DefaultCluster", "-t", &topic, "-r", "2", "-w", "2"]);
    assert!(out.contains("success"), "updateTopic output:\n{out}");

    let body = "00ff00010203";
    let sent = ons_tests::java_oracle(&["send", "--topic", &topic, "--tag", "T", "--body-hex", body]);
    assert!(sent.status.success(), "oracle send: {}", String::from_utf8_lossy(&sent.stderr));
    let sent: serde_json::Value = serde_json::from_slice(&sent.stdout).expect("send prints one JSON line");
    assert_eq!(sent["status"], "SEND_OK");

    let group = ons_tests::unique_name("GID_harness_smoke");
    let got = ons_tests::java_oracle(&[
        "consume",
        "--topic",
        &topic,
        "--group",
        &group,
        "--from-first",
        "--count",
        "1",
        "--timeout-ms",
        "60000",
    ]);
    assert!(got.status.success(), "oracle consume: {}", String::from_utf8_lossy(&got.stderr));
    let got: serde_json::Value = serde_json::from_slice(&got.stdout).expect("consume prints one JSON line");
    assert_eq!(got["bodyHex"], body);
    assert_eq!(got["msgId"], sent["msgId"]);
    assert_eq!(got["tags"], "T");
}
