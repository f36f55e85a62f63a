//! ONS properties from Python: a mapping of `PropertyKeyConst` names, keyword arguments in
//! snake case (`namesrv_addr=...`) or by their ONS name, and the `PropertyKeyConst` class
//! itself. Members, values and keywords all come from the core's catalogue of keys
//! (`rocketmq_ons::config::catalogue`, docs/configuration-keys.md); nothing is spelled here.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString, PyTuple};
use rocketmq_ons::config::catalogue::{self, Constant};
use rocketmq_ons::Properties;

/// The key a keyword argument names: a snake-case keyword, a member name or any spelling the
/// catalogue knows.
fn keyword_key(name: &str) -> Option<&'static str> {
    let constants = catalogue::binding_constants();
    if let Some(c) = constants.iter().find(|c: &&Constant| c.snake == name || c.member == name) {
        return Some(c.value);
    }
    catalogue::find(name).map(|key| key.value)
}

/// Property values are strings in ONS; numbers and booleans are accepted and written the way
/// the core parses them (`true`/`false`).
fn value_string(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if value.is_instance_of::<PyBool>() {
        return Ok(if value.is_truthy()? { "true" } else { "false" }.to_owned());
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    Ok(value.str()?.to_cow()?.into_owned())
}

/// The properties of a constructor call: the mapping first, keyword arguments over it.
pub(crate) fn collect(
    properties: Option<&Bound<'_, PyAny>>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Properties> {
    let mut out = Properties::new();
    if let Some(mapping) = properties.filter(|p| !p.is_none()) {
        let items = mapping
            .call_method0("items")
            .map_err(|_| PyTypeError::new_err("properties must be a mapping of PropertyKeyConst names to values"))?;
        for item in items.try_iter()? {
            let item = item?;
            let pair = item.cast::<PyTuple>()?;
            let key = pair.get_item(0)?;
            let key = key
                .cast::<PyString>()
                .map_err(|_| PyTypeError::new_err("property names must be str"))?
                .to_cow()?
                .into_owned();
            let value = pair.get_item(1)?;
            if value.is_none() {
                continue;
            }
            out.set(key, value_string(&value)?);
        }
    }
    if let Some(options) = options {
        for (name, value) in options.iter() {
            let name: String = name.extract()?;
            let key = keyword_key(&name).ok_or_else(|| {
                let constants = catalogue::binding_constants();
                let nearest = catalogue::nearest(&name, constants.iter().map(|c| c.snake)).unwrap_or("namesrv_addr");
                PyTypeError::new_err(format!(
                    "unknown option '{name}' (did you mean '{nearest}'?); options are PropertyKeyConst names or \
                     their snake_case forms (namesrv_addr, group_id, access_key, ...)"
                ))
            })?;
            if value.is_none() {
                continue;
            }
            out.set(key, value_string(&value)?);
        }
    }
    Ok(out)
}

/// Builds the `PropertyKeyConst` class (attributes are the ONS names, values the keys).
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let attrs = PyDict::new(py);
    for c in catalogue::binding_constants() {
        attrs.set_item(c.member, c.value)?;
    }
    attrs.set_item("__doc__", "ONS property names (PropertyKeyConst). Values are the keys the client reads.")?;
    attrs.set_item("__module__", "rocketmq_ons")?;
    let class = py.get_type::<pyo3::types::PyType>().call1(("PropertyKeyConst", PyTuple::empty(py), attrs))?;
    m.add("PropertyKeyConst", class)?;
    let keywords = PyDict::new(py);
    for c in catalogue::binding_constants() {
        keywords.set_item(c.snake, c.value)?;
    }
    m.add("_OPTION_KEYWORDS", keywords)?;
    Ok(())
}
