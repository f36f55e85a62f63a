//! The address server of `ONSAddr` (docs/configuration-keys.md, "Name servers from an address
//! server"): an HTTP URL whose GET answers with the name-server list, as the Java client's
//! `TopAddressing` reads it (apache/rocketmq
//! `common/src/main/java/org/apache/rocketmq/common/namesrv/DefaultTopAddressing.java`).
//!
//! This module owns telling an address-server URL from a name-server address, one fetch, and
//! the parsing of the answer. Polling and keeping the last good list are the client instance's
//! (`crate::client::instance`).

use std::time::Duration;

use super::transport::{HttpClient, HttpRequest};
use super::url::{Endpoint, Scheme};
use super::{HttpOptions, ProxyOptions};
use crate::error::{Error, ErrorKind, Result};

/// Java's `fetchNSAddr(verbose, 3000)`: one fetch, connect included, within 3 s.
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// An answer is one line of addresses; anything near this size is not one.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Whether `value` (a NAMESRV_ADDR or ONSAddr value) names an address server: an `http://` or
/// `https://` URL with a path. `http://host:port` without a path stays a name-server address
/// (the form of Alibaba Cloud's TCP endpoints, used as plain TCP).
pub fn is_address_server_url(value: &str) -> bool {
    let value = value.trim();
    let Some((scheme, rest)) = value.split_once("://") else { return false };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return false;
    }
    rest.split_once('/').is_some_and(|(_, path)| !path.trim_end_matches('/').is_empty())
}

/// An address server, ready to be asked.
pub struct AddressServer {
    url: String,
    endpoint: Endpoint,
    http: HttpClient,
}

impl AddressServer {
    /// Checks `url` (given as property `property`); a malformed one is an `InvalidConfig` error
    /// naming the property. Proxy variables are not read: Java's `HttpTinyClient` connects
    /// directly, and an address server is usually inside the network of its name servers.
    pub fn new(property: &str, url: &str) -> Result<AddressServer> {
        let endpoint = Endpoint::parse(&format!("property {property}"), url, Scheme::Http)?;
        let options = HttpOptions {
            connect_timeout: FETCH_TIMEOUT,
            timeout: FETCH_TIMEOUT,
            proxy: ProxyOptions::Direct,
            max_response_bytes: MAX_ANSWER_BYTES,
            ..HttpOptions::default()
        };
        Ok(AddressServer { url: endpoint.to_string(), endpoint, http: HttpClient::new(&options)? })
    }

    /// The URL as given (it carries no credentials: user info is refused), for messages.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Asks for the name-server list once: HTTP 200 and a list of at least one `host:port`,
    /// else an error saying what came back.
    pub async fn fetch(&self) -> Result<Vec<String>> {
        let request = HttpRequest {
            method: hyper::Method::GET,
            path_and_query: self.endpoint.base_path.clone(),
            headers: Vec::new(),
            body: None,
        };
        let response = self.http.send(&self.endpoint, request).await?;
        if response.status != 200 {
            return Err(Error::new(
                ErrorKind::Network,
                format!("address server {} answered HTTP {}", self.url, response.status),
            ));
        }
        let text = std::str::from_utf8(&response.body).map_err(|_| {
            Error::protocol(format!("address server {} answered with bytes that are not UTF-8", self.url))
        })?;
        parse_answer(text).map_err(|e| Error::new(e.kind(), format!("address server {}: {}", self.url, e.message())))
    }
}

/// The name servers in an address server's answer: `host:port` entries separated by `;`, white
/// space around them ignored. As Java's `clearNewLine`, only the first line of the trimmed
/// answer counts.
pub fn parse_answer(text: &str) -> Result<Vec<String>> {
    let trimmed = text.trim();
    let first_line = trimmed.split(['\r', '\n']).next().unwrap_or("");
    let mut addrs = Vec::new();
    for entry in first_line.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let valid = entry
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && !host.contains('/') && port.parse::<u16>().is_ok());
        if !valid {
            return Err(Error::protocol(format!("answer entry {entry:?} is not host:port")));
        }
        if !addrs.iter().any(|a| a == entry) {
            addrs.push(entry.to_owned());
        }
    }
    if addrs.is_empty() {
        return Err(Error::protocol("answer lists no name server"));
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_url_with_a_path_is_an_address_server() {
        for url in [
            "http://onsaddr.example.com/rocketmq/nsaddr4client-internet",
            "http://127.0.0.1:8080/nsaddr",
            "HTTPS://addr.example.com/x/",
            " http://h:1/p ",
        ] {
            assert!(is_address_server_url(url), "{url}");
        }
        for addr in [
            "http://MQ_INST_123_BXyz.cn-hangzhou.mq-internal.aliyuncs.com:8080",
            "http://MQ_INST_123_BXyz.cn-hangzhou.mq-internal.aliyuncs.com:8080/",
            "127.0.0.1:9876",
            "127.0.0.1:9876;10.0.0.2:9876",
            "tcp://h:1/p",
        ] {
            assert!(!is_address_server_url(addr), "{addr}");
        }
    }

    #[test]
    fn answers_are_parsed_as_java_reads_them() {
        assert_eq!(parse_answer("10.0.0.1:9876").unwrap(), ["10.0.0.1:9876"]);
        assert_eq!(parse_answer("  10.0.0.1:9876; 10.0.0.2:9876 ;;\r\n").unwrap(), ["10.0.0.1:9876", "10.0.0.2:9876"]);
        // Only the first line counts (Java's clearNewLine), and duplicates are listed once.
        assert_eq!(parse_answer("\n a:1;a:1;b:2\nc:3").unwrap(), ["a:1", "b:2"]);
        for bad in ["", "  \r\n", ";", "<html>", "a:port", ":1", "a:99999", "http://x/y:1"] {
            let err = parse_answer(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Protocol, "{bad:?}: {err}");
        }
    }

    #[test]
    fn malformed_urls_name_the_property() {
        let err = AddressServer::new("ONSAddr", "http://user:pw@h/p").err().unwrap();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        assert!(err.message().contains("property ONSAddr") && !err.message().contains("pw"), "{err}");
        let err = AddressServer::new("ONSAddr", "http://h/p?unit=1").err().unwrap();
        assert!(err.message().contains("query"), "{err}");
        let server = AddressServer::new("ONSAddr", "http://127.0.0.1:8080/rocketmq/nsaddr/").unwrap();
        assert_eq!(server.url(), "http://127.0.0.1:8080/rocketmq/nsaddr");
    }
}
