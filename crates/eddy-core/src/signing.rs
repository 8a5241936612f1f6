//! SNS message signatures: the RSA key and self-signed certificate eddy signs
//! notifications and subscription confirmations with, the canonical string to
//! sign, and a verifier.
//!
//! AWS ("Verifying the signatures of Amazon SNS messages", "HTTP/HTTPS
//! notification JSON format") signs `Key\nValue\n` for each present field, in
//! a fixed order that depends on `Type`, with RSA PKCS#1 v1.5 over SHA-1
//! (`SignatureVersion` "1") or SHA-256 ("2"); `Signature` is the base64 of the
//! result and `SigningCertURL` points at the X.509 certificate (PEM) holding
//! the public key. Real validators also insist that the certificate comes from
//! an amazonaws.com host, so our signatures only satisfy lenient or
//! reconfigured validators — but the bytes are the same as AWS's.
//!
//! The key is RSA-2048 (the size of AWS's SNS signing keys); the certificate is
//! self-signed (SHA256withRSA), subject `CN=eddy SNS signing,O=eddy,C=US`, valid
//! from a day before creation for 20 years. [`SigningKey::to_bytes`] stores
//! both as one PEM bundle (PKCS#8 private key, then the certificate).

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::sha2::Sha256;
use rsa::{PrivateKey, PublicKey};
use serde_json::{Map, Value};
use sha1::Sha1;
use x509_cert::builder::profile::cabf::Root;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::der::referenced::OwnedToRef;
use x509_cert::der::zeroize::Zeroizing;
use x509_cert::der::{DecodePem, EncodePem};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};
use x509_cert::Certificate;

/// Modulus size of generated keys, as AWS uses for SNS.
const KEY_BITS: usize = 2048;
/// Subject (and issuer) of the self-signed certificate.
const SUBJECT: &str = "CN=eddy SNS signing,O=eddy,C=US";
/// How long a generated certificate is valid.
const VALIDITY: Duration = Duration::from_secs(20 * 365 * 24 * 60 * 60);
/// How far `notBefore` is backdated, so clients with a slow clock accept it.
const BACKDATE: Duration = Duration::from_secs(24 * 60 * 60);

const KEY_LABEL: &str = "PRIVATE KEY";
const CERT_LABEL: &str = "CERTIFICATE";

/// Fields signed for `Type` = `Notification`, in signing order.
const NOTIFICATION_FIELDS: &[&str] = &["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"];
/// Fields signed for `SubscriptionConfirmation` and `UnsubscribeConfirmation`, in signing order.
const CONFIRMATION_FIELDS: &[&str] =
    &["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];

/// Why a key could not be made or restored.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// The operating system's random source failed.
    #[error("random source failed: {0}")]
    Random(String),
    /// RSA key generation or a key operation failed.
    #[error("RSA key error: {0}")]
    Key(String),
    /// The certificate could not be built or encoded.
    #[error("certificate error: {0}")]
    Certificate(String),
    /// The stored blob is not a PEM bundle of a PKCS#8 RSA key and its certificate.
    #[error("invalid stored signing key: {0}")]
    InvalidStored(String),
    /// The stored certificate does not hold the stored key's public key.
    #[error("stored certificate does not match the stored private key")]
    KeyMismatch,
}

/// `SignatureVersion` of an SNS message: which digest goes into the RSA PKCS#1 v1.5 signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SignatureVersion {
    /// `"1"`: SHA1withRSA, the AWS default.
    #[default]
    V1,
    /// `"2"`: SHA256withRSA (topic attribute `SignatureVersion` = `2`).
    V2,
}

impl SignatureVersion {
    /// The wire value: `"1"` or `"2"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureVersion::V1 => "1",
            SignatureVersion::V2 => "2",
        }
    }

    /// Parse the wire value (`"1"` or `"2"`, surrounding whitespace ignored).
    pub fn parse(s: &str) -> Option<SignatureVersion> {
        match s.trim() {
            "1" => Some(SignatureVersion::V1),
            "2" => Some(SignatureVersion::V2),
            _ => None,
        }
    }
}

