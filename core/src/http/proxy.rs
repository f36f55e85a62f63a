//! Which proxy a request goes through: an explicit proxy URL from the caller, or the
//! conventional environment variables (`https_proxy`/`HTTPS_PROXY` for https targets,
//! `http_proxy`/`HTTP_PROXY` for http targets, `all_proxy`/`ALL_PROXY` for both, and
//! `no_proxy`/`NO_PROXY` for exceptions), as the ASAPI SDK examples configure them
//! (docs/asapi.md §7).
//!
//! Only HTTP proxies are spoken to (CONNECT for https targets, absolute-form requests for http
//! targets). An `https://` proxy URL is accepted and treated as the same plain HTTP proxy, the
//! way most tools read the SDK examples' `HTTPS_PROXY="https://x.x.x.x:xxxx"`.

use std::fmt;
use std::net::IpAddr;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use super::url::{parse_url, redact_userinfo, Endpoint, Scheme};
use crate::error::Result;

/// How the HTTP clients choose a proxy.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum ProxyOptions {
    /// From the environment variables named in the module docs (the default).
    #[default]
    FromEnv,
    /// Connect directly, whatever the environment says.
    Direct,
    /// Through this proxy (`http://[user:password@]host:port`), except for the hosts of
    /// `no_proxy` (same syntax as the `NO_PROXY` variable).
    Url { url: String, no_proxy: Option<String> },
}

impl fmt::Debug for ProxyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyOptions::FromEnv => f.write_str("FromEnv"),
            ProxyOptions::Direct => f.write_str("Direct"),
            ProxyOptions::Url { url, no_proxy } => {
                f.debug_struct("Url").field("url", &redact_userinfo(url)).field("no_proxy", no_proxy).finish()
            }
        }
    }
}

/// One proxy to go through.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Proxy {
    pub endpoint: Endpoint,
    /// The `Proxy-Authorization` header value (`Basic ...`), when the URL had credentials.
    pub authorization: Option<String>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("endpoint", &self.endpoint)
            .field("authorization", &self.authorization.as_ref().map(|_| "***"))
            .finish()
    }
}

impl Proxy {
    fn parse(what: &str, url: &str) -> Result<Proxy> {
        let parsed = parse_url(what, url, Scheme::Http)?;
        let authorization =
            parsed.auth.map(|(user, password)| format!("Basic {}", BASE64.encode(format!("{user}:{password}"))));
        Ok(Proxy { endpoint: parsed.endpoint, authorization })
    }
}

/// The proxies resolved once when a client is built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ProxySettings {
    http: Option<Proxy>,
    https: Option<Proxy>,
    no_proxy: NoProxy,
}

impl ProxySettings {
    /// Resolves `options`, reading variables through `env` (`std::env::var` outside tests).
    pub(crate) fn resolve(options: &ProxyOptions, env: impl Fn(&str) -> Option<String>) -> Result<ProxySettings> {
        match options {
            ProxyOptions::Direct => Ok(ProxySettings::default()),
            ProxyOptions::Url { url, no_proxy } => {
                let proxy = Proxy::parse("proxy URL", url)?;
                Ok(ProxySettings {
                    http: Some(proxy.clone()),
                    https: Some(proxy),
                    no_proxy: NoProxy::parse(no_proxy.as_deref().unwrap_or("")),
                })
            }
            ProxyOptions::FromEnv => {
                // Lower case first, as curl does; an empty value means unset.
                let var = |lower: &str, upper: &str| {
                    env(lower).filter(|v| !v.trim().is_empty()).or_else(|| env(upper).filter(|v| !v.trim().is_empty()))
                };
                let all = var("all_proxy", "ALL_PROXY");
                let from = |name: &str, value: Option<String>| value.map(|v| Proxy::parse(name, &v)).transpose();
                Ok(ProxySettings {
                    http: from("environment variable HTTP_PROXY", var("http_proxy", "HTTP_PROXY").or(all.clone()))?,
                    https: from("environment variable HTTPS_PROXY", var("https_proxy", "HTTPS_PROXY").or(all))?,
                    no_proxy: NoProxy::parse(&var("no_proxy", "NO_PROXY").unwrap_or_default()),
                })
            }
        }
    }

    /// The proxy for a request to `target`, if any.
    pub(crate) fn for_target(&self, target: &Endpoint) -> Option<&Proxy> {
        let proxy = match target.scheme {
            Scheme::Http => self.http.as_ref(),
            Scheme::Https => self.https.as_ref(),
        }?;
        if self.no_proxy.matches(&target.host) {
            return None;
        }
        Some(proxy)
    }
}

/// The hosts that bypass the proxy: `*` for all, domain names (matching the name and its
/// subdomains, with or without a leading dot), IP addresses and CIDR blocks. A `:port` suffix
/// on an entry is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct NoProxy {
    all: bool,
    domains: Vec<String>,
    networks: Vec<(IpAddr, u8)>,
}

