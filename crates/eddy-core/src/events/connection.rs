//! Connections and API destinations: HTTP targets. A connection holds how
//! to authorize (API key header, basic auth, or an OAuth client-credentials
//! token fetched from the authorization endpoint and cached until it
//! expires) and parameters added to every request; an API destination is
//! an endpoint (`*` in its path filled from the target's
//! PathParameterValues), a method and a rate limit.
//!
//! AWS keeps a connection's secrets in Secrets Manager and shows its ARN;
//! eddy keeps them in its own store (never shown by Describe/List) and
//! shows a Secrets Manager-style ARN. Requests time out after 5 seconds,
//! AWS's figure for API destinations.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::bus::{check_pattern, invalid_token, page_limit};
use super::error::{not_found, validation};
use super::records::{self, JobRecord};
use super::target::{Failure, Target};
use super::{Events, EventsResult};
use crate::clock::Millis;
use crate::identity::Caller;
use crate::page::{Page, PageRequest};

pub(crate) const CONNECTIONS: u8 = b'C';
pub(crate) const DESTINATIONS: u8 = b'D';
/// AWS's default InvocationRateLimitPerSecond.
const DEFAULT_RATE: u32 = 300;

/// One HTTP request to make, and its answer.
#[derive(Debug, Clone)]
pub struct HttpCall {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Debug, Clone)]
pub struct HttpReply {
    pub status: u16,
    pub body: String,
}

/// Makes HTTP requests for API destinations. The binary provides it, so
/// this crate stays free of HTTP.
pub trait HttpInvoker: Send + Sync + 'static {
    fn invoke(&self, call: HttpCall) -> Pin<Box<dyn Future<Output = Result<HttpReply, String>> + Send>>;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnectionRecord {
    pub account: String,
    pub region: String,
    pub name: String,
    pub arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub authorization_type: String,
    /// The AuthParameters as given, secrets included.
    pub auth: Value,
    pub state: String,
    pub secret_arn: String,
    pub created_ms: Millis,
    pub modified_ms: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorized_ms: Option<Millis>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DestinationRecord {
    pub account: String,
    pub region: String,
    pub name: String,
    pub arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub connection_arn: String,
    pub endpoint: String,
    pub method: String,
    pub rate_per_second: u32,
    pub created_ms: Millis,
    pub modified_ms: Millis,
}

/// CreateConnection / UpdateConnection input.
#[derive(Debug, Clone, Default)]
pub struct ConnectionInput {
    pub name: String,
    pub description: Option<String>,
    pub authorization_type: Option<String>,
    pub auth: Option<Value>,
}

/// CreateApiDestination / UpdateApiDestination input.
#[derive(Debug, Clone, Default)]
pub struct DestinationInput {
    pub name: String,
    pub description: Option<String>,
    pub connection_arn: Option<String>,
    pub endpoint: Option<String>,
    pub method: Option<String>,
    pub rate_per_second: Option<i64>,
}

/// The DLQ error code of an OAuth endpoint that gave no token.
const REFUSED: &str = "FAILED_TO_ASSUME_ROLE";

const METHODS: &[&str] = &["POST", "GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"];

/// `arn:aws:events:<region>:<account>:connection/<name>/<id>`.
fn connection_arn_shaped(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let head: Vec<&str> = parts.by_ref().take(5).collect();
    let rest = parts.next().unwrap_or_default();
    head.len() == 5
        && head[0] == "arn"
        && head[1].starts_with("aws")
        && head[2] == "events"
        && rest
            .strip_prefix("connection/")
            .is_some_and(|r| r.split('/').count() == 2 && r.split('/').all(|p| !p.is_empty()))
}

const SECRET_KEYS: &[&str] = &["Password", "ApiKeyValue", "ClientSecret"];

/// AuthParameters as Describe shows them: secrets left out, secret header,
/// query and body values too.
fn without_secrets(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let is_secret = m.get("IsValueSecret").and_then(Value::as_bool).unwrap_or(false);
            let mut out = Map::new();
            for (k, x) in m {
                if SECRET_KEYS.contains(&k.as_str()) || (is_secret && k == "Value") {
                    continue;
                }
                out.insert(k.clone(), without_secrets(x));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(without_secrets).collect()),
        other => other.clone(),
    }
}

