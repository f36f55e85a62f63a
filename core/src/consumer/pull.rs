//! A PULL_MESSAGE (11) reply turned into a [`PullResult`]: the received messages become ONS
//! messages (retry topics restored, the tag filter re-applied, queue offsets corrected,
//! namespaces removed). The request and response headers are `protocol::headers::pull`; what
//! each pull asks for is `consumer::engine::pull_request`.
//!
//! A reply is taken only as far as [`DecodeLimits`] allow (what was asked, and the room the
//! consumer's cache has), whatever the broker sends; the rest is pulled again from where the cut
//! was made, so nothing is skipped. A stored entry that does not decode is never skipped either:
//! when its place is known it becomes a placeholder the consumer hands back to the broker
//! (retry, then dead-letter queue; docs/undecodable-messages.md), and when even its frame is
//! broken the reply is taken up to it and the pull repeats from there.

use super::subscription::SubscriptionData;
use crate::client::namespace;
use crate::error::{Error, Result};
use crate::message::{from_stored, Message, ReceivedInfo};
use crate::protocol::codes::response;
use crate::protocol::command::RemotingCommand;
use crate::protocol::headers::PullMessageResponseHeader;
use crate::protocol::message::{decode_stored_messages_within, property, DecodeLimits, EntryFailure};
use crate::protocol::route::MessageQueue;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullStatus {
    Found,
    NoNewMessage,
    NoMatchedMessage,
    /// The requested offset is outside the queue (or was reset): continue at next_begin_offset.
    OffsetIllegal,
}

#[derive(Debug)]
pub struct PullResult {
    pub status: PullStatus,
    /// Where the next pull starts: the broker's `nextBeginOffset`, or, when the reply was cut
    /// short ([`PullResult::cut_short`]), the offset after the last entry taken.
    pub next_begin_offset: i64,
    pub min_offset: i64,
    pub max_offset: i64,
    pub messages: Vec<Message>,
    /// Entries that did not decode, as placeholders (no body; `received` has the queue and
    /// commit-log offsets and [`ReceivedInfo::undecodable`] the error): handed back to the
    /// broker instead of a listener.
    pub undecodable: Vec<Message>,
    /// The reply held more than the limits allowed, or a broken entry ended the walk.
    pub cut_short: bool,
    /// The broker id the broker suggests for the next pull of the queue (0: the master).
    pub suggested_broker_id: i64,
}

