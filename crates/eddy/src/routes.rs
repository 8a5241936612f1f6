//! The routing table: which handler serves a request, written down as data.
//!
//! Each [`Route`] names a protocol, a service, what selects it and its
//! handler. Selectors differ in how surely they name a service, so the table
//! is read in tiers, most certain first:
//! 1. eddy's own paths (`/_eddy/…`, health): reserved, whatever the request carries;
//! 2. `X-Amz-Target` (awsJson, CBOR): the header names service and operation;
//!    a target no route claims is answered [`Handler::UnknownTarget`];
//! 3. awsQuery `Action` (URL query or form body), SQS and SNS sharing it;
//! 4. REST paths of the restJson1 and restXml services (EventBridge Scheduler);
//! 5. anything else: [`Handler::NotFound`].
//!
//! Within a tier the first matching entry wins.

mod template;

use bytes::Bytes;
use http::request::Parts;
use http::Method;

pub use self::template::PathParams;
use crate::kinesis::Format;
use crate::pipes::Op as PipesOp;
use crate::request::credential_scope;
use crate::scheduler::Op as SchedulerOp;
use crate::schemas::Op as SchemasOp;

/// The wire protocol a route speaks, requests and responses alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    AwsJson1_0,
    AwsJson1_1,
    /// Kinesis's `application/x-amz-cbor-1.1`, the Java SDKs' default.
    Cbor1_1,
    AwsQuery,
    RestJson1,
    RestXml,
    /// eddy's own endpoints: JSON or plain text, no AWS protocol.
    Eddy,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::AwsJson1_0 => "awsJson1_0",
            Protocol::AwsJson1_1 => "awsJson1_1",
            Protocol::Cbor1_1 => "cbor1_1",
            Protocol::AwsQuery => "awsQuery",
            Protocol::RestJson1 => "restJson1",
            Protocol::RestXml => "restXml",
            Protocol::Eddy => "eddy",
        }
    }
}

/// Who answers; its name labels the request in the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Sqs,
    Sns,
    Kinesis,
    Events,
    Scheduler,
    Pipes,
    Schemas,
    Iam,
    Sts,
    /// `/_eddy/…` endpoints other than health.
    Eddy,
    Health,
    /// No route claimed the request.
    Unknown,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Sqs => "sqs",
            Service::Sns => "sns",
            Service::Kinesis => "kinesis",
            Service::Events => "events",
            Service::Scheduler => "scheduler",
            Service::Pipes => "pipes",
            Service::Schemas => "schemas",
            Service::Iam => "iam",
            Service::Sts => "sts",
            Service::Eddy => "eddy",
            Service::Health => "health",
            Service::Unknown => "unknown",
        }
    }
}

/// The code that serves a route (see `server::handle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    Health {
        localstack: bool,
    },
    /// `/_eddy/sns/…` and `/_eddy/doctor`.
    EddySns,
    /// `/_eddy/events/…`.
    EddyEvents,
    Events,
    /// `/_eddy/scheduler/…`.
    EddyScheduler,
    Scheduler(SchedulerOp),
    /// `/_eddy/pipes/…`.
    EddyPipes,
    Pipes(PipesOp),
    Schemas(SchemasOp),
    SqsJson,
    SqsQuery,
    SnsQuery,
    IamQuery,
    StsQuery,
    Kinesis(Format),
    /// An `X-Amz-Target` no route claims.
    UnknownTarget,
    /// Nothing names an operation (a bare GET of a queue URL, say).
    NotFound,
}

#[derive(Debug)]
pub enum Methods {
    Any,
    Only(&'static [Method]),
}

impl Methods {
    fn allow(&self, method: &Method) -> bool {
        match self {
            Methods::Any => true,
            Methods::Only(methods) => methods.contains(method),
        }
    }
}

/// Which awsQuery actions a route takes when neither the API version nor
/// the signature names its service.
#[derive(Debug, PartialEq, Eq)]
pub enum Actions {
    Listed(&'static [&'static str]),
    /// Whatever no other awsQuery route claims: the endpoint's default.
    Unclaimed,
}

#[derive(Debug)]
pub enum Selector {
    /// An HTTP method and a path template (see [`template`]).
    Path {
        methods: Methods,
        template: &'static str,
        /// For paths several services share (`/tags/{arn}`): the service
        /// the request is signed for, or, unsigned, whose ARN the path names.
        signing: Option<&'static str>,
    },
    /// `X-Amz-Target: {prefix}{Operation}`, with a body of `media_type`
    /// (compared as a prefix of Content-Type) or, if None, of any type.
    Target {
        prefix: &'static str,
        media_type: Option<&'static str>,
    },
    Query(QueryKey),
}

/// An awsQuery form whose `Version` is `version`; without one, signed for
/// `scope`; without either, an action in `actions`.
#[derive(Debug)]
pub struct QueryKey {
    pub version: &'static str,
    pub scope: &'static str,
    pub actions: Actions,
}

#[derive(Debug)]
pub struct Route {
    pub protocol: Protocol,
    pub service: Service,
    pub selector: Selector,
    pub handler: Handler,
}

const fn path(
    protocol: Protocol,
    service: Service,
    methods: Methods,
    template: &'static str,
    handler: Handler,
) -> Route {
    Route { protocol, service, selector: Selector::Path { methods, template, signing: None }, handler }
}

/// A path route shared with other services, taken only by requests for
/// `signing` (see [`Selector::Path`]).
const fn signed_path(
    protocol: Protocol,
    service: Service,
    signing: &'static str,
    methods: Methods,
    template: &'static str,
    handler: Handler,
) -> Route {
    Route { protocol, service, selector: Selector::Path { methods, template, signing: Some(signing) }, handler }
}

