//! The frames waiting for a connection's socket, shared by every sender and the connection's
//! writer task: a bounded queue (senders wait for room under a stalled socket), coalescing of
//! queued frames into one write, and on plain TCP the direct write of a frame with nothing ahead
//! of it (see the [`connection`](super::connection) module doc for when senders use it).

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use parking_lot::{Mutex, MutexGuard};

use bytes::{Bytes, BytesMut};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;

/// Frames queued for writing before senders wait; bounds memory under a stalled socket.
pub(super) const WRITE_QUEUE_FRAMES: usize = 4096;

/// The frames waiting for the socket, shared by every sender and the writer task.
pub(super) struct Outbox {
    state: Mutex<OutboxState>,
    /// Wakes the writer task when a frame is queued while it holds nothing.
    work: Notify,
    /// One permit per frame that may still be queued (backpressure under a stalled socket).
    room: Semaphore,
}

struct OutboxState {
    queue: VecDeque<QueuedFrame>,
    /// The writer task has taken frames from `queue` and not finished writing them.
    writing: bool,
    closed: bool,
    /// Plain TCP only: the socket, for senders that write at once (see the module doc). Cleared
    /// when the writer stops, so the write side closes with it.
    direct: Option<Arc<OwnedWriteHalf>>,
}

struct QueuedFrame {
    bytes: Bytes,
    /// Took a `room` permit, given back once written (the rest of a partly written direct frame
    /// took none).
    holds_room: bool,
}

#[derive(Debug)]
pub(super) enum OutboxError {
    Closed,
    /// No room before the deadline (or, for `try_send`, at once).
    Full,
    /// A direct write failed: the connection is broken.
    Write(io::Error),
}

impl Outbox {
    pub(super) fn new(direct: Option<Arc<OwnedWriteHalf>>) -> Self {
        Outbox {
            state: Mutex::new(OutboxState { queue: VecDeque::new(), writing: false, closed: false, direct }),
            work: Notify::new(),
            room: Semaphore::new(WRITE_QUEUE_FRAMES),
        }
    }

    fn lock(&self) -> MutexGuard<'_, OutboxState> {
        self.state.lock()
    }

    /// Writes `frame` to the socket now if this is a plain TCP connection with nothing ahead of it.
    /// Returns the frame back when it must be queued instead; a partly written frame has its
    /// rest queued here (first in line, since the queue was empty).
    fn write_now(&self, state: &mut OutboxState, frame: Bytes) -> std::result::Result<Option<Bytes>, OutboxError> {
        let Some(socket) = state.direct.as_ref() else { return Ok(Some(frame)) };
        if state.writing || !state.queue.is_empty() {
            return Ok(Some(frame));
        }
        match socket.try_write(&frame) {
            Ok(n) if n == frame.len() => Ok(None),
            Ok(0) => Err(OutboxError::Write(io::ErrorKind::WriteZero.into())),
            Ok(n) => {
                state.queue.push_back(QueuedFrame { bytes: frame.slice(n..), holds_room: false });
                self.work.notify_one();
                Ok(None)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Some(frame)),
            Err(e) => Err(OutboxError::Write(e)),
        }
    }

    fn enqueue(&self, state: &mut OutboxState, bytes: Bytes) {
        state.queue.push_back(QueuedFrame { bytes, holds_room: true });
        if !state.writing {
            self.work.notify_one();
        }
    }

    /// Queues `frame` (or, if `write_now`, writes it at once when it can), waiting for queue
    /// room until `deadline`.
    pub(super) async fn send(
        &self,
        frame: Bytes,
        write_now: bool,
        deadline: Instant,
    ) -> std::result::Result<(), OutboxError> {
        let frame = {
            let mut state = self.lock();
            if state.closed {
                return Err(OutboxError::Closed);
            }
            if !write_now {
                frame
            } else {
                match self.write_now(&mut state, frame)? {
                    None => return Ok(()),
                    Some(frame) => frame,
                }
            }
        };
        match tokio::time::timeout_at(deadline, self.room.acquire()).await {
            Ok(Ok(permit)) => permit.forget(),
            Ok(Err(_)) => return Err(OutboxError::Closed),
            Err(_) => return Err(OutboxError::Full),
        }
        let mut state = self.lock();
        if state.closed {
            return Err(OutboxError::Closed);
        }
        self.enqueue(&mut state, frame);
        Ok(())
    }

    /// [`Outbox::send`] without waiting: fails with `Full` when the queue has no room.
    pub(super) fn try_send(&self, frame: Bytes, write_now: bool) -> std::result::Result<(), OutboxError> {
        let mut state = self.lock();
        if state.closed {
            return Err(OutboxError::Closed);
        }
        let frame = if write_now {
            let Some(frame) = self.write_now(&mut state, frame)? else { return Ok(()) };
            frame
        } else {
            frame
        };
        match self.room.try_acquire() {
            Ok(permit) => permit.forget(),
            Err(tokio::sync::TryAcquireError::Closed) => return Err(OutboxError::Closed),
            Err(tokio::sync::TryAcquireError::NoPermits) => return Err(OutboxError::Full),
        }
        self.enqueue(&mut state, frame);
        Ok(())
    }

    /// For the writer task: resolves when a frame was queued while it held nothing.
    pub(super) async fn work_queued(&self) {
        self.work.notified().await
    }

    /// For the writer task when it stops: senders must not write to a socket nobody watches.
    pub(super) fn stop_direct_writes(&self) {
        self.lock().direct = None;
    }

    /// Fails every later send and wakes senders waiting for room.
    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.room.close();
        self.work.notify_one();
    }

    /// For the writer task: the next frames to write, concatenated into `batch` when there is
    /// more than one (coalesced into one syscall; small frames dominate). `None` when the queue
    /// is empty, which also marks the writer idle, or the connection is closed.
    pub(super) fn take(&self, batch: &mut BytesMut) -> Option<Bytes> {
        let mut state = self.lock();
        if state.closed {
            return None;
        }
        let Some(first) = state.queue.pop_front() else {
            state.writing = false;
            return None;
        };
        state.writing = true;
        let mut freed = usize::from(first.holds_room);
        let taken = if state.queue.is_empty() {
            first.bytes
        } else {
            batch.clear();
            batch.extend_from_slice(&first.bytes);
            while batch.len() < 256 * 1024 {
                let Some(next) = state.queue.pop_front() else { break };
                freed += usize::from(next.holds_room);
                batch.extend_from_slice(&next.bytes);
            }
            batch.split().freeze()
        };
        drop(state);
        self.room.add_permits(freed);
        Some(taken)
    }
}
