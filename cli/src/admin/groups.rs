//! `ons group create|update|delete|list`, `ons consumer list|progress|lag|info` and
//! `ons offset reset`.

use std::collections::BTreeMap;

use rocketmq_ons::admin::{
    ConsumeStats, ConsumerConnections, ConsumerRunningInfo, ConsumerSubscription, ResetPosition,
    SubscriptionGroupConfig,
};
use serde_json::json;

use super::args::{ConsumerCommand, GroupCommand, GroupName, GroupWrite, OffsetCommand, ResetTo};
use super::{queue_cells, queue_json, Session};
use crate::table::{each, print, time_text, Table};
use crate::Failure;

pub async fn run_group(command: GroupCommand) -> Result<(), Failure> {
    match command {
        GroupCommand::Create(args) => write(args, true).await,
        GroupCommand::Update(args) => write(args, false).await,
        GroupCommand::Delete { group, clean_offsets, target, common } => {
            let session = Session::open(&common)?;
            find_group(&session, &target.name, &group).await?;
            let brokers = session
                .admin
                .delete_subscription_group(&target.name, &group, clean_offsets)
                .await
                .map_err(|e| session.failure(&e))?;
            let json =
                json!({ "group": group, "cluster": target.name, "brokers": brokers, "offsets_deleted": clean_offsets });
            print(common.json, json, || {
                let offsets = if clean_offsets { " and its offsets" } else { "" };
                format!("deleted group {group}{offsets} from {} (cluster {})\n", brokers.join(", "), target.name)
            })
        }
        GroupCommand::List { target, common } => {
            let session = Session::open(&common)?;
            let brokers =
                session.admin.list_subscription_groups(&target.name).await.map_err(|e| session.failure(&e))?;
            let json = json!({
                "brokers": each(&brokers, |b| json!({
                    "broker_name": b.broker_name,
                    "addr": b.addr,
                    "groups": each(&b.groups, group_json),
                })),
            });
            print(common.json, json, || {
                let mut table =
                    Table::new(&["BROKER", "GROUP", "CONSUME", "BROADCAST", "RETRY_QUEUES", "RETRY_MAX_TIMES"]);
                for b in &brokers {
                    for g in &b.groups {
                        table.row(vec![
                            b.broker_name.clone(),
                            g.group_name.clone(),
                            yes_no(g.consume_enable),
                            yes_no(g.consume_broadcast_enable),
                            g.retry_queue_nums.to_string(),
                            g.retry_max_times.to_string(),
                        ]);
                    }
                }
                table.render()
            })
        }
    }
}

fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}

/// A group config with the JSON field names of this tool: the broker's (camelCase) names in
/// snake_case.
fn group_json(config: &SubscriptionGroupConfig) -> serde_json::Value {
    snake_case_keys(serde_json::to_value(config).unwrap_or_default())
}

/// `value` with every object key turned from camelCase to snake_case.
fn snake_case_keys(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            map.into_iter().map(|(key, value)| (snake_case(&key), snake_case_keys(value))).collect()
        }
        serde_json::Value::Array(items) => items.into_iter().map(snake_case_keys).collect(),
        other => other,
    }
}

fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The config of `group` on the first master of `cluster` that has it; fails naming the group
/// when none has.
async fn find_group(session: &Session, cluster: &str, group: &str) -> Result<SubscriptionGroupConfig, Failure> {
    let brokers = session.admin.list_subscription_groups(cluster).await.map_err(|e| session.failure(&e))?;
    brokers
        .into_iter()
        .flat_map(|b| b.groups)
        .find(|g| g.group_name == group)
        .ok_or_else(|| Failure::Runtime(format!("group {group} does not exist on the brokers of cluster {cluster}")))
}

