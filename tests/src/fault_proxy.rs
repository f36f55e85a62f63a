//! A fault-injecting TCP proxy between the client and a real cluster, for the link faults a real
//! broker will not produce on demand: a link that stays open and passes nothing (a NAT or load
//! balancer that lost its state, a hung peer), connections reset mid-use, connections refused.
//!
//! [`ProxiedCluster`] stands in front of a cluster's name server. Clients are given its address
//! as `NAMESRV_ADDR`; it forwards name-server traffic and rewrites every `IPv4:port` broker
//! address in the name server's answers (routes, cluster info) to a [`Link`] of its own that
//! forwards to that broker. So every byte between client and brokers crosses a link the test
//! controls, while name server and brokers stay the real ones.
//!
//! A [`Link`] is in one [`LinkMode`] for new connections, and [`Link::freeze_existing`] /
//! [`Link::reset_existing`] act on the connections open at that moment. The proxy runs on a
//! runtime of its own, so a test's runtime being busy or blocked never stalls it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use rocketmq_ons::protocol::command::{decode_frame, SerializeType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::{Handle, Runtime};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What a link does with new connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkMode {
    /// Connect to the target and pass bytes both ways.
    Forward,
    /// Accept and keep the connection open, passing nothing either way (a peer that accepts and
    /// never answers).
    Silent,
    /// Accept and reset at once (RST): the client's connect succeeds, its first read fails.
    Reset,
    /// Stop listening: connects are refused by the kernel.
    Refuse,
}

/// The state of one proxied connection, as its pump tasks watch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConnState {
    Passing,
    Frozen,
    Reset,
}

/// Rewrites the frames a target sends back (the name-server link's address rewriting).
type FrameRewriter = Arc<dyn Fn(rocketmq_ons::protocol::command::RemotingCommand) -> Vec<u8> + Send + Sync>;

struct LinkShared {
    target: String,
    mode: Mutex<LinkMode>,
    /// One sender per open connection; dropped entries are pruned on each use.
    conns: Mutex<Vec<watch::Sender<ConnState>>>,
    accepted: AtomicUsize,
    rewrite: Option<FrameRewriter>,
}

/// One listening address forwarding to one target, with faults switched on and off by the test.
pub struct Link {
    addr: SocketAddr,
    shared: Arc<LinkShared>,
    /// The accept loop, replaced when the link stops and starts listening ([`LinkMode::Refuse`]).
    acceptor: Mutex<Option<JoinHandle<()>>>,
    runtime: Handle,
}

/// Binds `addr` and starts accepting on `runtime`; returns the bound address and the task.
fn listen(runtime: &Handle, addr: SocketAddr, shared: &Arc<LinkShared>) -> (SocketAddr, JoinHandle<()>) {
    let listener = std::net::TcpListener::bind(addr).unwrap_or_else(|e| panic!("cannot listen on {addr}: {e}"));
    listener.set_nonblocking(true).expect("a non-blocking listener");
    let bound = listener.local_addr().expect("a bound address");
    let _context = runtime.enter();
    let listener = TcpListener::from_std(listener).expect("the listener registers with the runtime");
    (bound, runtime.spawn(accept_loop(listener, shared.clone())))
}

impl Link {
    /// Listens on a free port of 127.0.0.1 and forwards to `target`. Binds with std and hands
    /// the listener to the proxy's runtime, so it may be called from any thread, the proxy's
    /// own included (the name-server link makes broker links while it rewrites an answer).
    fn start(runtime: &Handle, target: String, rewrite: Option<FrameRewriter>) -> Arc<Link> {
        let shared = Arc::new(LinkShared {
            target,
            mode: Mutex::new(LinkMode::Forward),
            conns: Mutex::new(Vec::new()),
            accepted: AtomicUsize::new(0),
            rewrite,
        });
        let (addr, acceptor) = listen(runtime, "127.0.0.1:0".parse().unwrap(), &shared);
        Arc::new(Link { addr, shared, acceptor: Mutex::new(Some(acceptor)), runtime: runtime.clone() })
    }

