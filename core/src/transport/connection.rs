//! One TCP (or TLS) connection to a name server or broker, owned by two tasks: a writer that
//! drains a queue of encoded frames (coalescing whatever is queued into one write) and a reader
//! that matches responses to waiting requests by opaque and hands server-initiated requests to
//! the connection's [`InboundHandler`].
//!
//! A connection is *poisoned* by the first framing error, read error, write error or EOF: every
//! pending request fails at once with that error, and every later request fails immediately, so
//! the pool can replace it. Nothing waits for a timeout to learn that a connection is dead.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, ErrorKind, Result};
use crate::protocol::codes::response;
use crate::protocol::command::{decode_frame, RemotingCommand, SerializeType, FLAG_ONEWAY, FLAG_RESPONSE};

/// A request the server sent us (CHECK_TRANSACTION_STATE, NOTIFY_CONSUMER_IDS_CHANGED, ...),
/// with the means to answer it on the same connection.
pub struct InboundRequest {
    /// Address of the server that sent it, as the pool knows it (`host:port`).
    pub addr: String,
    pub command: RemotingCommand,
    pub responder: Responder,
}

/// Receives server-initiated requests. Called on the connection's reader task: it must not
/// block; anything slow (user callbacks) is spawned or queued by the handler.
pub type InboundHandler = Arc<dyn Fn(InboundRequest) + Send + Sync>;

/// Sends the answer to one server-initiated request. Dropping it without answering is allowed
/// (oneway requests expect no answer).
pub struct Responder {
    opaque: i32,
    oneway: bool,
    serialize: SerializeType,
    frames: mpsc::Sender<Bytes>,
}

impl Responder {
    /// Answers the request; does nothing for oneway requests.
    pub fn respond(self, mut answer: RemotingCommand) {
        if self.oneway {
            return;
        }
        answer.opaque = self.opaque;
        answer.flag |= FLAG_RESPONSE;
        let mut buf = BytesMut::new();
        match answer.encode(self.serialize, &mut buf) {
            Ok(()) => {
                if self.frames.try_send(buf.freeze()).is_err() {
                    tracing::debug!(opaque = self.opaque, "connection gone or full; answer to server request dropped");
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not encode the answer to a server request"),
        }
    }
}

type Waiter = oneshot::Sender<Result<RemotingCommand>>;

struct Shared {
    addr: String,
    pending: Mutex<HashMap<i32, Waiter>>,
    poisoned: AtomicBool,
    poison_reason: Mutex<Option<Error>>,
    /// Flipped to `true` on poisoning, so the reader and writer tasks stop at once.
    closed: tokio::sync::watch::Sender<bool>,
}

impl Shared {
    /// Marks the connection dead and fails every waiting request with `reason`.
    fn poison(&self, reason: Error) {
        if self.poisoned.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::debug!(addr = %self.addr, error = %reason, "connection closed");
        *self.poison_reason.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason.clone());
        self.closed.send_replace(true);
        let waiters: Vec<Waiter> = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.drain().map(|(_, w)| w).collect()
        };
        for w in waiters {
            let _ = w.send(Err(reason.clone()));
        }
    }

    fn poison_error(&self) -> Error {
        let reason = self.poison_reason.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let why = reason.map(|e| e.to_string()).unwrap_or_else(|| "closed".into());
        Error::network(format!("connection to {} is closed ({why})", self.addr))
    }
}

/// Removes a waiter from the pending map when its request future is dropped or times out, so an
/// abandoned request never leaks an entry.
struct PendingGuard<'a> {
    shared: &'a Shared,
    opaque: i32,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.shared.pending.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.opaque);
    }
}

/// A live connection. Cheap to share (`Arc`); all methods take `&self`.
pub struct Connection {
    shared: Arc<Shared>,
    frames: mpsc::Sender<Bytes>,
    next_opaque: AtomicI32,
    serialize: SerializeType,
}

/// Frames queued for writing before senders wait; bounds memory under a stalled socket.
const WRITE_QUEUE_FRAMES: usize = 4096;

