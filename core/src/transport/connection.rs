//! One TCP (or TLS) connection to a name server or broker, owned by two tasks: a writer that
//! drains the connection's [`Outbox`] of encoded frames (coalescing whatever is queued into one
//! write) and a reader that matches responses to waiting requests by opaque and hands
//! server-initiated requests to the connection's [`InboundHandler`].
//!
//! On plain TCP a sender may write its frame to the socket itself when nothing is queued or being
//! written ahead of it, which saves waking the writer task. It does so when its request is the
//! only one outstanding on the connection (one request at a time has nothing to share a write
//! with), or when it is not a runtime task (a Python or C thread blocked on a send, for which
//! that wake-up is a cross-thread one) and fewer than [`THREADS_QUEUE_FROM`] requests are
//! outstanding. Tasks with company queue their frames, so the writer coalesces a burst into one
//! write: measured with 256 sends in flight, writing each frame directly cost about a third more
//! CPU per message. Threads in a crowd queue theirs too: with 8 and 16 threads each blocked on a
//! sync send, writing directly made one `writev` per send (40096 for 40000, `strace -c`; 11317
//! queued) and cost 8% and 14% more CPU per message (`bench_producer ours --phases blocking`,
//! builds alternating, medians of 4), while with 2 or 4 threads queueing gained nothing. Frames
//! never interleave and are written in the order they were handed over: the direct write happens
//! under the outbox lock and only while the writer holds nothing.
//!
//! Woken for queued frames, the writer yields once before it takes them. The senders that one
//! read of answers wakes are ready together, but the runtime runs a task woken by the running
//! one next (tokio's "LIFO slot"), so the writer used to run right after the first of them had
//! queued and write that frame alone, then again for the next: one `writev` per sync send with
//! 8 in flight (20217 for 20000 sends). Yielding lets the others queue theirs first: 6481 writes,
//! and 5-44% less CPU per message for sync sends with 8 and 32 in flight (`bench_producer ours`,
//! builds alternating). A request with no company is written by its sender and never waits.
//!
//! A connection is *poisoned* by the first framing error, read error, write error or EOF: every
//! pending request fails at once with that error, and every later request fails immediately, so
//! the pool can replace it. Nothing waits for a timeout to learn that a connection is dead.
//!
//! A connection can also die without a word: a NAT or load balancer that lost its state, or a
//! hung peer, keeps the socket open and passes no bytes. So a request that times out while
//! nothing at all has been read from the connection since it was written poisons the connection
//! too (the idea of the Java client's `clientCloseSocketIfTimeout`, narrowed to silent links so a
//! slow broker that still answers other requests keeps its connection), and the next request
//! connects afresh. A busy connection is not closed for one slow answer, nor for a request given
//! less than [`SILENCE_PROVES_DEAD`] (a send's last retry may have only milliseconds left).
//!
//! Request timeouts are kept by a third task, the sweeper, which fails the requests past their
//! deadline every [`SWEEP_EVERY`] (as the Java client scans its response table), rather than by a
//! runtime timer per request. Registering a timer from outside the runtime's worker threads (a
//! send polled on the Python or C thread blocked on it, or started on the Node.js thread) wakes
//! the runtime's time driver whenever the timer is the earliest one, which with one request at a
//! time is every request: a context switch per send for nothing. The sweeper sleeps when the
//! connection has been idle for a while, and the next request wakes it.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use parking_lot::Mutex;
use std::sync::{Arc, OnceLock};

use super::outbox::{empty_slices, Frame, Outbox, OutboxError, WriteBatch, WriteCursor};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;

use crate::error::{Error, ErrorKind, Result};
use crate::hashing::WordHashing;
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
    shared: Arc<ConnectionState>,
}

impl Responder {
    /// Answers the request; does nothing for oneway requests.
    pub fn respond(self, mut answer: RemotingCommand) {
        if self.oneway {
            return;
        }
        answer.opaque = self.opaque;
        answer.flag |= FLAG_RESPONSE;
        let mut head = BytesMut::new();
        match answer.encode_head(self.serialize, &mut head) {
            Ok(()) => {
                let write_now = tokio::task::try_id().is_none();
                let frame = Frame { head: head.freeze(), body: answer.body };
                if let Err(e) = self.shared.outbox.try_send(frame, write_now) {
                    match e {
                        OutboxError::Write(e) => self.shared.write_failed(e),
                        _ => crate::log_limit::debug_limited!(
                            opaque = self.opaque,
                            "connection gone or full; answer to server request dropped"
                        ),
                    }
                }
            }
            Err(e) => crate::log_limit::warn_limited!(error = %e, "could not encode the answer to a server request"),
        }
    }
}