const fn target(
    protocol: Protocol,
    service: Service,
    prefix: &'static str,
    media_type: Option<&'static str>,
    handler: Handler,
) -> Route {
    Route { protocol, service, selector: Selector::Target { prefix, media_type }, handler }
}

const fn query(
    service: Service,
    version: &'static str,
    scope: &'static str,
    actions: Actions,
    handler: Handler,
) -> Route {
    Route {
        protocol: Protocol::AwsQuery,
        service,
        selector: Selector::Query(QueryKey { version, scope, actions }),
        handler,
    }
}

const READ: Methods = Methods::Only(&[Method::GET, Method::HEAD]);

/// SNS actions a request may name with neither `Version` nor a signature:
/// the SubscribeURL and UnsubscribeURL links SNS mails out carry neither.
const SNS_UNSIGNED_ACTIONS: &[&str] = &[
    "ConfirmSubscription",
    "Unsubscribe",
    "Subscribe",
    "Publish",
    "PublishBatch",
    "CreateTopic",
    "DeleteTopic",
    "ListTopics",
    "ListSubscriptions",
    "ListSubscriptionsByTopic",
    "GetTopicAttributes",
    "SetTopicAttributes",
    "GetSubscriptionAttributes",
    "SetSubscriptionAttributes",
];

pub static ROUTES: &[Route] = &[
    // eddy's own endpoints. `/_eddy/sns/` takes any rest, the empty one too.
    path(Protocol::Eddy, Service::Eddy, Methods::Any, "/_eddy/sns/", Handler::EddySns),
    path(Protocol::Eddy, Service::Eddy, Methods::Any, "/_eddy/sns/{path+}", Handler::EddySns),
    path(Protocol::Eddy, Service::Eddy, Methods::Any, "/_eddy/doctor", Handler::EddySns),
    path(Protocol::Eddy, Service::Eddy, Methods::Any, "/_eddy/events/{path+}", Handler::EddyEvents),
    path(Protocol::Eddy, Service::Eddy, Methods::Any, "/_eddy/scheduler/{path+}", Handler::EddyScheduler),
    path(Protocol::Eddy, Service::Eddy, Methods::Any, "/_eddy/pipes/{path+}", Handler::EddyPipes),
    path(Protocol::Eddy, Service::Health, READ, "/_eddy/health", Handler::Health { localstack: false }),
    // LocalStack's shape, for tools that wait on LocalStack.
    path(Protocol::Eddy, Service::Health, READ, "/_localstack/health", Handler::Health { localstack: true }),
    path(Protocol::Eddy, Service::Health, READ, "/health", Handler::Health { localstack: true }),
    // The CBOR entry comes first: the JSON one takes a body of any type.
    target(
        Protocol::Cbor1_1,
        Service::Kinesis,
        crate::kinesis::TARGET_PREFIX,
        Some(crate::kinesis::CBOR),
        Handler::Kinesis(Format::Cbor),
    ),
    target(Protocol::AwsJson1_1, Service::Kinesis, crate::kinesis::TARGET_PREFIX, None, Handler::Kinesis(Format::Json)),
    target(Protocol::AwsJson1_0, Service::Sqs, eddy_wire::sqs::TARGET_PREFIX, None, Handler::SqsJson),
    target(Protocol::AwsJson1_1, Service::Events, eddy_wire::events::TARGET_PREFIX, None, Handler::Events),
    query(Service::Sns, "2010-03-31", "sns", Actions::Listed(SNS_UNSIGNED_ACTIONS), Handler::SnsQuery),
    // Every IAM and STS client sends its API version and signs for its service.
    query(Service::Iam, "2010-05-08", "iam", Actions::Listed(&[]), Handler::IamQuery),
    query(Service::Sts, "2011-06-15", "sts", Actions::Listed(&[]), Handler::StsQuery),
    // SQS was this endpoint's first awsQuery service: it answers the rest,
    // an unknown action with its own InvalidAction.
    query(Service::Sqs, "2012-11-05", "sqs", Actions::Unclaimed, Handler::SqsQuery),
    // restJson1 (MQ, MSK, Scheduler, Pipes, Schemas) and restXml (S3)
    // paths go here, a more specific template before a more general one.
    // EventBridge Scheduler (2021-06-30), URIs as its model's `http` blocks give them.
    scheduler(POST, "/schedules/{Name}", SchedulerOp::CreateSchedule),
    scheduler(GET, "/schedules/{Name}", SchedulerOp::GetSchedule),
    scheduler(PUT, "/schedules/{Name}", SchedulerOp::UpdateSchedule),
    scheduler(DELETE, "/schedules/{Name}", SchedulerOp::DeleteSchedule),
    scheduler(GET, "/schedules", SchedulerOp::ListSchedules),
    scheduler(POST, "/schedule-groups/{Name}", SchedulerOp::CreateScheduleGroup),
    scheduler(GET, "/schedule-groups/{Name}", SchedulerOp::GetScheduleGroup),
    scheduler(DELETE, "/schedule-groups/{Name}", SchedulerOp::DeleteScheduleGroup),
    scheduler(GET, "/schedule-groups", SchedulerOp::ListScheduleGroups),
    signed_path(
        Protocol::RestJson1,
        Service::Scheduler,
        "scheduler",
        GET,
        "/tags/{ResourceArn}",
        Handler::Scheduler(SchedulerOp::ListTagsForResource),
    ),
    signed_path(
        Protocol::RestJson1,
        Service::Scheduler,
        "scheduler",
        POST,
        "/tags/{ResourceArn}",
        Handler::Scheduler(SchedulerOp::TagResource),
    ),
    signed_path(
        Protocol::RestJson1,
        Service::Scheduler,
        "scheduler",
        DELETE,
        "/tags/{ResourceArn}",
        Handler::Scheduler(SchedulerOp::UntagResource),
    ),
    // EventBridge Pipes (2015-10-07), URIs as its model's `http` blocks give them.
    pipes(POST, "/v1/pipes/{Name}/start", PipesOp::StartPipe),
    pipes(POST, "/v1/pipes/{Name}/stop", PipesOp::StopPipe),
    pipes(POST, "/v1/pipes/{Name}", PipesOp::CreatePipe),
    pipes(GET, "/v1/pipes/{Name}", PipesOp::DescribePipe),
    pipes(PUT, "/v1/pipes/{Name}", PipesOp::UpdatePipe),
    pipes(DELETE, "/v1/pipes/{Name}", PipesOp::DeletePipe),
    pipes(GET, "/v1/pipes", PipesOp::ListPipes),
    signed_path(
        Protocol::RestJson1,
        Service::Pipes,
        "pipes",
        GET,
        "/tags/{resourceArn}",
        Handler::Pipes(PipesOp::ListTagsForResource),
    ),
    signed_path(
        Protocol::RestJson1,
        Service::Pipes,
        "pipes",
        POST,
        "/tags/{resourceArn}",
        Handler::Pipes(PipesOp::TagResource),
    ),
    signed_path(
        Protocol::RestJson1,
        Service::Pipes,
        "pipes",
        DELETE,
        "/tags/{resourceArn}",
        Handler::Pipes(PipesOp::UntagResource),
    ),
    // EventBridge Schemas (2019-12-02), URIs as its model's `http` blocks give them.
    schemas(POST, "/v1/discoverers", SchemasOp::CreateDiscoverer),
    schemas(GET, "/v1/discoverers", SchemasOp::ListDiscoverers),
    schemas(GET, "/v1/discoverers/id/{DiscovererId}", SchemasOp::DescribeDiscoverer),
    schemas(PUT, "/v1/discoverers/id/{DiscovererId}", SchemasOp::UpdateDiscoverer),
    schemas(DELETE, "/v1/discoverers/id/{DiscovererId}", SchemasOp::DeleteDiscoverer),
    schemas(POST, "/v1/discoverers/id/{DiscovererId}/start", SchemasOp::StartDiscoverer),
    schemas(POST, "/v1/discoverers/id/{DiscovererId}/stop", SchemasOp::StopDiscoverer),
    schemas(POST, "/v1/discover", SchemasOp::GetDiscoveredSchema),
    schemas(GET, "/v1/registries", SchemasOp::ListRegistries),
    schemas(POST, "/v1/registries/name/{RegistryName}", SchemasOp::CreateRegistry),
    schemas(GET, "/v1/registries/name/{RegistryName}", SchemasOp::DescribeRegistry),
    schemas(PUT, "/v1/registries/name/{RegistryName}", SchemasOp::UpdateRegistry),
    schemas(DELETE, "/v1/registries/name/{RegistryName}", SchemasOp::DeleteRegistry),
    schemas(GET, "/v1/registries/name/{RegistryName}/schemas", SchemasOp::ListSchemas),
    schemas(GET, "/v1/registries/name/{RegistryName}/schemas/search", SchemasOp::SearchSchemas),
    schemas(POST, SCHEMA, SchemasOp::CreateSchema),
    schemas(GET, SCHEMA, SchemasOp::DescribeSchema),
    schemas(PUT, SCHEMA, SchemasOp::UpdateSchema),
    schemas(DELETE, SCHEMA, SchemasOp::DeleteSchema),
    schemas(GET, concat!(schema_path!(), "/versions"), SchemasOp::ListSchemaVersions),
    schemas(GET, concat!(schema_path!(), "/export"), SchemasOp::ExportSchema),
    schemas(DELETE, concat!(schema_path!(), "/version/{SchemaVersion}"), SchemasOp::DeleteSchemaVersion),
    schemas(POST, concat!(schema_path!(), "/language/{Language}"), SchemasOp::PutCodeBinding),
    schemas(GET, concat!(schema_path!(), "/language/{Language}"), SchemasOp::DescribeCodeBinding),
    schemas(GET, concat!(schema_path!(), "/language/{Language}/source"), SchemasOp::GetCodeBindingSource),
    schemas(PUT, "/v1/policy", SchemasOp::PutResourcePolicy),
    schemas(GET, "/v1/policy", SchemasOp::GetResourcePolicy),
    schemas(DELETE, "/v1/policy", SchemasOp::DeleteResourcePolicy),
    signed_path(
        Protocol::RestJson1,
        Service::Schemas,
        "schemas",
        GET,
        "/tags/{ResourceArn}",
        Handler::Schemas(SchemasOp::ListTagsForResource),
    ),
    signed_path(
        Protocol::RestJson1,
        Service::Schemas,
        "schemas",
        POST,
        "/tags/{ResourceArn}",
        Handler::Schemas(SchemasOp::TagResource),
    ),
    signed_path(
        Protocol::RestJson1,
        Service::Schemas,
        "schemas",
        DELETE,
        "/tags/{ResourceArn}",
        Handler::Schemas(SchemasOp::UntagResource),
    ),
];

