//! Policy evaluator tests, mostly from the examples of the AWS IAM
//! reference (condition operators, multivalued keys, principals,
//! NotPrincipal, variables) and the SNS → SQS delivery policy.

use serde_json::{json, Value};

use super::*;

const QUEUE: &str = "arn:aws:sqs:us-east-1:111122223333:orders";
const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:events";
const OWNER: &str = "111122223333";
const OTHER: &str = "444455556666";
const SNS: Principal<'static> = Principal::Service("sns.amazonaws.com");

fn owner() -> Principal<'static> {
    Principal::Account { account: OWNER, arn: "arn:aws:iam::111122223333:root" }
}

fn doc(policy: &Value) -> PolicyDocument {
    PolicyDocument::parse(&policy.to_string()).unwrap_or_else(|e| panic!("{e:?} parsing {policy}"))
}

/// A 2012-10-17 policy holding the given statements.
fn policy(statements: Value) -> PolicyDocument {
    doc(&json!({"Version": "2012-10-17", "Statement": statements}))
}

/// Condition keys and their values, for [`context`].
type Pairs<'a> = &'a [(&'a str, &'a [&'a str])];

fn context(pairs: Pairs) -> ConditionContext {
    let mut ctx = ConditionContext::new();
    for (k, vs) in pairs {
        ctx.insert_many(k, vs.iter().copied());
    }
    ctx
}

fn decide(
    doc: &PolicyDocument,
    principal: Principal,
    action: &str,
    resource: &str,
    ctx: &ConditionContext,
) -> Decision {
    doc.evaluate(&Request { principal, action, resource, context: ctx })
}

fn allowed(doc: &PolicyDocument, principal: Principal, action: &str, ctx: &ConditionContext) -> bool {
    decide(doc, principal, action, QUEUE, ctx).is_allowed()
}

fn allow(sid: &str) -> Decision {
    Decision::Allow { sid: Some(sid.into()) }
}

fn deny(sid: &str) -> Decision {
    Decision::ExplicitDeny { sid: Some(sid.into()) }
}

// ---------------------------------------------------------------- parsing

#[test]
fn statement_may_be_one_object_or_an_array() {
    let one = doc(&json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*"}}));
    assert_eq!(one.statements.len(), 1);
    assert_eq!(one.version, PolicyVersion::V2008_10_17);
    let two = policy(json!([
        {"Sid": "a", "Effect": "Allow", "Principal": "*", "Action": ["sqs:SendMessage"], "Resource": [QUEUE]},
        {"Sid": "b", "Effect": "Deny", "Principal": "*", "Action": "sqs:DeleteQueue", "Resource": QUEUE},
    ]));
    assert_eq!(two.version, PolicyVersion::V2012_10_17);
    assert_eq!(two.statements[0].sid.as_deref(), Some("a"));
    assert_eq!(two.statements[0].actions, vec!["sqs:SendMessage"]);
    assert_eq!(two.statements[1].effect, Effect::Deny);
    assert!(policy(json!([])).statements.is_empty());
}

#[test]
fn principal_forms() {
    use PrincipalEntry as P;
    let cases: Vec<(Value, Vec<PrincipalEntry>)> = vec![
        (json!("*"), vec![P::Any]),
        (json!({"AWS": "*"}), vec![P::Any]),
        (json!({"AWS": "123456789012"}), vec![P::Account("123456789012".into())]),
        (json!({"AWS": "arn:aws:iam::123456789012:root"}), vec![P::Account("123456789012".into())]),
        (
            json!({"AWS": "arn:aws:iam::123456789012:user/Bob"}),
            vec![P::Arn("arn:aws:iam::123456789012:user/Bob".into())],
        ),
        (
            json!({"AWS": ["123456789012", "555555555555"]}),
            vec![P::Account("123456789012".into()), P::Account("555555555555".into())],
        ),
        (json!({"Service": "sns.amazonaws.com"}), vec![P::Service("sns.amazonaws.com".into())]),
        (
            json!({"Service": ["ecs.amazonaws.com", "elasticloadbalancing.amazonaws.com"]}),
            vec![P::Service("ecs.amazonaws.com".into()), P::Service("elasticloadbalancing.amazonaws.com".into())],
        ),
        (json!({"CanonicalUser": "79a59df9"}), vec![P::Other { kind: "CanonicalUser".into(), id: "79a59df9".into() }]),
    ];
    for (principal, want) in cases {
        let d = policy(json!({"Effect": "Allow", "Principal": principal, "Action": "sqs:*", "Resource": "*"}));
        assert_eq!(d.statements[0].principal.as_ref().unwrap().entries, want, "{principal}");
    }
}

#[test]
fn invalid_policies_are_refused() {
    let st = |extra: Value| {
        let mut s = json!({"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": QUEUE});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                s.as_object_mut().unwrap().remove(k);
            } else {
                s[k] = v.clone();
            }
        }
        json!({"Version": "2012-10-17", "Statement": s}).to_string()
    };
    let cases: Vec<(&str, String)> = vec![
        ("not JSON", "{".into()),
        ("not an object", "[]".into()),
        ("no Statement", json!({"Version": "2012-10-17"}).to_string()),
        ("Statement a string", json!({"Statement": "x"}).to_string()),
        ("bad Version", json!({"Version": "2020-01-01", "Statement": []}).to_string()),
        ("unknown top element", json!({"Statement": [], "Foo": 1}).to_string()),
        ("unknown statement element", st(json!({"Principle": "*"}))),
        ("no Effect", st(json!({"Effect": null}))),
        ("lower-case effect", st(json!({"Effect": "allow"}))),
        ("no Principal", st(json!({"Principal": null}))),
        ("Principal and NotPrincipal", st(json!({"NotPrincipal": "*"}))),
        ("principal string", st(json!({"Principal": "123456789012"}))),
        ("partial principal wildcard", st(json!({"Principal": {"AWS": "arn:aws:iam::*:root"}}))),
        ("unknown principal type", st(json!({"Principal": {"Aws": "*"}}))),
        ("empty principal", st(json!({"Principal": {}}))),
        ("principal not an ARN", st(json!({"Principal": {"AWS": "bob"}}))),
        ("no Action", st(json!({"Action": null}))),
        ("Action and NotAction", st(json!({"NotAction": "sqs:*"}))),
        ("empty Action list", st(json!({"Action": []}))),
        ("action without service", st(json!({"Action": "SendMessage"}))),
        ("action wildcard without colon", st(json!({"Action": "sqs*"}))),
        ("action with empty name", st(json!({"Action": "sqs:"}))),
        ("action not a string", st(json!({"Action": [1]}))),
        ("Resource and NotResource", st(json!({"NotResource": "*"}))),
        ("unknown operator", st(json!({"Condition": {"StringEqualz": {"aws:SourceAccount": OWNER}}}))),
        ("Null with IfExists", st(json!({"Condition": {"NullIfExists": {"aws:SourceArn": "true"}}}))),
        ("bare IfExists", st(json!({"Condition": {"IfExists": {"aws:SourceArn": "x"}}}))),
        ("operator value not an object", st(json!({"Condition": {"StringEquals": "x"}}))),
        ("condition value an object", st(json!({"Condition": {"StringEquals": {"k": {"a": 1}}}}))),
        ("condition value null", st(json!({"Condition": {"StringEquals": {"k": [null]}}}))),
        ("Condition not an object", st(json!({"Condition": []}))),
        ("Sid not a string", st(json!({"Sid": 7}))),
    ];
    for (what, text) in cases {
        match PolicyDocument::parse(&text) {
            Err(PolicyError::Malformed(msg)) => assert!(!msg.is_empty(), "{what}"),
            Ok(_) => panic!("{what} was accepted: {text}"),
        }
    }
}

#[test]
fn operator_names() {
    let cases = [
        ("StringEquals", None, OperatorKind::StringEquals, false),
        ("stringequals", None, OperatorKind::StringEquals, false),
        ("StringLikeIfExists", None, OperatorKind::StringLike, true),
        ("ForAnyValue:StringLike", Some(SetQualifier::ForAnyValue), OperatorKind::StringLike, false),
        ("ForAllValues:ArnNotLikeIfExists", Some(SetQualifier::ForAllValues), OperatorKind::ArnNotLike, true),
        ("Null", None, OperatorKind::Null, false),
        ("NotIpAddress", None, OperatorKind::NotIpAddress, false),
    ];
    for (name, set, kind, if_exists) in cases {
        let op = Operator::parse(name).unwrap();
        assert_eq!(op, Operator { set, kind, if_exists }, "{name}");
    }
    assert_eq!(
        Operator::parse("forallvalues:stringequalsifexists").unwrap().to_string(),
        "ForAllValues:StringEqualsIfExists"
    );
}

#[test]
fn conditions_keep_operator_key_and_values() {
    let d = policy(json!({"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket", "Resource": "*",
        "Condition": {"NumericLessThanEquals": {"s3:max-keys": 10}, "Bool": {"aws:SecureTransport": true},
                      "StringLike": {"s3:prefix": ["", "home/"]}}}));
    let mut got: Vec<(String, String, Vec<String>)> =
        d.statements[0].conditions.iter().map(|c| (c.operator.to_string(), c.key.clone(), c.values.clone())).collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("Bool".into(), "aws:SecureTransport".into(), vec!["true".into()]),
            ("NumericLessThanEquals".into(), "s3:max-keys".into(), vec!["10".into()]),
            ("StringLike".into(), "s3:prefix".into(), vec!["".into(), "home/".into()]),
        ]
    );
}

