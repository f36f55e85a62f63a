//! `ons_open_api_t`: core's Open API client (the console's HTTP management API). C gets the
//! generic call: a path and its parameters in, the decoded envelope as JSON text out; core
//! adds the common parameters, signs, checks the envelope and turns API errors into
//! ONS_ERR_API with the API's error code (ons_last_error_api_code).

use std::ffi::{c_char, CString};

use ons::auth::Credentials;
use ons::http::{OpenApiClient, OpenApiConfig};
use serde_json::json;

use crate::args;
use crate::error::{guard, invalid_argument, Result};
use crate::runtime::{block_on, check_process};

/// An Open API client. Thread-safe; every call opens its own connection.
pub struct OnsOpenApi {
    inner: OpenApiClient,
    pid: u32,
}

impl OnsOpenApi {
    fn live(&self) -> Result<&OpenApiClient> {
        check_process(self.pid, "Open API client")?;
        Ok(&self.inner)
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
        *out = Box::into_raw(Box::new(OnsOpenApi { inner: OpenApiClient::new(config)?, pid: std::process::id() }));
        Ok(())
    })
}

/// Frees an Open API client. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_open_api_destroy(api: *mut OnsOpenApi) -> i32 {
    guard("ons_open_api_destroy", || {
        if let Some(a) = api.as_ref() {
            // Inherited across fork(): forgotten, like the other handles.
            if a.live().is_ok() {
                drop(Box::from_raw(api));
            }
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
        if count > 0 && (keys.is_null() || values.is_null()) {
            return Err(invalid_argument(format!("keys or values is NULL but count is {count}")));
        }
        let mut params = Vec::with_capacity(count);
        for i in 0..count {
            let key = args::string(*keys.add(i), &format!("keys[{i}]"))?;
            let value = args::string(*values.add(i), &format!("values[{i}]"))?;
            params.push((key, value));
        }
        let response = block_on(client.call_raw(path, &params))??;
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
