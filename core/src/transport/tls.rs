//! TLS for name-server and broker connections: rustls with the `ring` provider (no OpenSSL).
//!
//! This module builds a client's TLS connector ([`TlsSettings`]) from the options the `Tls*`
//! properties were parsed into (`crate::config::tls`), and runs the handshake on a freshly
//! connected socket ([`TlsSettings::handshake`]). Four modes:
//!
//! * plain TCP (the default);
//! * TLS trusting the operating system's root certificates (`TlsEnable=true`);
//! * TLS trusting only the CA certificates of a PEM file (`TlsCaFile=...`);
//! * TLS without certificate verification (`TlsInsecureSkipVerify=true`, an explicit opt-in that
//!   logs one warning per process). The handshake signatures are still checked, so the peer
//!   must hold the key of the certificate it shows; only the chain and the name go unchecked.
//!
//! RocketMQ servers decide per connection by sniffing the first byte (0x16 = TLS handshake), need
//! neither SNI nor ALPN, and speak the same frames inside TLS as outside. The certificate is
//! checked against the host of the address connected to (an IP address for brokers, as routes
//! carry them) unless `TlsServerName` names another.

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Once, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::config::tls::{TlsMode, TlsOptions};
use crate::config::keys;
use crate::error::{Error, ErrorKind, Result};

/// The transport's side of a client's TLS options: the rustls connector built from them on
/// first use (building it cannot fail for options that parsed; were it to, the connect fails).
#[derive(Clone, Default)]
pub struct TlsSettings {
    options: TlsOptions,
    connector: Arc<OnceLock<Result<TlsConnector>>>,
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSettings").field("options", &self.options).finish()
    }
}

impl TlsSettings {
    pub fn new(options: &TlsOptions) -> Self {
        TlsSettings { options: options.clone(), connector: Arc::default() }
    }

    pub fn is_enabled(&self) -> bool {
        self.options.is_enabled()
    }

    fn connector(&self) -> Result<&TlsConnector> {
        let built = self.connector.get_or_init(|| match (self.options.mode(), self.options.roots()) {
            (TlsMode::Plain, _) => Err(Error::new(ErrorKind::Internal, "TLS handshake requested in plain mode")),
            (TlsMode::InsecureSkipVerify, _) => insecure_connector(),
            (_, Some(roots)) => verified_connector(roots.clone()),
            (_, None) => Err(Error::new(ErrorKind::Internal, "TLS options without trusted roots")),
        });
        built.as_ref().map_err(Clone::clone)
    }

    /// Runs the TLS handshake over `stream`, connected to `addr` (`host:port`). Must be bounded
    /// by the caller's timeout: a server that does not speak TLS may never answer.
    pub(crate) async fn handshake(&self, addr: &str, stream: TcpStream) -> Result<TlsStream<TcpStream>> {
        let connector = self.connector()?;
        if self.options.mode() == &TlsMode::InsecureSkipVerify {
            warn_insecure_once();
        }
        let name = match self.options.server_name() {
            Some(n) => n.to_owned(),
            None => host_of(addr).to_owned(),
        };
        let server_name = ServerName::try_from(name.clone())
            .map_err(|_| Error::network(format!("cannot use {name:?} of {addr} as a TLS server name")))?;
        connector.connect(server_name, stream).await.map_err(|e| {
            let hint = match self.options.mode() {
                TlsMode::CaFile(_) => {
                    format!(" (is the server certificate issued by the CA in {}?)", keys::TLS_CA_FILE)
                }
                TlsMode::SystemRoots => {
                    format!(" (a private CA needs {}; a name mismatch {})", keys::TLS_CA_FILE, keys::TLS_SERVER_NAME)
                }
                _ => String::new(),
            };
            Error::network(format!("TLS handshake with {addr} failed: {e}{hint}")).caused_by(e)
        })
    }
}

/// The host part of `host:port` (brackets of an IPv6 literal removed).
fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map(|(h, _)| h).unwrap_or(addr);
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    // A bare IPv6 literal without a port has several colons and no brackets.
    if host.contains(':') && addr.parse::<IpAddr>().is_ok() {
        return addr;
    }
    host
}

/// The provider is chosen explicitly rather than taken from the process default, so that an
/// application installing another default does not change what this client links against.
/// Shared with the HTTP clients' TLS.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER.get_or_init(|| Arc::new(rustls::crypto::ring::default_provider())).clone()
}

fn config_builder() -> Result<rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier>> {
    rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(rustls::DEFAULT_VERSIONS)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("TLS provider unusable: {e}")))
}

fn verified_connector(roots: Arc<RootCertStore>) -> Result<TlsConnector> {
    let config = config_builder()?.with_root_certificates(roots).with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

fn insecure_connector() -> Result<TlsConnector> {
    let config =
        config_builder()?.dangerous().with_custom_certificate_verifier(skip_verification()).with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

fn warn_insecure_once() {
    static WARNED: Once = Once::new();
    WARNED.call_once(|| {
        tracing::warn!(
            "{}=true: TLS server certificates are not verified; connections are encrypted but \
             anyone on the path can impersonate the server",
            keys::TLS_INSECURE_SKIP_VERIFY
        );
    });
}

/// A verifier that accepts any server certificate but still requires the handshake to be signed
/// with the key of the certificate shown. Shared with the HTTP clients' TLS.
pub(crate) fn skip_verification() -> Arc<dyn ServerCertVerifier> {
    Arc::new(SkipVerification(provider()))
}

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
    fn host_of_addresses() {
        assert_eq!(host_of("127.0.0.1:9876"), "127.0.0.1");
        assert_eq!(host_of("broker.example:10911"), "broker.example");
        assert_eq!(host_of("[::1]:9876"), "::1");
        assert_eq!(host_of("localhost"), "localhost");
    }
}