// ------------------------------------------------------- effect and order

#[test]
fn allow_deny_and_implicit_deny() {
    let d = policy(json!([
        {"Sid": "Send", "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": QUEUE},
        {"Sid": "NoPurge", "Effect": "Deny", "Principal": "*", "Action": "sqs:PurgeQueue", "Resource": QUEUE},
    ]));
    let ctx = ConditionContext::new();
    assert_eq!(decide(&d, owner(), "sqs:SendMessage", QUEUE, &ctx), allow("Send"));
    assert_eq!(decide(&d, owner(), "sqs:PurgeQueue", QUEUE, &ctx), deny("NoPurge"));
    assert_eq!(decide(&d, owner(), "sqs:ReceiveMessage", QUEUE, &ctx), Decision::ImplicitDeny);
    assert_eq!(
        decide(&d, owner(), "sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:other", &ctx),
        Decision::ImplicitDeny
    );
}

#[test]
fn explicit_deny_wins_wherever_it_stands() {
    let allow_all = json!({"Sid": "All", "Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*"});
    let deny_send =
        json!({"Sid": "NoSend", "Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"});
    for statements in [json!([allow_all, deny_send]), json!([deny_send, allow_all])] {
        let d = policy(statements);
        assert_eq!(decide(&d, owner(), "sqs:SendMessage", QUEUE, &ConditionContext::new()), deny("NoSend"));
        assert_eq!(decide(&d, owner(), "sqs:ReceiveMessage", QUEUE, &ConditionContext::new()), allow("All"));
    }
}

#[test]
fn first_applying_statement_names_the_decision() {
    let d = policy(json!([
        {"Effect": "Allow", "Principal": "*", "Action": "sqs:ReceiveMessage", "Resource": "*"},
        {"Sid": "Second", "Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*"},
    ]));
    let ctx = ConditionContext::new();
    assert_eq!(decide(&d, owner(), "sqs:ReceiveMessage", QUEUE, &ctx), Decision::Allow { sid: None });
    assert_eq!(decide(&d, owner(), "sqs:SendMessage", QUEUE, &ctx), allow("Second"));
}

// ----------------------------------------------------- actions, resources

#[test]
fn action_wildcards_ignore_case() {
    let cases = [
        ("sqs:*", "sqs:SendMessage", true),
        ("SQS:*", "sqs:SendMessage", true),
        ("SQS:Send*", "sqs:SendMessage", true),
        ("SQS:Send*", "sqs:SendMessageBatch", true),
        ("sqs:send*", "SQS:SENDMESSAGE", true),
        ("SQS:Send*", "sqs:ReceiveMessage", false),
        ("sqs:?eceiveMessage", "sqs:ReceiveMessage", true),
        ("sqs:?eceiveMessage", "sqs:eceiveMessage", false),
        ("sqs:*Message*", "sqs:ChangeMessageVisibility", true),
        ("*", "sns:Publish", true),
        ("sqs:SendMessage", "sqs:SendMessageBatch", false),
        ("sqs:*", "sns:Publish", false),
    ];
    for (pattern, action, want) in cases {
        let d = policy(json!({"Effect": "Allow", "Principal": "*", "Action": pattern, "Resource": "*"}));
        assert_eq!(allowed(&d, owner(), action, &ConditionContext::new()), want, "{pattern} vs {action}");
    }
}

