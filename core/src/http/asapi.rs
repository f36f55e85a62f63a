//! The ASAPI client: RPC-style calls through the Apsara Stack API gateway (docs/asapi.md, from
//! the Apsara Stack developer guide).
//!
//! A call names `Product`, `Action` and `Version`, carries the API's own parameters and the
//! common ones (`RegionId`, `AccessKeyId`, `Format=JSON`, `Timestamp` in UTC,
//! `SignatureMethod` HMAC-SHA1 or HMAC-SHA256, `SignatureVersion=1.0`, a fresh
//! `SignatureNonce`) and the `Signature` of [`crate::auth::pop`]. A GET puts them all in the
//! query of `{endpoint}/`; a POST (the guide's recommended way) sends the same encoded string as
//! an `application/x-www-form-urlencoded` body, signed with `POST`.
//!
//! Headers (docs/asapi.md §5): `x-acs-caller-sdk-source` (the guide calls the caller id
//! required but free-form; `rocketmq-ons` unless set), `x-acs-regionid` (the call's region unless
//! set), and `x-acs-organizationid`, `x-acs-resourcegroupid`, `x-acs-instanceid`,
//! `x-acs-roleid`, `x-acs-userid` when set. The guide says a personal AccessKey needs the
//! region, organization, resource group and instance headers or calls may be refused for lack
//! of permission; an organization AccessKey needs none. (Its Java sample spells them
//! `x-acis-...`, its tables `x-acs-...`; the latter are sent.)
//!
//! The answer is JSON. HTTP 2xx without `"asapiSuccess": false` is a success; anything else is
//! an [`ErrorKind::Api`](crate::ErrorKind::Api) error whose [`Error::api_code`] is
//! `asapiErrorCode` (or the product's `code`/`Code`), typed by [`AsapiErrorCode::of`].
//!
//! No ASAPI gateway is reachable from the machines this is tested on; the tests use a local
//! HTTPS server that checks signatures with its own implementation of docs/asapi.md §3.

use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::open_api::{check_credentials, excerpt, field, text};
use super::transport::{HttpClient, HttpOptions, HttpRequest};
use super::url::{Endpoint, Scheme};
use crate::auth::pop::{new_nonce, HttpMethod, PopRequest, SignatureMethod};
use crate::auth::Credentials;
use crate::error::{Error, Result};

/// The `x-acs-*` header names.
pub mod header_names {
    pub const REGION_ID: &str = "x-acs-regionid";
    pub const ORGANIZATION_ID: &str = "x-acs-organizationid";
    pub const RESOURCE_GROUP_ID: &str = "x-acs-resourcegroupid";
    pub const INSTANCE_ID: &str = "x-acs-instanceid";
    pub const CALLER_SDK_SOURCE: &str = "x-acs-caller-sdk-source";
    pub const ROLE_ID: &str = "x-acs-roleid";
    pub const USER_ID: &str = "x-acs-userid";
}

/// The caller id sent when none is configured.
pub const DEFAULT_SDK_SOURCE: &str = "rocketmq-ons";

/// Values of the `x-acs-*` headers; `None` sends no header (except the two defaults named in
/// the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AsapiHeaders {
    /// `x-acs-regionid`; the call's `RegionId` when `None`.
    pub region_id: Option<String>,
    /// `x-acs-organizationid`: the organization in the Apsara Uni-manager console.
    pub organization_id: Option<String>,
    /// `x-acs-resourcegroupid`: the resource set.
    pub resource_group_id: Option<String>,
    /// `x-acs-instanceid`: the instance operated on.
    pub instance_id: Option<String>,
    /// `x-acs-caller-sdk-source`: a free-form caller name; [`DEFAULT_SDK_SOURCE`] when `None`.
    pub caller_sdk_source: Option<String>,
    /// `x-acs-roleid`.
    pub role_id: Option<String>,
    /// `x-acs-userid`.
    pub user_id: Option<String>,
}

