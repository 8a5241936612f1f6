//! EventBridge's part of trap #3: every queue or topic a rule's target
//! (or its dead-letter queue) writes to must let `events.amazonaws.com` in
//! with `aws:SourceArn` = the rule's ARN, or AWS drops the events silently.

use super::Finding;
use crate::events::{Events, EVENTS_PRINCIPAL};
use crate::policy::{PolicyCache, ServiceDelivery};
use crate::sns::Sns;
use crate::sqs::Sqs;

pub fn inspect(sqs: &Sqs, sns: &Sns, events: &Events) -> Vec<Finding> {
    let cache = PolicyCache::default();
    let mut out = Vec::new();
    for rule in events.all_rules() {
        let account = &rule.record.account;
        for target in &rule.record.targets {
            let arn = target["Arn"].as_str().unwrap_or_default();
            let id = target["Id"].as_str().unwrap_or_default();
            let role = format!("target {id} of rule {}", rule.arn);
            match arn.split(':').nth(2) {
                Some("sqs") => queue(sqs, &cache, arn, &rule.arn, account, &role, &mut out),
                Some("sns") => topic(sns, &cache, arn, &rule.arn, account, &role, &mut out),
                _ => {}
            }
            if let Some(dlq) = target["DeadLetterConfig"]["Arn"].as_str() {
                queue(sqs, &cache, dlq, &rule.arn, account, &format!("dead-letter queue of {role}"), &mut out);
            }
        }
    }
    out
}

fn queue(sqs: &Sqs, cache: &PolicyCache, arn: &str, rule: &str, account: &str, role: &str, out: &mut Vec<Finding>) {
    let Some(q) = sqs.lookup_arn(arn) else {
        out.push(missing(arn, role));
        return;
    };
    let policy = sqs.attribute(&q, "Policy");
    check(cache, policy.as_deref(), "sqs:SendMessage", &q.arn, rule, account, role, "queue", out);
}

fn topic(sns: &Sns, cache: &PolicyCache, arn: &str, rule: &str, account: &str, role: &str, out: &mut Vec<Finding>) {
    let Ok(attributes) = sns.topic_attributes(arn) else {
        out.push(missing(arn, role));
        return;
    };
    let policy = attributes.get("Policy").map(String::as_str);
    check(cache, policy, "sns:Publish", arn, rule, account, role, "topic", out);
}

fn missing(arn: &str, role: &str) -> Finding {
    Finding {
        trap: 3,
        resource: arn.to_string(),
        problem: format!("{arn} ({role}) does not exist: every event for it fails"),
        fix: format!("create {arn}, or point the target at an existing resource"),
    }
}

#[allow(clippy::too_many_arguments)]
fn check(
    cache: &PolicyCache,
    policy: Option<&str>,
    action: &str,
    resource: &str,
    rule: &str,
    account: &str,
    role: &str,
    kind: &str,
    out: &mut Vec<Finding>,
) {
    let delivery =
        ServiceDelivery { service: EVENTS_PRINCIPAL, action, resource, source_arn: rule, source_account: account };
    let Err(refusal) = delivery.check(policy, cache) else { return };
    out.push(Finding {
        trap: 3,
        resource: resource.to_string(),
        problem: format!(
            "the {kind}'s policy does not let events.amazonaws.com {action} from {rule} ({role}; {}): every event is silently dropped",
            refusal.why
        ),
        fix: format!("add this statement to the {kind}'s Policy: {}", refusal.needed),
    });
}