#[test]
fn not_action_covers_everything_else() {
    let d = policy(json!([
        {"Sid": "AllButDelete", "Effect": "Allow", "Principal": "*",
         "NotAction": ["sqs:DeleteQueue", "sqs:Purge*"], "Resource": QUEUE},
    ]));
    let ctx = ConditionContext::new();
    assert!(allowed(&d, owner(), "sqs:SendMessage", &ctx));
    assert!(allowed(&d, owner(), "sns:Publish", &ctx));
    assert!(!allowed(&d, owner(), "sqs:DeleteQueue", &ctx));
    assert!(!allowed(&d, owner(), "sqs:PurgeQueue", &ctx));
    // NotAction with Deny: deny everything except reading.
    let d = policy(json!([
        {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*"},
        {"Sid": "ReadOnly", "Effect": "Deny", "Principal": "*", "NotAction": "sqs:Receive*", "Resource": "*"},
    ]));
    assert!(allowed(&d, owner(), "sqs:ReceiveMessage", &ctx));
    assert_eq!(decide(&d, owner(), "sqs:SendMessage", QUEUE, &ctx), deny("ReadOnly"));
}

#[test]
fn resources_match_segment_by_segment() {
    let cases = [
        ("*", QUEUE, true),
        (QUEUE, QUEUE, true),
        ("arn:aws:sqs:us-east-1:111122223333:ORDERS", QUEUE, false),
        ("arn:aws:sqs:*:111122223333:*", QUEUE, true),
        ("arn:aws:sqs:us-east-?:111122223333:ord*", QUEUE, true),
        ("arn:aws:sqs:*:444455556666:*", QUEUE, false),
        ("arn:aws:sqs:*", QUEUE, true),
        ("arn:aws:sns:*", QUEUE, false),
        ("arn:aws:s3:::my_corporate_bucket/*", "arn:aws:s3:::my_corporate_bucket/a/b:c", true),
        ("arn:aws:s3:::my_corporate_bucket/*", "arn:aws:s3:::other/a", false),
        ("arn:aws:iam::111122223333:user/accounting/*", "arn:aws:iam::111122223333:user/accounting/bob", true),
        // The region wildcard may not swallow the account.
        ("arn:aws:sqs:*:orders", QUEUE, false),
    ];
    for (pattern, resource, want) in cases {
        let d = policy(json!({"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": pattern}));
        let got = decide(&d, owner(), "sqs:SendMessage", resource, &ConditionContext::new()).is_allowed();
        assert_eq!(got, want, "{pattern} vs {resource}");
    }
}

#[test]
fn not_resource_and_missing_resource() {
    let d = policy(
        json!({"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "NotResource": "arn:aws:sqs:*:*:secret*"}),
    );
    let ctx = ConditionContext::new();
    assert!(decide(&d, owner(), "sqs:SendMessage", QUEUE, &ctx).is_allowed());
    assert!(!decide(&d, owner(), "sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:secrets", &ctx).is_allowed());
    // No Resource element at all: the statement covers the policy's own resource.
    let d = policy(json!({"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sns:*"}));
    let other = Principal::Account { account: OTHER, arn: "arn:aws:iam::444455556666:root" };
    assert!(decide(&d, other, "sns:Publish", TOPIC, &ctx).is_allowed());
}

// ------------------------------------------------------------ principals

#[test]
fn principal_matching() {
    let bob = Principal::Account { account: OWNER, arn: "arn:aws:iam::111122223333:user/Bob" };
    let alice = Principal::Account { account: OWNER, arn: "arn:aws:iam::111122223333:user/Alice" };
    let stranger = Principal::Account { account: OTHER, arn: "arn:aws:iam::444455556666:root" };
    let events = Principal::Service("events.amazonaws.com");
    let anon = Principal::Anonymous;
    let cases: Vec<(Value, Vec<(Principal, bool)>)> = vec![
        (json!("*"), vec![(bob, true), (stranger, true), (SNS, true), (anon, true)]),
        (json!({"AWS": "*"}), vec![(bob, true), (stranger, true), (SNS, true), (anon, true)]),
        (
            json!({"AWS": OWNER}),
            vec![(bob, true), (alice, true), (owner(), true), (stranger, false), (SNS, false), (anon, false)],
        ),
        (json!({"AWS": "arn:aws:iam::111122223333:root"}), vec![(bob, true), (owner(), true), (stranger, false)]),
        (json!({"AWS": "arn:aws:iam::111122223333:user/Bob"}), vec![(bob, true), (alice, false), (owner(), false)]),
        (json!({"AWS": "arn:aws:iam::111122223333:user/bob"}), vec![(bob, false)]),
        (json!({"Service": "sns.amazonaws.com"}), vec![(SNS, true), (events, false), (bob, false), (anon, false)]),
        (
            json!({"AWS": OTHER, "Service": "events.amazonaws.com"}),
            vec![(stranger, true), (events, true), (SNS, false), (bob, false)],
        ),
        (json!({"CanonicalUser": "79a59df9"}), vec![(bob, false), (anon, false)]),
    ];
    for (principal, expectations) in cases {
        let d = policy(json!({"Effect": "Allow", "Principal": principal, "Action": "sqs:*", "Resource": "*"}));
        for (who, want) in expectations {
            assert_eq!(allowed(&d, who, "sqs:SendMessage", &ConditionContext::new()), want, "{principal} vs {who:?}");
        }
    }
}

#[test]
fn not_principal_with_deny_exempts_only_the_named() {
    // The AWS example: everyone but Bob (and his account's root) is denied.
    let d = policy(json!([
        {"Sid": "All", "Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*"},
        {"Sid": "OnlyBob", "Effect": "Deny",
         "NotPrincipal": {"AWS": ["arn:aws:iam::444455556666:user/Bob", "arn:aws:iam::444455556666:root"]},
         "Action": "sqs:*", "Resource": "*"},
    ]));
    let ctx = ConditionContext::new();
    let bob = Principal::Account { account: OTHER, arn: "arn:aws:iam::444455556666:user/Bob" };
    let root = Principal::Account { account: OTHER, arn: "arn:aws:iam::444455556666:root" };
    let alice = Principal::Account { account: OTHER, arn: "arn:aws:iam::444455556666:user/Alice" };
    assert_eq!(decide(&d, bob, "sqs:SendMessage", QUEUE, &ctx), allow("All"));
    assert_eq!(decide(&d, root, "sqs:SendMessage", QUEUE, &ctx), allow("All"));
    assert_eq!(decide(&d, alice, "sqs:SendMessage", QUEUE, &ctx), deny("OnlyBob"));
    assert_eq!(decide(&d, owner(), "sqs:SendMessage", QUEUE, &ctx), deny("OnlyBob"));
    assert_eq!(decide(&d, SNS, "sqs:SendMessage", QUEUE, &ctx), deny("OnlyBob"));
    assert_eq!(decide(&d, Principal::Anonymous, "sqs:SendMessage", QUEUE, &ctx), deny("OnlyBob"));
}

#[test]
fn not_principal_with_allow_and_services() {
    let d = policy(json!({"Effect": "Allow", "NotPrincipal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:*", "Resource": "*"}));
    let ctx = ConditionContext::new();
    assert!(!allowed(&d, SNS, "sqs:SendMessage", &ctx));
    assert!(allowed(&d, Principal::Service("events.amazonaws.com"), "sqs:SendMessage", &ctx));
    assert!(allowed(&d, Principal::Anonymous, "sqs:SendMessage", &ctx));
    let nobody = policy(json!({"Effect": "Allow", "NotPrincipal": {"AWS": "*"}, "Action": "sqs:*", "Resource": "*"}));
    assert!(!allowed(&nobody, owner(), "sqs:SendMessage", &ctx));
}

#[test]
fn cross_account_grant() {
    // The owner lets account 444455556666 send, and nothing else.
    let d =
        policy(json!({"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::444455556666:root"]},
        "Action": "sqs:SendMessage", "Resource": QUEUE}));
    let ctx = ConditionContext::new();
    let partner_user = Principal::Account { account: OTHER, arn: "arn:aws:iam::444455556666:user/app" };
    let third = Principal::Account { account: "999999999999", arn: "arn:aws:iam::999999999999:root" };
    assert_eq!(decide(&d, partner_user, "sqs:SendMessage", QUEUE, &ctx), allow("Partner"));
    assert_eq!(decide(&d, partner_user, "sqs:ReceiveMessage", QUEUE, &ctx), Decision::ImplicitDeny);
    assert_eq!(decide(&d, third, "sqs:SendMessage", QUEUE, &ctx), Decision::ImplicitDeny);
}

// ------------------------------------------------------------ conditions

/// `(operator, policy value(s), request values or None for an absent key, expected)`.
type Case = (&'static str, Value, Option<&'static [&'static str]>, bool);

fn check_condition_cases(cases: &[Case]) {
    for (op, values, request, want) in cases {
        let d = policy(json!({"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*",
            "Condition": {*op: {"test:Key": values}}}));
        let ctx = match request {
            Some(vs) => context(&[("test:key", vs)]),
            None => ConditionContext::new(),
        };
        assert_eq!(allowed(&d, owner(), "sqs:SendMessage", &ctx), *want, "{op} {values} vs {request:?}");
    }
}

#[test]
fn string_operators() {
    check_condition_cases(&[
        ("StringEquals", json!("johndoe"), Some(&["johndoe"]), true),
        ("StringEquals", json!("johndoe"), Some(&["JohnDoe"]), false),
        ("StringEquals", json!("john*"), Some(&["johndoe"]), false),
        ("StringEquals", json!("john*"), Some(&["john*"]), true),
        ("StringEquals", json!(["audit", "security"]), Some(&["security"]), true),
        ("StringEquals", json!("johndoe"), None, false),
        ("StringNotEquals", json!("johndoe"), Some(&["JohnDoe"]), true),
        ("StringNotEquals", json!("johndoe"), Some(&["johndoe"]), false),
        // Negated with several values is NOR: true only if it equals none.
        ("StringNotEquals", json!(["audit", "security"]), Some(&["audit"]), false),
        ("StringNotEquals", json!(["audit", "security"]), Some(&["dev"]), true),
        // A missing key makes a negated operator true.
        ("StringNotEquals", json!("johndoe"), None, true),
        ("StringEqualsIgnoreCase", json!("johndoe"), Some(&["JohnDoe"]), true),
        ("StringEqualsIgnoreCase", json!("johndoe"), Some(&["janedoe"]), false),
        ("StringEqualsIgnoreCase", json!("johndoe"), None, false),
        ("StringNotEqualsIgnoreCase", json!("johndoe"), Some(&["JOHNDOE"]), false),
        ("StringNotEqualsIgnoreCase", json!("johndoe"), Some(&["jane"]), true),
        ("StringNotEqualsIgnoreCase", json!("johndoe"), None, true),
        ("StringLike", json!("home/*"), Some(&["home/david/"]), true),
        ("StringLike", json!("home/*"), Some(&["Home/david/"]), false),
        ("StringLike", json!(["", "home/", "home/?/"]), Some(&["home/d/"]), true),
        ("StringLike", json!(["", "home/"]), Some(&[""]), true),
        ("StringLike", json!("t?.*"), Some(&["t2.micro"]), true),
        ("StringLike", json!("t?.*"), Some(&["t20.micro"]), false),
        ("StringLike", json!("*"), None, false),
        ("StringNotLike", json!(["t1.*", "t2.*"]), Some(&["m3.large"]), true),
        ("StringNotLike", json!(["t1.*", "t2.*"]), Some(&["t2.large"]), false),
        ("StringNotLike", json!("t1.*"), None, true),
    ]);
}

#[test]
fn numeric_operators() {
    check_condition_cases(&[
        ("NumericEquals", json!("10"), Some(&["10"]), true),
        ("NumericEquals", json!(10), Some(&["10.0"]), true),
        ("NumericEquals", json!("10"), Some(&["11"]), false),
        ("NumericEquals", json!("10"), Some(&["ten"]), false),
        ("NumericEquals", json!("10"), None, false),
        ("NumericNotEquals", json!("10"), Some(&["11"]), true),
        ("NumericNotEquals", json!(["10", "11"]), Some(&["11"]), false),
        ("NumericNotEquals", json!("10"), None, true),
        ("NumericLessThan", json!("10"), Some(&["9"]), true),
        ("NumericLessThan", json!("10"), Some(&["10"]), false),
        ("NumericLessThan", json!("10"), Some(&["-3.5"]), true),
        ("NumericLessThanEquals", json!("10"), Some(&["10"]), true),
        ("NumericLessThanEquals", json!("10"), Some(&["11"]), false),
        ("NumericGreaterThan", json!("10"), Some(&["11"]), true),
        ("NumericGreaterThan", json!("10"), Some(&["10"]), false),
        ("NumericGreaterThanEquals", json!("10"), Some(&["10"]), true),
        ("NumericGreaterThanEquals", json!("10"), Some(&["9.99"]), false),
        ("NumericLessThan", json!("inf"), Some(&["1"]), false),
        ("NumericLessThan", json!("10"), Some(&["NaN"]), false),
    ]);
}

#[test]
fn date_operators() {
    check_condition_cases(&[
        ("DateGreaterThan", json!("2020-01-01T00:00:01Z"), Some(&["2020-06-01T00:00:00Z"]), true),
        ("DateGreaterThan", json!("2020-01-01T00:00:01Z"), Some(&["2019-12-31T23:59:59Z"]), false),
        ("DateGreaterThan", json!("2020-01-01T00:00:01Z"), None, false),
        ("DateEquals", json!("2020-01-01T00:00:00Z"), Some(&["1577836800"]), true),
        ("DateEquals", json!("1577836800"), Some(&["2020-01-01T00:00:00.000Z"]), true),
        ("DateEquals", json!("2020-01-01"), Some(&["2020-01-01T00:00:00Z"]), true),
        ("DateEquals", json!("2020-01"), Some(&["2020-01-01T00:00:00Z"]), true),
        ("DateEquals", json!("2020-01-01T01:00:00+01:00"), Some(&["2020-01-01T00:00:00Z"]), true),
        ("DateEquals", json!("2019-12-31T19:00-05:00"), Some(&["2020-01-01T00:00:00Z"]), true),
        ("DateEquals", json!("2020-01-01T00:00:00.5Z"), Some(&["2020-01-01T00:00:00.500Z"]), true),
        ("DateNotEquals", json!("2020-01-01T00:00:00Z"), Some(&["2020-01-02T00:00:00Z"]), true),
        ("DateNotEquals", json!("2020-01-01T00:00:00Z"), Some(&["1577836800"]), false),
        ("DateNotEquals", json!("2020-01-01T00:00:00Z"), None, true),
        ("DateLessThan", json!("2024-02-29T12:00:00Z"), Some(&["2024-02-29T11:59:59Z"]), true),
        ("DateLessThan", json!("2024-02-29T12:00:00Z"), Some(&["2024-02-29T12:00:00Z"]), false),
        ("DateLessThanEquals", json!("2024-02-29T12:00:00Z"), Some(&["2024-02-29T12:00:00Z"]), true),
        ("DateGreaterThanEquals", json!("2024-02-29T12:00:00Z"), Some(&["2024-02-29T12:00:00Z"]), true),
        ("DateGreaterThanEquals", json!("2024-02-29T12:00:00Z"), Some(&["1970-01-01T00:00:00Z"]), false),
        // Not dates: never match.
        ("DateLessThan", json!("2023-02-29T00:00:00Z"), Some(&["2000-01-01T00:00:00Z"]), false),
        ("DateLessThan", json!("2030-01-01T00:00:00Z"), Some(&["yesterday"]), false),
        ("DateLessThan", json!("2030-01-01T25:00:00Z"), Some(&["2000-01-01T00:00:00Z"]), false),
    ]);
}

#[test]
fn bool_binary_and_ip_operators() {
    check_condition_cases(&[
        ("Bool", json!("false"), Some(&["false"]), true),
        ("Bool", json!(false), Some(&["false"]), true),
        ("Bool", json!("true"), Some(&["True"]), true),
        ("Bool", json!("true"), Some(&["false"]), false),
        ("Bool", json!("true"), None, false),
        ("BinaryEquals", json!("QmluYXJ5VmFsdWVJbkJhc2U2NA=="), Some(&["QmluYXJ5VmFsdWVJbkJhc2U2NA=="]), true),
        ("BinaryEquals", json!("QmluYXJ5VmFsdWVJbkJhc2U2NA=="), Some(&["BinaryValueInBase64"]), true),
        ("BinaryEquals", json!("QmluYXJ5VmFsdWVJbkJhc2U2NA=="), Some(&["other"]), false),
        ("BinaryEquals", json!("not base64!"), Some(&["not base64!"]), false),
        ("IpAddress", json!("203.0.113.0/24"), Some(&["203.0.113.7"]), true),
        ("IpAddress", json!("203.0.113.0/24"), Some(&["203.0.114.7"]), false),
        ("IpAddress", json!("203.0.113.9"), Some(&["203.0.113.9"]), true),
        ("IpAddress", json!("203.0.113.9"), Some(&["203.0.113.10"]), false),
        ("IpAddress", json!(["203.0.113.0/24", "2001:DB8:1234:5678::/64"]), Some(&["2001:db8:1234:5678::1"]), true),
        ("IpAddress", json!("2001:DB8:1234:5678::/64"), Some(&["2001:db8:1234:5679::1"]), false),
        ("IpAddress", json!("0.0.0.0/0"), Some(&["8.8.8.8"]), true),
        ("IpAddress", json!("::/0"), Some(&["::1"]), true),
        ("IpAddress", json!("0.0.0.0/0"), Some(&["::1"]), false),
        ("IpAddress", json!("203.0.113.0/33"), Some(&["203.0.113.1"]), false),
        ("IpAddress", json!("203.0.113.0/24"), Some(&["not-an-ip"]), false),
        ("IpAddress", json!("203.0.113.0/24"), None, false),
        ("NotIpAddress", json!("203.0.113.0/24"), Some(&["198.51.100.1"]), true),
        ("NotIpAddress", json!("203.0.113.0/24"), Some(&["203.0.113.1"]), false),
        ("NotIpAddress", json!("203.0.113.0/24"), None, true),
    ]);
}

#[test]
fn arn_operators() {
    let topic = &[TOPIC][..];
    check_condition_cases(&[
        ("ArnEquals", json!(TOPIC), Some(topic), true),
        ("ArnEquals", json!("arn:aws:sns:us-east-1:111122223333:other"), Some(topic), false),
        // ArnEquals and ArnLike behave identically, wildcards included.
        ("ArnEquals", json!("arn:aws:sns:*:111122223333:*"), Some(topic), true),
        ("ArnLike", json!("arn:aws:sns:*:111122223333:*"), Some(topic), true),
        ("ArnLike", json!("arn:aws:sns:us-east-1:*:ev?nts"), Some(topic), true),
        ("ArnLike", json!("arn:aws:sns:us-east-1:444455556666:*"), Some(topic), false),
        ("ArnLike", json!("arn:aws:SNS:us-east-1:111122223333:events"), Some(topic), false),
        ("ArnLike", json!("*"), Some(topic), true),
        ("ArnLike", json!(TOPIC), None, false),
        ("ArnNotEquals", json!(TOPIC), Some(topic), false),
        ("ArnNotEquals", json!("arn:aws:sns:us-east-1:111122223333:other"), Some(topic), true),
        ("ArnNotLike", json!(["arn:aws:sns:*:*:other", "arn:aws:sns:*:*:ev*"]), Some(topic), false),
        ("ArnNotLike", json!("arn:aws:sns:*:*:other"), Some(topic), true),
        ("ArnNotLike", json!(TOPIC), None, true),
    ]);
}

#[test]
fn arn_operators_match_per_segment_unlike_string_like() {
    // The AWS example: StringLike's first * may span colons, ArnLike's may not.
    let pattern = "arn:aws:someservice:*:111122223333:finance/*";
    let value: &[&str] = &["arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"];
    check_condition_cases(&[
        ("StringLike", json!(pattern), Some(value), true),
        ("ArnLike", json!(pattern), Some(value), false),
    ]);
}

#[test]
fn null_operator() {
    check_condition_cases(&[
        ("Null", json!("true"), None, true),
        ("Null", json!("true"), Some(&["2024-01-01T00:00:00Z"]), false),
        ("Null", json!("false"), Some(&["x"]), true),
        ("Null", json!(false), None, false),
        ("Null", json!("TRUE"), None, true),
        ("Null", json!(["true", "false"]), None, true),
    ]);
}

#[test]
fn if_exists_operators() {
    check_condition_cases(&[
        ("StringLikeIfExists", json!(["t1.*", "t2.*", "m3.*"]), None, true),
        ("StringLikeIfExists", json!(["t1.*", "t2.*", "m3.*"]), Some(&["t2.micro"]), true),
        ("StringLikeIfExists", json!(["t1.*", "t2.*", "m3.*"]), Some(&["c5.large"]), false),
        ("StringEqualsIfExists", json!("a"), None, true),
        ("StringNotEqualsIfExists", json!("a"), None, true),
        ("StringNotEqualsIfExists", json!("a"), Some(&["a"]), false),
        ("NumericLessThanIfExists", json!("5"), None, true),
        ("NumericLessThanIfExists", json!("5"), Some(&["7"]), false),
        ("DateLessThanIfExists", json!("2020-01-01"), None, true),
        ("BoolIfExists", json!("true"), None, true),
        ("BoolIfExists", json!("true"), Some(&["false"]), false),
        ("BinaryEqualsIfExists", json!("QQ=="), None, true),
        ("IpAddressIfExists", json!("10.0.0.0/8"), None, true),
        ("ArnLikeIfExists", json!(TOPIC), None, true),
        ("ArnLikeIfExists", json!(TOPIC), Some(&["arn:aws:sns:us-east-1:111122223333:other"]), false),
        ("ForAnyValue:StringEqualsIfExists", json!("a"), None, true),
    ]);
}

#[test]
fn deny_with_negated_if_exists_still_denies_a_missing_key() {
    // "If you are using an Effect Deny element with a negated condition
    // operator like StringNotEqualsIfExists, the request is still denied even
    // if the tag is missing."
    let d = policy(json!([
        {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*"},
        {"Sid": "Tagged", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "*",
         "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalTag/team": "core"}}},
    ]));
    assert_eq!(decide(&d, owner(), "sqs:SendMessage", QUEUE, &ConditionContext::new()), deny("Tagged"));
    let core = context(&[("aws:PrincipalTag/team", &["core"])]);
    assert!(decide(&d, owner(), "sqs:SendMessage", QUEUE, &core).is_allowed());
}

#[test]
fn set_qualifiers() {
    let attrs = json!(["PostDateTime", "Message", "Tags"]);
    let forbidden = json!(["ID", "PostDateTime"]);
    check_condition_cases(&[
        // The DynamoDB examples of the multivalued-keys page.
        ("ForAllValues:StringLike", attrs.clone(), Some(&["PostDateTime", "Message"]), true),
        ("ForAllValues:StringLike", attrs.clone(), Some(&["PostDateTime", "UserName"]), false),
        ("ForAnyValue:StringLike", forbidden.clone(), Some(&["UserName", "Message", "PostDateTime"]), true),
        ("ForAnyValue:StringLike", forbidden.clone(), Some(&["UserName"]), false),
        // Absent or empty key: ForAllValues true, ForAnyValue false.
        ("ForAllValues:StringLike", attrs.clone(), None, true),
        ("ForAllValues:StringLike", attrs.clone(), Some(&[]), true),
        ("ForAnyValue:StringLike", forbidden.clone(), None, false),
        ("ForAnyValue:StringLike", forbidden.clone(), Some(&[]), false),
        // Negated under a qualifier: per request value, NOR over policy values.
        ("ForAllValues:StringNotEquals", forbidden.clone(), Some(&["UserName", "Message"]), true),
        ("ForAllValues:StringNotEquals", forbidden.clone(), Some(&["UserName", "ID"]), false),
        ("ForAnyValue:StringNotEquals", forbidden.clone(), Some(&["UserName", "ID"]), true),
        ("ForAnyValue:StringNotEquals", forbidden.clone(), Some(&["ID", "PostDateTime"]), false),
        ("ForAllValues:StringNotEquals", forbidden.clone(), None, true),
        ("ForAnyValue:StringNotEquals", forbidden.clone(), None, false),
        ("ForAnyValue:NumericGreaterThan", json!("10"), Some(&["1", "20"]), true),
        ("ForAllValues:NumericGreaterThan", json!("10"), Some(&["1", "20"]), false),
        ("ForAnyValue:ArnLike", json!("arn:aws:sns:*:*:a*"), Some(&["arn:aws:sns:r:1:x", "arn:aws:sns:r:1:ab"]), true),
        ("ForAllValues:StringEqualsIgnoreCase", json!(["a", "b"]), Some(&["A", "B"]), true),
        // Without a qualifier a multivalued key matches when any value does.
        ("StringEquals", json!("Tags"), Some(&["ID", "Tags"]), true),
        ("StringNotEquals", json!("Tags"), Some(&["ID", "Tags"]), false),
        ("StringNotEquals", json!("Tags"), Some(&["ID"]), true),
    ]);
}

#[test]
fn keys_and_operators_combine_with_and() {
    let d = policy(json!({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*",
    "Condition": {
        "StringEquals": {"aws:PrincipalTag/department": ["finance", "hr"], "aws:PrincipalTag/role": ["audit"]},
        "ArnLike": {"aws:PrincipalArn": ["arn:aws:iam::222222222222:user/Ana", "arn:aws:iam::222222222222:user/Mary"]},
    }}));
    let mary = "arn:aws:iam::222222222222:user/Mary";
    let good = context(&[
        ("aws:PrincipalTag/department", &["hr"]),
        ("aws:PrincipalTag/role", &["audit"]),
        ("aws:PrincipalArn", &[mary]),
    ]);
    assert!(allowed(&d, owner(), "s3:GetObject", &good));
    let missing_role = context(&[("aws:PrincipalTag/department", &["hr"]), ("aws:PrincipalArn", &[mary])]);
    assert!(!allowed(&d, owner(), "s3:GetObject", &missing_role));
    let wrong_arn = context(&[
        ("aws:PrincipalTag/department", &["hr"]),
        ("aws:PrincipalTag/role", &["audit"]),
        ("aws:PrincipalArn", &["arn:aws:iam::222222222222:user/Bob"]),
    ]);
    assert!(!allowed(&d, owner(), "s3:GetObject", &wrong_arn));
}

#[test]
fn condition_keys_ignore_case() {
    let d = policy(json!({"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*",
        "Condition": {"StringEquals": {"AWS:SourceAccount": OWNER}}}));
    for key in ["aws:SourceAccount", "aws:sourceaccount", "AWS:SOURCEACCOUNT"] {
        let mut ctx = ConditionContext::new();
        ctx.insert(key, OWNER);
        assert!(allowed(&d, SNS, "sqs:SendMessage", &ctx), "{key}");
    }
    let mut ctx = ConditionContext::new();
    ctx.insert("aws:SourceAccount", OWNER.to_lowercase().replace('1', "9"));
    assert!(!allowed(&d, SNS, "sqs:SendMessage", &ctx));
}

#[test]
fn context_insert_replaces_and_insert_many_keeps_all() {
    let mut ctx = ConditionContext::new();
    ctx.insert("k", "a");
    ctx.insert("K", "b");
    assert_eq!(ctx.get("k"), Some(&["b".to_string()][..]));
    ctx.insert_many("aws:TagKeys", ["x", "y"]);
    assert_eq!(ctx.get("AWS:TAGKEYS").map(<[String]>::len), Some(2));
    assert_eq!(ctx.get("absent"), None);
}

// ------------------------------------------------- supplied context keys

#[test]
fn current_time_comes_from_the_clock_when_absent() {
    let past = policy(json!({"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*",
        "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"},
                      "NumericGreaterThan": {"aws:EpochTime": "1577836800"}}}));
    assert!(allowed(&past, owner(), "sqs:SendMessage", &ConditionContext::new()));
    let future = policy(json!({"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*",
        "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2999-01-01T00:00:00Z"}}}));
    assert!(!allowed(&future, owner(), "sqs:SendMessage", &ConditionContext::new()));
    // A caller with a Clock sets the time itself.
    let mut ctx = ConditionContext::new();
    ctx.set_time(32_503_680_000_000 + 1000); // 3000-01-01T00:00:01Z
    assert!(allowed(&future, owner(), "sqs:SendMessage", &ctx));
    assert_eq!(ctx.get("aws:CurrentTime"), Some(&["3000-01-01T00:00:01.000Z".to_string()][..]));
}

