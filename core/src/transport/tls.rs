//! TLS for name-server and broker connections: rustls with the `ring` provider (no OpenSSL).
//!
//! This module owns the TLS settings of a client ([`TlsSettings`], parsed from the `Tls*`
//! properties documented in [`crate::config::keys`]) and the handshake on a freshly connected
//! socket ([`TlsSettings::handshake`]). Four modes:
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
use std::path::{Path, PathBuf};
use std::sync::{Arc, Once, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::config::{keys, Properties};
use crate::error::{Error, ErrorKind, Result};

/// How connections are secured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP.
    Plain,
    /// TLS, server certificates checked against the system's trusted roots.
    SystemRoots,
    /// TLS, server certificates checked against the CA certificates in this PEM file only.
    CaFile(PathBuf),
    /// TLS without any check of the server certificate (tests, or a trusted network).
    InsecureSkipVerify,
}

/// The TLS part of a client configuration: the mode, an optional name to verify certificates
/// against, and the rustls configuration built once from them.
#[derive(Clone)]
pub struct TlsSettings {
    mode: TlsMode,
    server_name: Option<String>,
    connector: Option<TlsConnector>,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings { mode: TlsMode::Plain, server_name: None, connector: None }
    }
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSettings").field("mode", &self.mode).field("server_name", &self.server_name).finish()
    }
}

impl TlsSettings {
    /// Reads `TlsEnable`, `TlsCaFile`, `TlsInsecureSkipVerify` and `TlsServerName`, loading the
    /// CA file (or the system roots) now so that a bad file is a configuration error naming the
    /// property rather than a failure at the first connect.
    pub fn from_properties(props: &Properties) -> Result<Self> {
        let enable = props.parse_bool(keys::TLS_ENABLE)?;
        let ca_file = props.get(keys::TLS_CA_FILE).map(PathBuf::from);
        let insecure = props.parse_bool(keys::TLS_INSECURE_SKIP_VERIFY)?.unwrap_or(false);
        let server_name = props.get(keys::TLS_SERVER_NAME).map(str::to_owned);
        if enable == Some(false) && (ca_file.is_some() || insecure || server_name.is_some()) {
            return Err(Error::invalid_config(format!(
                "property {} is false, but {}, {} or {} asks for TLS",
                keys::TLS_ENABLE,
                keys::TLS_CA_FILE,
                keys::TLS_INSECURE_SKIP_VERIFY,
                keys::TLS_SERVER_NAME
            )));
        }
        let mode = match (ca_file, insecure) {
            (Some(_), true) => {
                return Err(Error::invalid_config(format!(
                    "properties {} and {} contradict each other: set one of them",
                    keys::TLS_CA_FILE,
                    keys::TLS_INSECURE_SKIP_VERIFY
                )))
            }
            (Some(path), false) => TlsMode::CaFile(path),
            (None, true) => TlsMode::InsecureSkipVerify,
            (None, false) if enable == Some(true) || server_name.is_some() => TlsMode::SystemRoots,
            (None, false) => TlsMode::Plain,
        };
        if let Some(name) = &server_name {
            ServerName::try_from(name.as_str()).map_err(|_| {
                Error::invalid_config(format!(
                    "property {} must be a DNS name or IP address, got {name:?}",
                    keys::TLS_SERVER_NAME
                ))
            })?;
        }
        let connector = match &mode {
            TlsMode::Plain => None,
            TlsMode::SystemRoots => Some(verified_connector(system_roots()?)?),
            TlsMode::CaFile(path) => Some(verified_connector(Arc::new(roots_from_pem_file(path)?))?),
            TlsMode::InsecureSkipVerify => Some(insecure_connector()?),
        };
        Ok(TlsSettings { mode, server_name, connector })
    }

    pub fn mode(&self) -> &TlsMode {
        &self.mode
    }

    pub fn is_enabled(&self) -> bool {
        self.connector.is_some()
    }

    /// Distinguishes settings that must not share connections (part of the client instance
    /// key): two clients share a connection only if they secure it the same way.
    pub fn instance_key(&self) -> String {
        let name = self.server_name.as_deref().unwrap_or("");
        match &self.mode {
            TlsMode::Plain => "plain".to_owned(),
            TlsMode::SystemRoots => format!("tls-system:{name}"),
            TlsMode::CaFile(path) => format!("tls-ca:{}:{name}", path.display()),
            TlsMode::InsecureSkipVerify => "tls-insecure".to_owned(),
        }
    }

