//! Transactions: the producer's END_TRANSACTION (37) after its local transaction or in answer
//! to a check, and the broker's CHECK_TRANSACTION_STATE (39) request, whose header this client
//! decodes.

use super::BNAME;
use crate::error::Result;
use crate::protocol::codes::request;
use crate::protocol::command::RemotingCommand;

request_header! {
    /// Java `EndTransactionRequestHeader`.
    pub struct EndTransactionRequestHeader<'a>, code request::END_TRANSACTION, {
        topic: Option<&'a str> => "topic",
        producer_group: &'a str => "producerGroup",
        /// The half message's offset in the half queue (send result or check header).
        tran_state_table_offset: i64 => "tranStateTableOffset",
        commit_log_offset: i64 => "commitLogOffset",
        /// A `protocol::message::sys_flag` transaction type: commit (8), rollback (12) or not
        /// known yet (0).
        commit_or_rollback: i32 => "commitOrRollback",
        /// True when answering a broker's check.
        from_transaction_check: bool => "fromTransactionCheck",
        /// The message's unique key.
        msg_id: &'a str => "msgId",
        transaction_id: Option<&'a str> => "transactionId",
        broker_name: Option<&'a str> => BNAME,
    }
}

/// Java `CheckTransactionStateRequestHeader`, read from the broker's request; the half message
/// itself is the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckTransactionStateRequestHeader<'a> {
    pub topic: Option<&'a str>,
    pub tran_state_table_offset: i64,
    pub commit_log_offset: i64,
    /// The message's unique key, when the broker sends it.
    pub msg_id: Option<&'a str>,
    pub transaction_id: Option<&'a str>,
    /// `bname`: the broker asking.
    pub broker_name: Option<&'a str>,
}

impl<'a> CheckTransactionStateRequestHeader<'a> {
    pub fn decode(req: &'a RemotingCommand) -> Result<Self> {
        Ok(CheckTransactionStateRequestHeader {
            topic: req.ext("topic"),
            tran_state_table_offset: req.ext_parse("tranStateTableOffset")?,
            commit_log_offset: req.ext_parse("commitLogOffset")?,
            msg_id: req.ext("msgId"),
            transaction_id: req.ext("transactionId"),
            broker_name: req.ext(BNAME),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{fields_of, vector};
    use super::*;
    use crate::protocol::headers::RequestHeader;

    #[test]
    fn end_transaction_after_the_local_transaction() {
        let h = EndTransactionRequestHeader {
            topic: None,
            producer_group: "P",
            tran_state_table_offset: 3,
            commit_log_offset: 4096,
            commit_or_rollback: 8,
            from_transaction_check: false,
            msg_id: "UNIQ",
            transaction_id: None,
            broker_name: None,
        };
        assert_eq!(h.code(), 37);
        assert_eq!(
            fields_of(&h),
            vector(&[
                ("producerGroup", "P"),
                ("tranStateTableOffset", "3"),
                ("commitLogOffset", "4096"),
                ("commitOrRollback", "8"),
                ("fromTransactionCheck", "false"),
                ("msgId", "UNIQ"),
            ])
        );
    }

    #[test]
    fn end_transaction_answering_a_check() {
        let h = EndTransactionRequestHeader {
            topic: Some("T"),
            producer_group: "P",
            tran_state_table_offset: 3,
            commit_log_offset: 4096,
            commit_or_rollback: 12,
            from_transaction_check: true,
            msg_id: "UNIQ",
            transaction_id: Some("TX"),
            broker_name: Some("b"),
        };
        assert_eq!(
            fields_of(&h),
            vector(&[
                ("topic", "T"),
                ("producerGroup", "P"),
                ("tranStateTableOffset", "3"),
                ("commitLogOffset", "4096"),
                ("commitOrRollback", "12"),
                ("fromTransactionCheck", "true"),
                ("msgId", "UNIQ"),
                ("transactionId", "TX"),
                ("bname", "b"),
            ])
        );
    }

    #[test]
    fn check_request_decodes() {
        let req = RemotingCommand::request(request::CHECK_TRANSACTION_STATE)
            .with_ext("tranStateTableOffset", 3)
            .with_ext("commitLogOffset", 4096)
            .with_ext("msgId", "UNIQ")
            .with_ext("bname", "b");
        let h = CheckTransactionStateRequestHeader::decode(&req).unwrap();
        assert_eq!(
            h,
            CheckTransactionStateRequestHeader {
                topic: None,
                tran_state_table_offset: 3,
                commit_log_offset: 4096,
                msg_id: Some("UNIQ"),
                transaction_id: None,
                broker_name: Some("b"),
            }
        );
        let bad = RemotingCommand::request(request::CHECK_TRANSACTION_STATE).with_ext("tranStateTableOffset", 3);
        assert!(CheckTransactionStateRequestHeader::decode(&bad).unwrap_err().message().contains("commitLogOffset"));
    }
}
