//! Mobile push: platform applications (APNS, FCM/GCM, ADM, …) and their
//! device endpoints. eddy keeps them durably and answers like AWS, but sends
//! nothing: a Publish to an endpoint, or through an `application`
//! subscription, is recorded in the outbox.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::error::{invalid, SnsError, SnsResult};
use super::{Caller, Sns};
use crate::clock::Millis;

/// CustomUserData's limit, in UTF-8 bytes.
const MAX_CUSTOM_USER_DATA: usize = 2048;

const PLATFORMS: &[&str] =
    &["ADM", "APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "BAIDU", "GCM", "MPNS", "WNS"];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlatformApplication {
    pub arn: String,
    pub platform: String,
    pub attributes: BTreeMap<String, String>,
    pub created_ms: Millis,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlatformEndpoint {
    pub arn: String,
    pub application_arn: String,
    /// Token, Enabled and CustomUserData, as GetEndpointAttributes shows them.
    pub attributes: BTreeMap<String, String>,
}

impl PlatformApplication {
    /// GetPlatformApplicationAttributes: the credentials are write-only.
    pub fn visible_attributes(&self) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = self
            .attributes
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "PlatformCredential" | "PlatformPrincipal"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.entry("Enabled".into()).or_insert_with(|| "true".into());
        out
    }
}

impl PlatformEndpoint {
    pub fn enabled(&self) -> bool {
        self.attributes.get("Enabled").is_none_or(|v| v.eq_ignore_ascii_case("true"))
    }
}

impl Sns {
    pub async fn create_platform_application(
        &self,
        caller: &Caller,
        name: &str,
        platform: &str,
        attributes: BTreeMap<String, String>,
    ) -> SnsResult<String> {
        validate_application_name(name)?;
        if !PLATFORMS.contains(&platform) {
            return Err(invalid(format!("Platform Reason: {platform} is not supported")));
        }
        validate_credentials(platform, &attributes)?;
        let arn = format!("arn:aws:sns:{}:{}:app/{platform}/{name}", caller.region, caller.account);
        let app = PlatformApplication {
            arn: arn.clone(),
            platform: platform.to_string(),
            attributes,
            created_ms: self.now_ms(),
        };
        self.save(&self.sh.applications, &arn, &app).await?;
        self.applications.write().insert(arn.clone(), app);
        Ok(arn)
    }

    pub fn platform_application(&self, arn: &str) -> SnsResult<PlatformApplication> {
        self.applications
            .read()
            .get(arn)
            .cloned()
            .ok_or_else(|| SnsError::NotFound("PlatformApplication does not exist".into()))
    }

    pub async fn set_platform_application_attributes(
        &self,
        arn: &str,
        attrs: BTreeMap<String, String>,
    ) -> SnsResult<()> {
        let mut app = self.platform_application(arn)?;
        app.attributes.extend(attrs);
        self.save(&self.sh.applications, arn, &app).await?;
        self.applications.write().insert(arn.to_string(), app);
        Ok(())
    }

    /// Deletes the application and its endpoints; a missing one is not an error.
    pub async fn delete_platform_application(&self, arn: &str) -> SnsResult<()> {
        let endpoints: Vec<String> =
            self.endpoints.read().values().filter(|e| e.application_arn == arn).map(|e| e.arn.clone()).collect();
        let mut batch = self.sh.store.batch();
        batch.delete(&self.sh.applications, arn.as_bytes().to_vec());
        for e in &endpoints {
            batch.delete(&self.sh.endpoints, e.as_bytes().to_vec());
        }
        let ticket = batch.commit()?;
        self.applications.write().remove(arn);
        {
            let mut all = self.endpoints.write();
            for e in &endpoints {
                all.remove(e);
            }
        }
        Ok(self.sh.store.durable(ticket).await?)
    }

