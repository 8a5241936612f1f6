//! Reading a signature off a request: the `Authorization` header or the
//! presigned query (`X-Amz-Credential`, …). Nothing is checked here beyond
//! the shape, whose faults AWS answers `IncompleteSignature` with its own
//! wording.

use std::borrow::Cow;

use super::{Request, SigError};

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// `AKID/yyyymmdd/region/service/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key: String,
    pub date: String,
    pub region: String,
    pub service: String,
}

impl Credential {
    /// `yyyymmdd/region/service/aws4_request`, as the string to sign names it.
    pub fn scope(&self) -> String {
        format!("{}/{}/{}/aws4_request", self.date, self.region, self.service)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Header,
    /// A presigned URL, valid this many seconds after its `X-Amz-Date`.
    Query {
        expires: Option<i64>,
    },
}

/// A signature as the request carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub location: Location,
    pub credential: Credential,
    /// Lower-case names, as listed.
    pub signed_headers: Vec<String>,
    pub signature: String,
    /// `X-Amz-Date`, `yyyymmddTHHMMSSZ`.
    pub amz_date: String,
    pub security_token: Option<String>,
}

/// The request's signature; `Ok(None)` when it carries none at all.
pub fn signature(req: &Request) -> Result<Option<Signed>, SigError> {
    if let Some(header) = req.header("authorization") {
        return from_header(req, header).map(Some);
    }
    if req.query_param("X-Amz-Algorithm").is_some() || req.query_param("X-Amz-Signature").is_some() {
        return from_query(req).map(Some);
    }
    Ok(None)
}

fn from_header(req: &Request, header: &str) -> Result<Signed, SigError> {
    let Some(rest) = header.strip_prefix(ALGORITHM).filter(|r| r.starts_with(' ')) else {
        return Err(SigError::Incomplete(format!("Unsupported AWS 'algorithm': '{}'.", first_word(header))));
    };
    let mut fields = Fields::default();
    // AWS splits on commas and on spaces: a stray space inside a value is a
    // part of its own, reported as such.
    // (Split on each separator in turn: single-byte searches, much faster
    // than one two-character pattern.)
    for part in rest.split(',').flat_map(|chunk| chunk.split(' ')).map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, value)) = part.split_once('=') else {
            return Err(SigError::Incomplete(format!(
                "'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
            )));
        };
        fields.set(name.trim(), Cow::Borrowed(value.trim()));
    }
    let amz_date = req.header("x-amz-date");
    let missing = fields.missing("Authorization header requires '{}' parameter.", amz_date.is_none());
    if !missing.is_empty() {
        return Err(SigError::Incomplete(format!("{} Authorization={header}", missing.join(" "))));
    }
    fields.into_signed(Location::Header, amz_date.unwrap_or_default(), req.header("x-amz-security-token"))
}

fn from_query(req: &Request) -> Result<Signed, SigError> {
    let algorithm = req.query_param("X-Amz-Algorithm").unwrap_or_default();
    if algorithm != ALGORITHM {
        return Err(SigError::Incomplete(format!("Unsupported AWS 'algorithm': '{algorithm}'.")));
    }
    let mut fields = Fields::default();
    for (name, param) in [("Credential", "X-Amz-Credential"), ("SignedHeaders", "X-Amz-SignedHeaders")] {
        if let Some(v) = req.query_param(param) {
            fields.set(name, Cow::Owned(v));
        }
    }
    if let Some(v) = req.query_param("X-Amz-Signature") {
        fields.set("Signature", Cow::Owned(v));
    }
    let amz_date = req.query_param("X-Amz-Date");
    let missing = fields.missing("AWS query-string parameters must include 'X-Amz-{}'.", amz_date.is_none());
    if !missing.is_empty() {
        return Err(SigError::Incomplete(format!("{} Re-examine the query-string parameters.", missing.join(" "))));
    }
    let expires = match req.query_param("X-Amz-Expires") {
        None => None,
        Some(v) => Some(v.parse::<i64>().ok().filter(|e| (1..=604_800).contains(e)).ok_or_else(|| {
            SigError::Incomplete(format!("X-Amz-Expires must be a number of seconds from 1 to 604800, not '{v}'."))
        })?),
    };
    let token = req.query_param("X-Amz-Security-Token");
    fields.into_signed(Location::Query { expires }, &amz_date.unwrap_or_default(), token.as_deref())
}

/// The three parts of a signature, borrowed from the header (or decoded
/// from the query) until they are checked.
#[derive(Default)]
struct Fields<'a> {
    credential: Option<Cow<'a, str>>,
    signed_headers: Option<Cow<'a, str>>,
    signature: Option<Cow<'a, str>>,
}

impl<'a> Fields<'a> {
    fn set(&mut self, name: &str, value: Cow<'a, str>) {
        let slot = match name {
            "Credential" => &mut self.credential,
            "SignedHeaders" => &mut self.signed_headers,
            "Signature" => &mut self.signature,
            _ => return,
        };
        *slot = Some(value);
    }

    /// AWS lists every missing part at once, each in `template`'s words.
    fn missing(&self, template: &str, no_date: bool) -> Vec<String> {
        let mut missing: Vec<String> = [
            ("Credential", self.credential.is_none()),
            ("Signature", self.signature.is_none()),
            ("SignedHeaders", self.signed_headers.is_none()),
        ]
        .into_iter()
        .filter(|(_, absent)| *absent)
        .map(|(name, _)| template.replace("{}", name))
        .collect();
        if no_date {
            let header = template.starts_with("Authorization");
            missing.push(if header {
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.".into()
            } else {
                template.replace("{}", "Date")
            });
        }
        missing
    }

    fn into_signed(self, location: Location, amz_date: &str, token: Option<&str>) -> Result<Signed, SigError> {
        let credential = self.credential.unwrap_or_default();
        Ok(Signed {
            location,
            credential: parse_credential(&credential)?,
            signed_headers: self.signed_headers.unwrap_or_default().split(';').map(str::to_ascii_lowercase).collect(),
            signature: self.signature.unwrap_or_default().into_owned(),
            amz_date: amz_date.to_string(),
            security_token: token.map(String::from),
        })
    }
}

fn parse_credential(credential: &str) -> Result<Credential, SigError> {
    let mut parts = credential.split('/');
    let parts: [Option<&str>; 6] = std::array::from_fn(|_| parts.next());
    match parts {
        [Some(key), Some(date), Some(region), Some(service), Some("aws4_request"), None] if !key.is_empty() => {
            Ok(Credential {
                access_key: key.to_string(),
                date: date.to_string(),
                region: region.to_string(),
                service: service.to_string(),
            })
        }
        _ => Err(SigError::Incomplete(format!(
            "Credential should be scoped to a valid region, not a malformed credential: '{credential}'."
        ))),
    }
}

fn first_word(s: &str) -> &str {
    s.split_whitespace().next().unwrap_or("")
}