#[test]
fn principal_keys_are_supplied() {
    let d = policy(json!([
        {"Sid": "Acct", "Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalAccount": OWNER}}},
        {"Sid": "Svc", "Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalServiceName": "sns.amazonaws.com"}}},
        {"Sid": "Bob", "Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*",
         "Condition": {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::444455556666:user/Bob"}}},
    ]));
    let ctx = ConditionContext::new();
    let bob = Principal::Account { account: OTHER, arn: "arn:aws:iam::444455556666:user/Bob" };
    let eve = Principal::Account { account: OTHER, arn: "arn:aws:iam::444455556666:user/Eve" };
    assert_eq!(decide(&d, owner(), "sqs:SendMessage", QUEUE, &ctx), allow("Acct"));
    assert_eq!(decide(&d, SNS, "sqs:SendMessage", QUEUE, &ctx), allow("Svc"));
    assert_eq!(decide(&d, bob, "sqs:SendMessage", QUEUE, &ctx), allow("Bob"));
    assert_eq!(decide(&d, eve, "sqs:SendMessage", QUEUE, &ctx), Decision::ImplicitDeny);
    assert_eq!(decide(&d, Principal::Anonymous, "sqs:SendMessage", QUEUE, &ctx), Decision::ImplicitDeny);
    // What the caller puts in the context wins over what eddy derives.
    let spoof = context(&[("aws:PrincipalAccount", &[OTHER])]);
    assert_eq!(decide(&d, owner(), "sqs:SendMessage", QUEUE, &spoof), Decision::ImplicitDeny);
}

