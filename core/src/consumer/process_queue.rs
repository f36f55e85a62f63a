//! The process queue of one assigned message queue: which pulled messages are not finished yet,
//! the next offset to pull, and from those the offset that may be committed — the smallest
//! offset still in flight, or the next pull offset when nothing is (so messages the filter
//! skipped are committed too). Also the cache statistics flow control reads.
//!
//! Orderly consumption keeps the messages themselves here and takes them one at a time in
//! offset order; concurrent consumption hands messages to the dispatcher and keeps only sizes.

use std::collections::BTreeMap;

use crate::message::Message;

struct Entry {
    size: usize,
    /// Orderly consumption only: the message waiting for (or in) its listener. Boxed so an
    /// entry stays two words: the map moves entries around as it rebalances, and under
    /// concurrent consumption it holds thousands of them (a `Message` inline made every removal
    /// a copy of hundreds of bytes per moved entry).
    message: Option<Box<Message>>,
}

#[derive(Default)]
pub struct ProcessQueue {
    entries: BTreeMap<i64, Entry>,
    cached_bytes: usize,
    /// The offset the next pull starts at.
    next_offset: i64,
}

impl ProcessQueue {
    pub fn new(next_offset: i64) -> Self {
        ProcessQueue { next_offset, ..Default::default() }
    }

    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }

    /// Adopts a new pull offset (after a pull, or when the broker corrected it).
    pub fn set_next_offset(&mut self, offset: i64) {
        self.next_offset = offset;
    }

    /// Records pulled messages as in flight; `keep` stores them for orderly consumption.
    /// Messages already in flight (a pull repeated after an offset reset) are not added twice.
    pub fn add<'a>(&mut self, messages: impl IntoIterator<Item = &'a Message>, keep: bool) -> Vec<i64> {
        let mut added = Vec::new();
        for m in messages {
            let offset = queue_offset(m);
            if self.entries.contains_key(&offset) {
                continue;
            }
            let size = m.body.len();
            self.cached_bytes += size;
            self.entries.insert(offset, Entry { size, message: keep.then(|| Box::new(m.clone())) });
            added.push(offset);
        }
        added
    }

    /// Marks messages finished; returns the new commit offset.
    pub fn remove(&mut self, offsets: impl IntoIterator<Item = i64>) -> i64 {
        for offset in offsets {
            if let Some(e) = self.entries.remove(&offset) {
                self.cached_bytes -= e.size;
            }
        }
        self.commit_offset()
    }

    /// Everything below this offset is consumed (or was filtered out).
    pub fn commit_offset(&self) -> i64 {
        self.entries.keys().next().copied().unwrap_or(self.next_offset)
    }

    pub fn count(&self) -> usize {
        self.entries.len()
    }

    pub fn cached_bytes(&self) -> usize {
        self.cached_bytes
    }

    /// Distance between the oldest and the newest message in flight.
    pub fn span(&self) -> i64 {
        self.cached_range().map_or(0, |(first, last)| last - first)
    }

    /// The smallest and the largest offset in flight.
    pub fn cached_range(&self) -> Option<(i64, i64)> {
        Some((*self.entries.keys().next()?, *self.entries.keys().next_back()?))
    }

    /// Orderly: the oldest message not finished yet.
    pub fn first_message(&self) -> Option<&Message> {
        self.entries.values().next().and_then(|e| e.message.as_deref())
    }

    /// Orderly: the oldest message, to update its local reconsume count.
    pub fn first_message_mut(&mut self) -> Option<&mut Message> {
        self.entries.values_mut().next().and_then(|e| e.message.as_deref_mut())
    }

    /// Forgets every message (the queue is given up); returns how many were dropped.
    pub fn clear(&mut self) -> usize {
        let n = self.entries.len();
        self.entries.clear();
        self.cached_bytes = 0;
        n
    }
}

/// A received message's queue offset (0 for messages built locally, which never get here).
pub fn queue_offset(m: &Message) -> i64 {
    m.received.as_ref().map(|r| r.queue_offset).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::ReceivedInfo;

    fn msg(offset: i64, size: usize) -> Message {
        let mut m = Message::new("T", None, vec![0u8; size]);
        m.received = Some(ReceivedInfo { queue_offset: offset, ..Default::default() });
        m
    }

    #[test]
    fn commit_offset_is_the_smallest_unfinished() {
        let mut pq = ProcessQueue::new(10);
        assert_eq!(pq.commit_offset(), 10);
        let batch: Vec<Message> = (10..15).map(|o| msg(o, 100)).collect();
        pq.add(&batch, false);
        pq.set_next_offset(15);
        assert_eq!((pq.count(), pq.cached_bytes(), pq.span()), (5, 500, 4));
        assert_eq!(pq.remove([11, 12]), 10);
        assert_eq!(pq.remove([10]), 13);
        assert_eq!(pq.remove([14, 13]), 15);
        assert_eq!((pq.count(), pq.cached_bytes()), (0, 0));
        // Filtered-out messages: the pull moved on without adding anything.
        pq.set_next_offset(20);
        assert_eq!(pq.commit_offset(), 20);
    }

    #[test]
    fn repeated_offsets_are_not_added_twice_and_orderly_keeps_messages() {
        let mut pq = ProcessQueue::new(0);
        let batch = vec![msg(0, 1), msg(1, 2)];
        assert_eq!(pq.add(&batch, true), vec![0, 1]);
        assert!(pq.add(&batch, true).is_empty());
        assert_eq!(pq.cached_bytes(), 3);
        pq.first_message_mut().unwrap().reconsume_times = 2;
        assert_eq!(pq.first_message().unwrap().reconsume_times, 2);
        assert_eq!(pq.remove([0]), 1);
        assert_eq!(queue_offset(pq.first_message().unwrap()), 1);
        assert_eq!(pq.clear(), 1);
    }
}
