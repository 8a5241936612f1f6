//! IAM roles: trust policies, session limits, descriptions, permission
//! boundaries, tags, and service-linked roles.

use super::document::check_trust;
use super::error::{constraint, no_such, IamError, IamResult};
use super::names::{check_name, check_path, check_path_prefix, iam_arn, under, unique_id};
use super::records::{named_key, RoleRecord};
use super::state::{Change, Entity, State};
use super::users::in_account;
use super::{tagging, Iam, Page};
use crate::tags::Tags;

/// MaxSessionDuration's bounds and default, in seconds.
const MIN_SESSION_SECS: i64 = 3600;
const MAX_SESSION_SECS: i64 = 43_200;
const MAX_DESCRIPTION_CHARS: usize = 1000;

pub struct CreateRole {
    pub name: String,
    pub path: Option<String>,
    pub trust_policy: String,
    pub description: Option<String>,
    pub max_session_secs: Option<i64>,
    pub permissions_boundary: Option<String>,
    pub tags: Tags,
}

/// What UpdateRole changes: only the members given.
#[derive(Default)]
pub struct RoleUpdate {
    pub description: Option<String>,
    pub max_session_secs: Option<i64>,
}

impl RoleRecord {
    pub fn arn(&self) -> String {
        iam_arn(&self.account, "role", &self.path, &self.name)
    }
}

impl State {
    pub fn role(&self, account: &str, name: &str) -> IamResult<&RoleRecord> {
        self.roles
            .get(&named_key(account, name))
            .ok_or_else(|| no_such(format!("The role with name {name} cannot be found.")))
    }
}

fn check_max_session(secs: i64) -> IamResult<u32> {
    if secs < MIN_SESSION_SECS {
        let bound = format!("Member must have value greater than or equal to {MIN_SESSION_SECS}");
        return Err(constraint("maxSessionDuration", &secs.to_string(), &bound));
    }
    if secs > MAX_SESSION_SECS {
        let bound = format!("Member must have value less than or equal to {MAX_SESSION_SECS}");
        return Err(constraint("maxSessionDuration", &secs.to_string(), &bound));
    }
    Ok(secs as u32)
}

fn check_description(description: &Option<String>) -> IamResult<()> {
    match description {
        Some(d) if d.chars().count() > MAX_DESCRIPTION_CHARS => Err(constraint(
            "description",
            d,
            &format!("Member must have length less than or equal to {MAX_DESCRIPTION_CHARS}"),
        )),
        _ => Ok(()),
    }
}

impl Iam {
    pub async fn create_role(&self, account: &str, req: CreateRole) -> IamResult<RoleRecord> {
        check_name("roleName", &req.name, 64)?;
        let path = check_path("path", req.path.as_deref())?;
        check_trust("assumeRolePolicyDocument", &req.trust_policy)?;
        check_description(&req.description)?;
        let max_session_secs = check_max_session(req.max_session_secs.unwrap_or(MIN_SESSION_SECS))?;
        tagging::check_new(&req.tags)?;
        let boundary = self.checked_boundary(req.permissions_boundary)?;
        let record = RoleRecord {
            account: account.to_string(),
            name: req.name,
            path,
            id: unique_id("AROA"),
            created_ms: self.now_ms(),
            trust_policy: req.trust_policy,
            description: req.description,
            max_session_secs,
            permissions_boundary: boundary,
            tags: req.tags,
            inline: Default::default(),
            attached: Default::default(),
            last_used: None,
        };
        self.insert_role(record, |name| format!("Role with name {name} already exists.")).await
    }

    async fn insert_role(&self, record: RoleRecord, taken: impl FnOnce(&str) -> String) -> IamResult<RoleRecord> {
        self.commit(|s| {
            if s.roles.contains_key(&named_key(&record.account, &record.name)) {
                return Err(IamError::EntityAlreadyExists(taken(&record.name)));
            }
            tracing::info!(role = %record.arn(), "role created");
            Ok((vec![Change::Put(Entity::Role(record.clone()))], record))
        })
        .await
    }

    pub fn get_role(&self, account: &str, name: &str) -> IamResult<RoleRecord> {
        self.read(|s| s.role(account, name).cloned())
    }

    pub fn list_roles(
        &self,
        account: &str,
        prefix: Option<&str>,
        marker: Option<&str>,
        max: Option<i64>,
    ) -> IamResult<Page<RoleRecord>> {
        let prefix = check_path_prefix(prefix)?;
        let roles = self.read(|s| Ok(in_account(&s.roles, account, |r: &RoleRecord| under(&r.path, &prefix))))?;
        self.page(&format!("iam-roles/{account}"), roles, |r| r.name.as_str(), marker, max)
    }

    /// Deletes a role with no policies and in no instance profile, as AWS requires.
    pub async fn delete_role(&self, account: &str, name: &str) -> IamResult<()> {
        self.commit(|s| {
            let role = s.role(account, name)?;
            let conflict =
                |what: &str| Err(IamError::DeleteConflict(format!("Cannot delete entity, must {what} first.")));
            if !role.attached.is_empty() {
                return conflict("detach all policies");
            }
            if !role.inline.is_empty() {
                return conflict("delete policies");
            }
            let key = role.name.to_lowercase();
            if s.profiles.values().any(|p| p.account == account && p.roles.iter().any(|r| r.to_lowercase() == key)) {
                return conflict("remove roles from instance profile");
            }
            tracing::info!(role = %role.arn(), "role deleted");
            Ok((vec![Change::Delete(Entity::Role(role.clone()))], ()))
        })
        .await
    }

