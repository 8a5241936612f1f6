//! IAM request shapes (API 2010-05-08), one input per operation, named as in
//! the AWS model. IAM speaks awsQuery only: [`crate::query::decode_generic`]
//! turns the form into a JSON value and [`crate::sns::decode`] reads it
//! leniently, member by member, as for SNS. Integers arrive as strings.

use serde::Deserialize;
use serde_json::Value;

use crate::error::WireError;
use crate::sns::{member, shape, Member, Tag};

pub use crate::sns::{decode, missing, required};

/// An integer member: absent, or not a number, is None.
impl Member for Option<i64> {
    fn read(v: Value) -> Self {
        match v {
            Value::String(s) => s.trim().parse().ok(),
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }
}

/// IAM's `ValidationError`, for members outside their model constraints.
pub fn validation(message: impl Into<String>) -> WireError {
    WireError::new("ValidationException", "ValidationError", 400, message)
}

/// A `Tags` list as a map: each tag needs its key and value; a key given
/// twice keeps its last value.
pub fn tag_map(tags: Vec<Tag>) -> Result<std::collections::BTreeMap<String, String>, WireError> {
    let mut out = std::collections::BTreeMap::new();
    for t in tags {
        let key = t.key.ok_or_else(|| missing("tags.member.key"))?;
        let value = t.value.ok_or_else(|| missing("tags.member.value"))?;
        out.insert(key, value);
    }
    Ok(out)
}

// Users.
shape!(CreateUserRequest { path: Option<String>, user_name: Option<String>, permissions_boundary: Option<String>, tags: Vec<Tag> });
shape!(GetUserRequest { user_name: Option<String> });
shape!(ListUsersRequest { path_prefix: Option<String>, marker: Option<String>, max_items: Option<i64> });
shape!(DeleteUserRequest { user_name: Option<String> });
shape!(TagUserRequest { user_name: Option<String>, tags: Vec<Tag> });
shape!(UntagUserRequest { user_name: Option<String>, tag_keys: Vec<String> });
shape!(ListUserTagsRequest { user_name: Option<String>, marker: Option<String>, max_items: Option<i64> });
shape!(UpdateUserRequest { user_name: Option<String>, new_path: Option<String>, new_user_name: Option<String> });

// Roles.
shape!(CreateRoleRequest {
    path: Option<String>,
    role_name: Option<String>,
    assume_role_policy_document: Option<String>,
    description: Option<String>,
    max_session_duration: Option<i64>,
    permissions_boundary: Option<String>,
    tags: Vec<Tag>,
});
shape!(GetRoleRequest { role_name: Option<String> });
shape!(ListRolesRequest { path_prefix: Option<String>, marker: Option<String>, max_items: Option<i64> });
shape!(DeleteRoleRequest { role_name: Option<String> });
shape!(UpdateRoleRequest { role_name: Option<String>, description: Option<String>, max_session_duration: Option<i64> });
shape!(UpdateRoleDescriptionRequest { role_name: Option<String>, description: Option<String> });
shape!(UpdateAssumeRolePolicyRequest { role_name: Option<String>, policy_document: Option<String> });
shape!(TagRoleRequest { role_name: Option<String>, tags: Vec<Tag> });
shape!(UntagRoleRequest { role_name: Option<String>, tag_keys: Vec<String> });
shape!(ListRoleTagsRequest { role_name: Option<String>, marker: Option<String>, max_items: Option<i64> });
shape!(PutRolePermissionsBoundaryRequest { role_name: Option<String>, permissions_boundary: Option<String> });
shape!(DeleteRolePermissionsBoundaryRequest { role_name: Option<String> });
shape!(CreateServiceLinkedRoleRequest {
    #[serde(rename = "AWSServiceName")]
    aws_service_name: Option<String>,
    description: Option<String>,
    custom_suffix: Option<String>,
});

// Managed policies.
shape!(CreatePolicyRequest {
    policy_name: Option<String>,
    path: Option<String>,
    policy_document: Option<String>,
    description: Option<String>,
    tags: Vec<Tag>,
});
shape!(PolicyArnRequest { policy_arn: Option<String> });
shape!(ListPoliciesRequest {
    scope: Option<String>,
    only_attached: bool,
    path_prefix: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
});
shape!(CreatePolicyVersionRequest { policy_arn: Option<String>, policy_document: Option<String>, set_as_default: bool });
shape!(PolicyVersionRequest { policy_arn: Option<String>, version_id: Option<String> });
shape!(TagPolicyRequest { policy_arn: Option<String>, tags: Vec<Tag> });
shape!(UntagPolicyRequest { policy_arn: Option<String>, tag_keys: Vec<String> });
shape!(ListPolicyTagsRequest { policy_arn: Option<String>, marker: Option<String>, max_items: Option<i64> });
shape!(ListPolicyVersionsRequest { policy_arn: Option<String>, marker: Option<String>, max_items: Option<i64> });
shape!(ListEntitiesForPolicyRequest {
    policy_arn: Option<String>,
    entity_filter: Option<String>,
    path_prefix: Option<String>,
    policy_usage_filter: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
});

// Attached and inline policies of users, roles and groups: the holder's
// name member differs (UserName, RoleName, GroupName), the rest is shared.
shape!(HolderPolicyRequest {
    user_name: Option<String>,
    role_name: Option<String>,
    group_name: Option<String>,
    policy_arn: Option<String>,
    policy_name: Option<String>,
    policy_document: Option<String>,
    path_prefix: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
});

// Groups.
shape!(CreateGroupRequest { path: Option<String>, group_name: Option<String> });
shape!(GroupRequest { group_name: Option<String>, marker: Option<String>, max_items: Option<i64> });
shape!(ListGroupsRequest { path_prefix: Option<String>, marker: Option<String>, max_items: Option<i64> });
shape!(GroupMembershipRequest { group_name: Option<String>, user_name: Option<String> });
shape!(ListGroupsForUserRequest { user_name: Option<String>, marker: Option<String>, max_items: Option<i64> });

// Access keys.
shape!(CreateAccessKeyRequest { user_name: Option<String> });
shape!(ListAccessKeysRequest { user_name: Option<String>, marker: Option<String>, max_items: Option<i64> });
shape!(UpdateAccessKeyRequest { user_name: Option<String>, access_key_id: Option<String>, status: Option<String> });
shape!(DeleteAccessKeyRequest { user_name: Option<String>, access_key_id: Option<String> });
shape!(GetAccessKeyLastUsedRequest { access_key_id: Option<String> });

// Instance profiles.
shape!(CreateInstanceProfileRequest { instance_profile_name: Option<String>, path: Option<String>, tags: Vec<Tag> });
shape!(InstanceProfileRequest { instance_profile_name: Option<String> });
shape!(ListInstanceProfilesRequest { path_prefix: Option<String>, marker: Option<String>, max_items: Option<i64> });
shape!(InstanceProfileRoleRequest { instance_profile_name: Option<String>, role_name: Option<String> });
shape!(TagInstanceProfileRequest { instance_profile_name: Option<String>, tags: Vec<Tag> });
shape!(UntagInstanceProfileRequest { instance_profile_name: Option<String>, tag_keys: Vec<String> });
shape!(ListInstanceProfileTagsRequest {
    instance_profile_name: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
});
shape!(ListInstanceProfilesForRoleRequest { role_name: Option<String>, marker: Option<String>, max_items: Option<i64> });

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{decode_generic, parse_form};