// -------------------------------------------------------- policy variables

#[test]
fn policy_variables_in_conditions() {
    let cond = |value: &str| {
        policy(json!({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*",
            "Condition": {"StringLike": {"s3:prefix": value}}}))
    };
    let ctx = context(&[("aws:username", &["david"]), ("s3:prefix", &["home/david/x"])]);
    assert!(allowed(&cond("home/${aws:username}/*"), owner(), "s3:ListBucket", &ctx));
    assert!(allowed(&cond("home/${AWS:UserName}/*"), owner(), "s3:ListBucket", &ctx));
    assert!(!allowed(&cond("home/${aws:userid}/*"), owner(), "s3:ListBucket", &ctx));
    assert!(allowed(&cond("home/${aws:userid, 'david'}/*"), owner(), "s3:ListBucket", &ctx));
    assert!(!allowed(&cond("home/${aws:userid, 'anonymous'}/*"), owner(), "s3:ListBucket", &ctx));
    // ${*} is a literal asterisk, not a wildcard.
    let star = context(&[("s3:prefix", &["a*"])]);
    assert!(allowed(&cond("a${*}"), owner(), "s3:ListBucket", &star));
    assert!(!allowed(&cond("a${*}"), owner(), "s3:ListBucket", &context(&[("s3:prefix", &["abc"])])));
    assert!(allowed(&cond("${$}{x}"), owner(), "s3:ListBucket", &context(&[("s3:prefix", &["${x}"])])));
    // An unterminated variable is plain text.
    assert!(allowed(
        &cond("${aws:username"),
        owner(),
        "s3:ListBucket",
        &context(&[("s3:prefix", &["${aws:username"])])
    ));
}

