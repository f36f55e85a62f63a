//! The one error type of the crate and its stable classification.
//!
//! Every binding maps [`ErrorKind`] with a single exhaustive table (C status codes, Python
//! exception subclasses, Node `err.code` strings), so the numeric codes and string names here
//! are part of the public ABI: never renumber, only append.

use std::fmt;
use std::sync::Arc;

/// Stable classification of an [`Error`]. The numeric value ([`ErrorKind::code`]) and the name
/// ([`ErrorKind::name`]) are stable across releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A configuration property is missing or malformed (the message names the property).
    InvalidConfig,
    /// An argument given by the caller is invalid: topic name, body size, property size, ...
    InvalidArgument,
    /// The client is not started, or was shut down.
    NotStarted,
    /// The operation did not complete within its deadline.
    Timeout,
    /// A connection could not be made, was lost, or is poisoned.
    Network,
    /// The peer sent bytes that do not decode (a framing or codec error).
    Protocol,
    /// The broker or name server answered with an error code (kept in the error).
    Broker,
    /// No route for the topic, or the topic does not exist.
    TopicNotFound,
    /// The broker rejected the request's credentials (ACL).
    Authentication,
    /// The broker refused the request for lack of permission.
    Permission,
    /// The broker is busy or flow-controlling; retrying later may succeed.
    Busy,
    /// An HTTP management API (Open API / ASAPI) returned an error.
    Api,
    /// A user callback (listener, executor, checker) failed.
    Callback,
    /// Anything else; should not happen.
    Internal,
}

impl ErrorKind {
    /// Every kind, in code order. Bindings iterate this to build their tables.
    pub const ALL: [ErrorKind; 14] = [
        ErrorKind::InvalidConfig,
        ErrorKind::InvalidArgument,
        ErrorKind::NotStarted,
        ErrorKind::Timeout,
        ErrorKind::Network,
        ErrorKind::Protocol,
        ErrorKind::Broker,
        ErrorKind::TopicNotFound,
        ErrorKind::Authentication,
        ErrorKind::Permission,
        ErrorKind::Busy,
        ErrorKind::Api,
        ErrorKind::Callback,
        ErrorKind::Internal,
    ];

    /// Stable numeric code (C ABI status value). 0 is reserved for success.
    pub fn code(self) -> i32 {
        match self {
            ErrorKind::InvalidConfig => 1,
            ErrorKind::InvalidArgument => 2,
            ErrorKind::NotStarted => 3,
            ErrorKind::Timeout => 4,
            ErrorKind::Network => 5,
            ErrorKind::Protocol => 6,
            ErrorKind::Broker => 7,
            ErrorKind::TopicNotFound => 8,
            ErrorKind::Authentication => 9,
            ErrorKind::Permission => 10,
            ErrorKind::Busy => 11,
            ErrorKind::Api => 12,
            ErrorKind::Callback => 13,
            ErrorKind::Internal => 99,
        }
    }

    /// Stable upper-snake name (Node `err.code`, Python exception naming).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidConfig => "INVALID_CONFIG",
            ErrorKind::InvalidArgument => "INVALID_ARGUMENT",
            ErrorKind::NotStarted => "NOT_STARTED",
            ErrorKind::Timeout => "TIMEOUT",
            ErrorKind::Network => "NETWORK",
            ErrorKind::Protocol => "PROTOCOL",
            ErrorKind::Broker => "BROKER",
            ErrorKind::TopicNotFound => "TOPIC_NOT_FOUND",
            ErrorKind::Authentication => "AUTHENTICATION",
            ErrorKind::Permission => "PERMISSION",
            ErrorKind::Busy => "BUSY",
            ErrorKind::Api => "API",
            ErrorKind::Callback => "CALLBACK",
            ErrorKind::Internal => "INTERNAL",
        }
    }

    /// Whether retrying the same operation (possibly on another broker) may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Timeout | ErrorKind::Network | ErrorKind::Busy | ErrorKind::TopicNotFound)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The crate's error: a kind, a human-readable message, for broker errors the response code
/// and remark the broker sent, and for HTTP management API errors the API's error code. An
/// error caused by an I/O or TLS failure keeps it as its [`source`](std::error::Error::source)
/// (the message already says it in words, for bindings that only show text).
#[derive(Clone)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    response_code: Option<i32>,
    api_code: Option<String>,
    /// The id (UNIQ_KEY) of the message a failed send had assigned, when it got that far.
    message_id: Option<String>,
    /// Shared: errors are cloned to every waiter of a failed connection.
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

