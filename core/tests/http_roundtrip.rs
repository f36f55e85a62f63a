//! Round trips of the Open API and ASAPI clients against local HTTPS servers (the real consoles
//! and gateways are not reachable from here). The servers recompute every signature from the
//! documented rules (docs/open-api.md §4, docs/asapi.md §3) with their own code (`http_support`)
//! and answer with the documented envelopes (docs/open-api.md §5, docs/asapi.md §6).

mod http_support;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_support::*;
use rocketmq_ons::auth::pop::{HttpMethod, SignatureMethod};
use rocketmq_ons::auth::Credentials;
use rocketmq_ons::http::open_api::*;
use rocketmq_ons::http::{
    AsapiClient, AsapiConfig, AsapiErrorCode, AsapiHeaders, AsapiRequest, HttpOptions, ProxyOptions,
};
use rocketmq_ons::ErrorKind;
use serde_json::{json, Value};

const AK: &str = "ACCESSKEY_XXX";
const SK: &str = "SECRETKEY_XXX";

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

fn envelope(data: Value) -> String {
    // docs/open-api.md §5.
    json!({"code": 200, "currentPage": 0, "data": data, "dynamicCode": "", "dynamicMessage": "", "helpUrl": null,
           "message": "operation success", "pageSize": 0, "requestId": "req-1", "status": "SUCCESS", "success": true, "total": 0})
    .to_string()
}

fn message(pascal: bool) -> Value {
    let m = json!({"topic": "T1", "propertyList": [{"name": "TAGS", "value": "TagA"}], "body": "hello", "storeSize": 100,
                   "bornTimestamp": 1, "bornHost": "10.0.0.1:5000", "storeTimestamp": 2, "storeHost": "10.0.0.2:10911",
                   "msgId": "M1", "bodyCRC": 123, "reconsumeTimes": 0});
    if !pascal {
        return m;
    }
    let obj = m.as_object().unwrap().iter().map(|(k, v)| {
        let mut c = k.chars();
        let first = c.next().unwrap().to_ascii_uppercase();
        let v = if k == "propertyList" { json!([{"Name": "TAGS", "Value": "TagA"}]) } else { v.clone() };
        (format!("{first}{}", c.as_str()), v)
    });
    Value::Object(obj.collect())
}

