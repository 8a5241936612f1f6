//! STS: AssumeRole and GetSessionToken issue temporary credentials
//! (`ASIA…`, a secret, a session token and an expiry), saved durably so
//! they outlive a restart.

use super::document::check_identity;
use super::error::{constraint, IamError, IamResult};
use super::names::{access_key_id, secret_key, session_token};
use super::records::{SessionKind, SessionRecord};
use super::state::{Change, Entity, State};
use super::Iam;
use crate::arn::Arn;
use crate::clock::Millis;
use crate::identity::Identity;

/// DurationSeconds bounds: AssumeRole 900..=43,200 (and the role's
/// MaxSessionDuration), GetSessionToken 900..=129,600.
const MIN_DURATION: i64 = 900;
const MAX_ROLE_DURATION: i64 = 43_200;
const MAX_TOKEN_DURATION: i64 = 129_600;
const DEFAULT_ROLE_DURATION: i64 = 3600;
const DEFAULT_TOKEN_DURATION: i64 = 43_200;
/// The account's root may hold session tokens for an hour at most.
const ROOT_TOKEN_DURATION: i64 = 3600;
/// A role assumed with an assumed role's credentials ("role chaining")
/// lasts an hour at most.
const CHAINED_DURATION: i64 = 3600;
/// Longest session policy (characters), as the model allows.
const MAX_SESSION_POLICY: usize = 2048;
/// Expired sessions are kept this long (so a request signed with one can
/// still be answered ExpiredToken), then dropped as new ones are issued.
const KEEP_EXPIRED_MS: Millis = 24 * 3600 * 1000;
const PRUNE_PER_ISSUE: usize = 64;

pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: String,
    pub duration_secs: Option<i64>,
    pub policy: Option<String>,
    pub policy_arns: Vec<String>,
    /// The request's region, recorded as the role's RoleLastUsed.
    pub region: String,
}

/// Temporary credentials just issued.
#[derive(Debug, Clone)]
pub struct Issued {
    pub session: SessionRecord,
    /// AssumeRole with a session policy: how much of the packed size it takes, in percent.
    pub packed_policy_size: Option<u32>,
}

