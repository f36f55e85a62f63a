//! The error codes of the Open API error table (docs/open-api.md §6), as a typed enum.

use std::fmt;

use crate::error::Error;

macro_rules! error_codes {
    ($($variant:ident => $code:literal, $meaning:literal;)*) => {
        /// An Open API error code. [`OpenApiErrorCode::Other`] keeps codes the table does not
        /// list, so a newer console's code is reported rather than lost.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum OpenApiErrorCode {
            $(#[doc = $meaning] $variant,)*
            /// A code not in the table.
            Other(String),
        }

        impl OpenApiErrorCode {
            /// Every code of the table, in its order.
            pub const DOCUMENTED: &'static [OpenApiErrorCode] = &[$(OpenApiErrorCode::$variant,)*];

            /// The code as the server sends it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(OpenApiErrorCode::$variant => $code,)*
                    OpenApiErrorCode::Other(code) => code,
                }
            }

            /// What the table says the code means (translated; docs/open-api.md §6).
            pub fn meaning(&self) -> &'static str {
                match self {
                    $(OpenApiErrorCode::$variant => $meaning,)*
                    OpenApiErrorCode::Other(_) => "not documented",
                }
            }

            /// Parses a code as sent; any string is accepted.
            pub fn parse(code: &str) -> OpenApiErrorCode {
                match code {
                    $($code => OpenApiErrorCode::$variant,)*
                    other => OpenApiErrorCode::Other(other.to_owned()),
                }
            }
        }
    };
}

error_codes! {
    OnsSystemError => "ONS_SYSTEM_ERROR", "RocketMQ back end failure; contact RocketMQ support.";
    OnsServiceUnsupported => "ONS_SERVICE_UNSUPPORTED", "The call is not supported in this region.";
    OnsInvokeError => "ONS_INVOKE_ERROR", "The Open API call failed.";
    BizFieldCheckInvalid => "BIZ_FIELD_CHECK_INVALID", "A parameter failed the server's checks.";
    BizTopicNotFound => "BIZ_TOPIC_NOT_FOUND", "The topic was not found.";
    BizSubscriptionNotFound => "BIZ_SUBSCRIPTION_NOT_FOUND", "The subscription (group id) was not found.";
    BizPublisherExisted => "BIZ_PUBLISHER_EXISTED", "The group id already exists.";
    BizSubscriptionExisted => "BIZ_SUBSCRIPTION_EXISTED", "The group id already exists.";
    BizConsumerNotOnline => "BIZ_CONSUMER_NOT_ONLINE", "No client of the group id is online.";
    BizNoMessage => "BIZ_NO_MESSAGE", "No message matches the query.";
    BizRegionNotFound => "BIZ_REGION_NOT_FOUND", "The region was not found.";
    BizTopicExisted => "BIZ_TOPIC_EXISTED", "The topic already exists.";
    BizProducerIdBelongToOtherUser => "BIZ_PRODUCER_ID_BELONG_TO_OTHER_USER", "The group id belongs to another user.";
    BizConsumerIdBelongToOtherUser => "BIZ_CONSUMER_ID_BELONG_TO_OTHER_USER", "The group id belongs to another user.";
    BizPublishInfoNotFound => "BIZ_PUBLISH_INFO_NOT_FOUND", "The group id was not found.";
    EmpowerExistError => "EMPOWER_EXIST_ERROR", "The authorization already exists.";
    EmpowerOwnerCheckError => "EMPOWER_OWNER_CHECK_ERROR", "The caller does not own the topic.";
}

impl OpenApiErrorCode {
    /// The Open API code carried by `error`, if it is an Open API error with a code.
    pub fn of(error: &Error) -> Option<OpenApiErrorCode> {
        error.api_code().map(OpenApiErrorCode::parse)
    }
}

impl fmt::Display for OpenApiErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code_round_trips() {
        assert_eq!(OpenApiErrorCode::DOCUMENTED.len(), 17);
        for code in OpenApiErrorCode::DOCUMENTED {
            assert_eq!(&OpenApiErrorCode::parse(code.as_str()), code);
            assert_ne!(code.meaning(), "not documented");
        }
        assert_eq!(OpenApiErrorCode::parse("BIZ_TOPIC_NOT_FOUND"), OpenApiErrorCode::BizTopicNotFound);
        assert_eq!(OpenApiErrorCode::parse("NEW_CODE"), OpenApiErrorCode::Other("NEW_CODE".into()));
        let err = Error::api(Some("EMPOWER_EXIST_ERROR".into()), "x");
        assert_eq!(OpenApiErrorCode::of(&err), Some(OpenApiErrorCode::EmpowerExistError));
        assert_eq!(OpenApiErrorCode::of(&Error::api(None, "x")), None);
    }
}
