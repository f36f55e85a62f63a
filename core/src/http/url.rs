//! The small part of URL syntax the HTTP clients need: `scheme://host[:port][/base/path]` for
//! API endpoints and `scheme://[user[:password]@]host[:port]` for proxies.
//!
//! A full URL crate (with IDNA tables) would cost more build time than everything else in
//! `crate::http`; endpoints and proxies are configuration values, so a strict parser that
//! rejects what it does not understand is enough.

use std::fmt;

use crate::error::{Error, Result};

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    pub(crate) fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// Where requests go: scheme, host (without IPv6 brackets), port and a base path without a
/// trailing slash (empty for the root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub scheme: Scheme,
    pub host: String,
    pub port: u16,
    pub base_path: String,
}

/// A parsed URL with optional credentials; only proxies carry them.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct UrlWithAuth {
    pub endpoint: Endpoint,
    /// `user:password`, percent-decoded.
    pub auth: Option<(String, String)>,
}

impl fmt::Debug for UrlWithAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The password never reaches a log; the user name neither, it can be half of a secret.
        f.debug_struct("UrlWithAuth")
            .field("endpoint", &self.endpoint)
            .field("auth", &self.auth.as_ref().map(|_| "***"))
            .finish()
    }
}

impl Endpoint {
    /// Parses an API endpoint. Without a scheme, `default_scheme` is assumed (the ASAPI guide
    /// writes endpoints without one, docs/asapi.md §1). User info, queries and fragments are
    /// rejected: they would be silently lost or, worse, signed.
    pub(crate) fn parse(what: &str, input: &str, default_scheme: Scheme) -> Result<Endpoint> {
        let parsed = parse_url(what, input, default_scheme)?;
        if parsed.auth.is_some() {
            return Err(bad(what, input, "must not contain user info (user@...)"));
        }
        Ok(parsed.endpoint)
    }

    /// `host:port` as a request target of CONNECT, IPv6 literals in brackets.
    pub(crate) fn authority(&self) -> String {
        format!("{}:{}", self.bracketed_host(), self.port)
    }

    /// The `Host` header: the port only when it is not the scheme's default.
    pub(crate) fn host_header(&self) -> String {
        if self.port == self.scheme.default_port() {
            self.bracketed_host()
        } else {
            self.authority()
        }
    }

    fn bracketed_host(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}{}", self.scheme.as_str(), self.host_header(), self.base_path)
    }
}

/// Parses `[scheme://][user[:password]@]host[:port][/path]`.
pub(crate) fn parse_url(what: &str, input: &str, default_scheme: Scheme) -> Result<UrlWithAuth> {
    let s = input.trim();
    if s.is_empty() {
        return Err(Error::invalid_config(format!("{what} is empty")));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad(what, input, "contains white space or control characters"));
    }
    let (scheme, rest) = match s.split_once("://") {
        Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
            "http" => (Scheme::Http, rest),
            "https" => (Scheme::Https, rest),
            other => return Err(bad(what, input, &format!("has scheme {other:?}; only http and https are supported"))),
        },
        None => (default_scheme, s),
    };
    if rest.contains(['?', '#']) {
        return Err(bad(what, input, "must not contain a query (?) or fragment (#)"));
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (auth, host_port) = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            let user = percent_decode(user).ok_or_else(|| bad(what, input, "has a malformed user name"))?;
            let password = percent_decode(password).ok_or_else(|| bad(what, input, "has a malformed password"))?;
            (Some((user, password)), host_port)
        }
        None => (None, authority),
    };
    let (host, port) = split_host_port(host_port).ok_or_else(|| bad(what, input, "has a malformed host or port"))?;
    if host.is_empty() {
        return Err(bad(what, input, "has no host"));
    }
    if !host.contains(':') && !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')) {
        return Err(bad(what, input, "has a host with characters other than A-Z a-z 0-9 - . _"));
    }
    let port = port.unwrap_or_else(|| scheme.default_port());
    let base_path = path.trim_end_matches('/').to_owned();
    Ok(UrlWithAuth { endpoint: Endpoint { scheme, host: host.to_owned(), port, base_path }, auth })
}

