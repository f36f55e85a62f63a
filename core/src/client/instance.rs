//! The shared client instance: one per (name servers, credentials, instance name, header
//! format, namespace) in a process, like the Java `MQClientInstance`. It owns the connection
//! pool (one connection per address for every producer and consumer that shares it), the route
//! cache and its refresh, heartbeats, broker versions, request signing, and the dispatch of
//! broker-initiated requests to the producer or consumer group they concern.
//!
//! Nothing here lets one unresponsive broker hold up work meant for others: heartbeats and
//! unregistrations go to every broker at once, each bounded by its own timeout, and the first
//! heartbeat to a newly seen broker runs beside the route lookup that found it, not inside it.
//! Lookups made for a send take the send's remaining time as their budget
//! ([`ClientInstance::route_within`], [`ClientInstance::broker_version`]).
//!
//! Credentials can be replaced on a running instance ([`ClientInstance::update_credentials`],
//! the ONS `Admin.updateCredential`). They belong to the instance, so every client sharing it
//! signs with the new ones from its next request on: clients share an instance only when they
//! were given the same credentials, and what makes one rotate (an expiring STS token, a key
//! being retired) holds for all of them. The registry key follows the credentials: after a
//! rotation, a client created with the new credentials joins the instance, one created with
//! the old ones gets an instance of its own.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use parking_lot::{Mutex, RwLock};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

use crate::auth::{self, Credentials};
use crate::client::name_servers::{self, NameServers};
use crate::config::{keys, ClientConfig};
use crate::hashing::WordHashing;
use crate::http::address_server::AddressServer;
use crate::error::{Error, ErrorKind, Result};
use crate::protocol::codes::{request, response, LanguageCode};
use crate::protocol::command::RemotingCommand;
use crate::protocol::headers::admin::UNIQUE_KEY_QUERY;
use crate::protocol::headers::{GetRouteInfoRequestHeader, RequestHeader, UnregisterClientRequestHeader};
use crate::protocol::message::{decode_stored_messages, property};
use crate::protocol::route::{MessageQueue, TopicRouteData, MASTER_ID};
use crate::transport::tls::TlsSettings;
use crate::transport::{ConnectionPool, InboundHandler, InboundRequest};

/// How long a name-server or admin request may take.
pub const NAMESRV_TIMEOUT: Duration = Duration::from_secs(3);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Heartbeat and route refresh period (Java: 30 s both).
const BACKGROUND_PERIOD: Duration = Duration::from_secs(30);
/// How long one heartbeat or unregistration may wait for a broker's answer. They go to every
/// broker at once, so this also bounds a whole round (and a client's unregistration at shutdown).
pub const BROKER_CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// How long [`ClientInstance::read_target`] passes over an address that could not be reached,
/// when its broker set has another: long enough that a dead master costs one failed request per
/// queue in that time, short enough that a master back from a restart is read from again soon
/// (the route refresh, every 30 s, drops a dead master's address for good).
pub const UNREACHABLE_FOR: Duration = Duration::from_secs(10);

/// How often a topic's route is fetched again while reads of one of its broker sets find no
/// reachable master in it: the name server drops a dead broker at once and, in controller mode,
/// lists the master the set elects within a second or two (docs/high-availability.md), so
/// reads go to it long before the periodic refresh; reads repeat (a pull per queue per second)
/// and must not each cost a lookup.
const ROUTE_RECHECK: Duration = Duration::from_secs(1);

/// A broker address to read a queue from, and its brokerId in the set (0: the master).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadTarget {
    pub addr: String,
    pub broker_id: i64,
}

/// `127.0.0.1:10911 (brokerId 1)`: how logs name the broker a read went to, so that an error
/// from a slave (which may not know a topic created less than a minute before) is told apart
/// from one of the master.
impl std::fmt::Display for ReadTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (brokerId {})", self.addr, self.broker_id)
    }
}

/// Handles broker-initiated requests for one group (a transaction producer's check-back, a
/// consumer's rebalance notification). Runs on the connection's reader task: must not block.
pub trait GroupRequestHandler: Send + Sync {
    fn handle(&self, instance: &Arc<ClientInstance>, request: InboundRequest);
}

/// What a client registered with the instance contributes to heartbeats.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Member {
    Producer {
        group: String,
    },
    /// A consumer group, with its heartbeat `consumerData` JSON object.
    Consumer {
        group: String,
    },
}

struct Registration {
    member: Member,
    handler: Option<Weak<dyn GroupRequestHandler>>,
    /// Consumers' subscription data for the heartbeat, produced on demand.
    consumer_data: Option<Arc<dyn Fn() -> serde_json::Value + Send + Sync>>,
}

/// A cached route with the queues derived from it once, not on every send.
pub struct TopicRoute {
    pub data: TopicRouteData,
    pub publish_queues: Vec<MessageQueue>,
    pub subscribe_queues: Vec<MessageQueue>,
}

