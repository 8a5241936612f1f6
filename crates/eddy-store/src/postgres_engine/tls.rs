//! TLS to PostgreSQL, as libpq's `sslmode` and `sslrootcert` ask, so a URL
//! that works with `psql` works with eddy (managed PostgreSQL services and
//! PostgreSQL-compatible distributed databases often insist on TLS).
//!
//! | `sslmode` | encrypted | server certificate checked |
//! |---|---|---|
//! | `disable` | never | — |
//! | `allow`, `prefer` (the default) | when the server offers it | no |
//! | `require` | always | no; with `sslrootcert`, its chain (as libpq) |
//! | `verify-ca` | always | its chain |
//! | `verify-full` | always | its chain and that it names the host |
//!
//! A chain is checked against `sslrootcert` (a PEM file), or the system's
//! roots when it is absent or `system`. The postgres client knows only
//! `disable`, `prefer` and `require`, so both parameters are taken out of
//! the URL here and given to it as a mode and a connector.

use std::sync::Arc;

use postgres::config::SslMode;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::{Result, StoreError};

/// How connections are made: the connection string without the TLS
/// parameters, the mode for the client, and the connector when TLS may be used.
pub(super) struct Tls {
    pub(super) url: String,
    pub(super) mode: SslMode,
    pub(super) connector: Option<MakeRustlsConnect>,
}

/// How the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Nothing,
    Chain,
    ChainAndName,
}

impl Tls {
    /// Reads `sslmode` and `sslrootcert` from `url` (a `postgres://` URL or
    /// a `key=value` string).
    pub(super) fn from_url(url: &str) -> Result<Tls> {
        let (url, params) = take_params(url, &["sslmode", "sslrootcert"]);
        let root_file = params.iter().find(|(k, _)| k == "sslrootcert").map(|(_, v)| v.clone());
        let sslmode = params.iter().find(|(k, _)| k == "sslmode").map(|(_, v)| v.as_str()).unwrap_or("prefer");
        let (mode, check) = match sslmode {
            "disable" => return Ok(Tls { url, mode: SslMode::Disable, connector: None }),
            "allow" | "prefer" => (SslMode::Prefer, Check::Nothing),
            "require" if root_file.is_some() => (SslMode::Require, Check::Chain),
            "require" => (SslMode::Require, Check::Nothing),
            "verify-ca" => (SslMode::Require, Check::Chain),
            "verify-full" => (SslMode::Require, Check::ChainAndName),
            other => {
                return Err(StoreError::Postgres(format!(
                "bad PostgreSQL URL: sslmode {other:?} is not one of disable, allow, prefer, require, verify-ca, verify-full"
            )))
            }
        };
        let config = client_config(check, root_file.as_deref())?;
        Ok(Tls { url, mode, connector: Some(MakeRustlsConnect::new(config)) })
    }
}

/// `url` without the parameters named in `names`, and those parameters.
fn take_params(url: &str, names: &[&str]) -> (String, Vec<(String, String)>) {
    let mut taken = Vec::new();
    let is_url = url.starts_with("postgres://") || url.starts_with("postgresql://");
    if !is_url {
        // key=value pairs separated by spaces (values with spaces must be
        // quoted; the TLS parameters never need to be).
        let kept: Vec<&str> = url
            .split_whitespace()
            .filter(|pair| match pair.split_once('=') {
                Some((k, v)) if names.contains(&k) => {
                    taken.push((k.to_string(), v.trim_matches('\'').to_string()));
                    false
                }
                _ => true,
            })
            .collect();
        return (kept.join(" "), taken);
    }
    let Some((base, query)) = url.split_once('?') else { return (url.to_string(), taken) };
    // The other parameters are kept as written: decoded and encoded again,
    // `%20` would become `+`, which the client does not read as a space.
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        match form_urlencoded::parse(pair.as_bytes()).next() {
            Some((k, v)) if names.contains(&k.as_ref()) => taken.push((k.into_owned(), v.into_owned())),
            _ => kept.push(pair),
        }
    }
    (if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) }, taken)
}

fn client_config(check: Check, root_file: Option<&str>) -> Result<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Postgres(format!("TLS setup: {e}")))?;
    let webpki = match check {
        Check::Nothing => None,
        Check::Chain | Check::ChainAndName => Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots(root_file)?), provider.clone())
                .build()
                .map_err(|e| StoreError::Postgres(format!("TLS setup: {e}")))?,
        ),
    };
    let verifier = Verifier { check, webpki, provider };
    Ok(builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier)).with_no_client_auth())
}

/// The certificates of `sslrootcert`, or the system's roots.
fn roots(root_file: Option<&str>) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    match root_file {
        Some(path) if path != "system" => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
                .map_err(|e| StoreError::Postgres(format!("reading sslrootcert {path}: {e}")))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(StoreError::Postgres(format!("sslrootcert {path} holds no usable certificate")));
            }
        }
        _ => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err(StoreError::Postgres(
                    "no system root certificates found to verify the PostgreSQL server; give sslrootcert".into(),
                ));
            }
        }
    }
    Ok(roots)
}

/// Checks the server's certificate as much as `check` asks. The
/// handshake's signatures are always checked, with the certificate's key.
#[derive(Debug)]
struct Verifier {
    check: Check,
    /// The chain's checker, unless `check` is `Nothing`.
    webpki: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let Some(webpki) = &self.webpki else { return Ok(ServerCertVerified::assertion()) };
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            // verify-ca: a good chain for another name will do.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if self.check == Check::Chain => Ok(ServerCertVerified::assertion()),
            checked => checked,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_are_taken_out_of_urls_and_key_value_strings() {
        let (url, taken) = take_params(
            "postgres://u@h:5432/db?sslmode=verify-full&application_name=x&sslrootcert=%2Fca.pem",
            &["sslmode", "sslrootcert"],
        );
        assert_eq!(url, "postgres://u@h:5432/db?application_name=x");
        assert_eq!(taken, [("sslmode".into(), "verify-full".into()), ("sslrootcert".into(), "/ca.pem".into())]);
        let (url, taken) = take_params("host=h sslmode=require dbname=db", &["sslmode", "sslrootcert"]);
        assert_eq!(url, "host=h dbname=db");
        assert_eq!(taken, [("sslmode".into(), "require".into())]);
        assert_eq!(take_params("postgres://h/db?sslmode=disable", &["sslmode"]).0, "postgres://h/db");
        let options = "postgres://h/db?options=-c%20statement_timeout%3D5s&sslmode=require";
        assert_eq!(take_params(options, &["sslmode"]).0, "postgres://h/db?options=-c%20statement_timeout%3D5s");
    }

    #[test]
    fn modes_map_as_libpq_s() {
        assert_eq!(Tls::from_url("postgres://h/db?sslmode=disable").unwrap().mode, SslMode::Disable);
        let default = Tls::from_url("postgres://h/db").unwrap();
        assert!(default.mode == SslMode::Prefer && default.connector.is_some());
        assert_eq!(Tls::from_url("postgres://h/db?sslmode=require").unwrap().mode, SslMode::Require);
        let bad = Tls::from_url("postgres://h/db?sslmode=sometimes").err().unwrap().to_string();
        assert!(bad.contains("sslmode \"sometimes\""), "{bad}");
        let missing = Tls::from_url("postgres://h/db?sslmode=verify-ca&sslrootcert=/nonexistent.pem").err().unwrap();
        assert!(missing.to_string().contains("/nonexistent.pem"), "{missing}");
    }
}