/// The `data` the fake console answers for each documented path.
fn console_data(path: &str) -> Option<Value> {
    Some(match path {
        "/json/region/list" => json!([{"id": 1, "regionId": "cn-hangzhou", "regionName": "华东1（杭州）"}]),
        "/json/cluster/list" => {
            json!([{"regionId": "mq-private", "cluster": "c1", "createTime": "2021-04-25 10:00:00", "modifyTime": 1619316000000i64}])
        }
        "/json/vpcTunnel/tunnelSwitch" => json!("10.0.0.1:9876;10.0.0.2:9876"),
        "/json/instance/baseInfo" => {
            json!({"instanceId": "MQ_INST_1", "instanceName": "inst", "independentNaming": true,
            "Endpoints": {"tcpEndpoint": "http://ns.example:9876"}, "maxSendTps": 5000, "maxReceiveTps": 6000, "topicCapacity": 50})
        }
        "/json/instance/list" => {
            json!([{"instanceId": "MQ_INST_1", "instanceName": "inst", "namespaceRulesType": true}])
        }
        "/json/topic/get" | "/json/topic/listInPage" => {
            json!([{"topic": "T1", "owner": "1", "orderType": 0, "remark": "r", "status": 0}])
        }
        "/json/topic/listNames" => json!(["T1", "T2"]),
        "/json/topic/subDetail" => {
            json!({"topic": "T1", "SubscriptionDataList": [{"groupId": "GID_a", "subString": "*", "messageModel": "CLUSTERING"}]})
        }
        "/json/group/create" => json!({"remark": "r"}),
        "/json/group/list" => {
            json!([{"owner": "1", "instanceId": "MQ_INST_1", "groupId": "GID_a", "independentNaming": true, "remark": ""}])
        }
        "/json/group/subDetail" => json!({"groupId": "GID_a", "online": true, "messageModel": "BROADCASTING",
            "SubscriptionDataList": [{"topic": "T1", "subString": "TagA||TagB"}]}),
        "/json/consumer/accumulate" => {
            json!({"onLine": true, "totalDiff": 10, "consumeTps": 1.5, "lastTimestamp": 1, "delayTime": 2,
            "DetailInTopicList": [{"topic": "T1", "totalDiff": 10, "lastTimestamp": 1, "delayTime": 2}]})
        }
        "/json/consumer/status" => {
            json!({"online": true, "totalDiff": 3, "consumeTps": 7, "lastTimestamp": 1, "delayTime": 2,
            "consumeModel": "CLUSTERING", "subscriptionSame": true, "rebalanceOK": true,
            "ConnectionSet": [{"clientId": "c1", "clientAddr": "1.2.3.4:5", "language": "JAVA", "version": "V4_9_7", "remoteIP": "1.2.3.4"}],
            "DetailInTopicList": [], "ConsumerConnectionInfoList": [{"clientId": "c1", "connection": "x", "language": "JAVA",
                "version": "V4_9_7", "consumeModel": "CLUSTERING", "consumeType": "PUSH", "threadCount": 20,
                "startTimeStamp": 1, "lastTimeStamp": 2,
                "SubscriptionSet": [{"topic": "T1", "subString": "*", "subVersion": 9, "tagsSet": []}],
                "RunningDataList": [{"groupId": "GID_a", "topic": "T1", "rt": 1.5, "okTps": 2.0, "failedTps": 0, "failedCountPerHour": 0}],
                "Jstack": [{"thread": "main", "trackList": ["java.lang.Thread.run"]}]}]})
        }
        "/json/consumer/getConnection" => {
            json!([{"clientId": "c1", "clientAddr": "1.2.3.4:5", "language": "JAVA", "version": "V4_9_7", "remoteIP": "1.2.3.4"}])
        }
        "/json/consumer/timespan" => {
            json!({"topic": "T1", "minTimeStamp": 1, "maxTimeStamp": 2, "consumeTimeStamp": 3})
        }
        "/json/message/trace" => {
            json!([{"instanceId": "MQ_INST_1", "consumerGroup": "GID_a", "trackType": "NOT_CONSUME_YET", "exceptionDesc": ""}])
        }
        "/json/message/getById" => message(false),
        "/json/message/getByKey" => json!([message(false)]),
        "/json/message/getByPagedTopic" => {
            json!({"taskId": "task-1", "maxPageCount": 2, "currentPage": 1, "data": [message(false)]})
        }
        "/json/trend/topicInputTps" | "/json/trend/groupOutputTps" => {
            json!({"title": "tps", "records": [{"x": 1, "y": 2.5}]})
        }
        "/json/empower/list" => json!([{"topic": "T1", "empowerUser": 123, "relation": 6}]),
        "/json/message/getByIdInDLQ" => message(true),
        "/json/message/getByPagedDLQ" => {
            json!({"TaskId": "dlq-1", "MaxPageCount": 1, "CurrentPage": 1, "Data": [message(true)]})
        }
        "/json/instance/create"
        | "/json/instance/delete"
        | "/json/instance/update"
        | "/json/topic/create"
        | "/json/topic/delete"
        | "/json/topic/update"
        | "/json/group/delete"
        | "/json/group/consumerUpdate"
        | "/json/consumer/resetOffset"
        | "/json/message/resendByIdInDLQ" => json!({}),
        "/json/empower/create" | "/json/empower/createBySub" | "/json/empower/delete" => Value::Null,
        _ => return None,
    })
}

/// The fake console: checks method, encoding, common parameters and the signature, then answers.
fn console(request: &Received) -> Reply {
    let reject = |why: String| Reply::json(403, json!({"code": 403, "success": false, "message": why}).to_string());
    if request.method != "GET" || !request.body.is_empty() {
        return reject(format!("method {} with {} body bytes", request.method, request.body.len()));
    }
    if !is_rfc3986_encoded(&request.query) {
        return reject(format!("query not RFC 3986 encoded: {}", request.query));
    }
    let params = parse_form(&request.query);
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if get("_accesskey") != Some(AK) || get("_platform") != Some("onsConsole") {
        return reject("access key or platform".into());
    }
    let fresh =
        get("__preventCache").and_then(|v| v.parse::<u64>().ok()).is_some_and(|t| t.abs_diff(now_ms()) < 60_000);
    let region_ok = match request.path.as_str() {
        "/json/region/list" => get("_regionId").is_none(),
        _ => get("_regionId").is_some(),
    };
    if !fresh || !region_ok {
        return reject("__preventCache or _regionId".into());
    }
    if let Err(why) = check_open_api_signature(&params, SK) {
        return reject(why);
    }
    if request.path == "/json/slow" {
        return Reply { status: 200, body: envelope(json!({})), delay: Some(Duration::from_secs(5)) };
    }
    if get("topic") == Some("T_MISSING") {
        let body = json!({"code": 404, "success": false, "message": "topic not exist", "dynamicCode": "BIZ_TOPIC_NOT_FOUND",
                          "dynamicMessage": "T_MISSING", "requestId": "req-2", "status": "FAIL"});
        return Reply::json(200, body.to_string());
    }
    if request.path == "/json/html" {
        return Reply::json(502, "<html>bad gateway</html>");
    }
    match console_data(&request.path) {
        Some(data) => Reply::json(200, envelope(data)),
        None => Reply::json(404, json!({"code": 404, "success": false, "message": "no such API"}).to_string()),
    }
}

