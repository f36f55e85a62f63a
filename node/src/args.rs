//! Method arguments taken as plain JS values and turned into what the core's calls take, so a
//! value of the wrong JS type is a `TypeError` (code `INVALID_ARGUMENT`) naming the method and
//! the argument, thrown before anything is sent (napi-rs's own conversion errors name only the
//! Rust type). Numbers must be integers within the range of the core's type: JS has one number
//! type, and napi's integer conversions would silently truncate `1.5` or wrap `-1`. Whether a
//! value of the right type is acceptable (names, counts, time ranges) is the core's to say.

use napi::bindgen_prelude::*;
use napi::ValueType;

use crate::error;
use crate::js_call::typeof_name;

pub(crate) use crate::js_call::string_arg as string;

/// An optional string argument: `undefined` and `null` are `None`.
pub(crate) fn optional_string(env: &Env, value: Option<Unknown<'_>>, what: &str) -> Result<Option<String>> {
    match value {
        Some(v) if !is_nullish(&v)? => string(env, v, what).map(Some),
        _ => Ok(None),
    }
}

/// An optional boolean argument: `undefined` and `null` are `None`.
pub(crate) fn optional_bool(env: &Env, value: Option<Unknown<'_>>, what: &str) -> Result<Option<bool>> {
    let Some(v) = value else { return Ok(None) };
    match v.get_type()? {
        ValueType::Undefined | ValueType::Null => Ok(None),
        // SAFETY: a boolean value of this env.
        ValueType::Boolean => unsafe { bool::from_napi_value(env.raw(), v.raw()) }.map(Some),
        other => Err(error::type_error(env, format!("{what} must be a boolean; got {}", typeof_name(other)))),
    }
}

/// A number argument that must be an integer in `T`'s range.
pub(crate) fn integer<T: TryFrom<i64>>(env: &Env, value: Unknown<'_>, what: &str) -> Result<T> {
    match value.get_type()? {
        // SAFETY: a number value of this env.
        ValueType::Number => checked_integer(env, unsafe { f64::from_napi_value(env.raw(), value.raw()) }?, what),
        other => Err(error::type_error(env, format!("{what} must be a number; got {}", typeof_name(other)))),
    }
}

/// An optional integer argument: `undefined` and `null` are `None`.
pub(crate) fn optional_integer<T: TryFrom<i64>>(
    env: &Env,
    value: Option<Unknown<'_>>,
    what: &str,
) -> Result<Option<T>> {
    match value {
        Some(v) if !is_nullish(&v)? => integer(env, v, what).map(Some),
        _ => Ok(None),
    }
}

/// `n` (a JS number: an argument, or a field of an object argument) as an integer of type `T`;
/// a fraction, NaN, an infinity or a value outside `T` is a `TypeError` naming `what`.
pub(crate) fn checked_integer<T: TryFrom<i64>>(env: &Env, n: f64, what: &str) -> Result<T> {
    // 2^63 is the first f64 above i64::MAX; every f64 below it with no fraction fits an i64.
    let whole = n.is_finite() && n.fract() == 0.0 && n.abs() < 9_223_372_036_854_775_808.0;
    let converted = if whole { T::try_from(n as i64).ok() } else { None };
    converted.ok_or_else(|| error::type_error(env, format!("{what} must be an integer in range; got {n}")))
}

/// An object argument read as the `#[napi(object)]` struct `T` (named `type_name` in messages);
/// anything else, or an object with a field missing or of the wrong type, is a `TypeError`
/// naming the argument and saying what napi found wrong.
pub(crate) fn object<T: FromNapiValue>(env: &Env, value: Unknown<'_>, what: &str, type_name: &str) -> Result<T> {
    match value.get_type()? {
        // SAFETY: an object value of this env.
        ValueType::Object => unsafe { T::from_napi_value(env.raw(), value.raw()) }
            .map_err(|e| error::type_error(env, format!("{what} is not a valid {type_name}: {}", e.reason))),
        other => {
            Err(error::type_error(env, format!("{what} must be a {type_name} object; got {}", typeof_name(other))))
        }
    }
}

fn is_nullish(value: &Unknown<'_>) -> Result<bool> {
    Ok(matches!(value.get_type()?, ValueType::Undefined | ValueType::Null))
}