/// Decodes a pull response. Messages are converted for `group` and filtered by `sub`; no more
/// is taken than `limits` allow.
pub fn parse_pull_response(
    resp: &RemotingCommand,
    mq: &MessageQueue,
    group: &str,
    namespace: Option<&str>,
    sub: &SubscriptionData,
    limits: DecodeLimits,
) -> Result<PullResult> {
    let status = match resp.code {
        response::SUCCESS => PullStatus::Found,
        response::PULL_NOT_FOUND => PullStatus::NoNewMessage,
        response::PULL_RETRY_IMMEDIATELY => PullStatus::NoMatchedMessage,
        response::PULL_OFFSET_MOVED => PullStatus::OffsetIllegal,
        code => return Err(Error::from_response(code, resp.remark.as_deref(), "pull")),
    };
    let header = PullMessageResponseHeader::decode(resp)?;
    let mut result = PullResult {
        status,
        next_begin_offset: header.next_begin_offset,
        min_offset: header.min_offset,
        max_offset: header.max_offset,
        messages: Vec::new(),
        undecodable: Vec::new(),
        cut_short: false,
        suggested_broker_id: header.suggest_which_broker_id,
    };
    if status != PullStatus::Found {
        return Ok(result);
    }
    let offset_delta = header.offset_delta;
    let decoded = decode_stored_messages_within(&resp.body, limits);
    // The offset after the last entry taken (decoded or handed back), for a reply cut short.
    let mut taken_end: Option<i64> = None;
    let mut note_taken = |offset: i64| taken_end = Some(taken_end.map_or(offset + 1, |e: i64| e.max(offset + 1)));
    let mut broken: Option<&EntryFailure> = None;
    for f in &decoded.failures {
        match (f.resumed, f.queue_offset, f.commit_log_offset) {
            (true, Some(queue_offset), Some(commit_log_offset)) => {
                let queue_offset = queue_offset + offset_delta;
                note_taken(queue_offset);
                result.undecodable.push(placeholder(mq, namespace, queue_offset, commit_log_offset, f));
            }
            // Its frame is broken (or too short to say where it is): nothing after it can be
            // trusted, so the walk ended there.
            _ => broken = Some(f),
        }
    }
    if !result.undecodable.is_empty() {
        // One line per reply naming every entry and its reason (a line per entry, rate-limited
        // per call site, showed only the first of a burst).
        crate::log_limit::error_limited!(
            topic = %mq.topic, queue = mq.queue_id, count = result.undecodable.len(),
            entries = %describe_undecodable(&result.undecodable),
            "pulled messages do not decode; they are handed back to the broker (retry, then dead-letter queue)"
        );
    }
    let retry_topic = retry_topic(group);
    // Every message of the reply gets the same two, formatted once.
    let (mut min_offset, mut max_offset) = (itoa::Buffer::new(), itoa::Buffer::new());
    let (min_offset, max_offset) = (min_offset.format(result.min_offset), max_offset.format(result.max_offset));
    for mut stored in decoded.messages {
        stored.queue_offset += offset_delta;
        note_taken(stored.queue_offset);
        if !sub.accepts(stored.tags()) {
            continue;
        }
        let user_topic = user_topic(&mut stored, &retry_topic, namespace);
        stored.properties.insert(property::MIN_OFFSET, min_offset);
        stored.properties.insert(property::MAX_OFFSET, max_offset);
        result.messages.push(from_stored(stored, &mq.broker_name, user_topic));
    }
    if decoded.stopped_at_limit.is_some() || broken.is_some() {
        result.cut_short = true;
        match taken_end {
            Some(end) => result.next_begin_offset = end,
            None => {
                // Nothing taken at all. At a limit, the cache has no room now: pull the same
                // offset again later. At a broken entry: an error, so the pull is retried (and
                // reported) rather than the entry committed away.
                if let Some(f) = broken {
                    return Err(Error::protocol(format!(
                        "pull reply for {} queue {}: the entry at byte {} ({} bytes) does not decode and nothing \
                         before it does: {}",
                        mq.topic,
                        mq.queue_id,
                        f.byte_offset,
                        f.skipped_bytes,
                        f.error.message()
                    )));
                }
                // The entry that did not fit is the first one: start there next time.
                let first = decoded.stopped_at_limit.and_then(|pos| entry_queue_offset(&resp.body, pos));
                match first {
                    Some(offset) => result.next_begin_offset = offset + offset_delta,
                    None => {
                        return Err(Error::protocol("pull reply cut at its first entry, whose offset is unreadable"))
                    }
                }
            }
        }
    }
    Ok(result)
}

/// Entries listed by name in one log line; the rest are counted.
const UNDECODABLE_LISTED: usize = 8;

/// `queue offset Q (commit-log offset C): reason; ...` for the placeholders of one reply.
fn describe_undecodable(placeholders: &[Message]) -> String {
    let mut out = String::new();
    for m in placeholders.iter().take(UNDECODABLE_LISTED) {
        let Some(info) = m.received.as_ref() else { continue };
        if !out.is_empty() {
            out.push_str("; ");
        }
        out.push_str(&format!(
            "queue offset {} (commit-log offset {}): {}",
            info.queue_offset,
            info.commit_log_offset,
            info.undecodable.as_deref().unwrap_or("unknown reason")
        ));
    }
    if placeholders.len() > UNDECODABLE_LISTED {
        out.push_str(&format!("; and {} more", placeholders.len() - UNDECODABLE_LISTED));
    }
    out
}

/// The queue offset in the header of the stored entry at byte `pos` of a pull body (its frame
/// was checked when the walk reached it).
fn entry_queue_offset(body: &[u8], pos: usize) -> Option<i64> {
    let bytes = body.get(pos + 20..pos + 28)?;
    Some(i64::from_be_bytes(bytes.try_into().ok()?))
}