impl fmt::Display for SignatureVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// eddy's SNS signing identity: an RSA private key and the self-signed X.509
/// certificate for its public key (served at `SigningCertURL`).
pub struct SigningKey {
    key: PrivateKey,
    certificate_pem: String,
    /// `to_bytes()` output, kept so serializing cannot fail.
    stored: Zeroizing<String>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("certificate_pem", &self.certificate_pem).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new RSA-2048 key and a self-signed certificate for it.
    ///
    /// Slow-ish: generating the primes takes tens to hundreds of milliseconds in
    /// an optimized build; callers on an async runtime should use `spawn_blocking`.
    pub fn generate() -> Result<SigningKey, SigningError> {
        let key = PrivateKey::new(&mut getrandom::SysRng, KEY_BITS).map_err(|e| SigningError::Key(e.to_string()))?;
        let certificate = self_signed_certificate(&key)?;
        let certificate_pem =
            certificate.to_pem(LineEnding::LF).map_err(|e| SigningError::Certificate(e.to_string()))?;
        SigningKey::assemble(key, certificate_pem)
    }

    /// Serialize for storage: a PEM bundle of the PKCS#8 private key
    /// (`-----BEGIN PRIVATE KEY-----`) followed by the certificate
    /// (`-----BEGIN CERTIFICATE-----`). Contains the private key: keep it private.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.stored.as_bytes().to_vec()
    }

    /// Restore from [`SigningKey::to_bytes`] output (any PEM text with one
    /// `PRIVATE KEY` and one `CERTIFICATE` block, in either order, LF or CRLF).
    /// Checks that the certificate is for this key.
    pub fn from_bytes(b: &[u8]) -> Result<SigningKey, SigningError> {
        let text = std::str::from_utf8(b).map_err(|_| SigningError::InvalidStored("not UTF-8 text".into()))?;
        let key_pem =
            pem_block(text, KEY_LABEL).ok_or_else(|| SigningError::InvalidStored("no PRIVATE KEY PEM block".into()))?;
        let cert_pem = pem_block(text, CERT_LABEL)
            .ok_or_else(|| SigningError::InvalidStored("no CERTIFICATE PEM block".into()))?;
        let key = PrivateKey::from_pkcs8_pem(key_pem)
            .map_err(|e| SigningError::InvalidStored(format!("private key: {e}")))?;
        let certificate = Certificate::from_pem(cert_pem.as_bytes())
            .map_err(|e| SigningError::InvalidStored(format!("certificate: {e}")))?;
        let cert_key = certificate_public_key(&certificate)
            .ok_or_else(|| SigningError::InvalidStored("certificate does not hold an RSA public key".into()))?;
        if &cert_key != key.as_public_key() {
            return Err(SigningError::KeyMismatch);
        }
        let certificate_pem =
            certificate.to_pem(LineEnding::LF).map_err(|e| SigningError::Certificate(e.to_string()))?;
        SigningKey::assemble(key, certificate_pem)
    }

    /// The certificate, PEM-encoded (LF line endings), to serve at `SigningCertURL`.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// Sign `string_to_sign` (see [`string_to_sign`]): RSA PKCS#1 v1.5 with
    /// SHA-1 (V1) or SHA-256 (V2), base64 (standard alphabet, padded).
    ///
    /// Signing with a valid key does not fail; should the RSA operation ever
    /// report an error anyway, it is logged and the result is an empty string
    /// (which no verifier accepts) rather than a panic.
    pub fn sign(&self, version: SignatureVersion, string_to_sign: &str) -> String {
        let msg = string_to_sign.as_bytes();
        let signature = match version {
            SignatureVersion::V1 => self.key.pkcs1v15_sign::<Sha1>(msg),
            SignatureVersion::V2 => self.key.pkcs1v15_sign::<Sha256>(msg),
        };
        match signature {
            Ok(bytes) => BASE64.encode(bytes),
            Err(e) => {
                tracing::error!(error = %e, "SNS message signing failed");
                String::new()
            }
        }
    }

    fn assemble(key: PrivateKey, certificate_pem: String) -> Result<SigningKey, SigningError> {
        let key_pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| SigningError::Key(e.to_string()))?;
        let mut stored = Zeroizing::new(String::with_capacity(key_pem.len() + certificate_pem.len() + 1));
        stored.push_str(&key_pem);
        if !stored.ends_with('\n') {
            stored.push('\n');
        }
        stored.push_str(&certificate_pem);
        Ok(SigningKey { key, certificate_pem, stored })
    }
}

