//! Policy documents as IAM takes and gives them: validated with the shared
//! policy reader (identity policies name no principal and every statement a
//! resource; trust policies are resource policies of the role), kept as the
//! caller wrote them, and returned URL-encoded, as AWS returns them (SDKs
//! decode them: boto3 hands back a dict).

use super::error::{constraint, IamError, IamResult};
use crate::policy::{PolicyDocument, PolicyKind};

/// Longest managed policy document AWS accepts, in characters (its
/// non-whitespace quota is 6,144; the model allows 131,072).
const MAX_DOCUMENT_CHARS: usize = 131_072;

/// An identity policy (managed or inline) that AWS would accept.
pub fn check_identity(member: &str, text: &str) -> IamResult<()> {
    check(member, text, PolicyKind::Identity)
}

/// A role's trust policy (AssumeRolePolicyDocument): a resource policy
/// whose statements name who may assume the role.
pub fn check_trust(member: &str, text: &str) -> IamResult<()> {
    check(member, text, PolicyKind::Resource)?;
    let doc = PolicyDocument::parse(text).map_err(malformed)?;
    if doc.statements.iter().any(|s| !s.resources.is_empty() || !s.not_resources.is_empty()) {
        return Err(IamError::MalformedPolicyDocument("Has prohibited field Resource".into()));
    }
    Ok(())
}

fn check(member: &str, text: &str, kind: PolicyKind) -> IamResult<()> {
    if text.is_empty() {
        return Err(constraint(member, text, "Member must have length greater than or equal to 1"));
    }
    if text.chars().count() > MAX_DOCUMENT_CHARS {
        return Err(constraint(member, "…", "Member must have length less than or equal to 131072"));
    }
    if serde_json::from_str::<serde_json::Value>(text).is_err() {
        return Err(IamError::MalformedPolicyDocument("This policy contains invalid Json".into()));
    }
    PolicyDocument::parse_kind(text, kind).map(|_| ()).map_err(malformed)
}

fn malformed(e: crate::policy::PolicyError) -> IamError {
    IamError::MalformedPolicyDocument(e.to_string())
}

/// RFC 3986 percent-encoding of everything but unreserved characters: how
/// IAM returns documents (Python's `unquote` and Java's decoders read it
/// back; `+` for a space would not survive `unquote`).
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOW: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}"#;
    const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

    fn malformed_message(r: IamResult<()>) -> String {
        match r {
            Err(IamError::MalformedPolicyDocument(m)) => m,
            other => panic!("expected MalformedPolicyDocument, got {other:?}"),
        }
    }

    #[test]
    fn identity_policies_name_resources_and_no_principal() {
        assert_eq!(check_identity("policyDocument", ALLOW), Ok(()));
        assert_eq!(
            malformed_message(check_identity("policyDocument", "not json")),
            "This policy contains invalid Json"
        );
        let no_statement = r#"{"Version":"2012-10-17"}"#;
        assert!(malformed_message(check_identity("policyDocument", no_statement)).contains("Statement"));
        let no_effect = r#"{"Version":"2012-10-17","Statement":[{"Action":"s3:*","Resource":"*"}]}"#;
        assert!(malformed_message(check_identity("policyDocument", no_effect)).contains("Effect"));
        let bad_version = r#"{"Version":"2020-01-01","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        assert!(malformed_message(check_identity("policyDocument", bad_version)).contains("Version"));
        let principal = TRUST.replace("\"Action\"", "\"Resource\":\"*\",\"Action\"");
        assert_eq!(
            malformed_message(check_identity("policyDocument", &principal)),
            "Policy document should not specify a principal."
        );
        let no_resource = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}"#;
        assert_eq!(
            malformed_message(check_identity("policyDocument", no_resource)),
            "Policy statement must contain resources."
        );
        assert!(matches!(check_identity("policyDocument", ""), Err(IamError::Validation(_))));
    }

    #[test]
    fn trust_policies_name_principals_and_no_resource() {
        assert_eq!(check_trust("assumeRolePolicyDocument", TRUST), Ok(()));
        assert!(check_trust("assumeRolePolicyDocument", ALLOW).is_err());
        let with_resource = TRUST.replace("\"Action\"", "\"Resource\":\"*\",\"Action\"");
        assert_eq!(
            malformed_message(check_trust("assumeRolePolicyDocument", &with_resource)),
            "Has prohibited field Resource"
        );
    }

    #[test]
    fn documents_are_percent_encoded() {
        assert_eq!(url_encode(r#"{"a": "b/c"}"#), "%7B%22a%22%3A%20%22b%2Fc%22%7D");
        assert_eq!(url_encode("A-z_0.9~"), "A-z_0.9~");
        assert_eq!(url_encode("é"), "%C3%A9");
    }
}
