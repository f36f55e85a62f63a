//! Local HTTPS servers for the `crate::http` tests: a test CA and server certificate made with
//! rcgen, a bare HTTP/1.1 server on tokio-rustls that records what it receives and answers
//! through a handler, a CONNECT proxy, and signature checks written from the documented rules
//! (docs/asapi.md §3 and docs/open-api.md §4) without the crate's signer.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// A CA and a server certificate for `localhost` and `127.0.0.1` signed by it.
pub struct TestPki {
    pub ca_pem: String,
    pub ca_file: PathBuf,
    pub server_config: Arc<rustls::ServerConfig>,
}

impl TestPki {
    pub fn new() -> TestPki {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, "rocketmq-ons http test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);

        let leaf_key = KeyPair::generate().unwrap();
        let leaf_params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server_config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone(), CertificateDer::from(ca_cert.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )
            .unwrap();
        let dir = std::env::temp_dir().join(format!("ons-http-tests-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca_file = dir.join(format!("ca-{}.pem", rand_suffix()));
        std::fs::write(&ca_file, ca_cert.pem()).unwrap();
        TestPki { ca_pem: ca_cert.pem(), ca_file, server_config: Arc::new(server_config) }
    }
}

impl Drop for TestPki {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.ca_file);
        if let Some(dir) = self.ca_file.parent() {
            let _ = std::fs::remove_dir(dir); // only once empty
        }
    }
}

fn rand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 ^ (n << 48)
}

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// The request target as sent (path and query).
    pub target: String,
    pub path: String,
    /// The raw (still encoded) query.
    pub query: String,
    /// Header names lower-cased.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// The handler's answer.
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub delay: Option<Duration>,
}

impl Reply {
    pub fn json(status: u16, body: impl Into<String>) -> Reply {
        Reply { status, body: body.into(), delay: None }
    }
}

pub type Handler = Arc<dyn Fn(&Received) -> Reply + Send + Sync>;

/// An HTTPS (or plain HTTP) server on 127.0.0.1 that serves until dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub async fn start(tls: Option<Arc<rustls::ServerConfig>>, handler: Handler) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        let acceptor = tls.map(TlsAcceptor::from);
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else { return };
                let (handler, log, acceptor) = (handler.clone(), log.clone(), acceptor.clone());
                tokio::spawn(async move {
                    match acceptor {
                        Some(acceptor) => {
                            if let Ok(tls) = acceptor.accept(tcp).await {
                                serve_one(tls, &handler, &log).await;
                            }
                        }
                        None => serve_one(tcp, &handler, &log).await,
                    }
                });
            }
        });
        TestServer { addr, received, task }
    }

    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.addr.port())
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// Reads one request (head, then a Content-Length body), answers, closes.
async fn serve_one<S: AsyncRead + AsyncWrite + Unpin>(mut io: S, handler: &Handler, log: &Mutex<Vec<Received>>) {
    let Some(head) = read_head(&mut io).await else { return };
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_owned();
    let target = first.next().unwrap_or("").to_owned();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; len];
    if io.read_exact(&mut body).await.is_err() {
        return;
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (target.clone(), String::new()),
    };
    let request = Received { method, target, path, query, headers, body };
    log.lock().unwrap().push(request.clone());
    let reply = handler(&request);
    if let Some(delay) = reply.delay {
        tokio::time::sleep(delay).await;
    }
    let response = format!(
        "HTTP/1.1 {} X\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        reply.status,
        reply.body.len(),
        reply.body
    );
    let _ = io.write_all(response.as_bytes()).await;
    let _ = io.shutdown().await;
}

async fn read_head<S: AsyncRead + Unpin>(io: &mut S) -> Option<String> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(io.read_u8().await.ok()?);
        if head.len() > 64 * 1024 {
            return None;
        }
    }
    String::from_utf8(head).ok()
}

/// A request target and its `Proxy-Authorization`, as a proxy saw them.
pub type ProxiedRequest = (String, Option<String>);

