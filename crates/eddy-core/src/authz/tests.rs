//! The evaluation logic, case by case, from the IAM User Guide's "Policy
//! evaluation logic" and "Cross-account policy evaluation logic".

use std::sync::Arc;

use serde_json::{json, Value};

use super::*;
use crate::policy::{ConditionContext, PolicyDocument, PolicyKind};

const A: &str = "111122223333";
const B: &str = "444455556666";
const QUEUE: &str = "arn:aws:sqs:us-east-1:111122223333:q";
const SEND: &str = "sqs:SendMessage";

fn identity_doc(statements: Value) -> NamedPolicy {
    let text = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    NamedPolicy { name: "p".into(), doc: Arc::new(PolicyDocument::parse_kind(&text, PolicyKind::Identity).unwrap()) }
}

fn resource_doc(statements: Value) -> PolicyDocument {
    PolicyDocument::parse(&json!({"Version": "2012-10-17", "Statement": statements}).to_string()).unwrap()
}

fn allow(action: &str, resource: &str) -> Value {
    json!({"Effect": "Allow", "Action": action, "Resource": resource})
}

fn user(account: &str, policies: Vec<NamedPolicy>) -> PrincipalPolicies {
    PrincipalPolicies {
        kind: PrincipalKind::User,
        arn: format!("arn:aws:iam::{account}:user/alice"),
        principal_arn: format!("arn:aws:iam::{account}:user/alice"),
        user_id: "AIDAALICE".into(),
        user_name: Some("alice".into()),
        identity: policies,
        ..PrincipalPolicies::root(account)
    }
}

fn session(account: &str, policies: Vec<NamedPolicy>, session: Option<Vec<NamedPolicy>>) -> PrincipalPolicies {
    PrincipalPolicies {
        kind: PrincipalKind::AssumedRole,
        arn: format!("arn:aws:sts::{account}:assumed-role/worker/s1"),
        principal_arn: format!("arn:aws:iam::{account}:role/worker"),
        user_id: "AROAWORKER:s1".into(),
        identity: policies,
        session,
        ..PrincipalPolicies::root(account)
    }
}

fn target<'a>(policy: Option<&'a PolicyDocument>) -> Target<'a> {
    Target { action: SEND, resource: QUEUE, owner: A, policy, trust: false }
}

fn facts(ip: &str) -> RequestFacts<'static> {
    RequestFacts { source_ip: Some(ip.parse().unwrap()), secure: false, region: "us-east-1", now_ms: 1_700_000_000_000 }
}

fn decide(p: &PrincipalPolicies, t: &Target) -> Outcome {
    authorize(p, t, &p.context(&facts("10.0.0.1")))
}

fn implicit(by: PolicyType) -> Outcome {
    Outcome::Deny(Denial { explicit: false, by, policy: None, sid: None })
}

fn explicit_by(o: &Outcome) -> Option<PolicyType> {
    match o {
        Outcome::Deny(d) if d.explicit => Some(d.by),
        _ => None,
    }
}

#[test]
fn root_may_do_anything_in_its_account_but_not_past_an_explicit_deny() {
    let root = PrincipalPolicies::root(A);
    assert_eq!(decide(&root, &target(None)), Outcome::Allow);
    let deny = resource_doc(json!([{"Sid": "no", "Effect": "Deny", "Principal": "*", "Action": "sqs:*"}]));
    let out = decide(&root, &target(Some(&deny)));
    assert_eq!(explicit_by(&out), Some(PolicyType::Resource));
}

#[test]
fn identity_policy_allows_or_implicitly_denies() {
    assert_eq!(decide(&user(A, vec![identity_doc(json!([allow(SEND, QUEUE)]))]), &target(None)), Outcome::Allow);
    assert_eq!(decide(&user(A, vec![identity_doc(json!([allow("sqs:*", "*")]))]), &target(None)), Outcome::Allow);
    let other_queue = identity_doc(json!([allow(SEND, "arn:aws:sqs:us-east-1:111122223333:other")]));
    assert_eq!(decide(&user(A, vec![other_queue]), &target(None)), implicit(PolicyType::Identity));
    assert_eq!(decide(&user(A, vec![]), &target(None)), implicit(PolicyType::Identity));
}

#[test]
fn explicit_deny_wins_over_any_allow() {
    let both = vec![
        identity_doc(json!([allow("sqs:*", "*")])),
        identity_doc(json!([{"Effect": "Deny", "Action": SEND, "Resource": "*"}])),
    ];
    assert_eq!(explicit_by(&decide(&user(A, both), &target(None))), Some(PolicyType::Identity));
    let open = resource_doc(json!([{"Effect": "Allow", "Principal": "*", "Action": "sqs:*"}]));
    let denied = vec![identity_doc(json!([{"Effect": "Deny", "Action": "sqs:*", "Resource": "*"}]))];
    assert_eq!(explicit_by(&decide(&user(A, denied), &target(Some(&open)))), Some(PolicyType::Identity));
}

