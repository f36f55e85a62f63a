//! `OpenApiClient` (the RocketMQ Open API, docs/open-api.md) and `AsapiClient` (ASAPI gateway
//! calls, docs/asapi.md) over the core's HTTP clients; answers come back as JSON-decoded
//! Python values.

use std::collections::BTreeMap;

use pyo3::prelude::*;
use rocketmq_ons::auth::Credentials;
use rocketmq_ons::http::{AsapiClient, AsapiConfig, AsapiRequest, OpenApiClient, OpenApiConfig};
use serde_json::{json, Value};

use crate::completion::{self, Start};
use crate::errors::to_py_err;
use crate::runtime::{block_on, runtime, BoundHandle};

fn credentials(access_key: String, secret_key: String, security_token: Option<String>) -> Credentials {
    let credentials = Credentials::new(access_key, secret_key);
    match security_token {
        Some(token) => credentials.with_security_token(token),
        None => credentials,
    }
}

fn to_python(py: Python<'_>, value: &Value) -> PyResult<Py<PyAny>> {
    Ok(py.import("json")?.call_method1("loads", (value.to_string(),))?.unbind())
}

/// The RocketMQ Open API: `call(path, params)` returns a dict with `data`, `code`, `message`,
/// `request_id`; a failed call raises (ApiError for an error answer).
#[pyclass(module = "rocketmq_ons", name = "OpenApiClient", frozen)]
pub(crate) struct PyOpenApiClient {
    inner: BoundHandle<OpenApiClient>,
}

type OpenApiOutcome = rocketmq_ons::Result<rocketmq_ons::http::ApiResponse<Value>>;

fn open_api_result(py: Python<'_>, r: OpenApiOutcome) -> PyResult<Py<PyAny>> {
    let r = r.map_err(to_py_err)?;
    to_python(py, &json!({"data": r.data, "code": r.code, "message": r.message, "request_id": r.request_id}))
}

#[pymethods]
impl PyOpenApiClient {
    #[new]
    #[pyo3(signature = (endpoint, access_key, secret_key, *, region_id = None, security_token = None))]
    fn new(
        py: Python<'_>,
        endpoint: String,
        access_key: String,
        secret_key: String,
        region_id: Option<String>,
        security_token: Option<String>,
    ) -> PyResult<Self> {
        let mut config = OpenApiConfig::new(endpoint, credentials(access_key, secret_key, security_token));
        if let Some(region) = region_id {
            config.region_id = region;
        }
        let _entered = runtime(py)?.enter();
        let client = OpenApiClient::new(config).map_err(to_py_err)?;
        Ok(PyOpenApiClient { inner: BoundHandle::new("OpenApiClient", client.into()) })
    }

    /// Calls an Open API path (`/json/topic/list...`) with its parameters.
    #[pyo3(signature = (path, params = None))]
    fn call(&self, py: Python<'_>, path: String, params: Option<BTreeMap<String, String>>) -> PyResult<Py<PyAny>> {
        let client = self.inner.get()?.clone();
        let params = params.unwrap_or_default();
        let r = block_on(py, async move {
            let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            client.call_raw(&path, &pairs).await
        })?;
        open_api_result(py, r)
    }

    /// `call` as an awaitable.
    #[pyo3(signature = (path, params = None))]
    fn call_async(
        &self,
        py: Python<'_>,
        path: String,
        params: Option<BTreeMap<String, String>>,
    ) -> PyResult<Py<PyAny>> {
        let client = self.inner.get()?.clone();
        let params = params.unwrap_or_default();
        let fut = async move {
            let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            client.call_raw(&path, &pairs).await
        };
        completion::spawn_future(py, Start::OnRuntime, fut, open_api_result)
    }
}

/// ASAPI gateway calls: `call(product, action, version, params)` returns a dict with
/// `http_status`, `request_id` and `body` (the whole JSON answer).
#[pyclass(module = "rocketmq_ons", name = "AsapiClient", frozen)]
pub(crate) struct PyAsapiClient {
    inner: BoundHandle<AsapiClient>,
}

fn asapi_result(py: Python<'_>, r: rocketmq_ons::Result<rocketmq_ons::http::AsapiResponse>) -> PyResult<Py<PyAny>> {
    let r = r.map_err(to_py_err)?;
    to_python(py, &json!({"http_status": r.http_status, "request_id": r.request_id, "body": r.body}))
}

fn asapi_request(
    product: String,
    action: String,
    version: String,
    params: Option<BTreeMap<String, String>>,
) -> AsapiRequest {
    params.unwrap_or_default().into_iter().fold(AsapiRequest::new(product, action, version), |r, (k, v)| r.param(k, v))
}

#[pymethods]
impl PyAsapiClient {
    #[new]
    #[pyo3(signature = (endpoint, access_key, secret_key, region_id, *, security_token = None))]
    fn new(
        py: Python<'_>,
        endpoint: String,
        access_key: String,
        secret_key: String,
        region_id: String,
        security_token: Option<String>,
    ) -> PyResult<Self> {
        let config = AsapiConfig::new(endpoint, credentials(access_key, secret_key, security_token), region_id);
        let _entered = runtime(py)?.enter();
        let client = AsapiClient::new(config).map_err(to_py_err)?;
        Ok(PyAsapiClient { inner: BoundHandle::new("AsapiClient", client.into()) })
    }

    #[pyo3(signature = (product, action, version, params = None))]
    fn call(
        &self,
        py: Python<'_>,
        product: String,
        action: String,
        version: String,
        params: Option<BTreeMap<String, String>>,
    ) -> PyResult<Py<PyAny>> {
        let client = self.inner.get()?.clone();
        let request = asapi_request(product, action, version, params);
        let r = block_on(py, async move { client.call(&request).await })?;
        asapi_result(py, r)
    }

    /// `call` as an awaitable.
    #[pyo3(signature = (product, action, version, params = None))]
    fn call_async(
        &self,
        py: Python<'_>,
        product: String,
        action: String,
        version: String,
        params: Option<BTreeMap<String, String>>,
    ) -> PyResult<Py<PyAny>> {
        let client = self.inner.get()?.clone();
        let request = asapi_request(product, action, version, params);
        completion::spawn_future(py, Start::OnRuntime, async move { client.call(&request).await }, asapi_result)
    }
}
