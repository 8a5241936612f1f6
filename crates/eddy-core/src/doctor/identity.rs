//! Identity traps (issue 11, part 5):
//!
//! - role trust policies that let a delivery service (EventBridge, Pipes,
//!   Firehose, Scheduler, SNS) assume the role with neither
//!   `aws:SourceArn` nor `aws:SourceAccount`: any rule, pipe, stream or
//!   schedule of any account can then act as the role (gotchas.md, "role
//!   trust policies are service-principal policies too", trap 6's hole);
//! - queue, topic and stream policies with an unconditioned wildcard
//!   principal (`"*"` or `{"AWS": "*"}`): anyone, in any account, may do
//!   what the statement allows (the widest form of the same hole).

use super::Finding;
use crate::iam::Iam;
use crate::kinesis::Kinesis;
use crate::policy::{Effect, PolicyDocument, PrincipalEntry, Statement};
use crate::sns::Sns;
use crate::sqs::Sqs;

/// The services that assume a role on a customer's behalf to deliver.
const DELIVERY_SERVICES: [&str; 5] = [
    "events.amazonaws.com",
    "pipes.amazonaws.com",
    "firehose.amazonaws.com",
    "scheduler.amazonaws.com",
    "sns.amazonaws.com",
];

pub fn inspect(sqs: &Sqs, sns: &Sns, kinesis: &Kinesis, iam: &Iam) -> Vec<Finding> {
    let mut out = Vec::new();
    for (role, trust) in iam.role_trust_policies() {
        unscoped_trust(&role, &trust, &mut out);
    }
    for q in sqs.all_queues() {
        if let Some(p) = sqs.attribute(&q, "Policy") {
            open_to_anyone(&q.arn, &p, &mut out);
        }
    }
    for t in sns.all_topics() {
        if let Some(p) = t.attribute("Policy") {
            open_to_anyone(&t.arn, &p, &mut out);
        }
    }
    for (arn, p) in kinesis.resource_policies() {
        open_to_anyone(&arn, &p, &mut out);
    }
    out
}

fn unscoped_trust(role: &str, trust: &str, out: &mut Vec<Finding>) {
    let Ok(doc) = PolicyDocument::parse(trust) else { return };
    for grant in doc.unscoped_service_grants() {
        let services: Vec<&str> =
            grant.services.iter().map(String::as_str).filter(|s| DELIVERY_SERVICES.contains(s)).collect();
        if services.is_empty() || !(grant.missing_source_arn && grant.missing_source_account) {
            continue;
        }
        out.push(Finding {
            trap: 6,
            resource: role.to_string(),
            problem: format!(
                "the role's trust policy lets {} assume it without an aws:SourceArn or aws:SourceAccount \
                 condition: any rule, pipe, stream or schedule of any account can act as this role (confused deputy)",
                services.join(", ")
            ),
            fix: "add to the trust statement Condition {\"ArnLike\": {\"aws:SourceArn\": \"<the rule/pipe/stream/schedule ARN>\"}, \"StringEquals\": {\"aws:SourceAccount\": \"<your account>\"}}".into(),
        });
    }
}

fn open_to_anyone(resource: &str, policy: &str, out: &mut Vec<Finding>) {
    let Ok(doc) = PolicyDocument::parse(policy) else { return };
    for (i, s) in doc.statements.iter().enumerate().filter(|(_, s)| wildcard_unconditioned(s)) {
        let which = s.sid.as_ref().map(|sid| format!("statement {sid:?}")).unwrap_or(format!("statement #{}", i + 1));
        out.push(Finding {
            trap: 6,
            resource: resource.to_string(),
            problem: format!(
                "{which} allows {} to any principal (\"*\") with no condition: anyone, in any account, can do it",
                s.actions.join(", ")
            ),
            fix: "name the accounts or roles in Principal, or add a condition (aws:SourceArn, aws:SourceAccount, \
                  aws:PrincipalOrgID)"
                .into(),
        });
    }
}

fn wildcard_unconditioned(s: &Statement) -> bool {
    let anyone = s.principal.as_ref().is_some_and(|p| p.entries.contains(&PrincipalEntry::Any));
    s.effect == Effect::Allow && anyone && s.conditions.is_empty()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn found(f: impl FnOnce(&mut Vec<Finding>)) -> Vec<Finding> {
        let mut out = Vec::new();
        f(&mut out);
        out
    }

    #[test]
    fn trust_policies_of_delivery_services_need_a_source_condition() {
        let trust = |condition: serde_json::Value| {
            let mut s = json!({"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sts:AssumeRole"});
            if !condition.is_null() {
                s["Condition"] = condition;
            }
            json!({"Version": "2012-10-17", "Statement": [s]}).to_string()
        };
        let role = "arn:aws:iam::111122223333:role/r";
        assert_eq!(found(|o| unscoped_trust(role, &trust(serde_json::Value::Null), o)).len(), 1);
        let scoped = trust(json!({"StringEquals": {"aws:SourceAccount": "111122223333"}}));
        assert!(found(|o| unscoped_trust(role, &scoped, o)).is_empty());
        let lambda = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]});
        assert!(found(|o| unscoped_trust(role, &lambda.to_string(), o)).is_empty());
    }

    #[test]
    fn wildcard_principals_without_conditions() {
        let q = "arn:aws:sqs:us-east-1:111122223333:q";
        let open = json!({"Statement": [{"Sid": "open", "Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": "sqs:SendMessage", "Resource": q}]});
        let f = found(|o| open_to_anyone(q, &open.to_string(), o));
        assert_eq!(f.len(), 1);
        assert!(f[0].problem.contains("statement \"open\" allows sqs:SendMessage"), "{}", f[0].problem);
        let scoped = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage",
            "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:t"}}}]});
        assert!(found(|o| open_to_anyone(q, &scoped.to_string(), o)).is_empty());
        let deny = json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sqs:*"}]});
        assert!(found(|o| open_to_anyone(q, &deny.to_string(), o)).is_empty());
    }
}