    fn form<T: serde::de::DeserializeOwned + Default>(s: &str) -> T {
        decode(&decode_generic(&parse_form(s.as_bytes())).unwrap().input).unwrap()
    }

    #[test]
    fn members_decode_from_the_form() {
        let r: CreateRoleRequest = form(concat!(
            "Action=CreateRole&RoleName=r&AssumeRolePolicyDocument=%7B%7D&MaxSessionDuration=7200",
            "&Tags.member.1.Key=a&Tags.member.1.Value=1"
        ));
        assert_eq!(r.role_name.as_deref(), Some("r"));
        assert_eq!(r.assume_role_policy_document.as_deref(), Some("{}"));
        assert_eq!(r.max_session_duration, Some(7200));
        assert_eq!(tag_map(r.tags).unwrap()["a"], "1");
        let l: ListPoliciesRequest = form("Action=ListPolicies&Scope=Local&OnlyAttached=true&MaxItems=x");
        assert_eq!((l.scope.as_deref(), l.only_attached, l.max_items), (Some("Local"), true, None));
        let s: CreateServiceLinkedRoleRequest = form("Action=CreateServiceLinkedRole&AWSServiceName=ecs.amazonaws.com");
        assert_eq!(s.aws_service_name.as_deref(), Some("ecs.amazonaws.com"));
        let u: UntagRoleRequest = form("Action=UntagRole&RoleName=r&TagKeys.member.1=a&TagKeys.member.2=b");
        assert_eq!(u.tag_keys, ["a", "b"]);
    }
}
