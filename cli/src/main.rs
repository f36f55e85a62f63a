//! `ons`: a command-line tool over the rocketmq-ons core. Prints one JSON line per result.
//!
//! ```text
//! ons send --namesrv 127.0.0.1:9876 --topic T [--group G] [--tag A] [--key K] \
//!          (--body TEXT | --body-file F) [--property k=v]... [--deliver-at MS|+DURATION] \
//!          [--sharding-key K] [--count N] [--mode sync|async|oneway] [--header-format json|rocketmq]
//! ons consume --topic T --group G [--expr EXPR | --sql SQL] [--broadcast] [--orderly]
//!          [--count N] [--json] [--from last|first|EPOCH_MS]
//! ```

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use rocketmq_ons::config::{keys, Properties};
use rocketmq_ons::consumer::{
    Action, ConsumeContext, ConsumeOrderContext, Consumer, MessageListener, MessageOrderListener, MessageSelector,
    OrderAction, OrderConsumer,
};
use rocketmq_ons::message::{Message, SendResult};
use rocketmq_ons::producer::{OrderProducer, Producer};

const USAGE: &str = "usage:
  ons send --topic T [--namesrv ADDR] [--group G] [--tag TAG] [--key KEY]
           (--body TEXT | --body-file FILE) [--property k=v]... [--deliver-at MS|+10s|+2m]
           [--sharding-key K] [--count N] [--mode sync|async|oneway]
           [--header-format json|rocketmq] [--access-key AK] [--secret-key-file FILE]

  ons consume --topic T --group G [--namesrv ADDR] [--expr 'TagA || TagB' | --sql SQL]
           [--broadcast] [--orderly] [--count N] [--json] [--from last|first|EPOCH_MS]
           [--instance NAME] [--threads N] [--offset-dir DIR]
           [--header-format json|rocketmq] [--access-key AK] [--secret-key-file FILE]

  NAMESRV_ADDR from the environment is used when --namesrv is absent.
  Credentials (ACL): the access key from --access-key or ONS_ACCESS_KEY; the secret key from
  --secret-key-file FILE (its first line), ONS_SECRET_KEY, or --secret-key SK (visible to
  every user in `ps`: prefer the file or the environment). One given without the other is an
  error.
  send prints one JSON line per sent message (sync and async modes).
  consume prints one line per consumed message (with --json a JSON object: msgId, topic, tag,
  keys, bodyBase64, bodyUtf8, properties, reconsumeTimes, queueId, queueOffset, bornTimestamp,
  storeTimestamp) and commits it; it stops after --count messages (further deliveries are left
  uncommitted for the group), or on Ctrl-C.";

/// Options that take no value.
const BARE_FLAGS: [&str; 3] = ["json", "broadcast", "orderly"];

struct Args {
    flags: BTreeMap<String, Vec<String>>,
}

impl Args {
    fn parse(raw: &[String]) -> Result<Args, String> {
        let mut flags: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut it = raw.iter();
        while let Some(a) = it.next() {
            let name = a.strip_prefix("--").ok_or_else(|| format!("unexpected argument {a:?}"))?;
            if BARE_FLAGS.contains(&name) {
                flags.entry(name.to_owned()).or_default().push(String::new());
                continue;
            }
            let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
            flags.entry(name.to_owned()).or_default().push(value.clone());
        }
        Ok(Args { flags })
    }

    fn one(&self, name: &str) -> Option<&str> {
        self.flags.get(name).and_then(|v| v.last()).map(String::as_str)
    }

    /// `--namesrv`, else NAMESRV_ADDR from the environment.
    fn namesrv(&self) -> Result<String, String> {
        self.one("namesrv")
            .map(str::to_owned)
            .or_else(|| std::env::var("NAMESRV_ADDR").ok())
            .ok_or_else(|| "--namesrv (or NAMESRV_ADDR in the environment) is required".to_owned())
    }

    fn flag(&self, name: &str) -> bool {
        self.flags.contains_key(name)
    }

