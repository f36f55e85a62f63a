//! One HTTP/1.1 exchange over a fresh connection: TCP, optionally a CONNECT tunnel through a
//! proxy, optionally TLS, then hyper's client connection for the request and response.
//!
//! Management calls are rare and slow on the server side (the Open API's guide warns they are
//! for control, not traffic: docs/open-api.md §1), so there is no connection pool: every call
//! connects, sends `Connection: close`, reads the whole (size-capped) body and drops everything.
//! Both timeouts cover everything they name: `connect_timeout` the TCP connect, proxy tunnel and
//! TLS handshake; `timeout` the whole call.
//!
//! Nothing here logs or returns a query string or header value: queries carry signatures and
//! access keys. Errors name the method, the endpoint and the path only.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::header::{HeaderName, HeaderValue};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::proxy::{Proxy, ProxyOptions, ProxySettings};
use super::tls;
use super::url::{Endpoint, Scheme};
use crate::error::{Error, Result};

/// Network options shared by [`OpenApiClient`](super::OpenApiClient) and
/// [`AsapiClient`](super::AsapiClient).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOptions {
    /// Bound on TCP connect, proxy tunnel and TLS handshake together (default 10 s).
    pub connect_timeout: Duration,
    /// Bound on the whole call, connect included (default 30 s).
    pub timeout: Duration,
    /// Proxy selection (default: the `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` variables).
    pub proxy: ProxyOptions,
    /// Trust only the CA certificates in this PEM file instead of the system's roots.
    pub ca_file: Option<PathBuf>,
    /// Do not verify server certificates at all. An explicit opt-in for private-cloud consoles
    /// with self-signed certificates; logs one warning per process.
    pub insecure_skip_verify: bool,
    /// Responses larger than this are refused (default 16 MiB).
    pub max_response_bytes: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            proxy: ProxyOptions::FromEnv,
            ca_file: None,
            insecure_skip_verify: false,
            max_response_bytes: 16 << 20,
        }
    }
}

/// A request: the path and query (percent-encoded already), extra headers and a body.
pub(crate) struct HttpRequest {
    pub method: hyper::Method,
    /// The request target: absolute path (the endpoint's base path included) and query.
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    /// Content type and bytes.
    pub body: Option<(&'static str, Vec<u8>)>,
}

pub(crate) struct HttpResponse {
    pub status: u16,
    pub body: Bytes,
}

/// The transport of one API client: TLS configuration and proxies resolved once.
#[derive(Clone)]
pub(crate) struct HttpClient {
    tls: TlsConnector,
    proxies: Arc<ProxySettings>,
    connect_timeout: Duration,
    timeout: Duration,
    max_response_bytes: usize,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

impl HttpClient {
    pub(crate) fn new(options: &HttpOptions) -> Result<HttpClient> {
        HttpClient::with_env(options, |name| std::env::var(name).ok())
    }

    /// As [`HttpClient::new`], reading proxy variables through `env`.
    pub(crate) fn with_env(options: &HttpOptions, env: impl Fn(&str) -> Option<String>) -> Result<HttpClient> {
        if options.connect_timeout.is_zero() || options.timeout.is_zero() {
            return Err(Error::invalid_config("HTTP options connect_timeout and timeout must be positive"));
        }
        let config = tls::client_config(options.ca_file.as_deref(), options.insecure_skip_verify)?;
        Ok(HttpClient {
            tls: TlsConnector::from(config),
            proxies: Arc::new(ProxySettings::resolve(&options.proxy, env)?),
            connect_timeout: options.connect_timeout,
            timeout: options.timeout,
            max_response_bytes: options.max_response_bytes,
        })
    }

    /// Sends `request` to `target` and reads the whole response, whatever its status.
    pub(crate) async fn send(&self, target: &Endpoint, request: HttpRequest) -> Result<HttpResponse> {
        let path = request.path_and_query.split('?').next().unwrap_or("").to_owned();
        let what = format!("{} {}://{}{path}", request.method, target.scheme.as_str(), target.host_header());
        let started = Instant::now();
        let result = match tokio::time::timeout(self.timeout, self.exchange(target, request)).await {
            Ok(r) => r,
            Err(_) => Err(Error::timeout(format!("no complete answer within {:?}", self.timeout))),
        };
        let elapsed_ms = started.elapsed().as_millis();
        match &result {
            Ok(r) => tracing::debug!(call = %what, status = r.status, elapsed_ms, "HTTP call"),
            Err(e) => tracing::debug!(call = %what, error = %e, elapsed_ms, "HTTP call failed"),
        }
        result.map_err(|e| Error::new(e.kind(), format!("{what}: {}", e.message())))
    }

