//! A hand-written remoting server, for the answers a real name server or broker will not give
//! on demand: routes that would expand to millions of queues, pull replies with far more (or far
//! larger) messages than were asked for, brokers that accept connections and never answer, a
//! flood of requests pushed to the client. Client behaviour against real brokers is tested
//! against real brokers (`tests/harness`); this exists only for hostile answers.
//!
//! A [`FakeServer`] listens on a free port of 127.0.0.1, decodes each request frame with the
//! core's codec and asks its handler what to do: answer (the opaque and response flag are set
//! here), stay silent, or close the connection. [`FakeServer::push`] sends a request of the
//! server's own to every connected client. It runs on a runtime of its own.

use parking_lot::Mutex;
use std::sync::Arc;

use bytes::BytesMut;
use rocketmq_ons::protocol::command::{decode_frame, RemotingCommand, SerializeType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

/// What the server does with one request.
pub enum Reply {
    /// Answer with this command (its opaque and response flag are filled in).
    Answer(RemotingCommand),
    /// Say nothing; the connection stays open.
    Silence,
    /// Close the connection.
    Close,
}

type Handler = Arc<dyn Fn(&RemotingCommand) -> Reply + Send + Sync>;

/// A listening fake server; stops when dropped.
pub struct FakeServer {
    addr: String,
    runtime: Option<Runtime>,
    /// Senders of frames to each connected client (for [`FakeServer::push`]).
    clients: Arc<Mutex<Vec<mpsc::UnboundedSender<Vec<u8>>>>>,
}

impl FakeServer {
    /// Starts a server that answers each request as `handler` says.
    pub fn start(handler: impl Fn(&RemotingCommand) -> Reply + Send + Sync + 'static) -> FakeServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("fake-server")
            .enable_all()
            .build()
            .expect("a runtime for the fake server");
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).expect("listen on 127.0.0.1");
        let addr = listener.local_addr().expect("bound address").to_string();
        let clients: Arc<Mutex<Vec<mpsc::UnboundedSender<Vec<u8>>>>> = Arc::default();
        let handler: Handler = Arc::new(handler);
        let accepted = clients.clone();
        runtime.spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (tx, rx) = mpsc::unbounded_channel();
                accepted.lock().push(tx.clone());
                tokio::spawn(serve(socket, handler.clone(), tx, rx));
            }
        });
        FakeServer { addr, runtime: Some(runtime), clients }
    }

    /// A server that accepts connections and never answers anything.
    pub fn silent() -> FakeServer {
        FakeServer::start(|_| Reply::Silence)
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Sends `request` (a server-initiated request; oneway unless the caller set otherwise) to
    /// every connected client; returns how many clients it went to.
    pub fn push(&self, request: &RemotingCommand) -> usize {
        let mut frame = BytesMut::new();
        request.encode(SerializeType::Json, &mut frame).expect("the request encodes");
        let mut clients = self.clients.lock();
        clients.retain(|c| c.send(frame.to_vec()).is_ok());
        clients.len()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn serve(
    socket: tokio::net::TcpStream,
    handler: Handler,
    to_client: mpsc::UnboundedSender<Vec<u8>>,
    mut outgoing: mpsc::UnboundedReceiver<Vec<u8>>,
) {
    let (mut read, mut write) = socket.into_split();
    // One writer: answers and pushed requests never interleave within a frame.
    tokio::spawn(async move {
        while let Some(frame) = outgoing.recv().await {
            if frame.is_empty() || write.write_all(&frame).await.is_err() {
                return;
            }
        }
    });
    let mut buf = BytesMut::with_capacity(64 * 1024);
    loop {
        loop {
            let serialize = if buf.len() > 4 && buf[4] == 1 { SerializeType::RocketMq } else { SerializeType::Json };
            let request = match decode_frame(&mut buf) {
                Ok(Some(request)) => request,
                Ok(None) => break,
                Err(_) => return,
            };
            if request.is_response() {
                continue; // answers to pushed requests
            }
            match handler(&request) {
                Reply::Answer(mut answer) => {
                    answer.opaque = request.opaque;
                    answer.flag |= rocketmq_ons::protocol::command::FLAG_RESPONSE;
                    let mut frame = BytesMut::new();
                    answer.encode(serialize, &mut frame).expect("the answer encodes");
                    if to_client.send(frame.to_vec()).is_err() {
                        return;
                    }
                }
                Reply::Silence => {}
                Reply::Close => {
                    let _ = to_client.send(Vec::new());
                    return;
                }
            }
        }
        match read.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// A route body (standard JSON, as name servers answer `acceptStandardJsonOnly`) with one
/// master per `(broker name, address)` and `queues` read/write queues on each.
pub fn route_json(brokers: &[(&str, &str)], queues: i32) -> String {
    let broker_datas: Vec<serde_json::Value> = brokers
        .iter()
        .map(|(name, addr)| {
            serde_json::json!({"cluster": "FakeCluster", "brokerName": name, "brokerAddrs": {"0": addr}})
        })
        .collect();
    let queue_datas: Vec<serde_json::Value> = brokers
        .iter()
        .map(|(name, _)| {
            serde_json::json!({"brokerName": name, "perm": 6, "readQueueNums": queues, "writeQueueNums": queues, "topicSysFlag": 0})
        })
        .collect();
    serde_json::json!({"brokerDatas": broker_datas, "queueDatas": queue_datas, "filterServerTable": {}}).to_string()
}

/// The group bookkeeping a broker does for one consumer: it remembers the client id of the
/// last heartbeat, names that client as the group's only member, and says every queue starts
/// at offset 0. Handlers of fake brokers ask it first and answer the rest themselves.
#[derive(Clone, Default)]
pub struct LoneConsumer {
    client_id: Arc<Mutex<String>>,
}

impl LoneConsumer {
    /// The answer to `req` if it is group bookkeeping (HEART_BEAT, GET_CONSUMER_LIST_BY_GROUP,
    /// QUERY_CONSUMER_OFFSET).
    pub fn answer(&self, req: &RemotingCommand) -> Option<Reply> {
        use rocketmq_ons::protocol::codes::{request, response};
        let ok = || RemotingCommand::response(response::SUCCESS, 0, None);
        match req.code {
            request::HEART_BEAT => {
                let hb: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
                if let Some(id) = hb["clientID"].as_str() {
                    *self.client_id.lock() = id.to_owned();
                }
                Some(Reply::Answer(ok()))
            }
            request::GET_CONSUMER_LIST_BY_GROUP => {
                let body = serde_json::json!({"consumerIdList": [self.client_id()]});
                Some(Reply::Answer(ok().with_body(body.to_string().into_bytes())))
            }
            request::QUERY_CONSUMER_OFFSET => Some(Reply::Answer(ok().with_ext("offset", 0))),
            _ => None,
        }
    }

    /// The client id of the last heartbeat (empty before the first).
    pub fn client_id(&self) -> String {
        self.client_id.lock().clone()
    }
}

/// A name server that answers every route lookup with `route` (and anything else with
/// "not supported").
pub fn fake_namesrv(route: String) -> FakeServer {
    use rocketmq_ons::protocol::codes::{request, response};
    FakeServer::start(move |req| match req.code {
        request::GET_ROUTEINFO_BY_TOPIC => {
            Reply::Answer(RemotingCommand::response(response::SUCCESS, 0, None).with_body(route.clone().into_bytes()))
        }
        _ => Reply::Answer(RemotingCommand::response(response::REQUEST_CODE_NOT_SUPPORTED, 0, None)),
    })
}
