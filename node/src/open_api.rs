//! `OpenApiClient`: the core's Open API (management console HTTP API) client. Calls go through
//! `callRaw(path, params)`; signing, the envelope and its error codes are the core's.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use rocketmq_ons::auth::Credentials;
use rocketmq_ons::http::{OpenApiClient as CoreClient, OpenApiConfig};

use crate::error;
use crate::producer::promise;

/// How to reach and sign for the Open API.
#[napi(object)]
pub struct OpenApiOptions {
    /// The console address, e.g. `https://mq.console.example.com` (https is assumed).
    pub endpoint: String,
    pub access_key: String,
    pub secret_key: String,
    pub security_token: Option<String>,
    /// `_regionId` (default `mq-private`).
    pub region_id: Option<String>,
    /// `_platform` (default `onsConsole`).
    pub platform: Option<String>,
    /// Trust only the CA certificates in this PEM file.
    pub ca_file: Option<String>,
    /// Skip certificate verification (self-signed private consoles only).
    pub insecure_skip_verify: Option<bool>,
    /// Bound on the whole call (default 30 s).
    pub timeout_millis: Option<u32>,
}

/// A decoded answer: `data` as JSON, and the envelope's other fields.
#[napi(object)]
pub struct ApiResponse {
    pub data: serde_json::Value,
    pub code: Option<i64>,
    pub message: Option<String>,
    pub request_id: Option<String>,
    pub current_page: Option<i64>,
    pub page_size: Option<i64>,
    pub total: Option<i64>,
}

/// Client of the Open API. A failed call rejects with `code === 'API'` and, when the API sent
/// one, its own error code in `apiCode`.
#[napi]
pub struct OpenApiClient {
    inner: Arc<CoreClient>,
}

#[napi]
impl OpenApiClient {
    #[napi(constructor)]
    pub fn new(env: &Env, options: OpenApiOptions) -> Result<Self> {
        let mut credentials = Credentials::new(options.access_key, options.secret_key);
        if let Some(token) = options.security_token {
            credentials = credentials.with_security_token(token);
        }
        let mut config = OpenApiConfig::new(options.endpoint, credentials);
        if let Some(region) = options.region_id {
            config.region_id = region;
        }
        if let Some(platform) = options.platform {
            config.platform = Some(platform);
        }
        config.http.ca_file = options.ca_file.map(Into::into);
        config.http.insecure_skip_verify = options.insecure_skip_verify.unwrap_or(false);
        if let Some(ms) = options.timeout_millis {
            config.http.timeout = Duration::from_millis(ms.into());
        }
        let inner = CoreClient::new(config).map_err(|e| error::to_js(env, &e))?;
        Ok(OpenApiClient { inner: Arc::new(inner) })
    }

    /// Calls `path` (e.g. `/topic/list`) with the API's own parameters; the common parameters
    /// and the signature are added.
    #[napi(ts_return_type = "Promise<ApiResponse>")]
    pub fn call_raw<'env>(
        &self,
        env: &'env Env,
        path: String,
        params: Option<std::collections::HashMap<String, String>>,
    ) -> Result<PromiseRaw<'env, ApiResponse>> {
        let inner = self.inner.clone();
        let mut params: Vec<(String, String)> = params.unwrap_or_default().into_iter().collect();
        params.sort();
        let fut = async move {
            let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            inner.call_raw(&path, &borrowed).await
        };
        promise(env, fut, |_, r| {
            Ok(ApiResponse {
                data: r.data,
                code: r.code,
                message: r.message,
                request_id: r.request_id,
                current_page: r.current_page,
                page_size: r.page_size,
                total: r.total,
            })
        })
    }
}