impl AsapiHeaders {
    /// `self`, with each unset value taken from `defaults`.
    fn or(&self, defaults: &AsapiHeaders) -> AsapiHeaders {
        let pick = |a: &Option<String>, b: &Option<String>| a.clone().or_else(|| b.clone());
        AsapiHeaders {
            region_id: pick(&self.region_id, &defaults.region_id),
            organization_id: pick(&self.organization_id, &defaults.organization_id),
            resource_group_id: pick(&self.resource_group_id, &defaults.resource_group_id),
            instance_id: pick(&self.instance_id, &defaults.instance_id),
            caller_sdk_source: pick(&self.caller_sdk_source, &defaults.caller_sdk_source),
            role_id: pick(&self.role_id, &defaults.role_id),
            user_id: pick(&self.user_id, &defaults.user_id),
        }
    }

    /// The headers to send for a call in `region_id`.
    fn to_pairs(&self, region_id: &str) -> Vec<(String, String)> {
        use header_names as h;
        let source = self.caller_sdk_source.as_deref().unwrap_or(DEFAULT_SDK_SOURCE);
        let mut out = vec![
            (h::CALLER_SDK_SOURCE, Some(source)),
            (h::REGION_ID, Some(self.region_id.as_deref().unwrap_or(region_id))),
            (h::ORGANIZATION_ID, self.organization_id.as_deref()),
            (h::RESOURCE_GROUP_ID, self.resource_group_id.as_deref()),
            (h::INSTANCE_ID, self.instance_id.as_deref()),
            (h::ROLE_ID, self.role_id.as_deref()),
            (h::USER_ID, self.user_id.as_deref()),
        ];
        out.retain(|(_, v)| v.is_some_and(|v| !v.is_empty()));
        out.into_iter().map(|(k, v)| (k.to_owned(), v.unwrap_or_default().to_owned())).collect()
    }
}

/// Configuration of an [`AsapiClient`].
#[derive(Debug, Clone)]
pub struct AsapiConfig {
    /// `https://public.asapi.{region}.{internet-domain}/asapi/v3` (docs/asapi.md §1); `https://`
    /// is assumed without a scheme, as the guide's SDK samples write it.
    pub endpoint: String,
    /// `AccessKeyId` and the secret that signs; an STS token is sent as `SecurityToken`.
    pub credentials: Credentials,
    /// `RegionId` of every call unless the request names another.
    pub region_id: String,
    /// HMAC-SHA1 (the default, as in the guide's worked example) or HMAC-SHA256.
    pub signature_method: SignatureMethod,
    /// POST (the default, recommended by the guide) or GET, unless the request says otherwise.
    pub method: HttpMethod,
    /// Headers of every call; a request's own headers win.
    pub headers: AsapiHeaders,
    pub http: HttpOptions,
}

impl AsapiConfig {
    pub fn new(endpoint: impl Into<String>, credentials: Credentials, region_id: impl Into<String>) -> Self {
        AsapiConfig {
            endpoint: endpoint.into(),
            credentials,
            region_id: region_id.into(),
            signature_method: SignatureMethod::HmacSha1,
            method: HttpMethod::Post,
            headers: AsapiHeaders::default(),
            http: HttpOptions::default(),
        }
    }
}

/// One ASAPI call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AsapiRequest {
    pub product: String,
    pub action: String,
    pub version: String,
    /// The API's own parameters; ones named like a common parameter are ignored.
    pub params: BTreeMap<String, String>,
    /// The client's method when `None`.
    pub method: Option<HttpMethod>,
    /// The client's region when `None`.
    pub region_id: Option<String>,
    /// Headers of this call, over the client's.
    pub headers: AsapiHeaders,
}

impl AsapiRequest {
    pub fn new(product: impl Into<String>, action: impl Into<String>, version: impl Into<String>) -> Self {
        AsapiRequest { product: product.into(), action: action.into(), version: version.into(), ..Default::default() }
    }

    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.insert(name.into(), value.into());
        self
    }

    pub fn method(mut self, method: HttpMethod) -> Self {
        self.method = Some(method);
        self
    }
}