    /// CreatePlatformEndpoint: the same token with the same attributes
    /// returns the existing endpoint, with others it is refused.
    pub async fn create_platform_endpoint(
        &self,
        application_arn: &str,
        token: &str,
        custom_user_data: Option<String>,
        mut attributes: BTreeMap<String, String>,
    ) -> SnsResult<String> {
        let app = self.platform_application(application_arn)?;
        if token.is_empty() {
            return Err(invalid("Token Reason: cannot be empty"));
        }
        validate_endpoint_attributes(&attributes)?;
        attributes.insert("Token".into(), token.to_string());
        attributes.entry("Enabled".into()).or_insert_with(|| "true".into());
        // CustomUserData given twice: the one in Attributes wins (recorded from AWS).
        if let Some(data) = custom_user_data {
            attributes.entry("CustomUserData".into()).or_insert(data);
        }
        let existing = self
            .endpoints
            .read()
            .values()
            .find(|e| e.application_arn == app.arn && e.attributes.get("Token").map(String::as_str) == Some(token))
            .cloned();
        if let Some(e) = existing {
            if e.attributes == attributes {
                return Ok(e.arn);
            }
            return Err(invalid(format!(
                "Token Reason: Endpoint {} already exists with the same Token, but different attributes.",
                e.arn
            )));
        }
        let name = app.arn.rsplit('/').next().unwrap_or_default();
        let (region_account, _) = app.arn.split_once(":app/").unwrap_or((&app.arn, ""));
        let arn = format!("{region_account}:endpoint/{}/{name}/{}", app.platform, uuid::Uuid::new_v4());
        let endpoint = PlatformEndpoint { arn: arn.clone(), application_arn: app.arn.clone(), attributes };
        self.save(&self.sh.endpoints, &arn, &endpoint).await?;
        self.endpoints.write().insert(arn.clone(), endpoint);
        Ok(arn)
    }

    pub fn platform_endpoint(&self, arn: &str) -> SnsResult<PlatformEndpoint> {
        self.endpoints.read().get(arn).cloned().ok_or_else(|| SnsError::NotFound("Endpoint does not exist".into()))
    }

    pub async fn set_endpoint_attributes(&self, arn: &str, attrs: BTreeMap<String, String>) -> SnsResult<()> {
        let mut endpoint = self.platform_endpoint(arn)?;
        validate_endpoint_attributes(&attrs)?;
        endpoint.attributes.extend(attrs);
        self.save(&self.sh.endpoints, arn, &endpoint).await?;
        self.endpoints.write().insert(arn.to_string(), endpoint);
        Ok(())
    }

    /// DeleteEndpoint is idempotent, as on AWS.
    pub async fn delete_endpoint(&self, arn: &str) -> SnsResult<()> {
        let mut batch = self.sh.store.batch();
        batch.delete(&self.sh.endpoints, arn.as_bytes().to_vec());
        let ticket = batch.commit()?;
        self.endpoints.write().remove(arn);
        Ok(self.sh.store.durable(ticket).await?)
    }
}

/// AWS's checks of an application name, with its recorded messages.
fn validate_application_name(name: &str) -> SnsResult<()> {
    let reason = if name.is_empty() {
        "cannot be empty"
    } else if name.chars().count() > 256 {
        "must be at most 256 characters long"
    } else if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')) {
        "must contain only characters 'a'-'z', 'A'-'Z', '0'-'9', '_', '-', and '.'"
    } else {
        return Ok(());
    };
    Err(invalid(format!("{name} Reason: {reason}")))
}

/// A principal needs its credential; every platform but FCM (GCM), which
/// authenticates with the credential alone, needs a principal with its
/// credential (recorded messages).
fn validate_credentials(platform: &str, attrs: &BTreeMap<String, String>) -> SnsResult<()> {
    let (principal, credential) = (attrs.contains_key("PlatformPrincipal"), attrs.contains_key("PlatformCredential"));
    if principal && !credential {
        return Err(invalid("Attributes Reason: PlatformPrincipal attribute provided without PlatformCredential"));
    }
    if credential && !principal && platform != "GCM" {
        return Err(invalid("Attributes Reason: PlatformCredential attribute provided without PlatformPrincipal"));
    }
    Ok(())
}

/// An endpoint's settable attributes (recorded messages).
fn validate_endpoint_attributes(attrs: &BTreeMap<String, String>) -> SnsResult<()> {
    for (name, value) in attrs {
        if !matches!(name.as_str(), "CustomUserData" | "Enabled" | "Token") {
            return Err(invalid(format!("Attributes Reason: Invalid attribute name: {name}")));
        }
        if name == "CustomUserData" && value.len() > MAX_CUSTOM_USER_DATA {
            return Err(invalid(
                "Attributes Reason: Invalid value for attribute: CustomUserData: must be at most 2048 bytes long in UTF-8 encoding",
            ));
        }
    }
    Ok(())
}
