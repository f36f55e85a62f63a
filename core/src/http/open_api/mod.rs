//! The RocketMQ Open API client: the console's HTTP management API (docs/open-api.md, from the
//! Apsara Stack developer guide).
//!
//! Every call is an HTTPS `GET` of `{endpoint}/json/...` with all parameters in the query, as
//! the guide's only call example shows: the API's own parameters, then the common ones
//! (`_accesskey`, `__preventCache` = now in ms, `_regionId` = `mq-private` unless configured,
//! `_platform` = `onsConsole`) and `_signature` (see [`crate::auth::open_api`]). Values are
//! percent-encoded as RFC 3986 unreserved characters, so a signature's `+`, `=` and `/`
//! travel as `%2B`, `%3D` and `%2F`, which the guide says the server requires (§4).
//!
//! The answer is the envelope of §5 (`code`, `success`, `message`, `data`, `requestId`,
//! paging fields); `code` 200 with `success` true is a success, anything else an
//! [`ErrorKind::Api`](crate::ErrorKind::Api) error whose [`Error::api_code`] holds the error
//! code of §6 ([`OpenApiErrorCode::of`] types it). The guide does not say which envelope
//! field carries that code on failure: a non-numeric `code`, then `dynamicCode`, then `status`,
//! then `message` are looked at, preferring a documented code. `data` is decoded into the
//! request's typed `Data`; the guide also says `data` may arrive as a string holding JSON,
//! which is decoded too.
//!
//! This module owns the client, its configuration and the envelope; `requests` the typed
//! requests and their checks, `responses` the typed `data`, `error_code` the error codes.
//!
//! The real consoles are not reachable from the build and test machines: the tests run the
//! client against a local HTTPS server that recomputes every signature independently and
//! answers with the guide's envelopes.

pub mod error_code;
pub mod requests;
pub mod responses;

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

pub use error_code::OpenApiErrorCode;
pub use requests::*;
pub use responses::*;

use super::transport::{HttpClient, HttpOptions, HttpRequest};
use super::url::{Endpoint, Scheme};
use crate::auth::open_api::{signed_params, CommonParams, DEFAULT_PLATFORM, DEFAULT_REGION_ID};
use crate::auth::pop::percent_encode;
use crate::auth::Credentials;
use crate::error::{Error, Result};

/// Configuration of an [`OpenApiClient`].
#[derive(Debug, Clone)]
pub struct OpenApiConfig {
    /// The console, e.g. `https://mq.console.example.com` (see
    /// [`OpenApiConfig::console_endpoint`]); `https://` is assumed without a scheme.
    pub endpoint: String,
    /// `_accesskey` and the secret that signs.
    pub credentials: Credentials,
    /// `_regionId`; `mq-private` for dedicated deployments, per docs/open-api.md §3.
    pub region_id: String,
    /// `_platform`; `None` leaves it out.
    pub platform: Option<String>,
    pub http: HttpOptions,
}

impl OpenApiConfig {
    /// The guide's defaults (docs/open-api.md §3): region `mq-private`, platform `onsConsole`;
    /// default HTTP options.
    pub fn new(endpoint: impl Into<String>, credentials: Credentials) -> Self {
        OpenApiConfig {
            endpoint: endpoint.into(),
            credentials,
            region_id: DEFAULT_REGION_ID.to_owned(),
            platform: Some(DEFAULT_PLATFORM.to_owned()),
            http: HttpOptions::default(),
        }
    }

    /// The console address of docs/open-api.md §2: `https://mq.console.{internet_domain}` for a
    /// single-region deployment or the central region, `https://mq.console.{region}.{internet_domain}`
    /// for another region of a multi-region deployment.
    pub fn console_endpoint(internet_domain: &str, region: Option<&str>) -> String {
        match region {
            Some(region) => format!("https://mq.console.{region}.{internet_domain}"),
            None => format!("https://mq.console.{internet_domain}"),
        }
    }
}

