//! The request context: the global condition keys AWS sets on every call.

use crate::policy::ConditionContext;

use super::PrincipalPolicies;

/// What the HTTP front knows about a request.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    /// The client's address (`aws:SourceIp`).
    pub source_ip: Option<std::net::IpAddr>,
    /// Whether the request came over TLS (`aws:SecureTransport`); eddy
    /// serves plain HTTP, so false unless a TLS front says otherwise.
    pub secure: bool,
    /// The SigV4 scope's region (`aws:RequestedRegion`).
    pub region: &'a str,
    pub now_ms: u64,
}

impl PrincipalPolicies {
    /// The global keys for a call by this principal; the caller adds
    /// `aws:ResourceTag/…` and service keys.
    pub fn context(&self, facts: &RequestFacts) -> ConditionContext {
        let mut ctx = ConditionContext::new();
        if let Some(ip) = facts.source_ip {
            ctx.insert("aws:SourceIp", ip.to_string());
        }
        ctx.insert("aws:SecureTransport", if facts.secure { "true" } else { "false" });
        ctx.insert("aws:RequestedRegion", facts.region);
        ctx.insert("aws:PrincipalAccount", self.account.as_str());
        ctx.insert("aws:PrincipalArn", self.principal_arn.as_str());
        ctx.insert("aws:PrincipalType", self.kind.type_name());
        ctx.insert("aws:userid", self.user_id.as_str());
        if let Some(name) = &self.user_name {
            ctx.insert("aws:username", name.as_str());
        }
        for (k, v) in &self.tags {
            ctx.insert(&format!("aws:PrincipalTag/{k}"), v.as_str());
        }
        ctx.set_time(facts.now_ms);
        ctx
    }
}

/// Adds `aws:ResourceTag/…` for each of a resource's tags.
pub fn add_resource_tags<'a>(ctx: &mut ConditionContext, tags: impl IntoIterator<Item = (&'a String, &'a String)>) {
    for (k, v) in tags {
        ctx.insert(&format!("aws:ResourceTag/{k}"), v.as_str());
    }
}