impl Connection {
    /// Starts the reader and writer tasks over an established stream, on the current runtime.
    pub fn start<S>(addr: String, stream: S, serialize: SerializeType, inbound: Option<InboundHandler>) -> Arc<Self>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        Self::start_inner(addr, stream, serialize, inbound, false)
    }

    /// [`Connection::start`] for a plaintext TCP stream: if the server closes it before
    /// answering anything, the error says that a TLS-enforcing server does exactly that.
    pub fn start_plain<S>(
        addr: String,
        stream: S,
        serialize: SerializeType,
        inbound: Option<InboundHandler>,
    ) -> Arc<Self>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        Self::start_inner(addr, stream, serialize, inbound, true)
    }

    fn start_inner<S>(
        addr: String,
        stream: S,
        serialize: SerializeType,
        inbound: Option<InboundHandler>,
        plaintext: bool,
    ) -> Arc<Self>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let shared = Arc::new(Shared {
            addr,
            pending: Mutex::new(HashMap::new()),
            poisoned: AtomicBool::new(false),
            poison_reason: Mutex::new(None),
            closed: tokio::sync::watch::channel(false).0,
        });
        let (frames_tx, frames_rx) = mpsc::channel::<Bytes>(WRITE_QUEUE_FRAMES);
        let (read_half, write_half) = tokio::io::split(stream);
        tokio::spawn(write_loop(write_half, frames_rx, shared.clone()));
        tokio::spawn(read_loop(read_half, shared.clone(), frames_tx.clone(), serialize, inbound, plaintext));
        Arc::new(Connection { shared, frames: frames_tx, next_opaque: AtomicI32::new(1), serialize })
    }

    pub fn addr(&self) -> &str {
        &self.shared.addr
    }

    pub fn is_alive(&self) -> bool {
        !self.shared.poisoned.load(Ordering::Acquire)
    }

    /// Closes the connection; pending requests fail with a network error.
    pub fn close(&self) {
        self.shared.poison(Error::network("closed by the client"));
    }

    fn encode(&self, cmd: &mut RemotingCommand, flag: i32) -> Result<(i32, Bytes)> {
        let opaque = self.next_opaque.fetch_add(1, Ordering::Relaxed) & i32::MAX;
        cmd.opaque = opaque;
        cmd.flag = (cmd.flag & !(FLAG_RESPONSE | FLAG_ONEWAY)) | flag;
        let mut buf = BytesMut::new();
        cmd.encode(self.serialize, &mut buf)?;
        Ok((opaque, buf.freeze()))
    }

    /// Sends a request and waits for its response (or the timeout, or the connection's death).
    pub async fn invoke(&self, mut cmd: RemotingCommand, timeout: Duration) -> Result<RemotingCommand> {
        let (opaque, frame) = self.encode(&mut cmd, 0)?;
        let (tx, rx) = oneshot::channel();
        self.shared.pending.lock().unwrap_or_else(|p| p.into_inner()).insert(opaque, tx);
        let _guard = PendingGuard { shared: &self.shared, opaque };
        // Checked after registering, so a concurrent poison either sees our waiter or we see it.
        if !self.is_alive() {
            return Err(self.shared.poison_error());
        }
        let deadline = tokio::time::Instant::now() + timeout;
        match tokio::time::timeout_at(deadline, self.frames.send(frame)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(self.shared.poison_error()),
            Err(_) => {
                return Err(Error::timeout(format!(
                    "request code {} to {} not written within {timeout:?}",
                    cmd.code, self.shared.addr
                )))
            }
        }
        match tokio::time::timeout_at(deadline, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(self.shared.poison_error()),
            Err(_) => Err(Error::timeout(format!(
                "no answer to request code {} from {} within {timeout:?}",
                cmd.code, self.shared.addr
            ))),
        }
    }

    /// Sends a request that expects no response.
    pub async fn invoke_oneway(&self, mut cmd: RemotingCommand, timeout: Duration) -> Result<()> {
        let (_, frame) = self.encode(&mut cmd, FLAG_ONEWAY)?;
        if !self.is_alive() {
            return Err(self.shared.poison_error());
        }
        match tokio::time::timeout(timeout, self.frames.send(frame)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(self.shared.poison_error()),
            Err(_) => Err(Error::timeout(format!(
                "oneway request code {} to {} not queued within {timeout:?}",
                cmd.code, self.shared.addr
            ))),
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // The reader task holds a sender for answers to server requests, so the writer would
        // otherwise outlive every user handle; poisoning ends both tasks.
        self.shared.poison(Error::network("connection dropped"));
    }
}

