//! One function per IAM operation: decode its typed input
//! ([`eddy_wire::iam`]), check what the model requires, call the core once,
//! build the output shape. Users and access keys, roles, managed policies
//! (with attach, detach and inline policies), groups and instance profiles
//! each have their module.

mod groups;
mod holders;
mod policies;
mod profiles;
mod roles;
mod users;

use serde_json::Value;

use eddy_core::iam::{Iam, IamError};
use eddy_core::identity::Identity;
use eddy_wire::error::WireError;
use eddy_wire::sns::decode;

use super::errors::{invalid_action, wire};
use crate::request::RequestCtx;
use crate::server::AppState;

type Output = Result<Option<Value>, WireError>;

pub async fn dispatch(state: &AppState, ctx: &RequestCtx, action: String, input: Value) -> Output {
    if crate::authz::enforced(state) {
        crate::authz::iam::authorize_iam(state, ctx, &action, &input)?;
    }
    let h = Handler { iam: &state.iam, ctx };
    macro_rules! run {
        ($method:ident) => {
            h.$method(decode(&input)?).await
        };
    }
    match action.as_str() {
        "CreateUser" => run!(create_user),
        "GetUser" => run!(get_user),
        "ListUsers" => run!(list_users),
        "DeleteUser" => run!(delete_user),
        "TagUser" => run!(tag_user),
        "UntagUser" => run!(untag_user),
        "ListUserTags" => run!(list_user_tags),
        "UpdateUser" => run!(update_user),
        "CreateAccessKey" => run!(create_access_key),
        "ListAccessKeys" => run!(list_access_keys),
        "UpdateAccessKey" => run!(update_access_key),
        "DeleteAccessKey" => run!(delete_access_key),
        "GetAccessKeyLastUsed" => run!(get_access_key_last_used),
        "CreateRole" => run!(create_role),
        "GetRole" => run!(get_role),
        "ListRoles" => run!(list_roles),
        "DeleteRole" => run!(delete_role),
        "UpdateRole" => run!(update_role),
        "UpdateRoleDescription" => run!(update_role_description),
        "UpdateAssumeRolePolicy" => run!(update_assume_role_policy),
        "TagRole" => run!(tag_role),
        "UntagRole" => run!(untag_role),
        "ListRoleTags" => run!(list_role_tags),
        "PutRolePermissionsBoundary" => run!(put_role_permissions_boundary),
        "DeleteRolePermissionsBoundary" => run!(delete_role_permissions_boundary),
        "CreateServiceLinkedRole" => run!(create_service_linked_role),
        "CreatePolicy" => run!(create_policy),
        "GetPolicy" => run!(get_policy),
        "ListPolicies" => run!(list_policies),
        "DeletePolicy" => run!(delete_policy),
        "CreatePolicyVersion" => run!(create_policy_version),
        "GetPolicyVersion" => run!(get_policy_version),
        "ListPolicyVersions" => run!(list_policy_versions),
        "DeletePolicyVersion" => run!(delete_policy_version),
        "SetDefaultPolicyVersion" => run!(set_default_policy_version),
        "ListEntitiesForPolicy" => run!(list_entities_for_policy),
        "TagPolicy" => run!(tag_policy),
        "UntagPolicy" => run!(untag_policy),
        "ListPolicyTags" => run!(list_policy_tags),
        "CreateGroup" => run!(create_group),
        "GetGroup" => run!(get_group),
        "ListGroups" => run!(list_groups),
        "DeleteGroup" => run!(delete_group),
        "AddUserToGroup" => run!(add_user_to_group),
        "RemoveUserFromGroup" => run!(remove_user_from_group),
        "ListGroupsForUser" => run!(list_groups_for_user),
        "CreateInstanceProfile" => run!(create_instance_profile),
        "GetInstanceProfile" => run!(get_instance_profile),
        "ListInstanceProfiles" => run!(list_instance_profiles),
        "DeleteInstanceProfile" => run!(delete_instance_profile),
        "AddRoleToInstanceProfile" => run!(add_role_to_instance_profile),
        "RemoveRoleFromInstanceProfile" => run!(remove_role_from_instance_profile),
        "ListInstanceProfilesForRole" => run!(list_instance_profiles_for_role),
        "TagInstanceProfile" => run!(tag_instance_profile),
        "UntagInstanceProfile" => run!(untag_instance_profile),
        "ListInstanceProfileTags" => run!(list_instance_profile_tags),
        other => match holders::HolderOp::parse(other) {
            Some(op) => h.holder_op(op, decode(&input)?).await,
            None => Err(invalid_action(other)),
        },
    }
}

struct Handler<'a> {
    iam: &'a Iam,
    ctx: &'a RequestCtx,
}

fn core<T>(r: Result<T, IamError>) -> Result<T, WireError> {
    r.map_err(|e| wire(&e))
}

impl Handler<'_> {
    /// IAM entities belong to the caller's account.
    fn account(&self) -> &str {
        &self.ctx.caller.account
    }
}

/// The IAM user behind a request's credentials (its own key, or a session
/// token it got with GetSessionToken), for operations whose UserName
/// defaults to the caller's. Roles and the root have none.
fn caller_user_name(identity: &Identity) -> Option<String> {
    let (_, resource) = identity.arn.split_once(":user/")?;
    identity.arn.starts_with("arn:aws:iam::").then(|| resource.rsplit('/').next().unwrap_or(resource).to_string())
}

/// A UserName member, or the caller's own: AWS's rule for GetUser and the
/// access key operations.
fn user_or_caller(name: Option<String>, identity: &Identity) -> Result<String, WireError> {
    name.or_else(|| caller_user_name(identity))
        .ok_or_else(|| eddy_wire::iam::validation("Must specify userName when calling with non-User credentials"))
}
