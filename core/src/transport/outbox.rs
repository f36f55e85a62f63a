//! The frames waiting for a connection's socket, shared by every sender and the connection's
//! writer task: a bounded queue (senders wait for room under a stalled socket), coalescing of
//! queued frames into one write, and on plain TCP the direct write of a frame with nothing ahead
//! of it (see the [`connection`](super::connection) module doc for when senders use it).
//!
//! A [`Frame`] keeps its body apart from its length prefix and header, and frames reach the
//! socket by vectored writes (`writev`): a body of [`COPY_UNDER`] bytes or more is written from
//! the buffer the caller built it in, never copied into the frame or into a coalesced batch.
//! Batch sends (32 KiB bodies) and trace messages (bodies of up to 400 records) spent about a
//! fifth of their instructions copying bodies twice before the kernel's own copy. Smaller
//! pieces of several queued frames are still copied into one run, so a burst of small requests
//! costs one iovec each rather than two.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::sync::Arc;
use parking_lot::{Mutex, MutexGuard};

use bytes::{Bytes, BytesMut};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;

/// Frames queued for writing before senders wait; bounds memory under a stalled socket.
pub(super) const WRITE_QUEUE_FRAMES: usize = 4096;

/// Frame bytes the writer takes for one write (it takes at least one frame, however large).
const WRITE_BATCH_BYTES: usize = 256 * 1024;

/// Pieces of queued frames (headers, bodies) shorter than this are copied into one run of a
/// write; longer ones are written from their own buffers. Below a few KiB a copy costs less
/// than the kernel's handling of one more iovec.
pub(super) const COPY_UNDER: usize = 4096;

/// iovecs per `writev` call (Linux accepts 1024; more pieces are written by further calls).
const SLICES_PER_WRITE: usize = 64;

/// One encoded frame: `head` is the length prefix and header, `body` the command's body, shared
/// with the command (not copied).
pub(crate) struct Frame {
    pub(crate) head: Bytes,
    pub(crate) body: Bytes,
}

impl Frame {
    pub(crate) fn len(&self) -> usize {
        self.head.len() + self.body.len()
    }

    /// What is left to write after the first `written` bytes.
    fn after(self, written: usize) -> Frame {
        if written < self.head.len() {
            Frame { head: self.head.slice(written..), body: self.body }
        } else {
            Frame { head: Bytes::new(), body: self.body.slice(written - self.head.len()..) }
        }
    }
}
/// The frames waiting for the socket, shared by every sender and the writer task.
pub(super) struct Outbox {
    state: Mutex<OutboxState>,
    /// Wakes the writer task when a frame is queued while it holds nothing and was not woken yet.
    work: Notify,
    /// One permit per frame that may still be queued (backpressure under a stalled socket).
    room: Semaphore,
}

struct OutboxState {
    queue: VecDeque<QueuedFrame>,
    /// The writer task has been woken for queued frames, or has taken frames from `queue` and
    /// not finished writing them: frames queued meanwhile wait for it without waking it again.
    writing: bool,
    closed: bool,
    /// Plain TCP only: the socket, for senders that write at once (see the module doc). Cleared
    /// when the writer stops, so the write side closes with it.
    direct: Option<Arc<OwnedWriteHalf>>,
}

struct QueuedFrame {
    frame: Frame,
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
    fn write_now(&self, state: &mut OutboxState, frame: Frame) -> std::result::Result<Option<Frame>, OutboxError> {
        let Some(socket) = state.direct.as_ref() else { return Ok(Some(frame)) };
        if state.writing || !state.queue.is_empty() {
            return Ok(Some(frame));
        }
        match socket.try_write_vectored(&[IoSlice::new(&frame.head), IoSlice::new(&frame.body)]) {
            Ok(n) if n == frame.len() => Ok(None),
            Ok(0) => Err(OutboxError::Write(io::ErrorKind::WriteZero.into())),
            Ok(n) => {
                state.queue.push_back(QueuedFrame { frame: frame.after(n), holds_room: false });
                state.writing = true;
                self.work.notify_one();
                Ok(None)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Some(frame)),
            Err(e) => Err(OutboxError::Write(e)),
        }
    }

