//! SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320): the send header in its V2 form, whose
//! field names are single letters `a`..`n` (Java `SendMessageRequestHeaderV2`, a compact
//! spelling of `SendMessageRequestHeader`, decoded by the broker into the long form), and the
//! send response header.
//!
//! This is the hot path: the header borrows everything it writes and allocates nothing beyond
//! the field strings themselves.

use super::{ExtFields, FieldValue, RequestHeader};
use crate::error::Result;
use crate::protocol::codes::request;
use crate::protocol::command::RemotingCommand;

/// Topic whose route serves sends to topics a broker creates on first use (Java
/// `TopicValidator.AUTO_CREATE_TOPIC_KEY_TOPIC`, `common/.../topic/TopicValidator.java`); also
/// the send header's `defaultTopic` and the template of topics created by the admin call.
pub const AUTO_CREATE_TEMPLATE_TOPIC: &str = "TBW102";
/// Queues a topic gets when a broker auto-creates it on a send: the send header's
/// `defaultTopicQueueNums` (Java `DefaultMQProducer.defaultTopicQueueNums`, default 4).
pub const DEFAULT_TOPIC_QUEUE_NUMS: i32 = 4;

/// The send header. The struct names the fields as Java's long form does; [`RequestHeader`]
/// writes them under their V2 letters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendMessageRequestHeader<'a> {
    /// `a`: producerGroup.
    pub producer_group: &'a str,
    /// `b`: topic, namespace included.
    pub topic: &'a str,
    /// `c`: defaultTopic, the template for auto-creation.
    pub default_topic: &'a str,
    /// `d`: defaultTopicQueueNums.
    pub default_topic_queue_nums: i32,
    /// `e`: queueId.
    pub queue_id: i32,
    /// `f`: sysFlag (compression, transaction type, ...).
    pub sys_flag: i32,
    /// `g`: bornTimestamp, ms since the epoch.
    pub born_timestamp: i64,
    /// `h`: flag, the user flag of the message (always 0 for ONS messages).
    pub flag: i32,
    /// `i`: properties, encoded as in `protocol::message::encode_properties`.
    pub properties: &'a str,
    /// `j`: reconsumeTimes.
    pub reconsume_times: i32,
    /// `k`: unitMode.
    pub unit_mode: bool,
    /// `l`: maxReconsumeTimes; sent only on sends to a retry topic.
    pub max_reconsume_times: Option<i32>,
    /// `m`: batch; written only when true (SEND_BATCH_MESSAGE), the broker reads an absent
    /// field as false.
    pub batch: bool,
    /// `n`: brokerName, the broker the queue belongs to (5.x brokers check it).
    pub broker_name: &'a str,
}

impl<'a> SendMessageRequestHeader<'a> {
    /// A single-message header with the auto-creation defaults, no sys flag, no user flag,
    /// first delivery. Callers override the rest with struct update syntax.
    pub fn new(
        producer_group: &'a str,
        topic: &'a str,
        queue_id: i32,
        broker_name: &'a str,
        properties: &'a str,
        born_timestamp: i64,
    ) -> Self {
        SendMessageRequestHeader {
            producer_group,
            topic,
            default_topic: AUTO_CREATE_TEMPLATE_TOPIC,
            default_topic_queue_nums: DEFAULT_TOPIC_QUEUE_NUMS,
            queue_id,
            sys_flag: 0,
            born_timestamp,
            flag: 0,
            properties,
            reconsume_times: 0,
            unit_mode: false,
            max_reconsume_times: None,
            batch: false,
            broker_name,
        }
    }
}

impl RequestHeader for SendMessageRequestHeader<'_> {
    fn code(&self) -> i32 {
        if self.batch {
            request::SEND_BATCH_MESSAGE
        } else {
            request::SEND_MESSAGE_V2
        }
    }

    fn write_fields(&self, out: &mut ExtFields) {
        self.producer_group.write_to(out, "a");
        self.topic.write_to(out, "b");
        self.default_topic.write_to(out, "c");
        self.default_topic_queue_nums.write_to(out, "d");
        self.queue_id.write_to(out, "e");
        self.sys_flag.write_to(out, "f");
        self.born_timestamp.write_to(out, "g");
        self.flag.write_to(out, "h");
        self.properties.write_to(out, "i");
        self.reconsume_times.write_to(out, "j");
        self.unit_mode.write_to(out, "k");
        self.max_reconsume_times.write_to(out, "l");
        if self.batch {
            true.write_to(out, "m");
        }
        self.broker_name.write_to(out, "n");
    }
}

