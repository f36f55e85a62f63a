//! Status codes and the thread-local last error: the one way errors leave the library.
//!
//! Every export runs inside [`guard`], which clears the calling thread's last error, catches
//! panics, and on failure stores the error (code + NUL-terminated message + broker response
//! code + the failed message's id and topic) and returns its code. So the last error always
//! belongs to the most recent call on the thread, and an error is reported exactly once: an
//! error handed to a callback is not stored as any caller's last error; it is the last error
//! of the library thread running the callback, for the callback's duration only
//! ([`as_last_error_during`]), so the callback can read its details with the same accessors.

use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use ons::{Error, ErrorKind};

/// Success.
pub const ONS_OK: i32 = 0;
/// A configuration property is missing or malformed (the message names the property).
pub const ONS_ERR_INVALID_CONFIG: i32 = 1;
/// An argument is invalid: NULL, not UTF-8, too long or too large, or a handle used from a
/// callback where that would deadlock.
pub const ONS_ERR_INVALID_ARGUMENT: i32 = 2;
/// The handle is not started, was shut down, or the library cannot run in this process
/// (a child forked after the library started).
pub const ONS_ERR_NOT_STARTED: i32 = 3;
/// The operation did not complete within its deadline.
pub const ONS_ERR_TIMEOUT: i32 = 4;
/// A connection could not be made, was lost, or is poisoned.
pub const ONS_ERR_NETWORK: i32 = 5;
/// A peer sent bytes that do not decode.
pub const ONS_ERR_PROTOCOL: i32 = 6;
/// The broker or name server answered with an error (see ons_last_error_response_code).
pub const ONS_ERR_BROKER: i32 = 7;
/// No route for the topic, or the topic does not exist.
pub const ONS_ERR_TOPIC_NOT_FOUND: i32 = 8;
/// The broker rejected the credentials.
pub const ONS_ERR_AUTHENTICATION: i32 = 9;
/// The broker refused the request for lack of permission.
pub const ONS_ERR_PERMISSION: i32 = 10;
/// The broker is busy or flow-controlling; retrying later may succeed.
pub const ONS_ERR_BUSY: i32 = 11;
/// An HTTP management API returned an error.
pub const ONS_ERR_API: i32 = 12;
/// A user callback failed.
pub const ONS_ERR_CALLBACK: i32 = 13;
/// Anything else, including a bug caught before it crossed the ABI.
pub const ONS_ERR_INTERNAL: i32 = 99;

/// The table from core kinds to the status codes above. The status codes are core's stable
/// codes; the unit test below checks every kind in `ErrorKind::ALL` against this table.
pub(crate) fn status_of(kind: ErrorKind) -> i32 {
    match kind {
        ErrorKind::InvalidConfig => ONS_ERR_INVALID_CONFIG,
        ErrorKind::InvalidArgument => ONS_ERR_INVALID_ARGUMENT,
        ErrorKind::NotStarted => ONS_ERR_NOT_STARTED,
        ErrorKind::Timeout => ONS_ERR_TIMEOUT,
        ErrorKind::Network => ONS_ERR_NETWORK,
        ErrorKind::Protocol => ONS_ERR_PROTOCOL,
        ErrorKind::Broker => ONS_ERR_BROKER,
        ErrorKind::TopicNotFound => ONS_ERR_TOPIC_NOT_FOUND,
        ErrorKind::Authentication => ONS_ERR_AUTHENTICATION,
        ErrorKind::Permission => ONS_ERR_PERMISSION,
        ErrorKind::Busy => ONS_ERR_BUSY,
        ErrorKind::Api => ONS_ERR_API,
        ErrorKind::Callback => ONS_ERR_CALLBACK,
        ErrorKind::Internal => ONS_ERR_INTERNAL,
        // ErrorKind is non_exhaustive; a kind added in core before this table (and the header)
        // learns it still maps to its own stable code.
        other => other.code(),
    }
}

fn kind_of(code: i32) -> Option<ErrorKind> {
    ErrorKind::ALL.into_iter().find(|k| status_of(*k) == code)
}

pub(crate) type Result<T> = std::result::Result<T, Error>;

pub(crate) fn invalid_argument(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

pub(crate) fn not_started(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::NotStarted, message)
}

struct LastError {
    code: i32,
    message: CString,
    response_code: i32,
    api_code: Option<CString>,
    /// For a failed send: the message's id, once it had one, and its topic.
    message_id: Option<CString>,
    topic: Option<CString>,
}