/// A signed call as it goes on the wire. `Debug` masks the signature.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedAsapiCall {
    pub method: HttpMethod,
    /// Path and query relative to the endpoint's host (`/asapi/v3/?...` for a GET).
    pub path_and_query: String,
    /// The form body of a POST.
    pub body: Option<String>,
    pub headers: Vec<(String, String)>,
}

impl fmt::Debug for SignedAsapiCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedAsapiCall")
            .field("method", &self.method)
            .field("path_and_query", &mask_signature(&self.path_and_query))
            .field("body", &self.body.as_deref().map(mask_signature))
            .field("headers", &self.headers)
            .finish()
    }
}

/// `encoded` with the value of its `Signature` parameter replaced by `***`.
fn mask_signature(encoded: &str) -> String {
    let (head, query) = match encoded.split_once('?') {
        Some((path, query)) => (format!("{path}?"), query),
        None => (String::new(), encoded),
    };
    let masked: Vec<&str> =
        query.split('&').map(|pair| if pair.starts_with("Signature=") { "Signature=***" } else { pair }).collect();
    format!("{head}{}", masked.join("&"))
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq)]
pub struct AsapiResponse {
    pub http_status: u16,
    pub request_id: Option<String>,
    /// `eagleEyeTraceId`, the gateway's trace id.
    pub eagle_eye_trace_id: Option<String>,
    /// The whole JSON object.
    pub body: Map<String, Value>,
}

impl AsapiResponse {
    /// The body as a typed value.
    pub fn to_typed<T: DeserializeOwned>(&self) -> Result<T> {
        T::deserialize(&Value::Object(self.body.clone()))
            .map_err(|e| Error::protocol(format!("ASAPI answer does not have the expected shape: {e}")))
    }
}

/// An ASAPI error code: the one the guide shows (docs/asapi.md §6), or any other as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AsapiErrorCode {
    /// `asapi.server.api.notfound`: no such Product/Action/Version on the gateway.
    ApiNotFound,
    Other(String),
}

impl AsapiErrorCode {
    pub fn parse(code: &str) -> AsapiErrorCode {
        match code {
            "asapi.server.api.notfound" => AsapiErrorCode::ApiNotFound,
            other => AsapiErrorCode::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            AsapiErrorCode::ApiNotFound => "asapi.server.api.notfound",
            AsapiErrorCode::Other(code) => code,
        }
    }

    /// The code of an error returned by [`AsapiClient`], if the gateway sent one.
    pub fn of(error: &Error) -> Option<AsapiErrorCode> {
        error.api_code().map(AsapiErrorCode::parse)
    }
}

/// Client of an ASAPI gateway. Cheap to clone; every call opens its own connection.
#[derive(Clone)]
pub struct AsapiClient {
    endpoint: Endpoint,
    credentials: Credentials,
    region_id: String,
    signature_method: SignatureMethod,
    method: HttpMethod,
    headers: AsapiHeaders,
    http: HttpClient,
}

impl fmt::Debug for AsapiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsapiClient")
            .field("endpoint", &self.endpoint.to_string())
            .field("credentials", &self.credentials)
            .field("region_id", &self.region_id)
            .field("signature_method", &self.signature_method)
            .field("method", &self.method)
            .field("headers", &self.headers)
            .finish()
    }
}

impl AsapiClient {
    pub fn new(config: AsapiConfig) -> Result<AsapiClient> {
        Self::build(config, HttpClient::new)
    }

    /// As [`AsapiClient::new`], reading proxy variables through `env`.
    pub fn with_env(config: AsapiConfig, env: impl Fn(&str) -> Option<String>) -> Result<AsapiClient> {
        Self::build(config, |http| HttpClient::with_env(http, env))
    }

    fn build(config: AsapiConfig, http: impl FnOnce(&HttpOptions) -> Result<HttpClient>) -> Result<AsapiClient> {
        let endpoint = Endpoint::parse("ASAPI endpoint", &config.endpoint, Scheme::Https)?;
        check_credentials(&config.credentials, "ASAPI")?;
        if config.region_id.trim().is_empty() {
            return Err(Error::invalid_config("ASAPI region_id is empty"));
        }
        Ok(AsapiClient {
            endpoint,
            credentials: config.credentials,
            region_id: config.region_id,
            signature_method: config.signature_method,
            method: config.method,
            headers: config.headers,
            http: http(&config.http)?,
        })
    }

