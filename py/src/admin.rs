//! `Admin`: reading messages back and creating topics (not part of the ONS API; tests and
//! tools use it).

use pyo3::prelude::*;
use pyo3::types::PyDict;
use rocketmq_ons::admin::Admin;

use crate::errors::to_py_err;
use crate::message::PyMessage;
use crate::props;
use crate::runtime::{block_on, runtime, BoundHandle};

#[pyclass(module = "rocketmq_ons", name = "Admin", frozen)]
pub(crate) struct PyAdmin {
    inner: BoundHandle<Admin>,
}

#[pymethods]
impl PyAdmin {
    /// Needs NAMESRV_ADDR (and credentials when the brokers check them).
    #[new]
    #[pyo3(signature = (properties = None, **options))]
    fn new(
        py: Python<'_>,
        properties: Option<&Bound<'_, PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let props = props::collect(properties, options)?;
        let _entered = runtime(py)?.enter();
        let admin = Admin::new(&props).map_err(to_py_err)?;
        Ok(PyAdmin { inner: BoundHandle::new("Admin", admin.into()) })
    }

    /// The stored message with this offset message id (`SendResult.offset_msg_id`).
    fn view_message(&self, py: Python<'_>, topic: String, offset_msg_id: String) -> PyResult<PyMessage> {
        let admin = self.inner.get()?.clone();
        let msg = block_on(py, async move { admin.view_message(&topic, &offset_msg_id).await })?.map_err(to_py_err)?;
        Ok(PyMessage { inner: msg })
    }

    /// Creates (or updates) `topic` on every master broker.
    #[pyo3(signature = (topic, queue_nums = 8, order = false))]
    fn create_topic(&self, py: Python<'_>, topic: String, queue_nums: u32, order: bool) -> PyResult<()> {
        let admin = self.inner.get()?.clone();
        block_on(py, async move { admin.create_topic(&topic, queue_nums, order).await })?.map_err(to_py_err)
    }
}
