//! SigV4 verification, pure: a request's method, path, query, headers and
//! body in; the verdict out. No HTTP types, no credential store: the caller
//! reads the signature ([`read`]), finds the secret behind its access key,
//! then [`Verifier::verify`]s. Errors name what went wrong in AWS's words;
//! each protocol maps them to its own codes.
//!
//! S3's chunked uploads (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`) are signed
//! chunk by chunk, each chained to the previous signature: [`Verified`]
//! returns the seed signature, the signing key, scope and date they need,
//! and [`Payload::Streaming`] says which variant the body is.

mod canonical;
mod clock;
mod key;
mod parse;

use sha2::{Digest, Sha256};

pub use canonical::{percent_decode, uri_encode};
pub use clock::{format_amz_date, parse_amz_date};
pub use key::{derive as derive_key, hmac, KeyCache, SigningKey};
pub use parse::{Credential, Location, Signed, ALGORITHM};

/// Hex SHA-256 of the empty body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// What verification needs of an HTTP request.
#[derive(Debug)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as sent (still percent-encoded).
    pub path: &'a str,
    /// The query as sent, without `?`; empty if none.
    pub query: &'a str,
    /// Lower-case names, in arrival order; a name may repeat. HTTP/2's
    /// `:authority` belongs here as `host`.
    pub headers: Vec<(&'a str, &'a str)>,
    pub body: &'a [u8],
}

impl<'a> Request<'a> {
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.header_values(name).next()
    }

    pub fn header_values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a str> + 's {
        self.headers.iter().filter(move |(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// The first query parameter `name`, decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(n) == name).then(|| percent_decode(v))
        })
    }
}

/// How one service checks signatures.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// The signing name the credential scope must carry (`sqs`, `kinesis`, …).
    pub service: &'static str,
    /// How far `X-Amz-Date` may be from the server's clock.
    pub max_skew_secs: i64,
    /// S3's variant: the path is signed as sent, presigned URLs carry
    /// `UNSIGNED-PAYLOAD`, and a declared body hash is left to the caller.
    pub s3: bool,
}

/// Why a request is refused, with AWS's message where it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigError {
    /// No signature at all.
    Missing,
    /// A signature lacking parts or malformed.
    Incomplete(String),
    /// The signature (or the scope's service or date) does not match.
    Mismatch(String),
    /// `X-Amz-Date` too far from now.
    Skewed(String),
    /// A presigned URL past its `X-Amz-Expires`.
    PresignExpired,
    /// `x-amz-content-sha256` is not the body's hash.
    PayloadHashMismatch,
}

pub const MISMATCH_MESSAGE: &str = "The request signature we calculated does not match the signature you provided. \
     Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// How the body was signed (`x-amz-content-sha256`, or the body's own hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// Hex SHA-256 of the body, which matches it.
    Hash(String),
    Unsigned,
    /// `STREAMING-…`: the body is aws-chunked; S3 verifies its chunks.
    Streaming(String),
}

impl Payload {
    fn canonical(&self) -> &str {
        match self {
            Payload::Hash(h) => h,
            Payload::Unsigned => UNSIGNED_PAYLOAD,
            Payload::Streaming(mode) => mode,
        }
    }
}

/// A request whose signature checked out.
#[derive(Debug, Clone)]
pub struct Verified {
    pub signed: Signed,
    pub payload: Payload,
    /// The key chunk signatures are made with.
    pub signing_key: SigningKey,
    /// The request's own signature: the first chunk's "previous signature".
    pub seed_signature: String,
}

/// The request's signature, if it carries one (see [`parse`]).
pub fn read(req: &Request) -> Result<Option<Signed>, SigError> {
    parse::signature(req)
}

/// Checks signatures, deriving each signing key once per day, key, region
/// and service.
#[derive(Default)]
pub struct Verifier {
    keys: KeyCache,
}

impl Verifier {
    pub fn new() -> Verifier {
        Verifier::default()
    }

    /// Verifies `signed` (read from `req`) with `secret`, at `now` (Unix seconds).
    pub fn verify(
        &self,
        req: &Request,
        signed: Signed,
        secret: &str,
        rules: &Rules,
        now: i64,
    ) -> Result<Verified, SigError> {
        check_scope(&signed, rules)?;
        check_time(&signed, rules, now)?;
        let payload = payload(req, &signed, rules)?;
        let c = &signed.credential;
        let signing_key = self.keys.get(&c.access_key, secret, &c.date, &c.region, &c.service);
        let expected = signature(&signing_key, &string_to_sign(req, &signed, &payload, rules));
        if !constant_time_eq(&expected.0, signed.signature.as_bytes()) {
            return Err(SigError::Mismatch(MISMATCH_MESSAGE.into()));
        }
        Ok(Verified { signed, payload, signing_key, seed_signature: expected.as_str().to_string() })
    }
}