/// A decoded Open API answer: the typed `data` and the envelope's other fields.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse<T> {
    pub data: T,
    pub code: Option<i64>,
    pub message: Option<String>,
    pub request_id: Option<String>,
    /// Paging fields; meaningful for paged queries only.
    pub current_page: Option<i64>,
    pub page_size: Option<i64>,
    pub total: Option<i64>,
}

impl<T> ApiResponse<T> {
    pub fn into_data(self) -> T {
        self.data
    }
}

/// Client of the Open API. Cheap to clone; every call opens its own connection.
#[derive(Clone)]
pub struct OpenApiClient {
    endpoint: Endpoint,
    credentials: Credentials,
    common: CommonParams,
    http: HttpClient,
}

impl fmt::Debug for OpenApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenApiClient")
            .field("endpoint", &self.endpoint.to_string())
            .field("credentials", &self.credentials)
            .field("common", &self.common)
            .finish()
    }
}

impl OpenApiClient {
    /// Checks the configuration, loads the TLS roots and resolves the proxy.
    pub fn new(config: OpenApiConfig) -> Result<OpenApiClient> {
        Self::build(config, HttpClient::new)
    }

    /// As [`OpenApiClient::new`], reading proxy variables through `env` instead of the process
    /// environment (for embedding applications and tests).
    pub fn with_env(config: OpenApiConfig, env: impl Fn(&str) -> Option<String>) -> Result<OpenApiClient> {
        Self::build(config, |http| HttpClient::with_env(http, env))
    }

    fn build(config: OpenApiConfig, http: impl FnOnce(&HttpOptions) -> Result<HttpClient>) -> Result<OpenApiClient> {
        let endpoint = Endpoint::parse("Open API endpoint", &config.endpoint, Scheme::Https)?;
        check_credentials(&config.credentials, "Open API")?;
        if config.region_id.trim().is_empty() {
            return Err(Error::invalid_config("Open API region_id is empty (the default is mq-private)"));
        }
        Ok(OpenApiClient {
            endpoint,
            credentials: config.credentials,
            common: CommonParams { region_id: Some(config.region_id), platform: config.platform },
            http: http(&config.http)?,
        })
    }

    /// Sends `request` and decodes its answer.
    pub async fn send<R: OpenApiRequest>(&self, request: &R) -> Result<ApiResponse<R::Data>> {
        let query = self.signed_query(request, now_ms())?;
        let response = self.get(R::PATH, query).await?;
        parse_response(R::PATH, response.0, &response.1, R::DATA_WRAPPERS)
    }

    /// Calls any path with the given API parameters (common parameters and signature are
    /// added), for endpoints docs/open-api.md §7 does not list or parameters it spells differently.
    pub async fn call_raw(&self, path: &str, params: &[(&str, &str)]) -> Result<ApiResponse<Value>> {
        if !path.starts_with('/') || path.contains(['?', '#']) || path.chars().any(|c| c.is_whitespace()) {
            return Err(Error::invalid_argument(format!("Open API path {path:?} must start with / and have no query")));
        }
        let signed = signed_params(&self.credentials, &self.common, params, now_ms());
        let response = self.get(path, encode_query(&signed)).await?;
        parse_response(path, response.0, &response.1, &[])
    }

    /// The percent-encoded, signed query string of `request` with `__preventCache` =
    /// `prevent_cache_ms`: what [`OpenApiClient::send`] puts after `?`. It holds the access key
    /// and a signature: do not log it.
    pub fn signed_query<R: OpenApiRequest>(&self, request: &R, prevent_cache_ms: u64) -> Result<String> {
        let params = request.to_params()?;
        let common = match request.region() {
            RegionParam::Client => self.common.clone(),
            RegionParam::Omit => CommonParams { region_id: None, ..self.common.clone() },
            RegionParam::Given(region) => CommonParams { region_id: Some(region.to_owned()), ..self.common.clone() },
        };
        Ok(encode_query(&signed_params(&self.credentials, &common, &params, prevent_cache_ms)))
    }