async fn write_loop<W: AsyncWrite>(writer: W, mut frames: mpsc::Receiver<Bytes>, shared: Arc<Shared>) {
    tokio::pin!(writer);
    let mut batch = BytesMut::new();
    let mut closed = shared.closed.subscribe();
    loop {
        let first = tokio::select! {
            biased;
            f = frames.recv() => f,
            _ = closed.wait_for(|c| *c) => None,
        };
        let Some(first) = first else { break };
        // Coalesce whatever else is already queued into one syscall; small frames dominate.
        if frames.is_empty() {
            if let Err(e) = writer.write_all(&first).await {
                shared.poison(Error::network(format!("write to {} failed: {e}", shared.addr)));
                break;
            }
        } else {
            batch.clear();
            batch.extend_from_slice(&first);
            while batch.len() < 256 * 1024 {
                match frames.try_recv() {
                    Ok(f) => batch.extend_from_slice(&f),
                    Err(_) => break,
                }
            }
            if let Err(e) = writer.write_all(&batch).await {
                shared.poison(Error::network(format!("write to {} failed: {e}", shared.addr)));
                break;
            }
        }
        if let Err(e) = writer.flush().await {
            shared.poison(Error::network(format!("flush to {} failed: {e}", shared.addr)));
            break;
        }
    }
    let _ = writer.shutdown().await;
}

async fn read_loop<R: AsyncRead>(
    reader: R,
    shared: Arc<Shared>,
    frames: mpsc::Sender<Bytes>,
    serialize: SerializeType,
    inbound: Option<InboundHandler>,
    plaintext: bool,
) {
    tokio::pin!(reader);
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut closed = shared.closed.subscribe();
    let mut answered = false;
    loop {
        // Drain every complete frame before reading more.
        loop {
            match decode_frame(&mut buf) {
                Ok(Some(cmd)) => {
                    answered = true;
                    dispatch(cmd, &shared, &frames, serialize, inbound.as_ref())
                }
                Ok(None) => break,
                Err(e) => {
                    shared.poison(Error::new(
                        ErrorKind::Protocol,
                        format!("undecodable frame from {}: {}", shared.addr, e.message()),
                    ));
                    return;
                }
            }
        }
        if buf.capacity() - buf.len() < 8 * 1024 {
            buf.reserve(64 * 1024);
        }
        let read = tokio::select! {
            r = reader.read_buf(&mut buf) => r,
            _ = closed.wait_for(|c| *c) => return,
        };
        match read {
            Ok(0) if plaintext && !answered => {
                // RocketMQ servers in TLS `enforcing` mode close plaintext connections at the
                // first byte, without a word; say so rather than leave a bare "closed".
                shared.poison(Error::network(format!(
                    "{} closed the connection without answering; a server that requires TLS does \
                     this to plaintext clients (set TlsEnable=true, with TlsCaFile if needed)",
                    shared.addr
                )));
                return;
            }
            Ok(0) => {
                shared.poison(Error::network(format!("{} closed the connection", shared.addr)));
                return;
            }
            Ok(_) => {}
            Err(e) => {
                shared.poison(Error::network(format!("read from {} failed: {e}", shared.addr)));
                return;
            }
        }
    }
}

