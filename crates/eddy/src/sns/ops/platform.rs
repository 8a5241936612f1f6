//! Mobile push: applications and device endpoints (stored, never contacted).

use serde_json::{json, Value};

use eddy_wire::sns::{self as s, required};

use super::{core, Handler, Output};

impl Handler<'_> {
    pub(super) async fn create_platform_application(&self, i: s::CreatePlatformApplicationInput) -> Output {
        let (name, platform) = (required(i.name, "Name")?, required(i.platform, "Platform")?);
        let attrs = required(i.attributes, "Attributes")?;
        let arn = core(self.sns().create_platform_application(&self.ctx.caller, &name, &platform, attrs).await)?;
        Ok(Some(json!({"PlatformApplicationArn": arn})))
    }

    pub(super) async fn get_platform_application_attributes(
        &self,
        i: s::GetPlatformApplicationAttributesInput,
    ) -> Output {
        let arn = Self::push_arn(i.platform_application_arn, "PlatformApplicationArn")?;
        let app = core(self.sns().platform_application(&arn))?;
        Ok(Some(json!({"Attributes": app.visible_attributes()})))
    }

    pub(super) async fn set_platform_application_attributes(
        &self,
        i: s::SetPlatformApplicationAttributesInput,
    ) -> Output {
        let arn = Self::push_arn(i.platform_application_arn, "PlatformApplicationArn")?;
        let attrs = required(i.attributes, "Attributes")?;
        core(self.sns().set_platform_application_attributes(&arn, attrs).await)?;
        Ok(None)
    }

    pub(super) async fn delete_platform_application(&self, i: s::DeletePlatformApplicationInput) -> Output {
        let arn = required(i.platform_application_arn, "PlatformApplicationArn")?;
        core(self.sns().delete_platform_application(&arn).await)?;
        Ok(None)
    }

    pub(super) async fn list_platform_applications(&self, i: s::ListPlatformApplicationsInput) -> Output {
        let page = core(self.sns().list_platform_applications(&self.ctx.caller, i.next_token.as_deref()))?;
        let apps: Vec<Value> = page
            .items
            .iter()
            .map(|a| json!({"PlatformApplicationArn": a.arn, "Attributes": a.visible_attributes()}))
            .collect();
        Ok(Some(json!({"PlatformApplications": apps, "NextToken": page.next_token})))
    }

    pub(super) async fn create_platform_endpoint(&self, i: s::CreatePlatformEndpointInput) -> Output {
        let app = required(i.platform_application_arn, "PlatformApplicationArn")?;
        let token = required(i.token, "Token")?;
        let attrs = i.attributes.unwrap_or_default();
        let arn = core(self.sns().create_platform_endpoint(&app, &token, i.custom_user_data, attrs).await)?;
        Ok(Some(json!({"EndpointArn": arn})))
    }

    pub(super) async fn get_endpoint_attributes(&self, i: s::GetEndpointAttributesInput) -> Output {
        let endpoint = core(self.sns().platform_endpoint(&required(i.endpoint_arn, "EndpointArn")?))?;
        Ok(Some(json!({"Attributes": endpoint.attributes})))
    }

    pub(super) async fn set_endpoint_attributes(&self, i: s::SetEndpointAttributesInput) -> Output {
        let arn = required(i.endpoint_arn, "EndpointArn")?;
        let attrs = required(i.attributes, "Attributes")?;
        core(self.sns().set_endpoint_attributes(&arn, attrs).await)?;
        Ok(None)
    }

    pub(super) async fn delete_endpoint(&self, i: s::DeleteEndpointInput) -> Output {
        core(self.sns().delete_endpoint(&required(i.endpoint_arn, "EndpointArn")?).await)?;
        Ok(None)
    }

    pub(super) async fn list_endpoints_by_platform_application(
        &self,
        i: s::ListEndpointsByPlatformApplicationInput,
    ) -> Output {
        let app = required(i.platform_application_arn, "PlatformApplicationArn")?;
        let page = core(self.sns().list_endpoints(&app, i.next_token.as_deref()))?;
        let endpoints: Vec<Value> =
            page.items.iter().map(|e| json!({"EndpointArn": e.arn, "Attributes": e.attributes})).collect();
        Ok(Some(json!({"Endpoints": endpoints, "NextToken": page.next_token})))
    }
}