    /// `127.0.0.1:port` the link listens on.
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }

    /// The address the link forwards to.
    pub fn target(&self) -> &str {
        &self.shared.target
    }

    /// Connections accepted so far (a reconnect shows as one more).
    pub fn accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Sets what happens to new connections; connections already open are not touched.
    pub fn set_mode(&self, mode: LinkMode) {
        let previous = std::mem::replace(&mut *self.shared.mode.lock().unwrap(), mode);
        let mut acceptor = self.acceptor.lock().unwrap();
        if mode == LinkMode::Refuse && previous != LinkMode::Refuse {
            if let Some(task) = acceptor.take() {
                task.abort();
            }
            // The listener is dropped with the aborted task; wait until the port is closed so
            // the next connect is refused, not queued in the old backlog.
            for _ in 0..200 {
                if std::net::TcpStream::connect(self.addr).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            panic!("link {} still accepts connections after it was told to refuse them", self.addr);
        } else if mode != LinkMode::Refuse && previous == LinkMode::Refuse {
            // The same port again, so the addresses the client holds stay valid.
            *acceptor = Some(listen(&self.runtime, self.addr, &self.shared).1);
        }
    }

    /// Every connection open now stops passing bytes in both directions and stays open: the
    /// client sees a link that is up and silent. New connections follow the link's mode.
    pub fn freeze_existing(&self) -> usize {
        self.signal_existing(ConnState::Frozen)
    }

    /// Every connection open now is reset (RST to the client).
    pub fn reset_existing(&self) -> usize {
        self.signal_existing(ConnState::Reset)
    }

    /// Sends `state` to every open connection; returns how many there were.
    fn signal_existing(&self, state: ConnState) -> usize {
        let mut conns = self.shared.conns.lock().unwrap();
        conns.retain(|c| !c.is_closed());
        for c in conns.iter() {
            c.send_replace(state);
        }
        conns.len()
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        if let Some(task) = self.acceptor.lock().unwrap().take() {
            task.abort();
        }
        self.signal_existing(ConnState::Reset);
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<LinkShared>) {
    loop {
        let Ok((client, _)) = listener.accept().await else { continue };
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        let mode = *shared.mode.lock().unwrap();
        let (state_tx, state_rx) = watch::channel(ConnState::Passing);
        match mode {
            LinkMode::Reset | LinkMode::Refuse => {
                reset(client);
                continue;
            }
            LinkMode::Silent => {
                state_tx.send_replace(ConnState::Frozen);
            }
            LinkMode::Forward => {}
        }
        shared.conns.lock().unwrap().push(state_tx);
        tokio::spawn(serve(client, shared.clone(), state_rx, mode));
    }
}

/// Closes with an RST (linger 0) rather than a FIN.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// Waits until the connection's state leaves `Passing`, returning the new state.
async fn left_passing(state: &mut watch::Receiver<ConnState>) -> ConnState {
    match state.wait_for(|s| *s != ConnState::Passing).await {
        Ok(s) => *s,
        Err(_) => ConnState::Reset,
    }
}

async fn serve(client: TcpStream, shared: Arc<LinkShared>, mut state: watch::Receiver<ConnState>, mode: LinkMode) {
    if mode == LinkMode::Silent {
        // Hold the socket, read nothing, until the test resets it or drops the link.
        let _ = state.wait_for(|s| *s == ConnState::Reset).await;
        reset(client);
        return;
    }
    let target = match TcpStream::connect(&shared.target).await {
        Ok(t) => t,
        Err(_) => {
            reset(client);
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = target.set_nodelay(true);
    let (mut client_read, mut client_write) = client.into_split();
    let (mut target_read, mut target_write) = target.into_split();
    let mut upstream = BytesMut::with_capacity(64 * 1024);
    let mut downstream = BytesMut::with_capacity(64 * 1024);
    let outcome = loop {
        tokio::select! {
            s = left_passing(&mut state) => break s,
            r = client_read.read_buf(&mut upstream) => {
                match r {
                    Ok(0) | Err(_) => break ConnState::Reset,
                    Ok(_) => {
                        if target_write.write_all(&upstream).await.is_err() { break ConnState::Reset; }
                        upstream.clear();
                    }
                }
            }
            r = target_read.read_buf(&mut downstream) => {
                match r {
                    Ok(0) | Err(_) => break ConnState::Reset,
                    Ok(_) => {
                        let out = match &shared.rewrite {
                            None => downstream.split().to_vec(),
                            Some(rewrite) => match rewrite_frames(&mut downstream, rewrite) {
                                Some(out) => out,
                                None => break ConnState::Reset,
                            },
                        };
                        if client_write.write_all(&out).await.is_err() { break ConnState::Reset; }
                    }
                }
            }
        }
    };
    if outcome == ConnState::Frozen {
        // Keep both sockets open and pass nothing until reset or the link is dropped.
        let _ = state.wait_for(|s| *s == ConnState::Reset).await;
    }
    if let Ok(client) = client_read.reunite(client_write) {
        reset(client);
    }
}

/// Takes every complete frame off `buf` and returns them rewritten; `None` on a corrupt stream.
fn rewrite_frames(buf: &mut BytesMut, rewrite: &FrameRewriter) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        if buf.len() < 5 {
            return Some(out);
        }
        let serialize = if buf[4] == 1 { SerializeType::RocketMq } else { SerializeType::Json };
        match decode_frame(buf) {
            Ok(Some(mut cmd)) => {
                // Remember the serialization in a field the rewriter reads back.
                cmd.ext_fields.insert(SERIALIZE_MARK.to_owned(), (serialize == SerializeType::RocketMq).to_string());
                out.extend(rewrite(cmd));
            }
            Ok(None) => return Some(out),
            Err(_) => return None,
        }
    }
}

const SERIALIZE_MARK: &str = "__fault_proxy_rocketmq_header";

/// A real cluster behind a name-server link whose answers point the client at broker links.
pub struct ProxiedCluster {
    runtime: Runtime,
    namesrv: Arc<Link>,
    brokers: Arc<Mutex<HashMap<String, Arc<Link>>>>,
}

impl ProxiedCluster {
    /// Starts the proxy in front of the name server at `namesrv` (`host:port`).
    pub fn start(namesrv: &str) -> std::io::Result<ProxiedCluster> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("fault-proxy")
            .enable_all()
            .build()?;
        let brokers: Arc<Mutex<HashMap<String, Arc<Link>>>> = Arc::default();
        let handle = runtime.handle().clone();
        let for_rewrite = brokers.clone();
        let rewrite: FrameRewriter = Arc::new(move |mut cmd| {
            let rocketmq_header = cmd.ext_fields.remove(SERIALIZE_MARK).as_deref() == Some("true");
            if !cmd.body.is_empty() {
                let body = String::from_utf8_lossy(&cmd.body).into_owned();
                let rewritten = rewrite_addresses(&body, |real| {
                    let mut links = for_rewrite.lock().unwrap();
                    if let Some(link) = links.get(real) {
                        return link.addr();
                    }
                    let link = Link::start(&handle, real.to_owned(), None);
                    let addr = link.addr();
                    links.insert(real.to_owned(), link);
                    addr
                });
                cmd.body = rewritten.into_bytes().into();
            }
            let serialize = if rocketmq_header { SerializeType::RocketMq } else { SerializeType::Json };
            let mut out = BytesMut::new();
            cmd.encode(serialize, &mut out).expect("a decoded frame encodes again");
            out.to_vec()
        });
        let namesrv = Link::start(runtime.handle(), namesrv.to_owned(), Some(rewrite));
        Ok(ProxiedCluster { runtime, namesrv, brokers })
    }

    /// The address clients use as `NAMESRV_ADDR`.
    pub fn namesrv_addr(&self) -> String {
        self.namesrv.addr()
    }

    /// The name server's link.
    pub fn namesrv_link(&self) -> Arc<Link> {
        self.namesrv.clone()
    }

    /// The links made so far for broker addresses the name server handed out.
    pub fn broker_links(&self) -> Vec<Arc<Link>> {
        self.brokers.lock().unwrap().values().cloned().collect()
    }

    /// The link of the broker at `real_addr`, made now if the name server has not named it yet.
    pub fn broker_link(&self, real_addr: &str) -> Arc<Link> {
        let mut links = self.brokers.lock().unwrap();
        links
            .entry(real_addr.to_owned())
            .or_insert_with(|| Link::start(self.runtime.handle(), real_addr.to_owned(), None))
            .clone()
    }
}

