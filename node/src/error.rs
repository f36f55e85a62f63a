//! Errors as JavaScript sees them: an `ONSClientException` (a subclass of `Error`, made once
//! per JS thread from [`CLASS_SOURCE`] and exported under that name) whose `code` is the stable
//! [`ErrorKind::name`] of the core error (`'TIMEOUT'`, `'INVALID_ARGUMENT'`, ...), plus
//! `responseCode` when a broker answered with an error code, `apiCode` when an HTTP management
//! API did, and `messageId` and `topic` when a send failed (the ONS `OnExceptionContext`). An
//! argument of the wrong JS type is a `TypeError` (code `INVALID_ARGUMENT`) instead.
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

/// The class of the addon's errors, as JS source: `new ONSClientException(message, code,
/// options)`; `name` is on the prototype, as for the built-in errors.
const CLASS_SOURCE: &str = r#"(() => {
  class ONSClientException extends Error {
    constructor(message, code, options) {
      super(message, options)
      if (code !== undefined) this.code = code
    }
  }
  Object.defineProperty(ONSClientException.prototype, 'name', {
    value: 'ONSClientException', writable: true, configurable: true, enumerable: false,
  })
  return ONSClientException
})()"#;

/// The `ONSClientException` class of this JS thread.
pub(crate) fn exception_class(env: &Env) -> Result<sys::napi_value> {
    crate::js_thread::script_function(env, "ONSClientException", CLASS_SOURCE)
}

/// Exports `ONSClientException`, so `instanceof` works on what the addon throws. napi declares
/// no class made in JS: `src/dts-header.d.ts` declares it (the head of the generated index.d.ts).
#[napi(module_exports)]
// Unit tests build no module to register it in.
#[cfg_attr(test, allow(dead_code))]
pub fn export_exception_class(mut exports: Object, env: &Env) -> Result<()> {
    let class = exception_class(env)?;
    // SAFETY: a value of this env, used within the module's initialization scope.
    exports.set_named_property("ONSClientException", unsafe { Unknown::from_raw_unchecked(env.raw(), class) })
}

/// What an error carries besides its code and message.
#[derive(Default)]
struct Details<'a> {
    response_code: Option<i32>,
    api_code: Option<&'a str>,
    message_id: Option<&'a str>,
    topic: Option<&'a str>,
}

/// Builds the JS error object for a core error.
pub(crate) fn to_js(env: &Env, err: &CoreError) -> Error {
    let details = Details {
        response_code: err.response_code(),
        api_code: err.api_code(),
        message_id: err.message_id(),
        topic: err.topic(),
    };
    build_error(env, Constructor::Exception, code_of(err.kind()), err.message(), details)
}

/// An `INTERNAL` error raised by the binding itself (a broken invariant, a panicked task).
pub(crate) fn internal(env: &Env, message: impl AsRef<str>) -> Error {
    js_error(env, code_of(ErrorKind::Internal), message.as_ref())
}

/// An `INVALID_ARGUMENT` error raised by the binding itself (a JS value of the wrong shape).
pub(crate) fn invalid_argument(env: &Env, message: impl AsRef<str>) -> Error {
    js_error(env, code_of(ErrorKind::InvalidArgument), message.as_ref())
}

/// An `INVALID_CONFIG` error raised by the binding itself (a property value of the wrong type).
pub(crate) fn invalid_config(env: &Env, message: impl AsRef<str>) -> Error {
    js_error(env, code_of(ErrorKind::InvalidConfig), message.as_ref())
}

/// A `TypeError` with code `INVALID_ARGUMENT` raised by the binding itself: an argument of the
/// wrong JS type (the message names the argument and what it accepts).
pub(crate) fn type_error(env: &Env, message: impl AsRef<str>) -> Error {
    build_error(env, Constructor::TypeError, code_of(ErrorKind::InvalidArgument), message.as_ref(), Details::default())
}

fn js_error(env: &Env, code: &str, message: &str) -> Error {
    build_error(env, Constructor::Exception, code, message, Details::default())
}

/// The JS class of an error built here.
enum Constructor {
    Exception,
    TypeError,
}

fn build_error(env: &Env, constructor: Constructor, code: &str, message: &str, details: Details<'_>) -> Error {
    let build = || -> Result<Error> {
        let code_js = env.create_string(code)?;
        let message_js = env.create_string(message)?;
        let mut raw = std::ptr::null_mut();
        match constructor {
            Constructor::Exception => {
                let class = exception_class(env)?;
                let args = [message_js.raw(), code_js.raw()];
                // SAFETY: env is the live environment of the current JS thread; the class and
                // both strings are values of it.
                check_status!(unsafe {
                    sys::napi_new_instance(env.raw(), class, args.len(), args.as_ptr(), &mut raw)
                })?;
            }
            // SAFETY: as above.
            Constructor::TypeError => check_status!(unsafe {
                sys::napi_create_type_error(env.raw(), code_js.raw(), message_js.raw(), &mut raw)
            })?,
        }
        // SAFETY: `raw` is the error object just made in this env.
        let mut object = unsafe { Object::from_napi_value(env.raw(), raw)? };
        if let Some(rc) = details.response_code {
            object.set_named_property("responseCode", rc)?;
        }
        if let Some(api) = details.api_code {
            object.set_named_property("apiCode", api)?;
        }
        if let Some(id) = details.message_id {
            object.set_named_property("messageId", id)?;
        }
        if let Some(topic) = details.topic {
            object.set_named_property("topic", topic)?;
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