/// The canonical string AWS signs for an SNS message, from its JSON fields:
/// `Key\nValue\n` for each signed field that is present (and not null), in
/// AWS's order. `Type` picks the fields: `SubscriptionConfirmation` and
/// `UnsubscribeConfirmation` sign Message, MessageId, SubscribeURL, Timestamp,
/// Token, TopicArn, Type; anything else (normally `Notification`) signs
/// Message, MessageId, Subject, Timestamp, TopicArn, Type. Other fields
/// (Signature, SigningCertURL, UnsubscribeURL, MessageAttributes, …) are ignored.
/// String values are used verbatim (unescaped); any other JSON value as its
/// compact JSON text.
pub fn string_to_sign(fields: &Map<String, Value>) -> String {
    let keys = match fields.get("Type").and_then(Value::as_str) {
        Some("SubscriptionConfirmation" | "UnsubscribeConfirmation") => CONFIRMATION_FIELDS,
        _ => NOTIFICATION_FIELDS,
    };
    let mut out = String::new();
    for &key in keys {
        let value = match fields.get(key) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        out.push_str(key);
        out.push('\n');
        out.push_str(&value);
        out.push('\n');
    }
    out
}

/// Check an SNS message's signature against a certificate (PEM): `Type` must be
/// one of the three SNS message types, `SignatureVersion` `"1"` or `"2"`, and
/// `Signature` the base64 PKCS#1 v1.5 signature of [`string_to_sign`] under the
/// certificate's RSA key. Only the signature is checked — not `SigningCertURL`,
/// the certificate's validity dates or its chain. Any malformed input gives `false`.
pub fn verify(envelope: &Value, certificate_pem: &str) -> bool {
    let Some(fields) = envelope.as_object() else { return false };
    match fields.get("Type").and_then(Value::as_str) {
        Some("Notification" | "SubscriptionConfirmation" | "UnsubscribeConfirmation") => {}
        _ => return false,
    }
    let Some(version) = fields.get("SignatureVersion").and_then(Value::as_str).and_then(SignatureVersion::parse) else {
        return false;
    };
    let Some(signature) = fields.get("Signature").and_then(Value::as_str) else { return false };
    let Ok(signature) = BASE64.decode(signature.trim()) else { return false };
    let Ok(certificate) = Certificate::from_pem(certificate_pem.trim().as_bytes()) else { return false };
    let Some(public_key) = certificate_public_key(&certificate) else { return false };
    let message = string_to_sign(fields);
    let result = match version {
        SignatureVersion::V1 => public_key.pkcs1v15_verify::<Sha1>(message.as_bytes(), &signature),
        SignatureVersion::V2 => public_key.pkcs1v15_verify::<Sha256>(message.as_bytes(), &signature),
    };
    result.is_ok()
}

/// The RSA public key in a certificate, if it holds one.
fn certificate_public_key(certificate: &Certificate) -> Option<PublicKey> {
    PublicKey::try_from(certificate.tbs_certificate().subject_public_key_info().owned_to_ref()).ok()
}

/// Self-signed certificate for `key`, signed SHA256withRSA by `key` itself.
fn self_signed_certificate(key: &PrivateKey) -> Result<Certificate, SigningError> {
    let cert_err = |e: &dyn fmt::Display| SigningError::Certificate(e.to_string());

    let mut serial = [0u8; 16];
    getrandom::fill(&mut serial).map_err(|e| SigningError::Random(e.to_string()))?;
    serial[0] = (serial[0] & 0x7f) | 0x40; // positive, and exactly 16 significant bytes
    let serial_number = SerialNumber::new(&serial).map_err(|e| cert_err(&e))?;

    let now = SystemTime::now();
    let not_before = Time::try_from(now.checked_sub(BACKDATE).unwrap_or(now)).map_err(|e| cert_err(&e))?;
    let not_after = Time::try_from(now + VALIDITY).map_err(|e| cert_err(&e))?;
    let validity = Validity::new(not_before, not_after);

    let subject = Name::from_str(SUBJECT).map_err(|e| cert_err(&e))?;
    // The CA/B root profile: self-issued, basicConstraints CA, subject/authority
    // key ids; `true` adds digitalSignature to keyUsage, which message signing needs.
    let profile = Root::new(true, subject).map_err(|e| cert_err(&e))?;
    let spki_der = key.to_public_key().to_public_key_der().map_err(|e| cert_err(&e))?;
    let spki = SubjectPublicKeyInfoOwned::try_from(spki_der.as_bytes()).map_err(|e| cert_err(&e))?;

    let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(key.clone());
    let builder = CertificateBuilder::new(profile, serial_number, validity, spki).map_err(|e| cert_err(&e))?;
    builder.build::<_, rsa::pkcs1v15::Signature>(&signer).map_err(|e| cert_err(&e))
}