    fn all(&self, name: &str) -> &[String] {
        self.flags.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    fn check_known(&self, known: &[&str]) -> Result<(), String> {
        match self.flags.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(format!("unknown option --{k}")),
            None => Ok(()),
        }
    }
}

/// The ACL credentials, if any: the access key from `--access-key` or `ONS_ACCESS_KEY`, the
/// secret from `--secret-key-file` (first line), `--secret-key` or `ONS_SECRET_KEY`. Options
/// win over the environment. `env` reads the environment (a parameter for the tests).
fn credentials(args: &Args, env: impl Fn(&str) -> Option<String>) -> Result<Option<(String, String)>, String> {
    let non_empty = |v: Option<String>| v.filter(|v| !v.is_empty());
    let access_key = non_empty(args.one("access-key").map(str::to_owned)).or_else(|| non_empty(env("ONS_ACCESS_KEY")));
    let secret_key = match (args.one("secret-key"), args.one("secret-key-file")) {
        (Some(_), Some(_)) => return Err("--secret-key and --secret-key-file exclude each other".into()),
        (Some(sk), None) => Some(sk.to_owned()),
        (None, Some(path)) => Some(read_secret_file(path)?),
        (None, None) => non_empty(env("ONS_SECRET_KEY")),
    };
    match (access_key, secret_key) {
        (Some(ak), Some(sk)) => Ok(Some((ak, sk))),
        (None, None) => Ok(None),
        (Some(_), None) => Err("--access-key needs a secret key: --secret-key-file FILE, ONS_SECRET_KEY in the \
                                environment, or --secret-key"
            .into()),
        (None, Some(_)) => Err("a secret key needs an access key: --access-key or ONS_ACCESS_KEY".into()),
    }
}

/// The first line of `path` without its line end. The file's content never appears in errors.
fn read_secret_file(path: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("--secret-key-file {path}: {e}"))?;
    let secret = text.lines().next().unwrap_or("");
    if secret.is_empty() {
        return Err(format!("--secret-key-file {path}: the first line is empty"));
    }
    Ok(secret.to_owned())
}

fn parse_deliver_at(raw: &str) -> Result<i64, String> {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    if let Some(rel) = raw.strip_prefix('+') {
        let (num, unit) = rel.split_at(rel.find(|c: char| !c.is_ascii_digit()).unwrap_or(rel.len()));
        let n: i64 = num.parse().map_err(|_| format!("--deliver-at {raw:?}: expected +N[ms|s|m|h|d]"))?;
        let factor = match unit {
            "ms" => 1,
            "" | "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(format!("--deliver-at {raw:?}: unknown unit {unit:?}")),
        };
        Ok(now + n * factor)
    } else {
        raw.parse().map_err(|_| format!("--deliver-at {raw:?}: expected epoch ms or +N[ms|s|m|h|d]"))
    }
}

fn result_json(r: &SendResult) -> serde_json::Value {
    serde_json::json!({
        "msgId": r.message_id,
        "topic": r.topic,
        "status": r.status.name(),
        "brokerName": r.broker_name,
        "queueId": r.queue_id,
        "queueOffset": r.queue_offset,
        "offsetMsgId": r.offset_msg_id,
    })
}

