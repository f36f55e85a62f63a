//! Helpers every integration test binary shares: one tokio runtime, a tracing capture, new
//! topics that are routable before a test uses them, waiting for a condition, hex.

use parking_lot::Mutex;
use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rocketmq_ons::admin::Admin;
use rocketmq_ons::config::keys;
use rocketmq_ons::Properties;

/// The tests' runtime (two workers, as small as the CI machine).
pub fn rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap())
}

/// Every tracing event of this process at TRACE level, as formatted text (installed as the
/// global subscriber on first use, so it sees all tests of the binary).
pub fn captured_logs() -> String {
    let buf = log_buffer();
    let bytes = buf.lock();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Installs the capture (idempotent). Call it before the first client is created.
pub fn capture_logs() {
    log_buffer();
}

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static BUF: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUF.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || SharedWriter(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber in this binary");
        buf
    })
}

struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl Write for SharedWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Creates `topic` with `queues` queues on every broker through `admin` and waits until the name
/// server routes it (5.x registers at once, 4.x with the broker's next registration).
pub async fn create_topic(admin: &Admin, topic: &str, queues: u32) {
    admin.create_topic(topic, queues, false).await.unwrap_or_else(|e| panic!("create topic {topic}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match admin.max_offsets(topic).await {
            Ok(offsets) if !offsets.is_empty() => return,
            other => assert!(Instant::now() < deadline, "topic {topic} never appeared in the route: {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Properties of a client of `group` on the test cluster (no credentials).
pub fn plain_props(group: &str) -> Properties {
    Properties::new().with(keys::NAMESRV_ADDR, crate::namesrv()).with(keys::GROUP_ID, group)
}

/// A new topic (named from `prefix`) with `queues` queues on every broker of the test cluster,
/// routable when this returns.
pub fn new_topic(prefix: &str, queues: u32) -> String {
    new_topic_as(&plain_props("GID_test_admin"), prefix, queues)
}

/// [`new_topic`] created by an admin client with `admin_props` (a cluster with ACL, a proxy).
pub fn new_topic_as(admin_props: &Properties, prefix: &str, queues: u32) -> String {
    let topic = crate::unique_name(prefix);
    rt().block_on(async {
        let admin = Admin::new(admin_props).unwrap_or_else(|e| panic!("admin client: {e}"));
        create_topic(&admin, &topic, queues).await;
    });
    topic
}

/// Waits until `cond` holds, checking every 200 ms; panics naming `what` after `timeout`.
pub async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

pub fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Consumed messages as (message id, broker name), in the order the listener saw them.
pub type ConsumedLog = Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// A started push consumer of every message of `topic` that falls behind on purpose: pulls of 2
/// messages, 2 listener threads taking 40 ms per message, each message appended to `consumed`.
/// The high-availability tests kill a broker while most messages are still stored at it.
pub fn start_slow_consumer(props: Properties, topic: &str, consumed: ConsumedLog) -> rocketmq_ons::Consumer {
    use rocketmq_ons::{Action, ConsumeContext, Message};
    let consumer = rocketmq_ons::Consumer::new(
        &props
            .with(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_FIRST_OFFSET")
            .with(keys::MAX_BATCH_MESSAGE_COUNT, "2")
            .with(keys::CONSUME_THREAD_NUMS, "2"),
    )
    .unwrap_or_else(|e| panic!("consumer: {e}"));
    let listener = move |m: &Message, _: &ConsumeContext| {
        std::thread::sleep(Duration::from_millis(40));
        let broker = m.received.as_ref().map(|r| r.broker_name.clone()).unwrap_or_default();
        consumed.lock().unwrap().push((m.msg_id.clone().unwrap_or_default(), broker));
        Action::CommitMessage
    };
    consumer.subscribe(topic, "*", Arc::new(listener)).unwrap_or_else(|e| panic!("subscribe {topic}: {e}"));
    consumer.start().unwrap_or_else(|e| panic!("consumer start: {e}"));
    consumer
}

/// Waits until every message id of `expected` (id -> the broker set its send was stored on) is in
/// `consumed` (repeats count once); panics once `within` has passed since `since` (`since_what`
/// names that moment), saying how many are missing from each broker set and, when the test
/// installed [`capture_logs`], what the client logged at INFO and above.
pub async fn wait_all_consumed(
    expected: &std::collections::BTreeMap<String, Arc<str>>,
    consumed: &ConsumedLog,
    since: Instant,
    since_what: &str,
    within: Duration,
) {
    let missing = || {
        let seen: std::collections::BTreeSet<String> =
            consumed.lock().unwrap().iter().map(|(id, _)| id.clone()).collect();
        let mut by_broker = std::collections::BTreeMap::<Arc<str>, usize>::new();
        for (_, broker) in expected.iter().filter(|(id, _)| !seen.contains(*id)) {
            *by_broker.entry(broker.clone()).or_default() += 1;
        }
        by_broker
    };
    loop {
        let by_broker = missing();
        if by_broker.is_empty() {
            return;
        }
        if since.elapsed() >= within {
            let logs = captured_logs();
            let notable: Vec<&str> = logs
                .lines()
                .filter(|l| l.contains(" INFO ") || l.contains(" WARN ") || l.contains(" ERROR "))
                .collect();
            panic!(
                "{} of {} expected messages not consumed {within:?} after {since_what}, missing by the broker \
                 set they were stored on: {by_broker:?}\nthe client's log at INFO and above ({} lines):\n{}",
                by_broker.values().sum::<usize>(),
                expected.len(),
                notable.len(),
                notable.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
