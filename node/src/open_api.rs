//! The core's HTTP management clients in JS: `OpenApiClient` (the RocketMQ console's Open API,
//! `callRaw(path, params)`) and `AsapiClient` (the ASAPI gateway, `call(product, action,
//! version, params)`). Signing, envelopes and error codes are the core's.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use rocketmq_ons::auth::pop::{HttpMethod, SignatureMethod};
use rocketmq_ons::auth::Credentials;
use rocketmq_ons::http::{
    AsapiClient as CoreAsapiClient, AsapiConfig, AsapiRequest, HttpOptions, OpenApiClient as CoreClient, OpenApiConfig,
};

use crate::core_call::promise;
use crate::js_thread::Start;
use crate::{args, error};

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
    #[napi(constructor, ts_args_type = "options: OpenApiOptions")]
    pub fn new(env: &Env, options: Unknown<'_>) -> Result<Self> {
        let options: OpenApiOptions = args::object(env, options, "new OpenApiClient: options", "OpenApiOptions")?;
        let credentials = credentials(options.access_key, options.secret_key, options.security_token);
        let mut config = OpenApiConfig::new(options.endpoint, credentials);
        if let Some(region) = options.region_id {
            config.region_id = region;
        }
        if let Some(platform) = options.platform {
            config.platform = Some(platform);
        }
        http_options(&mut config.http, options.ca_file, options.insecure_skip_verify, options.timeout_millis);
        let inner = CoreClient::new(config).map_err(|e| error::to_js(env, &e))?;
        Ok(OpenApiClient { inner: Arc::new(inner) })
    }

    /// Calls `path` (e.g. `/topic/list`) with the API's own parameters; the common parameters
    /// and the signature are added.
    #[napi(
        ts_args_type = "path: string, params?: Record<string, string> | undefined | null",
        ts_return_type = "Promise<ApiResponse>"
    )]
    pub fn call_raw<'env>(
        &self,
        env: &'env Env,
        path: Unknown<'_>,
        params: Option<Unknown<'_>>,
    ) -> Result<PromiseRaw<'env, ApiResponse>> {
        let path = args::string(env, path, "callRaw: path")?;
        let params = optional_params(env, params, "callRaw: params")?;
        let inner = self.inner.clone();
        let mut params: Vec<(String, String)> = params.unwrap_or_default().into_iter().collect();
        params.sort();
        let fut = async move {
            let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            inner.call_raw(&path, &borrowed).await
        };
        promise(env, Start::OnRuntime, fut, |_, r| {
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

fn credentials(access_key: String, secret_key: String, security_token: Option<String>) -> Credentials {
    let credentials = Credentials::new(access_key, secret_key);
    match security_token {
        Some(token) => credentials.with_security_token(token),
        None => credentials,
    }
}

fn http_options(http: &mut HttpOptions, ca_file: Option<String>, insecure: Option<bool>, timeout_millis: Option<u32>) {
    http.ca_file = ca_file.map(Into::into);
    http.insecure_skip_verify = insecure.unwrap_or(false);
    if let Some(ms) = timeout_millis {
        http.timeout = Duration::from_millis(ms.into());
    }
}

/// How to reach and sign for an ASAPI gateway.
#[napi(object)]
pub struct AsapiOptions {
    /// The gateway, e.g. `https://public.asapi.cn-example.example.com/asapi/v3` (https is assumed).
    pub endpoint: String,
    pub access_key: String,
    pub secret_key: String,
    pub security_token: Option<String>,
    /// `RegionId` of every call.
    pub region_id: String,
    /// `'HMAC-SHA1'` (default) or `'HMAC-SHA256'`.
    #[napi(ts_type = "'HMAC-SHA1' | 'HMAC-SHA256'")]
    pub signature_method: Option<String>,
    /// `'POST'` (default) or `'GET'`.
    #[napi(ts_type = "'POST' | 'GET'")]
    pub method: Option<String>,
    /// Trust only the CA certificates in this PEM file.
    pub ca_file: Option<String>,
    /// Skip certificate verification (self-signed private gateways only).
    pub insecure_skip_verify: Option<bool>,
    /// Bound on the whole call (default 30 s).
    pub timeout_millis: Option<u32>,
}

/// A successful ASAPI answer: the whole JSON object in `body`.
#[napi(object)]
pub struct AsapiResponse {
    pub http_status: u16,
    pub request_id: Option<String>,
    /// The gateway's trace id (`eagleEyeTraceId`).
    pub eagle_eye_trace_id: Option<String>,
    pub body: serde_json::Value,
}

/// Client of an ASAPI gateway (POP-style signed calls). A failed call rejects with
/// `code === 'API'` and the gateway's `asapiErrorCode` in `apiCode`.
#[napi]
pub struct AsapiClient {
    inner: Arc<CoreAsapiClient>,
}

#[napi]
impl AsapiClient {
    #[napi(constructor, ts_args_type = "options: AsapiOptions")]
    pub fn new(env: &Env, options: Unknown<'_>) -> Result<Self> {
        let options: AsapiOptions = args::object(env, options, "new AsapiClient: options", "AsapiOptions")?;
        let credentials = credentials(options.access_key, options.secret_key, options.security_token);
        let mut config = AsapiConfig::new(options.endpoint, credentials, options.region_id);
        config.signature_method = match options.signature_method.as_deref() {
            None | Some("HMAC-SHA1") => SignatureMethod::HmacSha1,
            Some("HMAC-SHA256") => SignatureMethod::HmacSha256,
            Some(other) => {
                return Err(error::invalid_config(
                    env,
                    format!("signatureMethod must be 'HMAC-SHA1' or 'HMAC-SHA256', got {other:?}"),
                ))
            }
        };
        config.method = match options.method.as_deref() {
            None | Some("POST") => HttpMethod::Post,
            Some("GET") => HttpMethod::Get,
            Some(other) => {
                return Err(error::invalid_config(env, format!("method must be 'POST' or 'GET', got {other:?}")))
            }
        };
        http_options(&mut config.http, options.ca_file, options.insecure_skip_verify, options.timeout_millis);
        let inner = CoreAsapiClient::new(config).map_err(|e| error::to_js(env, &e))?;
        Ok(AsapiClient { inner: Arc::new(inner) })
    }

    /// Calls `action` of `product` at API `version` with the API's own parameters; the common
    /// parameters and the signature are added.
    #[napi(
        ts_args_type = "product: string, action: string, version: string, params?: Record<string, string> | undefined | null",
        ts_return_type = "Promise<AsapiResponse>"
    )]
    pub fn call<'env>(
        &self,
        env: &'env Env,
        product: Unknown<'_>,
        action: Unknown<'_>,
        version: Unknown<'_>,
        params: Option<Unknown<'_>>,
    ) -> Result<PromiseRaw<'env, AsapiResponse>> {
        let product = args::string(env, product, "call: product")?;
        let action = args::string(env, action, "call: action")?;
        let version = args::string(env, version, "call: version")?;
        let params = optional_params(env, params, "call: params")?;
        let inner = self.inner.clone();
        let request = params
            .unwrap_or_default()
            .into_iter()
            .fold(AsapiRequest::new(product, action, version), |r, (k, v)| r.param(k, v));
        promise(env, Start::OnRuntime, async move { inner.call(&request).await }, |_, r| {
            Ok(AsapiResponse {
                http_status: r.http_status,
                request_id: r.request_id,
                eagle_eye_trace_id: r.eagle_eye_trace_id,
                body: serde_json::Value::Object(r.body),
            })
        })
    }
}

/// Optional API parameters: an object of string values; `undefined` and `null` are `None`.
fn optional_params(
    env: &Env,
    value: Option<Unknown<'_>>,
    what: &str,
) -> Result<Option<std::collections::HashMap<String, String>>> {
    match value {
        Some(v) if !matches!(v.get_type()?, napi::ValueType::Undefined | napi::ValueType::Null) => {
            args::object(env, v, what, "Record<string, string>").map(Some)
        }
        _ => Ok(None),
    }
}