async fn send(args: Args) -> Result<(), String> {
    args.check_known(&[
        "namesrv",
        "topic",
        "group",
        "tag",
        "key",
        "body",
        "body-file",
        "property",
        "deliver-at",
        "sharding-key",
        "count",
        "mode",
        "header-format",
        "access-key",
        "secret-key",
        "secret-key-file",
    ])?;
    let namesrv = args.namesrv()?;
    let topic = args.one("topic").ok_or("--topic is required")?;
    let body: Vec<u8> = match (args.one("body"), args.one("body-file")) {
        (Some(text), None) => text.as_bytes().to_vec(),
        (None, Some(path)) => std::fs::read(path).map_err(|e| format!("--body-file {path}: {e}"))?,
        _ => return Err("exactly one of --body and --body-file is required".into()),
    };
    let count: usize = args.one("count").unwrap_or("1").parse().map_err(|_| "--count must be a number")?;
    let mut props = Properties::new()
        .with(keys::NAMESRV_ADDR, namesrv)
        .with(keys::GROUP_ID, args.one("group").unwrap_or("GID_ons_cli"));
    if let Some(f) = args.one("header-format") {
        props.set(keys::HEADER_FORMAT, f);
    }
    if let Some((ak, sk)) = credentials(&args, |name| std::env::var(name).ok())? {
        props.set(keys::ACCESS_KEY, ak).set(keys::SECRET_KEY, sk);
    }
    let mut msg = Message::new(topic, args.one("tag"), body);
    msg.key = args.one("key").map(str::to_owned);
    for kv in args.all("property") {
        let (k, v) = kv.split_once('=').ok_or_else(|| format!("--property {kv:?}: expected key=value"))?;
        msg.put_user_property(k, v).map_err(|e| e.to_string())?;
    }
    if let Some(at) = args.one("deliver-at") {
        msg.start_deliver_time = Some(parse_deliver_at(at)?);
    }
    let mode = args.one("mode").unwrap_or("sync");

    if let Some(key) = args.one("sharding-key") {
        let producer = OrderProducer::new(&props).map_err(|e| e.to_string())?;
        producer.start().map_err(|e| e.to_string())?;
        let mut outcome = Ok(());
        for _ in 0..count {
            match producer.send(&msg, key).await {
                Ok(r) => println!("{}", result_json(&r)),
                Err(e) => {
                    outcome = Err(e.to_string());
                    break;
                }
            }
        }
        producer.shutdown().await;
        return outcome;
    }

    let producer = Producer::new(&props).map_err(|e| e.to_string())?;
    producer.start().map_err(|e| e.to_string())?;
    let mut outcome = Ok(());
    for _ in 0..count {
        let r = match mode {
            "sync" => producer.send(&msg).await.map(Some),
            "async" => producer.send_async(&msg).await.map(Some),
            "oneway" => producer.send_oneway(&msg).await.map(|_| None),
            other => Err(rocketmq_ons::Error::new(
                rocketmq_ons::ErrorKind::InvalidArgument,
                format!("--mode {other:?}: expected sync, async or oneway"),
            )),
        };
        match r {
            Ok(Some(r)) => println!("{}", result_json(&r)),
            Ok(None) => {}
            Err(e) => {
                outcome = Err(e.to_string());
                break;
            }
        }
    }
    producer.shutdown().await;
    outcome
}

/// One consumed message as the CLI prints it.
fn message_json(m: &Message) -> serde_json::Value {
    let info = m.received.as_ref();
    let properties: BTreeMap<&str, &str> =
        info.map(|i| i.properties.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()).unwrap_or_default();
    serde_json::json!({
        "msgId": m.msg_id,
        "topic": m.topic,
        "tag": m.tag,
        "keys": m.key,
        "bodyBase64": base64::engine::general_purpose::STANDARD.encode(&m.body),
        "bodyUtf8": std::str::from_utf8(&m.body).ok(),
        "properties": properties,
        "reconsumeTimes": m.reconsume_times,
        "queueId": info.map(|i| i.queue_id),
        "queueOffset": info.map(|i| i.queue_offset),
        "brokerName": info.map(|i| i.broker_name.as_str()),
        "bornTimestamp": m.born_timestamp,
        "storeTimestamp": info.map(|i| i.store_timestamp),
    })
}

fn message_line(m: &Message) -> String {
    let info = m.received.as_ref();
    let body = match std::str::from_utf8(&m.body) {
        Ok(text) => text.to_owned(),
        Err(_) => format!("base64:{}", base64::engine::general_purpose::STANDARD.encode(&m.body)),
    };
    format!(
        "{} {} tag={} keys={} queue={}:{} offset={} reconsume={} body={}",
        m.msg_id.as_deref().unwrap_or("-"),
        m.topic,
        m.tag.as_deref().unwrap_or("-"),
        m.key.as_deref().unwrap_or("-"),
        info.map(|i| i.broker_name.as_str()).unwrap_or("-"),
        info.map(|i| i.queue_id).unwrap_or(-1),
        info.map(|i| i.queue_offset).unwrap_or(-1),
        m.reconsume_times,
        body
    )
}