fn open_api_config(endpoint: String, ca_file: Option<std::path::PathBuf>) -> OpenApiConfig {
    let mut config = OpenApiConfig::new(endpoint, Credentials::new(AK, SK));
    config.http = HttpOptions { ca_file, proxy: ProxyOptions::Direct, ..HttpOptions::default() };
    config
}

async fn console_server(pki: &TestPki) -> TestServer {
    TestServer::start(Some(pki.server_config.clone()), Arc::new(console)).await
}

#[tokio::test]
async fn open_api_every_endpoint() {
    let pki = TestPki::new();
    let server = console_server(&pki).await;
    let c = OpenApiClient::with_env(open_api_config(server.url("https"), Some(pki.ca_file.clone())), |_| None).unwrap();
    let inst = || Some("MQ_INST_1".to_owned());
    let msg_check = |m: &RestMessage| {
        assert_eq!(
            (m.topic.as_deref(), m.msg_id.as_deref(), m.body_crc, m.body.as_deref()),
            (Some("T1"), Some("M1"), Some(123), Some("hello"))
        );
        assert_eq!(m.property_list[0].value.as_deref(), Some("TagA"));
    };

    let r = c.region_list(&RegionListRequest).await.unwrap();
    assert_eq!((r.data[0].region_id.as_deref(), r.request_id.as_deref()), (Some("cn-hangzhou"), Some("req-1")));
    let r = c.cluster_list(&ClusterListRequest::default()).await.unwrap();
    assert_eq!((r.data[0].cluster.as_deref(), r.data[0].modify_time.as_deref()), (Some("c1"), Some("1619316000000")));
    let tunnel = TunnelSwitchRequest {
        instance_id: "MQ_INST_1".into(),
        tunnel_type: TunnelType::SingleTunnel,
        slb_url: None,
        force: Some(false),
        v_switch_id: Some("vsw-1".into()),
    };
    assert_eq!(c.vpc_tunnel_switch(&tunnel).await.unwrap().data.0, "10.0.0.1:9876;10.0.0.2:9876");
    let info = c.instance_base_info(&InstanceBaseInfoRequest { instance_id: "MQ_INST_1".into() }).await.unwrap().data;
    assert_eq!(info.endpoints.unwrap().tcp_endpoint.as_deref(), Some("http://ns.example:9876"));
    assert_eq!((info.max_receive_tps, info.independent_naming), (Some(6000), Some(true)));
    let create = InstanceCreateRequest {
        cluster: "c1".into(),
        instance_name: "inst".into(),
        independent_naming: true,
        remark: None,
        max_send_tps: 5000,
        max_receive_tps: 6000,
        topic_capacity: Some(50),
    };
    c.instance_create(&create).await.unwrap();
    c.instance_delete(&InstanceDeleteRequest { instance_id: "MQ_INST_1".into() }).await.unwrap();
    assert_eq!(c.instance_list(&InstanceListRequest {}).await.unwrap().data[0].namespace_rules_type, Some(true));
    let update = InstanceUpdateRequest {
        instance_id: "MQ_INST_1".into(),
        instance_name: Some("inst2".into()),
        remark: Some("r".into()),
    };
    c.instance_update(&update).await.unwrap();

    let topic = TopicCreateRequest {
        instance_id: inst(),
        topic: "T1".into(),
        order_type: MessageType::PartitionOrder,
        remark: None,
    };
    c.topic_create(&topic).await.unwrap();
    c.topic_delete(&TopicDeleteRequest { instance_id: inst(), topic: "T1".into() }).await.unwrap();
    let got = c.topic_get(&TopicGetRequest { instance_id: inst(), topic: "T1".into() }).await.unwrap().data;
    assert_eq!((got[0].topic.as_deref(), got[0].extra.get("status")), (Some("T1"), Some(&json!(0))));
    let page = TopicListInPageRequest {
        instance_id: "MQ_INST_1".into(),
        topic: None,
        current_page: Some(1),
        page_size: Some(20),
    };
    assert_eq!(c.topic_list_in_page(&page).await.unwrap().data.len(), 1);
    c.topic_update(&TopicUpdateRequest { instance_id: inst(), topic: "T1".into(), perm: TopicPerm::WriteDisabled })
        .await
        .unwrap();
    let names = c.topic_list_names(&TopicListNamesRequest { instance_id: inst() }).await.unwrap().data;
    assert_eq!(names, [TopicName("T1".into()), TopicName("T2".into())]);
    let sub =
        c.topic_sub_detail(&TopicSubDetailRequest { instance_id: inst(), topic: "T1".into() }).await.unwrap().data;
    assert_eq!(sub.subscription_data_list[0].message_model, Some(MessageModel::Clustering));

    let group =
        GroupCreateRequest { instance_id: "MQ_INST_1".into(), group_id: "GID_a".into(), remark: Some("r".into()) };
    assert_eq!(c.group_create(&group).await.unwrap().data.remark.as_deref(), Some("r"));
    c.group_delete(&GroupDeleteRequest { instance_id: inst(), group_id: "GID_a".into() }).await.unwrap();
    let groups = c.group_list(&GroupListRequest { instance_id: inst(), group_id: None }).await.unwrap().data;
    assert_eq!(groups[0].group_id.as_deref(), Some("GID_a"));
    let detail = c
        .group_sub_detail(&GroupSubDetailRequest { instance_id: inst(), group_id: "GID_a".into() })
        .await
        .unwrap()
        .data;
    assert_eq!(
        (detail.online, detail.subscription_data_list[0].sub_string.as_deref()),
        (Some(true), Some("TagA||TagB"))
    );
    let update = GroupConsumerUpdateRequest { instance_id: inst(), group_id: "GID_a".into(), read_enable: false };
    c.group_consumer_update(&update).await.unwrap();

    let acc = ConsumerAccumulateRequest { instance_id: inst(), group_id: "GID_a".into(), detail: Some(true) };
    let acc = c.consumer_accumulate(&acc).await.unwrap().data;
    assert_eq!((acc.online, acc.consume_tps, acc.detail_in_topic_list.len()), (Some(true), Some(1.5), 1));
    let status = ConsumerStatusRequest {
        instance_id: inst(),
        group_id: "GID_a".into(),
        detail: Some(true),
        need_jstack: Some(true),
    };
    let status = c.consumer_status(&status).await.unwrap().data;
    assert_eq!((status.rebalance_ok, status.connection_set[0].remote_ip.as_deref()), (Some(true), Some("1.2.3.4")));
    let info = &status.consumer_connection_info_list[0];
    assert_eq!((info.consume_type.clone(), info.jstack[0].track_list.len()), (Some(ConsumeType::Push), 1));
    assert_eq!(info.running_data_list[0].rt, Some(1.5));
    let conns = c
        .consumer_connection(&ConsumerConnectionRequest { instance_id: inst(), group_id: "GID_a".into() })
        .await
        .unwrap();
    assert_eq!(conns.data[0].client_id.as_deref(), Some("c1"));
    let span = ConsumerTimespanRequest { instance_id: inst(), group_id: "GID_a".into(), topic: "T1".into() };
    assert_eq!(c.consumer_timespan(&span).await.unwrap().data.consume_time_stamp, Some(3));
    let reset = ConsumerResetOffsetRequest {
        instance_id: inst(),
        group_id: "GID_a".into(),
        topic: "T1".into(),
        reset: ResetOffset::ToTime(1_600_000_000_000),
    };
    c.consumer_reset_offset(&reset).await.unwrap();

    let trace = MessageTraceRequest { instance_id: inst(), topic: "T1".into(), msg_id: "M1".into() };
    assert_eq!(c.message_trace(&trace).await.unwrap().data[0].track_type, Some(TrackType::NotConsumeYet));
    msg_check(
        &c.message_by_id(&MessageByIdRequest { instance_id: inst(), topic: "T1".into(), msg_id: "M1".into() })
            .await
            .unwrap()
            .data,
    );
    msg_check(
        &c.message_by_key(&MessageByKeyRequest { instance_id: inst(), topic: "T1".into(), key: "k 1".into() })
            .await
            .unwrap()
            .data[0],
    );
    let by_topic = MessageByTopicRequest {
        instance_id: inst(),
        topic: "T1".into(),
        begin_time: 1,
        end_time: 2,
        task_id: None,
        current_page: 1,
        page_size: Some(50),
    };
    let page = c.message_by_topic(&by_topic).await.unwrap().data;
    assert_eq!((page.task_id.as_deref(), page.max_page_count), (Some("task-1"), Some(2)));
    msg_check(&page.messages[0]);

    let tps = TopicInputTpsRequest {
        instance_id: inst(),
        topic: "T1".into(),
        begin_time: 1,
        end_time: 2,
        period: TrendPeriod::FiveMinutes,
        trend_type: TrendType::Tps,
    };
    assert_eq!(c.trend_topic_input_tps(&tps).await.unwrap().data.records[0].y, Some(2.5));
    let out = GroupOutputTpsRequest {
        instance_id: inst(),
        topic: "T1".into(),
        group_id: "GID_a".into(),
        begin_time: 1,
        end_time: 2,
        period: TrendPeriod::OneMinute,
        trend_type: TrendType::Total,
    };
    assert_eq!(c.trend_group_output_tps(&out).await.unwrap().data.title.as_deref(), Some("tps"));

    let grant = EmpowerCreateRequest {
        instance_id: "MQ_INST_1".into(),
        empower_user: 123,
        topic: "T1".into(),
        relation: EmpowerRelation::PublishSubscribe,
    };
    assert_eq!(c.empower_create(&grant).await.unwrap().data, Value::Null);
    let by_sub = EmpowerCreateBySubRequest {
        instance_id: "MQ_INST_1".into(),
        empower_user: "sub-user".into(),
        topic: "T1".into(),
        relation: EmpowerRelation::Subscribe,
    };
    c.empower_create_by_sub(&by_sub).await.unwrap();
    c.empower_delete(&EmpowerDeleteRequest { instance_id: "MQ_INST_1".into(), empower_user: 123, topic: "T1".into() })
        .await
        .unwrap();
    let grants = c
        .empower_list(&EmpowerListRequest { instance_id: "MQ_INST_1".into(), empower_user: 123, topic: "T1".into() })
        .await
        .unwrap();
    assert_eq!((grants.data[0].empower_user.as_deref(), grants.data[0].relation), (Some("123"), Some(6)));

    msg_check(
        &c.dlq_message_by_id(&DlqMessageByIdRequest {
            instance_id: inst(),
            group_id: "GID_a".into(),
            msg_id: "M1".into(),
        })
        .await
        .unwrap()
        .data,
    );
    let dlq = DlqMessagesRequest {
        instance_id: inst(),
        group_id: "GID_a".into(),
        begin_time: 1,
        end_time: 2,
        task_id: Some("dlq-1".into()),
        current_page: 2,
        page_size: None,
    };
    let dlq = c.dlq_messages(&dlq).await.unwrap().data;
    assert_eq!(dlq.task_id.as_deref(), Some("dlq-1"));
    msg_check(&dlq.messages[0]);
    c.dlq_resend(&DlqResendRequest { instance_id: inst(), msg_id: "M1".into(), group_id: "GID_a".into() })
        .await
        .unwrap();

    // Every documented endpoint was reached once, and the parameters arrived as sent.
    let requests = server.requests();
    let paths: HashSet<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!((requests.len(), paths.len()), (38, 38));
    let params_of = |path: &str| parse_form(&requests.iter().find(|r| r.path == path).unwrap().query);
    for (path, name, value) in [
        ("/json/topic/create", "orderType", "1"),
        ("/json/topic/update", "perm", "4"),
        ("/json/vpcTunnel/tunnelSwitch", "tunnelType", "singleTunnel"),
        ("/json/vpcTunnel/tunnelSwitch", "vSwitchId", "vsw-1"),
        ("/json/consumer/resetOffset", "type", "1"),
        ("/json/consumer/resetOffset", "resetTime", "1600000000000"),
        ("/json/message/getByKey", "key", "k 1"),
        ("/json/trend/groupOutputTps", "period", "1"),
        ("/json/empower/create", "relation", "6"),
        ("/json/empower/createBySub", "empowerUser", "sub-user"),
        ("/json/message/getByPagedDLQ", "CurrentPage", "2"),
        ("/json/message/getByPagedDLQ", "TaskId", "dlq-1"),
        ("/json/cluster/list", "_regionId", "mq-private"),
    ] {
        let params = params_of(path);
        assert!(params.contains(&(name.to_owned(), value.to_owned())), "{path}: {name}={value} in {params:?}");
    }
    for r in &requests {
        assert_eq!(
            r.headers.get("host").map(String::as_str),
            Some(format!("127.0.0.1:{}", server.addr.port()).as_str())
        );
        assert_eq!(r.headers.get("connection").map(String::as_str), Some("close"));
    }
}

