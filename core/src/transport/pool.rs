//! The connection pool: at most one live connection per address, created on first use and
//! replaced when it dies (reconnect). Shared by every producer and consumer of a client instance.
//! It also owns connecting: TCP, then the TLS handshake when the instance's settings ask for TLS,
//! both within the connect timeout (or the caller's deadline, when that is sooner).
//!
//! Every TCP connection has keepalive on (see [`KEEPALIVE_IDLE`]): a peer host that vanished
//! without a FIN or RST is found dead even while no request is outstanding. A link that stays
//! open but passes nothing while requests wait is closed by the connection itself (see
//! `connection.rs`); either way the next [`ConnectionPool::get`] connects afresh.
//!
//! Connection tasks run on the runtime the pool was created on, so a pool can be used from
//! other runtimes (or from a binding's runtime) as long as that one lives.

use std::collections::HashMap;
use std::sync::Arc;
use parking_lot::Mutex;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::runtime::Handle;

use super::connection::{Connection, InboundHandler};
use super::tls::TlsSettings;
use crate::error::{Error, Result};
use crate::hashing::WordHashing;
use crate::protocol::command::SerializeType;

type Slot = Arc<tokio::sync::Mutex<Option<Arc<Connection>>>>;

/// TCP keepalive: first probe after this much idleness, then every [`KEEPALIVE_INTERVAL`], the
/// connection reset after [`KEEPALIVE_PROBES`] unanswered probes: a vanished peer is noticed
/// within about 90 s of idleness instead of the kernel's default two hours. (The Java client
/// turns keepalive off and relies on its request timeouts; we keep both.)
const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
const KEEPALIVE_PROBES: u32 = 3;

fn enable_keepalive(stream: &TcpStream) -> std::io::Result<()> {
    let keepalive = socket2::TcpKeepalive::new().with_time(KEEPALIVE_IDLE).with_interval(KEEPALIVE_INTERVAL);
    #[cfg(any(target_os = "linux", target_os = "macos", target_os = "freebsd", target_os = "android"))]
    let keepalive = keepalive.with_retries(KEEPALIVE_PROBES);
    socket2::SockRef::from(stream).set_tcp_keepalive(&keepalive)
}

pub struct ConnectionPool {
    runtime: Handle,
    slots: Mutex<HashMap<String, Slot, WordHashing>>,
    serialize: SerializeType,
    connect_timeout: Duration,
    inbound: Option<InboundHandler>,
    tls: TlsSettings,
}

impl ConnectionPool {
    /// Must be called within a tokio runtime; the pool's connections live on it.
    pub fn new(serialize: SerializeType, connect_timeout: Duration, inbound: Option<InboundHandler>) -> Self {
        ConnectionPool {
            runtime: Handle::current(),
            slots: Mutex::new(HashMap::default()),
            serialize,
            connect_timeout,
            inbound,
            tls: TlsSettings::default(),
        }
    }

    /// Secures every connection of this pool as `tls` says (plain TCP by default).
    pub fn with_tls(mut self, tls: TlsSettings) -> Self {
        self.tls = tls;
        self
    }

    /// The live connection to `addr`, connecting (or reconnecting) if needed, within the pool's
    /// connect timeout. Concurrent callers for one address share a single connect attempt.
    pub async fn get(&self, addr: &str) -> Result<Arc<Connection>> {
        self.get_within(addr, self.connect_timeout).await
    }

    /// [`ConnectionPool::get`] that gives up after `budget` (a send's remaining time): waiting
    /// for another caller's connect attempt and connecting both count against it.
    pub async fn get_within(&self, addr: &str, budget: Duration) -> Result<Arc<Connection>> {
        let slot = {
            let mut slots = self.slots.lock();
            // Looked up before `entry`, which takes an owned key: every request comes here,
            // and a known address then costs no allocation.
            match slots.get(addr) {
                Some(slot) => slot.clone(),
                None => slots.entry(addr.to_owned()).or_default().clone(),
            }
        };
        // The common case, a live connection and nobody connecting, takes no timer.
        if let Ok(guard) = slot.try_lock() {
            if let Some(conn) = guard.as_ref().filter(|c| c.is_alive()) {
                return Ok(conn.clone());
            }
        }
        let deadline = tokio::time::Instant::now() + budget;
        let mut guard = match tokio::time::timeout_at(deadline, slot.lock()).await {
            Ok(guard) => guard,
            Err(_) => {
                return Err(Error::timeout(format!(
                    "connecting to {addr}: another attempt was still under way after {budget:?}"
                )))
            }
        };
        if let Some(conn) = guard.as_ref() {
            if conn.is_alive() {
                return Ok(conn.clone());
            }
        }
        let timeout = deadline.saturating_duration_since(tokio::time::Instant::now()).min(self.connect_timeout);
        let conn = self.connect(addr, timeout).await?;
        *guard = Some(conn.clone());
        Ok(conn)
    }

    async fn connect(&self, addr: &str, timeout: Duration) -> Result<Arc<Connection>> {
        let addr_owned = addr.to_owned();
        let serialize = self.serialize;
        let inbound = self.inbound.clone();
        let tls = self.tls.clone();
        // Spawned so the socket registers with the pool's runtime, not the caller's.
        let task = self.runtime.spawn(async move {
            let deadline = tokio::time::Instant::now() + timeout;
            let stream = match tokio::time::timeout_at(deadline, TcpStream::connect(&addr_owned)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => return Err(Error::network(format!("cannot connect to {addr_owned}: {e}")).caused_by(e)),
                Err(_) => {
                    return Err(Error::timeout(format!("connecting to {addr_owned} took longer than {timeout:?}")))
                }
            };
            let _ = stream.set_nodelay(true);
            if let Err(e) = enable_keepalive(&stream) {
                tracing::debug!(addr = %addr_owned, error = %e, "TCP keepalive not enabled");
            }
            if !tls.is_enabled() {
                tracing::debug!(addr = %addr_owned, "connected");
                return Ok(Connection::start_plain(addr_owned, stream, serialize, inbound));
            }
            // A server that does not speak TLS may read the ClientHello as the start of a frame
            // and wait for the rest, so the handshake shares the connect deadline.
            match tokio::time::timeout_at(deadline, tls.handshake(&addr_owned, stream)).await {
                Ok(Ok(secured)) => {
                    tracing::debug!(addr = %addr_owned, "connected (TLS)");
                    Ok(Connection::start(addr_owned, secured, serialize, inbound))
                }
                Ok(Err(e)) => Err(e),
                Err(_) => Err(Error::timeout(format!(
                    "TLS handshake with {addr_owned} did not finish within {timeout:?} (does the server speak TLS?)"
                ))),
            }
        });
        task.await.map_err(|e| Error::network(format!("connect task for {addr} failed: {e}")))?
    }

    /// Closes and forgets the connection to `addr` (e.g. after a broker left the route).
    pub fn close(&self, addr: &str) {
        let slot = self.slots.lock().remove(addr);
        if let Some(slot) = slot {
            if let Ok(guard) = slot.try_lock() {
                if let Some(conn) = guard.as_ref() {
                    conn.close();
                }
            }
        }
    }

    /// Closes every connection.
    pub fn close_all(&self) {
        let slots: Vec<Slot> = self.slots.lock().drain().map(|(_, s)| s).collect();
        for slot in slots {
            if let Ok(guard) = slot.try_lock() {
                if let Some(conn) = guard.as_ref() {
                    conn.close();
                }
            }
        }
    }
}