#[test]
fn unresolved_variable_fails_even_negated_operators() {
    let d = policy(json!({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*",
        "Condition": {"StringNotEquals": {"s3:prefix": "${aws:username}"}}}));
    assert!(!allowed(&d, owner(), "s3:ListBucket", &context(&[("s3:prefix", &["x"])])));
    assert!(allowed(&d, owner(), "s3:ListBucket", &context(&[("s3:prefix", &["x"]), ("aws:username", &["y"])])));
}

#[test]
fn variables_are_literal_in_2008_policies_and_non_string_operators() {
    let old =
        doc(&json!({"Version": "2008-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "sqs:*",
        "Resource": "*", "Condition": {"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}}}}));
    let literal = context(&[("aws:SourceAccount", &["${aws:PrincipalAccount}"])]);
    assert!(allowed(&old, owner(), "sqs:SendMessage", &literal));
    assert!(!allowed(&old, owner(), "sqs:SendMessage", &context(&[("aws:SourceAccount", &[OWNER])])));
    let new = policy(json!({"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}}}));
    assert!(allowed(&new, owner(), "sqs:SendMessage", &context(&[("aws:SourceAccount", &[OWNER])])));
    let numeric = policy(json!({"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*",
        "Condition": {"NumericEquals": {"n": "${n}"}}}));
    assert!(!allowed(&numeric, owner(), "sqs:SendMessage", &context(&[("n", &["1"])])));
}

#[test]
fn policy_variables_in_resources() {
    let d = policy(json!({"Effect": "Allow", "Principal": "*", "Action": "sqs:*",
        "Resource": "arn:aws:sqs:us-east-2:*:${aws:username}-queue"}));
    let ctx = context(&[("aws:username", &["david"])]);
    let mine = "arn:aws:sqs:us-east-2:111122223333:david-queue";
    let theirs = "arn:aws:sqs:us-east-2:111122223333:mary-queue";
    assert!(decide(&d, owner(), "sqs:SendMessage", mine, &ctx).is_allowed());
    assert!(!decide(&d, owner(), "sqs:SendMessage", theirs, &ctx).is_allowed());
    assert!(!decide(&d, owner(), "sqs:SendMessage", mine, &ConditionContext::new()).is_allowed());
}

// ------------------------------------------- service-principal delivery

fn sns_to_sqs(arn_operator: &str, source_arn: &str) -> PolicyDocument {
    policy(json!({"Sid": "topic-to-queue", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": QUEUE,
        "Condition": {arn_operator: {"aws:SourceArn": source_arn}, "StringEquals": {"aws:SourceAccount": OWNER}}}))
}

#[test]
fn sns_delivery_to_sqs_is_scoped_by_source() {
    let other_topic = "arn:aws:sns:us-east-1:111122223333:other";
    let foreign_topic = "arn:aws:sns:us-east-1:444455556666:events";
    let policies = [
        sns_to_sqs("ArnEquals", TOPIC),
        sns_to_sqs("ArnLike", "arn:aws:sns:us-east-1:111122223333:ev*"),
        sns_to_sqs("ArnLike", "arn:aws:sns:*:111122223333:events"),
    ];
    for d in &policies {
        let cases: [(Principal, &str, Pairs, bool); 8] = [
            (SNS, "sqs:SendMessage", &[("aws:SourceArn", &[TOPIC]), ("aws:SourceAccount", &[OWNER])], true),
            (SNS, "SQS:SendMessage", &[("aws:SourceArn", &[TOPIC]), ("aws:SourceAccount", &[OWNER])], true),
            (SNS, "sqs:SendMessage", &[("aws:SourceArn", &[other_topic]), ("aws:SourceAccount", &[OWNER])], false),
            (SNS, "sqs:SendMessage", &[("aws:SourceArn", &[foreign_topic]), ("aws:SourceAccount", &[OTHER])], false),
            (SNS, "sqs:SendMessage", &[("aws:SourceArn", &[TOPIC]), ("aws:SourceAccount", &[OTHER])], false),
            (SNS, "sqs:SendMessage", &[("aws:SourceArn", &[TOPIC])], false),
            (
                Principal::Service("events.amazonaws.com"),
                "sqs:SendMessage",
                &[("aws:SourceArn", &[TOPIC]), ("aws:SourceAccount", &[OWNER])],
                false,
            ),
            // An IAM caller has no aws:SourceArn: implicitly denied.
            (owner(), "sqs:SendMessage", &[], false),
        ];
        for (who, action, pairs, want) in cases {
            assert_eq!(allowed(d, who, action, &context(pairs)), want, "{who:?} {pairs:?}");
        }
    }
}

#[test]
fn classic_sqs_policy_with_star_principal_lets_the_topic_in() {
    // The policy the SQS console writes when subscribing a queue to a topic.
    let d = policy(json!({"Sid": "topic", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "SQS:SendMessage",
        "Resource": QUEUE, "Condition": {"ArnEquals": {"aws:SourceArn": TOPIC}}}));
    assert!(allowed(&d, SNS, "sqs:SendMessage", &context(&[("aws:SourceArn", &[TOPIC])])));
    assert!(!allowed(&d, SNS, "sqs:SendMessage", &context(&[("aws:SourceArn", &["arn:aws:sns:us-east-1:1:x"])])));
}

#[test]
fn sns_default_topic_policy_reads() {
    // The access policy AWS (and eddy's SNS) gives a new topic.
    let d = doc(&json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
                       "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
            "Resource": TOPIC,
            "Condition": {"StringEquals": {"AWS:SourceOwner": OWNER}}
        }]
    }));
    assert_eq!(d.id.as_deref(), Some("__default_policy_ID"));
    let same = context(&[("aws:SourceOwner", &[OWNER])]);
    let other = context(&[("aws:SourceOwner", &[OTHER])]);
    let req = |ctx| decide(&d, owner(), "sns:Publish", TOPIC, ctx);
    assert_eq!(req(&same), allow("__default_statement_ID"));
    assert_eq!(req(&other), Decision::ImplicitDeny);
}

#[test]
fn statement_allowing_service_is_exactly_what_delivery_needs() {
    let s = statement_allowing_service("sns.amazonaws.com", "sqs:SendMessage", QUEUE, TOPIC, OWNER);
    assert_eq!(
        s,
        json!({"Sid": "AllowSnsSendMessage", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": QUEUE,
            "Condition": {"ArnEquals": {"aws:SourceArn": TOPIC}, "StringEquals": {"aws:SourceAccount": OWNER}}})
    );
    let d = policy(json!([s]));
    let ok = context(&[("aws:SourceArn", &[TOPIC]), ("aws:SourceAccount", &[OWNER])]);
    assert_eq!(decide(&d, SNS, "sqs:SendMessage", QUEUE, &ok), allow("AllowSnsSendMessage"));
    assert!(d.unscoped_service_grants().is_empty());

    let rules = "arn:aws:events:us-east-1:111122223333:rule/*";
    let s = statement_allowing_service("events.amazonaws.com", "sqs:SendMessage", QUEUE, rules, OWNER);
    assert_eq!(s["Sid"], "AllowEventsSendMessage");
    assert_eq!(s["Condition"]["ArnLike"]["aws:SourceArn"], rules);
    let d = policy(json!([s]));
    let rule = context(&[
        ("aws:SourceArn", &["arn:aws:events:us-east-1:111122223333:rule/nightly"]),
        ("aws:SourceAccount", &[OWNER]),
    ]);
    assert!(allowed(&d, Principal::Service("events.amazonaws.com"), "sqs:SendMessage", &rule));
}

// ------------------------------------------------------ unscoped grants

#[test]
fn unscoped_service_grants_name_the_missing_keys() {
    let grant = |sid: &str, principal: Value, condition: Value| {
        json!({"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": "sqs:SendMessage", "Resource": QUEUE,
            "Condition": condition})
    };
    let svc = json!({"Service": "events.amazonaws.com"});
    let d = policy(json!([
        grant("Bare", svc.clone(), json!({})),
        grant("ArnOnly", svc.clone(), json!({"ArnLike": {"aws:SourceArn": "arn:aws:events:*:111122223333:rule/*"}})),
        grant("AccountOnly", svc.clone(), json!({"StringEquals": {"aws:SourceAccount": OWNER}})),
        grant(
            "Both",
            svc.clone(),
            json!({"ArnEquals": {"aws:SourceArn": TOPIC}, "StringEquals": {"AWS:SOURCEACCOUNT": OWNER}})
        ),
        grant(
            "IfExists",
            svc.clone(),
            json!({"ArnEqualsIfExists": {"aws:SourceArn": TOPIC}, "StringEquals": {"aws:SourceAccount": OWNER}})
        ),
        grant(
            "Negated",
            svc.clone(),
            json!({"ArnNotEquals": {"aws:SourceArn": TOPIC}, "StringEquals": {"aws:SourceAccount": OWNER}})
        ),
        grant(
            "Star",
            svc.clone(),
            json!({"ArnLike": {"aws:SourceArn": "*"}, "StringEquals": {"aws:SourceAccount": OWNER}})
        ),
        grant("NotAService", json!({"AWS": OTHER}), json!({})),
        json!({"Sid": "DenyIsFine", "Effect": "Deny", "Principal": svc, "Action": "sqs:*", "Resource": "*"}),
    ]));
    let got: Vec<(Option<String>, bool, bool)> = d
        .unscoped_service_grants()
        .into_iter()
        .map(|g| (g.sid, g.missing_source_arn, g.missing_source_account))
        .collect();
    let want = |sid: &str, arn, account| (Some(sid.to_string()), arn, account);
    assert_eq!(
        got,
        vec![
            want("Bare", true, true),
            want("ArnOnly", false, true),
            want("AccountOnly", true, false),
            want("IfExists", true, false),
            want("Negated", true, false),
            want("Star", true, false),
        ]
    );
}

#[test]
fn unscoped_grant_reads_well() {
    let d = policy(json!([
        {"Effect": "Allow", "Principal": {"Service": ["sns.amazonaws.com", "s3.amazonaws.com"]},
         "Action": "sqs:SendMessage", "Resource": "*"},
        {"Sid": "S3", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
         "Action": "sqs:SendMessage", "Resource": "*",
         "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::bucket"}}},
    ]));
    let grants = d.unscoped_service_grants();
    assert_eq!(grants[0].index, 0);
    assert_eq!(grants[0].services, vec!["sns.amazonaws.com", "s3.amazonaws.com"]);
    assert_eq!(grants[0].missing_keys(), vec!["aws:SourceArn", "aws:SourceAccount"]);
    let text = grants[0].to_string();
    let want = "statement #1 (no Sid) allows sns.amazonaws.com, s3.amazonaws.com \
                without aws:SourceArn and aws:SourceAccount conditions";
    assert!(text.starts_with(want), "{text}");
    assert!(grants[1]
        .to_string()
        .starts_with("statement \"S3\" allows s3.amazonaws.com without an aws:SourceAccount condition"));
}

// ------------------------------------------------------------ robustness

#[test]
fn hostile_input_never_panics() {
    let texts = [
        "",
        "null",
        "\"x\"",
        "{\"Statement\": [null]}",
        r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*",
            "Condition": {"DateEquals": {"k": "9999999999999999999"}}}]}"#,
        &format!("{}{}", "[".repeat(200), "]".repeat(200)),
    ];
    for t in texts {
        let _ = PolicyDocument::parse(t);
    }
    let d = policy(json!({"Effect": "Allow", "Principal": "*", "Action": "*:*?*", "Resource": "a:*:*:*:*:*:*",
    "Condition": {
        "DateEquals": {"d": ["9999999999999999999", "-9999999999999-01-01", "2020-13-01",
                             "2020-01-01T00:00:00+99:99", "T", "2020-01-01T"]},
        "IpAddress": {"i": ["::/200", "1.2.3.4/-1", "/", ""]},
        "StringLike": {"s": ["${", "${}", "${,'x'}", "${a, x}", "*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*b"]},
        "BinaryEquals": {"b": ["===="]},
        "NumericEquals": {"n": ["1e999", "--1", ".", "1.2.3"]},
    }}));
    let long = "a".repeat(5000);
    let weird = context(&[
        ("d", &["9999999999999999999", "2020-02-30", "💥"]),
        ("i", &["1.2.3.4/99", "::ffff:1.2.3.4", "💥"]),
        ("s", &[long.as_str(), "", "ß"]),
        ("b", &["===="]),
        ("n", &["1e308", "-0"]),
    ]);
    for action in ["", ":", "💥:💥", "sqs:SendMessage"] {
        for resource in ["", ":", "a:b:c:d:e:f:g", "💥"] {
            let _ = decide(&d, owner(), action, resource, &weird);
        }
    }
}