    async fn exchange(&self, target: &Endpoint, request: HttpRequest) -> Result<HttpResponse> {
        let proxy = self.proxies.for_target(target);
        let io = match tokio::time::timeout(self.connect_timeout, self.connect(target, proxy)).await {
            Ok(io) => io?,
            Err(_) => return Err(Error::timeout(format!("not connected within {:?}", self.connect_timeout))),
        };
        // Plain http through a proxy is the one case that sends the absolute URL and the proxy
        // credentials on the request itself; https goes through a tunnel.
        let forward = proxy.filter(|_| target.scheme == Scheme::Http);
        let uri = match forward {
            Some(_) => format!("{}://{}{}", target.scheme.as_str(), target.host_header(), request.path_and_query),
            None => request.path_and_query,
        };
        let mut builder = hyper::Request::builder()
            .method(request.method)
            .uri(uri)
            .header(hyper::header::HOST, target.host_header())
            .header(hyper::header::USER_AGENT, concat!("rocketmq-ons/", env!("CARGO_PKG_VERSION")))
            .header(hyper::header::ACCEPT, "application/json")
            .header(hyper::header::CONNECTION, "close");
        if let Some(auth) = forward.and_then(|p| p.authorization.as_deref()) {
            builder = builder.header(hyper::header::PROXY_AUTHORIZATION, auth);
        }
        for (name, value) in &request.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::invalid_argument(format!("invalid HTTP header name {name:?}")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| Error::invalid_argument(format!("HTTP header {name} has an invalid value")))?;
            builder = builder.header(name, value);
        }
        let body = match request.body {
            Some((content_type, bytes)) => {
                builder = builder.header(hyper::header::CONTENT_TYPE, content_type);
                Full::new(Bytes::from(bytes))
            }
            None => Full::new(Bytes::new()),
        };
        let request =
            builder.body(body).map_err(|e| Error::invalid_argument(format!("cannot build the request: {e}")))?;

        let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(io))
            .await
            .map_err(|e| Error::network(format!("HTTP handshake failed: {e}")).caused_by(e))?;
        let max = self.max_response_bytes;
        let response = async move {
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| Error::network(format!("request failed: {e}")).caused_by(e))?;
            let status = response.status().as_u16();
            let body = Limited::new(response.into_body(), max).collect().await.map_err(|e| {
                if e.downcast_ref::<LengthLimitError>().is_some() {
                    Error::protocol(format!("response body larger than {max} bytes"))
                } else {
                    Error::network(format!("reading the response failed: {e}"))
                }
            })?;
            Ok(HttpResponse { status, body: body.to_bytes() })
        };
        // The connection is driven here rather than on a spawned task, so a timeout or a drop
        // of the caller's future closes the socket at once.
        tokio::pin!(response, conn);
        let mut conn_done = false;
        loop {
            tokio::select! {
                result = &mut response => return result,
                ended = &mut conn, if !conn_done => {
                    conn_done = true;
                    if let Err(e) = ended {
                        return Err(Error::network(format!("connection failed: {e}")).caused_by(e));
                    }
                }
            }
        }
    }

    async fn connect(&self, target: &Endpoint, proxy: Option<&Proxy>) -> Result<Box<dyn Io>> {
        let hop = proxy.map_or(target, |p| &p.endpoint);
        let mut tcp = TcpStream::connect((hop.host.as_str(), hop.port)).await.map_err(|e| {
            let role = if proxy.is_some() { "proxy " } else { "" };
            Error::network(format!("cannot connect to {role}{}: {e}", hop.authority())).caused_by(e)
        })?;
        // Requests are written whole; waiting for more bytes only adds latency.
        let _ = tcp.set_nodelay(true);
        if let (Some(proxy), Scheme::Https) = (proxy, target.scheme) {
            tunnel(&mut tcp, target, proxy).await?;
        }
        match target.scheme {
            Scheme::Http => Ok(Box::new(tcp)),
            Scheme::Https => {
                let name = tls::server_name(&target.host)?;
                let stream = self.tls.connect(name, tcp).await.map_err(|e| {
                    Error::network(format!(
                        "TLS handshake with {} failed: {e} (a private CA needs the ca_file option)",
                        target.authority()
                    ))
                    .caused_by(e)
                })?;
                Ok(Box::new(stream))
            }
        }
    }
}

/// Asks `proxy` (already connected on `tcp`) for a tunnel to `target` and reads its answer.
async fn tunnel(tcp: &mut TcpStream, target: &Endpoint, proxy: &Proxy) -> Result<()> {
    let authority = target.authority();
    let mut head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(auth) = &proxy.authorization {
        head.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
    }
    head.push_str("\r\n");
    let who = format!("proxy {}", proxy.endpoint.authority());
    let io_err = |e: std::io::Error| Error::network(format!("{who}: {e}")).caused_by(e);
    tcp.write_all(head.as_bytes()).await.map_err(io_err)?;

    // Byte by byte: nothing after the answer's blank line may be consumed, it belongs to TLS.
    const MAX_HEAD: usize = 16 * 1024;
    let mut answer = Vec::with_capacity(256);
    while !answer.ends_with(b"\r\n\r\n") {
        if answer.len() >= MAX_HEAD {
            return Err(Error::protocol(format!("{who} sent an answer head over {MAX_HEAD} bytes")));
        }
        let byte = tcp.read_u8().await.map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => Error::network(format!("{who} closed the connection during CONNECT")),
            _ => io_err(e),
        })?;
        answer.push(byte);
    }
    let status_line = String::from_utf8_lossy(answer.split(|&b| b == b'\r').next().unwrap_or_default()).into_owned();
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| Error::protocol(format!("{who} answered CONNECT with {status_line:?}")))?;
    match status {
        200..=299 => Ok(()),
        407 => Err(Error::network(format!(
            "{who} requires authentication for CONNECT {authority} ({status_line}); put user:password in the proxy URL"
        ))),
        _ => Err(Error::network(format!("{who} refused CONNECT {authority}: {status_line}"))),
    }
}
