//! The AWS managed policies stacks commonly attach, resolvable by
//! `arn:aws:iam::aws:policy/{path}{name}` with AWS's own documents (the
//! published default versions and dates, in `aws_managed_policies.json`). They belong
//! to no account and cannot be changed or deleted.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::clock::Millis;

/// The account part of AWS managed policy ARNs.
pub const AWS_ACCOUNT: &str = "aws";

#[derive(Debug, Clone, Deserialize)]
struct Entry {
    name: String,
    path: String,
    default_version: String,
    created_ms: Millis,
    updated_ms: Millis,
    document: String,
}

/// One AWS managed policy.
#[derive(Debug, Clone)]
pub struct AwsManagedPolicy {
    pub name: String,
    pub path: String,
    pub arn: String,
    /// Stable across restarts: derived from the name.
    pub id: String,
    pub default_version: String,
    pub created_ms: Millis,
    pub updated_ms: Millis,
    pub document: String,
}

pub fn all() -> &'static [AwsManagedPolicy] {
    static POLICIES: OnceLock<Vec<AwsManagedPolicy>> = OnceLock::new();
    POLICIES.get_or_init(|| {
        let entries: Vec<Entry> =
            serde_json::from_str(include_str!("aws_managed_policies.json")).expect("built-in managed policies");
        entries.into_iter().map(policy).collect()
    })
}

pub fn find(arn: &str) -> Option<&'static AwsManagedPolicy> {
    all().iter().find(|p| p.arn == arn)
}

fn policy(e: Entry) -> AwsManagedPolicy {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(e.name.as_bytes());
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let id: String = digest.iter().take(17).map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect();
    AwsManagedPolicy {
        arn: format!("arn:aws:iam::{AWS_ACCOUNT}:policy{}{}", e.path, e.name),
        id: format!("ANPA{id}"),
        created_ms: e.created_ms,
        updated_ms: e.updated_ms,
        name: e.name,
        path: e.path,
        default_version: e.default_version,
        document: e.document,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::document::check_identity;

    #[test]
    fn the_common_policies_resolve_with_valid_documents() {
        for name in [
            "AdministratorAccess",
            "ReadOnlyAccess",
            "AmazonSQSFullAccess",
            "AmazonSNSFullAccess",
            "AmazonKinesisFullAccess",
            "AmazonKinesisFirehoseFullAccess",
            "AmazonEventBridgeFullAccess",
            "AmazonS3FullAccess",
            "SecretsManagerReadWrite",
            "AWSKeyManagementServicePowerUser",
        ] {
            let p = find(&format!("arn:aws:iam::aws:policy/{name}")).unwrap_or_else(|| panic!("{name}"));
            assert!(check_identity("policyDocument", &p.document).is_ok(), "{name}");
            assert!(p.id.starts_with("ANPA") && p.id.len() == 21);
            assert!(p.created_ms > 1_400_000_000_000 && p.updated_ms >= p.created_ms);
        }
        let lambda = find("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole").unwrap();
        assert!(lambda.document.contains("logs:CreateLogGroup"));
        let admin = find("arn:aws:iam::aws:policy/AdministratorAccess").unwrap();
        assert_eq!(
            admin.document,
            r#"{"Statement":[{"Action":"*","Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}"#
        );
    }
}
