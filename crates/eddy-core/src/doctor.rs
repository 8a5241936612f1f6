//! `eddy doctor`: the production traps of gotchas.md found in the
//! configured resources, each with the fix.
//!
//! - #3 a queue that an SNS subscription (or its dead-letter queue) writes to,
//!   whose policy does not let `sns.amazonaws.com` send from that topic:
//!   deliveries are silently dropped.
//! - #4 queues still on AWS's defaults: short polling, and SSE with the
//!   AWS-owned key (or `alias/aws/sqs`) instead of a customer-managed key.
//! - #6 queue and topic policies that let a service principal in without
//!   both `aws:SourceArn` and `aws:SourceAccount`: the confused-deputy hole.

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
            "{} the queue's policy does not let sns.amazonaws.com send from {topic_arn} ({role}): every delivery is silently dropped",
            if policy.is_none() { "the queue has no policy, so" } else { "" }
        )
        .trim_start()
        .to_string(),
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
    for grant in doc.unscoped_service_grants() {
        out.push(Finding {
            trap: 6,
            resource: resource.to_string(),
            problem: format!("{grant}"),
            fix: "scope the statement with Condition {\"ArnLike\": {\"aws:SourceArn\": \"<the rule/topic/bucket ARN>\"}, \"StringEquals\": {\"aws:SourceAccount\": \"<its account>\"}}".into(),
        });
    }
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