/// The answer to a stored send (Java `SendMessageResponseHeader`). For a batch, `msg_id` holds
/// the inner messages' offset ids joined by commas and `queue_offset` the first one's offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendMessageResponseHeader {
    /// `msgId`: the offset message id (store host and commit-log offset).
    pub msg_id: String,
    /// `queueId`.
    pub queue_id: i32,
    /// `queueOffset`.
    pub queue_offset: i64,
    /// `transactionId`, on half messages.
    pub transaction_id: Option<String>,
}

impl SendMessageResponseHeader {
    pub fn decode(resp: &RemotingCommand) -> Result<Self> {
        Ok(SendMessageResponseHeader {
            queue_id: resp.ext_parse("queueId")?,
            queue_offset: resp.ext_parse("queueOffset")?,
            msg_id: resp.ext_parse("msgId")?,
            transaction_id: resp.ext("transactionId").map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{fields_of, vector};
    use super::*;

    #[test]
    fn single_send_writes_the_v2_letters() {
        let header = SendMessageRequestHeader {
            sys_flag: 0x1,
            ..SendMessageRequestHeader::new("GID_P", "NS%T", 3, "broker-a", "UNIQ_KEY\u{1}X\u{2}", 1_700_000_000_000)
        };
        assert_eq!(header.code(), 310);
        assert_eq!(
            fields_of(&header),
            vector(&[
                ("a", "GID_P"),
                ("b", "NS%T"),
                ("c", "TBW102"),
                ("d", "4"),
                ("e", "3"),
                ("f", "1"),
                ("g", "1700000000000"),
                ("h", "0"),
                ("i", "UNIQ_KEY\u{1}X\u{2}"),
                ("j", "0"),
                ("k", "false"),
                ("n", "broker-a"),
            ])
        );
    }

    #[test]
    fn single_send_json_header_bytes() {
        let mut cmd = SendMessageRequestHeader::new("G", "T", 1, "b", "K\u{1}V\u{2}", 7).command();
        cmd.opaque = 9;
        let mut out = bytes::BytesMut::new();
        cmd.encode(crate::protocol::command::SerializeType::Json, &mut out).unwrap();
        let expected = concat!(
            r#"{"code":310,"extFields":{"a":"G","b":"T","c":"TBW102","d":"4","e":"1","f":"0","g":"7","h":"0","#,
            r#""i":"K\u0001V\u0002","j":"0","k":"false","n":"b"},"flag":0,"language":"RUST","opaque":9,"#,
            r#""serializeTypeCurrentRPC":"JSON","version":479}"#
        );
        assert_eq!(std::str::from_utf8(&out[8..]).unwrap(), expected);
    }

    #[test]
    fn batch_send_adds_m_and_uses_the_batch_code() {
        let header = SendMessageRequestHeader {
            batch: true,
            ..SendMessageRequestHeader::new("G", "T", 0, "b", "WAIT\u{1}true\u{2}", 5)
        };
        assert_eq!(header.code(), 320);
        let fields = fields_of(&header);
        assert!(fields.contains(&("m".into(), "true".into())));
        assert!(!fields.iter().any(|(k, _)| k == "l"));
        assert_eq!(fields.len(), 13);
    }

    #[test]
    fn retry_topic_send_carries_reconsume_counts() {
        let header = SendMessageRequestHeader {
            reconsume_times: 2,
            max_reconsume_times: Some(16),
            ..SendMessageRequestHeader::new("CLIENT_INNER_PRODUCER", "%RETRY%G", 1, "b", "", 9)
        };
        let fields = fields_of(&header);
        assert!(fields.contains(&("j".into(), "2".into())));
        assert!(fields.contains(&("l".into(), "16".into())));
        assert!(!fields.iter().any(|(k, _)| k == "m"));
    }

    #[test]
    fn response_decodes_and_names_a_missing_field() {
        let resp = RemotingCommand::response(0, 1, None)
            .with_ext("msgId", "7F00000100002A9F0000000000000000")
            .with_ext("queueId", "3")
            .with_ext("queueOffset", "12");
        let h = SendMessageResponseHeader::decode(&resp).unwrap();
        assert_eq!(
            h,
            SendMessageResponseHeader {
                msg_id: "7F00000100002A9F0000000000000000".into(),
                queue_id: 3,
                queue_offset: 12,
                transaction_id: None
            }
        );
        let partial = RemotingCommand::response(0, 1, None).with_ext("queueId", "3");
        assert!(SendMessageResponseHeader::decode(&partial).unwrap_err().message().contains("queueOffset"));
    }
}