pub struct ClientInstance {
    /// This instance, for work it spawns on its own (first heartbeats to new brokers).
    me: Weak<ClientInstance>,
    /// The runtime the instance was made on, where its background work runs.
    runtime: Handle,
    /// The registry key without the credentials' fingerprint (see [`ClientInstance::get_or_create`]).
    settings_key: String,
    /// The registry key: `settings_key` and the fingerprint of the current credentials.
    key: Mutex<String>,
    client_id: String,
    name_servers: NameServers,
    credentials: RwLock<Option<Arc<Credentials>>>,
    pool: ConnectionPool,
    /// The `language` of every request sent (`LanguageAsJava`).
    language: LanguageCode,
    routes: RwLock<HashMap<String, Arc<TopicRoute>, WordHashing>>,
    /// Broker name → version ordinal announced in its heartbeat response.
    broker_versions: Mutex<HashMap<String, i32>>,
    /// Broker addresses that got at least one heartbeat from this instance.
    heartbeated: Mutex<HashSet<String>>,
    /// Broker addresses a consumer's request could not reach, and when: reads pass them over
    /// for another broker of the same set for [`UNREACHABLE_FOR`] (see [`ClientInstance::read_target`]).
    unreachable: Mutex<HashMap<String, Instant>>,
    /// Topic → when [`ClientInstance::recheck_route`] last fetched its route.
    route_rechecked: Mutex<HashMap<String, Instant>>,
    members: Mutex<Vec<(u64, Registration)>>,
    next_member_id: AtomicUsize,
    /// Route refresh and heartbeats; the address server's polling when there is one.
    background: Mutex<Vec<JoinHandle<()>>>,
}

fn registry() -> &'static Mutex<HashMap<String, Weak<ClientInstance>>> {
    static REGISTRY: OnceLock<Mutex<HashMap<String, Weak<ClientInstance>>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// Java replaces instance name `DEFAULT` with the pid so that two processes on one host get
/// distinct client ids; we add a per-process counter so two instances in one process do too.
fn make_client_id(instance_name: &str, seq: usize) -> String {
    let ip = crate::client::identity::local_ip();
    let pid = crate::process::id();
    if instance_name == "DEFAULT" {
        format!("{ip}@{pid}#{seq}")
    } else {
        format!("{ip}@{instance_name}")
    }
}

/// The registry key of an instance with these settings and credentials.
fn registry_key(settings_key: &str, credentials: Option<&Credentials>) -> String {
    format!("{settings_key}|{}", credentials.map(credentials_fingerprint).unwrap_or_default())
}

/// The configured name servers, or an address server to ask for them.
fn make_name_servers(config: &ClientConfig) -> NameServers {
    let server = config.address_server.as_deref().map(|url| AddressServer::new(keys::NAMESRV_ADDR, url));
    match server {
        Some(Ok(server)) => NameServers::from_address_server(server),
        // Already checked when the configuration was parsed; a failure here (the TLS roots
        // could not be loaded) leaves no name server, and every lookup says so.
        Some(Err(e)) => {
            tracing::warn!(error = %e, "the address server cannot be used");
            NameServers::fixed(Vec::new())
        }
        None => NameServers::fixed(config.namesrv_addrs.clone()),
    }
}

/// The access key and a SHA-256 digest of secret and token: equal for equal credentials, and
/// useless for recovering the secret.
fn credentials_fingerprint(c: &Credentials) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(c.secret_key.as_bytes());
    h.update([0u8]);
    h.update(c.security_token.as_deref().unwrap_or("").as_bytes());
    let digest = h.finalize();
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("{}#{hex}", c.access_key)
}

impl Drop for ClientInstance {
    /// The instance lives as long as any producer, consumer or admin handle holds it; when the
    /// last one lets go, background work stops and every connection closes (queued oneway frames
    /// are still written first).
    fn drop(&mut self) {
        for task in self.background.lock().drain(..) {
            task.abort();
        }
        self.pool.close_all();
        let mut reg = registry().lock();
        let key = self.key.get_mut();
        if reg.get(key.as_str()).is_some_and(|w| w.strong_count() == 0) {
            reg.remove(key.as_str());
        }
    }
}