/// `group create` (`create`) or `group update`.
async fn write(args: GroupWrite, create: bool) -> Result<(), Failure> {
    let session = Session::open(&args.common)?;
    let (group, cluster) = (args.group.as_str(), args.target.name.as_str());
    let existing = find_group(&session, cluster, group).await;
    let mut config = match (create, existing) {
        (true, Ok(_)) => {
            return Err(Failure::Runtime(format!(
                "group {group} already exists on cluster {cluster}; change it with `ons group update`"
            )))
        }
        (true, Err(_)) => SubscriptionGroupConfig::new(group),
        (false, existing) => existing?,
    };
    config.consume_enable = args.consume_enable.unwrap_or(config.consume_enable);
    config.consume_broadcast_enable = args.broadcast_enable.unwrap_or(config.consume_broadcast_enable);
    config.retry_max_times = args.retry_max_times.unwrap_or(config.retry_max_times);
    config.retry_queue_nums = args.retry_queues.unwrap_or(config.retry_queue_nums);
    let brokers = session.admin.update_subscription_group(cluster, &config).await.map_err(|e| session.failure(&e))?;
    let json = json!({ "group": group, "cluster": cluster, "brokers": brokers, "config": group_json(&config) });
    print(args.common.json, json, || {
        format!(
            "{} group {group} on {} (cluster {cluster}): consume {}, broadcast {}, {} retry queues, {} retries\n",
            if create { "created" } else { "updated" },
            brokers.join(", "),
            if config.consume_enable { "enabled" } else { "disabled" },
            if config.consume_broadcast_enable { "allowed" } else { "not allowed" },
            config.retry_queue_nums,
            config.retry_max_times,
        )
    })
}

pub async fn run_consumer(command: ConsumerCommand) -> Result<(), Failure> {
    match command {
        ConsumerCommand::List(GroupName { group, common }) => {
            let session = Session::open(&common)?;
            let connections = online(&session, &group).await?;
            print(common.json, connections_json(&group, &connections), || connections_text(&connections))
        }
        ConsumerCommand::Progress { group: GroupName { group, common }, topic } => {
            let session = Session::open(&common)?;
            let stats = progress_of(&session, &group, topic.as_deref()).await?;
            print(common.json, progress_json(&group, &stats), || progress_text(&stats))
        }
        ConsumerCommand::Lag(GroupName { group, common }) => {
            let session = Session::open(&common)?;
            let stats = progress_of(&session, &group, None).await?;
            let mut by_topic: BTreeMap<&str, (usize, i64)> = BTreeMap::new();
            for q in &stats.queues {
                let entry = by_topic.entry(q.queue.topic.as_str()).or_default();
                entry.0 += 1;
                entry.1 = entry.1.saturating_add(q.lag);
            }
            let json = json!({
                "group": group,
                "topics": by_topic.iter().map(|(topic, (queues, lag))| json!({ "topic": topic, "queues": queues, "lag": lag })).collect::<Vec<_>>(),
                "total_lag": stats.total_lag(),
                "total_inflight": stats.total_inflight(),
                "consume_tps": stats.consume_tps,
            });
            print(common.json, json, || {
                let mut table = Table::new(&["TOPIC", "QUEUES", "LAG"]);
                for (topic, (queues, lag)) in &by_topic {
                    table.row(vec![(*topic).to_owned(), queues.to_string(), lag.to_string()]);
                }
                format!("{}{}", table.render(), totals_line(&stats))
            })
        }
        ConsumerCommand::Info { group: GroupName { group, common }, client_id } => {
            let session = Session::open(&common)?;
            let ids: Vec<String> = match client_id {
                Some(id) => vec![id],
                None => online(&session, &group).await?.clients.into_iter().map(|c| c.client_id).collect(),
            };
            let mut infos = Vec::new();
            for id in ids {
                let info = session.admin.consumer_running_info(&group, &id).await.map_err(|e| session.failure(&e))?;
                infos.push((id, info));
            }
            let json = json!({
                "group": group,
                "clients": infos.iter().map(|(id, info)| running_info_json(id, info)).collect::<Vec<_>>(),
            });
            print(common.json, json, || infos.iter().map(|(id, info)| running_info_text(id, info)).collect())
        }
    }
}

