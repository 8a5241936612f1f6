//! `eddy doctor`: the production traps of gotchas.md found in the
//! configured resources, each with the fix.
//!
//! - #3 a queue that an SNS subscription (or its dead-letter queue) writes to,
//!   whose policy does not let `sns.amazonaws.com` send from that topic:
//!   deliveries are silently dropped; likewise (`events.rs`) a queue or topic
//!   an EventBridge rule's target or its dead-letter queue writes to, without
//!   `events.amazonaws.com` and the rule's ARN.
//! - #4 queues still on AWS's defaults: short polling, and SSE with the
//!   AWS-owned key (or `alias/aws/sqs`) instead of a customer-managed key.
//! - #6 queue and topic policies that let a service principal in without
//!   `aws:SourceArn` (and, for S3, whose bucket ARNs carry no account,
//!   `aws:SourceAccount`): the confused-deputy hole; and (`identity.rs`)
//!   role trust policies of delivery services without source conditions,
//!   and resource policies open to any principal.

mod events;
mod identity;

pub use events::inspect as inspect_events;
pub use identity::inspect as inspect_identity;

use serde::{Deserialize, Serialize};

use crate::policy::{self, ConditionContext, Decision, PolicyDocument, Principal, Request};
use crate::sns::Sns;
use crate::sqs::{Queue, Sqs};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    /// The gotchas.md section number.
    pub trap: u8,
    pub resource: String,
    pub problem: String,
    pub fix: String,
}

pub fn inspect(sqs: &Sqs, sns: &Sns) -> Vec<Finding> {
    let mut out = Vec::new();
    sns_deliveries(sqs, sns, &mut out);
    for q in sqs.all_queues() {
        queue_defaults(sqs, &q, &mut out);
        if let Some(p) = sqs.attribute(&q, "Policy") {
            unscoped(&q.arn, &p, &mut out);
        }
    }
    for t in sns.all_topics() {
        if let Some(p) = t.attribute("Policy") {
            unscoped(&t.arn, &p, &mut out);
        }
    }
    out
}

/// #3: every queue an SNS subscription delivers to, and every subscription DLQ.
fn sns_deliveries(sqs: &Sqs, sns: &Sns, out: &mut Vec<Finding>) {
    for sub in sns.all_subscriptions() {
        let Ok(topic) = sns.lookup_topic(&sub.topic_arn) else { continue };
        if sub.protocol == "sqs" {
            if let Some(q) = sqs.lookup_arn(&sub.endpoint) {
                check_allows(sqs, &q, &topic.arn, &topic.account, &format!("subscription {}", sub.arn), out);
            }
        }
        let Some(dlq_arn) = sub.dead_letter_arn() else { continue };
        match sqs.lookup_arn(&dlq_arn) {
            Some(dlq) => {
                check_allows(sqs, &dlq, &topic.arn, &topic.account, &format!("dead-letter queue of {}", sub.arn), out)
            }
            None => out.push(Finding {
                trap: 3,
                resource: sub.arn.clone(),
                problem: format!(
                    "the subscription's dead-letter queue {dlq_arn} does not exist: failed messages are dropped"
                ),
                fix: format!("create the queue {dlq_arn}, or point RedrivePolicy at an existing queue"),
            }),
        }
    }
}

fn check_allows(sqs: &Sqs, q: &Queue, topic_arn: &str, account: &str, role: &str, out: &mut Vec<Finding>) {
    let policy = sqs.attribute(q, "Policy");
    let allowed = policy.as_deref().and_then(|p| PolicyDocument::parse(p).ok()).is_some_and(|doc| {
        let mut context = ConditionContext::new();
        context.insert("aws:SourceArn", topic_arn.to_string());
        context.insert("aws:SourceAccount", account.to_string());
        let req = Request {
            principal: Principal::Service("sns.amazonaws.com"),
            action: "sqs:SendMessage",
            resource: &q.arn,
            context: &context,
        };
        matches!(doc.evaluate(&req), Decision::Allow { .. })
    });
    if allowed {
        return;
    }
    let statement =
        policy::statement_allowing_service("sns.amazonaws.com", "sqs:SendMessage", &q.arn, topic_arn, account);
    out.push(Finding {
        trap: 3,
        resource: q.arn.clone(),
        problem: format!(
            "{} sns.amazonaws.com send from {topic_arn} ({role}): every delivery is silently dropped",
            if policy.is_none() {
                "the queue has no policy, so it does not let"
            } else {
                "the queue's policy does not let"
            }
        ),
        fix: format!("add this statement to the queue's Policy: {statement}"),
    });
}

/// #4: AWS's defaults that production should change.
fn queue_defaults(sqs: &Sqs, q: &Queue, out: &mut Vec<Finding>) {
    let wait = sqs.attribute(q, "ReceiveMessageWaitTimeSeconds").unwrap_or_else(|| "0".into());
    if wait == "0" {
        out.push(Finding {
            trap: 4,
            resource: q.arn.clone(),
            problem: "ReceiveMessageWaitTimeSeconds is 0 (short polling): receives return at once, often empty, and cost more".into(),
            fix: "set the queue attribute ReceiveMessageWaitTimeSeconds=20 (or pass WaitTimeSeconds=20 on ReceiveMessage)".into(),
        });
    }
    let kms = sqs.attribute(q, "KmsMasterKeyId").filter(|k| !k.is_empty());
    let problem = match kms.as_deref() {
        None => {
            Some("encrypted with SSE-SQS (an AWS-owned key, SqsManagedSseEnabled=true): you cannot audit or revoke it")
        }
        Some("alias/aws/sqs") => {
            Some("encrypted with the AWS-managed key alias/aws/sqs: its key policy cannot be changed")
        }
        Some(_) => None,
    };
    if let Some(problem) = problem {
        out.push(Finding {
            trap: 4,
            resource: q.arn.clone(),
            problem: problem.into(),
            fix: "set KmsMasterKeyId to a customer-managed KMS key (and its key policy lets your producers use it)"
                .into(),
        });
    }
}