    /// Runs the TLS handshake over `stream`, connected to `addr` (`host:port`). Must be bounded
    /// by the caller's timeout: a server that does not speak TLS may never answer.
    pub(crate) async fn handshake(&self, addr: &str, stream: TcpStream) -> Result<TlsStream<TcpStream>> {
        let Some(connector) = &self.connector else {
            return Err(Error::new(ErrorKind::Internal, "TLS handshake requested in plain mode"));
        };
        if self.mode == TlsMode::InsecureSkipVerify {
            warn_insecure_once();
        }
        let name = match &self.server_name {
            Some(n) => n.clone(),
            None => host_of(addr).to_owned(),
        };
        let server_name = ServerName::try_from(name.clone())
            .map_err(|_| Error::network(format!("cannot use {name:?} of {addr} as a TLS server name")))?;
        connector.connect(server_name, stream).await.map_err(|e| {
            let hint = match &self.mode {
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

/// The system's trusted roots, read once per process.
fn system_roots() -> Result<Arc<RootCertStore>> {
    static ROOTS: OnceLock<std::result::Result<Arc<RootCertStore>, String>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            let mut roots = RootCertStore::empty();
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                let why = found.errors.first().map(|e| format!(": {e}")).unwrap_or_default();
                return Err(format!(
                    "{} is true but no trusted root certificate was found in the system store{why}; \
                     set {} to a PEM file with the server's CA",
                    keys::TLS_ENABLE,
                    keys::TLS_CA_FILE
                ));
            }
            Ok(Arc::new(roots))
        })
        .clone()
        .map_err(Error::invalid_config)
}

fn roots_from_pem_file(path: &Path) -> Result<RootCertStore> {
    load_pem_roots(path, &format!("property {}", keys::TLS_CA_FILE))
}

/// The CA certificates of a PEM file; errors are configuration errors that start with `what`
/// (the option that named the file). Shared with the HTTP clients' TLS.
pub(crate) fn load_pem_roots(path: &Path, what: &str) -> Result<RootCertStore> {
    let bad = |why: String| Error::invalid_config(format!("{what} ({}): {why}", path.display()));
    let data = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&data) {
        let cert = cert.map_err(|e| bad(format!("not a PEM certificate file: {e}")))?;
        roots.add(cert).map_err(|e| bad(format!("unusable CA certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(bad("no CERTIFICATE block in it".to_owned()));
    }
    Ok(roots)
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

    fn settings(pairs: &[(&str, &str)]) -> Result<TlsSettings> {
        TlsSettings::from_properties(&pairs.iter().map(|(k, v)| (*k, *v)).collect())
    }

    #[test]
    fn modes_from_properties() {
        assert_eq!(settings(&[]).unwrap().mode(), &TlsMode::Plain);
        assert!(!settings(&[(keys::TLS_ENABLE, "false")]).unwrap().is_enabled());
        let insecure = settings(&[(keys::TLS_INSECURE_SKIP_VERIFY, "true")]).unwrap();
        assert_eq!(insecure.mode(), &TlsMode::InsecureSkipVerify);
        assert!(insecure.is_enabled());
        assert_ne!(insecure.instance_key(), settings(&[]).unwrap().instance_key());
    }

    #[test]
    fn contradictions_and_bad_files_name_the_property() {
        let err = settings(&[(keys::TLS_ENABLE, "false"), (keys::TLS_INSECURE_SKIP_VERIFY, "true")]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        assert!(err.message().contains(keys::TLS_ENABLE), "{err}");

        let err = settings(&[(keys::TLS_CA_FILE, "/x.pem"), (keys::TLS_INSECURE_SKIP_VERIFY, "true")]).unwrap_err();
        assert!(err.message().contains(keys::TLS_CA_FILE), "{err}");

        let err = settings(&[(keys::TLS_CA_FILE, "/nonexistent/ca.pem")]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        assert!(err.message().contains("TlsCaFile") && err.message().contains("/nonexistent/ca.pem"), "{err}");

        let dir = std::env::temp_dir().join(format!("ons-tls-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let not_pem = dir.join("not.pem");
        std::fs::write(&not_pem, "hello").unwrap();
        let err = settings(&[(keys::TLS_CA_FILE, not_pem.to_str().unwrap())]).unwrap_err();
        assert!(err.message().contains("no CERTIFICATE"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();

        let err = settings(&[(keys::TLS_ENABLE, "yes")]).unwrap_err();
        assert!(err.message().contains(keys::TLS_ENABLE), "{err}");
        let err = settings(&[(keys::TLS_SERVER_NAME, "not a name")]).unwrap_err();
        assert!(err.message().contains(keys::TLS_SERVER_NAME), "{err}");
    }

    #[test]
    fn host_of_addresses() {
        assert_eq!(host_of("127.0.0.1:9876"), "127.0.0.1");
        assert_eq!(host_of("broker.example:10911"), "broker.example");
        assert_eq!(host_of("[::1]:9876"), "::1");
        assert_eq!(host_of("localhost"), "localhost");
    }
}
