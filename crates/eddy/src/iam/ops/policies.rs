//! Managed policies and their versions.

use serde_json::json;

use eddy_core::iam::{
    EntityFilter, EntityListing, HolderKind, Page, PolicyEntity, PolicyListing, PolicyScope, PolicyUsage,
};
use eddy_wire::iam::{self as w, required, tag_map};

use super::super::shapes;
use super::{core, Handler, Output};

impl Handler<'_> {
    pub(super) async fn create_policy(&self, i: w::CreatePolicyRequest) -> Output {
        let name = required(i.policy_name, "PolicyName")?;
        let document = required(i.policy_document, "PolicyDocument")?;
        let tags = tag_map(i.tags)?;
        let policy = core(
            self.iam.create_policy(self.account(), &name, i.path.as_deref(), document, i.description, tags).await,
        )?;
        Ok(Some(json!({"Policy": shapes::policy(&policy)})))
    }

    pub(super) async fn get_policy(&self, i: w::PolicyArnRequest) -> Output {
        let policy = core(self.iam.get_policy(self.account(), &required(i.policy_arn, "PolicyArn")?))?;
        Ok(Some(json!({"Policy": shapes::policy(&policy)})))
    }

    pub(super) async fn list_policies(&self, i: w::ListPoliciesRequest) -> Output {
        let scope = match i.scope.as_deref() {
            None | Some("All") => PolicyScope::All,
            Some("AWS") => PolicyScope::Aws,
            Some("Local") => PolicyScope::Local,
            Some(other) => {
                return Err(w::validation(format!(
                    "1 validation error detected: Value '{other}' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]"
                )))
            }
        };
        let listing = PolicyListing {
            scope,
            only_attached: i.only_attached,
            prefix: i.path_prefix.as_deref(),
            marker: i.marker.as_deref(),
            max: i.max_items,
        };
        let page = core(self.iam.list_policies(self.account(), listing))?;
        Ok(Some(shapes::listing("Policies", &page, shapes::policy)))
    }

    pub(super) async fn list_entities_for_policy(&self, i: w::ListEntitiesForPolicyRequest) -> Output {
        let arn = required(i.policy_arn, "PolicyArn")?;
        let filter = core(i.entity_filter.as_deref().map(EntityFilter::parse).transpose())?;
        let usage = core(i.policy_usage_filter.as_deref().map(PolicyUsage::parse).transpose())?;
        let listing = EntityListing {
            arn: &arn,
            filter,
            prefix: i.path_prefix.as_deref(),
            usage,
            marker: i.marker.as_deref(),
            max: i.max_items,
        };
        let page = core(self.iam.list_entities_for_policy(self.account(), listing))?;
        Ok(Some(json!({
            "PolicyGroups": entities(&page, HolderKind::Group, "Group"),
            "PolicyUsers": entities(&page, HolderKind::User, "User"),
            "PolicyRoles": entities(&page, HolderKind::Role, "Role"),
            "IsTruncated": page.marker.is_some(),
            "Marker": page.marker,
        })))
    }

    pub(super) async fn tag_policy(&self, i: w::TagPolicyRequest) -> Output {
        let arn = required(i.policy_arn, "PolicyArn")?;
        core(self.iam.tag_policy(self.account(), &arn, tag_map(i.tags)?).await)?;
        Ok(None)
    }

    pub(super) async fn untag_policy(&self, i: w::UntagPolicyRequest) -> Output {
        core(self.iam.untag_policy(self.account(), &required(i.policy_arn, "PolicyArn")?, &i.tag_keys).await)?;
        Ok(None)
    }

    pub(super) async fn list_policy_tags(&self, i: w::ListPolicyTagsRequest) -> Output {
        let arn = required(i.policy_arn, "PolicyArn")?;
        let page = core(self.iam.list_policy_tags(self.account(), &arn, i.marker.as_deref(), i.max_items))?;
        Ok(Some(shapes::listing("Tags", &page, shapes::tag)))
    }

    pub(super) async fn delete_policy(&self, i: w::PolicyArnRequest) -> Output {
        core(self.iam.delete_policy(self.account(), &required(i.policy_arn, "PolicyArn")?).await)?;
        Ok(None)
    }

    pub(super) async fn create_policy_version(&self, i: w::CreatePolicyVersionRequest) -> Output {
        let arn = required(i.policy_arn, "PolicyArn")?;
        let document = required(i.policy_document, "PolicyDocument")?;
        let version = core(self.iam.create_policy_version(self.account(), &arn, document, i.set_as_default).await)?;
        Ok(Some(json!({"PolicyVersion": shapes::version(&version)})))
    }

    pub(super) async fn get_policy_version(&self, i: w::PolicyVersionRequest) -> Output {
        let arn = required(i.policy_arn, "PolicyArn")?;
        let version = core(self.iam.get_policy_version(self.account(), &arn, &required(i.version_id, "VersionId")?))?;
        Ok(Some(json!({"PolicyVersion": shapes::version(&version)})))
    }

    pub(super) async fn list_policy_versions(&self, i: w::ListPolicyVersionsRequest) -> Output {
        let arn = required(i.policy_arn, "PolicyArn")?;
        let page = core(self.iam.list_policy_versions(self.account(), &arn, i.marker.as_deref(), i.max_items))?;
        Ok(Some(shapes::listing("Versions", &page, shapes::version)))
    }

    pub(super) async fn delete_policy_version(&self, i: w::PolicyVersionRequest) -> Output {
        let arn = required(i.policy_arn, "PolicyArn")?;
        let version = required(i.version_id, "VersionId")?;
        core(self.iam.delete_policy_version(self.account(), &arn, &version).await)?;
        Ok(None)
    }

    pub(super) async fn set_default_policy_version(&self, i: w::PolicyVersionRequest) -> Output {
        let arn = required(i.policy_arn, "PolicyArn")?;
        let version = required(i.version_id, "VersionId")?;
        core(self.iam.set_default_policy_version(self.account(), &arn, &version).await)?;
        Ok(None)
    }
}

/// The entities of one kind on a page, as `{KindName, KindId}` members.
fn entities(page: &Page<PolicyEntity>, kind: HolderKind, word: &str) -> Vec<serde_json::Value> {
    let of_kind = page.items.iter().filter(|e| e.kind == kind);
    of_kind.map(|e| json!({format!("{word}Name"): e.name, format!("{word}Id"): e.id})).collect()
}