#[tokio::test]
async fn open_api_errors_are_typed() {
    let pki = TestPki::new();
    let server = console_server(&pki).await;
    let config = open_api_config(server.url("https"), Some(pki.ca_file.clone()));
    let c = OpenApiClient::with_env(config.clone(), |_| None).unwrap();

    let err = c.topic_get(&TopicGetRequest { instance_id: None, topic: "T_MISSING".into() }).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(OpenApiErrorCode::of(&err), Some(OpenApiErrorCode::BizTopicNotFound));
    assert!(err.message().contains("topic not exist") && err.message().contains("req-2"), "{err}");

    // A wrong secret is caught by the server's own signature check.
    let wrong = OpenApiConfig { credentials: Credentials::new(AK, "WRONG"), ..config.clone() };
    let err = OpenApiClient::with_env(wrong, |_| None).unwrap().region_list(&RegionListRequest).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api);
    assert!(err.message().contains("does not match") && err.message().contains("HTTP 403"), "{err}");
    assert!(!err.message().contains("WRONG"), "{err}");

    let err = c.call_raw("/json/html", &[]).await.unwrap_err();
    assert!(err.message().contains("HTTP 502") && err.message().contains("bad gateway"), "{err}");
    let err = c.call_raw("/json/unknown", &[("a", "b")]).await.unwrap_err();
    assert!(err.message().contains("no such API"), "{err}");
    let raw = c.call_raw("/json/instance/list", &[]).await.unwrap();
    assert!(raw.data.is_array());
    let small = OpenApiConfig { http: HttpOptions { max_response_bytes: 64, ..config.http.clone() }, ..config.clone() };
    let err =
        OpenApiClient::with_env(small, |_| None).unwrap().instance_list(&InstanceListRequest {}).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.message().contains("larger than 64 bytes"), "{err}");

    // Invalid requests never reach the server.
    let before = server.requests().len();
    let err = c
        .group_create(&GroupCreateRequest { instance_id: "i".into(), group_id: "CID_x".into(), remark: None })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert_eq!(server.requests().len(), before);
}