thread_local! {
    static LAST: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

fn clear() {
    // try_with: a call made while the thread is being torn down must not panic here.
    let _ = LAST.try_with(|l| l.borrow_mut().take());
}

fn store(err: &Error) -> i32 {
    let code = status_of(err.kind());
    // A message with an interior NUL would be cut by C readers; replace it instead of failing.
    let text = err.message().replace('\0', "\u{FFFD}");
    let message = CString::new(text).unwrap_or_default();
    let response_code = err.response_code().unwrap_or(-1);
    let api_code = err.api_code().and_then(|c| CString::new(c).ok());
    let message_id = err.message_id().and_then(|c| CString::new(c).ok());
    let topic = err.topic().and_then(|c| CString::new(c).ok());
    let _ = LAST
        .try_with(|l| *l.borrow_mut() = Some(LastError { code, message, response_code, api_code, message_id, topic }));
    code
}

/// Runs `callback` (a user callback handed `err` on a library thread) with `err` as this
/// thread's last error, and clears it afterwards, so the callback can read the error's details
/// (ons_last_error_message_id, ons_last_error_topic, ...) and nothing outlives the callback.
pub(crate) fn as_last_error_during(err: &Error, callback: impl FnOnce()) {
    store(err);
    callback();
    clear();
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// Runs the body of an export: clears the last error, turns `Err` into its status code and a
/// panic into ONS_ERR_INTERNAL, so neither an error nor a panic crosses the ABI unreported.
pub(crate) fn guard(function: &str, body: impl FnOnce() -> Result<()>) -> i32 {
    clear();
    match catch_unwind(AssertUnwindSafe(body)) {
        // Cleared again: user callbacks run inside some calls (a transaction executor) and
        // may have failed calls of their own on this thread.
        Ok(Ok(())) => {
            clear();
            ONS_OK
        }
        Ok(Err(e)) => store(&e),
        Err(payload) => store(&Error::new(
            ErrorKind::Internal,
            format!("{function} failed unexpectedly (a bug in the library): {}", panic_text(&*payload)),
        )),
    }
}

/// The status code of `err` and its message as a C string, for callbacks that are handed an
/// error directly.
pub(crate) fn to_c(err: &Error) -> (i32, CString) {
    let message = CString::new(err.message().replace('\0', "\u{FFFD}")).unwrap_or_default();
    (status_of(err.kind()), message)
}

/// The status code of the last call made on this thread: ONS_OK if it succeeded (or no call
/// was made), otherwise its error code.
#[no_mangle]
pub extern "C" fn ons_last_error_code() -> i32 {
    LAST.try_with(|l| l.borrow().as_ref().map_or(ONS_OK, |e| e.code)).unwrap_or(ONS_OK)
}

/// The message of the last failed call on this thread, NUL-terminated UTF-8; "" if the last
/// call succeeded. Owned by the library: valid until the next ons_* call on this thread.
/// Never NULL.
#[no_mangle]
pub extern "C" fn ons_last_error_message() -> *const c_char {
    static EMPTY: &[u8] = b"\0";
    LAST.try_with(|l| l.borrow().as_ref().map(|e| e.message.as_ptr())).ok().flatten().unwrap_or(EMPTY.as_ptr().cast())
}

/// For errors answered by a broker or name server (ONS_ERR_BROKER and others): the remoting
/// response code of the last failed call on this thread; -1 when there is none.
#[no_mangle]
pub extern "C" fn ons_last_error_response_code() -> i32 {
    LAST.try_with(|l| l.borrow().as_ref().map_or(-1, |e| e.response_code)).unwrap_or(-1)
}

/// For ONS_ERR_API errors of the Open API: the API's error code of the last failed call on
/// this thread (e.g. "Topic.NotFound"), NUL-terminated; NULL when there is none. Valid until
/// the next ons_* call on this thread.
#[no_mangle]
pub extern "C" fn ons_last_error_api_code() -> *const c_char {
    LAST.try_with(|l| l.borrow().as_ref().and_then(|e| e.api_code.as_ref().map(|c| c.as_ptr())))
        .ok()
        .flatten()
        .unwrap_or(std::ptr::null())
}

/// For a failed send (or a failure callback of an async send, while it runs): the id of the
/// message that failed, NUL-terminated; NULL when the message did not get an id before it
/// failed (invalid arguments) or the last call was not a send. Valid until the next ons_* call
/// on this thread. (The ONS SDKs' OnExceptionContext.messageId.)
#[no_mangle]
pub extern "C" fn ons_last_error_message_id() -> *const c_char {
    LAST.try_with(|l| l.borrow().as_ref().and_then(|e| e.message_id.as_ref().map(|c| c.as_ptr())))
        .ok()
        .flatten()
        .unwrap_or(std::ptr::null())
}

/// For a failed send (or a failure callback of an async send, while it runs): the topic of the
/// message that failed, NUL-terminated; NULL when the last call was not a send. Valid until
/// the next ons_* call on this thread. (The ONS SDKs' OnExceptionContext.topic.)
#[no_mangle]
pub extern "C" fn ons_last_error_topic() -> *const c_char {
    LAST.try_with(|l| l.borrow().as_ref().and_then(|e| e.topic.as_ref().map(|c| c.as_ptr())))
        .ok()
        .flatten()
        .unwrap_or(std::ptr::null())
}

/// Copies the last error message into `buf` (at most `capacity` bytes including the NUL, cut
/// at a byte boundary when it does not fit) and returns the message length without the NUL,
/// so callers that cannot keep a borrowed pointer (P/Invoke) can size their buffer. `buf` may
/// be NULL when `capacity` is 0.
#[no_mangle]
pub unsafe extern "C" fn ons_last_error_copy(buf: *mut c_char, capacity: usize) -> usize {
    LAST.try_with(|l| {
        let last = l.borrow();
        let bytes = last.as_ref().map_or(&[][..], |e| e.message.as_bytes());
        if !buf.is_null() && capacity > 0 {
            let n = bytes.len().min(capacity - 1);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
        bytes.len()
    })
    .unwrap_or(0)
}

/// The stable upper-snake name of a status code ("OK", "INVALID_ARGUMENT", ...; "UNKNOWN" for
/// a code this library does not know). A static string; never NULL.
#[no_mangle]
pub extern "C" fn ons_error_name(code: i32) -> *const c_char {
    static NAMES: std::sync::OnceLock<Vec<(i32, CString)>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let mut v: Vec<(i32, CString)> =
            ErrorKind::ALL.iter().map(|k| (status_of(*k), CString::new(k.name()).unwrap_or_default())).collect();
        v.push((ONS_OK, CString::new("OK").unwrap_or_default()));
        v.push((i32::MIN, CString::new("UNKNOWN").unwrap_or_default()));
        v
    });
    names.iter().find(|(c, _)| *c == code).or_else(|| names.last()).map_or(std::ptr::null(), |(_, n)| n.as_ptr())
}

/// 1 if retrying an operation that failed with `code` may succeed (timeouts, network errors,
/// busy brokers, missing routes), else 0.
#[no_mangle]
pub extern "C" fn ons_error_is_retryable(code: i32) -> i32 {
    kind_of(code).is_some_and(|k| k.is_retryable()) as i32
}

/// The library version ("0.1.0"), a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn ons_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn status_codes_match_core_codes() {
        for kind in ErrorKind::ALL {
            assert_eq!(status_of(kind), kind.code(), "{kind:?}");
            assert_eq!(kind_of(kind.code()), Some(kind));
        }
        assert_eq!(kind_of(ONS_OK), None);
    }

    #[test]
    fn errors_are_stored_once_and_cleared_by_the_next_call() {
        let code = guard("t", || Err(invalid_argument("topic is NULL")));
        assert_eq!(code, ONS_ERR_INVALID_ARGUMENT);
        assert_eq!(ons_last_error_code(), ONS_ERR_INVALID_ARGUMENT);
        let msg = unsafe { CStr::from_ptr(ons_last_error_message()) };
        assert_eq!(msg.to_str().unwrap(), "topic is NULL");
        let mut buf = [0 as c_char; 6];
        assert_eq!(unsafe { ons_last_error_copy(buf.as_mut_ptr(), buf.len()) }, 13);
        assert_eq!(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap(), "topic");
        assert_eq!(guard("t", || Ok(())), ONS_OK);
        assert_eq!(ons_last_error_code(), ONS_OK);
        assert_eq!(unsafe { CStr::from_ptr(ons_last_error_message()) }.to_bytes(), b"");
    }

    #[test]
    fn panics_become_internal_errors() {
        let code = guard("ons_test", || panic!("boom"));
        assert_eq!(code, ONS_ERR_INTERNAL);
        let msg = unsafe { CStr::from_ptr(ons_last_error_message()) }.to_str().unwrap().to_owned();
        assert!(msg.contains("ons_test") && msg.contains("boom"), "{msg}");
    }

    #[test]
    fn names() {
        let name = |c| unsafe { CStr::from_ptr(ons_error_name(c)) }.to_str().unwrap();
        assert_eq!(name(ONS_OK), "OK");
        assert_eq!(name(ONS_ERR_TOPIC_NOT_FOUND), "TOPIC_NOT_FOUND");
        assert_eq!(name(12345), "UNKNOWN");
        assert_eq!(ons_error_is_retryable(ONS_ERR_TIMEOUT), 1);
        assert_eq!(ons_error_is_retryable(ONS_ERR_INVALID_ARGUMENT), 0);
    }
}
