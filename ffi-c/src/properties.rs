//! `ons_properties_t`: the ONS factory property map (ONSFactoryProperty). Only collected here;
//! core parses and checks it when a handle is created, so an invalid property is reported by
//! the `_new` call that uses it, naming the property.

use std::collections::BTreeMap;
use std::ffi::{c_char, CString};

use crate::args;
use crate::error::{guard, Result};

/// An ONS property map (string keys and values). Not thread-safe: do not modify it from two
/// threads at once. Handles copy what they need, so it may be freed after the `_new` call.
pub struct OnsProperties {
    map: BTreeMap<String, CString>,
}

impl OnsProperties {
    pub(crate) fn to_core(&self) -> ons::Properties {
        self.map.iter().map(|(k, v)| (k.clone(), v.to_string_lossy().into_owned())).collect()
    }
}

/// Creates an empty property map. Free it with ons_properties_free.
#[no_mangle]
pub unsafe extern "C" fn ons_properties_new(out: *mut *mut OnsProperties) -> i32 {
    guard("ons_properties_new", || {
        let out = args::out_ptr(out, "out")?;
        *out = Box::into_raw(Box::new(OnsProperties { map: BTreeMap::new() }));
        Ok(())
    })
}

/// Sets `key` to `value` (both copied), replacing an earlier value. Keys are not checked here:
/// the `_new` call that receives the map reports a malformed value, naming the key.
#[no_mangle]
pub unsafe extern "C" fn ons_properties_set(
    properties: *mut OnsProperties,
    key: *const c_char,
    value: *const c_char,
) -> i32 {
    guard("ons_properties_set", || {
        let props = args::obj_mut(properties, "properties")?;
        let key = args::string(key, "key")?;
        let value = args::string(value, "value")?;
        props.map.insert(key.to_owned(), args::c_string(value, "value")?);
        Ok(())
    })
}

/// Looks `key` up: `*out` is the value (owned by the map, valid until the key is set again or
/// the map is freed), or NULL when the key is absent.
#[no_mangle]
pub unsafe extern "C" fn ons_properties_get(
    properties: *const OnsProperties,
    key: *const c_char,
    out: *mut *const c_char,
) -> i32 {
    guard("ons_properties_get", || {
        let props = args::obj(properties, "properties")?;
        let key = args::string(key, "key")?;
        let out = args::out_str(out, "out")?;
        if let Some(v) = props.map.get(key) {
            *out = v.as_ptr();
        }
        Ok(())
    })
}

/// Frees a property map. NULL is accepted and ignored.
#[no_mangle]
pub unsafe extern "C" fn ons_properties_free(properties: *mut OnsProperties) -> i32 {
    guard("ons_properties_free", || {
        if !properties.is_null() {
            drop(Box::from_raw(properties));
        }
        Ok(())
    })
}

pub(crate) unsafe fn core_properties(properties: *const OnsProperties) -> Result<ons::Properties> {
    Ok(args::obj(properties, "properties")?.to_core())
}

// The ONS_PROPERTY_* names are `#define`s written in ffi-c/cbindgen.toml (cbindgen does not
// export string constants); `c_header_defines_the_table` in core/src/config/catalogue.rs keeps
// them equal to the catalogue of keys the core parses.