    async fn get(&self, path: &str, query: String) -> Result<(u16, bytes::Bytes)> {
        let request = HttpRequest {
            method: hyper::Method::GET,
            path_and_query: format!("{}{path}?{query}", self.endpoint.base_path),
            headers: Vec::new(),
            body: None,
        };
        let response = self.http.send(&self.endpoint, request).await?;
        Ok((response.status, response.body))
    }
}

/// A configuration error unless both halves of the key pair are there.
pub(crate) fn check_credentials(credentials: &Credentials, api: &str) -> Result<()> {
    if credentials.access_key.trim().is_empty() || credentials.secret_key.is_empty() {
        return Err(Error::invalid_config(format!("{api} credentials need an access key and a secret key")));
    }
    Ok(())
}

fn now_ms() -> u64 {
    u64::try_from(crate::message::now_ms()).unwrap_or(0)
}

fn encode_query(params: &[(String, String)]) -> String {
    let pairs: Vec<String> =
        params.iter().map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v))).collect();
    pairs.join("&")
}

/// A short, printable excerpt of a body that is not the expected JSON.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    let mut out: String = text.chars().filter(|c| !c.is_control()).collect();
    if body.len() > 200 {
        out.push_str("...");
    }
    out
}

/// The first of `names` present in `obj`.
pub(crate) fn field<'a>(obj: &'a Map<String, Value>, names: &[&str]) -> Option<&'a Value> {
    names.iter().find_map(|n| obj.get(*n)).filter(|v| !v.is_null())
}

pub(crate) fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Decodes an answer of `path` (HTTP `status`, `body`) into the envelope and typed `data`.
pub(crate) fn parse_response<T: DeserializeOwned>(
    path: &str,
    status: u16,
    body: &[u8],
    wrappers: &[&str],
) -> Result<ApiResponse<T>> {
    let http_ok = (200..300).contains(&status);
    let obj = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(obj)) => obj,
        Ok(_) | Err(_) if !http_ok => {
            return Err(Error::api(None, format!("Open API {path}: HTTP {status}: {}", excerpt(body))));
        }
        Ok(_) => {
            return Err(Error::protocol(format!("Open API {path}: the answer is not a JSON object: {}", excerpt(body))))
        }
        Err(e) => {
            return Err(Error::protocol(format!("Open API {path}: the answer is not JSON ({e}): {}", excerpt(body))))
        }
    };
    let code_value = field(&obj, &["code", "Code"]);
    let code = code_value.and_then(responses::to_i64);
    let success = field(&obj, &["success", "Success"]).and_then(responses::to_bool);
    let message = text(field(&obj, &["message", "Message"]));
    let request_id = text(field(&obj, &["requestId", "RequestId"]));
    let ok = http_ok
        && match (success, code) {
            (Some(false), _) => false,
            (_, Some(code)) => code == 200,
            (Some(true), None) => code_value.is_none(),
            (None, None) => false,
        };
    if !ok {
        return Err(api_error(path, status, &obj, code, message, request_id));
    }
    let mut data = field(&obj, &["data", "Data"]).cloned().unwrap_or(Value::Null);
    if let Value::Object(inner) = &mut data {
        if let Some(unwrapped) = wrappers.iter().find_map(|w| inner.remove(*w)) {
            data = unwrapped;
        }
    }
    let data = decode_data::<T>(&data).map_err(|e| {
        Error::protocol(format!("Open API {path}: unexpected data ({e}): {}", excerpt(data.to_string().as_bytes())))
    })?;
    Ok(ApiResponse {
        data,
        code,
        message,
        request_id,
        current_page: field(&obj, &["currentPage", "CurrentPage"]).and_then(responses::to_i64),
        page_size: field(&obj, &["pageSize", "PageSize"]).and_then(responses::to_i64),
        total: field(&obj, &["total", "Total"]).and_then(responses::to_i64),
    })
}

