//! Real SigV4 signatures, for benchmarking a server that verifies them
//! (`--auth verify`): with `EDDY_BENCH_SIGN=KEYID:SECRET` in the
//! environment every awsJson call is signed now, over `host`,
//! `x-amz-date`, `x-amz-target` and `content-type`. Without it requests carry a
//! fixed, unverifiable signature, which costs the client nothing.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Result;
use http::request::Builder;
use http::{header, HeaderValue};

use eddy_wire::sigv4::{self, Credential};

pub struct Key {
    id: String,
    secret: String,
}

/// The signing key from `EDDY_BENCH_SIGN`, if set.
pub fn key() -> Option<&'static Key> {
    static KEY: OnceLock<Option<Key>> = OnceLock::new();
    KEY.get_or_init(|| {
        let value = std::env::var("EDDY_BENCH_SIGN").ok()?;
        let (id, secret) = value.split_once(':')?;
        Some(Key { id: id.into(), secret: secret.into() })
    })
    .as_ref()
}

/// `builder` with `host`, `x-amz-date` and a real `Authorization`.
pub fn json(
    builder: Builder,
    key: &Key,
    authority: &str,
    service: &str,
    target: &str,
    content_type: &str,
    body: &[u8],
) -> Result<Builder> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
    let amz_date = sigv4::format_amz_date(now);
    let req = sigv4::Request {
        method: "POST",
        path: "/",
        query: "",
        headers: vec![
            ("content-type", content_type),
            ("host", authority),
            ("x-amz-date", &amz_date),
            ("x-amz-target", target),
        ],
        body,
    };
    let credential = Credential {
        access_key: key.id.clone(),
        date: amz_date[..8].to_string(),
        region: "us-east-1".into(),
        service: service.into(),
    };
    let signed = ["content-type", "host", "x-amz-date", "x-amz-target"];
    let authorization = sigv4::authorization(&req, &credential, &key.secret, &signed);
    Ok(builder
        .header(header::HOST, HeaderValue::from_str(authority)?)
        .header("x-amz-date", HeaderValue::from_str(&amz_date)?)
        .header(header::AUTHORIZATION, HeaderValue::from_str(&authorization)?))
}
