//! TLS to PostgreSQL: what `sslmode` asks (libpq's words), and the rustls connector for it.
//! tokio-postgres knows `disable`, `prefer` and `require` only: `verify-full` and
//! `sslrootcert` are read here, and a connection string that would send the password in
//! clear text across a network is refused.

use super::StoreError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::PathBuf;
use std::sync::Arc;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres_rustls::MakeRustlsConnect;

/// What the connection string asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    /// `sslmode=disable`: clear text, by the operator's word.
    Disable,
    /// No `sslmode`, or `prefer`: TLS if the server offers it. Only to this machine.
    Prefer,
    /// `sslmode=require`: TLS, the server's certificate not checked (libpq's meaning).
    Require,
    /// `sslmode=verify-full`: TLS, the certificate checked against `sslrootcert` and the host.
    VerifyFull { root: PathBuf },
}

impl Tls {
    /// What tokio-postgres is told: it negotiates, the connector verifies.
    pub fn ssl_mode(&self) -> SslMode {
        match self {
            Tls::Disable => SslMode::Disable,
            Tls::Prefer => SslMode::Prefer,
            Tls::Require | Tls::VerifyFull { .. } => SslMode::Require,
        }
    }
}

/// Takes `sslmode` and `sslrootcert` out of a connection string (URL query or `key=value`
/// words); the rest, for tokio-postgres, and what TLS they ask for.
pub fn split_options(text: &str) -> Result<(String, Tls), StoreError> {
    let mut mode = None;
    let mut root = None;
    let mut take = |key: &str, value: &str| match key {
        "sslmode" => {
            mode = Some(value.to_owned());
            true
        }
        "sslrootcert" => {
            root = Some(PathBuf::from(percent_decoded(value)));
            true
        }
        _ => false,
    };
    let rest = if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        match text.split_once('?') {
            None => text.to_owned(),
            Some((base, query)) => {
                let kept: Vec<&str> = query
                    .split('&')
                    .filter(|pair| {
                        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                        !take(key, value)
                    })
                    .collect();
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
        }
    } else {
        text.split_whitespace()
            .filter(|word| {
                let (key, value) = word.split_once('=').unwrap_or((word, ""));
                !take(key, value.trim_matches('\''))
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let tls = match (mode.as_deref(), root) {
        (None | Some("prefer") | Some("allow"), _) => Tls::Prefer,
        (Some("disable"), _) => Tls::Disable,
        (Some("require"), _) => Tls::Require,
        (Some("verify-full"), Some(root)) => Tls::VerifyFull { root },
        (Some("verify-full"), None) => {
            return Err(StoreError::InvalidUrl(
                "sslmode=verify-full needs sslrootcert=FILE (the CA that signed the server's certificate)"
                    .into(),
            ))
        }
        (Some(other), _) => {
            return Err(StoreError::InvalidUrl(format!(
                "sslmode={other} is not supported: use require, verify-full or disable"
            )))
        }
    };
    Ok((rest, tls))
}

/// A password must not cross a network in clear text: without TLS, only a Unix socket or
/// this machine, unless the string says `sslmode=disable`.
pub fn check_not_cleartext_across_a_network(tls: &Tls, hosts: &[Host]) -> Result<(), StoreError> {
    if *tls != Tls::Prefer {
        return Ok(());
    }
    for host in hosts {
        if let Host::Tcp(name) = host {
            let local = name == "localhost"
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if !local {
                return Err(StoreError::InvalidUrl(format!(
                    "{name} is across a network: add sslmode=require (or sslmode=verify-full with \
                     sslrootcert=FILE), or sslmode=disable if that network is yours alone"
                )));
            }
        }
    }
    Ok(())
}

/// The connector for `tls`: certificates checked for `verify-full`, only encryption else.
pub fn connector(tls: &Tls) -> Result<MakeRustlsConnect, StoreError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::InvalidUrl(format!("TLS: {e}")))?;
    let config = match tls {
        Tls::VerifyFull { root } => {
            let mut roots = RootCertStore::empty();
            let certificates = CertificateDer::pem_file_iter(root).map_err(|e| {
                StoreError::InvalidUrl(format!("sslrootcert {}: {e}", root.display()))
            })?;
            for certificate in certificates {
                let certificate = certificate.map_err(|e| {
                    StoreError::InvalidUrl(format!("sslrootcert {}: {e}", root.display()))
                })?;
                roots.add(certificate).map_err(|e| {
                    StoreError::InvalidUrl(format!("sslrootcert {}: {e}", root.display()))
                })?;
            }
            if roots.is_empty() {
                return Err(StoreError::InvalidUrl(format!(
                    "sslrootcert {} holds no certificate",
                    root.display()
                )));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Tls::Disable | Tls::Prefer | Tls::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptionOnly(provider)))
            .with_no_client_auth(),
    };
    Ok(MakeRustlsConnect::new(config))
}

/// `sslmode=require`: the channel is encrypted and its signatures checked, the certificate's
/// issuer and name are not (as libpq does without a root certificate).
#[derive(Debug)]
struct EncryptionOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptionOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `%2F` and the like in a URL's `sslrootcert`.
fn percent_decoded(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes.get(i).copied().unwrap_or(b'%');
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (byte, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_read_and_taken_out() {
        let (rest, tls) =
            split_options("postgres://u:p@db.example:5432/pay?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=5")
                .expect("valid");
        assert_eq!(rest, "postgres://u:p@db.example:5432/pay?connect_timeout=5");
        assert_eq!(
            tls,
            Tls::VerifyFull {
                root: "/etc/ca.pem".into()
            }
        );
        let (rest, tls) =
            split_options("host=db.example dbname=pay sslmode=require").expect("valid");
        assert_eq!(
            (rest.as_str(), tls),
            ("host=db.example dbname=pay", Tls::Require)
        );
        assert_eq!(
            split_options("postgres://h/db").map(|(_, t)| t).ok(),
            Some(Tls::Prefer)
        );
        assert!(
            split_options("postgres://h/db?sslmode=verify-full").is_err(),
            "needs a root"
        );
        assert!(split_options("postgres://h/db?sslmode=verify-ca").is_err());
    }

    #[test]
    fn clear_text_only_to_this_machine_unless_said() {
        let tcp = |name: &str| vec![Host::Tcp(name.into())];
        for local in ["127.0.0.1", "localhost", "::1"] {
            assert!(check_not_cleartext_across_a_network(&Tls::Prefer, &tcp(local)).is_ok());
        }
        let socket = vec![Host::Unix("/run/postgresql".into())];
        assert!(check_not_cleartext_across_a_network(&Tls::Prefer, &socket).is_ok());
        let refused = check_not_cleartext_across_a_network(&Tls::Prefer, &tcp("db.example"));
        assert!(refused.is_err_and(|e| e.to_string().contains("sslmode=require")));
        assert!(check_not_cleartext_across_a_network(&Tls::Disable, &tcp("db.example")).is_ok());
        assert!(check_not_cleartext_across_a_network(&Tls::Require, &tcp("db.example")).is_ok());
    }
}
