//! The rustls client configuration of the HTTP clients (ring provider, no OpenSSL): the
//! system's trusted roots, or only the CA certificates of a PEM file, or, as an explicit
//! opt-in that warns once per process, no certificate check at all (the ASAPI SDK examples
//! turn verification off, docs/asapi.md §7; the handshake signature is still checked).
//!
//! Separate from `crate::transport::tls` because the HTTP clients are configured by their own
//! options rather than ONS properties, and offer ALPN `http/1.1`; the provider, the PEM loader
//! and the skip-verification verifier are that module's.

use std::path::Path;
use std::sync::{Arc, Once, OnceLock};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, RootCertStore};

use crate::config::tls::load_pem_roots;
use crate::error::{Error, ErrorKind, Result};
use crate::transport::tls::{provider, skip_verification};

/// Builds the client configuration. `ca_file` replaces the system roots (as curl's `--cacert`
/// and Python's `verify=path` do); `insecure` excludes it.
pub(crate) fn client_config(ca_file: Option<&Path>, insecure: bool) -> Result<Arc<ClientConfig>> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(rustls::DEFAULT_VERSIONS)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("TLS provider unusable: {e}")))?;
    let mut config = match (ca_file, insecure) {
        (Some(_), true) => {
            return Err(Error::invalid_config(
                "HTTP options ca_file and insecure_skip_verify contradict each other: set one of them",
            ))
        }
        (None, true) => {
            warn_insecure_once();
            builder.dangerous().with_custom_certificate_verifier(skip_verification()).with_no_client_auth()
        }
        (Some(path), false) => builder.with_root_certificates(roots_from_pem_file(path)?).with_no_client_auth(),
        (None, false) => builder.with_root_certificates(system_roots()).with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The server name to verify for `host` (a DNS name or an IP address).
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>> {
    ServerName::try_from(host.to_owned())
        .map_err(|_| Error::invalid_config(format!("{host:?} cannot be used as a TLS server name")))
}

/// The system's trusted roots, read once per process. An empty store is not an error here: a
/// client for a plain-http endpoint needs none, and an https call then fails with an unknown
/// issuer that names the way out (`ca_file`).
fn system_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            let mut roots = RootCertStore::empty();
            let (added, _unparsable) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                tracing::warn!("no trusted root certificate in the system store; HTTPS needs the ca_file option");
            }
            Arc::new(roots)
        })
        .clone()
}

fn roots_from_pem_file(path: &Path) -> Result<Arc<RootCertStore>> {
    Ok(Arc::new(load_pem_roots(path, "HTTP option ca_file")?))
}

fn warn_insecure_once() {
    static WARNED: Once = Once::new();
    WARNED.call_once(|| {
        tracing::warn!(
            "HTTP option insecure_skip_verify: server certificates of the Open API / ASAPI are not \
             verified; anyone on the path can impersonate the server"
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_bad_files() {
        let err = client_config(Some(Path::new("/x.pem")), true).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        let err = client_config(Some(Path::new("/nonexistent/ca.pem")), false).unwrap_err();
        assert!(err.message().contains("ca_file") && err.message().contains("/nonexistent/ca.pem"), "{err}");
        let path = std::env::temp_dir().join(format!("ons-http-tls-unit-{}.pem", std::process::id()));
        std::fs::write(&path, "hello").unwrap();
        let err = client_config(Some(&path), false).unwrap_err();
        assert!(err.message().contains("no CERTIFICATE"), "{err}");
        std::fs::remove_file(&path).unwrap();
        let config = client_config(None, true).unwrap();
        assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
        assert!(server_name("::1").is_ok() && server_name("mq.console.example.com").is_ok());
        assert!(server_name("not a name").is_err());
    }
}
