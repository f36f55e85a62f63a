//! Core errors as Python exceptions: one base, `ONSClientException`, and one subclass per
//! [`ErrorKind`], made from [`ErrorKind::ALL`] at import so the table can never miss a kind.
//! Every class has `code` (the stable numeric code) and `kind` (the stable name); instances
//! also carry `response_code`, the broker's answer code when there was one.

use std::ffi::CString;

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;
use rocketmq_ons::{Error, ErrorKind};

pyo3::create_exception!(
    rocketmq_ons,
    ONSClientException,
    PyException,
    "Base of every error the client raises. `code` and `kind` name the error kind; \
     `response_code` is the broker's answer code, or None."
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

fn classes(py: Python<'_>) -> PyResult<&Vec<(i32, Py<PyType>)>> {
    CLASSES.get_or_try_init(py, || {
        let base = py.get_type::<ONSClientException>();
        let mut out = Vec::with_capacity(ErrorKind::ALL.len());
        for kind in ErrorKind::ALL {
            let name = class_name(py, kind)?;
            let qualified = CString::new(format!("rocketmq_ons.{name}")).expect("no NUL in class names");
            let doc = CString::new(format!("Error kind {} (code {}).", kind.name(), kind.code()))
                .expect("no NUL in class docs");
            let class = PyErr::new_type(py, &qualified, Some(&doc), Some(&base), None)?;
            let bound = class.bind(py);
            bound.setattr("code", kind.code())?;
            bound.setattr("kind", kind.name())?;
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
    base.setattr("response_code", py.None())?;
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

/// The exception for a core error, with `response_code` set on the instance.
pub(crate) fn to_py_err(e: Error) -> PyErr {
    Python::attach(|py| {
        let build = || -> PyResult<PyErr> {
            let class = classes(py)?
                .iter()
                .find(|(code, _)| *code == e.kind().code())
                .map(|(_, c)| c.bind(py).clone())
                .unwrap_or_else(|| py.get_type::<ONSClientException>());
            let instance = class.call1((e.message().to_owned(),))?;
            instance.setattr("response_code", e.response_code())?;
            Ok(PyErr::from_value(instance))
        };
        build().unwrap_or_else(|err| err)
    })
}
