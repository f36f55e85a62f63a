//! The `Tls*` properties of a client, parsed into plain options: the mode, the name to verify
//! certificates against, and the trusted roots it names (read now, so a bad `TlsCaFile` is a
//! configuration error at construction rather than a failure at the first connect). The
//! transport builds its TLS connector from these (`transport::tls`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::RootCertStore;

use super::{keys, Properties};
use crate::error::{Error, Result};

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

/// The TLS part of a client configuration.
#[derive(Clone)]
pub struct TlsOptions {
    mode: TlsMode,
    server_name: Option<String>,
    /// The roots certificates are checked against (SystemRoots and CaFile).
    roots: Option<Arc<RootCertStore>>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions { mode: TlsMode::Plain, server_name: None, roots: None }
    }
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsOptions").field("mode", &self.mode).field("server_name", &self.server_name).finish()
    }
}

impl TlsOptions {
    /// Reads `TlsEnable`, `TlsCaFile`, `TlsInsecureSkipVerify` and `TlsServerName`, loading the
    /// CA file (or the system roots) now so that a bad file is a configuration error naming the
    /// property.
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
        let roots = match &mode {
            TlsMode::Plain | TlsMode::InsecureSkipVerify => None,
            TlsMode::SystemRoots => Some(system_roots()?),
            TlsMode::CaFile(path) => Some(Arc::new(load_pem_roots(path, &format!("property {}", keys::TLS_CA_FILE))?)),
        };
        Ok(TlsOptions { mode, server_name, roots })
    }

    pub fn mode(&self) -> &TlsMode {
        &self.mode
    }

    pub fn is_enabled(&self) -> bool {
        self.mode != TlsMode::Plain
    }

    /// The name certificates are checked against, when not the host connected to.
    pub fn server_name(&self) -> Option<&str> {
        self.server_name.as_deref()
    }

    /// The trusted roots (SystemRoots and CaFile modes).
    pub fn roots(&self) -> Option<&Arc<RootCertStore>> {
        self.roots.as_ref()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn options(pairs: &[(&str, &str)]) -> Result<TlsOptions> {
        TlsOptions::from_properties(&pairs.iter().map(|(k, v)| (*k, *v)).collect())
    }

    #[test]
    fn modes_from_properties() {
        assert_eq!(options(&[]).unwrap().mode(), &TlsMode::Plain);
        assert!(!options(&[(keys::TLS_ENABLE, "false")]).unwrap().is_enabled());
        let insecure = options(&[(keys::TLS_INSECURE_SKIP_VERIFY, "true")]).unwrap();
        assert_eq!(insecure.mode(), &TlsMode::InsecureSkipVerify);
        assert!(insecure.is_enabled());
        assert_ne!(insecure.instance_key(), options(&[]).unwrap().instance_key());
    }

    #[test]
    fn contradictions_and_bad_files_name_the_property() {
        let err = options(&[(keys::TLS_ENABLE, "false"), (keys::TLS_INSECURE_SKIP_VERIFY, "true")]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        assert!(err.message().contains(keys::TLS_ENABLE), "{err}");

        let err = options(&[(keys::TLS_CA_FILE, "/x.pem"), (keys::TLS_INSECURE_SKIP_VERIFY, "true")]).unwrap_err();
        assert!(err.message().contains(keys::TLS_CA_FILE), "{err}");

        let err = options(&[(keys::TLS_CA_FILE, "/nonexistent/ca.pem")]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        assert!(err.message().contains("TlsCaFile") && err.message().contains("/nonexistent/ca.pem"), "{err}");

        let dir = std::env::temp_dir().join(format!("ons-tls-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let not_pem = dir.join("not.pem");
        std::fs::write(&not_pem, "hello").unwrap();
        let err = options(&[(keys::TLS_CA_FILE, not_pem.to_str().unwrap())]).unwrap_err();
        assert!(err.message().contains("no CERTIFICATE"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();

        let err = options(&[(keys::TLS_ENABLE, "yes")]).unwrap_err();
        assert!(err.message().contains(keys::TLS_ENABLE), "{err}");
        let err = options(&[(keys::TLS_SERVER_NAME, "not a name")]).unwrap_err();
        assert!(err.message().contains(keys::TLS_SERVER_NAME), "{err}");
    }
}