impl ConnectionRecord {
    pub fn public_auth(&self) -> Value {
        without_secrets(&self.auth)
    }
}

fn key(account: &str, region: &str, name: &str) -> Vec<u8> {
    records::bus_key(account, region, name)
}

fn check_name(name: &str, field: &str) -> EventsResult<()> {
    check_pattern(name, field, 64, |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'), "[\\.\\-_A-Za-z0-9]+")
}

/// AWS wants https endpoints; eddy also takes http for loopback addresses,
/// so tests and local services can be targets.
fn check_endpoint(url: &str, field: &str) -> EventsResult<()> {
    let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"].iter().any(|p| url.starts_with(p));
    if url.starts_with("https://") || loopback {
        return Ok(());
    }
    Err(validation(format!(
        "1 validation error detected: Value '{url}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^((%[0-9A-Fa-f]{{2}}|[-()_.!~*';/?:@\\x26=+$,A-Za-z0-9])+)([).!';/?:,])?$"
    )))
}

fn check_auth(kind: &str, auth: &Value) -> EventsResult<()> {
    let need = |path: &[&str]| {
        path.iter().try_fold(auth, |v, k| v.get(k)).and_then(Value::as_str).is_some_and(|s| !s.is_empty())
    };
    let ok = match kind {
        "API_KEY" => need(&["ApiKeyAuthParameters", "ApiKeyName"]) && need(&["ApiKeyAuthParameters", "ApiKeyValue"]),
        "BASIC" => need(&["BasicAuthParameters", "Username"]) && need(&["BasicAuthParameters", "Password"]),
        "OAUTH_CLIENT_CREDENTIALS" => {
            need(&["OAuthParameters", "AuthorizationEndpoint"])
                && need(&["OAuthParameters", "HttpMethod"])
                && need(&["OAuthParameters", "ClientParameters", "ClientID"])
                && need(&["OAuthParameters", "ClientParameters", "ClientSecret"])
        }
        other => {
            return Err(validation(format!(
                "1 validation error detected: Value '{other}' at 'authorizationType' failed to satisfy constraint: Member must satisfy enum value set: [BASIC, OAUTH_CLIENT_CREDENTIALS, API_KEY]"
            )))
        }
    };
    if ok {
        Ok(())
    } else {
        Err(validation(format!("The AuthParameters for authorization type {kind} are missing required fields.")))
    }
}

/// Merges `update` into `base`, key by key (UpdateConnection changes what it names).
fn merge(base: &mut Value, update: &Value) {
    match (base, update) {
        (Value::Object(b), Value::Object(u)) => {
            for (k, v) in u {
                merge(b.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (b, u) => *b = u.clone(),
    }
}

impl Events {
    pub(crate) fn recover_http(&self) -> EventsResult<()> {
        for kv in self.connections.partition().scan_prefix(b"") {
            let (k, v) = kv?;
            self.connections.load(k, super::decode(&v, "connection")?);
        }
        for kv in self.destinations.partition().scan_prefix(b"") {
            let (k, v) = kv?;
            self.destinations.load(k, super::decode(&v, "api destination")?);
        }
        Ok(())
    }

    pub async fn create_connection(&self, caller: &Caller, input: ConnectionInput) -> EventsResult<ConnectionRecord> {
        check_name(&input.name, "name")?;
        let kind = input.authorization_type.clone().unwrap_or_default();
        let auth = input.auth.clone().unwrap_or(Value::Null);
        check_auth(&kind, &auth)?;
        if let Some(url) = auth["OAuthParameters"]["AuthorizationEndpoint"].as_str() {
            check_endpoint(url, "authParameters.oAuthParameters.authorizationEndpoint")?;
        }
        let now = self.now_ms();
        let id = uuid::Uuid::new_v4();
        let (region, account) = (&caller.region, &caller.account);
        let suffix: String = id.simple().to_string().chars().take(6).collect();
        let record = ConnectionRecord {
            account: account.clone(),
            region: region.clone(),
            name: input.name.clone(),
            arn: format!("arn:aws:events:{region}:{account}:connection/{}/{id}", input.name),
            description: input.description.filter(|d| !d.is_empty()),
            authorization_type: kind.clone(),
            auth,
            // OAuth connections authorize on their first use (the token request).
            state: if kind == "OAUTH_CLIENT_CREDENTIALS" { "AUTHORIZING" } else { "AUTHORIZED" }.into(),
            secret_arn: format!(
                "arn:aws:secretsmanager:{region}:{account}:secret:events!connection/{}/{id}-{suffix}",
                input.name
            ),
            created_ms: now,
            modified_ms: now,
            authorized_ms: (kind != "OAUTH_CLIENT_CREDENTIALS").then_some(now),
        };
        let k = key(account, region, &input.name);
        self.put_connection(k, record, true).await
    }

    async fn put_connection(
        &self,
        k: Vec<u8>,
        record: ConnectionRecord,
        create: bool,
    ) -> EventsResult<ConnectionRecord> {
        let taken = create.then(|| format!("Connection {} already exists.", record.name));
        self.connections.save(self, k, record, taken).await
    }

    pub fn describe_connection(&self, caller: &Caller, name: &str) -> EventsResult<ConnectionRecord> {
        self.connections.get(&key(&caller.account, &caller.region, name)).ok_or_else(|| {
            not_found(format!("Failed to describe the connection(s). Connection '{name}' does not exist."))
        })
    }

    pub fn list_connections(
        &self,
        caller: &Caller,
        prefix: Option<&str>,
        state: Option<&str>,
        token: Option<&str>,
        limit: Option<i64>,
    ) -> EventsResult<Page<ConnectionRecord>> {
        let limit = page_limit(limit)?;
        let items = self.connections.all(|c| {
            c.account == caller.account
                && c.region == caller.region
                && prefix.is_none_or(|p| c.name.starts_with(p))
                && state.is_none_or(|s| c.state == s)
        });
        let listing = format!("events:connections:{}:{}", caller.account, caller.region);
        let req = PageRequest::new(&listing, token, limit, self.now_ms());
        self.sh.tokens.page(items, |c| c.name.as_str(), &req).map_err(|_| invalid_token())
    }

    pub async fn update_connection(&self, caller: &Caller, input: ConnectionInput) -> EventsResult<ConnectionRecord> {
        let mut record = self.describe_connection(caller, &input.name)?;
        if let Some(d) = input.description {
            record.description = Some(d).filter(|d| !d.is_empty());
        }
        if let Some(kind) = input.authorization_type {
            if kind != record.authorization_type {
                record.auth = Value::Object(Map::new());
            }
            record.authorization_type = kind;
        }
        if let Some(auth) = &input.auth {
            merge(&mut record.auth, auth);
        }
        check_auth(&record.authorization_type, &record.auth)?;
        record.modified_ms = self.now_ms();
        self.http.tokens.lock().remove(&record.arn);
        let k = key(&caller.account, &caller.region, &input.name);
        self.put_connection(k, record, false).await
    }

    /// DeauthorizeConnection: its secrets are dropped; invocations fail until it is updated.
    pub async fn deauthorize_connection(&self, caller: &Caller, name: &str) -> EventsResult<ConnectionRecord> {
        let mut record = self.describe_connection(caller, name)?;
        record.state = "DEAUTHORIZED".into();
        record.auth = without_secrets(&record.auth);
        record.modified_ms = self.now_ms();
        self.http.tokens.lock().remove(&record.arn);
        self.put_connection(key(&caller.account, &caller.region, name), record, false).await
    }

    pub async fn delete_connection(&self, caller: &Caller, name: &str) -> EventsResult<ConnectionRecord> {
        let record = self.describe_connection(caller, name)?;
        self.connections.remove(self, &key(&caller.account, &caller.region, name)).await?;
        self.http.tokens.lock().remove(&record.arn);
        Ok(ConnectionRecord { state: "DELETING".into(), ..record })
    }

    fn connection_by_arn(&self, arn: &str) -> Option<ConnectionRecord> {
        self.connections.find(|c| c.arn == arn)
    }

    pub async fn create_destination(
        &self,
        caller: &Caller,
        input: DestinationInput,
    ) -> EventsResult<DestinationRecord> {
        check_name(&input.name, "name")?;
        let now = self.now_ms();
        let id = uuid::Uuid::new_v4();
        let (region, account) = (&caller.region, &caller.account);
        let mut record = DestinationRecord {
            account: account.clone(),
            region: region.clone(),
            name: input.name.clone(),
            arn: format!("arn:aws:events:{region}:{account}:api-destination/{}/{id}", input.name),
            description: None,
            connection_arn: String::new(),
            endpoint: String::new(),
            method: String::new(),
            rate_per_second: DEFAULT_RATE,
            created_ms: now,
            modified_ms: now,
        };
        self.apply_destination(&mut record, input)?;
        let k = key(account, region, &record.name);
        self.put_destination(k, record, true).await
    }

    fn apply_destination(&self, r: &mut DestinationRecord, input: DestinationInput) -> EventsResult<()> {
        // The model's checks first, all reported together as AWS does.
        let mut violations = Vec::new();
        if let Some(arn) = input.connection_arn.as_deref().filter(|a| !connection_arn_shaped(a)) {
            violations.push(format!(
                "Value '{arn}' at 'connectionArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws([a-z]|\\-)*:events:([a-z]|\\d|\\-)*:([0-9]{{12}})?:connection\\/[\\.\\-_A-Za-z0-9]+\\/[\\-A-Za-z0-9]+$"
            ));
        }
        if let Some(m) = input.method.as_deref().filter(|m| !METHODS.contains(m)) {
            violations.push(format!(
                "Value '{m}' at 'httpMethod' failed to satisfy constraint: Member must satisfy enum value set: [POST, GET, HEAD, OPTIONS, PUT, PATCH, DELETE]"
            ));
        }
        if let Some(rate) = input.rate_per_second.filter(|r| !(1..=300).contains(r)) {
            violations.push(format!(
                "Value '{rate}' at 'invocationRateLimitPerSecond' failed to satisfy constraint: Member must have value {}",
                if rate < 1 { "greater than or equal to 1" } else { "less than or equal to 300" }
            ));
        }
        if !violations.is_empty() {
            let n = violations.len();
            let head = if n == 1 {
                "1 validation error detected".to_string()
            } else {
                format!("{n} validation errors detected")
            };
            return Err(validation(format!("{head}: {}", violations.join("; "))));
        }
        if let Some(d) = input.description {
            r.description = Some(d).filter(|d| !d.is_empty());
        }
        if let Some(arn) = input.connection_arn {
            if self.connection_by_arn(&arn).is_none() {
                let name = arn.split('/').nth(1).unwrap_or(&arn).to_string();
                return Err(not_found(format!("Connection '{name}' does not exist.")));
            }
            r.connection_arn = arn;
        }
        if let Some(url) = input.endpoint {
            check_endpoint(&url, "invocationEndpoint")?;
            r.endpoint = url;
        }
        if let Some(m) = input.method {
            r.method = m;
        }
        if let Some(rate) = input.rate_per_second {
            r.rate_per_second = rate as u32;
        }
        r.modified_ms = self.now_ms();
        Ok(())
    }

    /// ACTIVE while its connection is authorized, INACTIVE otherwise (AWS-recorded).
    pub fn destination_state(&self, d: &DestinationRecord) -> &'static str {
        match self.connection_by_arn(&d.connection_arn) {
            Some(c) if c.state == "AUTHORIZED" => "ACTIVE",
            _ => "INACTIVE",
        }
    }

    /// An OAuth connection is authorized by asking for a token now, in the
    /// background, as AWS does on CreateConnection and UpdateConnection.
    pub fn authorize_soon(self: &std::sync::Arc<Self>, caller: &Caller, name: &str) {
        let Ok(conn) = self.describe_connection(caller, name) else { return };
        if conn.authorization_type != "OAUTH_CLIENT_CREDENTIALS" {
            return;
        }
        let events = self.clone();
        tokio::spawn(async move {
            let Err(f) = events.oauth_token(&conn).await else { return };
            tracing::warn!(connection = %conn.arn, reason = %f.message,
                "EventBridge connection not authorized: the OAuth token request failed");
            // An endpoint that answered without a token refused the credentials.
            if f.code == REFUSED {
                let mut refused = conn.clone();
                refused.state = "DEAUTHORIZED".into();
                let k = key(&conn.account, &conn.region, &conn.name);
                if let Err(e) = events.put_connection(k, refused, false).await {
                    tracing::warn!(connection = %conn.arn, error = %e, "EventBridge: could not record the connection as deauthorized");
                }
            }
        });
    }

    async fn put_destination(
        &self,
        k: Vec<u8>,
        record: DestinationRecord,
        create: bool,
    ) -> EventsResult<DestinationRecord> {
        let taken = create.then(|| format!("An api-destination '{}' already exists.", record.name));
        self.destinations.save(self, k, record, taken).await
    }

    pub fn describe_destination(&self, caller: &Caller, name: &str) -> EventsResult<DestinationRecord> {
        self.destinations.get(&key(&caller.account, &caller.region, name)).ok_or_else(|| {
            not_found(format!("Failed to describe the api-destination(s). An api-destination '{name}' does not exist."))
        })
    }

    pub fn list_destinations(
        &self,
        caller: &Caller,
        prefix: Option<&str>,
        connection_arn: Option<&str>,
        token: Option<&str>,
        limit: Option<i64>,
    ) -> EventsResult<Page<DestinationRecord>> {
        let limit = page_limit(limit)?;
        let items = self.destinations.all(|d| {
            d.account == caller.account
                && d.region == caller.region
                && prefix.is_none_or(|p| d.name.starts_with(p))
                && connection_arn.is_none_or(|c| d.connection_arn == c)
        });
        let listing = format!("events:api-destinations:{}:{}", caller.account, caller.region);
        let req = PageRequest::new(&listing, token, limit, self.now_ms());
        self.sh.tokens.page(items, |d| d.name.as_str(), &req).map_err(|_| invalid_token())
    }

    pub async fn update_destination(
        &self,
        caller: &Caller,
        input: DestinationInput,
    ) -> EventsResult<DestinationRecord> {
        let mut record = self.describe_destination(caller, &input.name)?;
        let k = key(&caller.account, &caller.region, &input.name);
        self.apply_destination(&mut record, input)?;
        self.put_destination(k, record, false).await
    }

    pub async fn delete_destination(&self, caller: &Caller, name: &str) -> EventsResult<()> {
        self.describe_destination(caller, name)?;
        self.destinations.remove(self, &key(&caller.account, &caller.region, name)).await
    }

    /// One invocation of an API destination target.
    pub(crate) async fn to_destination(&self, job: &JobRecord, target: &Target, body: String) -> Result<(), Failure> {
        self.invoke_destination(&target.arn, &job.target, body).await.map(|_| ())
    }

    /// One call of the API destination `arn`, with the `HttpParameters`
    /// member of `parameters` (an EventBridge target, a pipe's target or
    /// enrichment parameters): the reply when it is a 2xx, else why not.
    pub(crate) async fn invoke_destination(
        &self,
        arn: &str,
        parameters: &Value,
        body: String,
    ) -> Result<HttpReply, Failure> {
        let Some(dest) = self.destinations.find(|d| d.arn == arn) else {
            return Err(Failure::permanent("NO_RESOURCE", format!("API destination {arn} does not exist")));
        };
        let Some(conn) = self.connection_by_arn(&dest.connection_arn) else {
            return Err(Failure::permanent(
                "NO_RESOURCE",
                format!("connection {} does not exist", dest.connection_arn),
            ));
        };
        if conn.state == "DEAUTHORIZED" {
            return Err(Failure::permanent("NO_PERMISSIONS", format!("connection {} is deauthorized", conn.arn)));
        }
        self.pace(&dest).await;
        let mut call = request(&dest, &conn, parameters, body);
        if conn.authorization_type == "OAUTH_CLIENT_CREDENTIALS" {
            let token = self.oauth_token(&conn).await?;
            call.headers.push(("Authorization".into(), format!("Bearer {token}")));
        }
        let url = call.url.clone();
        let reply = self.http.invoker.invoke(call).await.map_err(|e| {
            let code = if e.contains("within") { "TIMEOUT" } else { "CONNECTION_FAILURE" };
            Failure::retryable(code, e)
        })?;
        match reply.status {
            200..=299 => Ok(reply),
            401 if conn.authorization_type == "OAUTH_CLIENT_CREDENTIALS" => {
                self.http.tokens.lock().remove(&conn.arn);
                Err(Failure::retryable("ERROR_FROM_TARGET", format!("{url} answered HTTP 401")))
            }
            // AWS retries these; other 4xx are the request's fault and are not retried.
            401 | 407 | 409 | 429 | 500..=599 => {
                Err(Failure::retryable("ERROR_FROM_TARGET", format!("{url} answered HTTP {}", reply.status)))
            }
            status => Err(Failure::permanent("ERROR_FROM_TARGET", format!("{url} answered HTTP {status}"))),
        }
    }

    /// Waits for the destination's next slot under its rate limit.
    async fn pace(&self, dest: &DestinationRecord) {
        let gap = 1000 / u64::from(dest.rate_per_second.max(1));
        let now = self.now_ms();
        let slot = {
            let mut slots = self.http.next_slot.lock();
            let next = slots.entry(dest.arn.clone()).or_insert(now);
            let slot = (*next).max(now);
            *next = slot + gap;
            slot
        };
        if slot > now {
            tokio::time::sleep(std::time::Duration::from_millis(slot - now)).await;
        }
    }

    /// The connection's OAuth token: cached, or asked for with the client credentials.
    pub(crate) async fn oauth_token(&self, conn: &ConnectionRecord) -> Result<String, Failure> {
        let now = self.now_ms();
        if let Some((token, until)) = self.http.tokens.lock().get(&conn.arn).cloned() {
            if until > now {
                return Ok(token);
            }
        }
        let o = &conn.auth["OAuthParameters"];
        let (id, secret) = (
            o["ClientParameters"]["ClientID"].as_str().unwrap_or(""),
            o["ClientParameters"]["ClientSecret"].as_str().unwrap_or(""),
        );
        let mut call = HttpCall {
            method: o["HttpMethod"].as_str().unwrap_or("POST").to_string(),
            url: o["AuthorizationEndpoint"].as_str().unwrap_or_default().to_string(),
            headers: vec![("Authorization".into(), format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))))],
            body: String::new(),
        };
        add_parameters(&mut call, &o["OAuthHttpParameters"]);
        if call.body.is_empty() {
            call.headers.push(("Content-Type".into(), "application/x-www-form-urlencoded".into()));
            call.body = "grant_type=client_credentials".into();
        }
        let reply = self.http.invoker.invoke(call).await.map_err(|e| Failure::retryable("CONNECTION_FAILURE", e))?;
        let token = serde_json::from_str::<Value>(&reply.body).ok().and_then(|v| {
            let t = v["access_token"].as_str()?.to_string();
            Some((t, v["expires_in"].as_u64().unwrap_or(3600)))
        });
        let Some((token, expires_in)) = token.filter(|_| (200..300).contains(&reply.status)) else {
            return Err(Failure::retryable(
                REFUSED,
                format!("the OAuth endpoint answered HTTP {} without an access_token", reply.status),
            ));
        };
        self.http.tokens.lock().insert(conn.arn.clone(), (token.clone(), now + expires_in.saturating_sub(30) * 1000));
        if conn.state == "AUTHORIZING" {
            let mut authorized = conn.clone();
            authorized.state = "AUTHORIZED".into();
            authorized.authorized_ms = Some(now);
            let k = key(&conn.account, &conn.region, &conn.name);
            if let Err(e) = self.put_connection(k, authorized, false).await {
                tracing::warn!(connection = %conn.arn, error = %e, "EventBridge: could not record the connection as authorized");
            }
        }
        Ok(token)
    }
}