const GET: Methods = Methods::Only(&[Method::GET]);
const POST: Methods = Methods::Only(&[Method::POST]);
const PUT: Methods = Methods::Only(&[Method::PUT]);
const DELETE: Methods = Methods::Only(&[Method::DELETE]);

const fn pipes(methods: Methods, template: &'static str, op: PipesOp) -> Route {
    path(Protocol::RestJson1, Service::Pipes, methods, template, Handler::Pipes(op))
}

const fn scheduler(methods: Methods, template: &'static str, op: SchedulerOp) -> Route {
    path(Protocol::RestJson1, Service::Scheduler, methods, template, Handler::Scheduler(op))
}

/// A schema's path, which its versions, export and code bindings extend.
macro_rules! schema_path {
    () => {
        "/v1/registries/name/{RegistryName}/schemas/name/{SchemaName}"
    };
}
use schema_path;
const SCHEMA: &str = schema_path!();

const fn schemas(methods: Methods, template: &'static str, op: SchemasOp) -> Route {
    path(Protocol::RestJson1, Service::Schemas, methods, template, Handler::Schemas(op))
}

/// The route a request takes, and what its selector read from it.
#[derive(Debug)]
pub struct Routed {
    pub handler: Handler,
    pub protocol: Protocol,
    pub service: Service,
    /// The X-Amz-Target operation or the awsQuery action; for
    /// [`Handler::UnknownTarget`] the whole target. Empty for paths.
    pub operation: String,
    /// awsQuery parameters: the URL query's, then the form body's.
    pub pairs: Vec<(String, String)>,
    /// A path template's parameters (REST routes).
    pub params: PathParams,
}

