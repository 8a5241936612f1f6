//! Whether a resource's policy lets an AWS service deliver into it on a
//! source's behalf: SNS into an SQS queue, EventBridge into a queue or a
//! topic. This is the check behind gotchas #3 (a missing statement drops
//! deliveries silently on AWS), shared so that every service decides and
//! explains a refusal the same way.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::{statement_allowing_service, ConditionContext, Decision, PolicyDocument, Principal, Request};

/// One delivery: `service` (e.g. `events.amazonaws.com`) asks to do
/// `action` on `resource` for `source_arn`, owned by `source_account`.
#[derive(Debug, Clone, Copy)]
pub struct ServiceDelivery<'a> {
    pub service: &'a str,
    pub action: &'a str,
    pub resource: &'a str,
    pub source_arn: &'a str,
    pub source_account: &'a str,
}

/// Why a delivery is refused, and the statement that would allow it.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub why: String,
    pub needed: Value,
}

impl ServiceDelivery<'_> {
    /// Evaluates the resource's policy (`policy_text` as stored; a text
    /// that does not parse allows nothing, as no statement of it applies).
    pub fn check(&self, policy_text: Option<&str>, cache: &PolicyCache) -> Result<(), Refusal> {
        let doc = policy_text.and_then(|text| cache.get(text));
        let decision = match &doc {
            None => Decision::ImplicitDeny,
            Some(doc) => {
                let mut context = ConditionContext::new();
                context.insert("aws:SourceArn", self.source_arn.to_string());
                context.insert("aws:SourceAccount", self.source_account.to_string());
                doc.evaluate(&Request {
                    principal: Principal::Service(self.service),
                    action: self.action,
                    resource: self.resource,
                    context: &context,
                })
            }
        };
        let why = match (&decision, policy_text.is_some()) {
            (Decision::Allow { .. }, _) => return Ok(()),
            (Decision::ExplicitDeny { sid }, _) => {
                format!("statement {} denies it", sid.as_deref().unwrap_or("(no Sid)"))
            }
            (_, false) => "the resource has no policy".to_string(),
            _ => "no statement of the policy allows it".to_string(),
        };
        let needed =
            statement_allowing_service(self.service, self.action, self.resource, self.source_arn, self.source_account);
        Err(Refusal { why, needed })
    }
}

/// Parsed policies by their text: deliveries check a policy per message,
/// and parsing JSON each time would dominate fan-out cost.
#[derive(Default)]
pub struct PolicyCache {
    parsed: parking_lot::Mutex<HashMap<String, Option<Arc<PolicyDocument>>>>,
}

impl PolicyCache {
    /// The parsed policy, or None when the text is not a valid policy.
    pub fn get(&self, text: &str) -> Option<Arc<PolicyDocument>> {
        let mut parsed = self.parsed.lock();
        if let Some(p) = parsed.get(text) {
            return p.clone();
        }
        if parsed.len() >= 4096 {
            parsed.clear();
        }
        let doc = PolicyDocument::parse(text).ok().map(Arc::new);
        parsed.insert(text.to_string(), doc.clone());
        doc
    }
}