/// Prints consumed messages until `count` of them were printed; deliveries past the count are
/// held (never acknowledged), so the group gets them again after this process is gone.
struct Printer {
    json: bool,
    count: Option<u64>,
    printed: Mutex<u64>,
    done: tokio::sync::Notify,
}

impl Printer {
    /// Prints `m`; false if the count was already reached.
    fn print(&self, m: &Message) -> bool {
        let mut printed = self.printed.lock();
        if self.count.is_some_and(|c| *printed >= c) {
            drop(printed);
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        let line = if self.json { message_json(m).to_string() } else { message_line(m) };
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
            // Nobody reads our output any more: do not acknowledge what was not shown.
            return false;
        }
        *printed += 1;
        if self.count == Some(*printed) {
            self.done.notify_one();
        }
        true
    }
}

async fn consume(args: Args) -> Result<(), String> {
    args.check_known(&[
        "namesrv",
        "topic",
        "group",
        "expr",
        "sql",
        "broadcast",
        "orderly",
        "count",
        "json",
        "from",
        "instance",
        "threads",
        "offset-dir",
        "header-format",
        "access-key",
        "secret-key",
        "secret-key-file",
    ])?;
    let namesrv = args.namesrv()?;
    let topic = args.one("topic").ok_or("--topic is required")?;
    let group = args.one("group").ok_or("--group is required")?;
    let count = match args.one("count") {
        None => None,
        Some(n) => Some(n.parse::<u64>().map_err(|_| "--count must be a number")?),
    };
    let selector = match (args.one("expr"), args.one("sql")) {
        (Some(_), Some(_)) => return Err("--expr and --sql exclude each other".into()),
        (_, Some(sql)) => MessageSelector::by_sql(sql),
        (expr, None) => MessageSelector::by_tag(expr.unwrap_or("*")),
    };
    let mut props = Properties::new().with(keys::NAMESRV_ADDR, namesrv).with(keys::GROUP_ID, group);
    if args.flag("broadcast") {
        props.set(keys::MESSAGE_MODEL, "BROADCASTING");
    }
    match args.one("from") {
        None => {}
        Some("last") => {
            props.set(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_LAST_OFFSET");
        }
        Some("first") => {
            props.set(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_FIRST_OFFSET");
        }
        Some(ms) => {
            props.set(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_TIMESTAMP").set(keys::CONSUME_TIMESTAMP, ms);
        }
    }
    for (flag, key) in [
        ("instance", keys::INSTANCE_NAME),
        ("threads", keys::CONSUME_THREAD_NUMS),
        ("offset-dir", keys::OFFSET_STORE_DIR),
        ("header-format", keys::HEADER_FORMAT),
    ] {
        if let Some(v) = args.one(flag) {
            props.set(key, v);
        }
    }
    if let Some((ak, sk)) = credentials(&args, |name| std::env::var(name).ok())? {
        props.set(keys::ACCESS_KEY, ak).set(keys::SECRET_KEY, sk);
    }
    let printer =
        Arc::new(Printer { json: args.flag("json"), count, printed: Mutex::new(0), done: tokio::sync::Notify::new() });
    if count == Some(0) {
        return Ok(());
    }
    let p = printer.clone();
    let wait = async move {
        tokio::select! {
            _ = p.done.notified() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    // The two consumer kinds differ only in their listener's types and results.
    macro_rules! run {
        ($consumer:expr, $listener:ident, $context:ident, $ok:expr, $not_shown:expr) => {{
            let consumer = $consumer.map_err(|e| e.to_string())?;
            let p = printer.clone();
            let listener: Arc<dyn $listener> =
                Arc::new(move |m: &Message, _: &$context| if p.print(m) { $ok } else { $not_shown });
            consumer.subscribe_with_selector(topic, &selector, listener).map_err(|e| e.to_string())?;
            consumer.start().map_err(|e| e.to_string())?;
            wait.await;
            consumer.shutdown().await;
        }};
    }
    if args.flag("orderly") {
        run!(
            OrderConsumer::new(&props),
            MessageOrderListener,
            ConsumeOrderContext,
            OrderAction::Success,
            OrderAction::Suspend
        );
    } else {
        run!(Consumer::new(&props), MessageListener, ConsumeContext, Action::CommitMessage, Action::ReconsumeLater);
    }
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("ONS_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = argv.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let args = match Args::parse(rest) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("ons: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ons: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match command.as_str() {
        "send" => runtime.block_on(send(args)),
        "consume" => runtime.block_on(consume(args)),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n{USAGE}")),
    };
    // Listeners held past --count block their threads for good; do not wait for them.
    runtime.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ons: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(raw: &[&str]) -> Args {
        Args::parse(&raw.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    fn secret_file(name: &str, content: &str) -> String {
        let path = std::env::temp_dir().join(format!("ons-cli-test-{}-{name}", std::process::id()));
        std::fs::write(&path, content).unwrap();
        path.to_str().unwrap().to_owned()
    }

    fn pair(ak: &str, sk: &str) -> Option<(String, String)> {
        Some((ak.to_owned(), sk.to_owned()))
    }

    #[test]
    fn credentials_from_options_file_and_environment() {
        let none = env_of(&[]);
        assert_eq!(credentials(&args(&[]), &none), Ok(None));
        assert_eq!(credentials(&args(&["--access-key", "AK", "--secret-key", "SK"]), &none), Ok(pair("AK", "SK")));
        // The environment, with ONS names; options win over it.
        let env = env_of(&[("ONS_ACCESS_KEY", "envAK"), ("ONS_SECRET_KEY", "envSK")]);
        assert_eq!(credentials(&args(&[]), &env), Ok(pair("envAK", "envSK")));
        assert_eq!(credentials(&args(&["--access-key", "AK"]), &env), Ok(pair("AK", "envSK")));
        assert_eq!(credentials(&args(&["--secret-key", "SK"]), &env), Ok(pair("envAK", "SK")));
        // A file: its first line, without the line end (CRLF too).
        for (name, content) in [("lf", "fileSK\n"), ("crlf", "fileSK\r\nignored\n"), ("bare", "fileSK")] {
            let path = secret_file(name, content);
            let got = credentials(&args(&["--access-key", "AK", "--secret-key-file", &path]), &env);
            std::fs::remove_file(&path).unwrap();
            assert_eq!(got, Ok(pair("AK", "fileSK")), "{name}");
        }
    }

    #[test]
    fn incomplete_or_conflicting_credentials_are_errors_without_the_secret() {
        let none = env_of(&[]);
        let e = credentials(&args(&["--access-key", "AK"]), &none).unwrap_err();
        assert!(e.contains("--secret-key-file") && e.contains("ONS_SECRET_KEY"), "{e}");
        let e = credentials(&args(&[]), env_of(&[("ONS_SECRET_KEY", "hidden")])).unwrap_err();
        assert!(e.contains("ONS_ACCESS_KEY") && !e.contains("hidden"), "{e}");
        let e = credentials(&args(&["--secret-key", "a", "--secret-key-file", "b"]), &none).unwrap_err();
        assert!(e.contains("exclude each other"), "{e}");
        let e = credentials(&args(&["--access-key", "AK", "--secret-key-file", "/nonexistent/sk"]), &none).unwrap_err();
        assert!(e.starts_with("--secret-key-file /nonexistent/sk: "), "{e}");
        let path = secret_file("empty", "\nhidden\n");
        let e = credentials(&args(&["--access-key", "AK", "--secret-key-file", &path]), &none).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(e.ends_with("the first line is empty") && !e.contains("hidden"), "{e}");
    }
}