fn check_session_name(name: &str) -> IamResult<()> {
    let len = name.chars().count();
    if len < 2 {
        return Err(constraint("roleSessionName", name, "Member must have length greater than or equal to 2"));
    }
    if len > 64 {
        return Err(constraint("roleSessionName", name, "Member must have length less than or equal to 64"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)) {
        return Err(constraint(
            "roleSessionName",
            name,
            "Member must satisfy regular expression pattern: [\\w+=,.@-]*",
        ));
    }
    Ok(())
}

fn check_duration(secs: i64, max: i64) -> IamResult<i64> {
    if secs < MIN_DURATION {
        let bound = format!("Member must have value greater than or equal to {MIN_DURATION}");
        return Err(constraint("durationSeconds", &secs.to_string(), &bound));
    }
    if secs > max {
        let bound = format!("Member must have value less than or equal to {max}");
        return Err(constraint("durationSeconds", &secs.to_string(), &bound));
    }
    Ok(secs)
}

/// A session policy: its size against the packed limit, in percent.
fn check_session_policy(policy: &str) -> IamResult<u32> {
    if policy.chars().count() > MAX_SESSION_POLICY {
        return Err(constraint("policy", "…", "Member must have length less than or equal to 2048"));
    }
    check_identity("policy", policy)?;
    let packed = policy.chars().filter(|c| !c.is_whitespace()).count();
    Ok((packed * 100).div_ceil(MAX_SESSION_POLICY) as u32)
}

fn is_assumed_role(identity: &Identity) -> bool {
    identity.arn.contains(":assumed-role/")
}

impl State {
    /// Deletes for sessions expired longer than [`KEEP_EXPIRED_MS`] ago, a few at a time.
    fn stale_sessions(&self, now: Millis) -> Vec<Change> {
        let stale = self.sessions.values().filter(|s| s.expires_ms + KEEP_EXPIRED_MS < now);
        stale.take(PRUNE_PER_ISSUE).map(|s| Change::Delete(Entity::Session(s.clone()))).collect()
    }
}

impl Iam {
    pub async fn assume_role(&self, caller: &Identity, req: AssumeRole) -> IamResult<Issued> {
        check_session_name(&req.session_name)?;
        let requested = req.duration_secs.map(|d| check_duration(d, MAX_ROLE_DURATION)).transpose()?;
        if is_assumed_role(caller) && requested.is_some_and(|d| d > CHAINED_DURATION) {
            return Err(IamError::Validation(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
                    .into(),
            ));
        }
        let packed_policy_size = req.policy.as_deref().map(check_session_policy).transpose()?;
        let denied = || {
            IamError::AccessDenied(format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {}",
                caller.arn, req.role_arn
            ))
        };
        let arn =
            Arn::parse(&req.role_arn).map_err(|_| IamError::Validation(format!("{} is invalid", req.role_arn)))?;
        let role_name = match arn.typed_resource() {
            Some(("role", rest)) if arn.service == "iam" => rest.rsplit('/').next().unwrap_or(rest).to_string(),
            _ => return Err(IamError::Validation(format!("{} is invalid", req.role_arn))),
        };
        let account = arn.account.to_string();
        let now = self.now_ms();
        self.commit(|s| {
            let mut role =
                s.role(&account, &role_name).ok().filter(|r| r.arn() == req.role_arn).ok_or_else(denied)?.clone();
            let duration = requested.unwrap_or(DEFAULT_ROLE_DURATION);
            if duration > i64::from(role.max_session_secs) {
                return Err(IamError::Validation(
                    "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.".into(),
                ));
            }
            let session = SessionRecord {
                id: access_key_id("ASIA"),
                secret: secret_key(),
                token: session_token(),
                account: role.account.clone(),
                arn: format!("arn:aws:sts::{}:assumed-role/{}/{}", role.account, role.name, req.session_name),
                user_id: format!("{}:{}", role.id, req.session_name),
                kind: SessionKind::AssumedRole { role: role.name.clone(), session: req.session_name.clone() },
                created_ms: now,
                expires_ms: now + duration as Millis * 1000,
                policy: req.policy.clone(),
                policy_arns: req.policy_arns.clone(),
            };
            role.last_used = Some((now, req.region.clone()));
            let mut changes = s.stale_sessions(now);
            changes.push(Change::Put(Entity::Role(role)));
            changes.push(Change::Put(Entity::Session(session.clone())));
            tracing::info!(role = %req.role_arn, session = %session.arn, by = %caller.arn, "role assumed");
            Ok((changes, Issued { session, packed_policy_size }))
        })
        .await
    }

    /// Temporary credentials for the caller itself (an IAM user or the root).
    pub async fn get_session_token(&self, caller: &Identity, duration_secs: Option<i64>) -> IamResult<SessionRecord> {
        if caller.expires_ms.is_some() {
            return Err(IamError::AccessDenied("Cannot call GetSessionToken with session credentials".into()));
        }
        let mut duration = check_duration(duration_secs.unwrap_or(DEFAULT_TOKEN_DURATION), MAX_TOKEN_DURATION)?;
        if caller.arn.ends_with(":root") {
            duration = duration.min(ROOT_TOKEN_DURATION);
        }
        let now = self.now_ms();
        let session = SessionRecord {
            id: access_key_id("ASIA"),
            secret: secret_key(),
            token: session_token(),
            account: caller.account.clone(),
            arn: caller.arn.clone(),
            user_id: caller.user_id.clone(),
            kind: SessionKind::SessionToken,
            created_ms: now,
            expires_ms: now + duration as Millis * 1000,
            policy: None,
            policy_arns: Vec::new(),
        };
        self.commit(|s| {
            let mut changes = s.stale_sessions(now);
            changes.push(Change::Put(Entity::Session(session.clone())));
            Ok((changes, session))
        })
        .await
    }
}
