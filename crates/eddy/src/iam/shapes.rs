//! IAM's output structures, built from core records: dates in ISO 8601,
//! policy documents URL-encoded as AWS returns them, tags as a list.

use serde_json::{json, Value};

use eddy_core::clock::{iso8601_ms, Millis};
use eddy_core::iam::{
    url_encode, AccessKeyRecord, GroupRecord, KeyLastUsed, Page, PolicyView, ProfileView, RoleRecord, UserRecord,
    VersionView,
};
use eddy_core::tags::Tags;

pub fn date(ms: Millis) -> String {
    iso8601_ms(ms)
}

pub fn tags(tags: &Tags) -> Value {
    Value::Array(tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect())
}

/// One tag of a listing's page.
pub fn tag((key, value): &(String, String)) -> Value {
    json!({"Key": key, "Value": value})
}

/// AccessKeyLastUsed: "N/A" for service and region, and no date, for a key
/// never used, as AWS documents.
pub fn key_last_used(k: &KeyLastUsed) -> Value {
    match &k.last_use {
        Some(u) => json!({"LastUsedDate": date(u.at_ms), "ServiceName": u.service, "Region": u.region}),
        None => json!({"ServiceName": "N/A", "Region": "N/A"}),
    }
}

/// Tags only when there are some, as AWS writes entities.
fn some_tags(t: &Tags) -> Value {
    if t.is_empty() {
        Value::Null
    } else {
        tags(t)
    }
}

fn boundary(arn: &Option<String>) -> Value {
    match arn {
        Some(arn) => json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}),
        None => Value::Null,
    }
}

pub fn user(u: &UserRecord) -> Value {
    json!({
        "Path": u.path, "UserName": u.name, "UserId": u.id, "Arn": u.arn(), "CreateDate": date(u.created_ms),
        "PermissionsBoundary": boundary(&u.permissions_boundary), "Tags": some_tags(&u.tags),
    })
}

pub fn role(r: &RoleRecord) -> Value {
    let last_used = match &r.last_used {
        Some((ms, region)) => json!({"LastUsedDate": date(*ms), "Region": region}),
        None => json!({}),
    };
    json!({
        "Path": r.path, "RoleName": r.name, "RoleId": r.id, "Arn": r.arn(), "CreateDate": date(r.created_ms),
        "AssumeRolePolicyDocument": url_encode(&r.trust_policy), "Description": r.description,
        "MaxSessionDuration": r.max_session_secs, "PermissionsBoundary": boundary(&r.permissions_boundary),
        "Tags": some_tags(&r.tags), "RoleLastUsed": last_used,
    })
}

pub fn group(g: &GroupRecord) -> Value {
    json!({"Path": g.path, "GroupName": g.name, "GroupId": g.id, "Arn": g.arn(), "CreateDate": date(g.created_ms)})
}

pub fn policy(p: &PolicyView) -> Value {
    json!({
        "PolicyName": p.name, "PolicyId": p.id, "Arn": p.arn, "Path": p.path, "DefaultVersionId": p.default_version,
        "AttachmentCount": p.attachment_count, "PermissionsBoundaryUsageCount": p.boundary_count,
        "IsAttachable": true, "Description": p.description, "CreateDate": date(p.created_ms),
        "UpdateDate": date(p.updated_ms), "Tags": some_tags(&p.tags),
    })
}

pub fn version(v: &VersionView) -> Value {
    json!({
        "Document": url_encode(&v.document), "VersionId": v.id, "IsDefaultVersion": v.is_default,
        "CreateDate": date(v.created_ms),
    })
}

pub fn access_key(k: &AccessKeyRecord, with_secret: bool) -> Value {
    json!({
        "UserName": k.user_name, "AccessKeyId": k.id, "Status": if k.active { "Active" } else { "Inactive" },
        "SecretAccessKey": if with_secret { Value::from(k.secret.clone()) } else { Value::Null },
        "CreateDate": date(k.created_ms),
    })
}

pub fn profile(p: &ProfileView) -> Value {
    let r = &p.record;
    json!({
        "Path": r.path, "InstanceProfileName": r.name, "InstanceProfileId": r.id, "Arn": r.arn(),
        "CreateDate": date(r.created_ms), "Roles": p.roles.iter().map(role).collect::<Vec<_>>(),
        "Tags": some_tags(&r.tags),
    })
}

/// A listing's members: `{name: [items…], IsTruncated, Marker}`.
pub fn listing<T>(name: &str, page: &Page<T>, item: impl Fn(&T) -> Value) -> Value {
    let mut out = serde_json::Map::new();
    out.insert(name.to_string(), Value::Array(page.items.iter().map(item).collect()));
    out.insert("IsTruncated".into(), Value::Bool(page.marker.is_some()));
    out.insert("Marker".into(), page.marker.clone().map(Value::from).unwrap_or(Value::Null));
    Value::Object(out)
}