    /// Signs and sends `request`.
    pub async fn call(&self, request: &AsapiRequest) -> Result<AsapiResponse> {
        let signed = self.sign(request, SystemTime::now(), &new_nonce())?;
        let http_request = HttpRequest {
            method: match signed.method {
                HttpMethod::Get => hyper::Method::GET,
                HttpMethod::Post => hyper::Method::POST,
            },
            path_and_query: signed.path_and_query,
            headers: signed.headers,
            body: signed.body.map(|b| ("application/x-www-form-urlencoded; charset=UTF-8", b.into_bytes())),
        };
        let what = format!("{}.{}", request.product, request.action);
        let response = self.http.send(&self.endpoint, http_request).await?;
        parse_response(&what, response.status, &response.body)
    }

    /// [`AsapiClient::call`], then the body as `T`.
    pub async fn call_typed<T: DeserializeOwned>(&self, request: &AsapiRequest) -> Result<T> {
        self.call(request).await?.to_typed()
    }

    /// The call as it would be sent with this `timestamp` and `nonce` (the gateway refuses a
    /// nonce it has seen: outside tests use [`AsapiClient::call`]).
    pub fn sign(&self, request: &AsapiRequest, timestamp: SystemTime, nonce: &str) -> Result<SignedAsapiCall> {
        for (name, value) in [("Product", &request.product), ("Action", &request.action), ("Version", &request.version)]
        {
            if value.trim().is_empty() || value.chars().any(char::is_whitespace) {
                return Err(Error::invalid_argument(format!(
                    "ASAPI request: {name} {value:?} must be non-empty, without spaces"
                )));
            }
        }
        if request.params.keys().any(|k| k.is_empty()) {
            return Err(Error::invalid_argument("ASAPI request: a parameter has an empty name"));
        }
        let region = request.region_id.as_deref().unwrap_or(&self.region_id);
        if region.trim().is_empty() {
            return Err(Error::invalid_argument("ASAPI request: RegionId is empty"));
        }
        let method = request.method.unwrap_or(self.method);
        let pop = PopRequest {
            method,
            signature_method: self.signature_method,
            product: request.product.clone(),
            action: request.action.clone(),
            version: request.version.clone(),
            region_id: region.to_owned(),
            params: request.params.clone(),
        };
        let encoded = pop.sign(&self.credentials, timestamp, nonce).query_string();
        let path = format!("{}/", self.endpoint.base_path);
        let (path_and_query, body) = match method {
            HttpMethod::Get => (format!("{path}?{encoded}"), None),
            HttpMethod::Post => (path, Some(encoded)),
        };
        let headers = request.headers.or(&self.headers).to_pairs(region);
        if let Some((name, _)) = headers.iter().find(|(_, v)| v.chars().any(|c| c.is_control())) {
            return Err(Error::invalid_argument(format!("ASAPI header {name} contains a control character")));
        }
        Ok(SignedAsapiCall { method, path_and_query, body, headers })
    }
}