/// The request to an API destination: endpoint with `*` filled in, the
/// connection's and the target's parameters, the connection's credentials.
fn request(dest: &DestinationRecord, conn: &ConnectionRecord, target: &Value, body: String) -> HttpCall {
    let params = &target["HttpParameters"];
    let mut url = dest.endpoint.clone();
    for value in params["PathParameterValues"].as_array().into_iter().flatten() {
        if let (Some(i), Some(v)) = (url.find('*'), value.as_str()) {
            url.replace_range(i..i + 1, v);
        }
    }
    let mut call = HttpCall {
        method: dest.method.clone(),
        url,
        headers: vec![
            ("Content-Type".into(), "application/json; charset=utf-8".into()),
            ("User-Agent".into(), "Amazon/EventBridge/ApiDestinations".into()),
        ],
        body,
    };
    match conn.authorization_type.as_str() {
        "API_KEY" => {
            let a = &conn.auth["ApiKeyAuthParameters"];
            call.headers
                .push((a["ApiKeyName"].as_str().unwrap_or("").into(), a["ApiKeyValue"].as_str().unwrap_or("").into()));
        }
        "BASIC" => {
            let a = &conn.auth["BasicAuthParameters"];
            let pair = format!("{}:{}", a["Username"].as_str().unwrap_or(""), a["Password"].as_str().unwrap_or(""));
            call.headers.push(("Authorization".into(), format!("Basic {}", STANDARD.encode(pair))));
        }
        _ => {}
    }
    // The connection's parameters win over the target's of the same name (AWS-recorded).
    let conn_params = &conn.auth["InvocationHttpParameters"];
    let named = |key: &str, name: &str| {
        conn_params[key]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e["Key"].as_str().is_some_and(|k| k.eq_ignore_ascii_case(name)))
    };
    for (k, v) in params["HeaderParameters"].as_object().into_iter().flatten() {
        if !named("HeaderParameters", k) {
            call.headers.push((k.clone(), v.as_str().unwrap_or_default().to_string()));
        }
    }
    let query: Vec<(String, String)> = params["QueryStringParameters"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| !named("QueryStringParameters", k))
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    add_query(&mut call.url, &query);
    add_parameters(&mut call, conn_params);
    call
}

