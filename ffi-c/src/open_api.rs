//! `ons_open_api_t` and `ons_asapi_t`: core's HTTP management clients (the console's Open API
//! and the Apsara Stack API gateway). C gets the generic calls: a path (or product, action and
//! version) and its parameters in, the decoded answer as JSON text out; core adds the common
//! parameters, signs, checks the envelope and turns API errors into ONS_ERR_API with the API's
//! error code (ons_last_error_api_code).

use std::ffi::{c_char, CString};

use ons::auth::Credentials;
use ons::http::{AsapiClient, AsapiConfig, AsapiRequest, OpenApiClient, OpenApiConfig};
use serde_json::json;

use crate::args;
use crate::error::{guard, invalid_argument, Result};
use ons_binding_support::ProcessBound;

use crate::runtime::block_on;

/// An Open API client. Thread-safe; every call opens its own connection.
pub struct OnsOpenApi(ProcessBound<OpenApiClient>);

impl OnsOpenApi {
    fn live(&self) -> Result<&OpenApiClient> {
        self.0.get()
    }
}

/// Creates an Open API client for the console at `endpoint` (e.g.
/// "https://mq.console.example.com"; https is assumed without a scheme), signing with
/// `access_key` / `secret_key`. `region_id` may be NULL for the default ("mq-private").
/// HTTP(S)_PROXY / NO_PROXY are honoured. Release it with ons_open_api_destroy.
#[no_mangle]
pub unsafe extern "C" fn ons_open_api_new(
    endpoint: *const c_char,
    access_key: *const c_char,
    secret_key: *const c_char,
    region_id: *const c_char,
    out: *mut *mut OnsOpenApi,
) -> i32 {
    guard("ons_open_api_new", || {
        let out = args::out_ptr(out, "out")?;
        let endpoint = args::string(endpoint, "endpoint")?;
        let credentials =
            Credentials::new(args::string(access_key, "access_key")?, args::string(secret_key, "secret_key")?);
        let mut config = OpenApiConfig::new(endpoint, credentials);
        if let Some(region) = args::opt_string(region_id, "region_id")? {
            config.region_id = region.to_owned();
        }
        *out = Box::into_raw(Box::new(OnsOpenApi(ProcessBound::new("Open API client", OpenApiClient::new(config)?))));
        Ok(())
    })
}

/// Frees an Open API client. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_open_api_destroy(api: *mut OnsOpenApi) -> i32 {
    guard("ons_open_api_destroy", || {
        if !api.is_null() {
            // Inherited across fork(), the client inside is forgotten rather than dropped.
            drop(Box::from_raw(api));
        }
        Ok(())
    })
}

/// Calls the Open API endpoint `path` (e.g. "/json/topic/list") with `count` parameters
/// (`keys[i]` = `values[i]`; both arrays may be NULL when `count` is 0), blocking until the
/// answer. The parameters are sent as given: core adds `_accesskey`, `__preventCache`,
/// `_regionId`, `_platform` and `_signature`. On success `*out_json` is a new NUL-terminated
/// JSON object {"data": ..., "code", "message", "requestId", "currentPage", "pageSize",
/// "total"} (absent fields are null); free it with ons_string_free. An error answer is
/// ONS_ERR_API, with the API's error code in ons_last_error_api_code().
#[no_mangle]
pub unsafe extern "C" fn ons_open_api_call(
    api: *mut OnsOpenApi,
    path: *const c_char,
    keys: *const *const c_char,
    values: *const *const c_char,
    count: usize,
    out_json: *mut *mut c_char,
) -> i32 {
    guard("ons_open_api_call", || {
        let out = args::out_ptr(out_json, "out_json")?;
        let client = args::obj(api, "api")?.live()?;
        let path = args::string(path, "path")?;
        let response = block_on(client.call_raw(path, &params(keys, values, count)?))??;
        let text = json!({
            "data": response.data,
            "code": response.code,
            "message": response.message,
            "requestId": response.request_id,
            "currentPage": response.current_page,
            "pageSize": response.page_size,
            "total": response.total,
        })
        .to_string();
        *out = args::c_string(&text, "the answer")?.into_raw();
        Ok(())
    })
}