/// Decodes an answer to `what` (`Product.Action`).
pub(crate) fn parse_response(what: &str, status: u16, body: &[u8]) -> Result<AsapiResponse> {
    let http_ok = (200..300).contains(&status);
    let obj = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(obj)) => obj,
        _ if !http_ok => return Err(Error::api(None, format!("ASAPI {what}: HTTP {status}: {}", excerpt(body)))),
        _ => return Err(Error::protocol(format!("ASAPI {what}: the answer is not a JSON object: {}", excerpt(body)))),
    };
    let request_id = text(field(&obj, &["RequestId", "requestId"]));
    // The guide's examples spell it `eagleEyeTracelId`, which looks like a typo of the usual name.
    let trace_id = text(field(&obj, &["eagleEyeTraceId", "eagleEyeTracelId"]));
    let success = field(&obj, &["asapiSuccess"]).and_then(super::open_api::responses::to_bool);
    if http_ok && success != Some(false) {
        return Ok(AsapiResponse { http_status: status, request_id, eagle_eye_trace_id: trace_id, body: obj });
    }
    let code = text(field(&obj, &["asapiErrorCode", "code", "Code"]));
    let message = text(field(&obj, &["asapiErrorMessage", "message", "Message"]));
    let mut out = format!("ASAPI {what} failed");
    for part in [&code, &message].into_iter().flatten() {
        out.push_str(&format!(": {part}"));
    }
    let ids: Vec<String> = [
        ("RequestId", &request_id),
        ("eagleEyeTraceId", &trace_id),
        ("hostId", &text(field(&obj, &["hostId", "HostId"]))),
    ]
    .into_iter()
    .filter_map(|(name, v)| v.as_ref().map(|v| format!("{name} {v}")))
    .collect();
    if !ids.is_empty() {
        out.push_str(&format!(" [{}]", ids.join(", ")));
    }
    if !http_ok {
        out.push_str(&format!(" (HTTP {status})"));
    }
    Err(Error::api(code, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use std::time::{Duration, UNIX_EPOCH};

    // The envelopes of docs/asapi.md §6.
    const SEED_OK: &str = r#"{
      "eagleEyeTracelId": "xxx-xxx-xxx-xxx",
      "asapiSuccess": true,
      "RequestId": "xxxxxxxxxx",
      "Regions": {"Region": [{"RegionId": "", "RegionEndpoint": "", "LocalName": ""}]}
    }"#;
    const SEED_ERROR: &str = r#"{
      "code": "asapi.server.api.notfound",
      "eagleEyeTracelId": "xxx-xxx-xxx-xxx",
      "asapiSuccess": false,
      "hostId": "xxxx",
      "message": "Failed to ....",
      "asapiErrorMessage": "Failed to ....",
      "asapiErrorCode": "asapi.server.api.notfound"
    }"#;

    fn client(method: HttpMethod, headers: AsapiHeaders) -> AsapiClient {
        let mut config = AsapiConfig::new(
            "https://public.asapi.aliyuns.com/asapi/v3",
            Credentials::new("testid", "testsecret"),
            "cn-region-test",
        );
        config.method = method;
        config.headers = headers;
        config.http.proxy = crate::http::ProxyOptions::Direct;
        AsapiClient::new(config).unwrap()
    }

    fn seed_time() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_600_159_840)
    }

    #[test]
    fn seed_get_organization_list_url() {
        let req = AsapiRequest::new("ascm", "GetOrganizationList", "2019-05-10").param("Id", "1");
        let signed = client(HttpMethod::Get, AsapiHeaders::default())
            .sign(&req, seed_time(), "43967c6e-e3ad-44fa-b06b-fcf3db5f39d2")
            .unwrap();
        // The guide's URL (docs/asapi.md §3.4) plus the signature, computed (the guide's printed
        // values are not the HMAC of its own string).
        assert_eq!(
            signed.path_and_query,
            "/asapi/v3/?AccessKeyId=testid&Action=GetOrganizationList&Format=JSON&Id=1&Product=ascm\
             &RegionId=cn-region-test&SignatureMethod=HMAC-SHA1&SignatureNonce=43967c6e-e3ad-44fa-b06b-fcf3db5f39d2\
             &SignatureVersion=1.0&Timestamp=2020-09-15T08%3A50%3A40Z&Version=2019-05-10\
             &Signature=SESmLeA1gWPMIq%2BzlI%2FWQY95%2F60%3D"
        );
        assert_eq!(signed.body, None);
        let printed = format!("{signed:?}");
        assert!(printed.contains("&Signature=***\"") && !printed.contains("SESmLeA1"), "{printed}");
        assert_eq!(
            signed.headers,
            [("x-acs-caller-sdk-source", "rocketmq-ons"), ("x-acs-regionid", "cn-region-test")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn post_sends_a_form_and_all_headers() {
        let defaults = AsapiHeaders {
            organization_id: Some("org-1".into()),
            resource_group_id: Some("rg-1".into()),
            caller_sdk_source: Some("my-tool".into()),
            role_id: Some("role".into()),
            user_id: Some("user".into()),
            ..Default::default()
        };
        let mut req = AsapiRequest::new("ascm", "GetOrganizationList", "2019-05-10").param("Id", "1");
        req.headers.instance_id = Some("i-1".into());
        req.headers.region_id = Some("cn-other".into());
        let signed = client(HttpMethod::Post, defaults).sign(&req, seed_time(), "n").unwrap();
        assert_eq!(signed.path_and_query, "/asapi/v3/");
        let body = signed.body.clone().unwrap();
        assert!(body.starts_with("AccessKeyId=testid&Action=GetOrganizationList&"), "{body}");
        assert!(body.contains("&SignatureNonce=n&") && body.contains("&Signature="), "{body}");
        assert!(format!("{signed:?}").contains("&Signature=***"));
        let names: Vec<&str> = signed.headers.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "x-acs-caller-sdk-source",
                "x-acs-regionid",
                "x-acs-organizationid",
                "x-acs-resourcegroupid",
                "x-acs-instanceid",
                "x-acs-roleid",
                "x-acs-userid"
            ]
        );
        assert_eq!(signed.headers[0].1, "my-tool");
        assert_eq!(signed.headers[1].1, "cn-other");
    }

    #[test]
    fn bad_requests() {
        let c = client(HttpMethod::Get, AsapiHeaders::default());
        let err = c.sign(&AsapiRequest::new("", "A", "1"), seed_time(), "n").unwrap_err();
        assert!(err.message().contains("Product"), "{err}");
        let err = c.sign(&AsapiRequest::new("p", "A B", "1"), seed_time(), "n").unwrap_err();
        assert!(err.message().contains("Action"), "{err}");
        let mut req = AsapiRequest::new("p", "A", "1");
        req.headers.user_id = Some("u\r\nX-Evil: 1".into());
        let err = c.sign(&req, seed_time(), "n").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.message().contains("x-acs-userid"), "{err}");
    }

    #[test]
    fn seed_envelopes() {
        let ok = parse_response("ecs.DescribeRegions", 200, SEED_OK.as_bytes()).unwrap();
        assert_eq!(ok.request_id.as_deref(), Some("xxxxxxxxxx"));
        assert_eq!(ok.eagle_eye_trace_id.as_deref(), Some("xxx-xxx-xxx-xxx"));
        #[derive(serde::Deserialize)]
        struct Regions {
            #[serde(rename = "Regions")]
            regions: Value,
        }
        assert!(ok.to_typed::<Regions>().unwrap().regions.get("Region").is_some());

        let err = parse_response("ascm.X", 200, SEED_ERROR.as_bytes()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Api);
        assert_eq!(AsapiErrorCode::of(&err), Some(AsapiErrorCode::ApiNotFound));
        assert_eq!(
            err.message(),
            "ASAPI ascm.X failed: asapi.server.api.notfound: Failed to .... \
             [eagleEyeTraceId xxx-xxx-xxx-xxx, hostId xxxx]"
        );
        let err =
            parse_response("p.A", 400, br#"{"Code":"InvalidParameter","Message":"bad","RequestId":"r"}"#).unwrap_err();
        assert_eq!(AsapiErrorCode::of(&err), Some(AsapiErrorCode::Other("InvalidParameter".into())));
        assert!(err.message().ends_with("[RequestId r] (HTTP 400)"), "{err}");
        let err = parse_response("p.A", 503, b"busy").unwrap_err();
        assert_eq!((err.kind(), err.api_code()), (ErrorKind::Api, None));
        assert_eq!(parse_response("p.A", 200, b"busy").unwrap_err().kind(), ErrorKind::Protocol);
    }

    #[test]
    fn debug_hides_the_secret() {
        let printed = format!("{:?}", client(HttpMethod::Get, AsapiHeaders::default()));
        assert!(printed.contains("testid") && !printed.contains("testsecret"), "{printed}");
    }
}