fn check_scope(signed: &Signed, rules: &Rules) -> Result<(), SigError> {
    if signed.credential.service != rules.service {
        return Err(SigError::Mismatch(format!(
            "Credential should be scoped to correct service: '{}'. ",
            rules.service
        )));
    }
    if signed.credential.region.is_empty() {
        return Err(SigError::Mismatch("Credential should be scoped to a valid region. ".into()));
    }
    let date = signed.amz_date.get(..8).unwrap_or("");
    if signed.credential.date != date {
        return Err(SigError::Mismatch(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{date}', from '{}'.",
            signed.credential.date, signed.amz_date
        )));
    }
    Ok(())
}

/// AWS's skew messages quote the request's time, the edge of the window and now.
fn check_time(signed: &Signed, rules: &Rules, now: i64) -> Result<(), SigError> {
    let Some(at) = parse_amz_date(&signed.amz_date) else {
        return Err(SigError::Incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
            signed.amz_date
        )));
    };
    let skew = rules.max_skew_secs;
    let minutes = skew / 60;
    if at > now + skew {
        return Err(SigError::Skewed(format!(
            "Signature not yet current: {} is still later than {} ({} + {minutes} min.)",
            signed.amz_date,
            format_amz_date(now + skew),
            format_amz_date(now)
        )));
    }
    match signed.location {
        Location::Query { expires: Some(expires) } if now > at + expires => Err(SigError::PresignExpired),
        Location::Query { expires: Some(_) } => Ok(()),
        _ if at < now - skew => Err(SigError::Skewed(format!(
            "Signature expired: {} is now earlier than {} ({} - {minutes} min.)",
            signed.amz_date,
            format_amz_date(now - skew),
            format_amz_date(now)
        ))),
        _ => Ok(()),
    }
}

fn payload(req: &Request, signed: &Signed, rules: &Rules) -> Result<Payload, SigError> {
    if rules.s3 && matches!(signed.location, Location::Query { .. }) {
        return Ok(Payload::Unsigned);
    }
    match req.header("x-amz-content-sha256") {
        None => Ok(Payload::Hash(sha256_hex(req.body))),
        Some(UNSIGNED_PAYLOAD) => Ok(Payload::Unsigned),
        Some(mode) if mode.starts_with("STREAMING-") => Ok(Payload::Streaming(mode.to_string())),
        Some(declared) if rules.s3 => Ok(Payload::Hash(declared.to_string())),
        Some(declared) => {
            let actual = sha256_hex(req.body);
            if declared != actual {
                return Err(SigError::PayloadHashMismatch);
            }
            Ok(Payload::Hash(actual))
        }
    }
}

fn string_to_sign(req: &Request, signed: &Signed, payload: &Payload, rules: &Rules) -> String {
    let canonical = canonical::request(req, signed, payload.canonical(), rules.s3);
    let c = &signed.credential;
    let mut out = String::with_capacity(160);
    for part in [ALGORITHM, "\n", &signed.amz_date, "\n", &c.date, "/", &c.region, "/", &c.service, "/aws4_request\n"] {
        out.push_str(part);
    }
    out.push_str(Hex::of(&Sha256::digest(canonical.as_bytes())).as_str());
    out
}

fn signature(key: &SigningKey, string_to_sign: &str) -> Hex {
    Hex::of(&hmac(key, string_to_sign.as_bytes()))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Hex::of(&Sha256::digest(bytes)).as_str().to_string()
}

/// A SHA-256 digest in lower-case hex, on the stack: signatures are
/// compared and hashes embedded without allocating (and `hex::encode`
/// builds its string a char at a time).
struct Hex([u8; 64]);

impl Hex {
    fn of(digest: &[u8]) -> Hex {
        let mut out = [0u8; 64];
        hex::encode_to_slice(digest, &mut out).expect("a SHA-256 digest is 32 bytes");
        Hex(out)
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("hex digits are ASCII")
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Signs a request as an SDK would (header signature over `signed_headers`,
/// which must include `host` and `x-amz-date`, present in `req.headers`):
/// the `Authorization` value. For eddy's own clients (the bench) and tests.
pub fn authorization(req: &Request, credential: &Credential, secret: &str, signed_headers: &[&str]) -> String {
    let amz_date = req.header("x-amz-date").unwrap_or_default().to_string();
    let signed = Signed {
        location: Location::Header,
        credential: credential.clone(),
        signed_headers: signed_headers.iter().map(|h| h.to_string()).collect(),
        signature: String::new(),
        amz_date,
        security_token: None,
    };
    let rules = Rules { service: "", max_skew_secs: 0, s3: false };
    let payload = payload(req, &signed, &rules).unwrap_or_else(|_| Payload::Hash(sha256_hex(req.body)));
    let key = derive_key(secret, &credential.date, &credential.region, &credential.service);
    let sig = signature(&key, &string_to_sign(req, &signed, &payload, &rules));
    let sig = sig.as_str();
    let mut names = canonical::signed_headers(&signed);
    names.dedup();
    format!(
        "{ALGORITHM} Credential={}/{}, SignedHeaders={}, Signature={sig}",
        credential.access_key,
        credential.scope(),
        names.join(";")
    )
}

#[cfg(test)]
mod tests;
