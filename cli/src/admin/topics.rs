//! `ons cluster list` and `ons topic create|update|delete|list|route|stats`.

use rocketmq_ons::admin::{BrokerRole, TopicConfig, TopicRouteInfo};
use serde_json::json;

use super::args::{Common, Perm, TopicCommand, TopicName, TopicWrite};
use super::{queue_json, Session};
use crate::table::{each, print, time_text, Table};
use crate::Failure;

/// Queues of a topic created without --queues (mqadmin's default too).
const DEFAULT_QUEUES: u32 = 8;

pub async fn cluster_list(common: Common) -> Result<(), Failure> {
    let session = Session::open(&common)?;
    let brokers = session.admin.cluster_list().await.map_err(|e| session.failure(&e))?;
    // Runtime figures hold rates as "last-10s last-60s last-600s"; the first is the current one.
    let rate = |runtime: &std::collections::BTreeMap<String, String>, key: &str| {
        runtime.get(key).and_then(|v| v.split_whitespace().next()).and_then(|v| v.parse::<f64>().ok())
    };
    let role = |r: BrokerRole| if r == BrokerRole::Master { "master" } else { "slave" };
    let json = json!({
        "brokers": each(&brokers, |b| json!({
            "cluster": b.cluster,
            "broker_name": b.broker_name,
            "broker_id": b.broker_id,
            "addr": b.addr,
            "role": role(b.role),
            "version": b.version,
            "put_tps": rate(&b.runtime, "putTps"),
            "get_tps": rate(&b.runtime, "getTransferredTps"),
            "runtime": b.runtime,
            "runtime_error": b.runtime_error.as_ref().map(ToString::to_string),
        })),
    });
    print(common.json, json, || {
        let mut table = Table::new(&["CLUSTER", "BROKER", "ID", "ADDRESS", "ROLE", "VERSION", "PUT_TPS", "GET_TPS"]);
        for b in &brokers {
            let tps = |key| rate(&b.runtime, key).map_or("-".to_owned(), |v| format!("{v:.1}"));
            table.row(vec![
                b.cluster.clone(),
                b.broker_name.clone(),
                b.broker_id.to_string(),
                b.addr.clone(),
                role(b.role).to_owned(),
                b.version.clone().unwrap_or_else(|| "unreachable".to_owned()),
                tps("putTps"),
                tps("getTransferredTps"),
            ]);
        }
        let mut text = table.render();
        for b in brokers.iter().filter(|b| b.runtime_error.is_some()) {
            let why = b.runtime_error.as_ref().map(ToString::to_string).unwrap_or_default();
            text.push_str(&format!("{} ({}) did not answer: {why}\n", b.broker_name, b.addr));
        }
        text
    })
}

pub async fn run(command: TopicCommand) -> Result<(), Failure> {
    match command {
        TopicCommand::Create(args) => write(args, true).await,
        TopicCommand::Update(args) => write(args, false).await,
        TopicCommand::Delete { topic, target, common } => {
            let session = Session::open(&common)?;
            session.require_topic(&topic).await?;
            session.admin.delete_topic(&target.name, &topic).await.map_err(|e| session.failure(&e))?;
            let json = json!({ "topic": topic, "cluster": target.name, "deleted": true });
            print(common.json, json, || format!("deleted topic {topic} from cluster {}\n", target.name))
        }
        TopicCommand::List(common) => {
            let session = Session::open(&common)?;
            let topics = session.admin.list_topics().await.map_err(|e| session.failure(&e))?;
            print(common.json, json!({ "topics": topics }), || topics.iter().map(|t| format!("{t}\n")).collect())
        }
        TopicCommand::Route(TopicName { topic, common }) => {
            let session = Session::open(&common)?;
            let route = session.require_topic(&topic).await?;
            print(common.json, route_json(&topic, &route), || route_table(&route))
        }
        TopicCommand::Stats(TopicName { topic, common }) => stats(topic, common).await,
    }
}

fn perm_bits(perm: Perm) -> i32 {
    match perm {
        Perm::Rw => TopicConfig::PERM_READ | TopicConfig::PERM_WRITE,
        Perm::R => TopicConfig::PERM_READ,
        Perm::W => TopicConfig::PERM_WRITE,
    }
}

/// `rw`, `r`, `w` or `-` for permission bits.
fn perm_text(perm: i32) -> String {
    let read = if perm & TopicConfig::PERM_READ != 0 { "r" } else { "" };
    let write = if perm & TopicConfig::PERM_WRITE != 0 { "w" } else { "" };
    let text = format!("{read}{write}");
    if text.is_empty() {
        "-".to_owned()
    } else {
        text
    }
}

