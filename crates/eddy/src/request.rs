//! Who is asking: SigV4 credential scope → principal, account and region
//! (which service and protocol is [`crate::routes`]' business). An access
//! key eddy issued (an IAM user's, or STS temporary credentials) stands for
//! its principal and account; any other key for its account's root (a
//! 12-digit key is that account, else `--account`). Signatures are parsed,
//! not verified (any credentials work).

use http::request::Parts;

use eddy_core::iam::Iam;
use eddy_core::identity::Identity;
use eddy_core::sqs::Caller;

use crate::cli::ServeArgs;

pub struct RequestCtx {
    pub request_id: String,
    /// `scheme://host[:port]` as the client addressed us; queue URLs use it.
    pub base_url: String,
    pub caller: Caller,
    /// The principal behind the access key (GetCallerIdentity's answer).
    pub identity: Identity,
    /// The request path, for awsQuery calls posted to `/{account}/{queue}`.
    pub path: String,
    /// `X-Amzn-Trace-Id` (X-Ray): SQS keeps it on the messages sent.
    pub trace_header: Option<String>,
    /// The client's address (`aws:SourceIp` under `--enforce-iam`).
    pub source_ip: Option<std::net::IpAddr>,
}

/// The connection's peer, put in each request's extensions by the front.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::SocketAddr);

impl RequestCtx {
    pub fn new(parts: &Parts, config: &ServeArgs, iam: &Iam) -> RequestCtx {
        RequestCtx::with_identity(parts, config, |access_key| identity_of(access_key, config, iam))
    }

    /// For an answer given without the services (a cluster standby with no
    /// leader to relay to): every key stands for its account's root.
    pub fn unauthenticated(parts: &Parts, config: &ServeArgs) -> RequestCtx {
        RequestCtx::with_identity(parts, config, |access_key| {
            Identity::root(&account_of_unknown_key(access_key, config))
        })
    }

    fn with_identity(parts: &Parts, config: &ServeArgs, identity: impl FnOnce(&str) -> Identity) -> RequestCtx {
        let host = parts
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(String::from)
            .or_else(|| parts.uri.authority().map(|a| a.to_string()))
            .unwrap_or_else(|| config.listen.to_string());
        let scope = credential_scope(parts);
        let access_key = scope.as_ref().map(|s| s.access_key.clone()).unwrap_or_default();
        let identity = identity(&access_key);
        let account = identity.account.clone();
        let region = scope.map(|s| s.region).filter(|r| !r.is_empty()).unwrap_or_else(|| config.region.clone());
        RequestCtx {
            request_id: uuid::Uuid::new_v4().to_string(),
            base_url: format!("http://{host}"),
            caller: Caller { account, region, access_key },
            identity,
            path: parts.uri.path().to_string(),
            trace_header: parts.headers.get("x-amzn-trace-id").and_then(|h| h.to_str().ok()).map(String::from),
            source_ip: parts.extensions.get::<PeerAddr>().map(|p| p.0.ip()),
        }
    }
}

/// The principal an access key stands for. Expired temporary keys keep
/// working while signatures are not verified; their expiry stays on the
/// identity for verification to refuse.
fn identity_of(access_key: &str, config: &ServeArgs, iam: &Iam) -> Identity {
    match iam.identity(access_key) {
        Some(identity) => {
            if identity.is_expired(iam.now_ms()) {
                tracing::debug!(access_key, principal = %identity.arn, "request signed with expired temporary credentials");
            }
            identity
        }
        None => Identity::root(&account_of_unknown_key(access_key, config)),
    }
}

/// The account of a key eddy did not issue: a 12-digit key is that
/// account, any other the default (`--account`).
pub fn account_of_unknown_key(access_key: &str, config: &ServeArgs) -> String {
    if eddy_core::arn::is_account_id(access_key) {
        access_key.to_string()
    } else {
        config.account.clone()
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct Scope {
    pub access_key: String,
    pub region: String,
    pub service: String,
}

/// The `Credential=AKID/date/region/service/aws4_request` of a header-signed
/// or presigned request.
pub fn credential_scope(parts: &Parts) -> Option<Scope> {
    let from_header = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.split("Credential=").nth(1))
        .map(|c| c.split([',', ' ']).next().unwrap_or("").to_string());
    let from_query = || {
        parts
            .uri
            .query()
            .and_then(|q| form_pairs(q.as_bytes()).into_iter().find(|(k, _)| k == "X-Amz-Credential").map(|(_, v)| v))
    };
    parse_scope(&from_header.or_else(from_query)?)
}

fn parse_scope(credential: &str) -> Option<Scope> {
    let mut it = credential.split('/');
    let access_key = it.next()?.to_string();
    let _date = it.next();
    Some(Scope {
        access_key,
        region: it.next().unwrap_or("").to_string(),
        service: it.next().unwrap_or("").to_string(),
    })
}

fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    eddy_wire::query::parse_form(bytes)
}

/// What a REST handler (restJson1: Scheduler, Pipes, Schemas) reads from
/// the request besides the body: the path template's parameters and the query.
pub struct RestRequest<'a> {
    pub params: &'a crate::routes::PathParams,
    pub query: Vec<(String, String)>,
    pub body: &'a bytes::Bytes,
}

impl<'a> RestRequest<'a> {
    /// The request's parts; `Err` names a path parameter that is not valid
    /// UTF-8 once percent-decoded, for the service to answer in its words.
    pub fn read(
        uri: &http::Uri,
        params: &'a crate::routes::PathParams,
        body: &'a bytes::Bytes,
    ) -> Result<RestRequest<'a>, &'a str> {
        if let Some(name) = params.malformed() {
            return Err(name);
        }
        let query = eddy_wire::query::parse_form(uri.query().unwrap_or_default().as_bytes());
        Ok(RestRequest { params, query, body })
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn query_all(&self, name: &str) -> Vec<String> {
        self.query.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_from_authorization() {
        let req = http::Request::post("/")
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=111122223333/20240101/eu-west-1/sqs/aws4_request,SignedHeaders=host, Signature=abc",
            )
            .body(())
            .unwrap();
        let (parts, _) = req.into_parts();
        assert_eq!(
            credential_scope(&parts),
            Some(Scope { access_key: "111122223333".into(), region: "eu-west-1".into(), service: "sqs".into() })
        );
    }
}
