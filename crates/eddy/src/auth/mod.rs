//! Who signed a request, checked (`--auth verify`) or taken on trust
//! (`--auth accept`, the default). Verification itself is the pure
//! `eddy_wire::sigv4`; this module finds the secret behind an access key
//! (a bootstrap key, an IAM user's Active key, or STS temporary
//! credentials with their session token), picks each service's rules and
//! answers refusals in the request's protocol. eddy's own endpoints and
//! health are never authenticated.

mod errors;
mod keys;

use std::time::{SystemTime, UNIX_EPOCH};

use http::request::Parts;

use eddy_core::iam::Iam;
use eddy_core::identity::Identity;
use eddy_wire::sigv4::{self, Rules, SigError, Signed, Verifier};

use crate::cli::{AuthMode, ServeArgs};
use crate::request::RequestCtx;
use crate::routes::{Routed, Service};
use crate::server::BoxedResponse;
use errors::Refusal;
use keys::BootstrapKeys;

pub struct Auth {
    mode: AuthMode,
    bootstrap: BootstrapKeys,
    verifier: Verifier,
    /// Seconds added to the clock signatures and session expiries are
    /// checked against (tests only: `--auth-clock-offset-secs`).
    clock_offset_secs: i64,
}

/// The secret a key signs with, and whether its session token must come along.
struct Secret {
    secret: String,
    session_token: Option<String>,
    expires_ms: Option<u64>,
}

impl Auth {
    pub fn from_args(args: &ServeArgs) -> anyhow::Result<Auth> {
        let default_account = |key: &str| crate::request::account_of_unknown_key(key, args);
        let mut bootstrap = BootstrapKeys::new();
        if let Some(path) = &args.credentials_file {
            bootstrap.extend(keys::parse_file(path, &default_account)?);
        }
        for flag in &args.bootstrap_key {
            let (id, key) = keys::parse_flag(flag, &default_account)?;
            bootstrap.insert(id, key);
        }
        if args.auth == AuthMode::Verify && bootstrap.is_empty() {
            tracing::warn!(
                "--auth verify without --bootstrap-key or --credentials-file: only IAM and STS keys \
                            already in the data directory can sign requests"
            );
        }
        Ok(Auth {
            mode: args.auth,
            bootstrap,
            verifier: Verifier::new(),
            clock_offset_secs: args.auth_clock_offset_secs,
        })
    }

    /// Checks the request's signature in verify mode; in any mode, a
    /// bootstrap key makes the caller its account's root. `Some` is the
    /// refusal to send.
    pub fn check(
        &self,
        iam: &Iam,
        parts: &Parts,
        routed: &Routed,
        body: &[u8],
        ctx: &mut RequestCtx,
    ) -> Option<BoxedResponse> {
        if let Some(key) = self.bootstrap.get(&ctx.caller.access_key) {
            ctx.caller.account = key.account.clone();
            ctx.identity = Identity::root(&key.account);
        }
        let rules = rules(routed.service)?;
        if self.mode == AuthMode::Accept {
            return None;
        }
        let refusal = self.verify(iam, parts, routed, body, &rules).err()?;
        tracing::info!(request_id = %ctx.request_id, access_key = %ctx.caller.access_key,
            service = routed.service.name(), operation = %routed.operation, ?refusal, "request refused: authentication");
        Some(errors::render(routed.handler, ctx, &refusal))
    }

    fn verify(&self, iam: &Iam, parts: &Parts, routed: &Routed, body: &[u8], rules: &Rules) -> Result<(), Refusal> {
        let req = sigv4_request(parts, body);
        let Some(signed) = sigv4::read(&req).map_err(Refusal::Signature)? else {
            return if unsigned_allowed(routed) { Ok(()) } else { Err(Refusal::Signature(SigError::Missing)) };
        };
        let now_ms = self.now_ms();
        let secret = self.secret(iam, &signed)?;
        if secret.expires_ms.is_some_and(|e| e <= now_ms) {
            return Err(Refusal::ExpiredToken);
        }
        let now = (now_ms / 1000) as i64;
        self.verifier.verify(&req, signed, &secret.secret, rules, now).map_err(Refusal::Signature)?;
        Ok(())
    }

    /// The key's secret, if the key may sign: a bootstrap key, an Active
    /// IAM user key, or temporary credentials whose session token came with
    /// the request. AWS answers the rest InvalidClientTokenId.
    fn secret(&self, iam: &Iam, signed: &Signed) -> Result<Secret, Refusal> {
        let key = &signed.credential.access_key;
        let found = match self.bootstrap.get(key) {
            Some(b) => Secret { secret: b.secret.clone(), session_token: None, expires_ms: None },
            None => match iam.credential(key) {
                Some(c) if c.active => {
                    Secret { secret: c.secret, session_token: c.session_token, expires_ms: c.identity.expires_ms }
                }
                _ => return Err(Refusal::InvalidKey),
            },
        };
        if found.session_token.as_deref() != signed.security_token.as_deref() {
            return Err(Refusal::InvalidKey);
        }
        Ok(found)
    }

    fn now_ms(&self) -> u64 {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
        (now + self.clock_offset_secs * 1000).max(0) as u64
    }
}

/// Each service's signing name and skew window. Kinesis refuses past 5
/// minutes ("… - 5 min." in its recorded messages), the query services past
/// 15. None: not authenticated (eddy's own endpoints, health, and requests
/// no service claims, which get an error anyway).
fn rules(service: Service) -> Option<Rules> {
    let (name, max_skew_secs) = match service {
        Service::Sqs => ("sqs", 900),
        Service::Sns => ("sns", 900),
        Service::Iam => ("iam", 900),
        Service::Sts => ("sts", 900),
        Service::Kinesis => ("kinesis", 300),
        Service::Events => ("events", 300),
        Service::Scheduler => ("scheduler", 300),
        Service::Pipes => ("pipes", 300),
        Service::Schemas => ("schemas", 300),
        Service::Eddy | Service::Health | Service::Unknown => return None,
    };
    Some(Rules { service: name, max_skew_secs, s3: false })
}

/// The SubscribeURL and UnsubscribeURL links SNS sends carry no
/// signature, and AWS honours them unsigned (the token, or the
/// subscription ARN, is the secret).
fn unsigned_allowed(routed: &Routed) -> bool {
    routed.service == Service::Sns && matches!(routed.operation.as_str(), "ConfirmSubscription" | "Unsubscribe")
}

/// The request as the verifier reads it. HTTP/2 carries the host as the
/// URI's authority, not as a header.
fn sigv4_request<'a>(parts: &'a Parts, body: &'a [u8]) -> sigv4::Request<'a> {
    let mut headers: Vec<(&str, &str)> =
        parts.headers.iter().filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?))).collect();
    if !parts.headers.contains_key(http::header::HOST) {
        if let Some(authority) = parts.uri.authority() {
            headers.push(("host", authority.as_str()));
        }
    }
    sigv4::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers,
        body,
    }
}
