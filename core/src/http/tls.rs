//! The rustls client configuration of the HTTP clients (ring provider, no OpenSSL): the
//! system's trusted roots, or only the CA certificates of a PEM file, or, as an explicit
//! opt-in that warns once per process, no certificate check at all (the seed's SDK examples
//! turn verification off for ASAPI; the handshake signature is still checked).
//!
//! Separate from `crate::transport::tls` because the HTTP clients are configured by their own
//! options rather than ONS properties, and offer ALPN `http/1.1`.

use std::path::Path;
use std::sync::{Arc, Once, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::{Error, ErrorKind, Result};

/// Builds the client configuration. `ca_file` replaces the system roots (as curl's `--cacert`
/// and Python's `verify=path` do); `insecure` excludes it.
pub(crate) fn client_config(ca_file: Option<&Path>, insecure: bool) -> Result<Arc<ClientConfig>> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
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
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(SkipVerification(provider)))
                .with_no_client_auth()
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

/// Chosen explicitly rather than taken from the process default, so that the application's
/// choice of default provider neither changes nor breaks these clients.
fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER.get_or_init(|| Arc::new(rustls::crypto::ring::default_provider())).clone()
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
    let bad = |why: String| Error::invalid_config(format!("HTTP option ca_file ({}): {why}", path.display()));
    let data = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&data) {
        let cert = cert.map_err(|e| bad(format!("not a PEM certificate file: {e}")))?;
        roots.add(cert).map_err(|e| bad(format!("unusable CA certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(bad("no CERTIFICATE block in it".to_owned()));
    }
    Ok(Arc::new(roots))
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

/// Accepts any certificate chain and name, but the handshake must still be signed with the key
/// of the certificate shown.
#[derive(Debug)]
struct SkipVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for SkipVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
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