/// `data` as `T`, also when it is a string holding JSON (docs/open-api.md §5), a single object
/// where a list is expected, or absent where a list or an all-optional object is expected.
fn decode_data<T: DeserializeOwned>(data: &Value) -> std::result::Result<T, serde_json::Error> {
    let first = T::deserialize(data);
    if first.is_ok() {
        return first;
    }
    let fallback = match data {
        Value::String(s) => serde_json::from_str::<Value>(s).ok().and_then(|inner| decode_data(&inner).ok()),
        Value::Object(_) => T::deserialize(&Value::Array(vec![data.clone()])).ok(),
        Value::Null => {
            T::deserialize(&Value::Array(Vec::new())).or_else(|_| T::deserialize(&Value::Object(Map::new()))).ok()
        }
        _ => None,
    };
    fallback.map_or(first, Ok)
}

fn api_error(
    path: &str,
    status: u16,
    obj: &Map<String, Value>,
    code: Option<i64>,
    message: Option<String>,
    request_id: Option<String>,
) -> Error {
    let dynamic_message = text(field(obj, &["dynamicMessage", "DynamicMessage"]));
    // Where the error code travels on failure is not documented: a non-numeric `code`, then
    // `dynamicCode`, `status` and `message` are candidates, and a code of the table of
    // docs/open-api.md §6 wins.
    let code_text = text(field(obj, &["code", "Code"])).filter(|c| c.parse::<i64>().is_err());
    let dynamic_code = text(field(obj, &["dynamicCode", "DynamicCode"]));
    let status_text = text(field(obj, &["status", "Status"]));
    let documented = [&code_text, &dynamic_code, &status_text, &message]
        .into_iter()
        .flatten()
        .map(|c| c.trim())
        .find(|c| !matches!(OpenApiErrorCode::parse(c), OpenApiErrorCode::Other(_)))
        .map(str::to_owned);
    let api_code = documented.or(code_text).or(dynamic_code);

    let mut text = format!("Open API {path} failed");
    if let Some(c) = &api_code {
        text.push_str(&format!(": {c}"));
    }
    if let Some(c) = code {
        text.push_str(&format!(" (code {c})"));
    }
    for m in [&message, &dynamic_message].into_iter().flatten() {
        if Some(m) != api_code.as_ref() {
            text.push_str(&format!(": {m}"));
        }
    }
    if let Some(id) = request_id {
        text.push_str(&format!(" [requestId {id}]"));
    }
    if !(200..300).contains(&status) {
        text.push_str(&format!(" (HTTP {status})"));
    }
    Error::api(api_code, text)
}