    /// Applies `change` to a copy of the role and saves it.
    async fn update_role_with(
        &self,
        account: &str,
        name: &str,
        change: impl FnOnce(&mut RoleRecord) -> IamResult<()>,
    ) -> IamResult<RoleRecord> {
        self.commit(|s| {
            let mut role = s.role(account, name)?.clone();
            change(&mut role)?;
            Ok((vec![Change::Put(Entity::Role(role.clone()))], role))
        })
        .await
    }

    pub async fn update_role(&self, account: &str, name: &str, update: RoleUpdate) -> IamResult<RoleRecord> {
        check_description(&update.description)?;
        let max = update.max_session_secs.map(check_max_session).transpose()?;
        self.update_role_with(account, name, |role| {
            if let Some(d) = update.description {
                role.description = Some(d);
            }
            if let Some(m) = max {
                role.max_session_secs = m;
            }
            Ok(())
        })
        .await
    }

    pub async fn update_trust_policy(&self, account: &str, name: &str, document: String) -> IamResult<()> {
        check_trust("policyDocument", &document)?;
        self.update_role_with(account, name, |role| {
            role.trust_policy = document;
            Ok(())
        })
        .await
        .map(|_| ())
    }

    pub async fn set_role_boundary(&self, account: &str, name: &str, boundary: Option<String>) -> IamResult<()> {
        let boundary = match boundary {
            Some(arn) => self.checked_boundary(Some(arn))?,
            None => None,
        };
        let removing = boundary.is_none();
        self.update_role_with(account, name, |role| {
            if removing && role.permissions_boundary.is_none() {
                return Err(no_such(format!("The role with name {} does not have a permissions boundary.", role.name)));
            }
            role.permissions_boundary = boundary;
            Ok(())
        })
        .await
        .map(|_| ())
    }

    pub async fn tag_role(&self, account: &str, name: &str, tags: Tags) -> IamResult<()> {
        self.update_role_with(account, name, |role| {
            role.tags = tagging::merged(&role.tags, &tags)?;
            Ok(())
        })
        .await
        .map(|_| ())
    }

    /// A page of the role's tags, in key order.
    pub fn list_role_tags(
        &self,
        account: &str,
        name: &str,
        marker: Option<&str>,
        max: Option<i64>,
    ) -> IamResult<Page<(String, String)>> {
        let tags = self.read(|s| Ok(s.role(account, name)?.tags.clone()))?;
        self.tag_page(&format!("iam-role-tags/{account}/{}", name.to_lowercase()), tags, marker, max)
    }

    pub async fn untag_role(&self, account: &str, name: &str, keys: &[String]) -> IamResult<()> {
        self.update_role_with(account, name, |role| {
            role.tags = crate::tags::without(&role.tags, keys);
            Ok(())
        })
        .await
        .map(|_| ())
    }

    /// Records the role a service would create for itself, under
    /// `/aws-service-role/{service}/`, trusted by that service.
    pub async fn create_service_linked_role(
        &self,
        account: &str,
        service: &str,
        description: Option<String>,
        suffix: Option<String>,
    ) -> IamResult<RoleRecord> {
        if !service.ends_with(".amazonaws.com") || service.len() <= ".amazonaws.com".len() {
            return Err(IamError::InvalidInput(format!("Invalid ServiceName: {service}")));
        }
        check_description(&description)?;
        let name = match &suffix {
            Some(s) => format!("{}_{s}", service_role_name(service)),
            None => service_role_name(service),
        };
        check_name("customSuffix", &name, 64)?;
        let trust = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}"#
        );
        let record = RoleRecord {
            account: account.to_string(),
            path: format!("/aws-service-role/{service}/"),
            name,
            id: unique_id("AROA"),
            created_ms: self.now_ms(),
            trust_policy: trust,
            description,
            max_session_secs: MIN_SESSION_SECS as u32,
            permissions_boundary: None,
            tags: Tags::new(),
            inline: Default::default(),
            attached: Default::default(),
            last_used: None,
        };
        self.insert_role(record, |name| {
            format!("Service role name {name} has been taken in this account, please try a different suffix.")
        })
        .await
        .map_err(|e| match e {
            IamError::EntityAlreadyExists(m) => IamError::InvalidInput(m),
            other => other,
        })
    }
}

/// `AWSServiceRoleFor…` as AWS names the role of a service: its own
/// spelling for the common ones, else the service's first label capitalised.
fn service_role_name(service: &str) -> String {
    let label = service.trim_end_matches(".amazonaws.com");
    let known = [
        ("autoscaling", "AutoScaling"),
        ("ecs", "ECS"),
        ("elasticloadbalancing", "ElasticLoadBalancing"),
        ("rds", "RDS"),
        ("es", "AmazonElasticsearchService"),
        ("opensearchservice", "AmazonOpenSearchService"),
        ("eks", "AmazonEKS"),
        ("spot", "EC2Spot"),
        ("organizations", "Organizations"),
        ("sso", "SSO"),
        ("support", "Support"),
        ("trustedadvisor", "TrustedAdvisor"),
        ("elasticbeanstalk", "ElasticBeanstalk"),
        ("cloudtrail", "CloudTrail"),
        ("config", "Config"),
    ];
    let spelled = known.iter().find(|(l, _)| *l == label).map(|(_, n)| n.to_string()).unwrap_or_else(|| {
        let mut c = label.split(['.', '-']).next().unwrap_or(label).chars();
        c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
    });
    format!("AWSServiceRoleFor{spelled}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn service_linked_role_names() {
        assert_eq!(super::service_role_name("autoscaling.amazonaws.com"), "AWSServiceRoleForAutoScaling");
        assert_eq!(super::service_role_name("ecs.amazonaws.com"), "AWSServiceRoleForECS");
        assert_eq!(super::service_role_name("batch.amazonaws.com"), "AWSServiceRoleForBatch");
    }
}