type Waiter = oneshot::Sender<Result<RemotingCommand>>;

/// A request waiting for its response, until `deadline`.
struct Waiting {
    waiter: Waiter,
    deadline: Instant,
    /// For the timeout error: the request code and the timeout it was given.
    code: i32,
    timeout: Duration,
    /// [`ConnectionState::reads`] when the request was registered: unchanged at the deadline means the
    /// peer sent nothing at all meanwhile (see the module doc).
    reads_at_register: u64,
}

/// How often the sweeper looks for requests past their deadline: a request times out at most
/// this much after its deadline.
const SWEEP_EVERY: Duration = Duration::from_millis(50);

/// How long a request must have waited with nothing read from its connection before the
/// silence counts as a dead link (see the module doc). Shorter timeouts say more about the
/// caller's budget than about the link.
const SILENCE_PROVES_DEAD: Duration = Duration::from_secs(1);

/// Sweeps in a row that find no request (outstanding or made since the last sweep) before the
/// sweeper sleeps until the next request wakes it.
const IDLE_SWEEPS: u32 = 40;

/// Outstanding requests (the new one included) from which a sender that is not a runtime task
/// queues its frame for the writer task instead of writing it itself (see the module doc).
const THREADS_QUEUE_FROM: usize = 4;

/// Whether a sender writes its frame to a plain TCP socket itself (when nothing is ahead of it),
/// given the requests outstanding with it and whether it runs as a runtime task.
fn writes_itself(outstanding: usize, runtime_task: bool) -> bool {
    outstanding <= 1 || (!runtime_task && outstanding < THREADS_QUEUE_FROM)
}

struct ConnectionState {
    addr: String,
    pending: Mutex<HashMap<i32, Waiting, WordHashing>>,
    /// A request was registered since the sweeper last looked.
    requested: AtomicBool,
    /// The sweeper is asleep (or about to be) until `sweeper_wake`.
    sweeper_asleep: AtomicBool,
    sweeper_wake: Notify,
    /// Successful socket reads so far (one per read call, not per byte or frame): tells a
    /// silent link from a slow answer.
    reads: AtomicU64,
    /// Why the connection is closed, once it is (set once: the first failure is the cause).
    poisoned: OnceLock<Error>,
    /// Flipped to `true` on poisoning, so the reader and writer tasks stop at once.
    closed: tokio::sync::watch::Sender<bool>,
    outbox: Outbox,
}

impl ConnectionState {
    /// Marks the connection dead and fails every waiting request with `reason`.
    fn poison(&self, reason: Error) {
        if self.poisoned.set(reason.clone()).is_err() {
            return;
        }
        tracing::debug!(addr = %self.addr, error = %reason, "connection closed");
        self.outbox.close();
        self.closed.send_replace(true);
        let waiters: Vec<Waiter> = {
            let mut pending = self.pending.lock();
            pending.drain().map(|(_, w)| w.waiter).collect()
        };
        for w in waiters {
            let _ = w.send(Err(reason.clone()));
        }
    }

    /// Registers a request under `opaque`; returns how many are outstanding with it.
    fn register(&self, opaque: i32, waiting: Waiting) -> usize {
        let outstanding = {
            let mut pending = self.pending.lock();
            pending.insert(opaque, waiting);
            pending.len()
        };
        self.requested.store(true, Ordering::Relaxed);
        // After the insert: a sweeper going to sleep either saw this request or set the flag
        // before looking (under the same lock), and then it is woken here.
        if self.sweeper_asleep.swap(false, Ordering::AcqRel) {
            self.sweeper_wake.notify_one();
        }
        outstanding
    }

