//! Resource policies compiled once per text: a queue's or topic's policy is
//! read on every call, and parsing its JSON each time would cost more than
//! the call's evaluation.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;

use crate::policy::PolicyDocument;

/// Distinct policy texts kept before the cache starts over.
const MAX_ENTRIES: usize = 4096;

#[derive(Default)]
pub struct DocCache {
    parsed: RwLock<HashMap<String, Option<Arc<PolicyDocument>>>>,
}

impl DocCache {
    /// The compiled policy, or None when the text is not a valid policy
    /// (stored policies were validated, so that is an empty `{}` at most).
    pub fn get(&self, text: &str) -> Option<Arc<PolicyDocument>> {
        if let Some(p) = self.parsed.read().get(text) {
            return p.clone();
        }
        let doc = PolicyDocument::parse(text).ok().map(Arc::new);
        let mut parsed = self.parsed.write();
        if parsed.len() >= MAX_ENTRIES {
            parsed.clear();
        }
        parsed.insert(text.to_string(), doc.clone());
        doc
    }
}
