//! Who is asking and in which protocol: SigV4 credential scope → account and
//! region; X-Amz-Target / Content-Type / form `Action` → service and protocol.
//! Signatures are parsed, not verified (any credentials work).

use bytes::Bytes;
use http::request::Parts;
use http::Method;

use eddy_core::sqs::Caller;

use crate::cli::ServeArgs;

pub struct RequestCtx {
    pub request_id: String,
    /// `scheme://host[:port]` as the client addressed us; queue URLs use it.
    pub base_url: String,
    pub caller: Caller,
    /// The request path, for awsQuery calls posted to `/{account}/{queue}`.
    pub path: String,
    /// `X-Amzn-Trace-Id` (X-Ray): SQS keeps it on the messages sent.
    pub trace_header: Option<String>,
}

impl RequestCtx {
    pub fn new(parts: &Parts, config: &ServeArgs) -> RequestCtx {
        let host = parts
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(String::from)
            .or_else(|| parts.uri.authority().map(|a| a.to_string()))
            .unwrap_or_else(|| config.listen.to_string());
        let scope = credential_scope(parts);
        let access_key = scope.as_ref().map(|s| s.access_key.clone()).unwrap_or_default();
        let account = if access_key.len() == 12 && access_key.bytes().all(|b| b.is_ascii_digit()) {
            access_key.clone()
        } else {
            config.account.clone()
        };
        let region = scope.map(|s| s.region).filter(|r| !r.is_empty()).unwrap_or_else(|| config.region.clone());
        RequestCtx {
            request_id: uuid::Uuid::new_v4().to_string(),
            base_url: format!("http://{host}"),
            caller: Caller { account, region, access_key },
            path: parts.uri.path().to_string(),
            trace_header: parts.headers.get("x-amzn-trace-id").and_then(|h| h.to_str().ok()).map(String::from),
        }
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

pub enum Classified {
    Health {
        localstack: bool,
    },
    SqsJson {
        operation: String,
    },
    SqsQuery {
        pairs: Vec<(String, String)>,
    },
    SnsQuery {
        pairs: Vec<(String, String)>,
    },
    Kinesis {
        operation: String,
        format: crate::kinesis::Format,
    },
    /// `/_eddy/sns/…`: signing certificate, outbox, delivery counters.
    EddySns,
    UnknownTarget {
        target: String,
    },
    NotFound,
}

pub fn classify(parts: &Parts, body: &Bytes) -> Classified {
    let path = parts.uri.path();
    if path.starts_with("/_eddy/sns/") || path == "/_eddy/doctor" {
        return Classified::EddySns;
    }
    if parts.method == Method::GET || parts.method == Method::HEAD {
        match path {
            "/_eddy/health" => return Classified::Health { localstack: false },
            "/_localstack/health" | "/health" => return Classified::Health { localstack: true },
            _ => {}
        }
    }
    if let Some(target) = parts.headers.get("x-amz-target").and_then(|t| t.to_str().ok()) {
        if let Some(op) = target.strip_prefix(crate::kinesis::TARGET_PREFIX) {
            let cbor = parts
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|c| c.to_str().ok())
                .is_some_and(|c| c.starts_with(crate::kinesis::CBOR));
            let format = if cbor { crate::kinesis::Format::Cbor } else { crate::kinesis::Format::Json };
            return Classified::Kinesis { operation: op.to_string(), format };
        }
        return match target.strip_prefix(eddy_wire::sqs::TARGET_PREFIX) {
            Some(op) => Classified::SqsJson { operation: op.to_string() },
            None => Classified::UnknownTarget { target: target.to_string() },
        };
    }
    let mut pairs = parts.uri.query().map(|q| form_pairs(q.as_bytes())).unwrap_or_default();
    if is_form(parts) {
        pairs.extend(form_pairs(body));
    }
    let Some(action) = pairs.iter().find(|(k, _)| k == "Action").map(|(_, v)| v.clone()) else {
        return Classified::NotFound;
    };
    let version = pairs.iter().find(|(k, _)| k == "Version").map(|(_, v)| v.as_str());
    let scope = credential_scope(parts).map(|s| s.service);
    if is_sns(version, scope.as_deref(), &action) {
        Classified::SnsQuery { pairs }
    } else {
        Classified::SqsQuery { pairs }
    }
}

/// awsQuery serves SQS and SNS on one endpoint: decide by API version,
/// else by the signature's service, else by the action's name (the
/// SubscribeURL and UnsubscribeURL links carry neither).
fn is_sns(version: Option<&str>, scope_service: Option<&str>, action: &str) -> bool {
    match (version, scope_service) {
        (Some("2010-03-31"), _) => true,
        (Some(_), _) => false,
        (None, Some("sns")) => true,
        (None, Some("sqs")) => false,
        _ => matches!(
            action,
            "ConfirmSubscription"
                | "Unsubscribe"
                | "Subscribe"
                | "Publish"
                | "PublishBatch"
                | "CreateTopic"
                | "DeleteTopic"
                | "ListTopics"
                | "ListSubscriptions"
                | "ListSubscriptionsByTopic"
                | "GetTopicAttributes"
                | "SetTopicAttributes"
                | "GetSubscriptionAttributes"
                | "SetSubscriptionAttributes"
        ),
    }
}

fn is_form(parts: &Parts) -> bool {
    parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"))
}

fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    eddy_wire::query::parse_form(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_routing() {
        assert!(is_sns(Some("2010-03-31"), Some("sqs"), "AddPermission"));
        assert!(!is_sns(Some("2012-11-05"), None, "AddPermission"));
        assert!(is_sns(None, Some("sns"), "AddPermission"));
        assert!(is_sns(None, None, "Unsubscribe"));
        assert!(!is_sns(None, None, "SendMessage"));
    }

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