    /// Fails the requests whose deadline is before `now`, and poisons the connection when one of
    /// them saw nothing read from it since it was written. Returns whether any request is still
    /// outstanding or was registered since the last sweep.
    fn fail_expired(&self, now: Instant) -> bool {
        let (expired, outstanding) = {
            let mut pending = self.pending.lock();
            let due: Vec<i32> = pending.iter().filter(|(_, w)| w.deadline <= now).map(|(opaque, _)| *opaque).collect();
            let expired: Vec<Waiting> = due.iter().filter_map(|opaque| pending.remove(opaque)).collect();
            (expired, !pending.is_empty())
        };
        let reads = self.reads.load(Ordering::Acquire);
        let mut silent: Option<(i32, Duration)> = None;
        for w in expired {
            if w.reads_at_register == reads && w.timeout >= SILENCE_PROVES_DEAD {
                silent = Some((w.code, w.timeout));
            }
            let _ = w.waiter.send(Err(Error::timeout(format!(
                "no answer to request code {} from {} within {:?}",
                w.code, self.addr, w.timeout
            ))));
        }
        if let Some((code, timeout)) = silent {
            self.poison(Error::network(format!(
                "{} sent nothing for {timeout:?} while request code {code} waited; the connection was closed as \
                 dead (half-open link) and the next request reconnects",
                self.addr
            )));
            return false;
        }
        self.requested.swap(false, Ordering::Relaxed) || outstanding
    }

    /// For the sweeper: marks it asleep unless a request is outstanding. Returns whether it may
    /// sleep (see [`ConnectionState::register`] for the other side).
    fn sweeper_may_sleep(&self) -> bool {
        self.sweeper_asleep.store(true, Ordering::SeqCst);
        let idle = self.pending.lock().is_empty();
        if !idle {
            self.sweeper_asleep.store(false, Ordering::SeqCst);
        }
        idle
    }

    /// A write to the socket failed: the connection is broken.
    fn write_failed(&self, e: io::Error) {
        self.poison(Error::network(format!("write to {} failed: {e}", self.addr)).caused_by(e));
    }

    fn poison_error(&self) -> Error {
        let why = self.poisoned.get().map(|e| e.to_string()).unwrap_or_else(|| "closed".into());
        Error::network(format!("connection to {} is closed ({why})", self.addr))
    }

    /// Hands `frame` to the socket, waiting for queue room until `deadline`: written at once if
    /// nothing is ahead of it and either it is alone (`outstanding`, the connection's requests
    /// awaiting an answer with this one, is 1) or the caller is not a runtime task and fewer
    /// than [`THREADS_QUEUE_FROM`] are outstanding (see the module doc); queued otherwise.
    /// `what` names the request in a timeout error.
    async fn send_frame(
        &self,
        frame: Frame,
        outstanding: usize,
        deadline: Instant,
        what: impl FnOnce() -> String,
    ) -> Result<()> {
        let write_now = writes_itself(outstanding, tokio::task::try_id().is_some());
        match self.outbox.send(frame, write_now, deadline).await {
            Ok(()) => Ok(()),
            Err(OutboxError::Closed) => Err(self.poison_error()),
            Err(OutboxError::Full) => Err(Error::timeout(what())),
            Err(OutboxError::Write(e)) => {
                self.write_failed(e);
                Err(self.poison_error())
            }
        }
    }
}

/// Removes a waiter from the pending map when its request future is dropped or times out, so an
/// abandoned request never leaks an entry.
struct PendingGuard<'a> {
    shared: &'a ConnectionState,
    opaque: i32,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.shared.pending.lock().remove(&self.opaque);
    }
}

/// A live connection. Cheap to share (`Arc`); all methods take `&self`.
pub struct Connection {
    shared: Arc<ConnectionState>,
    next_opaque: AtomicI32,
    serialize: SerializeType,
}