/// Replaces every `a.b.c.d:port` in `text` by what `map` returns for it.
pub fn rewrite_addresses(text: &str, mut map: impl FnMut(&str) -> String) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(len) = address_len(&bytes[i..]) {
            // Not the tail of a longer number (or address).
            if i == 0 || !(bytes[i - 1].is_ascii_digit() || bytes[i - 1] == b'.') {
                out.push_str(&text[copied..i]);
                out.push_str(&map(&text[i..i + len]));
                i += len;
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

/// The length of an `a.b.c.d:port` at the start of `b`, if there is one.
fn address_len(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    for part in 0..4 {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 3 {
            i += 1;
        }
        if i == start {
            return None;
        }
        let sep = if part < 3 { b'.' } else { b':' };
        if b.get(i) != Some(&sep) {
            return None;
        }
        i += 1;
    }
    let start = i;
    while i < b.len() && b[i].is_ascii_digit() && i - start < 5 {
        i += 1;
    }
    (i > start).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_found_and_replaced() {
        let route = r#"{"brokerAddrs":{"0":"127.0.0.1:10911",1:"10.0.0.12:10921"},"n":"1.2.3"}"#;
        let out = rewrite_addresses(route, |a| format!("<{a}>"));
        assert_eq!(out, r#"{"brokerAddrs":{"0":"<127.0.0.1:10911>",1:"<10.0.0.12:10921>"},"n":"1.2.3"}"#);
        assert_eq!(rewrite_addresses("v1.2.3.4:5 x", |_| "y".into()), "v1.2.3.4:5 x".replace("1.2.3.4:5", "y"));
        assert_eq!(rewrite_addresses("11.2.3.4.5:6", |_| "y".into()), "11.2.3.4.5:6");
    }
}
