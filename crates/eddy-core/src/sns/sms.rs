//! The account's SMS settings and opt-out list (Get/SetSMSAttributes,
//! CheckIfPhoneNumberIsOptedOut, ListPhoneNumbersOptedOut,
//! OptInPhoneNumber), per account and region, kept durably.
//!
//! eddy sends no SMS, so no recipient can reply STOP: numbers join the
//! opt-out list through `POST /_eddy/sns/sms-opt-out` (what a STOP reply
//! does on AWS), and leave it through OptInPhoneNumber.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::error::{invalid, SnsError, SnsResult};
use super::pages::Page;
use super::{Caller, Sns};

/// Settable attributes (SetSMSAttributes API reference).
const ATTRIBUTES: &[&str] = &[
    "MonthlySpendLimit",
    "DeliveryStatusIAMRole",
    "DeliveryStatusSuccessSamplingRate",
    "DefaultSenderID",
    "DefaultSMSType",
    "UsageReportS3Bucket",
];

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SmsSettings {
    pub attributes: BTreeMap<String, String>,
    pub opted_out: BTreeSet<String>,
}

impl SmsSettings {
    /// What GetSMSAttributes shows: the set attributes over AWS's default
    /// spend limit of 1 (USD), recorded from an untouched region.
    fn visible(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::from([("MonthlySpendLimit".to_string(), "1".to_string())]);
        out.extend(self.attributes.clone());
        out
    }
}

impl Sns {
    /// GetSMSAttributes: all attributes, or the named ones that are set.
    pub fn sms_attributes(&self, caller: &Caller, names: &[String]) -> SnsResult<BTreeMap<String, String>> {
        let all = self.sms_settings(caller)?.visible();
        if names.is_empty() {
            return Ok(all);
        }
        Ok(all.into_iter().filter(|(k, _)| names.contains(k)).collect())
    }

    /// SetSMSAttributes: validates every attribute first, then stores them all.
    pub async fn set_sms_attributes(&self, caller: &Caller, given: BTreeMap<String, String>) -> SnsResult<()> {
        for (name, value) in &given {
            validate_attribute(name, value)?;
        }
        self.update_sms(caller, |s| s.attributes.extend(given)).await
    }

    pub fn is_opted_out(&self, caller: &Caller, phone: &str) -> SnsResult<bool> {
        check_phone(phone)?;
        Ok(self.sms_settings(caller)?.opted_out.contains(phone))
    }

    /// ListPhoneNumbersOptedOut: numbers in order, pages of 100 continued
    /// by a signed token, like every SNS listing.
    pub fn opted_out_numbers(&self, caller: &Caller, token: Option<&str>) -> SnsResult<Page<String>> {
        let numbers: Vec<String> = self.sms_settings(caller)?.opted_out.into_iter().collect();
        let listing = format!("sms-opt-out:{}/{}", caller.account, caller.region);
        self.page(numbers, |n: &String| n.as_str(), &listing, token)
    }

    /// OptInPhoneNumber: a number that was not opted out is fine too (recorded).
    pub async fn opt_in(&self, caller: &Caller, phone: &str) -> SnsResult<()> {
        check_phone(phone)?;
        let phone = phone.to_string();
        self.update_sms(caller, move |s| {
            s.opted_out.remove(&phone);
        })
        .await
    }

    /// What a recipient's STOP reply does: eddy's stand-in, for tests.
    pub async fn opt_out(&self, caller: &Caller, phone: &str) -> SnsResult<()> {
        check_phone(phone)?;
        let phone = phone.to_string();
        tracing::info!(account = %caller.account, region = %caller.region, phone = %phone, "phone number opted out of SMS");
        self.update_sms(caller, move |s| {
            s.opted_out.insert(phone);
        })
        .await
    }

    fn sms_settings(&self, caller: &Caller) -> SnsResult<SmsSettings> {
        match self.sh.sms.get(&sms_key(caller)).map_err(|e| SnsError::Internal(e.to_string()))? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| SnsError::Internal(e.to_string())),
            None => Ok(SmsSettings::default()),
        }
    }

    /// Read-modify-write under one lock, so two concurrent changes both land.
    async fn update_sms(&self, caller: &Caller, change: impl FnOnce(&mut SmsSettings)) -> SnsResult<()> {
        let ticket = {
            let _one_writer = self.sms_lock.lock();
            let mut settings = self.sms_settings(caller)?;
            change(&mut settings);
            let mut batch = self.sh.store.batch();
            let json = serde_json::to_vec(&settings).map_err(|e| SnsError::Internal(e.to_string()))?;
            batch.put(&self.sh.sms, sms_key(caller), json);
            batch.commit()?
        };
        Ok(self.sh.store.durable(ticket).await?)
    }
}

fn sms_key(caller: &Caller) -> Vec<u8> {
    format!("{}/{}", caller.account, caller.region).into_bytes()
}

/// AWS's recorded wording: an unknown name "is not a valid attribute"; a
/// value out of range "is invalid".
fn validate_attribute(name: &str, value: &str) -> SnsResult<()> {
    if !ATTRIBUTES.contains(&name) {
        return Err(SnsError::InvalidParameter(format!("{name} is not a valid attribute")));
    }
    let ok = match name {
        "DefaultSMSType" => matches!(value, "Promotional" | "Transactional"),
        "DeliveryStatusSuccessSamplingRate" => value.parse::<u8>().is_ok_and(|n| n <= 100),
        "MonthlySpendLimit" => value.parse::<u64>().is_ok(),
        // 1–11 letters and digits, at least one letter (API reference).
        "DefaultSenderID" => {
            (1..=11).contains(&value.len())
                && value.chars().all(|c| c.is_ascii_alphanumeric())
                && value.chars().any(|c| c.is_ascii_alphabetic())
        }
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(SnsError::InvalidParameter(format!("{name} is invalid")))
    }
}

fn check_phone(phone: &str) -> SnsResult<()> {
    if super::subscription::valid_phone(phone) {
        Ok(())
    } else {
        Err(invalid("PhoneNumber Reason: input incorrectly formatted"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_rules_and_wording() {
        assert!(validate_attribute("DefaultSMSType", "Promotional").is_ok());
        let msg = |n: &str, v: &str| validate_attribute(n, v).unwrap_err().to_string();
        assert_eq!(msg("InvalidAttribute", "x"), "InvalidAttribute is not a valid attribute");
        assert_eq!(msg("DefaultSendID", "aaaaaaaaaaaa"), "DefaultSendID is not a valid attribute");
        assert_eq!(msg("DefaultSMSType", "invalid"), "DefaultSMSType is invalid");
        assert_eq!(msg("DefaultSenderID", "123456789"), "DefaultSenderID is invalid");
        assert_eq!(msg("DeliveryStatusSuccessSamplingRate", "101"), "DeliveryStatusSuccessSamplingRate is invalid");
    }
}