impl Routed {
    fn new(handler: Handler, protocol: Protocol, service: Service, operation: &str) -> Routed {
        let operation = operation.to_string();
        Routed { handler, protocol, service, operation, pairs: Vec::new(), params: PathParams::default() }
    }

    fn to(route: &Route, operation: &str) -> Routed {
        Routed::new(route.handler, route.protocol, route.service, operation)
    }

    /// No route claims the request: it is answered as SQS would (eddy's
    /// first service), in `protocol`.
    fn unclaimed(handler: Handler, protocol: Protocol, operation: &str) -> Routed {
        Routed::new(handler, protocol, Service::Unknown, operation)
    }
}

/// For a health path (eddy's or LocalStack's), whether it is LocalStack's.
pub fn health_path(path: &str) -> Option<bool> {
    match path {
        "/_eddy/health" => Some(false),
        "/_localstack/health" | "/health" => Some(true),
        _ => None,
    }
}

pub fn route(parts: &Parts, body: &Bytes) -> Routed {
    by_path(parts, &[Protocol::Eddy])
        .or_else(|| by_target(parts))
        .or_else(|| by_query(parts, body))
        .or_else(|| by_path(parts, &[Protocol::RestJson1, Protocol::RestXml]))
        .unwrap_or_else(|| Routed::unclaimed(Handler::NotFound, Protocol::AwsQuery, ""))
}

/// The handler a request's headers alone point to, for errors found before
/// its body is read (too large, stalled, over the memory budget): the
/// target, else awsQuery by the signature's service.
pub fn by_headers(parts: &Parts) -> Handler {
    match by_target(parts) {
        Some(routed) => routed.handler,
        None => query_route(None, credential_scope(parts).map(|s| s.service).as_deref(), "").handler,
    }
}

fn by_path(parts: &Parts, protocols: &[Protocol]) -> Option<Routed> {
    ROUTES.iter().filter(|r| protocols.contains(&r.protocol)).find_map(|route| {
        let Selector::Path { methods, template, signing } = &route.selector else { return None };
        if !methods.allow(&parts.method) || signing.is_some_and(|s| !signed_for(parts, s)) {
            return None;
        }
        let params = template::matches(template, parts.uri.path(), parts.uri.query())?;
        Some(Routed { params, ..Routed::to(route, "") })
    })
}

/// Whether a request is for service `signing`: its signature's scope says
/// so, or, unsigned, its path names an ARN of that service.
fn signed_for(parts: &Parts, signing: &str) -> bool {
    match credential_scope(parts) {
        Some(scope) => scope.service == signing,
        None => {
            let path = parts.uri.path().to_ascii_lowercase();
            path.contains(&format!(":{signing}:")) || path.contains(&format!("%3a{signing}%3a"))
        }
    }
}

fn by_target(parts: &Parts) -> Option<Routed> {
    let target = header(parts, "x-amz-target")?;
    let content_type = header(parts, "content-type");
    let routed = ROUTES.iter().find_map(|route| {
        let Selector::Target { prefix, media_type } = route.selector else { return None };
        let operation = target.strip_prefix(prefix)?;
        let type_fits = media_type.is_none_or(|m| content_type.is_some_and(|c| c.starts_with(m)));
        type_fits.then(|| Routed::to(route, operation))
    });
    Some(routed.unwrap_or_else(|| Routed::unclaimed(Handler::UnknownTarget, Protocol::AwsJson1_0, target)))
}

fn by_query(parts: &Parts, body: &Bytes) -> Option<Routed> {
    let mut pairs = parts.uri.query().map(|q| eddy_wire::query::parse_form(q.as_bytes())).unwrap_or_default();
    if is_form(parts) {
        pairs.extend(eddy_wire::query::parse_form(body));
    }
    let value = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let action = value("Action")?;
    let scope = credential_scope(parts).map(|s| s.service);
    let route = query_route(value("Version"), scope.as_deref(), action);
    let operation = action.to_string();
    Some(Routed { pairs, ..Routed::to(route, &operation) })
}

/// awsQuery serves SQS, SNS, IAM and STS on one endpoint: the API version decides,
/// else the signature's service, else the action's name; what none of these
/// claims goes to the endpoint's default route.
fn query_route(version: Option<&str>, scope: Option<&str>, action: &str) -> &'static Route {
    let find = |claims: &dyn Fn(&QueryKey) -> bool| {
        ROUTES.iter().find(|r| matches!(&r.selector, Selector::Query(key) if claims(key)))
    };
    let claimed = match version {
        Some(v) => find(&|key| key.version == v),
        None => scope
            .and_then(|s| find(&|key| key.scope == s))
            .or_else(|| find(&|key| matches!(key.actions, Actions::Listed(listed) if listed.contains(&action)))),
    };
    claimed.or_else(|| find(&|key| key.actions == Actions::Unclaimed)).expect("the table has a default awsQuery route")
}

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

