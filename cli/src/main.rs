//! `ons`: a command-line tool over the rocketmq-ons core. Prints one JSON line per result.
//!
//! ```text
//! ons send --namesrv 127.0.0.1:9876 --topic T [--group G] [--tag A] [--key K] \
//!          (--body TEXT | --body-file F) [--property k=v]... [--deliver-at MS|+DURATION] \
//!          [--sharding-key K] [--count N] [--mode sync|async|oneway] [--header-format json|rocketmq]
//! ```

use std::collections::BTreeMap;
use std::process::ExitCode;

use rocketmq_ons::config::{keys, Properties};
use rocketmq_ons::message::{Message, SendResult};
use rocketmq_ons::producer::{OrderProducer, Producer};

const USAGE: &str = "usage:
  ons send --topic T [--namesrv ADDR] [--group G] [--tag TAG] [--key KEY]
           (--body TEXT | --body-file FILE) [--property k=v]... [--deliver-at MS|+10s|+2m]
           [--sharding-key K] [--count N] [--mode sync|async|oneway]
           [--header-format json|rocketmq] [--access-key AK --secret-key SK]

  NAMESRV_ADDR from the environment is used when --namesrv is absent.
  Prints one JSON line per sent message (sync and async modes).";

struct Args {
    flags: BTreeMap<String, Vec<String>>,
}

impl Args {
    fn parse(raw: &[String]) -> Result<Args, String> {
        let mut flags: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut it = raw.iter();
        while let Some(a) = it.next() {
            let name = a.strip_prefix("--").ok_or_else(|| format!("unexpected argument {a:?}"))?;
            let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
            flags.entry(name.to_owned()).or_default().push(value.clone());
        }
        Ok(Args { flags })
    }

    fn one(&self, name: &str) -> Option<&str> {
        self.flags.get(name).and_then(|v| v.last()).map(String::as_str)
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
    ])?;
    let namesrv = args
        .one("namesrv")
        .map(str::to_owned)
        .or_else(|| std::env::var("NAMESRV_ADDR").ok())
        .ok_or("--namesrv (or NAMESRV_ADDR in the environment) is required")?;
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
    if let (Some(ak), Some(sk)) = (args.one("access-key"), args.one("secret-key")) {
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
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ons: {e}");
            ExitCode::FAILURE
        }
    }
}