impl Connection {
    /// Starts the reader and writer tasks over an established stream, on the current runtime.
    pub fn start<S>(addr: String, stream: S, serialize: SerializeType, inbound: Option<InboundHandler>) -> Arc<Self>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (read_half, write_half) = tokio::io::split(stream);
        Self::start_inner(addr, read_half, SocketWriter::Stream(Box::pin(write_half)), serialize, inbound, false)
    }

    /// [`Connection::start`] for a plaintext TCP stream, which senders may write to directly
    /// (see the module doc). If the server closes it before answering anything, the error says
    /// that a TLS-enforcing server does exactly that.
    pub fn start_plain(
        addr: String,
        stream: TcpStream,
        serialize: SerializeType,
        inbound: Option<InboundHandler>,
    ) -> Arc<Self> {
        let (read_half, write_half) = stream.into_split();
        Self::start_inner(addr, read_half, SocketWriter::Tcp(Arc::new(write_half)), serialize, inbound, true)
    }

    fn start_inner<R>(
        addr: String,
        reader: R,
        writer: SocketWriter,
        serialize: SerializeType,
        inbound: Option<InboundHandler>,
        plaintext: bool,
    ) -> Arc<Self>
    where
        R: AsyncRead + Send + 'static,
    {
        let direct = match &writer {
            SocketWriter::Tcp(socket) => Some(socket.clone()),
            SocketWriter::Stream(_) => None,
        };
        let shared = Arc::new(ConnectionState {
            addr,
            pending: Mutex::new(HashMap::default()),
            requested: AtomicBool::new(false),
            sweeper_asleep: AtomicBool::new(false),
            sweeper_wake: Notify::new(),
            reads: AtomicU64::new(0),
            poisoned: OnceLock::new(),
            closed: tokio::sync::watch::channel(false).0,
            outbox: Outbox::new(direct),
        });
        tokio::spawn(write_loop(writer, shared.clone()));
        tokio::spawn(sweep_loop(shared.clone()));
        tokio::spawn(read_loop(reader, shared.clone(), serialize, inbound, plaintext));
        Arc::new(Connection { shared, next_opaque: AtomicI32::new(1), serialize })
    }

    pub fn addr(&self) -> &str {
        &self.shared.addr
    }

    pub fn is_alive(&self) -> bool {
        self.shared.poisoned.get().is_none()
    }

    /// Closes the connection; pending requests fail with a network error.
    pub fn close(&self) {
        self.shared.poison(Error::network("closed by the client"));
    }

    /// The request's frame; its body is moved out of `cmd`, not copied (see the outbox's
    /// module doc).
    fn encode(&self, cmd: &mut RemotingCommand, flag: i32) -> Result<(i32, Frame)> {
        let opaque = self.next_opaque.fetch_add(1, Ordering::Relaxed) & i32::MAX;
        cmd.opaque = opaque;
        cmd.flag = (cmd.flag & !(FLAG_RESPONSE | FLAG_ONEWAY)) | flag;
        let mut head = BytesMut::new();
        cmd.encode_head(self.serialize, &mut head)?;
        Ok((opaque, Frame { head: head.freeze(), body: std::mem::take(&mut cmd.body) }))
    }

    /// Sends a request and waits for its response (or the timeout, which the sweeper keeps, or
    /// the connection's death).
    pub async fn invoke(&self, mut cmd: RemotingCommand, timeout: Duration) -> Result<RemotingCommand> {
        let (opaque, frame) = self.encode(&mut cmd, 0)?;
        let (tx, rx) = oneshot::channel();
        let deadline = Instant::now() + timeout;
        let reads_at_register = self.shared.reads.load(Ordering::Acquire);
        let outstanding =
            self.shared.register(opaque, Waiting { waiter: tx, deadline, code: cmd.code, timeout, reads_at_register });
        let _guard = PendingGuard { shared: &self.shared, opaque };
        // Checked after registering, so a concurrent poison either sees our waiter or we see it.
        if !self.is_alive() {
            return Err(self.shared.poison_error());
        }
        self.shared
            .send_frame(frame, outstanding, deadline, || {
                format!("request code {} to {} not written within {timeout:?}", cmd.code, self.shared.addr)
            })
            .await?;
        // Answered by the reader, failed by the sweeper at the deadline or by poisoning; the
        // waiter is only dropped unanswered with the connection.
        rx.await.unwrap_or_else(|_| Err(self.shared.poison_error()))
    }

    /// Sends a request that expects no response.
    pub async fn invoke_oneway(&self, mut cmd: RemotingCommand, timeout: Duration) -> Result<()> {
        let (_, frame) = self.encode(&mut cmd, FLAG_ONEWAY)?;
        if !self.is_alive() {
            return Err(self.shared.poison_error());
        }
        // Counted with this request, which registers no waiter.
        let outstanding = self.shared.pending.lock().len() + 1;
        self.shared
            .send_frame(frame, outstanding, Instant::now() + timeout, || {
                format!("oneway request code {} to {} not queued within {timeout:?}", cmd.code, self.shared.addr)
            })
            .await
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // The reader task holds a sender for answers to server requests, so the writer would
        // otherwise outlive every user handle; poisoning ends both tasks.
        self.shared.poison(Error::network("connection dropped"));
    }
}

/// The write side of a connection, as the writer task holds it.
enum SocketWriter {
    /// Any stream (TLS; in-memory pipes in tests), written only by the writer task.
    Stream(Pin<Box<dyn AsyncWrite + Send>>),
    /// A plain TCP socket, shared with senders that write at once (see [`Outbox::write_now`]).
    Tcp(Arc<OwnedWriteHalf>),
}

