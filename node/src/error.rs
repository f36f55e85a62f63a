//! Errors as JavaScript sees them: an `Error` whose `code` is the stable [`ErrorKind::name`] of
//! the core error (`'TIMEOUT'`, `'INVALID_ARGUMENT'`, ...), plus `responseCode` when a broker
//! answered with an error code and `apiCode` when an HTTP management API did.
//!
//! napi-rs only lets a `Status` become `err.code`, so the JS object is built here, on the JS
//! thread, and handed to napi as an error that references it; napi then throws (or rejects with)
//! that very object.

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use rocketmq_ons::{Error as CoreError, ErrorKind};

/// Declares `ErrorCode` once and the list of its names the test compares with the core.
macro_rules! error_codes {
    ($($name:ident,)*) => {
        /// The values of `err.code`: one per core `ErrorKind`, spelled as `ErrorKind::name()`.
        #[napi(string_enum)]
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $($name,)*
        }

        #[cfg(test)]
        const ERROR_CODE_NAMES: &[&str] = &[$(stringify!($name)),*];
    };
}

error_codes! {
    INVALID_CONFIG,
    INVALID_ARGUMENT,
    NOT_STARTED,
    TIMEOUT,
    NETWORK,
    PROTOCOL,
    BROKER,
    TOPIC_NOT_FOUND,
    AUTHENTICATION,
    PERMISSION,
    BUSY,
    API,
    CALLBACK,
    INTERNAL,
}

/// The `code` string of a core error kind. This is the binding's one table: the code is the
/// core's stable name, so a kind added to the core gets a code without a change here (the test
/// below then asks for the matching `ErrorCode` member).
pub(crate) fn code_of(kind: ErrorKind) -> &'static str {
    kind.name()
}

/// Builds the JS error object for a core error.
pub(crate) fn to_js(env: &Env, err: &CoreError) -> Error {
    js_error(env, code_of(err.kind()), err.message(), err.response_code(), err.api_code())
}

/// An `INVALID_ARGUMENT` error raised by the binding itself (a JS value of the wrong shape).
pub(crate) fn invalid_argument(env: &Env, message: impl AsRef<str>) -> Error {
    js_error(env, code_of(ErrorKind::InvalidArgument), message.as_ref(), None, None)
}

/// An `INVALID_CONFIG` error raised by the binding itself (a property value of the wrong type).
pub(crate) fn invalid_config(env: &Env, message: impl AsRef<str>) -> Error {
    js_error(env, code_of(ErrorKind::InvalidConfig), message.as_ref(), None, None)
}

/// A `TypeError` with code `INVALID_ARGUMENT` raised by the binding itself: an argument of the
/// wrong JS type (the message names the argument and what it accepts).
pub(crate) fn type_error(env: &Env, message: impl AsRef<str>) -> Error {
    build_error(env, Constructor::TypeError, code_of(ErrorKind::InvalidArgument), message.as_ref(), None, None)
}

fn js_error(env: &Env, code: &str, message: &str, response_code: Option<i32>, api_code: Option<&str>) -> Error {
    build_error(env, Constructor::Error, code, message, response_code, api_code)
}

/// The JS class of an error built here.
enum Constructor {
    Error,
    TypeError,
}

fn build_error(
    env: &Env,
    constructor: Constructor,
    code: &str,
    message: &str,
    response_code: Option<i32>,
    api_code: Option<&str>,
) -> Error {
    let build = || -> Result<Error> {
        let code_js = env.create_string(code)?;
        let message_js = env.create_string(message)?;
        let mut raw = std::ptr::null_mut();
        // SAFETY: env is the live environment of the current JS thread; both strings were just
        // created in it.
        check_status!(unsafe {
            match constructor {
                Constructor::Error => sys::napi_create_error(env.raw(), code_js.raw(), message_js.raw(), &mut raw),
                Constructor::TypeError => {
                    sys::napi_create_type_error(env.raw(), code_js.raw(), message_js.raw(), &mut raw)
                }
            }
        })?;
        // SAFETY: `raw` is the error object napi_create_(type_)error returned in this env.
        let mut object = unsafe { Object::from_napi_value(env.raw(), raw)? };
        if let Some(rc) = response_code {
            object.set_named_property("responseCode", rc)?;
        }
        if let Some(api) = api_code {
            object.set_named_property("apiCode", api)?;
        }
        // SAFETY: as above; the Error keeps a reference to the object, so napi throws it as is.
        Ok(Error::from(unsafe { Unknown::from_raw_unchecked(env.raw(), raw) }))
    };
    // Only a dying environment fails to build an error; fall back to napi's plain error.
    build().unwrap_or_else(|_| Error::new(Status::GenericFailure, format!("[{code}] {message}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_code_enum_lists_every_core_kind() {
        let core: Vec<&str> = ErrorKind::ALL.iter().map(|k| code_of(*k)).collect();
        assert_eq!(ERROR_CODE_NAMES, core.as_slice(), "node/src/error.rs ErrorCode must list ErrorKind::ALL in order");
    }
}