/// The first complete PEM block labelled `label` in `text`, if any.
fn pem_block<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)?;
    let end_at = start + text[start..].find(&end)? + end.len();
    Some(&text[start..end_at])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::OnceLock;

    /// One generated key shared by the tests: generation is the slow part.
    fn key() -> &'static SigningKey {
        static KEY: OnceLock<SigningKey> = OnceLock::new();
        KEY.get_or_init(|| SigningKey::generate().expect("generate signing key"))
    }

    fn fields(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    fn notification(subject: Option<&str>) -> Value {
        let mut v = json!({
            "Type": "Notification",
            "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
            "Message": "Hello world!\nsecond line \"quoted\" é",
            "Timestamp": "2012-05-02T00:54:06.655Z",
            "SignatureVersion": "1",
            "SigningCertURL": "http://localhost:9324/SimpleNotificationService-eddy.pem",
            "UnsubscribeURL": "http://localhost:9324/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:123456789012:MyTopic:c9135db0",
            "MessageAttributes": {"a": {"Type": "String", "Value": "b"}}
        });
        if let Some(s) = subject {
            v["Subject"] = json!(s);
        }
        v
    }

    fn confirmation(kind: &str) -> Value {
        json!({
            "Type": kind,
            "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
            "Token": "2336412f37f",
            "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
            "Message": "You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.",
            "SubscribeURL": "http://localhost:9324/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=2336412f37f",
            "Timestamp": "2012-04-26T20:45:04.751Z",
            "SignatureVersion": "1",
            "SigningCertURL": "http://localhost:9324/SimpleNotificationService-eddy.pem"
        })
    }

    fn signed(key: &SigningKey, version: SignatureVersion, mut v: Value) -> Value {
        v["SignatureVersion"] = json!(version.as_str());
        let sig = key.sign(version, &string_to_sign(v.as_object().expect("object")));
        v["Signature"] = json!(sig);
        v
    }

    #[test]
    fn string_to_sign_notification_with_subject() {
        let s = string_to_sign(&fields(notification(Some("My First Message"))));
        assert_eq!(
            s,
            "Message\nHello world!\nsecond line \"quoted\" é\n\
             MessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n\
             Subject\nMy First Message\n\
             Timestamp\n2012-05-02T00:54:06.655Z\n\
             TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\n\
             Type\nNotification\n"
        );
    }

    #[test]
    fn string_to_sign_notification_without_subject() {
        let s = string_to_sign(&fields(notification(None)));
        assert_eq!(
            s,
            "Message\nHello world!\nsecond line \"quoted\" é\n\
             MessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n\
             Timestamp\n2012-05-02T00:54:06.655Z\n\
             TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\n\
             Type\nNotification\n"
        );
        // A null Subject counts as absent.
        let mut v = notification(None);
        v["Subject"] = Value::Null;
        assert_eq!(string_to_sign(&fields(v)), s);
    }

    #[test]
    fn string_to_sign_confirmations() {
        for kind in ["SubscriptionConfirmation", "UnsubscribeConfirmation"] {
            let s = string_to_sign(&fields(confirmation(kind)));
            assert_eq!(
                s,
                format!(
                    "Message\nYou have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\n\
                     MessageId\n165545c9-2a5c-472c-8df2-7ff2be2b3b1b\n\
                     SubscribeURL\nhttp://localhost:9324/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=2336412f37f\n\
                     Timestamp\n2012-04-26T20:45:04.751Z\n\
                     Token\n2336412f37f\n\
                     TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\n\
                     Type\n{kind}\n"
                )
            );
        }
    }

    #[test]
    fn string_to_sign_ignores_subject_on_confirmations_and_token_on_notifications() {
        let mut c = confirmation("SubscriptionConfirmation");
        c["Subject"] = json!("x");
        assert!(!string_to_sign(&fields(c)).contains("Subject"));
        let mut n = notification(None);
        n["Token"] = json!("t");
        n["SubscribeURL"] = json!("u");
        let s = string_to_sign(&fields(n));
        assert!(!s.contains("Token") && !s.contains("SubscribeURL"));
        assert_eq!(string_to_sign(&Map::new()), "");
    }

    #[test]
    fn sign_verify_round_trip_v1_and_v2() {
        let key = key();
        for version in [SignatureVersion::V1, SignatureVersion::V2] {
            for v in [notification(Some("s")), notification(None), confirmation("SubscriptionConfirmation")] {
                let msg = signed(key, version, v);
                assert!(verify(&msg, key.certificate_pem()), "{version:?} {msg}");
                // 2048-bit key: 256-byte signature, 344 base64 characters.
                assert_eq!(msg["Signature"].as_str().map(str::len), Some(344));
            }
        }
    }

    #[test]
    fn v1_and_v2_signatures_differ_and_do_not_cross_verify() {
        let key = key();
        let msg = notification(Some("s"));
        let sts = string_to_sign(msg.as_object().expect("object"));
        let (s1, s2) = (key.sign(SignatureVersion::V1, &sts), key.sign(SignatureVersion::V2, &sts));
        assert_ne!(s1, s2);
        // PKCS#1 v1.5 is deterministic.
        assert_eq!(s1, key.sign(SignatureVersion::V1, &sts));
        let mut crossed = msg.clone();
        crossed["SignatureVersion"] = json!("2");
        crossed["Signature"] = json!(s1);
        assert!(!verify(&crossed, key.certificate_pem()));
    }

    #[test]
    fn verify_rejects_tampering_and_garbage() {
        let key = key();
        let pem = key.certificate_pem();
        let good = signed(key, SignatureVersion::V2, notification(Some("s")));
        assert!(verify(&good, pem));

        for (field, value) in [
            ("Message", json!("Hello world?")),
            ("Subject", json!("t")),
            ("Timestamp", json!("2012-05-02T00:54:06.656Z")),
            ("TopicArn", json!("arn:aws:sns:us-west-2:123456789012:Other")),
            ("MessageId", json!("x")),
            ("SignatureVersion", json!("3")),
            ("SignatureVersion", json!(2)),
            ("Signature", json!("not base64!")),
            ("Signature", json!("")),
            ("Signature", json!(BASE64.encode([0u8; 256]))),
            ("Signature", json!(BASE64.encode([0xffu8; 600]))),
            ("Type", json!("Other")),
        ] {
            let mut bad = good.clone();
            bad[field] = value;
            assert!(!verify(&bad, pem), "tampered {field} still verifies");
        }
        let mut no_subject = good.clone();
        no_subject.as_object_mut().expect("object").remove("Subject");
        assert!(!verify(&no_subject, pem));
        // Fields outside the string to sign may change freely.
        let mut extra = good.clone();
        extra["UnsubscribeURL"] = json!("http://elsewhere/");
        extra["MessageAttributes"] = json!({});
        assert!(verify(&extra, pem));

        assert!(!verify(&json!(null), pem));
        assert!(!verify(&json!("string"), pem));
        assert!(!verify(&json!([1, 2]), pem));
        assert!(!verify(&good, ""));
        assert!(!verify(&good, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
        assert!(!verify(&good, "not a pem at all"));
        let other = SigningKey::generate().expect("second key");
        assert!(!verify(&good, other.certificate_pem()));
    }

    #[test]
    fn to_bytes_from_bytes_round_trip() {
        let key = key();
        let bytes = key.to_bytes();
        let text = std::str::from_utf8(&bytes).expect("utf8");
        assert!(text.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{text}");
        assert!(text.contains("-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\n"));
        assert!(text.ends_with("-----END CERTIFICATE-----\n"));

        let restored = SigningKey::from_bytes(&bytes).expect("restore");
        assert_eq!(restored.certificate_pem(), key.certificate_pem());
        assert_eq!(restored.to_bytes(), bytes);
        let sts = "Message\nm\nType\nNotification\n";
        assert_eq!(restored.sign(SignatureVersion::V1, sts), key.sign(SignatureVersion::V1, sts));
        let msg = signed(&restored, SignatureVersion::V1, notification(None));
        assert!(verify(&msg, key.certificate_pem()));

        // CRLF line endings and reversed block order are accepted too.
        let key_block = pem_block(text, KEY_LABEL).expect("key block");
        let cert_block = pem_block(text, CERT_LABEL).expect("cert block");
        let crlf = format!("{cert_block}\n{key_block}\n").replace('\n', "\r\n");
        let again = SigningKey::from_bytes(crlf.as_bytes()).expect("restore CRLF");
        assert_eq!(again.certificate_pem(), key.certificate_pem());
    }

    #[test]
    fn from_bytes_rejects_bad_input() {
        let key = key();
        let text = String::from_utf8(key.to_bytes()).expect("utf8");
        let key_block = pem_block(&text, KEY_LABEL).expect("key block");
        let cert_block = pem_block(&text, CERT_LABEL).expect("cert block");

        assert!(matches!(SigningKey::from_bytes(b""), Err(SigningError::InvalidStored(_))));
        assert!(matches!(SigningKey::from_bytes(&[0xff, 0xfe, 0x00]), Err(SigningError::InvalidStored(_))));
        assert!(matches!(SigningKey::from_bytes(key_block.as_bytes()), Err(SigningError::InvalidStored(_))));
        assert!(matches!(SigningKey::from_bytes(cert_block.as_bytes()), Err(SigningError::InvalidStored(_))));
        let truncated = &text[..text.len() - 40];
        assert!(SigningKey::from_bytes(truncated.as_bytes()).is_err());
        let garbage = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_string() + cert_block;
        assert!(matches!(SigningKey::from_bytes(garbage.as_bytes()), Err(SigningError::InvalidStored(_))));

        let other = SigningKey::generate().expect("second key");
        let mismatched = format!("{key_block}\n{}", other.certificate_pem());
        assert!(matches!(SigningKey::from_bytes(mismatched.as_bytes()), Err(SigningError::KeyMismatch)));
    }

    #[test]
    fn certificate_is_a_self_signed_x509_for_the_key() {
        let key = key();
        let pem = key.certificate_pem();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n") && pem.ends_with("-----END CERTIFICATE-----\n"));
        let cert = Certificate::from_pem(pem.as_bytes()).expect("parses as X.509");
        let tbs = cert.tbs_certificate();
        assert_eq!(tbs.subject().to_string(), SUBJECT);
        assert_eq!(tbs.issuer(), tbs.subject());
        assert_eq!(tbs.version(), x509_cert::Version::V3);

        let not_before = tbs.validity().not_before.to_system_time();
        let not_after = tbs.validity().not_after.to_system_time();
        let now = SystemTime::now();
        assert!(not_before <= now);
        assert!(not_after >= now + Duration::from_secs(10 * 366 * 24 * 60 * 60));

        let public_key = certificate_public_key(&cert).expect("RSA key");
        assert_eq!(&public_key, key.key.as_public_key());
        assert_eq!(rsa::traits::PublicKeyParts::size(&public_key), KEY_BITS / 8);

        // Self-signed with SHA256withRSA (OID 1.2.840.113549.1.1.11): the signature checks out with the key.
        assert_eq!(cert.signature_algorithm().oid.to_string(), "1.2.840.113549.1.1.11");
        let tbs_der = x509_cert::der::Encode::to_der(tbs).expect("tbs der");
        let sig = cert.signature().raw_bytes();
        assert!(public_key.pkcs1v15_verify::<Sha256>(&tbs_der, sig).is_ok());
    }

    #[test]
    fn signature_version_wire_values() {
        assert_eq!(SignatureVersion::default(), SignatureVersion::V1);
        assert_eq!(SignatureVersion::V1.as_str(), "1");
        assert_eq!(SignatureVersion::V2.to_string(), "2");
        assert_eq!(SignatureVersion::parse("1"), Some(SignatureVersion::V1));
        assert_eq!(SignatureVersion::parse(" 2 "), Some(SignatureVersion::V2));
        assert_eq!(SignatureVersion::parse("3"), None);
        assert_eq!(SignatureVersion::parse(""), None);
    }

    #[test]
    fn signing_key_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<SigningKey>();
    }
}