/// The group's connections; fails when no client is online (nothing to show or ask).
async fn online(session: &Session, group: &str) -> Result<ConsumerConnections, Failure> {
    let connections = session.admin.consumer_connections(group).await.map_err(|e| session.failure(&e))?;
    if connections.clients.is_empty() {
        return Err(Failure::Runtime(format!(
            "group {group} has no consumer online (check the name with `ons group list`)"
        )));
    }
    Ok(connections)
}

/// The group's progress; fails when the brokers know no offset of it (a name that does not
/// exist, or a group that never committed one).
async fn progress_of(session: &Session, group: &str, topic: Option<&str>) -> Result<ConsumeStats, Failure> {
    if let Some(topic) = topic {
        session.require_topic(topic).await?;
    }
    let stats = session.admin.consume_stats(group, topic).await.map_err(|e| session.failure(&e))?;
    if stats.queues.is_empty() {
        let of_topic = topic.map(|t| format!(" of topic {t}")).unwrap_or_default();
        return Err(Failure::Runtime(format!(
            "group {group} has no offsets{of_topic}: no such group, or it has not consumed yet (check the name \
             with `ons group list`)"
        )));
    }
    Ok(stats)
}

fn subscription_json(s: &ConsumerSubscription) -> serde_json::Value {
    json!({ "topic": s.topic, "expression": s.sub_string, "expression_type": s.expression_type, "tags": s.tags, "sub_version": s.sub_version })
}

fn connections_json(group: &str, c: &ConsumerConnections) -> serde_json::Value {
    json!({
        "group": group,
        "clients": each(&c.clients, |client| json!({
            "client_id": client.client_id,
            "language": client.language,
            "version": client.version,
            "client_addrs": client.client_addrs,
        })),
        "subscriptions": each(&c.subscriptions, subscription_json),
        "consume_type": c.consume_type,
        "message_model": c.message_model,
        "consume_from_where": c.consume_from_where,
    })
}

fn connections_text(c: &ConsumerConnections) -> String {
    let mut clients = Table::new(&["CLIENT_ID", "ADDRESS", "LANGUAGE", "VERSION"]);
    for client in &c.clients {
        let addrs: std::collections::BTreeSet<&str> = client.client_addrs.values().map(String::as_str).collect();
        clients.row(vec![
            client.client_id.clone(),
            addrs.into_iter().collect::<Vec<_>>().join(" "),
            client.language.clone(),
            client.version.to_string(),
        ]);
    }
    let mut subscriptions = Table::new(&["TOPIC", "EXPRESSION", "TYPE"]);
    for s in &c.subscriptions {
        subscriptions.row(vec![s.topic.clone(), s.sub_string.clone(), s.expression_type.clone()]);
    }
    let setting = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".to_owned());
    format!(
        "{}\n{}\nconsume type {}, message model {}, new groups start {}\n",
        clients.render(),
        subscriptions.render(),
        setting(&c.consume_type),
        setting(&c.message_model),
        setting(&c.consume_from_where)
    )
}

fn progress_json(group: &str, stats: &ConsumeStats) -> serde_json::Value {
    json!({
        "group": group,
        "queues": each(&stats.queues, |q| json!({
            "queue": queue_json(&q.queue),
            "broker_offset": q.broker_offset,
            "consumer_offset": q.consumer_offset,
            "pull_offset": q.pull_offset,
            "lag": q.lag,
            "last_timestamp": q.last_timestamp,
        })),
        "total_lag": stats.total_lag(),
        "total_inflight": stats.total_inflight(),
        "consume_tps": stats.consume_tps,
    })
}

fn progress_text(stats: &ConsumeStats) -> String {
    let mut table =
        Table::new(&["TOPIC", "BROKER", "QUEUE", "BROKER_OFFSET", "CONSUMER_OFFSET", "LAG", "LAST_CONSUMED (UTC)"]);
    for q in &stats.queues {
        let offsets = [q.broker_offset, q.consumer_offset, q.lag].map(|n| n.to_string());
        table.row([queue_cells(&q.queue), offsets.to_vec(), vec![time_text(q.last_timestamp)]].concat());
    }
    format!("{}{}", table.render(), totals_line(stats))
}