/// #6: service principals let in without source conditions.
fn unscoped(resource: &str, policy_text: &str, out: &mut Vec<Finding>) {
    let Ok(doc) = PolicyDocument::parse(policy_text) else { return };
    for grant in doc.unscoped_service_grants().into_iter().filter(confused_deputy) {
        out.push(Finding {
            trap: 6,
            resource: resource.to_string(),
            problem: format!("{grant}"),
            fix: "scope the statement with Condition {\"ArnLike\": {\"aws:SourceArn\": \"<the rule/topic/bucket ARN>\"}, \"StringEquals\": {\"aws:SourceAccount\": \"<its account>\"}}".into(),
        });
    }
}

/// A grant is open to a confused deputy when it names no source ARN, or
/// names one without an account: S3 bucket ARNs carry none, so S3 grants
/// need `aws:SourceAccount` as well (gotchas #6). A topic or rule ARN
/// already pins its account.
fn confused_deputy(grant: &policy::UnscopedGrant) -> bool {
    let s3 = grant.services.iter().any(|s| s == "s3.amazonaws.com");
    grant.missing_source_arn || (s3 && grant.missing_source_account)
}

/// Findings as text lines, one block per finding.
pub fn render(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "eddy doctor: no traps found.\n".into();
    }
    let mut s = String::new();
    for f in findings {
        s.push_str(&format!("[gotcha #{}] {}\n  problem: {}\n  fix:     {}\n", f.trap, f.resource, f.problem, f.fix));
    }
    s.push_str(&format!("eddy doctor: {} finding(s).\n", findings.len()));
    s
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::clock::ManualClock;
    use crate::sns::{Enforcement, HttpSender, SnsConfig, SubscribeRequest, Urls};
    use crate::sqs::Caller;

    struct NoHttp;

    impl HttpSender for NoHttp {
        fn post(
            &self,
            _: String,
            _: Vec<(&'static str, String)>,
            _: String,
        ) -> Pin<Box<dyn Future<Output = Result<u16, String>> + Send>> {
            Box::pin(async { Err("no HTTP in this test".to_string()) })
        }
    }

    fn caller() -> Caller {
        Caller { account: "000000000000".into(), region: "us-east-1".into(), access_key: "test".into() }
    }

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[tokio::test]
    async fn finds_each_trap_and_nothing_on_a_well_configured_queue() {
        let store = eddy_store::Store::in_memory();
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let sqs = Sqs::open(store.clone(), clock.clone()).unwrap();
        let config = SnsConfig { enforcement: Enforcement::Enforce, urls: Urls { base: String::new() } };
        let (sns, _) = Sns::open(store, clock, sqs.clone(), Arc::new(NoHttp), config).unwrap();
        let topic = sns.create_topic(&caller(), "t", BTreeMap::new(), BTreeMap::new(), None).await.unwrap();
        let good = attrs(&[("ReceiveMessageWaitTimeSeconds", "20"), ("KmsMasterKeyId", "alias/orders")]);
        let ok = sqs.create_queue(&caller(), "ok", good.clone(), BTreeMap::new()).await.unwrap();
        let scoped = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Resource": ok.arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic}, "StringEquals": {"aws:SourceAccount": "000000000000"}}
        }]});
        sqs.set_attributes(&ok, attrs(&[("Policy", &scoped.to_string())])).await.unwrap();
        let bare = sqs.create_queue(&caller(), "bare", good, BTreeMap::new()).await.unwrap();
        let defaults = sqs.create_queue(&caller(), "defaults", BTreeMap::new(), BTreeMap::new()).await.unwrap();
        let unscoped = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": defaults.arn}]});
        sqs.set_attributes(&defaults, attrs(&[("Policy", &unscoped.to_string())])).await.unwrap();
        for q in [&ok, &bare] {
            let req = SubscribeRequest {
                topic_arn: topic.clone(),
                protocol: "sqs".into(),
                endpoint: q.arn.clone(),
                attributes: BTreeMap::new(),
            };
            sns.subscribe(&caller(), req).await.unwrap();
        }
        let findings = inspect(&sqs, &sns);
        let found: Vec<(u8, &str)> = findings.iter().map(|f| (f.trap, f.resource.as_str())).collect();
        assert!(found.contains(&(3, bare.arn.as_str())), "{found:?}");
        assert!(found.contains(&(4, defaults.arn.as_str())), "{found:?}");
        assert!(found.contains(&(6, defaults.arn.as_str())), "{found:?}");
        assert!(!found.iter().any(|(_, r)| *r == ok.arn), "{found:?}");
        let bare_fix = &findings.iter().find(|f| f.trap == 3).unwrap().fix;
        assert!(bare_fix.contains("sns.amazonaws.com") && bare_fix.contains(&topic), "{bare_fix}");
        assert_eq!(findings.iter().filter(|f| f.trap == 4 && f.resource == defaults.arn).count(), 2);
    }
}
