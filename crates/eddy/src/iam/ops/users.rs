//! Users and their access keys.

use serde_json::json;

use eddy_core::iam::{CreateUser, UserUpdate};
use eddy_wire::iam::{self as w, required, tag_map};

use super::super::shapes;
use super::{core, user_or_caller, Handler, Output};

impl Handler<'_> {
    pub(super) async fn create_user(&self, i: w::CreateUserRequest) -> Output {
        let req = CreateUser {
            name: required(i.user_name, "UserName")?,
            path: i.path,
            permissions_boundary: i.permissions_boundary,
            tags: tag_map(i.tags)?,
        };
        let user = core(self.iam.create_user(self.account(), req).await)?;
        Ok(Some(json!({"User": shapes::user(&user)})))
    }

    /// Without UserName: the caller. The root is described by its ARN and
    /// account id, as AWS does; a role's session has no user.
    pub(super) async fn get_user(&self, i: w::GetUserRequest) -> Output {
        let identity = &self.ctx.identity;
        if i.user_name.is_none() && identity.arn.ends_with(":root") {
            let created = shapes::date(0);
            return Ok(Some(json!({"User": {"UserId": identity.user_id, "Arn": identity.arn, "CreateDate": created}})));
        }
        let name = user_or_caller(i.user_name, identity)?;
        let user = core(self.iam.get_user(self.account(), &name))?;
        Ok(Some(json!({"User": shapes::user(&user)})))
    }

    pub(super) async fn list_users(&self, i: w::ListUsersRequest) -> Output {
        let page =
            core(self.iam.list_users(self.account(), i.path_prefix.as_deref(), i.marker.as_deref(), i.max_items))?;
        Ok(Some(shapes::listing("Users", &page, shapes::user)))
    }

    pub(super) async fn delete_user(&self, i: w::DeleteUserRequest) -> Output {
        core(self.iam.delete_user(self.account(), &required(i.user_name, "UserName")?).await)?;
        Ok(None)
    }

    pub(super) async fn tag_user(&self, i: w::TagUserRequest) -> Output {
        let name = required(i.user_name, "UserName")?;
        core(self.iam.tag_user(self.account(), &name, tag_map(i.tags)?).await)?;
        Ok(None)
    }

    pub(super) async fn untag_user(&self, i: w::UntagUserRequest) -> Output {
        core(self.iam.untag_user(self.account(), &required(i.user_name, "UserName")?, &i.tag_keys).await)?;
        Ok(None)
    }

    pub(super) async fn list_user_tags(&self, i: w::ListUserTagsRequest) -> Output {
        let name = required(i.user_name, "UserName")?;
        let page = core(self.iam.list_user_tags(self.account(), &name, i.marker.as_deref(), i.max_items))?;
        Ok(Some(shapes::listing("Tags", &page, shapes::tag)))
    }

    pub(super) async fn update_user(&self, i: w::UpdateUserRequest) -> Output {
        let name = required(i.user_name, "UserName")?;
        let update = UserUpdate { new_name: i.new_user_name, new_path: i.new_path };
        core(self.iam.update_user(self.account(), &name, update).await)?;
        Ok(None)
    }

    pub(super) async fn create_access_key(&self, i: w::CreateAccessKeyRequest) -> Output {
        let user = user_or_caller(i.user_name, &self.ctx.identity)?;
        let key = core(self.iam.create_access_key(self.account(), &user).await)?;
        Ok(Some(json!({"AccessKey": shapes::access_key(&key, true)})))
    }

    pub(super) async fn list_access_keys(&self, i: w::ListAccessKeysRequest) -> Output {
        let user = user_or_caller(i.user_name, &self.ctx.identity)?;
        let page = core(self.iam.list_access_keys(self.account(), &user, i.marker.as_deref(), i.max_items))?;
        Ok(Some(shapes::listing("AccessKeyMetadata", &page, |k| shapes::access_key(k, false))))
    }

    pub(super) async fn update_access_key(&self, i: w::UpdateAccessKeyRequest) -> Output {
        let id = required(i.access_key_id, "AccessKeyId")?;
        let active = match required(i.status, "Status")?.as_str() {
            "Active" => true,
            "Inactive" => false,
            other => {
                return Err(w::validation(format!(
                    "1 validation error detected: Value '{other}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]"
                )))
            }
        };
        core(self.iam.update_access_key(self.account(), i.user_name.as_deref(), &id, active).await)?;
        Ok(None)
    }

    /// A key the account does not have is AccessDenied, as AWS answers it.
    pub(super) async fn get_access_key_last_used(&self, i: w::GetAccessKeyLastUsedRequest) -> Output {
        let id = required(i.access_key_id, "AccessKeyId")?;
        let Some(found) = core(self.iam.access_key_last_used(self.account(), &id))? else {
            let message = format!(
                "User: {} is not authorized to perform: iam:GetAccessKeyLastUsed on resource: access key {id}",
                self.ctx.identity.arn
            );
            return Err(super::super::errors::wire(&eddy_core::iam::IamError::AccessDenied(message)));
        };
        Ok(Some(json!({"UserName": found.user_name, "AccessKeyLastUsed": shapes::key_last_used(&found)})))
    }

    pub(super) async fn delete_access_key(&self, i: w::DeleteAccessKeyRequest) -> Output {
        let id = required(i.access_key_id, "AccessKeyId")?;
        core(self.iam.delete_access_key(self.account(), i.user_name.as_deref(), &id).await)?;
        Ok(None)
    }
}