/// The group's totals under its tables.
fn totals_line(stats: &ConsumeStats) -> String {
    format!(
        "total lag {}, in flight {}, {:.1} consumed/s\n",
        stats.total_lag(),
        stats.total_inflight(),
        stats.consume_tps
    )
}

fn running_info_json(client_id: &str, info: &ConsumerRunningInfo) -> serde_json::Value {
    json!({
        "client_id": client_id,
        "consume_type": info.consume_type(),
        "orderly": info.orderly(),
        "properties": info.properties,
        "subscriptions": each(&info.subscriptions, subscription_json),
        "queues": each(&info.queues, |q| json!({
            "queue": queue_json(&q.queue),
            "commit_offset": q.commit_offset,
            "cached_msg_min_offset": q.cached_msg_min_offset,
            "cached_msg_max_offset": q.cached_msg_max_offset,
            "cached_msg_count": q.cached_msg_count,
            "cached_msg_size_mib": q.cached_msg_size_mib,
            "locked": q.locked,
            "dropped": q.dropped,
            "last_pull_timestamp": q.last_pull_timestamp,
            "last_consume_timestamp": q.last_consume_timestamp,
        })),
    })
}

fn running_info_text(client_id: &str, info: &ConsumerRunningInfo) -> String {
    let topics: Vec<&str> = info.subscriptions.iter().map(|s| s.topic.as_str()).collect();
    let mut table = Table::new(&[
        "TOPIC",
        "BROKER",
        "QUEUE",
        "COMMIT_OFFSET",
        "CACHED",
        "CACHED_MIB",
        "LOCKED",
        "DROPPED",
        "LAST_PULL (UTC)",
    ]);
    for q in &info.queues {
        let cache = [q.commit_offset, q.cached_msg_count, q.cached_msg_size_mib].map(|n| n.to_string());
        let state = vec![yes_no(q.locked), yes_no(q.dropped), time_text(q.last_pull_timestamp)];
        table.row([queue_cells(&q.queue), cache.to_vec(), state].concat());
    }
    format!(
        "client {client_id}: {}{}, subscribed to {}\n{}\n",
        info.consume_type().unwrap_or("consume type unknown"),
        if info.orderly() { ", orderly" } else { "" },
        topics.join(", "),
        table.render()
    )
}

pub async fn run_offset(command: OffsetCommand) -> Result<(), Failure> {
    let OffsetCommand::Reset { group, topic, to, common } = command;
    let session = Session::open(&common)?;
    session.require_topic(&topic).await?;
    let position = match to {
        ResetTo::Earliest => ResetPosition::Earliest,
        ResetTo::Latest => ResetPosition::Latest,
        ResetTo::Time(ms) => ResetPosition::Timestamp(ms),
    };
    let offsets = session.admin.reset_offsets(&group, &topic, position).await.map_err(|e| session.failure(&e))?;
    let json = json!({
        "group": group,
        "topic": topic,
        "offsets": each(&offsets, |o| json!({ "queue": queue_json(&o.queue), "offset": o.offset })),
    });
    print(common.json, json, || {
        let mut table = Table::new(&["BROKER", "QUEUE", "NEW_OFFSET"]);
        for o in &offsets {
            table.row(vec![o.queue.broker_name.clone(), o.queue.queue_id.to_string(), o.offset.to_string()]);
        }
        format!("reset the offsets of group {group} on topic {topic}:\n{}", table.render())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_json_uses_snake_case() {
        let json = group_json(&SubscriptionGroupConfig::new("G"));
        assert_eq!(json["group_name"], "G");
        assert!(json.get("retry_max_times").is_some() && json.get("retryMaxTimes").is_none(), "{json}");
    }
}