/// Frees a string the library returned as owned by the caller (ons_open_api_call's JSON).
/// NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_string_free(s: *mut c_char) -> i32 {
    guard("ons_string_free", || {
        if !s.is_null() {
            drop(CString::from_raw(s));
        }
        Ok(())
    })
}

/// An ASAPI client (RPC-style calls through the Apsara Stack API gateway). Thread-safe.
pub struct OnsAsapi(ProcessBound<AsapiClient>);

impl OnsAsapi {
    fn live(&self) -> Result<&AsapiClient> {
        self.0.get()
    }
}

/// Creates an ASAPI client for the gateway at `endpoint` (https assumed without a scheme) in
/// `region_id`, signing with `access_key` / `secret_key` (HMAC-SHA1; calls are form POSTs, the
/// `x-acs-caller-sdk-source` and `x-acs-regionid` headers are sent). Release it with
/// ons_asapi_destroy.
#[no_mangle]
pub unsafe extern "C" fn ons_asapi_new(
    endpoint: *const c_char,
    access_key: *const c_char,
    secret_key: *const c_char,
    region_id: *const c_char,
    out: *mut *mut OnsAsapi,
) -> i32 {
    guard("ons_asapi_new", || {
        let out = args::out_ptr(out, "out")?;
        let endpoint = args::string(endpoint, "endpoint")?;
        let credentials =
            Credentials::new(args::string(access_key, "access_key")?, args::string(secret_key, "secret_key")?);
        let config = AsapiConfig::new(endpoint, credentials, args::string(region_id, "region_id")?);
        *out = Box::into_raw(Box::new(OnsAsapi(ProcessBound::new("ASAPI client", AsapiClient::new(config)?))));
        Ok(())
    })
}

/// Frees an ASAPI client. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_asapi_destroy(api: *mut OnsAsapi) -> i32 {
    guard("ons_asapi_destroy", || {
        if !api.is_null() {
            // Inherited across fork(), the client inside is forgotten rather than dropped.
            drop(Box::from_raw(api));
        }
        Ok(())
    })
}

/// Calls `action` of `product` at API `version` with `count` parameters (as for
/// ons_open_api_call), blocking until the answer; core adds the common parameters and the
/// signature. On success `*out_json` is a new JSON object {"httpStatus", "requestId", "body"}
/// (free with ons_string_free). An error answer is ONS_ERR_API with asapiErrorCode (or the
/// product's code) in ons_last_error_api_code().
#[no_mangle]
pub unsafe extern "C" fn ons_asapi_call(
    api: *mut OnsAsapi,
    product: *const c_char,
    action: *const c_char,
    version: *const c_char,
    keys: *const *const c_char,
    values: *const *const c_char,
    count: usize,
    out_json: *mut *mut c_char,
) -> i32 {
    guard("ons_asapi_call", || {
        let out = args::out_ptr(out_json, "out_json")?;
        let client = args::obj(api, "api")?.live()?;
        let mut request = AsapiRequest::new(
            args::string(product, "product")?,
            args::string(action, "action")?,
            args::string(version, "version")?,
        );
        for (key, value) in params(keys, values, count)? {
            request = request.param(key, value);
        }
        let response = block_on(client.call(&request))??;
        let text = json!({
            "httpStatus": response.http_status,
            "requestId": response.request_id,
            "body": response.body,
        })
        .to_string();
        *out = args::c_string(&text, "the answer")?.into_raw();
        Ok(())
    })
}

/// The (key, value) parameter arrays of a call.
unsafe fn params<'a>(
    keys: *const *const c_char,
    values: *const *const c_char,
    count: usize,
) -> Result<Vec<(&'a str, &'a str)>> {
    if count > 0 && (keys.is_null() || values.is_null()) {
        return Err(invalid_argument(format!("keys or values is NULL but count is {count}")));
    }
    (0..count)
        .map(|i| {
            Ok((
                args::string(*keys.add(i), &format!("keys[{i}]"))?,
                args::string(*values.add(i), &format!("values[{i}]"))?,
            ))
        })
        .collect()
}