/// A connection's HeaderParameters, QueryStringParameters and BodyParameters
/// (the last merged into a JSON object body, or form-encoded into an empty one).
fn add_parameters(call: &mut HttpCall, p: &Value) {
    let pairs = |key: &str| -> Vec<(String, String)> {
        p[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| Some((e["Key"].as_str()?.to_string(), e["Value"].as_str().unwrap_or_default().to_string())))
            .collect()
    };
    call.headers.extend(pairs("HeaderParameters"));
    add_query(&mut call.url, &pairs("QueryStringParameters"));
    let body = pairs("BodyParameters");
    if body.is_empty() {
        return;
    }
    match serde_json::from_str::<Value>(&call.body) {
        Ok(Value::Object(mut m)) => {
            for (k, v) in body {
                m.insert(k, json!(v));
            }
            call.body = Value::Object(m).to_string();
        }
        _ if call.body.is_empty() => {
            call.body = form_urlencoded::Serializer::new(String::new()).extend_pairs(body).finish();
            call.headers.push(("Content-Type".into(), "application/x-www-form-urlencoded".into()));
        }
        _ => {}
    }
}

fn add_query(url: &mut String, pairs: &[(String, String)]) {
    if pairs.is_empty() {
        return;
    }
    let encoded = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    url.push(if url.contains('?') { '&' } else { '?' });
    url.push_str(&encoded);
}

/// The HTTP side of the service: the invoker and its per-destination state.
pub(crate) struct Http {
    pub invoker: Arc<dyn HttpInvoker>,
    pub tokens: Mutex<HashMap<String, (String, Millis)>>,
    pub next_slot: Mutex<HashMap<String, Millis>>,
}

impl Http {
    pub fn new(invoker: Arc<dyn HttpInvoker>) -> Http {
        Http { invoker, tokens: Mutex::new(HashMap::new()), next_slot: Mutex::new(HashMap::new()) }
    }
}