    fn enqueue(&self, state: &mut OutboxState, frame: Frame) {
        state.queue.push_back(QueuedFrame { frame, holds_room: true });
        if !state.writing {
            state.writing = true;
            self.work.notify_one();
        }
    }

    /// Queues `frame` (or, if `write_now`, writes it at once when it can), waiting for queue
    /// room until `deadline`.
    pub(super) async fn send(
        &self,
        frame: Frame,
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
    pub(super) fn try_send(&self, frame: Frame, write_now: bool) -> std::result::Result<(), OutboxError> {
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

    /// For the writer task: moves the next frames to write (up to [`WRITE_BATCH_BYTES`], at
    /// least one) into `batch`. False when the queue is empty, which also marks the writer idle,
    /// or the connection is closed.
    pub(super) fn take(&self, batch: &mut WriteBatch) -> bool {
        batch.clear();
        let mut state = self.lock();
        if state.closed {
            return false;
        }
        let mut freed = 0;
        let mut bytes = 0;
        while bytes < WRITE_BATCH_BYTES {
            let Some(next) = state.queue.pop_front() else { break };
            freed += usize::from(next.holds_room);
            bytes += next.frame.len();
            batch.frames.push(next.frame);
        }
        state.writing = !batch.frames.is_empty();
        drop(state);
        self.room.add_permits(freed);
        !batch.frames.is_empty()
    }
}

/// The frames of one write, as the writer task took them, and the pieces it writes: a frame
/// alone is written as it is (head and body, no copy); pieces of several frames shorter than
/// [`COPY_UNDER`] are copied into runs, longer ones are written from their own buffers. The
/// buffers are kept from write to write.
#[derive(Default)]
pub(super) struct WriteBatch {
    frames: Vec<Frame>,
    run: BytesMut,
    pieces: Vec<Bytes>,
}

impl WriteBatch {
    fn clear(&mut self) {
        self.frames.clear();
        self.pieces.clear();
    }

    /// The pieces to write, in order, none empty.
    pub(super) fn pieces(&mut self) -> &[Bytes] {
        self.pieces.clear();
        let alone = self.frames.len() == 1;
        for frame in self.frames.drain(..) {
            for part in [frame.head, frame.body] {
                if part.is_empty() {
                    continue;
                }
                if alone || part.len() >= COPY_UNDER {
                    if !self.run.is_empty() {
                        self.pieces.push(self.run.split().freeze());
                    }
                    self.pieces.push(part);
                } else {
                    self.run.extend_from_slice(&part);
                }
            }
        }
        if !self.run.is_empty() {
            self.pieces.push(self.run.split().freeze());
        }
        &self.pieces
    }
}

/// Where a write of several pieces stands: the pieces not yet written completely, the first
/// one from `offset`.
pub(super) struct WriteCursor<'a> {
    pieces: &'a [Bytes],
    offset: usize,
}

impl<'a> WriteCursor<'a> {
    pub(super) fn new(pieces: &'a [Bytes]) -> Self {
        WriteCursor { pieces, offset: 0 }
    }

    pub(super) fn is_done(&self) -> bool {
        self.pieces.is_empty()
    }

