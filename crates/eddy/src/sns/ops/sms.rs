//! SMS settings and the opted-out phone numbers of the caller's account.

use serde_json::json;

use eddy_wire::sns::{self as s, required};

use super::{core, Handler, Output};

impl Handler<'_> {
    pub(super) async fn get_sms_attributes(&self, i: s::GetSMSAttributesInput) -> Output {
        let attrs = core(self.sns().sms_attributes(&self.ctx.caller, &i.attributes))?;
        Ok(Some(json!({"attributes": attrs})))
    }

    pub(super) async fn set_sms_attributes(&self, i: s::SetSMSAttributesInput) -> Output {
        let attrs = required(i.attributes, "attributes")?;
        core(self.sns().set_sms_attributes(&self.ctx.caller, attrs).await)?;
        // Its output shape is empty but exists: SDKs expect the Result element.
        Ok(Some(json!({})))
    }

    pub(super) async fn check_if_phone_number_is_opted_out(&self, i: s::CheckIfPhoneNumberIsOptedOutInput) -> Output {
        let out = core(self.sns().is_opted_out(&self.ctx.caller, &required(i.phone_number, "phoneNumber")?))?;
        Ok(Some(json!({"isOptedOut": out})))
    }

    pub(super) async fn list_phone_numbers_opted_out(&self, i: s::ListPhoneNumbersOptedOutInput) -> Output {
        let page = core(self.sns().opted_out_numbers(&self.ctx.caller, i.next_token.as_deref()))?;
        Ok(Some(json!({"phoneNumbers": page.items, "nextToken": page.next_token})))
    }

    pub(super) async fn opt_in_phone_number(&self, i: s::OptInPhoneNumberInput) -> Output {
        core(self.sns().opt_in(&self.ctx.caller, &required(i.phone_number, "phoneNumber")?).await)?;
        Ok(Some(json!({})))
    }
}