/// The named methods, one per endpoint of docs/open-api.md §7; each is [`OpenApiClient::send`].
macro_rules! endpoints {
    ($($(#[$meta:meta])* $method:ident($request:ty);)*) => {
        impl OpenApiClient {
            $(
                $(#[$meta])*
                pub async fn $method(&self, request: &$request) -> Result<ApiResponse<<$request as OpenApiRequest>::Data>> {
                    self.send(request).await
                }
            )*
        }
    };
}

endpoints! {
    /// `/json/region/list`
    region_list(RegionListRequest);
    /// `/json/cluster/list`
    cluster_list(ClusterListRequest);
    /// `/json/vpcTunnel/tunnelSwitch`
    vpc_tunnel_switch(TunnelSwitchRequest);
    /// `/json/instance/baseInfo`
    instance_base_info(InstanceBaseInfoRequest);
    /// `/json/instance/create`
    instance_create(InstanceCreateRequest);
    /// `/json/instance/delete`
    instance_delete(InstanceDeleteRequest);
    /// `/json/instance/list`
    instance_list(InstanceListRequest);
    /// `/json/instance/update`
    instance_update(InstanceUpdateRequest);
    /// `/json/topic/create`
    topic_create(TopicCreateRequest);
    /// `/json/topic/delete`
    topic_delete(TopicDeleteRequest);
    /// `/json/topic/get`
    topic_get(TopicGetRequest);
    /// `/json/topic/listInPage`
    topic_list_in_page(TopicListInPageRequest);
    /// `/json/topic/update`
    topic_update(TopicUpdateRequest);
    /// `/json/topic/listNames`
    topic_list_names(TopicListNamesRequest);
    /// `/json/topic/subDetail`
    topic_sub_detail(TopicSubDetailRequest);
    /// `/json/group/create`
    group_create(GroupCreateRequest);
    /// `/json/group/delete`
    group_delete(GroupDeleteRequest);
    /// `/json/group/list`
    group_list(GroupListRequest);
    /// `/json/group/subDetail`
    group_sub_detail(GroupSubDetailRequest);
    /// `/json/group/consumerUpdate`
    group_consumer_update(GroupConsumerUpdateRequest);
    /// `/json/consumer/accumulate`
    consumer_accumulate(ConsumerAccumulateRequest);
    /// `/json/consumer/status`
    consumer_status(ConsumerStatusRequest);
    /// `/json/consumer/getConnection`
    consumer_connection(ConsumerConnectionRequest);
    /// `/json/consumer/timespan`
    consumer_timespan(ConsumerTimespanRequest);
    /// `/json/consumer/resetOffset`
    consumer_reset_offset(ConsumerResetOffsetRequest);
    /// `/json/message/trace`
    message_trace(MessageTraceRequest);
    /// `/json/message/getById`
    message_by_id(MessageByIdRequest);
    /// `/json/message/getByKey`
    message_by_key(MessageByKeyRequest);
    /// `/json/message/getByPagedTopic`
    message_by_topic(MessageByTopicRequest);
    /// `/json/trend/topicInputTps`
    trend_topic_input_tps(TopicInputTpsRequest);
    /// `/json/trend/groupOutputTps`
    trend_group_output_tps(GroupOutputTpsRequest);
    /// `/json/empower/create`
    empower_create(EmpowerCreateRequest);
    /// `/json/empower/createBySub`
    empower_create_by_sub(EmpowerCreateBySubRequest);
    /// `/json/empower/delete`
    empower_delete(EmpowerDeleteRequest);
    /// `/json/empower/list`
    empower_list(EmpowerListRequest);
    /// `/json/message/getByIdInDLQ`
    dlq_message_by_id(DlqMessageByIdRequest);
    /// `/json/message/getByPagedDLQ`
    dlq_messages(DlqMessagesRequest);
    /// `/json/message/resendByIdInDLQ`
    dlq_resend(DlqResendRequest);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    // The guide's example answer of topic/create (docs/open-api.md §5).
    const SEED_SUCCESS: &str = r#"{"code":200,"currentPage":0,"data":{},"dynamicCode":"","dynamicMessage":"","helpUrl":null,"message":"operation success","pageSize":0,"requestId":"","status":"SUCCESS","success":true,"total":0}"#;

    fn client() -> OpenApiClient {
        let mut config =
            OpenApiConfig::new("https://mq.console.example.com/", Credentials::new("ACCESSKEY_XXX", "SECRETKEY_XXX"));
        config.http.proxy = crate::http::ProxyOptions::Direct;
        OpenApiClient::new(config).unwrap()
    }

    #[test]
    fn guide_topic_create_query() {
        // The guide's example call (docs/open-api.md §4): topic=TOPIC_XXX at
        // __preventCache=1498029701000. (It also needs orderType, which its example leaves out;
        // call_raw-style parameters show the exact example, the typed request adds orderType.)
        struct SeedExample;
        impl OpenApiRequest for SeedExample {
            type Data = Value;
            const PATH: &'static str = "/json/topic/create";
            fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
                Ok(vec![("topic", "TOPIC_XXX".to_owned())])
            }
        }
        let query = client().signed_query(&SeedExample, 1498029701000).unwrap();
        assert_eq!(
            query,
            "__preventCache=1498029701000&_accesskey=ACCESSKEY_XXX&_platform=onsConsole&_regionId=mq-private\
             &topic=TOPIC_XXX&_signature=xC98URUblzkvvF49QPmT5gp8h0w%3D"
        );
        let typed = TopicCreateRequest {
            instance_id: None,
            topic: "TOPIC_XXX".into(),
            order_type: MessageType::Normal,
            remark: None,
        };
        let query = client().signed_query(&typed, 1498029701000).unwrap();
        let expected_sig = crate::auth::open_api::signature(
            [
                ("__preventCache", "1498029701000"),
                ("_accesskey", "ACCESSKEY_XXX"),
                ("_platform", "onsConsole"),
                ("_regionId", "mq-private"),
                ("orderType", "0"),
                ("topic", "TOPIC_XXX"),
            ],
            "SECRETKEY_XXX",
        );
        assert!(
            query.ends_with(&format!("&orderType=0&topic=TOPIC_XXX&_signature={}", percent_encode(&expected_sig))),
            "{query}"
        );
    }

    #[test]
    fn region_handling_per_endpoint() {
        let c = client();
        let q = c.signed_query(&RegionListRequest, 5).unwrap();
        assert!(!q.contains("_regionId"), "{q}");
        let q = c.signed_query(&ClusterListRequest { region_id: Some("cn-hangzhou".into()) }, 5).unwrap();
        assert!(q.contains("&_regionId=cn-hangzhou&"), "{q}");
        let q = c.signed_query(&ClusterListRequest::default(), 5).unwrap();
        assert!(q.contains("&_regionId=mq-private&"), "{q}");
        // Unicode and reserved characters are percent-encoded; the signature covers raw values.
        let q = c
            .signed_query(&MessageByKeyRequest { instance_id: None, topic: "T".into(), key: "k 1/中+".into() }, 5)
            .unwrap();
        assert!(q.contains("key=k%201%2F%E4%B8%AD%2B&"), "{q}");
    }

    #[test]
    fn seed_success_envelope() {
        let r: ApiResponse<Value> = parse_response("/json/topic/create", 200, SEED_SUCCESS.as_bytes(), &[]).unwrap();
        assert_eq!(
            (r.code, r.message.as_deref(), r.request_id, r.total),
            (Some(200), Some("operation success"), None, Some(0))
        );
        assert_eq!(r.data, serde_json::json!({}));
        // An all-optional struct or an empty list from `{}` / null.
        let r: ApiResponse<Vec<RegionInfo>> =
            parse_response("/json/region/list", 200, br#"{"code":200,"success":true,"data":null}"#, &[]).unwrap();
        assert!(r.data.is_empty());
    }

    #[test]
    fn data_as_json_string_single_object_and_wrappers() {
        let body =
            br#"{"code":200,"success":true,"data":"[{\"regionId\":\"cn-hangzhou\",\"regionName\":\"x\",\"id\":1}]"}"#;
        let r: ApiResponse<Vec<RegionInfo>> = parse_response("/json/region/list", 200, body, &[]).unwrap();
        assert_eq!(r.data[0].region_id.as_deref(), Some("cn-hangzhou"));
        let body = br#"{"code":"200","success":"true","data":{"topic":"T","orderType":2}}"#;
        let r: ApiResponse<Vec<TopicInfo>> = parse_response("/json/topic/get", 200, body, &[]).unwrap();
        assert_eq!(r.data[0].order_type, Some(2));
        let body = br#"{"code":200,"success":true,"data":{"InstanceBaseInfo":{"instanceId":"i","Endpoints":{"tcpEndpoint":"ns:9876"}}}}"#;
        let r: ApiResponse<InstanceBaseInfo> =
            parse_response("/json/instance/baseInfo", 200, body, InstanceBaseInfoRequest::DATA_WRAPPERS).unwrap();
        assert_eq!(r.data.endpoints.unwrap().tcp_endpoint.as_deref(), Some("ns:9876"));
        let body = br#"{"code":200,"success":true,"data":{"taskId":"t1","maxPageCount":3,"currentPage":1,"data":[{"msgId":"m"}]}}"#;
        let r: ApiResponse<MessagePage> = parse_response("/json/message/getByPagedTopic", 200, body, &[]).unwrap();
        assert_eq!((r.data.task_id.as_deref(), r.data.messages[0].msg_id.as_deref()), (Some("t1"), Some("m")));
        let bad = parse_response::<Vec<TopicName>>(
            "/json/topic/listNames",
            200,
            br#"{"code":200,"success":true,"data":[1]}"#,
            &[],
        );
        assert_eq!(bad.unwrap_err().kind(), ErrorKind::Protocol);
    }

    #[test]
    fn every_documented_error_code_is_typed() {
        for code in OpenApiErrorCode::DOCUMENTED {
            for body in [
                format!(r#"{{"code":"{code}","success":false,"message":"m","requestId":"r1"}}"#),
                format!(r#"{{"code":500,"dynamicCode":"{code}","success":false,"message":"m"}}"#),
                format!(r#"{{"code":400,"status":"{code}","success":false}}"#),
                format!(r#"{{"code":400,"success":false,"message":"{code}"}}"#),
            ] {
                let err = parse_response::<Value>("/json/topic/get", 200, body.as_bytes(), &[]).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::Api, "{body}");
                assert_eq!(OpenApiErrorCode::of(&err).as_ref(), Some(code), "{body}");
            }
        }
        let err = parse_response::<Value>(
            "/json/topic/get",
            200,
            br#"{"code":404,"success":false,"message":"topic not exist","dynamicCode":"BIZ_TOPIC_NOT_FOUND","dynamicMessage":"T1","requestId":"abc"}"#,
            &[],
        )
        .unwrap_err();
        assert_eq!(
            err.message(),
            "Open API /json/topic/get failed: BIZ_TOPIC_NOT_FOUND (code 404): topic not exist: T1 [requestId abc]"
        );
        // An unlisted code is kept as Other.
        let err = parse_response::<Value>("/p", 200, br#"{"code":"NEW_THING","success":false}"#, &[]).unwrap_err();
        assert_eq!(OpenApiErrorCode::of(&err), Some(OpenApiErrorCode::Other("NEW_THING".into())));
        // success true with another code, or neither field, is a failure too.
        for body in [r#"{"code":500,"success":true}"#, r#"{"data":{}}"#, r#"{"success":false,"code":200}"#] {
            let err = parse_response::<Value>("/p", 200, body.as_bytes(), &[]).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Api, "{body}");
        }
    }

    #[test]
    fn non_json_and_http_errors() {
        let err = parse_response::<Value>("/p", 502, b"<html>Bad gateway</html>", &[]).unwrap_err();
        assert_eq!((err.kind(), err.api_code()), (ErrorKind::Api, None));
        assert!(err.message().contains("HTTP 502") && err.message().contains("Bad gateway"), "{err}");
        let err = parse_response::<Value>("/p", 200, b"not json", &[]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        let err = parse_response::<Value>("/p", 200, b"[1]", &[]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        let err =
            parse_response::<Value>("/p", 403, br#"{"code":403,"success":false,"message":"denied"}"#, &[]).unwrap_err();
        assert!(err.message().ends_with("(code 403): denied (HTTP 403)"), "{err}");
    }

    #[test]
    fn config_checks_and_debug() {
        let bad = |c: OpenApiConfig| OpenApiClient::new(c).unwrap_err().message().to_owned();
        let creds = Credentials::new("ak", "topsecret");
        assert!(bad(OpenApiConfig::new("", creds.clone())).contains("endpoint"));
        assert!(bad(OpenApiConfig::new("https://x", Credentials::new("", "s"))).contains("access key"));
        assert!(bad(OpenApiConfig { region_id: " ".into(), ..OpenApiConfig::new("https://x", creds.clone()) })
            .contains("region_id"));
        let c = OpenApiClient::new(OpenApiConfig::new("mq.console.example.com", creds)).unwrap();
        let printed = format!("{c:?}");
        assert!(printed.contains("https://mq.console.example.com") && !printed.contains("topsecret"), "{printed}");
        assert_eq!(OpenApiConfig::console_endpoint("example.com", None), "https://mq.console.example.com");
        assert_eq!(
            OpenApiConfig::console_endpoint("example.com", Some("cn-r1")),
            "https://mq.console.cn-r1.example.com"
        );
    }
}
