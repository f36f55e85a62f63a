//! Checked conversions of C arguments: NULL pointers, UTF-8 and byte lengths become
//! ONS_ERR_INVALID_ARGUMENT errors naming the parameter, never undefined behaviour we can
//! detect. (A dangling pointer cannot be detected; the header says what stays valid when.)

use std::ffi::{c_char, CStr, CString};
use std::sync::OnceLock;

use crate::error::{invalid_argument, Result};

/// `&T` from a handle or object pointer.
pub(crate) unsafe fn obj<'a, T>(ptr: *const T, name: &str) -> Result<&'a T> {
    ptr.as_ref().ok_or_else(|| invalid_argument(format!("{name} is NULL")))
}

/// `&mut T` from a handle or object pointer.
pub(crate) unsafe fn obj_mut<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T> {
    ptr.as_mut().ok_or_else(|| invalid_argument(format!("{name} is NULL")))
}

/// A required NUL-terminated UTF-8 string.
pub(crate) unsafe fn string<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(invalid_argument(format!("{name} is NULL")));
    }
    utf8(CStr::from_ptr(ptr), name)
}

/// An optional string: NULL means absent.
pub(crate) unsafe fn opt_string<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        return Ok(None);
    }
    utf8(CStr::from_ptr(ptr), name).map(Some)
}

fn utf8<'a>(s: &'a CStr, name: &str) -> Result<&'a str> {
    s.to_str().map_err(|e| {
        invalid_argument(format!("{name} is not valid UTF-8 (invalid byte at offset {})", e.valid_up_to()))
    })
}

/// `len` bytes at `ptr`; NULL is allowed only when `len` is 0.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(invalid_argument(format!("{name} is NULL but its length is {len}")));
    }
    if len > isize::MAX as usize {
        return Err(invalid_argument(format!("{name} length {len} is not a valid length")));
    }
    Ok(std::slice::from_raw_parts(ptr, len))
}

/// An out-parameter: must not be NULL; cleared to its default first so a failed call never
/// leaves a stale value behind.
pub(crate) unsafe fn out<'a, T: Default>(ptr: *mut T, name: &str) -> Result<&'a mut T> {
    let slot = ptr.as_mut().ok_or_else(|| invalid_argument(format!("{name} (the out-parameter) is NULL")))?;
    *slot = T::default();
    Ok(slot)
}

/// An out-parameter for a pointer; set to NULL first.
pub(crate) unsafe fn out_ptr<'a, T>(ptr: *mut *mut T, name: &str) -> Result<&'a mut *mut T> {
    let slot = ptr.as_mut().ok_or_else(|| invalid_argument(format!("{name} (the out-parameter) is NULL")))?;
    *slot = std::ptr::null_mut();
    Ok(slot)
}

/// An out-parameter for a borrowed string; set to NULL first.
pub(crate) unsafe fn out_str<'a>(ptr: *mut *const c_char, name: &str) -> Result<&'a mut *const c_char> {
    let slot = ptr.as_mut().ok_or_else(|| invalid_argument(format!("{name} (the out-parameter) is NULL")))?;
    *slot = std::ptr::null();
    Ok(slot)
}

/// A NUL-terminated copy of a Rust string, made once and kept next to it so the pointer
/// handed out stays valid as long as the owner is unchanged.
#[derive(Default)]
pub(crate) struct CStrCell(OnceLock<CString>);

impl CStrCell {
    /// The C string of `value`; an error if it contains a NUL byte, which C cannot represent.
    pub(crate) fn get(&self, value: &str, what: &str) -> Result<*const c_char> {
        if let Some(c) = self.0.get() {
            return Ok(c.as_ptr());
        }
        let c = CString::new(value).map_err(|_| {
            invalid_argument(format!("{what} contains a NUL byte and cannot be returned as a C string"))
        })?;
        Ok(self.0.get_or_init(|| c).as_ptr())
    }

    /// Like [`get`](Self::get) for optional values: NULL when absent.
    pub(crate) fn get_opt(&self, value: Option<&str>, what: &str) -> Result<*const c_char> {
        match value {
            Some(v) => self.get(v, what),
            None => Ok(std::ptr::null()),
        }
    }
}

/// Converts `CString::new` failure (impossible for strings that came from C) into an error.
pub(crate) fn c_string(value: &str, what: &str) -> Result<CString> {
    CString::new(value).map_err(|_| invalid_argument(format!("{what} contains a NUL byte")))
}