    /// The next slices to hand to one vectored write, in `slices`; returns how many.
    pub(super) fn slices(&self, slices: &mut [IoSlice<'a>; SLICES_PER_WRITE]) -> usize {
        let pieces: &'a [Bytes] = self.pieces;
        let mut count = 0;
        for (i, piece) in pieces.iter().take(SLICES_PER_WRITE).enumerate() {
            slices[i] = IoSlice::new(if i == 0 { &piece[self.offset..] } else { piece });
            count += 1;
        }
        count
    }

    /// Records that a write took `written` more bytes.
    pub(super) fn advance(&mut self, mut written: usize) {
        while written > 0 {
            let Some((first, rest)) = self.pieces.split_first() else { return };
            let left = first.len() - self.offset;
            if written < left {
                self.offset += written;
                return;
            }
            written -= left;
            self.pieces = rest;
            self.offset = 0;
        }
    }
}

/// An empty slice array for [`WriteCursor::slices`].
pub(super) fn empty_slices<'s>() -> [IoSlice<'s>; SLICES_PER_WRITE] {
    [IoSlice::new(&[]); SLICES_PER_WRITE]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(head: &[u8], body: &[u8]) -> Frame {
        Frame { head: Bytes::copy_from_slice(head), body: Bytes::copy_from_slice(body) }
    }

    fn concat(pieces: &[Bytes]) -> Vec<u8> {
        pieces.iter().flat_map(|p| p.iter().copied()).collect()
    }

    #[test]
    fn the_rest_of_a_partly_written_frame() {
        let f = || frame(b"head", b"body");
        let rest = f().after(2);
        assert_eq!((&rest.head[..], &rest.body[..]), (&b"ad"[..], &b"body"[..]));
        let rest = f().after(4);
        assert_eq!((&rest.head[..], &rest.body[..]), (&b""[..], &b"body"[..]));
        let rest = f().after(7);
        assert_eq!((&rest.head[..], &rest.body[..]), (&b""[..], &b"y"[..]));
    }

    #[test]
    fn a_frame_alone_is_written_from_its_own_buffers() {
        let one = frame(b"head", b"small body");
        let (head_at, body_at) = (one.head.as_ptr(), one.body.as_ptr());
        let mut batch = WriteBatch::default();
        batch.frames.push(one);
        let pieces = batch.pieces();
        assert_eq!(pieces.len(), 2);
        assert_eq!((pieces[0].as_ptr(), pieces[1].as_ptr()), (head_at, body_at));
    }

    #[test]
    fn small_pieces_of_several_frames_share_a_run_and_large_bodies_are_not_copied() {
        let large = vec![7u8; COPY_UNDER];
        let frames = [frame(b"h1", b"b1"), frame(b"h2", &large), frame(b"h3", b""), frame(b"h4", b"b4")];
        let expected: Vec<u8> = frames.iter().flat_map(|f| f.head.iter().chain(f.body.iter()).copied()).collect();
        let large_at = frames[1].body.as_ptr();
        let mut batch = WriteBatch::default();
        batch.frames.extend(frames);
        let pieces = batch.pieces().to_vec();
        assert_eq!(pieces.len(), 3, "run, large body, run");
        assert_eq!(&pieces[0][..], b"h1b1h2");
        assert_eq!(pieces[1].as_ptr(), large_at);
        assert_eq!(&pieces[2][..], b"h3h4b4");
        assert_eq!(concat(&pieces), expected);
        assert!(pieces.iter().all(|p| !p.is_empty()));
    }

    #[test]
    fn the_cursor_resumes_where_a_short_write_stopped() {
        let pieces = [Bytes::from_static(b"abc"), Bytes::from_static(b"de"), Bytes::from_static(b"fghi")];
        let mut cursor = WriteCursor::new(&pieces);
        let mut written = Vec::new();
        // Writes of 2, 2, 1, 4 bytes: inside a piece, across a boundary, to a boundary, the rest.
        for n in [2, 2, 1, 4] {
            let mut slices = empty_slices();
            let count = cursor.slices(&mut slices);
            let mut left = n;
            for s in &slices[..count] {
                let take = left.min(s.len());
                written.extend_from_slice(&s[..take]);
                left -= take;
            }
            cursor.advance(n);
        }
        assert!(cursor.is_done());
        assert_eq!(written, b"abcdefghi");
    }

    #[test]
    fn the_writer_takes_up_to_a_batch_of_bytes_and_gives_back_their_room() {
        let outbox = Outbox::new(None);
        for _ in 0..5 {
            outbox.try_send(frame(b"h", &vec![0u8; WRITE_BATCH_BYTES / 4]), false).unwrap();
        }
        let mut batch = WriteBatch::default();
        assert!(outbox.take(&mut batch));
        assert_eq!(batch.frames.len(), 4, "stops once a batch's bytes are taken");
        assert_eq!(outbox.room.available_permits(), WRITE_QUEUE_FRAMES - 1);
        assert!(outbox.take(&mut batch));
        assert_eq!(batch.frames.len(), 1);
        assert!(!outbox.take(&mut batch), "empty");
        assert!(!outbox.lock().writing, "an empty take marks the writer idle");
    }
}
