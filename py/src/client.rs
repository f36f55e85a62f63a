//! What every producer and consumer class shares: construction from properties and keyword
//! options, start/shutdown (sync and awaitable), `is_started`/`is_closed`, credential rotation
//! (`update_credential`), and the sync and async context managers. Each class adds its own methods through [`client_class!`].

/// A Python class over an `BoundHandle<$core>` field `inner`, with the shared lifecycle methods and
/// the class's own `$extra` methods in the same `#[pymethods]` block.
macro_rules! client_class {
    ($(#[$doc:meta])* $name:ident, $pyname:literal, $core:ty, { $($extra:tt)* }) => {
        $(#[$doc])*
        #[pyo3::pyclass(module = "rocketmq_ons", name = $pyname, frozen)]
        pub(crate) struct $name {
            inner: crate::runtime::BoundHandle<$core>,
        }

        #[pyo3::pymethods]
        impl $name {
            /// Starts the client; a consumer first waits for an answer of a name server (seconds at
            /// most; the GIL is released meanwhile).
            fn start(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<()> {
                crate::runtime::start(py, self.inner.get()?)
            }

            /// Shuts the client down and waits for it (the GIL is released meanwhile).
            fn shutdown(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<()> {
                let handle = self.inner.get()?.clone();
                crate::runtime::block_on(py, ons_binding_support::ClientLifecycle::shutdown_client(handle))
            }

            /// Shuts the client down; an awaitable.
            fn shutdown_async(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<pyo3::Py<pyo3::PyAny>> {
                let handle = self.inner.get()?.clone();
                crate::completion::spawn_future(py, crate::completion::Start::OnRuntime, ons_binding_support::ClientLifecycle::shutdown_client(handle), |py, ()| {
                    Ok(py.None())
                })
            }

            fn is_started(&self) -> pyo3::PyResult<bool> {
                Ok(ons_binding_support::ClientLifecycle::started(&**self.inner.get()?))
            }

            fn is_closed(&self) -> pyo3::PyResult<bool> {
                Ok(ons_binding_support::ClientLifecycle::closed(&**self.inner.get()?))
            }

            /// What this client's message traces came to (MsgTraceSwitch): records sent and
            /// dropped, while it runs and after shutdown; None when it has not traced.
            fn trace_counts(&self) -> pyo3::PyResult<Option<crate::client::PyTraceCounts>> {
                let counts = ons_binding_support::ClientLifecycle::client_trace_counts(&**self.inner.get()?);
                Ok(counts.map(|c| crate::client::PyTraceCounts { sent: c.sent, dropped: c.dropped }))
            }

            /// Replaces AccessKey, SecretKey and SecurityToken of the started client for its next
            /// requests (ONS `updateCredential`); properties as for the constructor, AccessKey
            /// and SecretKey required, other known keys ignored.
            #[pyo3(signature = (properties = None, **options))]
            fn update_credential(
                &self,
                properties: Option<&pyo3::Bound<'_, pyo3::PyAny>>,
                options: Option<&pyo3::Bound<'_, pyo3::types::PyDict>>,
            ) -> pyo3::PyResult<()> {
                let props = crate::props::collect(properties, options)?;
                ons_binding_support::ClientLifecycle::update_client_credential(&**self.inner.get()?, &props)
                    .map_err(crate::errors::to_py_err)
            }

            fn __enter__(slf: pyo3::PyRef<'_, Self>) -> pyo3::PyResult<pyo3::PyRef<'_, Self>> {
                crate::runtime::start(slf.py(), slf.inner.get()?)?;
                Ok(slf)
            }

            #[pyo3(signature = (*_args))]
            fn __exit__(&self, py: pyo3::Python<'_>, _args: &pyo3::Bound<'_, pyo3::types::PyTuple>) -> pyo3::PyResult<bool> {
                self.shutdown(py)?;
                Ok(false)
            }

            /// Starts the client off the event loop (a consumer's start waits for a name server).
            fn __aenter__(slf: pyo3::PyRef<'_, Self>) -> pyo3::PyResult<pyo3::Py<pyo3::PyAny>> {
                let py = slf.py();
                let handle = slf.inner.get()?.clone();
                let me = pyo3::IntoPyObjectExt::into_py_any(slf, py)?;
                crate::completion::spawn_future(
                    py,
                    crate::completion::Start::OnRuntime,
                    crate::runtime::start_in_background(handle),
                    move |_py, outcome| outcome.map(|()| me).map_err(crate::errors::to_py_err),
                )
            }

            #[pyo3(signature = (*_args))]
            fn __aexit__(&self, py: pyo3::Python<'_>, _args: &pyo3::Bound<'_, pyo3::types::PyTuple>) -> pyo3::PyResult<pyo3::Py<pyo3::PyAny>> {
                let handle = self.inner.get()?.clone();
                crate::completion::spawn_future(py, crate::completion::Start::OnRuntime, ons_binding_support::ClientLifecycle::shutdown_client(handle), |py, ()| {
                    pyo3::IntoPyObjectExt::into_py_any(false, py)
                })
            }

            $($extra)*
        }
    };
}

pub(crate) use client_class;

/// What a client's message traces came to: records sent (stored by a broker) and records
/// dropped (queue full, trace topic missing, failed trace sends).
#[pyo3::pyclass(module = "rocketmq_ons", name = "TraceCounts", frozen, eq, get_all)]
#[derive(Clone, PartialEq)]
pub(crate) struct PyTraceCounts {
    pub(crate) sent: u64,
    pub(crate) dropped: u64,
}

#[pyo3::pymethods]
impl PyTraceCounts {
    fn __repr__(&self) -> String {
        format!("TraceCounts(sent={}, dropped={})", self.sent, self.dropped)
    }
}
