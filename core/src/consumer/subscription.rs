//! Subscription data as the Java client builds it (`FilterAPI.buildSubscriptionData`): the tag
//! set and its hash codes for the broker's filter, the heartbeat JSON, and the client-side tag
//! re-check (the broker compares tag hashes only, so colliding tags must be filtered here).

use serde_json::{json, Value};

use super::listener::MessageSelector;
use crate::error::{Error, Result};
use crate::message::now_ms;
use crate::protocol::java_hash::java_string_hash;

pub const SUB_ALL: &str = "*";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpressionType {
    Tag,
    Sql92,
}

impl ExpressionType {
    pub fn wire_name(self) -> &'static str {
        match self {
            ExpressionType::Tag => "TAG",
            ExpressionType::Sql92 => "SQL92",
        }
    }
}

/// One topic's subscription (topic already namespaced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionData {
    pub topic: String,
    pub sub_string: String,
    /// Distinct tags in first-seen order.
    pub tags: Vec<String>,
    pub codes: Vec<i32>,
    pub expression_type: ExpressionType,
    /// When the subscription was built (ms); brokers keep the newest one.
    pub sub_version: i64,
}

impl SubscriptionData {
    pub fn new(topic: &str, selector: &MessageSelector) -> Result<Self> {
        match selector {
            MessageSelector::Tag(expr) => Self::by_tag(topic, expr),
            MessageSelector::Sql92(sql) => {
                let sql = sql.trim();
                if sql.is_empty() {
                    return Err(Error::invalid_argument("SQL92 subscription expression is empty"));
                }
                Ok(SubscriptionData {
                    topic: topic.to_owned(),
                    sub_string: sql.to_owned(),
                    tags: Vec::new(),
                    codes: Vec::new(),
                    expression_type: ExpressionType::Sql92,
                    sub_version: now_ms(),
                })
            }
        }
    }

    /// `*`, empty or whitespace subscribe to everything; otherwise tags separated by `||`.
    pub fn by_tag(topic: &str, expression: &str) -> Result<Self> {
        let expression = expression.trim();
        let mut data = SubscriptionData {
            topic: topic.to_owned(),
            sub_string: SUB_ALL.to_owned(),
            tags: Vec::new(),
            codes: Vec::new(),
            expression_type: ExpressionType::Tag,
            sub_version: now_ms(),
        };
        if expression.is_empty() || expression == SUB_ALL {
            return Ok(data);
        }
        for tag in expression.split("||").map(str::trim).filter(|t| !t.is_empty()) {
            if !data.tags.iter().any(|t| t == tag) {
                data.codes.push(java_string_hash(tag));
                data.tags.push(tag.to_owned());
            }
        }
        if data.tags.is_empty() {
            return Err(Error::invalid_argument(format!(
                "subscription expression {expression:?} names no tag; use \"*\" for all messages"
            )));
        }
        data.sub_string = expression.to_owned();
        Ok(data)
    }

    /// The client-side filter of the Java client: for a tag subscription, a message passes
    /// only if it carries one of the subscribed tags. SQL92 is evaluated by the broker alone.
    pub fn accepts(&self, tag: Option<&str>) -> bool {
        if self.expression_type != ExpressionType::Tag || self.tags.is_empty() {
            return true;
        }
        tag.is_some_and(|t| self.tags.iter().any(|s| s == t))
    }

    /// The heartbeat's `SubscriptionData` JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "classFilterMode": false,
            "codeSet": self.codes,
            "expressionType": self.expression_type.wire_name(),
            "subString": self.sub_string,
            "subVersion": self.sub_version,
            "tagsSet": self.tags,
            "topic": self.topic,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_and_empty_subscribe_to_all() {
        for e in ["*", "", "  ", " * "] {
            let s = SubscriptionData::by_tag("T", e).unwrap();
            assert_eq!(s.sub_string, "*");
            assert!(s.tags.is_empty() && s.codes.is_empty());
            assert!(s.accepts(None));
            assert!(s.accepts(Some("x")));
        }
    }

    #[test]
    fn tags_and_codes_follow_java() {
        let s = SubscriptionData::by_tag("T", " TagA || TagB||TagA || ").unwrap();
        assert_eq!(s.tags, vec!["TagA", "TagB"]);
        assert_eq!(s.codes, vec![2598919, 2598920]);
        assert!(s.accepts(Some("TagB")));
        assert!(!s.accepts(Some("TagC")));
        assert!(!s.accepts(None));
        let j = s.to_json();
        assert_eq!(j["expressionType"], "TAG");
        assert_eq!(j["codeSet"], json!([2598919, 2598920]));
        assert!(SubscriptionData::by_tag("T", "||").is_err());
    }

    #[test]
    fn sql_subscriptions_are_not_filtered_client_side() {
        let s = SubscriptionData::new("T", &MessageSelector::by_sql("a > 1")).unwrap();
        assert_eq!(s.expression_type, ExpressionType::Sql92);
        assert!(s.accepts(None));
        assert_eq!(s.to_json()["subString"], "a > 1");
        assert!(SubscriptionData::new("T", &MessageSelector::by_sql(" ")).is_err());
    }
}
