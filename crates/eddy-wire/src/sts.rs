//! STS request shapes (API 2011-06-15), read as IAM's are (awsQuery only).

use serde::Deserialize;

use crate::sns::{member, shape};

shape!(GetCallerIdentityRequest {});
shape!(AssumeRoleRequest {
    role_arn: Option<String>,
    role_session_name: Option<String>,
    duration_seconds: Option<i64>,
    policy: Option<String>,
    policy_arns: Vec<PolicyDescriptorType>,
    external_id: Option<String>,
    serial_number: Option<String>,
    token_code: Option<String>,
    source_identity: Option<String>,
});
shape!(PolicyDescriptorType {
    #[serde(rename = "arn")]
    arn: Option<String>,
});
shape!(GetSessionTokenRequest { duration_seconds: Option<i64>, serial_number: Option<String>, token_code: Option<String> });
shape!(GetAccessKeyInfoRequest { access_key_id: Option<String> });

impl crate::sns::Member for Vec<PolicyDescriptorType> {
    fn read(v: serde_json::Value) -> Self {
        crate::sns::structures(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{decode_generic, parse_form};
    use crate::sns::decode;

    #[test]
    fn assume_role_decodes() {
        let input = decode_generic(&parse_form(
            b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&RoleSessionName=s&DurationSeconds=900&PolicyArns.member.1.arn=arn%3Ap",
        ))
        .unwrap()
        .input;
        let r: AssumeRoleRequest = decode(&input).unwrap();
        assert_eq!(r.role_session_name.as_deref(), Some("s"));
        assert_eq!(r.duration_seconds, Some(900));
        assert_eq!(r.policy_arns[0].arn.as_deref(), Some("arn:p"));
    }
}