/// `topic create` (`create`) or `topic update`.
async fn write(args: TopicWrite, create: bool) -> Result<(), Failure> {
    let session = Session::open(&args.common)?;
    let topic = args.topic.as_str();
    let mut config = if create {
        let topics = session.admin.list_topics().await.map_err(|e| session.failure(&e))?;
        if topics.iter().any(|t| t == topic) {
            return Err(Failure::Runtime(format!("topic {topic} already exists; change it with `ons topic update`")));
        }
        TopicConfig::new(topic, args.queues.unwrap_or(DEFAULT_QUEUES))
    } else {
        // The route holds what each broker has; the first broker's queues stand for all.
        let route = session.require_topic(topic).await?;
        let current = route.queues.first().ok_or_else(|| {
            Failure::Runtime(format!("topic {topic} has a route without queues; recreate it with `ons topic create`"))
        })?;
        TopicConfig {
            read_queue_nums: u32::try_from(current.read_queue_nums).unwrap_or(DEFAULT_QUEUES),
            write_queue_nums: u32::try_from(current.write_queue_nums).unwrap_or(DEFAULT_QUEUES),
            perm: current.perm,
            order: route.order_topic_conf.is_some(),
            ..TopicConfig::new(topic, DEFAULT_QUEUES)
        }
    };
    if let Some(queues) = args.queues {
        config.read_queue_nums = queues;
        config.write_queue_nums = queues;
    }
    config.read_queue_nums = args.read_queues.unwrap_or(config.read_queue_nums);
    config.write_queue_nums = args.write_queues.unwrap_or(config.write_queue_nums);
    config.perm = args.perm.map_or(config.perm, perm_bits);
    config.order = args.order.unwrap_or(config.order);
    let cluster = args.target.name.as_str();
    let brokers = session.admin.update_topic(cluster, &config).await.map_err(|e| session.failure(&e))?;
    let json = json!({
        "topic": topic,
        "cluster": cluster,
        "brokers": brokers,
        "read_queue_nums": config.read_queue_nums,
        "write_queue_nums": config.write_queue_nums,
        "perm": perm_text(config.perm),
        "order": config.order,
    });
    print(args.common.json, json, || {
        format!(
            "{} topic {topic} on {} (cluster {cluster}): {} read / {} write queues each, perm {}, {}\n",
            if create { "created" } else { "updated" },
            brokers.join(", "),
            config.read_queue_nums,
            config.write_queue_nums,
            perm_text(config.perm),
            if config.order { "ordered" } else { "not ordered" },
        )
    })
}

fn route_json(topic: &str, route: &TopicRouteInfo) -> serde_json::Value {
    json!({
        "topic": topic,
        "brokers": each(&route.brokers, |b| json!({
            "cluster": b.cluster,
            "broker_name": b.broker_name,
            "addrs": b.addrs.iter().map(|(id, addr)| (id.to_string(), addr)).collect::<std::collections::BTreeMap<_, _>>(),
        })),
        "queues": each(&route.queues, |q| json!({
            "broker_name": q.broker_name,
            "read_queue_nums": q.read_queue_nums,
            "write_queue_nums": q.write_queue_nums,
            "perm": perm_text(q.perm),
            "topic_sys_flag": q.topic_sys_flag,
        })),
        "order_topic_conf": route.order_topic_conf,
    })
}

fn route_table(route: &TopicRouteInfo) -> String {
    let mut table = Table::new(&["BROKER", "CLUSTER", "ADDRESSES", "READ_QUEUES", "WRITE_QUEUES", "PERM"]);
    for q in &route.queues {
        let broker = route.brokers.iter().find(|b| b.broker_name == q.broker_name);
        let addrs = broker.map_or_else(
            || "-".to_owned(),
            |b| b.addrs.iter().map(|(id, addr)| format!("{id}={addr}")).collect::<Vec<_>>().join(" "),
        );
        table.row(vec![
            q.broker_name.clone(),
            broker.map_or("-", |b| b.cluster.as_str()).to_owned(),
            addrs,
            q.read_queue_nums.to_string(),
            q.write_queue_nums.to_string(),
            perm_text(q.perm),
        ]);
    }
    let mut text = table.render();
    if let Some(conf) = &route.order_topic_conf {
        text.push_str(&format!("order config: {conf}\n"));
    }
    text
}

async fn stats(topic: String, common: Common) -> Result<(), Failure> {
    let session = Session::open(&common)?;
    session.require_topic(&topic).await?;
    let stats = session.admin.topic_stats(&topic).await.map_err(|e| session.failure(&e))?;
    let stored: i64 = stats.queues.iter().map(|q| q.max_offset - q.min_offset).sum();
    let json = json!({
        "topic": topic,
        "queues": each(&stats.queues, |q| json!({
            "queue": queue_json(&q.queue),
            "min_offset": q.min_offset,
            "max_offset": q.max_offset,
            "last_update_timestamp": q.last_update_timestamp,
        })),
        "stored_messages": stored,
        "put_tps": stats.put_tps,
    });
    print(common.json, json, || {
        let mut table = Table::new(&["BROKER", "QUEUE", "MIN_OFFSET", "MAX_OFFSET", "LAST_STORED (UTC)"]);
        for q in &stats.queues {
            table.row(vec![
                q.queue.broker_name.clone(),
                q.queue.queue_id.to_string(),
                q.min_offset.to_string(),
                q.max_offset.to_string(),
                time_text(q.last_update_timestamp),
            ]);
        }
        format!(
            "{}{} queues, {stored} messages stored, {:.1} put/s\n",
            table.render(),
            stats.queues.len(),
            stats.put_tps
        )
    })
}