fn is_form(parts: &Parts) -> bool {
    header(parts, "content-type")
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";
    const CBOR: &str = "application/x-amz-cbor-1.1";
    const JSON_1_1: &str = "application/x-amz-json-1.1";

    /// A request: method, URI, headers, body.
    fn request(method: &str, uri: &str, headers: &[(&str, &str)], body: &str) -> (Parts, Bytes) {
        let mut builder = http::Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        (builder.body(()).unwrap().into_parts().0, Bytes::from(body.to_string()))
    }

    fn routed(method: &str, uri: &str, headers: &[(&str, &str)], body: &str) -> Routed {
        let (parts, body) = request(method, uri, headers, body);
        route(&parts, &body)
    }

    fn handler(method: &str, uri: &str, headers: &[(&str, &str)], body: &str) -> Handler {
        routed(method, uri, headers, body).handler
    }

    fn signed_for(service: &str) -> String {
        format!("AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=x")
    }

    #[test]
    fn eddy_paths_take_any_method_and_win_over_targets() {
        for (method, uri) in [
            ("GET", "/_eddy/sns/SimpleNotificationService-eddy.pem"),
            ("GET", "/_eddy/sns/outbox?limit=3"),
            ("DELETE", "/_eddy/sns/outbox"),
            ("POST", "/_eddy/sns/sms-opt-out?phoneNumber=%2B15555550100"),
            ("GET", "/_eddy/sns/"),
            ("GET", "/_eddy/sns/a/b"),
            ("GET", "/_eddy/doctor"),
            ("PUT", "/_eddy/doctor"),
        ] {
            assert_eq!(handler(method, uri, &[], ""), Handler::EddySns, "{method} {uri}");
        }
        let r = routed("POST", "/_eddy/sns/stats", &[("x-amz-target", "AmazonSQS.ListQueues")], "");
        assert_eq!((r.handler, r.service, r.protocol), (Handler::EddySns, Service::Eddy, Protocol::Eddy));
        for uri in ["/_eddy/sns", "/_eddy/snsx", "/_eddy/doctor/", "/_eddy"] {
            assert_eq!(handler("GET", uri, &[], ""), Handler::NotFound, "{uri}");
        }
    }

    #[test]
    fn health_on_get_and_head_only() {
        for method in ["GET", "HEAD"] {
            assert_eq!(handler(method, "/_eddy/health", &[], ""), Handler::Health { localstack: false });
            assert_eq!(handler(method, "/_localstack/health", &[], ""), Handler::Health { localstack: true });
            assert_eq!(handler(method, "/health?x=1", &[], ""), Handler::Health { localstack: true });
        }
        assert_eq!(routed("GET", "/health", &[], "").service, Service::Health);
        // Other methods fall through to the protocols.
        assert_eq!(handler("POST", "/health", &[], ""), Handler::NotFound);
        let query = handler("POST", "/_localstack/health", &[("content-type", FORM)], "Action=ListQueues");
        assert_eq!(query, Handler::SqsQuery);
        assert_eq!(handler("GET", "/_eddy/health/", &[], ""), Handler::NotFound);
    }

    #[test]
    fn kinesis_by_target_in_cbor_or_json() {
        let cbor = routed("POST", "/", &[("x-amz-target", "Kinesis_20131202.PutRecord"), ("content-type", CBOR)], "");
        assert_eq!((cbor.handler, cbor.protocol), (Handler::Kinesis(Format::Cbor), Protocol::Cbor1_1));
        assert_eq!((cbor.operation.as_str(), cbor.service), ("PutRecord", Service::Kinesis));
        let json =
            routed("POST", "/", &[("x-amz-target", "Kinesis_20131202.ListStreams"), ("content-type", JSON_1_1)], "");
        assert_eq!((json.handler, json.protocol), (Handler::Kinesis(Format::Json), Protocol::AwsJson1_1));
        assert_eq!(json.operation, "ListStreams");
        // No content type, or CBOR spelled otherwise (compared as written): JSON.
        for headers in [&[][..], &[("content-type", "APPLICATION/X-AMZ-CBOR-1.1")]] {
            let headers = [&[("x-amz-target", "Kinesis_20131202.ListStreams")], headers].concat();
            assert_eq!(handler("POST", "/", &headers, ""), Handler::Kinesis(Format::Json));
        }
        let params = [("x-amz-target", "Kinesis_20131202.X"), ("content-type", "application/x-amz-cbor-1.1; x=y")];
        assert_eq!(handler("POST", "/", &params, ""), Handler::Kinesis(Format::Cbor));
    }

    #[test]
    fn sqs_json_by_target() {
        let r = routed("POST", "/", &[("x-amz-target", "AmazonSQS.SendMessage"), ("content-type", CBOR)], "{}");
        assert_eq!((r.handler, r.protocol, r.service), (Handler::SqsJson, Protocol::AwsJson1_0, Service::Sqs));
        assert_eq!(r.operation, "SendMessage");
        // The target wins over a form Action, and over a path.
        let both = [("x-amz-target", "AmazonSQS.ListQueues"), ("content-type", FORM)];
        assert_eq!(routed("POST", "/000000000000/q?Action=Publish", &both, "Action=Publish").operation, "ListQueues");
    }

    #[test]
    fn unknown_target_keeps_the_whole_target() {
        let r = routed("POST", "/", &[("x-amz-target", "DynamoDB_20120810.GetItem")], "");
        assert_eq!(
            (r.handler, r.service, r.protocol),
            (Handler::UnknownTarget, Service::Unknown, Protocol::AwsJson1_0)
        );
        assert_eq!(r.operation, "DynamoDB_20120810.GetItem");
        assert_eq!(routed("POST", "/", &[("x-amz-target", "")], "").handler, Handler::UnknownTarget);
        // Prefixes are case-sensitive, as before.
        assert_eq!(handler("POST", "/", &[("x-amz-target", "amazonsqs.ListQueues")], ""), Handler::UnknownTarget);
    }

    #[test]
    fn query_by_version() {
        let sqs = routed("POST", "/", &[("content-type", FORM)], "Action=ListQueues&Version=2012-11-05");
        assert_eq!((sqs.handler, sqs.protocol, sqs.service), (Handler::SqsQuery, Protocol::AwsQuery, Service::Sqs));
        assert_eq!(sqs.operation, "ListQueues");
        assert_eq!(sqs.pairs, [("Action".into(), "ListQueues".into()), ("Version".into(), "2012-11-05".into())]);
        let sns = routed("POST", "/", &[("content-type", FORM)], "Action=Publish&Version=2010-03-31");
        assert_eq!((sns.handler, sns.service), (Handler::SnsQuery, Service::Sns));
        let iam = routed("POST", "/", &[("content-type", FORM)], "Action=CreateRole&Version=2010-05-08");
        assert_eq!((iam.handler, iam.service), (Handler::IamQuery, Service::Iam));
        let sts = routed("POST", "/", &[("content-type", FORM)], "Action=AssumeRole&Version=2011-06-15");
        assert_eq!((sts.handler, sts.service), (Handler::StsQuery, Service::Sts));
        let signed_sts = signed_for("sts");
        let headers = [("content-type", FORM), ("authorization", signed_sts.as_str())];
        assert_eq!(handler("POST", "/", &headers, "Action=GetCallerIdentity"), Handler::StsQuery);
        // The version outranks the signature and the action's name.
        let signed_sqs = signed_for("sqs");
        let headers = [("content-type", FORM), ("authorization", signed_sqs.as_str())];
        assert_eq!(handler("POST", "/", &headers, "Action=AddPermission&Version=2010-03-31"), Handler::SnsQuery);
        // Any other version is SQS's, even for an SNS action.
        assert_eq!(
            handler("POST", "/", &[("content-type", FORM)], "Action=Publish&Version=2099-01-01"),
            Handler::SqsQuery
        );
    }

    #[test]
    fn query_without_version_by_signature_then_action() {
        let signed = |service: &str, action: &str| {
            let auth = signed_for(service);
            handler(
                "POST",
                "/",
                &[("content-type", FORM), ("authorization", auth.as_str())],
                &format!("Action={action}"),
            )
        };
        assert_eq!(signed("sns", "AddPermission"), Handler::SnsQuery);
        assert_eq!(signed("sqs", "Publish"), Handler::SqsQuery);
        assert_eq!(signed("kinesis", "Publish"), Handler::SnsQuery);
        assert_eq!(signed("kinesis", "SendMessage"), Handler::SqsQuery);
        // Presigned: the scope comes from X-Amz-Credential.
        let presigned = "/?Action=AddPermission&X-Amz-Credential=test%2F20240101%2Fus-east-1%2Fsns%2Faws4_request";
        assert_eq!(handler("GET", presigned, &[], ""), Handler::SnsQuery);
        // The SubscribeURL and UnsubscribeURL links: neither version nor signature.
        let unsubscribe = routed("GET", "/?Action=Unsubscribe&SubscriptionArn=arn%3Aaws%3Asns%3Ax", &[], "");
        assert_eq!(unsubscribe.handler, Handler::SnsQuery);
        assert_eq!(unsubscribe.pairs[1], ("SubscriptionArn".into(), "arn:aws:sns:x".into()));
        for action in SNS_UNSIGNED_ACTIONS {
            assert_eq!(handler("GET", &format!("/?Action={action}"), &[], ""), Handler::SnsQuery, "{action}");
        }
        assert_eq!(handler("GET", "/?Action=SendMessage", &[], ""), Handler::SqsQuery);
        assert_eq!(handler("GET", "/?Action=AddPermission", &[], ""), Handler::SqsQuery);
    }

    #[test]
    fn query_routes_decide_as_is_sns_did() {
        // The old `is_sns(version, scope, action)` cases.
        assert_eq!(query_route(Some("2010-03-31"), Some("sqs"), "AddPermission").handler, Handler::SnsQuery);
        assert_eq!(query_route(Some("2012-11-05"), None, "AddPermission").handler, Handler::SqsQuery);
        assert_eq!(query_route(None, Some("sns"), "AddPermission").handler, Handler::SnsQuery);
        assert_eq!(query_route(None, None, "Unsubscribe").handler, Handler::SnsQuery);
        assert_eq!(query_route(None, None, "SendMessage").handler, Handler::SqsQuery);
        assert_eq!(query_route(None, Some(""), "Publish").handler, Handler::SnsQuery);
    }

    #[test]
    fn query_pairs_come_from_url_then_form_body() {
        let r = routed(
            "POST",
            "/000000000000/q?Version=2012-11-05",
            &[("content-type", FORM)],
            "Action=SendMessage&MessageBody=a+b",
        );
        assert_eq!(r.handler, Handler::SqsQuery);
        let keys: Vec<_> = r.pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(keys, ["Version=2012-11-05", "Action=SendMessage", "MessageBody=a b"]);
        // The first Action counts.
        assert_eq!(routed("GET", "/?Action=Publish&Action=SendMessage", &[], "").handler, Handler::SnsQuery);
        // Content type compared without case; a body of another type is not read.
        assert_eq!(
            handler("POST", "/", &[("content-type", "Application/X-WWW-Form-Urlencoded")], "Action=ListQueues"),
            Handler::SqsQuery
        );
        assert_eq!(handler("POST", "/", &[("content-type", "text/plain")], "Action=ListQueues"), Handler::NotFound);
        assert_eq!(handler("POST", "/", &[], "Action=ListQueues"), Handler::NotFound);
    }

    #[test]
    fn nothing_named_is_not_found() {
        for (method, uri) in
            [("GET", "/"), ("GET", "/000000000000/q"), ("POST", "/"), ("PUT", "/bucket/key"), ("DELETE", "/x")]
        {
            let r = routed(method, uri, &[], "");
            assert_eq!((r.handler, r.service, r.protocol), (Handler::NotFound, Service::Unknown, Protocol::AwsQuery));
        }
        assert_eq!(handler("POST", "/", &[("content-type", FORM)], "Version=2012-11-05"), Handler::NotFound);
    }

    #[test]
    fn headers_alone_for_errors_before_the_body() {
        let by = |headers: &[(&str, &str)]| by_headers(&request("POST", "/", headers, "").0);
        assert_eq!(
            by(&[("x-amz-target", "Kinesis_20131202.PutRecords"), ("content-type", CBOR)]),
            Handler::Kinesis(Format::Cbor)
        );
        assert_eq!(by(&[("x-amz-target", "Kinesis_20131202.PutRecords")]), Handler::Kinesis(Format::Json));
        assert_eq!(by(&[("x-amz-target", "AmazonSQS.SendMessage")]), Handler::SqsJson);
        assert_eq!(by(&[("x-amz-target", "Other.Op")]), Handler::UnknownTarget);
        let sns = signed_for("sns");
        assert_eq!(by(&[("authorization", sns.as_str())]), Handler::SnsQuery);
        let kinesis = signed_for("kinesis");
        assert_eq!(by(&[("authorization", kinesis.as_str())]), Handler::SqsQuery);
        assert_eq!(by(&[]), Handler::SqsQuery);
    }

    #[test]
    fn scheduler_rest_paths_by_method_and_template() {
        let cases = [
            ("POST", "/schedules/s1", SchedulerOp::CreateSchedule),
            ("GET", "/schedules/s1?groupName=g", SchedulerOp::GetSchedule),
            ("PUT", "/schedules/s1", SchedulerOp::UpdateSchedule),
            ("DELETE", "/schedules/s1?groupName=g&clientToken=t", SchedulerOp::DeleteSchedule),
            ("GET", "/schedules?NamePrefix=a&MaxResults=2", SchedulerOp::ListSchedules),
            ("GET", "/schedules", SchedulerOp::ListSchedules),
            ("POST", "/schedule-groups/g", SchedulerOp::CreateScheduleGroup),
            ("GET", "/schedule-groups/g", SchedulerOp::GetScheduleGroup),
            ("DELETE", "/schedule-groups/g", SchedulerOp::DeleteScheduleGroup),
            ("GET", "/schedule-groups", SchedulerOp::ListScheduleGroups),
            (
                "GET",
                "/tags/arn%3Aaws%3Ascheduler%3Aus-east-1%3A0%3Aschedule-group%2Fg",
                SchedulerOp::ListTagsForResource,
            ),
            ("POST", "/tags/arn:aws:scheduler:us-east-1:0:schedule-group%2Fg", SchedulerOp::TagResource),
            (
                "DELETE",
                "/tags/arn%3aaws%3ascheduler%3aus-east-1%3a0%3aschedule%2Fg%2Fs?TagKeys=a",
                SchedulerOp::UntagResource,
            ),
        ];
        for (method, uri, op) in cases {
            let r = routed(method, uri, &[], "");
            assert_eq!(
                (r.handler, r.service, r.protocol),
                (Handler::Scheduler(op), Service::Scheduler, Protocol::RestJson1)
            );
        }
        let tags = routed("GET", "/tags/arn%3Aaws%3Ascheduler%3Aus-east-1%3A0%3Aschedule-group%2Fg", &[], "");
        assert_eq!(tags.params.get("ResourceArn"), Some("arn:aws:scheduler:us-east-1:0:schedule-group/g"));
        // `/tags/{arn}` is shared: the signature's service decides, else the ARN's.
        let signed = |service: &str| {
            format!("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0")
        };
        let for_scheduler = signed("scheduler");
        let for_pipes = signed("pipes");
        assert_eq!(
            handler("POST", "/tags/x", &[("authorization", for_scheduler.as_str())], ""),
            Handler::Scheduler(SchedulerOp::TagResource)
        );
        assert_ne!(
            handler(
                "POST",
                "/tags/arn%3Aaws%3Ascheduler%3Aus-east-1%3A0%3Aschedule%2Fg%2Fs",
                &[("authorization", for_pipes.as_str())],
                ""
            ),
            Handler::Scheduler(SchedulerOp::TagResource)
        );
        assert_eq!(handler("POST", "/tags/x", &[], ""), Handler::NotFound);
        assert_eq!(handler("PATCH", "/schedules/s1", &[], ""), Handler::NotFound);
        assert_eq!(handler("GET", "/schedules/a/b", &[], ""), Handler::NotFound);
        assert_eq!(handler("GET", "/_eddy/scheduler/outbox", &[], ""), Handler::EddyScheduler);
        // A form Action still goes to awsQuery first.
        assert_eq!(handler("POST", "/schedules/s1", &[("content-type", FORM)], "Action=ListQueues"), Handler::SqsQuery);
    }

    #[test]
    fn pipes_rest_paths_by_method_and_template() {
        let cases = [
            ("POST", "/v1/pipes/p1", PipesOp::CreatePipe),
            ("GET", "/v1/pipes/p1", PipesOp::DescribePipe),
            ("PUT", "/v1/pipes/p1", PipesOp::UpdatePipe),
            ("DELETE", "/v1/pipes/p1", PipesOp::DeletePipe),
            ("GET", "/v1/pipes?NamePrefix=a&Limit=2", PipesOp::ListPipes),
            ("POST", "/v1/pipes/p1/start", PipesOp::StartPipe),
            ("POST", "/v1/pipes/p1/stop", PipesOp::StopPipe),
        ];
        for (method, uri, op) in cases {
            let r = routed(method, uri, &[], "");
            assert_eq!((r.handler, r.service, r.protocol), (Handler::Pipes(op), Service::Pipes, Protocol::RestJson1));
        }
        // `/tags/{arn}`, shared with Scheduler: signed for pipes, or naming a pipes ARN.
        let arn = "/tags/arn%3Aaws%3Apipes%3Aus-east-1%3A000000000000%3Apipe%2Fp1";
        let tags = routed("GET", arn, &[], "");
        assert_eq!(tags.handler, Handler::Pipes(PipesOp::ListTagsForResource));
        assert_eq!(tags.params.get("resourceArn"), Some("arn:aws:pipes:us-east-1:000000000000:pipe/p1"));
        assert_eq!(handler("POST", arn, &[], ""), Handler::Pipes(PipesOp::TagResource));
        assert_eq!(handler("DELETE", &format!("{arn}?tagKeys=a"), &[], ""), Handler::Pipes(PipesOp::UntagResource));
        let pipes = signed_for("pipes");
        assert_eq!(
            handler("GET", "/tags/x", &[("authorization", pipes.as_str())], ""),
            Handler::Pipes(PipesOp::ListTagsForResource)
        );
        assert_eq!(handler("GET", "/_eddy/pipes/stats", &[], ""), Handler::EddyPipes);
        assert_eq!(handler("PATCH", "/v1/pipes/p1", &[], ""), Handler::NotFound);
    }

    #[test]
    fn schemas_rest_paths_by_method_and_template() {
        let schema = "/v1/registries/name/r/schemas/name/src%40Type";
        let cases = [
            ("POST", "/v1/discoverers".to_string(), SchemasOp::CreateDiscoverer),
            ("GET", "/v1/discoverers?limit=2".into(), SchemasOp::ListDiscoverers),
            ("PUT", "/v1/discoverers/id/d".into(), SchemasOp::UpdateDiscoverer),
            ("POST", "/v1/discoverers/id/d/stop".into(), SchemasOp::StopDiscoverer),
            ("POST", "/v1/discover".into(), SchemasOp::GetDiscoveredSchema),
            ("GET", "/v1/registries?scope=AWS".into(), SchemasOp::ListRegistries),
            ("POST", "/v1/registries/name/r".into(), SchemasOp::CreateRegistry),
            ("GET", "/v1/registries/name/r/schemas/search?keywords=a".into(), SchemasOp::SearchSchemas),
            ("GET", "/v1/registries/name/r/schemas".into(), SchemasOp::ListSchemas),
            ("PUT", schema.into(), SchemasOp::UpdateSchema),
            ("GET", format!("{schema}/versions"), SchemasOp::ListSchemaVersions),
            ("GET", format!("{schema}/export?type=JSONSchemaDraft4"), SchemasOp::ExportSchema),
            ("DELETE", format!("{schema}/version/2"), SchemasOp::DeleteSchemaVersion),
            ("GET", format!("{schema}/language/Python36/source"), SchemasOp::GetCodeBindingSource),
            ("PUT", "/v1/policy?registryName=r".into(), SchemasOp::PutResourcePolicy),
            ("GET", "/tags/arn%3Aaws%3Aschemas%3Aus-east-1%3A0%3Aregistry%2Fr".into(), SchemasOp::ListTagsForResource),
        ];
        for (method, uri, op) in cases {
            let r = routed(method, &uri, &[], "");
            assert_eq!(
                (r.handler, r.service, r.protocol),
                (Handler::Schemas(op), Service::Schemas, Protocol::RestJson1)
            );
        }
        assert_eq!(routed("PUT", schema, &[], "").params.get("SchemaName"), Some("src@Type"));
    }

    #[test]
    fn table_is_well_formed() {
        let defaults = ROUTES
            .iter()
            .filter(|r| matches!(r.selector, Selector::Query(QueryKey { actions: Actions::Unclaimed, .. })));
        assert_eq!(defaults.count(), 1, "exactly one awsQuery route takes unclaimed actions");
        for route in ROUTES {
            match &route.selector {
                Selector::Path { template, .. } => {
                    assert!(template::is_well_formed(template), "{template}");
                    let rest = matches!(route.protocol, Protocol::RestJson1 | Protocol::RestXml);
                    assert!(rest || route.protocol == Protocol::Eddy, "{route:?}: path routes are eddy's or REST");
                }
                Selector::Target { .. } => {
                    let json = [Protocol::AwsJson1_0, Protocol::AwsJson1_1, Protocol::Cbor1_1];
                    assert!(json.contains(&route.protocol), "{route:?}")
                }
                Selector::Query(_) => assert_eq!(route.protocol, Protocol::AwsQuery),
            }
        }
        // A target entry that takes any body hides a later one for a type.
        let targets: Vec<_> = ROUTES
            .iter()
            .filter_map(|r| match r.selector {
                Selector::Target { prefix, media_type } => Some((prefix, media_type)),
                _ => None,
            })
            .collect();
        for (i, (prefix, media_type)) in targets.iter().enumerate() {
            let hidden = targets[..i].iter().any(|(p, m)| m.is_none() && prefix.starts_with(p));
            assert!(!hidden, "{prefix} {media_type:?} is never reached");
        }
    }
}
