//! Name servers from an address server (ONSAddr as an `http://…/path` URL,
//! docs/configuration-keys.md): a producer follows the list it serves from one real cluster to
//! another, keeps the last list while the address server fails, and fails its first send
//! clearly when the address server never answered.
//!
//! The address server is a fake written here (a few lines of HTTP/1.1 over a tokio listener):
//! it only serves a text line, the name servers are the harness's real ones.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use ons_tests::support::{capture_logs, captured_logs, create_topic, plain_props, rt};
use ons_tests::{stored_count_reaching, OwnCluster};
use rocketmq_ons::admin::Admin;
use rocketmq_ons::client::ClientInstance;
use rocketmq_ons::config::{keys, ClientConfig};
use rocketmq_ons::{ErrorKind, Message, Producer, Properties};

/// An HTTP server answering every request with the status and body set last.
struct FakeAddressServer {
    url: String,
    answer: Arc<Mutex<(u16, String)>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeAddressServer {
    async fn start(body: &str) -> FakeAddressServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/rocketmq/nsaddr4client-internet", listener.local_addr().unwrap());
        let answer = Arc::new(Mutex::new((200, body.to_owned())));
        let serving = answer.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else { return };
                let (status, body) = serving.lock().clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(reply.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        FakeAddressServer { url, answer, task }
    }

    fn answer(&self, status: u16, body: &str) {
        *self.answer.lock() = (status, body.to_owned());
    }
}

fn admin_of(namesrv: &str) -> Admin {
    Admin::new(&Properties::new().with(keys::NAMESRV_ADDR, namesrv).with(keys::GROUP_ID, "GID_addr_admin")).unwrap()
}

#[test]
fn a_producer_follows_the_address_server_to_another_cluster_and_keeps_the_last_list() {
    capture_logs();
    let first = ons_tests::namesrv();
    let second = OwnCluster::start(&[]).unwrap_or_else(|e| panic!("{e}"));
    let topic = ons_tests::unique_name("addr_server");
    rt().block_on(async {
        let (first_admin, second_admin) =
            (Admin::new(&plain_props("GID_addr_admin")).unwrap(), admin_of(&second.namesrv));
        create_topic(&first_admin, &topic, 2).await;
        create_topic(&second_admin, &topic, 2).await;

        // Java's answer format: a `;` list, surrounded by white space and a newline.
        let server = FakeAddressServer::start(&format!(" {first} \n")).await;
        let props = Properties::new().with(keys::ONS_ADDR, &server.url).with(keys::GROUP_ID, "GID_addr_p");
        let producer = Producer::new(&props).unwrap();
        producer.start().unwrap();
        producer.send(&Message::new(&topic, None, "to the first")).await.unwrap();
        assert_eq!(stored_count_reaching(&first_admin, &topic, 1).await.unwrap(), 1);

        // The producer's instance, whose polling the test drives instead of waiting 2 minutes.
        let instance = ClientInstance::get_or_create(&ClientConfig::from_properties(&props, true).unwrap());
        assert_eq!(instance.name_server_addrs(), vec![first.clone()]);
        server.answer(200, &format!("{};", second.namesrv));
        instance.refresh_name_servers().await;
        assert_eq!(instance.name_server_addrs(), vec![second.namesrv.clone()]);
        producer.send(&Message::new(&topic, None, "to the second")).await.unwrap();
        assert_eq!(stored_count_reaching(&second_admin, &topic, 1).await.unwrap(), 1);

        // A failing address server (an error status, then no server at all) changes nothing.
        server.answer(500, "busy");
        instance.refresh_name_servers().await;
        server.task.abort();
        tokio::time::sleep(Duration::from_millis(100)).await;
        instance.refresh_name_servers().await;
        assert_eq!(instance.name_server_addrs(), vec![second.namesrv.clone()]);
        producer.send(&Message::new(&topic, None, "still the second")).await.unwrap();
        assert_eq!(stored_count_reaching(&second_admin, &topic, 2).await.unwrap(), 2);
        assert_eq!(stored_count_reaching(&first_admin, &topic, 1).await.unwrap(), 1);
        producer.shutdown().await;
    });
    let logs = captured_logs();
    let warnings: Vec<&str> =
        logs.lines().filter(|l| l.contains("WARN") && l.contains("address server failed")).collect();
    assert!(warnings.len() >= 2, "no warning for each failed fetch:\n{logs}");
    assert!(warnings.iter().any(|w| w.contains("HTTP 500")), "{warnings:?}");
    assert!(warnings.iter().all(|w| w.contains("/rocketmq/nsaddr4client-internet")), "{warnings:?}");
}

#[test]
fn the_first_send_fails_naming_the_address_server_when_it_never_answered() {
    rt().block_on(async {
        let server = FakeAddressServer::start("").await;
        server.answer(404, "not here");
        let props = Properties::new().with(keys::ONS_ADDR, &server.url).with(keys::GROUP_ID, "GID_addr_none");
        let producer = Producer::new(&props).unwrap();
        producer.start().unwrap();
        let err = producer.send(&Message::new("T_addr_none", None, "x")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Network, "{err}");
        assert!(err.message().contains("no name server is known yet"), "{err}");
        assert!(err.message().contains(&server.url) && err.message().contains("HTTP 404"), "{err}");
        producer.shutdown().await;
    });
}