/// Equal when kind, message and codes are; the source and the message id are context, not
/// identity.
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.message == other.message
            && self.response_code == other.response_code
            && self.api_code == other.api_code
    }
}

impl Eq for Error {}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), response_code: None, api_code: None, message_id: None, source: None }
    }

    /// The same error, caused by `source`.
    pub(crate) fn caused_by(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// An error answered by an HTTP management API (Open API, ASAPI): kind
    /// [`ErrorKind::Api`], with the API's own error code when it sent one.
    /// The message is capped like a broker remark: it carries the API's own text.
    pub(crate) fn api(code: Option<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        let message = match capped(&message) {
            std::borrow::Cow::Borrowed(_) => message,
            std::borrow::Cow::Owned(short) => short,
        };
        Error { kind: ErrorKind::Api, message, response_code: None, api_code: code, message_id: None, source: None }
    }

    /// An error answered by a broker or name server: `code` is the remoting response code and
    /// `remark` the text it sent. The kind is derived from the code.
    pub fn from_response(code: i32, remark: Option<&str>, context: &str) -> Self {
        let kind = match code {
            2 | 215 => ErrorKind::Busy,
            17 => ErrorKind::TopicNotFound,
            // 5.x answers authentication failures and authorization denials with 16; 4.x ACL
            // 1.0 answers both with 1 and an `AclException` remark. Only the remark tells
            // authentication (who are you) from permission (you may not).
            16 | 1 if is_authentication_remark(remark) => ErrorKind::Authentication,
            16 => ErrorKind::Permission,
            1 if remark.is_some_and(|r| r.contains("AclException")) => ErrorKind::Permission,
            _ => ErrorKind::Broker,
        };
        let message = match remark {
            Some(r) if !r.is_empty() => format!("{context}: broker answered code {code}: {}", capped(r)),
            _ => format!("{context}: broker answered code {code}"),
        };
        Error { kind, message, response_code: Some(code), api_code: None, message_id: None, source: None }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The remoting response code, when the error came from a broker or name server answer.
    pub fn response_code(&self) -> Option<i32> {
        self.response_code
    }

    /// The error code an HTTP management API answered with (`BIZ_TOPIC_NOT_FOUND`,
    /// `asapi.server.api.notfound`, ...); `crate::http` turns it into its typed enums.
    pub fn api_code(&self) -> Option<&str> {
        self.api_code.as_deref()
    }

    /// The id of the message a failed send was for (ONS `OnExceptionContext.getMessageId`):
    /// assigned before the first attempt, so it is known when the send fails; None for errors
    /// of anything else, and for a message refused before it got an id (validation).
    pub fn message_id(&self) -> Option<&str> {
        self.message_id.as_deref()
    }

    /// The same error, for the send of message `id`.
    pub(crate) fn for_message(mut self, id: &str) -> Self {
        self.message_id = Some(id.to_owned());
        self
    }

    pub fn is_retryable(&self) -> bool {
        if matches!(self.kind, ErrorKind::Authentication) {
            // Another broker checks the same credentials.
            return false;
        }
        self.kind.is_retryable() || matches!(self.response_code, Some(1 | 2 | 14 | 16 | 17 | 204 | 205 | 1500))
    }

    pub(crate) fn invalid_config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidConfig, message)
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Protocol, message)
    }

    pub(crate) fn network(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Network, message)
    }

    pub(crate) fn timeout(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Timeout, message)
    }

    pub(crate) fn not_started(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::NotStarted, message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(code) = self.response_code {
            d.field("response_code", &code);
        }
        if let Some(id) = &self.message_id {
            d.field("message_id", id);
        }
        if let Some(code) = &self.api_code {
            d.field("api_code", code);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.kind.name(), self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// How much of a peer's text (a broker remark, an API's error message) an error keeps. A
/// broker may send a remark of up to a whole frame (a 15 MiB remark was seen); every copy of
/// the error (bindings, logs, retries keeping the last error) would carry it. Java stack
/// traces in remarks run to a few KiB, so this keeps all of a real one.
pub const MAX_REMARK_BYTES: usize = 4096;

/// `text` cut to at most [`MAX_REMARK_BYTES`] bytes on a char boundary, with a note of how
/// many bytes were cut; unchanged (borrowed) when it fits.
pub(crate) fn capped(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= MAX_REMARK_BYTES {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut end = MAX_REMARK_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!("{}... ({} more bytes cut)", &text[..end], text.len() - end))
}

fn is_authentication_remark(remark: Option<&str>) -> bool {
    let r = remark.unwrap_or("").to_ascii_lowercase();
    r.contains("signature")
        || r.contains("accesskey")
        || r.contains("access key")
        || r.contains("authenticat")
        || r.contains("username cannot be null")
        || (r.contains("user") && r.contains("not found"))
        // 4.x plain ACL for an access key it has no account for.
        || r.contains("no acl config for")
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_nonzero() {
        let mut seen = std::collections::HashSet::new();
        for k in ErrorKind::ALL {
            assert_ne!(k.code(), 0);
            assert!(seen.insert(k.code()), "duplicate code for {k:?}");
        }
    }

    #[test]
    fn broker_codes_map_to_kinds() {
        assert_eq!(Error::from_response(17, None, "send").kind(), ErrorKind::TopicNotFound);
        assert_eq!(Error::from_response(2, Some("busy"), "send").kind(), ErrorKind::Busy);
        let auth = Error::from_response(16, Some("check signature failed"), "send");
        assert_eq!(auth.kind(), ErrorKind::Authentication);
        assert_eq!(auth.response_code(), Some(16));
        let perm = Error::from_response(16, Some("the topic[T] sending message is forbidden"), "s");
        assert_eq!(perm.kind(), ErrorKind::Permission);
        // Remarks seen from real brokers (5.3.3 ACL 2.0; 4.9.7 plain ACL).
        for (code, remark) in [
            (16, "username cannot be null."),
            (16, "check signature failed."),
            (16, "User:nobody is not found."),
            (1, "org.apache.rocketmq.acl.common.AclException: No acl config for nobody, org.apache.rocketmq.acl.plain.PlainPermissionManager.validate(PlainPermissionManager.java:667)"),
            (1, "org.apache.rocketmq.acl.common.AclException: No accessKey is configured, accessKey=x"),
            (1, "org.apache.rocketmq.acl.common.AclException: Check signature failed for accessKey=rocketmq2"),
        ] {
            assert_eq!(Error::from_response(code, Some(remark), "s").kind(), ErrorKind::Authentication, "{remark}");
        }
        assert_eq!(Error::from_response(1, Some("some other failure"), "s").kind(), ErrorKind::Broker);
        assert!(Error::from_response(14, None, "send").is_retryable());
        assert!(!Error::from_response(13, None, "send").is_retryable());
    }

    #[test]
    fn huge_remarks_are_capped_on_a_char_boundary() {
        // 15 MiB of a 3-byte character, so MAX_REMARK_BYTES (not a multiple of 3) falls
        // inside one and the cut must step back to its start.
        let remark = "\u{20AC}".repeat(15 * 1024 * 1024 / 3);
        let err = Error::from_response(1, Some(&remark), "send");
        let kept = MAX_REMARK_BYTES - MAX_REMARK_BYTES % 3;
        let expected = format!(
            "send: broker answered code 1: {}... ({} more bytes cut)",
            "\u{20AC}".repeat(kept / 3),
            remark.len() - kept
        );
        assert_eq!(err.message(), expected);
        assert!(err.message().len() < MAX_REMARK_BYTES + 100);
        // The kind is still derived from the whole remark.
        let mut acl = "x".repeat(20_000);
        acl.push_str(" AclException");
        assert_eq!(Error::from_response(1, Some(&acl), "s").kind(), ErrorKind::Permission);
        // API errors carry the API's text: capped the same way.
        let api = Error::api(Some("E".into()), "y".repeat(1 << 20));
        assert_eq!(api.message().len(), MAX_REMARK_BYTES + "... (1044480 more bytes cut)".len());
        assert_eq!(api.api_code(), Some("E"));
    }

    #[test]
    fn an_io_cause_is_the_source_and_not_part_of_equality() {
        use std::error::Error as _;
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let with = Error::network("cannot connect to x: refused").caused_by(io);
        let without = Error::network("cannot connect to x: refused");
        let source = with.source().expect("the I/O error is the source");
        assert_eq!(source.to_string(), "refused");
        assert!(source.downcast_ref::<std::io::Error>().is_some());
        assert!(without.source().is_none());
        assert_eq!(with, without);
        assert_eq!(with.clone().source().map(|s| s.to_string()), Some("refused".to_owned()));
    }

    #[test]
    fn short_remarks_are_kept_whole() {
        let remark = "z".repeat(MAX_REMARK_BYTES);
        let err = Error::from_response(1, Some(&remark), "send");
        assert_eq!(err.message(), format!("send: broker answered code 1: {remark}"));
        assert_eq!(Error::api(None, "short").message(), "short");
    }
}
