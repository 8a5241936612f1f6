//! Groups and their members.

use serde_json::json;

use eddy_wire::iam::{self as w, required};

use super::super::shapes;
use super::{core, Handler, Output};

impl Handler<'_> {
    pub(super) async fn create_group(&self, i: w::CreateGroupRequest) -> Output {
        let name = required(i.group_name, "GroupName")?;
        let group = core(self.iam.create_group(self.account(), &name, i.path.as_deref()).await)?;
        Ok(Some(json!({"Group": shapes::group(&group)})))
    }

    pub(super) async fn get_group(&self, i: w::GroupRequest) -> Output {
        let name = required(i.group_name, "GroupName")?;
        let (group, page) = core(self.iam.get_group(self.account(), &name, i.marker.as_deref(), i.max_items))?;
        let mut out = shapes::listing("Users", &page, shapes::user);
        out["Group"] = shapes::group(&group);
        Ok(Some(out))
    }

    pub(super) async fn list_groups(&self, i: w::ListGroupsRequest) -> Output {
        let page =
            core(self.iam.list_groups(self.account(), i.path_prefix.as_deref(), i.marker.as_deref(), i.max_items))?;
        Ok(Some(shapes::listing("Groups", &page, shapes::group)))
    }

    pub(super) async fn delete_group(&self, i: w::GroupRequest) -> Output {
        core(self.iam.delete_group(self.account(), &required(i.group_name, "GroupName")?).await)?;
        Ok(None)
    }

    pub(super) async fn add_user_to_group(&self, i: w::GroupMembershipRequest) -> Output {
        let (group, user) = (required(i.group_name, "GroupName")?, required(i.user_name, "UserName")?);
        core(self.iam.add_user_to_group(self.account(), &group, &user).await)?;
        Ok(None)
    }

    pub(super) async fn remove_user_from_group(&self, i: w::GroupMembershipRequest) -> Output {
        let (group, user) = (required(i.group_name, "GroupName")?, required(i.user_name, "UserName")?);
        core(self.iam.remove_user_from_group(self.account(), &group, &user).await)?;
        Ok(None)
    }

    pub(super) async fn list_groups_for_user(&self, i: w::ListGroupsForUserRequest) -> Output {
        let user = required(i.user_name, "UserName")?;
        let page = core(self.iam.list_groups_for_user(self.account(), &user, i.marker.as_deref(), i.max_items))?;
        Ok(Some(shapes::listing("Groups", &page, shapes::group)))
    }
}