impl NoProxy {
    fn parse(list: &str) -> NoProxy {
        let mut out = NoProxy::default();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                out.all = true;
                continue;
            }
            if let Some((addr, bits)) = entry.split_once('/') {
                if let (Ok(addr), Ok(bits)) = (addr.parse::<IpAddr>(), bits.parse::<u8>()) {
                    out.networks.push((addr, bits));
                }
                continue;
            }
            let bare = entry.strip_prefix('[').and_then(|e| e.split_once(']')).map(|(h, _)| h).unwrap_or(entry);
            if let Ok(ip) = bare.parse::<IpAddr>() {
                out.networks.push((ip, if ip.is_ipv4() { 32 } else { 128 }));
                continue;
            }
            let host = bare.rsplit_once(':').map(|(h, _)| h).unwrap_or(bare);
            out.domains.push(host.trim_start_matches("*.").trim_start_matches('.').to_ascii_lowercase());
        }
        out
    }

    fn matches(&self, host: &str) -> bool {
        if self.all {
            return true;
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            return self.networks.iter().any(|(net, bits)| in_network(ip, *net, *bits));
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.domains.iter().any(|d| host == *d || host.strip_suffix(d.as_str()).is_some_and(|p| p.ends_with('.')))
    }
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (ip, net, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32u32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128u32),
        _ => return false,
    };
    let bits = u32::from(bits).min(width);
    if bits == 0 {
        return true;
    }
    let shift = width - bits;
    (ip >> shift) == (net >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn target(url: &str) -> Endpoint {
        Endpoint::parse("t", url, Scheme::Https).unwrap()
    }

    fn from_env(vars: &[(&str, &str)]) -> Result<ProxySettings> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ProxySettings::resolve(&ProxyOptions::FromEnv, |k| map.get(k).cloned())
    }

    #[test]
    fn env_variables_by_scheme() {
        let s =
            from_env(&[("HTTPS_PROXY", "http://p1:3128"), ("http_proxy", "p2:8080"), ("HTTP_PROXY", "p3:1")]).unwrap();
        assert_eq!(s.for_target(&target("https://mq.console.x")).unwrap().endpoint.host, "p1");
        assert_eq!(s.for_target(&target("http://mq.console.x")).unwrap().endpoint.host, "p2");
        let s = from_env(&[("ALL_PROXY", "http://all:1")]).unwrap();
        assert_eq!(s.for_target(&target("https://x")).unwrap().endpoint.host, "all");
        assert!(from_env(&[]).unwrap().for_target(&target("https://x")).is_none());
        assert!(from_env(&[("https_proxy", " ")]).unwrap().for_target(&target("https://x")).is_none());
        let err = from_env(&[("HTTPS_PROXY", "socks5://h:1")]).unwrap_err();
        assert!(err.message().contains("HTTPS_PROXY"), "{err}");
    }

    #[test]
    fn no_proxy_rules() {
        let s = from_env(&[
            ("https_proxy", "http://p:1"),
            ("no_proxy", "localhost, .internal.example,example.org:443,10.0.0.0/8,::1,[fd00::1]:80"),
        ])
        .unwrap();
        for direct in [
            "localhost",
            "a.internal.example",
            "internal.example",
            "example.org",
            "x.example.org",
            "10.2.3.4",
            "::1",
            "fd00::1",
        ] {
            assert!(s.for_target(&target(&format!("https://{}", bracket(direct)))).is_none(), "{direct}");
        }
        for proxied in ["notexample.org", "11.0.0.1", "example.com", "fd00::2", "localhost.evil"] {
            assert!(s.for_target(&target(&format!("https://{}", bracket(proxied)))).is_some(), "{proxied}");
        }
        let all = from_env(&[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", "*")]).unwrap();
        assert!(all.for_target(&target("https://anything")).is_none());
    }

    fn bracket(h: &str) -> String {
        if h.contains(':') {
            format!("[{h}]")
        } else {
            h.to_owned()
        }
    }

    #[test]
    fn explicit_proxy_wins_and_hides_credentials() {
        let opts =
            ProxyOptions::Url { url: "http://user:s3cret@proxy:3128".into(), no_proxy: Some("127.0.0.1".into()) };
        let s = ProxySettings::resolve(&opts, |_| Some("http://env:1".into())).unwrap();
        let p = s.for_target(&target("https://api")).unwrap();
        assert_eq!(p.endpoint.host, "proxy");
        assert_eq!(p.authorization.as_deref(), Some("Basic dXNlcjpzM2NyZXQ="));
        assert!(s.for_target(&target("https://127.0.0.1:9")).is_none());
        for printed in [format!("{opts:?}"), format!("{s:?}"), format!("{p:?}")] {
            assert!(!printed.contains("s3cret") && !printed.contains("dXNlcjpzM2NyZXQ"), "{printed}");
        }
        let direct = ProxySettings::resolve(&ProxyOptions::Direct, |_| Some("http://env:1".into())).unwrap();
        assert!(direct.for_target(&target("https://api")).is_none());
    }

    #[test]
    fn networks() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(in_network(ip("192.168.1.7"), ip("192.168.0.0"), 16));
        assert!(!in_network(ip("192.169.1.7"), ip("192.168.0.0"), 16));
        assert!(in_network(ip("1.2.3.4"), ip("0.0.0.0"), 0));
        assert!(!in_network(ip("::1"), ip("0.0.0.0"), 0));
        assert!(in_network(ip("fd00::5"), ip("fd00::"), 64));
    }
}
