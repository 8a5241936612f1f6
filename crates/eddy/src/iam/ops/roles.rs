//! Roles: trust policies, settings, boundaries, tags, service-linked roles.

use serde_json::json;

use eddy_core::iam::{CreateRole, RoleUpdate};
use eddy_wire::iam::{self as w, required, tag_map};

use super::super::shapes;
use super::{core, Handler, Output};

impl Handler<'_> {
    pub(super) async fn create_role(&self, i: w::CreateRoleRequest) -> Output {
        let req = CreateRole {
            name: required(i.role_name, "RoleName")?,
            path: i.path,
            trust_policy: required(i.assume_role_policy_document, "AssumeRolePolicyDocument")?,
            description: i.description,
            max_session_secs: i.max_session_duration,
            permissions_boundary: i.permissions_boundary,
            tags: tag_map(i.tags)?,
        };
        let role = core(self.iam.create_role(self.account(), req).await)?;
        Ok(Some(json!({"Role": shapes::role(&role)})))
    }

    pub(super) async fn get_role(&self, i: w::GetRoleRequest) -> Output {
        let role = core(self.iam.get_role(self.account(), &required(i.role_name, "RoleName")?))?;
        Ok(Some(json!({"Role": shapes::role(&role)})))
    }

    pub(super) async fn list_roles(&self, i: w::ListRolesRequest) -> Output {
        let page =
            core(self.iam.list_roles(self.account(), i.path_prefix.as_deref(), i.marker.as_deref(), i.max_items))?;
        Ok(Some(shapes::listing("Roles", &page, shapes::role)))
    }

    pub(super) async fn delete_role(&self, i: w::DeleteRoleRequest) -> Output {
        core(self.iam.delete_role(self.account(), &required(i.role_name, "RoleName")?).await)?;
        Ok(None)
    }

    pub(super) async fn update_role(&self, i: w::UpdateRoleRequest) -> Output {
        let name = required(i.role_name, "RoleName")?;
        let update = RoleUpdate { description: i.description, max_session_secs: i.max_session_duration };
        core(self.iam.update_role(self.account(), &name, update).await)?;
        Ok(Some(json!({})))
    }

    pub(super) async fn update_role_description(&self, i: w::UpdateRoleDescriptionRequest) -> Output {
        let name = required(i.role_name, "RoleName")?;
        let update = RoleUpdate { description: Some(required(i.description, "Description")?), max_session_secs: None };
        let role = core(self.iam.update_role(self.account(), &name, update).await)?;
        Ok(Some(json!({"Role": shapes::role(&role)})))
    }

    pub(super) async fn update_assume_role_policy(&self, i: w::UpdateAssumeRolePolicyRequest) -> Output {
        let name = required(i.role_name, "RoleName")?;
        let document = required(i.policy_document, "PolicyDocument")?;
        core(self.iam.update_trust_policy(self.account(), &name, document).await)?;
        Ok(None)
    }

    pub(super) async fn tag_role(&self, i: w::TagRoleRequest) -> Output {
        let name = required(i.role_name, "RoleName")?;
        core(self.iam.tag_role(self.account(), &name, tag_map(i.tags)?).await)?;
        Ok(None)
    }

    pub(super) async fn untag_role(&self, i: w::UntagRoleRequest) -> Output {
        core(self.iam.untag_role(self.account(), &required(i.role_name, "RoleName")?, &i.tag_keys).await)?;
        Ok(None)
    }

    pub(super) async fn list_role_tags(&self, i: w::ListRoleTagsRequest) -> Output {
        let name = required(i.role_name, "RoleName")?;
        let page = core(self.iam.list_role_tags(self.account(), &name, i.marker.as_deref(), i.max_items))?;
        Ok(Some(shapes::listing("Tags", &page, shapes::tag)))
    }

    pub(super) async fn put_role_permissions_boundary(&self, i: w::PutRolePermissionsBoundaryRequest) -> Output {
        let name = required(i.role_name, "RoleName")?;
        let boundary = required(i.permissions_boundary, "PermissionsBoundary")?;
        core(self.iam.set_role_boundary(self.account(), &name, Some(boundary)).await)?;
        Ok(None)
    }

    pub(super) async fn delete_role_permissions_boundary(&self, i: w::DeleteRolePermissionsBoundaryRequest) -> Output {
        core(self.iam.set_role_boundary(self.account(), &required(i.role_name, "RoleName")?, None).await)?;
        Ok(None)
    }

    pub(super) async fn create_service_linked_role(&self, i: w::CreateServiceLinkedRoleRequest) -> Output {
        let service = required(i.aws_service_name, "AWSServiceName")?;
        let role =
            core(self.iam.create_service_linked_role(self.account(), &service, i.description, i.custom_suffix).await)?;
        Ok(Some(json!({"Role": shapes::role(&role)})))
    }
}