impl ClientInstance {
    /// The instance for this configuration, shared with every other client of the process that
    /// uses the same cluster settings. Must be called within a tokio runtime.
    pub fn get_or_create(config: &ClientConfig) -> Arc<ClientInstance> {
        // The pid is part of the key: a forked child must never reuse an instance of its parent,
        // whose background tasks and sockets live on the parent's runtime threads.
        // The credentials enter as a fingerprint: two clients with one access key but different
        // secrets must not share an instance (one would sign with the other's secret), and the
        // secret itself stays out of the key.
        let name_servers = match &config.address_server {
            Some(url) => format!("address server {url}"),
            None => config.namesrv_addrs.join(";"),
        };
        let settings_key = format!(
            "{}|{}|{}|{:?}|{:?}|{}|{}",
            crate::process::id(),
            name_servers,
            config.instance_name,
            config.serialize_type,
            config.language,
            config.namespace.as_deref().unwrap_or(""),
            config.tls.instance_key(),
        );
        let key = registry_key(&settings_key, config.credentials.as_ref());
        let mut reg = registry().lock();
        if let Some(existing) = reg.get(&key).and_then(Weak::upgrade) {
            return existing;
        }
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let instance = Arc::new_cyclic(|weak: &Weak<ClientInstance>| {
            let for_inbound = weak.clone();
            let inbound: InboundHandler = Arc::new(move |req: InboundRequest| {
                if let Some(instance) = for_inbound.upgrade() {
                    instance.on_inbound(req);
                }
            });
            ClientInstance {
                me: weak.clone(),
                runtime: Handle::current(),
                settings_key,
                key: Mutex::new(key.clone()),
                client_id: make_client_id(&config.instance_name, seq),
                name_servers: make_name_servers(config),
                credentials: RwLock::new(config.credentials.clone().map(Arc::new)),
                pool: ConnectionPool::new(config.serialize_type, CONNECT_TIMEOUT, Some(inbound))
                    .with_tls(TlsSettings::new(&config.tls)),
                language: config.language,
                routes: RwLock::new(HashMap::default()),
                broker_versions: Mutex::new(HashMap::new()),
                heartbeated: Mutex::new(HashSet::new()),
                unreachable: Mutex::new(HashMap::new()),
                route_rechecked: Mutex::new(HashMap::new()),
                members: Mutex::new(Vec::new()),
                next_member_id: AtomicUsize::new(1),
                background: Mutex::new(Vec::new()),
            }
        });
        reg.retain(|_, w| w.strong_count() > 0);
        reg.insert(key, Arc::downgrade(&instance));
        instance.start_background();
        instance
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    fn start_background(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let routes_and_heartbeats = tokio::spawn(async move {
            let mut tick = tokio::time::interval(BACKGROUND_PERIOD);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(instance) = weak.upgrade() else { return };
                instance.refresh_routes().await;
                instance.heartbeat_all().await;
            }
        });
        let mut background = self.background.lock();
        background.push(routes_and_heartbeats);
        if self.name_servers.address_server().is_some() {
            background.push(self.spawn_address_server_polling());
        }
    }