/// Splits `host`, `host:port`, `[v6]` or `[v6]:port`. `None` for a malformed port or bracket.
fn split_host_port(s: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        host.parse::<std::net::Ipv6Addr>().ok()?;
        return match after {
            "" => Some((host, None)),
            _ => Some((host, Some(after.strip_prefix(':')?.parse().ok()?))),
        };
    }
    match s.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => Some((host, Some(port.parse().ok()?))),
        Some(_) => None,
        None => Some((s, None)),
    }
}

/// Decodes `%XY` escapes; `None` for a malformed escape or bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `scheme://***@host...` for a URL with user info (which can hold a proxy password), the URL
/// itself otherwise.
pub(crate) fn redact_userinfo(url: &str) -> String {
    match url.rsplit_once('@') {
        Some((before, after)) => {
            let scheme = before.split_once("://").map(|(s, _)| format!("{s}://")).unwrap_or_default();
            format!("{scheme}***@{after}")
        }
        None => url.to_owned(),
    }
}

fn bad(what: &str, input: &str, why: &str) -> Error {
    Error::invalid_config(format!("{what} {:?} {why}", redact_userinfo(input)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(s: &str) -> Endpoint {
        Endpoint::parse("endpoint", s, Scheme::Https).unwrap()
    }

    #[test]
    fn endpoints() {
        let e = ep("https://public.asapi.cn-x.example.com/asapi/v3/");
        assert_eq!(e.scheme, Scheme::Https);
        assert_eq!(
            (e.host.as_str(), e.port, e.base_path.as_str()),
            ("public.asapi.cn-x.example.com", 443, "/asapi/v3")
        );
        assert_eq!(e.to_string(), "https://public.asapi.cn-x.example.com/asapi/v3");
        // The ASAPI guide's POP examples give the endpoint without a scheme (docs/asapi.md §1).
        assert_eq!(ep("public.asapi.r.example.com/asapi/v3").scheme, Scheme::Https);
        let e = ep("http://127.0.0.1:8080");
        assert_eq!((e.scheme, e.port, e.base_path.as_str()), (Scheme::Http, 8080, ""));
        assert_eq!(e.host_header(), "127.0.0.1:8080");
        let e = ep("https://[::1]:8443/x");
        assert_eq!((e.host.as_str(), e.port), ("::1", 8443));
        assert_eq!(e.authority(), "[::1]:8443");
        assert_eq!(ep("HTTPS://mq.console.example.com:443").host_header(), "mq.console.example.com");
    }

    #[test]
    fn bad_endpoints_name_the_problem() {
        for (input, why) in [
            ("", "is empty"),
            ("ftp://x", "only http and https"),
            ("https://x/a?b=c", "query"),
            ("https://u:p@x", "user info"),
            ("https://x:99999", "host or port"),
            ("https://x:", "host or port"),
            ("https://:80", "no host"),
            ("https://a b", "white space"),
            ("https://[zz]:1", "host or port"),
            ("https://ex%41mple.com", "characters other than"),
        ] {
            let err = Endpoint::parse("Open API endpoint", input, Scheme::Https).unwrap_err();
            assert!(err.message().contains(why), "{input}: {err}");
            assert!(err.message().contains("Open API endpoint"), "{err}");
        }
    }

    #[test]
    fn proxy_credentials_are_decoded_and_hidden() {
        let u = parse_url("proxy", "http://us%40er:p%3Ass@proxy.local:3128", Scheme::Http).unwrap();
        assert_eq!(u.auth, Some(("us@er".to_owned(), "p:ss".to_owned())));
        assert_eq!((u.endpoint.host.as_str(), u.endpoint.port), ("proxy.local", 3128));
        assert!(!format!("{u:?}").contains("p:ss"));
        let u = parse_url("proxy", "10.0.0.1:8080", Scheme::Http).unwrap();
        assert_eq!((u.endpoint.scheme, u.endpoint.port, u.auth), (Scheme::Http, 8080, None));
        let err = parse_url("proxy", "socks5://user:hunter2@h:1", Scheme::Http).unwrap_err();
        assert!(!err.message().contains("hunter2"), "{err}");
        let err = parse_url("proxy", "http://user:hunter2@h:x", Scheme::Http).unwrap_err();
        assert!(!err.message().contains("hunter2") && err.message().contains("***@h:x"), "{err}");
        assert!(parse_url("proxy", "http://u:%zz@h", Scheme::Http).is_err());
    }
}