impl SocketWriter {
    /// Writes `pieces` in order by vectored writes (the outbox module doc says why).
    async fn write_all(&mut self, pieces: &[Bytes]) -> io::Result<()> {
        let mut cursor = WriteCursor::new(pieces);
        let mut slices = empty_slices();
        match self {
            SocketWriter::Stream(stream) => {
                while !cursor.is_done() {
                    let count = cursor.slices(&mut slices);
                    match stream.write_vectored(&slices[..count]).await? {
                        0 => return Err(io::ErrorKind::WriteZero.into()),
                        n => cursor.advance(n),
                    }
                }
                stream.flush().await
            }
            SocketWriter::Tcp(socket) => {
                while !cursor.is_done() {
                    socket.writable().await?;
                    let count = cursor.slices(&mut slices);
                    match socket.try_write_vectored(&slices[..count]) {
                        Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                        Ok(n) => cursor.advance(n),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(())
            }
        }
    }
}

async fn write_loop(mut writer: SocketWriter, shared: Arc<ConnectionState>) {
    let mut batch = WriteBatch::default();
    let mut closed = shared.closed.subscribe();
    loop {
        if !shared.outbox.take(&mut batch) {
            let stop = tokio::select! {
                biased;
                _ = closed.wait_for(|c| *c) => true,
                _ = shared.outbox.work_queued() => false,
            };
            if stop {
                break;
            }
            // After the other ready tasks (the module doc says why): their frames share the write.
            tokio::task::yield_now().await;
            continue;
        }
        if let Err(e) = writer.write_all(batch.pieces()).await {
            shared.write_failed(e);
            break;
        }
    }
    // Senders must not write to a socket nobody watches any more; dropping the last handle of
    // the write half shuts it down.
    shared.outbox.stop_direct_writes();
    if let SocketWriter::Stream(mut stream) = writer {
        let _ = stream.shutdown().await;
    }
}

/// Fails requests past their deadline every [`SWEEP_EVERY`] while the connection is in use; after
/// [`IDLE_SWEEPS`] sweeps with nothing to watch, sleeps until the next request.
async fn sweep_loop(shared: Arc<ConnectionState>) {
    let mut closed = shared.closed.subscribe();
    let mut idle_sweeps = 0;
    loop {
        tokio::select! {
            biased;
            _ = closed.wait_for(|c| *c) => return,
            _ = tokio::time::sleep(SWEEP_EVERY) => {}
        }
        if shared.fail_expired(Instant::now()) {
            idle_sweeps = 0;
            continue;
        }
        idle_sweeps += 1;
        if idle_sweeps >= IDLE_SWEEPS && shared.sweeper_may_sleep() {
            tokio::select! {
                biased;
                _ = closed.wait_for(|c| *c) => return,
                _ = shared.sweeper_wake.notified() => {}
            }
            idle_sweeps = 0;
        }
    }
}

async fn read_loop<R: AsyncRead>(
    reader: R,
    shared: Arc<ConnectionState>,
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
                    dispatch(cmd, &shared, serialize, inbound.as_ref())
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
        // Room to read into; and while nothing is buffered, room for a whole pull response
        // (tens of KiB): one that arrives in pieces into a buffer without room for it is moved
        // when the buffer grows, and reserving while the buffer is empty moves nothing
        // (callgrind, a drain of 1 KiB messages: ~900 instructions per message in such moves).
        if buf.capacity() - buf.len() < 8 * 1024 || (buf.is_empty() && buf.capacity() < 64 * 1024) {
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
            Ok(_) => {
                shared.reads.fetch_add(1, Ordering::Release);
            }
            Err(e) => {
                shared.poison(Error::network(format!("read from {} failed: {e}", shared.addr)).caused_by(e));
                return;
            }
        }
    }
}

fn dispatch(
    cmd: RemotingCommand,
    shared: &Arc<ConnectionState>,
    serialize: SerializeType,
    inbound: Option<&InboundHandler>,
) {
    if cmd.is_response() {
        let waiter = shared.pending.lock().remove(&cmd.opaque);
        match waiter {
            Some(w) => {
                let _ = w.waiter.send(Ok(cmd));
            }
            None => {
                tracing::debug!(addr = %shared.addr, opaque = cmd.opaque, "response for an abandoned request")
            }
        }
        return;
    }
    let responder = Responder { opaque: cmd.opaque, oneway: cmd.is_oneway(), serialize, shared: shared.clone() };
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
    async fn a_request_timing_out_on_a_silent_link_closes_the_connection() {
        let (client_side, _peer) = tokio::io::duplex(64 * 1024);
        let conn = Connection::start("peer".into(), client_side, SerializeType::Json, None);
        let err = conn.invoke(RemotingCommand::request(1), Duration::from_millis(50)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(conn.is_alive(), "a request given 50 ms proves nothing about the link");
        let err = conn.invoke(RemotingCommand::request(1), SILENCE_PROVES_DEAD).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(conn.shared.pending.lock().is_empty());
        // The peer sent nothing while the request waited: the link counts as dead, so the pool
        // connects afresh instead of queueing the next request behind it.
        assert!(!conn.is_alive(), "a silent connection stays in use");
        let later = conn.invoke(RemotingCommand::request(2), Duration::from_secs(5)).await.unwrap_err();
        assert_eq!(later.kind(), ErrorKind::Network, "{later}");
        assert!(later.message().contains("sent nothing for 1s while request code 1 waited"), "{later}");
    }

    #[tokio::test]
    async fn a_slow_answer_on_a_talking_link_keeps_the_connection() {
        let (client_side, mut peer) = tokio::io::duplex(64 * 1024);
        let conn = Connection::start("peer".into(), client_side, SerializeType::Json, None);
        let c = conn.clone();
        let slow = tokio::spawn(async move { c.invoke(RemotingCommand::request(1), SILENCE_PROVES_DEAD).await });
        let mut buf = BytesMut::new();
        let unanswered = read_request(&mut peer, &mut buf).await;
        assert_eq!(unanswered.code, 1);
        // Another request is answered while the first waits: bytes were read, the link lives.
        let c = conn.clone();
        let quick = tokio::spawn(async move { c.invoke(RemotingCommand::request(2), Duration::from_secs(5)).await });
        let req = read_request(&mut peer, &mut buf).await;
        let mut out = BytesMut::new();
        RemotingCommand::response(0, req.opaque, None).encode(SerializeType::Json, &mut out).unwrap();
        peer.write_all(&out).await.unwrap();
        assert_eq!(quick.await.unwrap().unwrap().code, 0);
        assert_eq!(slow.await.unwrap().unwrap_err().kind(), ErrorKind::Timeout);
        assert!(conn.is_alive(), "one slow answer closed a connection that was answering");
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_sweeper_sleeps_and_the_next_request_wakes_it() {
        let (client_side, _peer) = tokio::io::duplex(64 * 1024);
        let conn = Connection::start("peer".into(), client_side, SerializeType::Json, None);
        tokio::time::sleep(SWEEP_EVERY * (IDLE_SWEEPS + 2)).await;
        assert!(conn.shared.sweeper_asleep.load(Ordering::SeqCst), "the sweeper of an idle connection sleeps");
        let timeout = Duration::from_millis(200);
        let started = Instant::now();
        let err = conn.invoke(RemotingCommand::request(7), timeout).await.unwrap_err();
        let waited = started.elapsed();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        assert!(err.message().contains("request code 7 from peer within 200ms"), "{err}");
        // Paused time: the sweeper's granularity, not the machine's speed, bounds the wait.
        assert!(waited >= timeout && waited <= timeout + 2 * SWEEP_EVERY, "timed out after {waited:?}");
        assert!(conn.shared.pending.lock().is_empty());
        assert!(!conn.shared.sweeper_asleep.load(Ordering::SeqCst), "woken by the request");
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

    /// A peer for the frame-order tests: accepts one connection, reads nothing for 300 ms (so
    /// the client's writes hit a full socket buffer), then reads `frames` frames, checking that
    /// each of `senders` senders' frames come in order (ext field `seq` from 0, by ext field
    /// `sender`) and whole (`body_len(seq)` bytes, each the sender's number). Returns the frames
    /// read per sender, and the socket (kept open until the test ends).
    fn late_reading_peer(
        rt: &tokio::runtime::Runtime,
        senders: usize,
        frames: usize,
        body_len: fn(usize) -> usize,
    ) -> (std::net::SocketAddr, tokio::task::JoinHandle<(Vec<usize>, TcpStream)>) {
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = rt.spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_millis(300)).await;
            let mut buf = BytesMut::new();
            let mut next_seq = vec![0usize; senders];
            for _ in 0..frames {
                let cmd = read_request(&mut socket, &mut buf).await;
                let sender: usize = cmd.ext("sender").unwrap().parse().unwrap();
                let seq: usize = cmd.ext("seq").unwrap().parse().unwrap();
                assert_eq!(seq, next_seq[sender], "sender {sender}: frame out of order");
                next_seq[sender] += 1;
                assert_eq!(cmd.body.len(), body_len(seq), "sender {sender} frame {seq}: body length");
                assert!(cmd.body.iter().all(|b| *b == sender as u8), "sender {sender} frame {seq}: body bytes");
            }
            (next_seq, socket)
        });
        (addr, peer)
    }

    /// Frame `seq` of `sender`, as [`late_reading_peer`] checks it.
    fn numbered_frame(code: i32, sender: usize, seq: usize, body_len: fn(usize) -> usize) -> RemotingCommand {
        RemotingCommand::request(code)
            .with_ext("sender", sender)
            .with_ext("seq", seq)
            .with_body(vec![sender as u8; body_len(seq)])
    }

    /// Runtime tasks with company queue their frames for the writer task, which writes several
    /// at once: small pieces copied into runs, large bodies from their own buffers (see the
    /// outbox module doc). With the peer reading nothing at first, the queue fills past a write
    /// batch and the writes are short. Every frame must arrive whole, and each task's in order.
    #[test]
    fn queued_frames_of_mixed_sizes_arrive_whole_and_in_order() {
        const TASKS: usize = 8;
        const PER_TASK: usize = 200;
        fn body_len(seq: usize) -> usize {
            match seq % 4 {
                0 => 64 * 1024 + seq,
                1 => super::super::outbox::COPY_UNDER,
                2 => 0,
                _ => 10 + seq,
            }
        }
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        // Sender TASKS is a request left waiting for an answer, so that no task is alone and
        // every frame is queued.
        let (addr, peer) = late_reading_peer(&rt, TASKS + 1, TASKS * PER_TASK + 1, body_len);
        let stream = rt.block_on(TcpStream::connect(addr)).unwrap();
        let conn = rt.block_on(async { Connection::start_plain("peer".into(), stream, SerializeType::RocketMq, None) });
        let waiting = {
            let conn = conn.clone();
            let cmd = numbered_frame(2, TASKS, 0, body_len);
            rt.spawn(async move { conn.invoke(cmd, Duration::from_secs(60)).await })
        };
        while conn.shared.pending.lock().is_empty() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let senders: Vec<_> = (0..TASKS)
            .map(|task| {
                let conn = conn.clone();
                rt.spawn(async move {
                    for seq in 0..PER_TASK {
                        let cmd = numbered_frame(1, task, seq, body_len);
                        conn.invoke_oneway(cmd, Duration::from_secs(30)).await.unwrap();
                    }
                })
            })
            .collect();
        for sender in senders {
            rt.block_on(sender).unwrap();
        }
        let (received, _open_socket) = rt.block_on(peer).unwrap();
        assert_eq!(received[..TASKS], [PER_TASK; TASKS]);
        assert_eq!(received[TASKS], 1, "the waiting request");
        assert!(conn.is_alive(), "no write failed");
        waiting.abort();
    }

    /// A stream that counts the writes made to it (each `poll_write*` call that wrote bytes).
    struct CountingStream {
        inner: tokio::io::DuplexStream,
        writes: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl CountingStream {
        fn counted<T>(&self, polled: std::task::Poll<io::Result<T>>) -> std::task::Poll<io::Result<T>> {
            if matches!(polled, std::task::Poll::Ready(Ok(_))) {
                self.writes.fetch_add(1, Ordering::Relaxed);
            }
            polled
        }
    }

    impl AsyncRead for CountingStream {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<io::Result<()>> {
            Pin::new(&mut self.inner).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for CountingStream {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<io::Result<usize>> {
            let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
            self.counted(polled)
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            bufs: &[io::IoSlice<'_>],
        ) -> std::task::Poll<io::Result<usize>> {
            let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
            self.counted(polled)
        }

        fn is_write_vectored(&self) -> bool {
            self.inner.is_write_vectored()
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<io::Result<()>> {
            Pin::new(&mut self.inner).poll_flush(cx)
        }

        fn poll_shutdown(
            mut self: Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<io::Result<()>> {
            Pin::new(&mut self.inner).poll_shutdown(cx)
        }
    }

    /// Tasks made ready together (as one read of answers wakes their senders) queue their frames
    /// before the writer writes: one write for all of them. The runtime runs a task woken by the
    /// running one next, so a writer that took the queue as soon as it was woken wrote the first
    /// sender's frame alone, then the next one's (the module doc has what that cost).
    #[test]
    fn frames_queued_by_tasks_woken_together_share_one_write() {
        const TASKS: usize = 8;
        // One worker: every wake-up below happens on it, in one order.
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let (client_side, mut peer) = tokio::io::duplex(1 << 20);
        let writes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let stream = CountingStream { inner: client_side, writes: writes.clone() };
        let conn = rt.block_on(async { Connection::start("peer".into(), stream, SerializeType::RocketMq, None) });
        let (go, gate) = tokio::sync::watch::channel(false);
        let waiting = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let senders: Vec<_> = (0..TASKS)
            .map(|task| {
                let (conn, mut gate, waiting) = (conn.clone(), gate.clone(), waiting.clone());
                rt.spawn(async move {
                    waiting.fetch_add(1, Ordering::SeqCst);
                    gate.wait_for(|open| *open).await.unwrap();
                    let cmd = numbered_frame(1, task, 0, |_| 16);
                    conn.invoke_oneway(cmd, Duration::from_secs(5)).await.unwrap();
                })
            })
            .collect();
        // Opened by a task, once every sender waits: all of them are woken on the worker at once.
        rt.block_on(rt.spawn(async move {
            while waiting.load(Ordering::SeqCst) < TASKS {
                tokio::task::yield_now().await;
            }
            go.send(true).unwrap();
        }))
        .unwrap();
        for sender in senders {
            rt.block_on(sender).unwrap();
        }
        // Read on the worker too: a reader on this thread could take the frames from the pipe
        // between the writer's write and its count, and find no write counted.
        let seen = rt
            .block_on(rt.spawn(async move {
                let (mut buf, mut seen) = (BytesMut::new(), vec![false; TASKS]);
                for _ in 0..TASKS {
                    let cmd = read_request(&mut peer, &mut buf).await;
                    let sender: usize = cmd.ext("sender").unwrap().parse().unwrap();
                    seen[sender] = true;
                }
                seen
            }))
            .unwrap();
        assert_eq!(seen, [true; TASKS], "every frame arrives");
        assert_eq!(writes.load(Ordering::Relaxed), 1, "{TASKS} frames queued together go in one write");
    }

    #[test]
    fn a_lone_request_or_a_thread_with_little_company_writes_itself() {
        for runtime_task in [true, false] {
            assert!(writes_itself(1, runtime_task), "alone, anyone writes");
        }
        assert!(!writes_itself(2, true), "a task with company queues");
        assert!(writes_itself(THREADS_QUEUE_FROM - 1, false), "a thread with a little company writes");
        assert!(!writes_itself(THREADS_QUEUE_FROM, false), "a thread in a crowd queues");
    }

    /// Plain TCP, where senders write frames themselves: threads outside the runtime (as a
    /// Python or C caller is) send interleaved small and large frames while the peer first
    /// reads nothing, so direct writes hit a full socket buffer (partly written frames, then the
    /// queue) before it drains. Every frame must arrive whole, and each thread's in its order.
    #[test]
    fn direct_writes_from_many_threads_arrive_whole_and_in_order() {
        const THREADS: usize = 4;
        const PER_THREAD: usize = 300;
        fn body_len(seq: usize) -> usize {
            if seq.is_multiple_of(10) {
                512 * 1024
            } else {
                100 + seq
            }
        }
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (addr, peer) = late_reading_peer(&rt, THREADS, THREADS * PER_THREAD, body_len);
        let stream = rt.block_on(TcpStream::connect(addr)).unwrap();
        let conn = rt.block_on(async { Connection::start_plain("peer".into(), stream, SerializeType::RocketMq, None) });
        std::thread::scope(|scope| {
            for thread in 0..THREADS {
                let (conn, handle) = (conn.clone(), rt.handle().clone());
                scope.spawn(move || {
                    for seq in 0..PER_THREAD {
                        let cmd = numbered_frame(1, thread, seq, body_len);
                        handle.block_on(conn.invoke_oneway(cmd, Duration::from_secs(30))).unwrap();
                    }
                });
            }
        });
        let (received, _open_socket) = rt.block_on(peer).unwrap();
        assert_eq!(received, [PER_THREAD; THREADS]);
        assert!(conn.is_alive(), "no write failed");
    }
}
