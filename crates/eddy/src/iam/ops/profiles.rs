//! Instance profiles.

use serde_json::json;

use eddy_wire::iam::{self as w, required, tag_map};

use super::super::shapes;
use super::{core, Handler, Output};

impl Handler<'_> {
    pub(super) async fn create_instance_profile(&self, i: w::CreateInstanceProfileRequest) -> Output {
        let name = required(i.instance_profile_name, "InstanceProfileName")?;
        let tags = tag_map(i.tags)?;
        let profile = core(self.iam.create_instance_profile(self.account(), &name, i.path.as_deref(), tags).await)?;
        Ok(Some(json!({"InstanceProfile": shapes::profile(&profile)})))
    }

    pub(super) async fn get_instance_profile(&self, i: w::InstanceProfileRequest) -> Output {
        let name = required(i.instance_profile_name, "InstanceProfileName")?;
        let profile = core(self.iam.get_instance_profile(self.account(), &name))?;
        Ok(Some(json!({"InstanceProfile": shapes::profile(&profile)})))
    }

    pub(super) async fn list_instance_profiles(&self, i: w::ListInstanceProfilesRequest) -> Output {
        let (prefix, marker) = (i.path_prefix.as_deref(), i.marker.as_deref());
        let page = core(self.iam.list_instance_profiles(self.account(), prefix, marker, i.max_items))?;
        Ok(Some(shapes::listing("InstanceProfiles", &page, shapes::profile)))
    }

    pub(super) async fn tag_instance_profile(&self, i: w::TagInstanceProfileRequest) -> Output {
        let name = required(i.instance_profile_name, "InstanceProfileName")?;
        core(self.iam.tag_instance_profile(self.account(), &name, tag_map(i.tags)?).await)?;
        Ok(None)
    }

    pub(super) async fn untag_instance_profile(&self, i: w::UntagInstanceProfileRequest) -> Output {
        let name = required(i.instance_profile_name, "InstanceProfileName")?;
        core(self.iam.untag_instance_profile(self.account(), &name, &i.tag_keys).await)?;
        Ok(None)
    }

    pub(super) async fn list_instance_profile_tags(&self, i: w::ListInstanceProfileTagsRequest) -> Output {
        let name = required(i.instance_profile_name, "InstanceProfileName")?;
        let page = core(self.iam.list_instance_profile_tags(self.account(), &name, i.marker.as_deref(), i.max_items))?;
        Ok(Some(shapes::listing("Tags", &page, shapes::tag)))
    }

    pub(super) async fn delete_instance_profile(&self, i: w::InstanceProfileRequest) -> Output {
        let name = required(i.instance_profile_name, "InstanceProfileName")?;
        core(self.iam.delete_instance_profile(self.account(), &name).await)?;
        Ok(None)
    }

    pub(super) async fn add_role_to_instance_profile(&self, i: w::InstanceProfileRoleRequest) -> Output {
        let name = required(i.instance_profile_name, "InstanceProfileName")?;
        let role = required(i.role_name, "RoleName")?;
        core(self.iam.add_role_to_instance_profile(self.account(), &name, &role).await)?;
        Ok(None)
    }

    pub(super) async fn remove_role_from_instance_profile(&self, i: w::InstanceProfileRoleRequest) -> Output {
        let name = required(i.instance_profile_name, "InstanceProfileName")?;
        let role = required(i.role_name, "RoleName")?;
        core(self.iam.remove_role_from_instance_profile(self.account(), &name, &role).await)?;
        Ok(None)
    }

    pub(super) async fn list_instance_profiles_for_role(&self, i: w::ListInstanceProfilesForRoleRequest) -> Output {
        let role = required(i.role_name, "RoleName")?;
        let page =
            core(self.iam.list_instance_profiles_for_role(self.account(), &role, i.marker.as_deref(), i.max_items))?;
        Ok(Some(shapes::listing("InstanceProfiles", &page, shapes::profile)))
    }
}
