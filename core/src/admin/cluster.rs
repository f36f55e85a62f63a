//! The brokers of every cluster, as `mqadmin clusterList` shows them: the cluster and broker
//! names and addresses come from the name servers (GET_BROKER_CLUSTER_INFO 106), the version
//! and runtime figures from each broker itself (GET_BROKER_RUNTIME_INFO 28), as
//! `tools/src/main/java/org/apache/rocketmq/tools/command/cluster/ClusterListSubCommand.java`
//! does.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use serde::Deserialize;

use super::{decode_body, Admin, BrokerTarget};
use crate::error::{Error, Result};
use crate::protocol::codes::request;
use crate::protocol::command::RemotingCommand;
use crate::protocol::route::MASTER_ID;

/// A broker's role in its broker group, from its broker id: 0 is the master, any other id a
/// slave (Java `MixAll.MASTER_ID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BrokerRole {
    Master,
    Slave,
}

/// One broker process of a cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterBroker {
    pub cluster: String,
    /// The broker group's name (`brokerName`), shared by its master and slaves.
    pub broker_name: String,
    pub broker_id: i64,
    pub addr: String,
    pub role: BrokerRole,
    /// The version the broker reports (`brokerVersionDesc`, e.g. `V5_3_3`), as mqadmin's
    /// `#Version` column; `None` when its runtime info could not be read.
    pub version: Option<String>,
    /// Everything GET_BROKER_RUNTIME_INFO answered (`putTps`, `getTransferredTps`,
    /// `commitLogDiskRatio`, `brokerActive`, ...; the keys vary with the broker version). Empty
    /// when it could not be read.
    pub runtime: BTreeMap<String, String>,
    /// Why the runtime info could not be read (the broker is registered but unreachable, or
    /// refused): the listing itself still succeeds, as mqadmin's does.
    pub runtime_error: Option<Error>,
}

/// Body of GET_BROKER_RUNTIME_INFO: Java `KVTable`
/// (`remoting/src/main/java/org/apache/rocketmq/remoting/protocol/body/KVTable.java`).
#[derive(Deserialize)]
struct KvTable {
    #[serde(default)]
    table: BTreeMap<String, String>,
}

/// The runtime key holding the version mqadmin shows.
const VERSION_KEY: &str = "brokerVersionDesc";

impl Admin {
    /// Every broker the name servers know, sorted by cluster, broker name and broker id (as
    /// `mqadmin clusterList` prints them), with each broker's version and runtime figures read
    /// from all brokers at once. A broker whose runtime info cannot be read is listed with
    /// [`ClusterBroker::runtime_error`] set.
    pub async fn cluster_list(&self) -> Result<Vec<ClusterBroker>> {
        let info = self.cluster_info().await?;
        let mut brokers = Vec::new();
        for (cluster, names) in &info.cluster_addr_table {
            for name in names {
                let Some(bd) = info.broker_addr_table.get(name) else { continue };
                for (&broker_id, addr) in &bd.broker_addrs {
                    brokers.push(ClusterBroker {
                        cluster: cluster.clone(),
                        broker_name: name.clone(),
                        broker_id,
                        addr: addr.clone(),
                        role: if broker_id == MASTER_ID { BrokerRole::Master } else { BrokerRole::Slave },
                        version: None,
                        runtime: BTreeMap::new(),
                        runtime_error: None,
                    });
                }
            }
        }
        let runtimes = join_all(brokers.iter().map(|b| {
            let target = BrokerTarget::broker(&b.broker_name, &b.addr);
            async move { self.runtime_info_of(&target).await }
        }))
        .await;
        for (broker, runtime) in brokers.iter_mut().zip(runtimes) {
            match runtime {
                Ok(table) => {
                    broker.version = table.get(VERSION_KEY).cloned();
                    broker.runtime = table;
                }
                Err(e) => broker.runtime_error = Some(e),
            }
        }
        Ok(brokers)
    }

    /// The runtime figures of the broker at `addr` (GET_BROKER_RUNTIME_INFO): version, TPS,
    /// thread pool queues, disk use, ... as `mqadmin brokerStatus` prints them.
    pub async fn broker_runtime_info(&self, addr: &str) -> Result<BTreeMap<String, String>> {
        let name = self.instance.broker_name_of(addr).unwrap_or_else(|| addr.to_owned());
        self.runtime_info_of(&BrokerTarget::broker(&name, addr)).await
    }

    async fn runtime_info_of(&self, target: &BrokerTarget) -> Result<BTreeMap<String, String>> {
        let cmd = RemotingCommand::request(request::GET_BROKER_RUNTIME_INFO);
        let resp = self.call_broker(target, cmd, "get broker runtime info").await?;
        decode_runtime_info(&resp.body)
    }
}

fn decode_runtime_info(body: &[u8]) -> Result<BTreeMap<String, String>> {
    Ok(decode_body::<KvTable>(body, "broker runtime info")?.table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_info_decodes() {
        let table = decode_runtime_info(br#"{"table":{"brokerVersionDesc":"V5_3_3","putTps":"0.0 0.0 0.0"}}"#).unwrap();
        assert_eq!(table[VERSION_KEY], "V5_3_3");
        assert!(decode_runtime_info(b"[]").is_err());
        assert!(decode_runtime_info(br#"{"table":{"a":1}}"#).is_err());
    }
}