#[tokio::test]
async fn timeouts() {
    let pki = TestPki::new();
    let server = console_server(&pki).await;
    let mut config = open_api_config(server.url("https"), Some(pki.ca_file.clone()));
    config.http.timeout = Duration::from_millis(400);
    let c = OpenApiClient::with_env(config.clone(), |_| None).unwrap();
    let started = Instant::now();
    let err = c.call_raw("/json/slow", &[]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert!(err.message().contains("/json/slow") && !err.message().contains("_signature"), "{err}");

    // A peer that accepts TCP but never answers the TLS handshake: the connect timeout.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    config.endpoint = format!("https://127.0.0.1:{port}");
    config.http.connect_timeout = Duration::from_millis(300);
    config.http.timeout = Duration::from_secs(10);
    let started = Instant::now();
    let err = OpenApiClient::with_env(config, |_| None).unwrap().region_list(&RegionListRequest).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.message().contains("not connected within"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
    hold.abort();
}

#[tokio::test]
async fn certificate_options() {
    let pki = TestPki::new();
    let server = console_server(&pki).await;
    // System roots do not know the test CA.
    let err = OpenApiClient::with_env(open_api_config(server.url("https"), None), |_| None)
        .unwrap()
        .region_list(&RegionListRequest)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(err.message().contains("TLS handshake") && err.message().contains("ca_file"), "{err}");
    // Explicit opt-out of verification.
    let mut config = open_api_config(server.url("https"), None);
    config.http.insecure_skip_verify = true;
    OpenApiClient::with_env(config, |_| None).unwrap().region_list(&RegionListRequest).await.unwrap();
    // The certificate must match the name: "localhost" is in it, another name is not.
    let renamed = open_api_config(format!("https://localhost:{}", server.addr.port()), Some(pki.ca_file.clone()));
    OpenApiClient::with_env(renamed, |_| None).unwrap().region_list(&RegionListRequest).await.unwrap();
    // Plain http is refused by a TLS server, and the reverse works for a plain server.
    let plain = TestServer::start(None, Arc::new(console)).await;
    OpenApiClient::with_env(open_api_config(plain.url("http"), None), |_| None)
        .unwrap()
        .region_list(&RegionListRequest)
        .await
        .unwrap();
}

#[tokio::test]
async fn proxies() {
    let pki = TestPki::new();
    let server = console_server(&pki).await;
    // Credentials in the proxy URL are percent-decoded, then sent as Basic user:p@ss.
    let proxy = TestProxy::start(Some("Basic dXNlcjpwQHNz".to_owned())).await;
    let with_auth = proxy.url().replace("http://", "http://user:p%40ss@");
    let mut config = open_api_config(server.url("https"), Some(pki.ca_file.clone()));
    config.http.proxy = ProxyOptions::Url { url: with_auth.clone(), no_proxy: None };
    OpenApiClient::with_env(config.clone(), |_| None).unwrap().region_list(&RegionListRequest).await.unwrap();
    let target = format!("127.0.0.1:{}", server.addr.port());
    assert_eq!(proxy.connects.lock().unwrap().last().unwrap().0, target);

    // Without credentials the proxy answers 407.
    config.http.proxy = ProxyOptions::Url { url: proxy.url(), no_proxy: None };
    let err =
        OpenApiClient::with_env(config.clone(), |_| None).unwrap().region_list(&RegionListRequest).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(err.message().contains("requires authentication"), "{err}");

    // From the environment; NO_PROXY bypasses it.
    config.http.proxy = ProxyOptions::FromEnv;
    let env_url = with_auth.clone();
    let count = proxy.connects.lock().unwrap().len();
    let c = OpenApiClient::with_env(config.clone(), move |k| (k == "HTTPS_PROXY").then(|| env_url.clone())).unwrap();
    c.region_list(&RegionListRequest).await.unwrap();
    assert_eq!(proxy.connects.lock().unwrap().len(), count + 1);
    let env_url = with_auth.clone();
    let c = OpenApiClient::with_env(config, move |k| match k {
        "https_proxy" => Some(env_url.clone()),
        "no_proxy" => Some("localhost,127.0.0.0/8".into()),
        _ => None,
    })
    .unwrap();
    c.region_list(&RegionListRequest).await.unwrap();
    assert_eq!(proxy.connects.lock().unwrap().len(), count + 1);

    // Plain http goes to the proxy in absolute form, with the credentials on the request.
    let plain = TestServer::start(None, Arc::new(console)).await;
    let mut config = open_api_config(plain.url("http"), None);
    config.http.proxy = ProxyOptions::Url { url: with_auth, no_proxy: Some("example.com".into()) };
    OpenApiClient::with_env(config, |_| None).unwrap().region_list(&RegionListRequest).await.unwrap();
    let (target, auth) = proxy.connects.lock().unwrap().last().unwrap().clone();
    assert!(target.starts_with(&format!("http://127.0.0.1:{}/json/region/list?", plain.addr.port())), "{target}");
    assert_eq!(auth.as_deref(), Some("Basic dXNlcjpwQHNz"));
    assert_eq!(plain.requests().len(), 1);
}

const ASAPI_SECRET: &str = "testsecret";

/// The fake gateway: checks the common parameters, headers, nonce reuse and the signature.
fn gateway(nonces: Arc<Mutex<HashSet<String>>>) -> Handler {
    Arc::new(move |request: &Received| {
        let reject = |code: &str, why: String| {
            let body = json!({"code": code, "eagleEyeTracelId": "trace-9", "asapiSuccess": false, "hostId": "h1",
                              "message": why, "asapiErrorMessage": why, "asapiErrorCode": code});
            Reply::json(400, body.to_string())
        };
        let encoded = match request.method.as_str() {
            "GET" => request.query.clone(),
            "POST" => {
                let ct = request.headers.get("content-type").cloned().unwrap_or_default();
                if !ct.starts_with("application/x-www-form-urlencoded") || !request.query.is_empty() {
                    return reject("test.form", format!("content type {ct}, query {}", request.query));
                }
                String::from_utf8(request.body.clone()).unwrap()
            }
            m => return reject("test.method", m.to_owned()),
        };
        if request.path != "/asapi/v3/" || !is_rfc3986_encoded(&encoded) {
            return reject("test.encoding", format!("{} {encoded}", request.path));
        }
        let params = parse_form(&encoded);
        let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        for (name, value) in
            [("Format", "JSON"), ("SignatureVersion", "1.0"), ("AccessKeyId", "testid"), ("Version", "2019-05-10")]
        {
            if get(name) != Some(value) {
                return reject("test.common", format!("{name}={:?}", get(name)));
            }
        }
        let ts = get("Timestamp").unwrap_or("");
        let shape = ts.len() == 20 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T';
        let year = ts.get(..4).and_then(|y| y.parse::<u64>().ok()).unwrap_or(0);
        if !shape || year.abs_diff(1970 + now_ms() / 31_556_952_000) > 1 {
            return reject("test.timestamp", ts.to_owned());
        }
        let nonce = get("SignatureNonce").unwrap_or("").to_owned();
        if nonce.is_empty() || !nonces.lock().unwrap().insert(nonce.clone()) {
            return reject("SignatureNonceUsed", nonce);
        }
        let headers = &request.headers;
        if headers.get("x-acs-caller-sdk-source").is_none()
            || headers.get("x-acs-regionid").map(String::as_str) != get("RegionId")
        {
            return reject("test.headers", format!("{headers:?}"));
        }
        if let Err(why) = check_pop_signature(&request.method, &params, ASAPI_SECRET) {
            return reject("SignatureDoesNotMatch", why);
        }
        match get("Action") {
            Some("DescribeRegions") => {
                let body = json!({"eagleEyeTracelId": "trace-1", "asapiSuccess": true, "RequestId": "R1",
                                  "Regions": {"Region": [{"RegionId": get("RegionId"), "RegionEndpoint": "", "LocalName": get("Name")}]},
                                  "Echo": {"org": headers.get("x-acs-organizationid"), "source": headers.get("x-acs-caller-sdk-source")}});
                Reply::json(200, body.to_string())
            }
            _ => reject("asapi.server.api.notfound", "Failed to find the API".into()),
        }
    })
}

#[tokio::test]
async fn asapi_get_post_sha1_sha256() {
    let pki = TestPki::new();
    let nonces = Arc::new(Mutex::new(HashSet::new()));
    let server = TestServer::start(Some(pki.server_config.clone()), gateway(nonces.clone())).await;
    let endpoint = format!("127.0.0.1:{}/asapi/v3", server.addr.port()); // no scheme (docs/asapi.md §1)
    let mut seen = 0;
    for method in [HttpMethod::Get, HttpMethod::Post] {
        for signature_method in [SignatureMethod::HmacSha1, SignatureMethod::HmacSha256] {
            let mut config =
                AsapiConfig::new(endpoint.clone(), Credentials::new("testid", ASAPI_SECRET), "cn-region-test");
            config.method = method;
            config.signature_method = signature_method;
            config.headers = AsapiHeaders { organization_id: Some("org-1".into()), ..Default::default() };
            config.http = HttpOptions { ca_file: Some(pki.ca_file.clone()), ..HttpOptions::default() };
            let client = AsapiClient::with_env(config, |_| None).unwrap();
            // Values that exercise the encoding rules: unicode, space, *, ~, +, /, empty.
            let request = AsapiRequest::new("ecs", "DescribeRegions", "2019-05-10")
                .param("Name", "华东 1*~+/=&")
                .param("Empty", "");
            let response = client.call(&request).await.unwrap();
            assert_eq!(
                (response.request_id.as_deref(), response.eagle_eye_trace_id.as_deref()),
                (Some("R1"), Some("trace-1"))
            );
            let region = &response.body["Regions"]["Region"][0];
            assert_eq!(
                (region["RegionId"].as_str(), region["LocalName"].as_str()),
                (Some("cn-region-test"), Some("华东 1*~+/=&"))
            );
            assert_eq!(response.body["Echo"], json!({"org": "org-1", "source": "rocketmq-ons"}));
            seen += 1;
            let received = server.requests();
            let last = received.last().unwrap();
            assert_eq!(last.method, method.as_str());
            let sent = if method == HttpMethod::Get {
                last.query.clone()
            } else {
                String::from_utf8(last.body.clone()).unwrap()
            };
            assert!(sent.contains(&format!("SignatureMethod={}", signature_method.as_str())), "{sent}");
        }
    }
    assert_eq!(nonces.lock().unwrap().len(), seen);
}

#[tokio::test]
async fn asapi_errors_are_typed() {
    let pki = TestPki::new();
    let server =
        TestServer::start(Some(pki.server_config.clone()), gateway(Arc::new(Mutex::new(HashSet::new())))).await;
    let mut config = AsapiConfig::new(
        format!("{}/asapi/v3", server.url("https")),
        Credentials::new("testid", ASAPI_SECRET),
        "cn-region-test",
    );
    config.http = HttpOptions { ca_file: Some(pki.ca_file.clone()), ..HttpOptions::default() };
    let client = AsapiClient::with_env(config.clone(), |_| None).unwrap();
    let err = client.call(&AsapiRequest::new("ecs", "NoSuchAction", "2019-05-10")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(AsapiErrorCode::of(&err), Some(AsapiErrorCode::ApiNotFound));
    assert!(err.message().contains("trace-9") && err.message().contains("HTTP 400"), "{err}");

    config.credentials = Credentials::new("testid", "not-the-secret");
    let err = AsapiClient::with_env(config.clone(), |_| None)
        .unwrap()
        .call(&AsapiRequest::new("ecs", "DescribeRegions", "2019-05-10"))
        .await
        .unwrap_err();
    assert_eq!(AsapiErrorCode::of(&err), Some(AsapiErrorCode::Other("SignatureDoesNotMatch".into())));
    assert!(!err.message().contains("not-the-secret"), "{err}");

    // Typed decoding of a success.
    config.credentials = Credentials::new("testid", ASAPI_SECRET);
    #[derive(serde::Deserialize)]
    struct Regions {
        #[serde(rename = "Regions")]
        regions: Value,
    }
    let typed: Regions = AsapiClient::with_env(config, |_| None)
        .unwrap()
        .call_typed(&AsapiRequest::new("ecs", "DescribeRegions", "2019-05-10").method(HttpMethod::Get))
        .await
        .unwrap();
    assert!(typed.regions["Region"].is_array());
}