    /// Asks the address server for the name servers now (so that the first request finds them,
    /// or its error, without waiting), then every [`name_servers::REFRESH_PERIOD`] from
    /// [`name_servers::REFRESH_DELAY`] on. A failed fetch keeps the last list.
    fn spawn_address_server_polling(self: &Arc<Self>) -> JoinHandle<()> {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            if let Some(instance) = weak.upgrade() {
                instance.refresh_name_servers().await;
            }
            tokio::time::sleep(name_servers::REFRESH_DELAY).await;
            let mut tick = tokio::time::interval(name_servers::REFRESH_PERIOD);
            loop {
                tick.tick().await;
                let Some(instance) = weak.upgrade() else { return };
                instance.refresh_name_servers().await;
            }
        })
    }

    /// Asks the address server (if the name servers come from one) for the list now, as its
    /// periodic polling does. When the list changed, connections to name servers no longer
    /// listed close and every cached route is fetched again from the new list: a list that names
    /// other name servers may describe another cluster, whose brokers the old routes do not
    /// know. On failure the last list stays, with a warning.
    pub async fn refresh_name_servers(&self) {
        match self.name_servers.refresh().await {
            Ok(None) => {}
            Ok(Some(dropped)) => {
                for addr in dropped {
                    self.pool.close(&addr);
                }
                self.refresh_routes().await;
            }
            Err(e) => {
                let kept = self.name_servers.snapshot().join(";");
                tracing::warn!(error = %e, kept = %kept, "address server failed; keeping the last name-server list");
            }
        }
    }

    /// The name servers in use now: the configured ones, or the address server's last answer
    /// (empty before its first).
    pub fn name_server_addrs(&self) -> Vec<String> {
        self.name_servers.snapshot().to_vec()
    }

    /// Every name server, asking the address server first when it has not answered yet; fails
    /// naming it when it does not answer with a list.
    pub async fn known_name_servers(&self) -> Result<Vec<String>> {
        Ok(self.name_servers.current().await?.0.to_vec())
    }

    /// Replaces the credentials that sign every later request of this instance, and of every
    /// client sharing it (see the module docs), and files the instance under the new ones.
    /// Credentials without an `ons_channel` keep the current one.
    pub fn update_credentials(&self, mut credentials: Credentials) {
        if credentials.ons_channel.is_none() {
            credentials.ons_channel = self.credentials.read().as_ref().and_then(|c| c.ons_channel.clone());
        }
        let new_key = registry_key(&self.settings_key, Some(&credentials));
        let access_key = credentials.access_key.clone();
        *self.credentials.write() = Some(Arc::new(credentials));
        {
            let mut reg = registry().lock();
            let mut key = self.key.lock();
            if *key != new_key {
                if reg.get(key.as_str()).is_some_and(|w| Weak::ptr_eq(w, &self.me)) {
                    reg.remove(key.as_str());
                }
                // An instance already made for the new credentials keeps its place; this one
                // then serves its own clients without being shared further.
                let taken = matches!(reg.get(&new_key), Some(w) if w.strong_count() > 0);
                if !taken {
                    reg.insert(new_key.clone(), self.me.clone());
                }
                *key = new_key;
            }
        }
        tracing::info!(client_id = %self.client_id, access_key = %access_key, "credentials updated for the next requests");
    }

    /// Registers a producer or consumer group; the returned id unregisters it.
    pub fn register(
        &self,
        member: Member,
        handler: Option<Weak<dyn GroupRequestHandler>>,
        consumer_data: Option<Arc<dyn Fn() -> serde_json::Value + Send + Sync>>,
    ) -> Result<u64> {
        let mut members = self.members.lock();
        if members.iter().any(|(_, r)| r.member == member) {
            let (kind, group) = match &member {
                Member::Producer { group } => ("producer", group),
                Member::Consumer { group } => ("consumer", group),
            };
            return Err(Error::invalid_config(format!(
                "a {kind} of group {group} is already started in this process with the same settings; \
                 set a different InstanceName for a second one"
            )));
        }
        let id = self.next_member_id.fetch_add(1, Ordering::Relaxed) as u64;
        members.push((id, Registration { member, handler, consumer_data }));
        Ok(id)
    }

    /// Removes a registration and tells every broker the client left the group: all brokers at
    /// once, so this returns within [`BROKER_CALL_TIMEOUT`] (plus a connect, itself bounded by the
    /// same) however many brokers are unresponsive.
    pub async fn unregister(&self, id: u64) {
        self.unregister_many(&[id]).await
    }

    /// [`unregister`](Self::unregister) of several registrations at once (a client and its
    /// trace producer): every request to every broker at once, so still within one
    /// [`BROKER_CALL_TIMEOUT`].
    pub async fn unregister_many(&self, ids: &[u64]) {
        let removed: Vec<Registration> = {
            let mut members = self.members.lock();
            let mut removed = Vec::new();
            for id in ids {
                if let Some(p) = members.iter().position(|(i, _)| i == id) {
                    removed.push(members.remove(p).1);
                }
            }
            removed
        };
        if removed.is_empty() {
            return;
        }
        let cmds: Vec<RemotingCommand> = removed
            .iter()
            .map(|reg| {
                let (producer_group, consumer_group) = match &reg.member {
                    Member::Producer { group } => (Some(group.as_str()), None),
                    Member::Consumer { group } => (None, Some(group.as_str())),
                };
                UnregisterClientRequestHeader { client_id: &self.client_id, producer_group, consumer_group }.command()
            })
            .collect();
        let addrs = self.all_broker_addrs(false);
        join_all(addrs.iter().flat_map(|addr| {
            cmds.iter().map(move |cmd| {
                let cmd = cmd.clone();
                async move {
                    if let Err(e) = self.invoke(addr, cmd, BROKER_CALL_TIMEOUT).await {
                        tracing::debug!(addr = %addr, error = %e, "unregister failed");
                    }
                }
            })
        }))
        .await;
    }

    /// Makes a request ready to send: this instance's `language`, then the signature (the
    /// signature covers ext fields and body only).
    fn prepare(&self, cmd: &mut RemotingCommand) {
        cmd.language = self.language;
        let Some(creds) = self.credentials.read().clone() else { return };
        // QUERY_MESSAGE's `_UNIQUE_KEY_QUERY` is left out of the signed content: brokers up to
        // 5.0 never verify it, later ones not for request version <= 399
        // (docs/remoting-protocol.md §8), so it is signed without and added back afterwards (the
        // caller sends version 399).
        let unsigned =
            if cmd.code == request::QUERY_MESSAGE { cmd.ext_fields.remove_entry(UNIQUE_KEY_QUERY) } else { None };
        auth::acl::sign(&mut cmd.ext_fields, &cmd.body, &creds);
        if let Some((k, v)) = unsigned {
            cmd.ext_fields.insert(k, v);
        }
    }

    /// Sends a request to a broker (signed when credentials are configured). `timeout` bounds
    /// the whole call, connecting included.
    pub async fn invoke(&self, addr: &str, mut cmd: RemotingCommand, timeout: Duration) -> Result<RemotingCommand> {
        self.prepare(&mut cmd);
        let started = Instant::now();
        let conn = self.pool.get_within(addr, timeout).await?;
        conn.invoke(cmd, timeout.saturating_sub(started.elapsed())).await
    }

    /// Sends a oneway request to a broker (signed when credentials are configured). `timeout`
    /// bounds the whole call, connecting included.
    pub async fn invoke_oneway(&self, addr: &str, mut cmd: RemotingCommand, timeout: Duration) -> Result<()> {
        self.prepare(&mut cmd);
        let started = Instant::now();
        let conn = self.pool.get_within(addr, timeout).await?;
        conn.invoke_oneway(cmd, timeout.saturating_sub(started.elapsed())).await
    }

    /// Sends a request to the name servers, starting with the last one that answered and
    /// failing over to the next on network errors and timeouts.
    pub async fn invoke_namesrv(&self, cmd: RemotingCommand, timeout: Duration) -> Result<RemotingCommand> {
        let (addrs, start) = self.name_servers.current().await?;
        let n = addrs.len();
        let mut last_err = None;
        for i in 0..n {
            let idx = (start + i) % n;
            let addr = &addrs[idx];
            match self.invoke(addr, cmd.clone(), timeout).await {
                Ok(resp) => {
                    self.name_servers.answered(&addrs, idx);
                    return Ok(resp);
                }
                Err(e) if matches!(e.kind(), ErrorKind::Network | ErrorKind::Timeout) => {
                    tracing::debug!(namesrv = %addr, error = %e, "name server unavailable, trying the next");
                    last_err = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        let last = last_err.map(|e| e.to_string()).unwrap_or_default();
        Err(Error::network(format!("no name server of [{}] answered: {last}", addrs.join(";"))))
    }

    /// The route of `topic` (already namespaced), from the cache or the name servers.
    pub async fn route(&self, topic: &str) -> Result<Arc<TopicRoute>> {
        if let Some(route) = self.cached_route(topic) {
            return Ok(route);
        }
        // Boxed: callers await this for every request, and a future holds room for the largest
        // future it awaits; the fetch (some 2.5 KB) runs only when the route is not cached.
        Box::pin(self.fetch_route(topic)).await
    }

    /// [`ClientInstance::route`] that gives up at `deadline` (a send's) when the route must be
    /// fetched. A deadline rather than a budget: a cached route, which almost every send finds,
    /// needs no clock read.
    pub async fn route_until(&self, topic: &str, deadline: Instant) -> Result<Arc<TopicRoute>> {
        if let Some(route) = self.cached_route(topic) {
            return Ok(route);
        }
        let budget = deadline.saturating_duration_since(Instant::now());
        // Boxed as in `route`.
        tokio::time::timeout(budget, Box::pin(self.fetch_route(topic))).await.unwrap_or_else(|_| {
            Err(Error::timeout(format!("the route of topic {topic} was not fetched within {budget:?}")))
        })
    }

    fn cached_route(&self, topic: &str) -> Option<Arc<TopicRoute>> {
        self.routes.read().get(topic).cloned()
    }

    /// Fetches the route of `topic` from the name servers and caches it.
    pub async fn fetch_route(&self, topic: &str) -> Result<Arc<TopicRoute>> {
        let cmd = GetRouteInfoRequestHeader { topic, accept_standard_json_only: true }.command();
        let resp = self.invoke_namesrv(cmd, NAMESRV_TIMEOUT).await?;
        match resp.code {
            response::SUCCESS => {}
            response::TOPIC_NOT_EXIST => {
                return Err(Error::new(
                    ErrorKind::TopicNotFound,
                    format!("topic {topic} has no route on the name servers (does it exist?)"),
                ))
            }
            code => return Err(Error::from_response(code, resp.remark.as_deref(), "route lookup")),
        }
        let data = TopicRouteData::parse(&resp.body)?;
        let route = Arc::new(TopicRoute {
            publish_queues: data.publish_queues(topic),
            subscribe_queues: data.subscribe_queues(topic),
            data,
        });
        self.routes.write().insert(topic.to_owned(), route.clone());
        // A broker seen for the first time learns about our groups now rather than at the next
        // periodic heartbeat (a transaction producer is only checked back once registered), and
        // tells us its version (timed delivery depends on it). In the background: a broker that
        // accepts connections and never answers must not hold up the lookup (or the send that
        // needed it), and each broker gets its heartbeat independently of the others.
        let new_brokers: Vec<String> = {
            let mut known = self.heartbeated.lock();
            route
                .data
                .broker_datas
                .iter()
                .filter_map(|bd| bd.master_addr())
                .filter(|a| known.insert(a.to_string()))
                .map(str::to_owned)
                .collect()
        };
        for addr in new_brokers {
            let me = self.me.clone();
            self.runtime.spawn(async move {
                let Some(instance) = me.upgrade() else { return };
                if let Err(e) = instance.heartbeat(&addr).await {
                    tracing::debug!(addr = %addr, error = %e, "first heartbeat failed");
                    instance.heartbeated.lock().remove(&addr);
                }
            });
        }
        Ok(route)
    }

    /// Drops a cached route so the next use fetches it again (after a send failure).
    pub fn invalidate_route(&self, topic: &str) {
        self.routes.write().remove(topic);
    }

    async fn refresh_routes(&self) {
        let topics: Vec<String> = self.routes.read().keys().cloned().collect();
        for topic in topics {
            if let Err(e) = self.fetch_route(&topic).await {
                tracing::debug!(topic = %topic, error = %e, "route refresh failed; keeping the old route");
            }
        }
    }

    /// Every broker address in the cached routes (masters only unless `with_slaves`).
    pub fn all_broker_addrs(&self, with_slaves: bool) -> Vec<String> {
        let routes = self.routes.read();
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for route in routes.values() {
            for bd in &route.data.broker_datas {
                for (id, addr) in &bd.broker_addrs {
                    if (with_slaves || *id == 0) && seen.insert(addr.clone()) {
                        out.push(addr.clone());
                    }
                }
            }
        }
        out
    }

    /// Where to read `broker_name`'s queues of `topic` from (pulls, offset queries and commits):
    /// brokerId `preferred` when the topic's route lists it, else the master, else the lowest
    /// brokerId listed, passing over addresses [`mark_unreachable`](Self::mark_unreachable)
    /// recently unless every address of the set is. This is how consumers follow a broker's
    /// `suggestWhichBrokerId` and keep reading from a slave while its master is down (as the
    /// Java client's `MQClientInstance.findBrokerAddressInSubscribe` with `onlyThisBroker`
    /// false does once the route stops listing the master; the marks make that switch before
    /// the next route refresh). `None` when no cached route lists the broker set.
    ///
    /// While the route lists no master of the set, or one that cannot be reached, the topic's
    /// route is fetched again in the background (every [`ROUTE_RECHECK`] at most), so that a
    /// master elected in the dead one's place (controller mode) is read from once the name
    /// server lists it.
    pub fn read_target(&self, topic: &str, broker_name: &str, preferred: i64) -> Option<ReadTarget> {
        let (target, master_reachable) = {
            let routes = self.routes.read();
            let data = routes
                .get(topic)
                .and_then(|r| r.data.broker_data(broker_name))
                .or_else(|| routes.values().find_map(|r| r.data.broker_data(broker_name)))?;
            let now = Instant::now();
            let unreachable = self.unreachable.lock();
            let reachable = |addr: &String| {
                unreachable.get(addr).is_none_or(|since| now.duration_since(*since) >= UNREACHABLE_FOR)
            };
            let candidates = [preferred, MASTER_ID].into_iter().chain(data.broker_addrs.keys().copied());
            let listed: Vec<(i64, &String)> =
                candidates.filter_map(|id| data.broker_addrs.get(&id).map(|addr| (id, addr))).collect();
            let (broker_id, addr) = listed.iter().find(|(_, addr)| reachable(addr)).or_else(|| listed.first())?;
            let target = ReadTarget { addr: (*addr).clone(), broker_id: *broker_id };
            (target, data.broker_addrs.get(&MASTER_ID).is_some_and(reachable))
        };
        if !master_reachable {
            self.recheck_route(topic);
        }
        Some(target)
    }

    /// Notes that a request to `addr` failed to reach it (refused, reset, no answer), so that
    /// [`read_target`](Self::read_target) prefers the other brokers of its set for a while.
    pub fn mark_unreachable(&self, addr: &str) {
        self.unreachable.lock().insert(addr.to_owned(), Instant::now());
    }

    /// Fetches `topic`'s route again in the background, unless that was done less than
    /// [`ROUTE_RECHECK`] ago.
    fn recheck_route(&self, topic: &str) {
        let now = Instant::now();
        {
            let mut rechecked = self.route_rechecked.lock();
            if rechecked.get(topic).is_some_and(|at| now.duration_since(*at) < ROUTE_RECHECK) {
                return;
            }
            rechecked.insert(topic.to_owned(), now);
        }
        let me = self.me.clone();
        let topic = topic.to_owned();
        self.runtime.spawn(async move {
            let Some(instance) = me.upgrade() else { return };
            if let Err(e) = instance.fetch_route(&topic).await {
                tracing::debug!(topic = %topic, error = %e, "route lookup for a set without a reachable master failed");
            }
        });
    }

    /// Notes that `addr` answered: it is no longer passed over.
    pub fn mark_reachable(&self, addr: &str) {
        let mut unreachable = self.unreachable.lock();
        if !unreachable.is_empty() {
            unreachable.remove(addr);
        }
    }

    /// Master address of `broker_name` in any cached route.
    pub fn master_addr(&self, broker_name: &str) -> Option<String> {
        let routes = self.routes.read();
        routes.values().find_map(|r| r.data.master_addr(broker_name).map(str::to_owned))
    }

    /// The broker name owning `addr` in any cached route.
    pub fn broker_name_of(&self, addr: &str) -> Option<String> {
        let routes = self.routes.read();
        routes.values().find_map(|r| {
            r.data
                .broker_datas
                .iter()
                .find(|bd| bd.broker_addrs.values().any(|a| a == addr))
                .map(|bd| bd.broker_name.clone())
        })
    }

    fn heartbeat_body(&self) -> Vec<u8> {
        let members = self.members.lock();
        let mut producers = Vec::new();
        let mut consumers = Vec::new();
        for (_, reg) in members.iter() {
            match &reg.member {
                Member::Producer { group } => producers.push(serde_json::json!({ "groupName": group })),
                Member::Consumer { .. } => {
                    if let Some(data) = &reg.consumer_data {
                        consumers.push(data());
                    }
                }
            }
        }
        serde_json::to_vec(&serde_json::json!({
            "clientID": self.client_id,
            "consumerDataSet": consumers,
            "heartbeatFingerprint": 0,
            "producerDataSet": producers,
            "withoutSub": false,
        }))
        .unwrap_or_default()
    }

    /// Sends one heartbeat to `addr` and records the broker's version.
    pub async fn heartbeat(&self, addr: &str) -> Result<()> {
        self.heartbeat_within(addr, BROKER_CALL_TIMEOUT).await
    }

    async fn heartbeat_within(&self, addr: &str, timeout: Duration) -> Result<()> {
        let cmd = RemotingCommand::request(request::HEART_BEAT).with_body(self.heartbeat_body());
        let resp = self.invoke(addr, cmd, timeout).await?;
        if resp.code != response::SUCCESS {
            return Err(Error::from_response(resp.code, resp.remark.as_deref(), "heartbeat"));
        }
        if let Some(name) = self.broker_name_of(addr) {
            self.broker_versions.lock().insert(name, resp.version);
        }
        Ok(())
    }

    /// Heartbeats every known broker (masters, and slaves when consumers are registered), all
    /// at once: returns within [`BROKER_CALL_TIMEOUT`] (plus a bounded connect).
    pub async fn heartbeat_all(&self) {
        let with_slaves = self
            .members
            .lock()
            .iter()
            .any(|(_, r)| matches!(r.member, Member::Consumer { .. }));
        let addrs = self.all_broker_addrs(with_slaves);
        join_all(addrs.iter().map(|addr| async move {
            if let Err(e) = self.heartbeat(addr).await {
                tracing::debug!(addr = %addr, error = %e, "heartbeat failed");
            }
        }))
        .await;
    }

    /// The version ordinal of `broker_name`, heartbeating its master first if it is unknown;
    /// that heartbeat gives up after `budget` (a send's remaining time) or
    /// [`BROKER_CALL_TIMEOUT`], whichever is sooner.
    pub async fn broker_version(&self, broker_name: &str, budget: Duration) -> Result<i32> {
        if let Some(v) = self.broker_versions.lock().get(broker_name) {
            return Ok(*v);
        }
        let addr = self
            .master_addr(broker_name)
            .ok_or_else(|| Error::network(format!("no master address known for broker {broker_name}")))?;
        self.heartbeat_within(&addr, budget.min(BROKER_CALL_TIMEOUT)).await?;
        self.broker_versions
            .lock()
            .get(broker_name)
            .copied()
            .ok_or_else(|| Error::network(format!("broker {broker_name} did not announce its version")))
    }

    /// Routes a broker-initiated request to the group it concerns: consumer requests name their
    /// group in a header field; a transaction check names it only inside the message (PGROUP).
    fn on_inbound(self: &Arc<Self>, req: InboundRequest) {
        let code = req.command.code;
        let group = if code == request::CHECK_TRANSACTION_STATE {
            decode_stored_messages(&req.command.body)
                .ok()
                .and_then(|msgs| msgs.into_iter().next())
                .and_then(|m| m.properties.get(property::PGROUP).map(str::to_owned))
        } else {
            req.command.ext("consumerGroup").or(req.command.ext("group")).map(str::to_owned)
        };
        let handler = group.as_deref().and_then(|g| {
            let members = self.members.lock();
            members.iter().find_map(|(_, reg)| {
                let is_target = match &reg.member {
                    Member::Producer { group } => code == request::CHECK_TRANSACTION_STATE && group == g,
                    Member::Consumer { group } => code != request::CHECK_TRANSACTION_STATE && group == g,
                };
                if is_target {
                    reg.handler.as_ref().and_then(Weak::upgrade)
                } else {
                    None
                }
            })
        });
        match handler {
            Some(h) => h.handle(self, req),
            None => {
                crate::log_limit::debug_limited!(code, group = ?group, from = %req.addr, "server request for no registered group");
                req.responder.respond(RemotingCommand::response(
                    response::REQUEST_CODE_NOT_SUPPORTED,
                    0,
                    Some(format!("request code {code} not handled by client {}", self.client_id)),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{keys, Properties};
    use crate::protocol::codes::VERSION_V4_9_3;

    fn instance(secret: &str) -> Arc<ClientInstance> {
        let props = Properties::new()
            .with(keys::NAMESRV_ADDR, "127.0.0.1:1")
            .with(keys::ACCESS_KEY, "rocketmq2")
            .with(keys::SECRET_KEY, secret);
        ClientInstance::get_or_create(&ClientConfig::from_properties(&props, false).unwrap())
    }

    #[tokio::test]
    async fn query_message_is_signed_without_the_unique_key_flag() {
        // Credentials from properties carry the ONS Java SDK's default OnsChannel.
        let creds = Credentials::new("rocketmq2", "12345678").with_ons_channel("ALIYUN");
        let mut cmd = RemotingCommand::request(request::QUERY_MESSAGE)
            .with_ext("topic", "T")
            .with_ext("key", "K")
            .with_ext("_UNIQUE_KEY_QUERY", "true");
        cmd.version = VERSION_V4_9_3;
        instance("12345678").prepare(&mut cmd);
        assert_eq!(cmd.ext("_UNIQUE_KEY_QUERY"), Some("true"), "sent, though not signed");
        assert_eq!(cmd.ext(auth::acl::ONS_CHANNEL), Some("ALIYUN"));
        let expected = auth::acl::signature([("topic", "T"), ("key", "K")], b"", &creds);
        assert_eq!(cmd.ext(auth::acl::SIGNATURE), Some(expected.as_str()));

        // Any other request signs every field.
        let mut other = RemotingCommand::request(request::HEART_BEAT).with_ext("_UNIQUE_KEY_QUERY", "x");
        instance("12345678").prepare(&mut other);
        let expected = auth::acl::signature([("_UNIQUE_KEY_QUERY", "x")], b"", &creds);
        assert_eq!(other.ext(auth::acl::SIGNATURE), Some(expected.as_str()));
    }

    #[tokio::test]
    async fn reads_follow_the_suggested_broker_and_pass_over_unreachable_ones() {
        let props = Properties::new().with(keys::NAMESRV_ADDR, "127.0.0.1:4");
        let instance = ClientInstance::get_or_create(&ClientConfig::from_properties(&props, false).unwrap());
        let body = br#"{"queueDatas":[{"brokerName":"a","readQueueNums":2,"writeQueueNums":2,"perm":6}],
            "brokerDatas":[{"cluster":"C","brokerName":"a","brokerAddrs":{"0":"m:1","1":"s1:1","2":"s2:1"}}]}"#;
        let data = TopicRouteData::parse(body).unwrap();
        let route = TopicRoute { publish_queues: data.publish_queues("T"), subscribe_queues: data.subscribe_queues("T"), data };
        instance.routes.write().insert("T".to_owned(), Arc::new(route));
        let target = |preferred| instance.read_target("T", "a", preferred).map(|t| (t.addr, t.broker_id));
        assert_eq!(target(0), Some(("m:1".to_owned(), 0)));
        assert_eq!(target(2), Some(("s2:1".to_owned(), 2)), "the broker's suggestion is followed");
        assert_eq!(target(7), Some(("m:1".to_owned(), 0)), "an id the route does not list: the master");
        assert_eq!(instance.read_target("T", "b", 0), None);

        instance.mark_unreachable("m:1");
        assert_eq!(target(0), Some(("s1:1".to_owned(), 1)), "a master that cannot be reached: the first slave");
        instance.mark_unreachable("s1:1");
        assert_eq!(target(0), Some(("s2:1".to_owned(), 2)));
        instance.mark_unreachable("s2:1");
        assert_eq!(target(2), Some(("s2:1".to_owned(), 2)), "all unreachable: the preferred one anyway");
        instance.mark_reachable("m:1");
        assert_eq!(target(1), Some(("m:1".to_owned(), 0)));
        // Marks run out.
        instance.unreachable.lock().insert("s1:1".to_owned(), Instant::now() - UNREACHABLE_FOR);
        assert_eq!(target(1), Some(("s1:1".to_owned(), 1)));
    }

    #[tokio::test]
    async fn language_as_java_sets_every_requests_language_and_its_own_instance() {
        let props = Properties::new().with(keys::NAMESRV_ADDR, "127.0.0.1:2");
        let rust = ClientInstance::get_or_create(&ClientConfig::from_properties(&props, false).unwrap());
        let java_props = props.clone().with(keys::LANGUAGE_AS_JAVA, "true");
        let java = ClientInstance::get_or_create(&ClientConfig::from_properties(&java_props, false).unwrap());
        assert!(!Arc::ptr_eq(&rust, &java), "one instance cannot announce two languages");
        let mut cmd = RemotingCommand::request(request::HEART_BEAT);
        java.prepare(&mut cmd);
        assert_eq!(cmd.language, LanguageCode::Java);
        rust.prepare(&mut cmd);
        assert_eq!(cmd.language, LanguageCode::Rust);
        let bad = props.with(keys::LANGUAGE_AS_JAVA, "yes");
        let err = ClientConfig::from_properties(&bad, false).unwrap_err();
        assert!(err.message().contains("LanguageAsJava"), "{err}");
    }

    #[tokio::test]
    async fn instances_differ_by_secret_not_only_by_access_key() {
        let right = instance("12345678");
        let wrong = instance("not-the-secret");
        assert!(!Arc::ptr_eq(&right, &wrong));
        assert!(Arc::ptr_eq(&right, &instance("12345678")));
        let (right_key, wrong_key) = (right.key.lock().clone(), wrong.key.lock().clone());
        assert!(!right_key.contains("12345678") && !wrong_key.contains("not-the-secret"), "{wrong_key}");
    }

    #[tokio::test]
    async fn a_rotated_instance_signs_with_the_new_keys_and_is_filed_under_them() {
        let rotated = instance("rotate-old");
        let sharing = instance("rotate-old");
        assert!(Arc::ptr_eq(&rotated, &sharing));
        rotated.update_credentials(Credentials::new("rocketmq2", "rotate-new").with_security_token("tok"));

        let mut cmd = RemotingCommand::request(request::HEART_BEAT).with_ext("k", "v");
        sharing.prepare(&mut cmd);
        // The new credentials named no OnsChannel: the instance's (ALIYUN, from its properties)
        // is kept and signed.
        let new = Credentials::new("rocketmq2", "rotate-new").with_security_token("tok").with_ons_channel("ALIYUN");
        let expected = auth::acl::signature([("k", "v")], b"", &new);
        assert_eq!(cmd.ext(auth::acl::SIGNATURE), Some(expected.as_str()));
        assert_eq!(cmd.ext("SecurityToken"), Some("tok"));
        assert_eq!(cmd.ext("OnsChannel"), Some("ALIYUN"));

        // Created with the old keys: an instance of its own; with the new ones: the rotated one.
        let old = instance("rotate-old");
        assert!(!Arc::ptr_eq(&old, &rotated));
        let props = Properties::new()
            .with(keys::NAMESRV_ADDR, "127.0.0.1:1")
            .with(keys::ACCESS_KEY, "rocketmq2")
            .with(keys::SECRET_KEY, "rotate-new")
            .with(keys::SECURITY_TOKEN, "tok");
        let joined = ClientInstance::get_or_create(&ClientConfig::from_properties(&props, false).unwrap());
        assert!(Arc::ptr_eq(&joined, &rotated));
        assert!(!rotated.key.lock().contains("rotate-new"));
    }
}