/// An HTTP proxy on 127.0.0.1 (CONNECT, and absolute-form requests for plain http). Records
/// each request target and its `Proxy-Authorization`;
/// with `require_auth`, answers 407 to a request without exactly that header value.
pub struct TestProxy {
    pub addr: SocketAddr,
    pub connects: Arc<Mutex<Vec<ProxiedRequest>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestProxy {
    pub async fn start(require_auth: Option<String>) -> TestProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connects = Arc::new(Mutex::new(Vec::new()));
        let log = connects.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { return };
                let (log, require_auth) = (log.clone(), require_auth.clone());
                tokio::spawn(async move {
                    let Some(head) = read_head(&mut client).await else { return };
                    let method = head.split(' ').next().unwrap_or("").to_owned();
                    let target = head.split(' ').nth(1).unwrap_or("").to_owned();
                    let auth = head
                        .split("\r\n")
                        .filter_map(|l| l.split_once(':'))
                        .find(|(k, _)| k.eq_ignore_ascii_case("proxy-authorization"))
                        .map(|(_, v)| v.trim().to_owned());
                    log.lock().unwrap().push((target.clone(), auth.clone()));
                    if require_auth.is_some() && auth != require_auth {
                        let _ = client.write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n").await;
                        return;
                    }
                    // CONNECT host:port, or a plain-http request in absolute form, forwarded in
                    // origin form.
                    let (authority, forward) = match target.strip_prefix("http://") {
                        Some(rest) if method != "CONNECT" => {
                            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                            (authority.to_owned(), Some(head.replacen(&target, path, 1)))
                        }
                        _ => (target.clone(), None),
                    };
                    let Ok(mut upstream) = TcpStream::connect(&authority).await else {
                        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                        return;
                    };
                    let greeting = match &forward {
                        Some(head) => upstream.write_all(head.as_bytes()).await,
                        None => client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await,
                    };
                    if greeting.is_ok() {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
            }
        });
        TestProxy { addr, connects, task }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }
}

/// Decodes `%XY` and, as a form body would, nothing else: the clients must never send `+`
/// for a space.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).expect("bad escape"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("not UTF-8")
}

/// `a=b&c=d` into decoded pairs, in order.
pub fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Whether `encoded` uses only the RFC 3986 unreserved characters and upper-case `%XY`.
pub fn is_rfc3986_encoded(encoded: &str) -> bool {
    let b = encoded.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let ok = b
                    .get(i + 1..i + 3)
                    .is_some_and(|h| h.iter().all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c)));
                if !ok {
                    return false;
                }
                i += 3;
            }
            c if c.is_ascii_alphanumeric() || b"-_.~=&".contains(&c) => i += 1,
            _ => return false,
        }
    }
    true
}

fn hmac_sha1(key: &[u8], data: &[u8]) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).unwrap();
    mac.update(data);
    BASE64.encode(mac.finalize().into_bytes())
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(data);
    BASE64.encode(mac.finalize().into_bytes())
}

/// docs/open-api.md §4: sort the parameters other than `_signature` by name, concatenate the
/// values, HMAC-SHA1 with the secret key, Base64. `Err` says what is wrong.
pub fn check_open_api_signature(params: &[(String, String)], secret: &str) -> Result<(), String> {
    let mut sorted: Vec<&(String, String)> = params.iter().filter(|(k, _)| k != "_signature").collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let to_sign: String = sorted.iter().map(|(_, v)| v.as_str()).collect();
    let expected = hmac_sha1(secret.as_bytes(), to_sign.as_bytes());
    let sent: Vec<&String> = params.iter().filter(|(k, _)| k == "_signature").map(|(_, v)| v).collect();
    match sent.as_slice() {
        [one] if **one == expected => Ok(()),
        [one] => Err(format!("signature {one} does not match {expected} over {to_sign:?}")),
        _ => Err(format!("{} _signature parameters", sent.len())),
    }
}

/// percentEncode of docs/asapi.md §3.1: UTF-8, unreserved characters kept, `%XY` upper case.
fn seed_percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// docs/asapi.md §3: the canonicalized query of the sorted parameters other than `Signature`,
/// `METHOD&%2F&enc(canonical)`, HMAC with `secret&` (SHA1 or SHA256 per `SignatureMethod`).
pub fn check_pop_signature(method: &str, params: &[(String, String)], secret: &str) -> Result<(), String> {
    let mut sorted: Vec<&(String, String)> = params.iter().filter(|(k, _)| k != "Signature").collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let canonical: Vec<String> =
        sorted.iter().map(|(k, v)| format!("{}={}", seed_percent_encode(k), seed_percent_encode(v))).collect();
    let string_to_sign = format!("{method}&{}&{}", seed_percent_encode("/"), seed_percent_encode(&canonical.join("&")));
    let key = format!("{secret}&");
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let expected = match get("SignatureMethod") {
        Some("HMAC-SHA1") => hmac_sha1(key.as_bytes(), string_to_sign.as_bytes()),
        Some("HMAC-SHA256") => hmac_sha256(key.as_bytes(), string_to_sign.as_bytes()),
        other => return Err(format!("SignatureMethod {other:?}")),
    };
    match get("Signature") {
        Some(sig) if sig == expected => Ok(()),
        other => Err(format!("Signature {other:?} does not match {expected} over {string_to_sign:?}")),
    }
}