#[test]
fn same_account_resource_policy_naming_the_caller_is_enough() {
    let names_alice = resource_doc(json!([{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": SEND}]));
    assert_eq!(decide(&user(A, vec![]), &target(Some(&names_alice))), Outcome::Allow);
    // Naming the account delegates to its identity policies.
    let names_account = resource_doc(json!([{"Effect": "Allow", "Principal": {"AWS": A}, "Action": SEND}]));
    assert_eq!(decide(&user(A, vec![]), &target(Some(&names_account))), implicit(PolicyType::Identity));
    let resource_deny = resource_doc(json!([{"Effect": "Deny", "Principal": {"AWS": A}, "Action": SEND}]));
    let allowed = vec![identity_doc(json!([allow(SEND, "*")]))];
    assert_eq!(explicit_by(&decide(&user(A, allowed), &target(Some(&resource_deny)))), Some(PolicyType::Resource));
}

#[test]
fn cross_account_needs_both_sides() {
    let grants_b = resource_doc(json!([{"Effect": "Allow", "Principal": {"AWS": B}, "Action": SEND}]));
    let allowed = || vec![identity_doc(json!([allow(SEND, "*")]))];
    assert_eq!(decide(&user(B, allowed()), &target(Some(&grants_b))), Outcome::Allow);
    assert_eq!(decide(&user(B, allowed()), &target(None)), implicit(PolicyType::Resource));
    assert_eq!(decide(&user(B, vec![]), &target(Some(&grants_b))), implicit(PolicyType::Identity));
    // B's root: its identity side is complete, the queue policy decides.
    assert_eq!(decide(&PrincipalPolicies::root(B), &target(Some(&grants_b))), Outcome::Allow);
    assert_eq!(decide(&PrincipalPolicies::root(B), &target(None)), implicit(PolicyType::Resource));
}

#[test]
fn permission_boundary_and_session_policies_only_limit() {
    let mut alice = user(A, vec![identity_doc(json!([allow("sqs:*", "*")]))]);
    alice.boundary = Some(identity_doc(json!([allow("sqs:ReceiveMessage", "*")])));
    assert_eq!(decide(&alice, &target(None)), implicit(PolicyType::Boundary));
    alice.boundary = Some(identity_doc(json!([allow("sqs:Send*", "*")])));
    assert_eq!(decide(&alice, &target(None)), Outcome::Allow);
    let role = vec![identity_doc(json!([allow("sqs:*", "*")]))];
    assert_eq!(decide(&session(A, role.clone(), None), &target(None)), Outcome::Allow);
    let narrow = Some(vec![identity_doc(json!([allow("sqs:ReceiveMessage", "*")]))]);
    assert_eq!(decide(&session(A, role, narrow), &target(None)), implicit(PolicyType::Session));
    let wide_session = Some(vec![identity_doc(json!([allow("*", "*")]))]);
    assert_eq!(decide(&session(A, vec![], wide_session), &target(None)), implicit(PolicyType::Identity));
}

#[test]
fn a_resource_policy_naming_the_role_covers_its_sessions() {
    let names_role = resource_doc(json!([{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::444455556666:role/worker"}, "Action": SEND}]));
    let allowed = vec![identity_doc(json!([allow(SEND, "*")]))];
    assert_eq!(decide(&session(B, allowed, None), &target(Some(&names_role))), Outcome::Allow);
}

#[test]
fn conditions_see_the_request_context() {
    let from_office = identity_doc(json!([{"Effect": "Allow", "Action": SEND, "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}]));
    let alice = user(A, vec![from_office]);
    assert!(authorize(&alice, &target(None), &alice.context(&facts("192.0.2.7"))).is_allowed());
    assert!(!authorize(&alice, &target(None), &alice.context(&facts("198.51.100.1"))).is_allowed());
    let tls_only = resource_doc(json!([{"Effect": "Deny", "Principal": "*", "Action": "sqs:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]));
    let root = PrincipalPolicies::root(A);
    assert_eq!(explicit_by(&decide(&root, &target(Some(&tls_only)))), Some(PolicyType::Resource));
    let secure = RequestFacts { secure: true, ..facts("10.0.0.1") };
    assert!(authorize(&root, &target(Some(&tls_only)), &root.context(&secure)).is_allowed());
    let by_type = identity_doc(json!([{"Effect": "Allow", "Action": SEND, "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalType": "User", "aws:username": "alice",
            "aws:PrincipalAccount": A, "aws:RequestedRegion": "us-east-1"}}}]));
    assert_eq!(decide(&user(A, vec![by_type]), &target(None)), Outcome::Allow);
}

#[test]
fn trust_policies_must_let_the_caller_in() {
    let role = "arn:aws:iam::111122223333:role/worker";
    let assume = |p: &PrincipalPolicies, trust: &PolicyDocument, external: Option<&str>| {
        let mut ctx = p.context(&facts("10.0.0.1"));
        if let Some(id) = external {
            ctx.insert("sts:ExternalId", id);
        }
        let t = Target { action: "sts:AssumeRole", resource: role, owner: A, policy: Some(trust), trust: true };
        authorize(p, &t, &ctx)
    };
    let trusts_alice = resource_doc(json!([{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "sts:AssumeRole"}]));
    let trusts_service = resource_doc(json!([{"Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}]));
    assert!(assume(&user(A, vec![]), &trusts_alice, None).is_allowed());
    assert_eq!(assume(&user(A, vec![]), &trusts_service, None), implicit(PolicyType::Resource));
    assert_eq!(assume(&PrincipalPolicies::root(A), &trusts_service, None), implicit(PolicyType::Resource));
    let trusts_b = resource_doc(json!([{"Effect": "Allow", "Principal": {"AWS": B}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "secret-1"}}}]));
    let may_assume = || vec![identity_doc(json!([allow("sts:AssumeRole", "*")]))];
    assert!(assume(&user(B, may_assume()), &trusts_b, Some("secret-1")).is_allowed());
    assert!(!assume(&user(B, may_assume()), &trusts_b, Some("wrong")).is_allowed());
    assert!(!assume(&user(B, may_assume()), &trusts_b, None).is_allowed());
    assert_eq!(assume(&user(B, vec![]), &trusts_b, Some("secret-1")), implicit(PolicyType::Identity));
}

#[test]
fn denial_messages_read_as_aws_writes_them() {
    let alice = user(A, vec![]);
    let Outcome::Deny(d) = decide(&alice, &target(None)) else { panic!("allowed") };
    assert_eq!(
        d.message(&alice.arn, "sqs:sendmessage", QUEUE),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: sqs:sendmessage on resource: \
         arn:aws:sqs:us-east-1:111122223333:q because no identity-based policy allows the sqs:sendmessage action"
    );
    let (_, statement) = d.would_allow(&alice, SEND, QUEUE).unwrap();
    assert_eq!(statement, json!({"Effect": "Allow", "Action": SEND, "Resource": QUEUE}));
    let explicit = Denial { explicit: true, by: PolicyType::Resource, policy: None, sid: None };
    assert_eq!(
        explicit.message(&alice.arn, "sqs:listqueues", "*"),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: sqs:listqueues \
         with an explicit deny in a resource-based policy"
    );
}

#[test]
fn context_carries_principal_tags_and_time() {
    let mut alice = user(A, vec![]);
    alice.tags = vec![("team".into(), "blue".into())];
    let ctx: ConditionContext = alice.context(&facts("10.0.0.1"));
    assert_eq!(ctx.get("aws:PrincipalTag/team"), Some(&["blue".to_string()][..]));
    assert_eq!(ctx.get("aws:EpochTime"), Some(&["1700000000".to_string()][..]));
    assert_eq!(ctx.get("aws:PrincipalArn"), Some(&[alice.arn.clone()][..]));
}

/// Without `--enforce-iam` only a call into another account is judged, and
/// only by the resource's policy: identity policies do not matter.
#[test]
fn without_enforcement_another_accounts_resource_needs_its_policy() {
    let caller = PrincipalPolicies::root("444455556666");
    let ctx = ConditionContext::default();
    let decide = |owner: &str, policy: Option<&PolicyDocument>| {
        let t = Target {
            action: "sqs:SendMessage",
            resource: "arn:aws:sqs:us-east-1:111122223333:q",
            owner,
            policy,
            trust: false,
        };
        authorize_cross_account(&caller, &t, &ctx)
    };
    assert!(matches!(decide("444455556666", None), Outcome::Allow), "its own account");
    assert!(matches!(decide("111122223333", None), Outcome::Deny(_)), "no policy lets it in");
    let grant = resource_doc(
        json!([{"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "sqs:*", "Resource": "*"}]),
    );
    assert!(matches!(decide("111122223333", Some(&grant)), Outcome::Allow));
    let denied = resource_doc(json!([
        {"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "sqs:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}
    ]));
    let Outcome::Deny(d) = decide("111122223333", Some(&denied)) else { panic!("an explicit deny wins") };
    assert!(d.explicit);
}
