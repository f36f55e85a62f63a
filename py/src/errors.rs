//! Core errors as Python exceptions: one base, `ONSClientException`, and one subclass per
//! [`ErrorKind`], made from [`ErrorKind::ALL`] at import so the table can never miss a kind.
//! Every class has `code` (the stable numeric code) and `kind` (the stable name); instances
//! also carry `response_code` (the broker's answer code), `api_code` (an HTTP management API's
//! error code) and, for a failed send, `message_id` and `topic`; each None when there was none.
//! Kinds with a builtin counterpart also derive from it, so `except TimeoutError` catches
//! `ONSTimeoutError` (see [`builtin_base`]).

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use rocketmq_ons::{Error, ErrorKind};

pyo3::create_exception!(
    rocketmq_ons,
    ONSClientException,
    PyException,
    "Base of every error the client raises. `code` and `kind` name the error kind; \
     `response_code` is the broker's answer code, `api_code` an HTTP management API's error code, \
     `message_id` and `topic` name the message of a failed send; each None when there was none."
);

/// (code, class) for every kind, in `ErrorKind::ALL` order.
static CLASSES: PyOnceLock<Vec<(i32, Py<PyType>)>> = PyOnceLock::new();

/// The Python class name of a kind: `TOPIC_NOT_FOUND` -> `TopicNotFoundError`, prefixed with
/// `ONS` where that would shadow a builtin (`ONSTimeoutError`, `ONSPermissionError`).
pub(crate) fn class_name(py: Python<'_>, kind: ErrorKind) -> PyResult<String> {
    let mut name: String = kind
        .name()
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase()).unwrap_or_default()
        })
        .collect();
    name.push_str("Error");
    if py.import("builtins")?.hasattr(name.as_str())? {
        name.insert_str(0, "ONS");
    }
    Ok(name)
}

/// The builtin exception a kind also derives from, where Python has one for the same failure.
fn builtin_base(kind: ErrorKind) -> Option<&'static str> {
    match kind {
        ErrorKind::InvalidConfig | ErrorKind::InvalidArgument => Some("ValueError"),
        ErrorKind::NotStarted => Some("RuntimeError"),
        ErrorKind::Timeout => Some("TimeoutError"),
        ErrorKind::Network => Some("ConnectionError"),
        ErrorKind::Permission => Some("PermissionError"),
        _ => None,
    }
}

fn classes(py: Python<'_>) -> PyResult<&Vec<(i32, Py<PyType>)>> {
    CLASSES.get_or_try_init(py, || {
        let base = py.get_type::<ONSClientException>();
        let mut out = Vec::with_capacity(ErrorKind::ALL.len());
        let builtins = py.import("builtins")?;
        for kind in ErrorKind::ALL {
            let name = class_name(py, kind)?;
            let mut bases = vec![base.clone().into_any()];
            if let Some(builtin) = builtin_base(kind) {
                bases.push(builtins.getattr(builtin)?);
            }
            let namespace = PyDict::new(py);
            namespace.set_item("__module__", "rocketmq_ons")?;
            namespace.set_item("__doc__", format!("Error kind {} (code {}).", kind.name(), kind.code()))?;
            namespace.set_item("code", kind.code())?;
            namespace.set_item("kind", kind.name())?;
            // type(name, bases, namespace), as a class statement would make it.
            let class = py
                .get_type::<PyType>()
                .call1((name, PyTuple::new(py, bases)?, namespace))?
                .cast_into::<PyType>()?
                .unbind();
            out.push((kind.code(), class));
        }
        Ok(out)
    })
}

/// Adds the base and every kind's class to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let base = py.get_type::<ONSClientException>();
    base.setattr("code", 0)?;
    base.setattr("kind", "ONS_CLIENT")?;
    for attribute in ["response_code", "api_code", "message_id", "topic"] {
        base.setattr(attribute, py.None())?;
    }
    m.add("ONSClientException", &base)?;
    let names = pyo3::types::PyList::empty(py);
    for (kind, (_, class)) in ErrorKind::ALL.iter().zip(classes(py)?) {
        let name = class_name(py, *kind)?;
        m.add(name.as_str(), class.bind(py))?;
        names.append(name)?;
    }
    m.add("_ERROR_CLASS_NAMES", names)?;
    Ok(())
}

/// The exception for a core error, with `response_code`, `api_code` and `message_id` set on
/// the instance.
pub(crate) fn to_py_err(e: Error) -> PyErr {
    Python::attach(|py| build(py, &e, None).unwrap_or_else(|err| err))
}

/// The exception for a failed send of a message of `topic` (ONS `OnExceptionContext`): as
/// [`to_py_err`], with `topic` set too.
pub(crate) fn send_err(e: Error, topic: &str) -> PyErr {
    Python::attach(|py| build(py, &e, Some(topic)).unwrap_or_else(|err| err))
}

fn build(py: Python<'_>, e: &Error, topic: Option<&str>) -> PyResult<PyErr> {
    let class = classes(py)?
        .iter()
        .find(|(code, _)| *code == e.kind().code())
        .map(|(_, c)| c.bind(py).clone())
        .unwrap_or_else(|| py.get_type::<ONSClientException>());
    let instance = class.call1((e.message().to_owned(),))?;
    instance.setattr("response_code", e.response_code())?;
    instance.setattr("api_code", e.api_code())?;
    instance.setattr("message_id", e.message_id())?;
    instance.setattr("topic", topic)?;
    Ok(PyErr::from_value(instance))
}