fn dispatch(
    cmd: RemotingCommand,
    shared: &Shared,
    frames: &mpsc::Sender<Bytes>,
    serialize: SerializeType,
    inbound: Option<&InboundHandler>,
) {
    if cmd.is_response() {
        let waiter = shared.pending.lock().unwrap_or_else(|p| p.into_inner()).remove(&cmd.opaque);
        match waiter {
            Some(w) => {
                let _ = w.send(Ok(cmd));
            }
            None => {
                tracing::debug!(addr = %shared.addr, opaque = cmd.opaque, "response for an abandoned request")
            }
        }
        return;
    }
    let responder = Responder { opaque: cmd.opaque, oneway: cmd.is_oneway(), serialize, frames: frames.clone() };
    match inbound {
        Some(handler) => handler(InboundRequest { addr: shared.addr.clone(), command: cmd, responder }),
        None => {
            let code = cmd.code;
            responder.respond(RemotingCommand::response(
                response::REQUEST_CODE_NOT_SUPPORTED,
                0,
                Some(format!("request code {code} not supported by this client")),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    //! Connection mechanics over an in-memory pipe: opaque matching, poisoning and timeouts.
    //! The peer here only echoes frames or writes garbage; broker behaviour is tested against
    //! real brokers in tests/.

    use super::*;
    use crate::protocol::command::decode_frame;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn read_request<R: AsyncRead + Unpin>(peer: &mut R, buf: &mut BytesMut) -> RemotingCommand {
        loop {
            if let Some(cmd) = decode_frame(buf).unwrap() {
                return cmd;
            }
            assert_ne!(peer.read_buf(buf).await.unwrap(), 0, "client closed");
        }
    }

    #[tokio::test]
    async fn responses_are_matched_by_opaque_out_of_order() {
        let (client_side, mut peer) = tokio::io::duplex(64 * 1024);
        let conn = Connection::start("peer".into(), client_side, SerializeType::Json, None);
        let c1 = conn.clone();
        let c2 = conn.clone();
        let first = tokio::spawn(async move {
            c1.invoke(RemotingCommand::request(1).with_ext("n", "first"), Duration::from_secs(5)).await
        });
        let second = tokio::spawn(async move {
            c2.invoke(RemotingCommand::request(1).with_ext("n", "second"), Duration::from_secs(5)).await
        });
        let mut buf = BytesMut::new();
        let a = read_request(&mut peer, &mut buf).await;
        let b = read_request(&mut peer, &mut buf).await;
        // Answer in reverse order, each echoing its request's marker.
        for req in [b, a] {
            let mut out = BytesMut::new();
            let reply = RemotingCommand::response(0, req.opaque, None).with_ext("n", req.ext("n").unwrap());
            reply.encode(SerializeType::RocketMq, &mut out).unwrap();
            peer.write_all(&out).await.unwrap();
        }
        assert_eq!(first.await.unwrap().unwrap().ext("n"), Some("first"));
        assert_eq!(second.await.unwrap().unwrap().ext("n"), Some("second"));
    }

    #[tokio::test]
    async fn a_framing_error_fails_every_pending_request_at_once() {
        let (client_side, mut peer) = tokio::io::duplex(64 * 1024);
        let conn = Connection::start("peer".into(), client_side, SerializeType::Json, None);
        let waiting: Vec<_> = (0..3)
            .map(|_| {
                let c = conn.clone();
                tokio::spawn(async move { c.invoke(RemotingCommand::request(1), Duration::from_secs(30)).await })
            })
            .collect();
        let mut buf = BytesMut::new();
        for _ in 0..3 {
            read_request(&mut peer, &mut buf).await;
        }
        // A negative frame length: no valid stream can continue after it.
        peer.write_all(&[0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0]).await.unwrap();
        let started = std::time::Instant::now();
        for w in waiting {
            let err = w.await.unwrap().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
        }
        assert!(started.elapsed() < Duration::from_secs(10), "requests waited for their timeout");
        assert!(!conn.is_alive());
        let later = conn.invoke(RemotingCommand::request(1), Duration::from_secs(30)).await.unwrap_err();
        assert_eq!(later.kind(), ErrorKind::Network);
        assert!(later.message().contains("undecodable frame"), "{later}");
    }

    #[tokio::test]
    async fn unanswered_requests_time_out_and_leave_nothing_pending() {
        let (client_side, _peer) = tokio::io::duplex(64 * 1024);
        let conn = Connection::start("peer".into(), client_side, SerializeType::Json, None);
        let err = conn.invoke(RemotingCommand::request(1), Duration::from_millis(50)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(conn.shared.pending.lock().unwrap().is_empty());
        assert!(conn.is_alive());
    }

    #[tokio::test]
    async fn peer_close_fails_pending_requests() {
        let (client_side, peer) = tokio::io::duplex(64 * 1024);
        let conn = Connection::start("peer".into(), client_side, SerializeType::Json, None);
        let c = conn.clone();
        let pending = tokio::spawn(async move { c.invoke(RemotingCommand::request(1), Duration::from_secs(30)).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(peer);
        let err = pending.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    }
}