#[test]
fn glob_is_not_exponential() {
    let pattern = format!("{}b", "*a".repeat(40));
    let d = policy(json!({"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*",
        "Condition": {"StringLike": {"k": pattern}}}));
    let value = "a".repeat(10_000);
    assert!(!allowed(&d, owner(), "sqs:SendMessage", &context(&[("k", &[value.as_str()])])));
}

#[test]
fn policy_variables_in_arn_and_bool_operators() {
    // One statement for every topic of the delivering account.
    let d =
        policy(json!({"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": QUEUE, "Condition": {
            "ArnLike": {"aws:SourceArn": "arn:aws:sns:*:${aws:SourceAccount}:*"},
            "Bool": {"eddy:Flag": "${eddy:Expected}"}}}));
    let ok = context(&[
        ("aws:SourceArn", &[TOPIC]),
        ("aws:SourceAccount", &[OWNER]),
        ("eddy:Flag", &["true"]),
        ("eddy:Expected", &["true"]),
    ]);
    assert!(allowed(&d, SNS, "sqs:SendMessage", &ok));
    let lying = context(&[
        ("aws:SourceArn", &[TOPIC]),
        ("aws:SourceAccount", &[OTHER]),
        ("eddy:Flag", &["true"]),
        ("eddy:Expected", &["true"]),
    ]);
    assert!(!allowed(&d, SNS, "sqs:SendMessage", &lying));
    // A multivalued key is no policy variable.
    let multi = context(&[
        ("aws:SourceArn", &[TOPIC]),
        ("aws:SourceAccount", &[OWNER, OTHER]),
        ("eddy:Flag", &["true"]),
        ("eddy:Expected", &["true"]),
    ]);
    assert!(!allowed(&d, SNS, "sqs:SendMessage", &multi));
}

#[test]
fn errors_read_like_aws() {
    let err = PolicyDocument::parse(
        r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Condition": {"StringEqualz": {}}}}"#,
    );
    assert_eq!(err.unwrap_err().to_string(), "Invalid Condition type : StringEqualz");
    let err = PolicyDocument::parse(r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "SendMessage"}}"#);
    assert_eq!(
        err.unwrap_err(),
        PolicyError::Malformed(
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.: SendMessage".into()
        )
    );
}