/// A stand-in for a stored entry that did not decode: enough to hand it back to the broker by
/// its commit-log offset and to keep its queue offset uncommitted until then.
fn placeholder(
    mq: &MessageQueue,
    namespace: Option<&str>,
    queue_offset: i64,
    commit_log_offset: i64,
    failure: &EntryFailure,
) -> Message {
    let mut message = Message::new(namespace::unwrap(namespace, &mq.topic), None, bytes::Bytes::new());
    message.received = Some(ReceivedInfo {
        queue_id: mq.queue_id,
        queue_offset,
        commit_log_offset,
        broker_name: mq.broker_name.clone(),
        undecodable: Some(failure.error.message().to_owned()),
        ..Default::default()
    });
    message
}

/// The retry topic of a (namespaced) group.
pub fn retry_topic(group: &str) -> String {
    format!("%RETRY%{group}")
}

/// The topic a listener sees for `stored`: for a message redelivered from the group's retry
/// topic (`retry_topic`) the topic it was sent to (`RETRY_TOPIC`), the namespace taken off. The
/// stored topic is moved out, not copied, when it is the answer.
pub(crate) fn user_topic(
    stored: &mut crate::protocol::message::StoredMessage,
    retry_topic: &str,
    namespace: Option<&str>,
) -> String {
    match stored.properties.get(property::RETRY_TOPIC) {
        Some(original) if stored.topic == retry_topic => namespace::unwrap(namespace, original),
        _ => namespace::unwrap_owned(namespace, std::mem::take(&mut stored.topic)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::message::{encode_stored_message, MessageVersion, StoredMessage};
    use std::net::SocketAddr;

    fn stored(topic: &str, offset: i64, tag: Option<&str>, retry_of: Option<&str>) -> StoredMessage {
        let mut properties = crate::protocol::message::StoredProperties::default();
        if let Some(t) = tag {
            properties.insert(property::TAGS, t);
        }
        if let Some(r) = retry_of {
            properties.insert(property::RETRY_TOPIC, r);
        }
        properties.insert(property::UNIQ_KEY, &format!("ID{offset}"));
        let host: SocketAddr = "127.0.0.1:10911".parse().unwrap();
        StoredMessage {
            store_size: 0,
            queue_id: 1,
            flag: 0,
            queue_offset: offset,
            commit_log_offset: 1000 + offset,
            sys_flag: 0,
            born_timestamp: 1,
            born_host: host,
            store_timestamp: 2,
            store_host: host,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body_crc: 0,
            body: bytes::Bytes::from_static(b"hi"),
            topic: topic.into(),
            properties,
            offset_msg_id: String::new(),
        }
    }

    fn response_with(msgs: &[StoredMessage]) -> RemotingCommand {
        let mut body = Vec::new();
        for m in msgs {
            body.extend(encode_stored_message(m, MessageVersion::V1).unwrap());
        }
        RemotingCommand::response(response::SUCCESS, 1, None)
            .with_ext("nextBeginOffset", 13)
            .with_ext("minOffset", 0)
            .with_ext("maxOffset", 13)
            .with_ext("suggestWhichBrokerId", 0)
            .with_body(body)
    }

    /// Limits no test reply reaches.
    const ROOMY: DecodeLimits = DecodeLimits { messages: 1000, body_bytes: 1 << 30, first_body_bytes: 1 << 30 };

    fn body_of(entries: &[Vec<u8>]) -> RemotingCommand {
        let mut body = Vec::new();
        for e in entries {
            body.extend_from_slice(e);
        }
        response_with(&[]).with_body(body)
    }

    fn encoded(offset: i64, body: Vec<u8>, compressed: bool) -> Vec<u8> {
        let mut m = stored("T", offset, None, None);
        m.commit_log_offset = 5000 + offset;
        m.body = bytes::Bytes::from(body);
        if compressed {
            m.sys_flag = crate::protocol::message::sys_flag::COMPRESSED;
        }
        encode_stored_message(&m, MessageVersion::V1).unwrap()
    }

    #[test]
    fn a_reply_with_more_than_asked_is_cut_and_resumed_where_cut() {
        let sub = SubscriptionData::by_tag("T", "*").unwrap();
        let mq = MessageQueue::new("T", "b", 0);
        let entries: Vec<Vec<u8>> = (100..1100).map(|o| encoded(o, b"x".to_vec(), false)).collect();
        let limits = DecodeLimits { messages: 32, ..ROOMY };
        let r = parse_pull_response(&body_of(&entries), &mq, "G", None, &sub, limits).unwrap();
        assert_eq!(r.messages.len(), 32);
        assert!(r.cut_short);
        // Not the broker's nextBeginOffset (13): the offset after the last message taken.
        assert_eq!(r.next_begin_offset, 132);
    }

    #[test]
    fn bodies_that_inflate_past_the_queue_share_are_left_for_later() {
        let sub = SubscriptionData::by_tag("T", "*").unwrap();
        let mq = MessageQueue::new("T", "b", 0);
        // Each 1 MiB of zeros compresses to about 1 KiB.
        let entries: Vec<Vec<u8>> = (0..10).map(|o| encoded(o, vec![0; 1 << 20], true)).collect();
        assert!(entries.iter().all(|e| e.len() < 8 * 1024));
        let limits = DecodeLimits { messages: 32, body_bytes: (2 << 20) + (1 << 19), first_body_bytes: 0 };
        let r = parse_pull_response(&body_of(&entries), &mq, "G", None, &sub, limits).unwrap();
        assert_eq!(r.messages.len(), 2, "2.5 MiB of room holds two 1 MiB bodies");
        assert!(r.undecodable.is_empty(), "a body that does not fit now is no failure");
        assert_eq!((r.cut_short, r.next_begin_offset), (true, 2));

        // No room in the queue's share: nothing taken, the same offset next time...
        let full = DecodeLimits { messages: 32, body_bytes: 0, first_body_bytes: 0 };
        let r = parse_pull_response(&body_of(&entries), &mq, "G", None, &sub, full).unwrap();
        assert!(r.messages.is_empty() && r.cut_short);
        assert_eq!(r.next_begin_offset, 0);
        // ...unless the whole cache has room for the first one, which is then taken alone.
        let first_only = DecodeLimits { messages: 32, body_bytes: 0, first_body_bytes: 1 << 20 };
        let r = parse_pull_response(&body_of(&entries), &mq, "G", None, &sub, first_only).unwrap();
        assert_eq!((r.messages.len(), r.next_begin_offset), (1, 1));
    }

    #[test]
    fn undecodable_entries_become_placeholders_and_are_not_skipped() {
        let sub = SubscriptionData::by_tag("T", "*").unwrap();
        let mq = MessageQueue::new("T", "b", 3);
        let mut bad = encoded(11, vec![b'z'; 100], true);
        // Compressed with an unknown type (bits 0x400): the frame is intact, the body is not.
        bad[36..40].copy_from_slice(&(crate::protocol::message::sys_flag::COMPRESSED | 0x400).to_be_bytes());
        let entries = vec![encoded(10, b"a".to_vec(), false), bad, encoded(12, b"c".to_vec(), false)];
        let r = parse_pull_response(&body_of(&entries), &mq, "G", None, &sub, ROOMY).unwrap();
        assert_eq!(r.messages.len(), 2);
        assert_eq!(r.undecodable.len(), 1);
        let p = r.undecodable[0].received.as_ref().unwrap();
        assert_eq!((p.queue_offset, p.commit_log_offset, p.queue_id), (11, 5011, 3));
        assert!(p.undecodable.as_deref().unwrap().contains("unknown compression type 4"), "{p:?}");
        assert!(!r.cut_short);
        assert_eq!(r.next_begin_offset, 13, "the broker's next offset: every entry was accounted for");

        // A broken frame ends the walk: what came before is taken, the pull resumes at it.
        let mut truncated = encoded(12, b"c".to_vec(), false);
        truncated.truncate(truncated.len() - 3);
        let entries = vec![encoded(10, b"a".to_vec(), false), encoded(11, b"b".to_vec(), false), truncated];
        let r = parse_pull_response(&body_of(&entries), &mq, "G", None, &sub, ROOMY).unwrap();
        assert_eq!((r.messages.len(), r.cut_short, r.next_begin_offset), (2, true, 12));
        // Broken from the start: an error (the pull is retried), never a skip.
        let err = parse_pull_response(&body_of(&entries[2..]), &mq, "G", None, &sub, ROOMY).unwrap_err();
        assert!(err.message().contains("does not decode and nothing before it does"), "{err}");
    }

    #[test]
    fn every_undecodable_entry_of_a_reply_is_named_in_its_log_line() {
        let sub = SubscriptionData::by_tag("T", "*").unwrap();
        let mq = MessageQueue::new("T", "b", 3);
        let unknown_type = |offset: i64| {
            let mut bad = encoded(offset, vec![b'z'; 100], true);
            bad[36..40].copy_from_slice(&(crate::protocol::message::sys_flag::COMPRESSED | 0x400).to_be_bytes());
            bad
        };
        let mut corrupt = encoded(12, vec![b'y'; 100], true);
        // The zlib header (the body starts at byte 88 of an entry with IPv4 hosts).
        assert_eq!(corrupt[88], 0x78);
        corrupt[88] ^= 0xFF;
        let mut entries = vec![unknown_type(10), encoded(11, b"b".to_vec(), false), corrupt];
        entries.extend((13..23).map(unknown_type));
        let r = parse_pull_response(&body_of(&entries), &mq, "G", None, &sub, ROOMY).unwrap();
        assert_eq!((r.messages.len(), r.undecodable.len()), (1, 12));
        let line = describe_undecodable(&r.undecodable);
        assert!(line.starts_with("queue offset 10 (commit-log offset 5010): "), "{line}");
        assert!(line.contains("unknown compression type 4"), "{line}");
        assert!(line.contains("queue offset 12 (commit-log offset 5012): "), "{line}");
        assert!(line.contains("; and 4 more"), "{line}");
        assert_eq!(line.matches("queue offset").count(), UNDECODABLE_LISTED);
    }

    #[test]
    fn found_messages_are_filtered_restored_and_unwrapped() {
        let sub = SubscriptionData::by_tag("NS%T", "A").unwrap();
        let mq = MessageQueue::new("NS%T", "broker-a", 1);
        let resp = response_with(&[
            stored("NS%T", 10, Some("A"), None),
            stored("NS%T", 11, Some("B"), None),
            stored("NS%T", 12, None, None),
        ]);
        let r = parse_pull_response(&resp, &mq, "NS%G", Some("NS"), &sub, ROOMY).unwrap();
        assert_eq!(r.status, PullStatus::Found);
        assert_eq!(r.next_begin_offset, 13);
        assert_eq!(r.messages.len(), 1);
        let m = &r.messages[0];
        assert_eq!((m.topic.as_str(), m.tag.as_deref(), m.msg_id.as_deref()), ("T", Some("A"), Some("ID10")));
        assert_eq!(m.received.as_ref().unwrap().broker_name, "broker-a");

        let all = SubscriptionData::by_tag("%RETRY%NS%G", "*").unwrap();
        let rq = MessageQueue::new("%RETRY%NS%G", "broker-a", 0);
        let resp = response_with(&[stored("%RETRY%NS%G", 3, Some("B"), Some("NS%T"))]);
        let r = parse_pull_response(&resp, &rq, "NS%G", Some("NS"), &all, ROOMY).unwrap();
        assert_eq!(r.messages[0].topic, "T");
    }

    #[test]
    fn statuses_and_errors() {
        let sub = SubscriptionData::by_tag("T", "*").unwrap();
        let mq = MessageQueue::new("T", "b", 0);
        for (code, status) in
            [(19, PullStatus::NoNewMessage), (20, PullStatus::NoMatchedMessage), (21, PullStatus::OffsetIllegal)]
        {
            let resp = RemotingCommand::response(code, 1, None)
                .with_ext("nextBeginOffset", 4)
                .with_ext("minOffset", 0)
                .with_ext("maxOffset", 9);
            let r = parse_pull_response(&resp, &mq, "G", None, &sub, ROOMY).unwrap();
            assert_eq!((r.status, r.next_begin_offset), (status, 4));
        }
        let busy = RemotingCommand::response(215, 1, Some("flow control".into()));
        assert_eq!(parse_pull_response(&busy, &mq, "G", None, &sub, ROOMY).unwrap_err().response_code(), Some(215));
        let missing = RemotingCommand::response(19, 1, None);
        assert!(parse_pull_response(&missing, &mq, "G", None, &sub, ROOMY).is_err());
    }
}
