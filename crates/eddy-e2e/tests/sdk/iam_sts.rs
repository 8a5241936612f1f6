//! IAM (awsQuery, 2010-05-08) and STS (awsQuery, 2011-06-15) through the SDK,
//! and the identities they hand out used on SQS. Expectations come from the
//! IAM and STS API references and the IAM user guide (ARN formats, unique ID
//! prefixes, URL-encoded policy documents), not from eddy's output.
//!
//! IAM is global: the SDK signs it for us-east-1 with signing name `iam`,
//! and with an `endpoint_url` sends it to eddy's single port like the rest.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::BehaviorVersion;
use aws_sdk_iam::types::StatusType;
use aws_sdk_sqs::config::{Credentials, Region};
use aws_sdk_sts::error::ProvideErrorMetadata;
use serde_json::{json, Value};

use crate::common::{create_queue, queue_arn, Eddy};

/// The account eddy gives any access key that is not 12 digits (`test`).
const DEFAULT_ACCOUNT: &str = "000000000000";

/// Clients for one eddy signed with one set of credentials.
struct Clients {
    iam: aws_sdk_iam::Client,
    sts: aws_sdk_sts::Client,
    sqs: aws_sdk_sqs::Client,
}

/// Clients configured as `Eddy::client` configures its own (us-east-1,
/// plain HTTP, the eddy endpoint), signed with the given credentials.
async fn clients(eddy: &Eddy, key: &str, secret: &str, token: Option<&str>) -> Clients {
    let http = aws_smithy_http_client::Builder::new().build_http();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(key, secret, token.map(str::to_string), None, "test"))
        .endpoint_url(&eddy.endpoint)
        .http_client(http)
        .load()
        .await;
    Clients {
        iam: aws_sdk_iam::Client::new(&config),
        sts: aws_sdk_sts::Client::new(&config),
        sqs: aws_sdk_sqs::Client::new(&config),
    }
}

/// The default test credentials (`test`/`test`).
async fn default_clients(eddy: &Eddy) -> Clients {
    clients(eddy, "test", "test", None).await
}

/// A trust policy letting `account`'s principals assume the role.
fn trust_policy(account: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "sts:AssumeRole"
        }]
    })
}

fn sqs_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]
    })
}

/// Percent-decodes a policy document as IAM returns it (RFC 3986 encoding).
fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii escape");
            out.push(u8::from_str_radix(hex, 16).unwrap_or_else(|_| panic!("bad escape %{hex} in {s}")));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("decoded document is UTF-8")
}

fn now_secs() -> i64 {
    i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs()).expect("secs")
}

/// Creates a role trusting `trusted_account` and returns (Arn, RoleId).
async fn create_role(iam: &aws_sdk_iam::Client, name: &str, trusted_account: &str) -> (String, String) {
    let out = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust_policy(trusted_account).to_string())
        .send()
        .await
        .expect("CreateRole");
    let role = out.role().expect("Role");
    (role.arn().to_string(), role.role_id().to_string())
}

// ---------------------------------------------------------------- IAM

#[tokio::test]
async fn role_lifecycle_with_an_attached_managed_policy() {
    let eddy = Eddy::start();
    let iam = default_clients(&eddy).await.iam;
    let trust = trust_policy(DEFAULT_ACCOUNT);

    let created = iam
        .create_role()
        .role_name("app-role")
        .assume_role_policy_document(trust.to_string())
        .description("e2e role")
        .send()
        .await
        .expect("CreateRole");
    let role = created.role().expect("Role");
    assert_eq!(role.role_name(), "app-role");
    assert_eq!(role.path(), "/");
    assert_eq!(role.arn(), format!("arn:aws:iam::{DEFAULT_ACCOUNT}:role/app-role"));
    // Unique IDs of roles start with AROA (IAM identifiers, "Unique identifiers").
    assert!(role.role_id().starts_with("AROA"), "RoleId {}", role.role_id());

    let got = iam.get_role().role_name("app-role").send().await.expect("GetRole");
    let got = got.role().expect("Role");
    assert_eq!(got.arn(), format!("arn:aws:iam::{DEFAULT_ACCOUNT}:role/app-role"));
    assert_eq!(got.role_id(), role.role_id());
    assert_eq!(got.description(), Some("e2e role"));
    // The trust policy comes back URL-encoded (RFC 3986), as the API reference says.
    let encoded = got.assume_role_policy_document().expect("AssumeRolePolicyDocument");
    assert!(!encoded.contains('{'), "document not URL-encoded: {encoded}");
    let decoded: Value = serde_json::from_str(&url_decode(encoded)).expect("decoded trust policy is JSON");
    assert_eq!(decoded, trust);

    let policy = iam
        .create_policy()
        .policy_name("app-sqs")
        .policy_document(sqs_policy().to_string())
        .send()
        .await
        .expect("CreatePolicy");
    let policy = policy.policy().expect("Policy");
    let policy_arn = policy.arn().expect("Policy Arn").to_string();
    assert_eq!(policy_arn, format!("arn:aws:iam::{DEFAULT_ACCOUNT}:policy/app-sqs"));
    assert_eq!(policy.default_version_id(), Some("v1"));

    iam.attach_role_policy().role_name("app-role").policy_arn(&policy_arn).send().await.expect("AttachRolePolicy");
    let attached =
        iam.list_attached_role_policies().role_name("app-role").send().await.expect("ListAttachedRolePolicies");
    assert!(!attached.is_truncated());
    let names: Vec<_> = attached.attached_policies().iter().map(|p| (p.policy_name(), p.policy_arn())).collect();
    assert_eq!(names, vec![(Some("app-sqs"), Some(policy_arn.as_str()))]);

    // A role with a managed policy attached cannot be deleted (DeleteRole).
    let err = iam.delete_role().role_name("app-role").send().await.expect_err("DeleteRole while attached");
    let err = err.into_service_error();
    assert!(err.is_delete_conflict_exception(), "{err:?}");
    // Nor can a policy that is attached to something (DeletePolicy).
    let err = iam.delete_policy().policy_arn(&policy_arn).send().await.expect_err("DeletePolicy while attached");
    let err = err.into_service_error();
    assert!(err.is_delete_conflict_exception(), "{err:?}");

    iam.detach_role_policy().role_name("app-role").policy_arn(&policy_arn).send().await.expect("DetachRolePolicy");
    let attached =
        iam.list_attached_role_policies().role_name("app-role").send().await.expect("ListAttachedRolePolicies");
    assert!(attached.attached_policies().is_empty(), "{attached:?}");
    iam.delete_role().role_name("app-role").send().await.expect("DeleteRole");
    iam.delete_policy().policy_arn(&policy_arn).send().await.expect("DeletePolicy");

    let err = iam.get_role().role_name("app-role").send().await.expect_err("GetRole after delete");
    let err = err.into_service_error();
    assert!(err.is_no_such_entity_exception(), "{err:?}");
}

#[tokio::test]
async fn user_access_keys_are_created_listed_and_deleted() {
    let eddy = Eddy::start();
    let iam = default_clients(&eddy).await.iam;

    let user = iam.create_user().user_name("alice").send().await.expect("CreateUser");
    let user = user.user().expect("User");
    assert_eq!(user.user_name(), "alice");
    assert_eq!(user.arn(), format!("arn:aws:iam::{DEFAULT_ACCOUNT}:user/alice"));
    assert!(user.user_id().starts_with("AIDA"), "UserId {}", user.user_id());

    let key = iam.create_access_key().user_name("alice").send().await.expect("CreateAccessKey");
    let key = key.access_key().expect("AccessKey");
    assert_eq!(key.user_name(), "alice");
    assert!(key.access_key_id().starts_with("AKIA"), "AccessKeyId {}", key.access_key_id());
    assert!(!key.secret_access_key().is_empty());
    assert_eq!(key.status(), &StatusType::Active);
    let key_id = key.access_key_id().to_string();

    let listed = iam.list_access_keys().user_name("alice").send().await.expect("ListAccessKeys");
    let meta = listed.access_key_metadata();
    assert_eq!(meta.len(), 1, "{meta:?}");
    assert_eq!(meta[0].access_key_id(), Some(key_id.as_str()));
    assert_eq!(meta[0].user_name(), Some("alice"));
    assert_eq!(meta[0].status(), Some(&StatusType::Active));

    // A user with an access key cannot be deleted (DeleteUser).
    let err = iam.delete_user().user_name("alice").send().await.expect_err("DeleteUser with a key");
    let err = err.into_service_error();
    assert!(err.is_delete_conflict_exception(), "{err:?}");

    iam.delete_access_key().user_name("alice").access_key_id(&key_id).send().await.expect("DeleteAccessKey");
    let listed = iam.list_access_keys().user_name("alice").send().await.expect("ListAccessKeys");
    assert!(listed.access_key_metadata().is_empty(), "{listed:?}");
    iam.delete_user().user_name("alice").send().await.expect("DeleteUser");
    let err = iam.get_user().user_name("alice").send().await.expect_err("GetUser after delete");
    assert!(err.into_service_error().is_no_such_entity_exception());
}

#[tokio::test]
async fn duplicate_role_is_entity_already_exists_regardless_of_case() {
    let eddy = Eddy::start();
    let iam = default_clients(&eddy).await.iam;
    create_role(&iam, "dup-role", DEFAULT_ACCOUNT).await;
    // "Role names are not distinguished by case" (CreateRole, RoleName).
    for name in ["dup-role", "DUP-ROLE"] {
        let err = iam
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust_policy(DEFAULT_ACCOUNT).to_string())
            .send()
            .await
            .expect_err("duplicate role");
        let err = err.into_service_error();
        assert!(err.is_entity_already_exists_exception(), "{name}: {err:?}");
    }
}

#[tokio::test]
async fn malformed_documents_are_malformed_policy_document() {
    let eddy = Eddy::start();
    let iam = default_clients(&eddy).await.iam;

    let err = iam
        .create_role()
        .role_name("bad-trust")
        .assume_role_policy_document("this is not JSON")
        .send()
        .await
        .expect_err("trust policy that is not JSON");
    let err = err.into_service_error();
    assert!(err.is_malformed_policy_document_exception(), "{err:?}");
    // Nothing was created.
    let err = iam.get_role().role_name("bad-trust").send().await.expect_err("GetRole");
    assert!(err.into_service_error().is_no_such_entity_exception());

    // A policy needs a Statement (IAM JSON policy elements reference).
    let err = iam
        .create_policy()
        .policy_name("no-statement")
        .policy_document(json!({"Version": "2012-10-17"}).to_string())
        .send()
        .await
        .expect_err("policy without Statement");
    let err = err.into_service_error();
    assert!(err.is_malformed_policy_document_exception(), "{err:?}");

    // An identity-based policy cannot name a Principal.
    let with_principal = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*"}]
    });
    let err = iam
        .create_policy()
        .policy_name("with-principal")
        .policy_document(with_principal.to_string())
        .send()
        .await
        .expect_err("identity policy with Principal");
    let err = err.into_service_error();
    assert!(err.is_malformed_policy_document_exception(), "{err:?}");
}

// ---------------------------------------------------------------- STS

#[tokio::test]
async fn get_caller_identity_of_root_keys() {
    let eddy = Eddy::start();
    // Any key that is not 12 digits: the default account's root.
    let sts = default_clients(&eddy).await.sts;
    let me = sts.get_caller_identity().send().await.expect("GetCallerIdentity");
    assert_eq!(me.account(), Some(DEFAULT_ACCOUNT));
    assert_eq!(me.arn(), Some(format!("arn:aws:iam::{DEFAULT_ACCOUNT}:root").as_str()));
    // For the root user, UserId is the account ID.
    assert_eq!(me.user_id(), Some(DEFAULT_ACCOUNT));

    // A 12-digit access key is its account's root.
    let sts = clients(&eddy, "444455556666", "test", None).await.sts;
    let me = sts.get_caller_identity().send().await.expect("GetCallerIdentity");
    assert_eq!(me.account(), Some("444455556666"));
    assert_eq!(me.arn(), Some("arn:aws:iam::444455556666:root"));
}

#[tokio::test]
async fn assume_role_issues_temporary_credentials_that_act_as_the_role() {
    let eddy = Eddy::start();
    let admin = default_clients(&eddy).await;
    let (role_arn, role_id) = create_role(&admin.iam, "worker", DEFAULT_ACCOUNT).await;

    let out =
        admin.sts.assume_role().role_arn(&role_arn).role_session_name("e2e-session").send().await.expect("AssumeRole");
    let creds = out.credentials().expect("Credentials");
    // Temporary credentials' key ids start with ASIA (IAM unique ID prefixes).
    assert!(creds.access_key_id().starts_with("ASIA"), "AccessKeyId {}", creds.access_key_id());
    assert!(!creds.secret_access_key().is_empty());
    assert!(!creds.session_token().is_empty());
    // DurationSeconds defaults to one hour.
    let expires = creds.expiration().secs();
    let now = now_secs();
    assert!(expires > now, "Expiration {expires} not after now {now}");
    assert!((now + 3600 - 120..=now + 3600 + 120).contains(&expires), "Expiration {expires}, now {now}");
    let user = out.assumed_role_user().expect("AssumedRoleUser");
    assert_eq!(user.arn(), format!("arn:aws:sts::{DEFAULT_ACCOUNT}:assumed-role/worker/e2e-session"));
    assert_eq!(user.assumed_role_id(), format!("{role_id}:e2e-session"));

    let temp = clients(&eddy, creds.access_key_id(), creds.secret_access_key(), Some(creds.session_token())).await;
    let me = temp.sts.get_caller_identity().send().await.expect("GetCallerIdentity with temporary credentials");
    assert_eq!(me.account(), Some(DEFAULT_ACCOUNT));
    assert_eq!(me.arn(), Some(user.arn()));
    assert_eq!(me.user_id(), Some(user.assumed_role_id()));

    let url = create_queue(&temp.sqs, "role-queue").await;
    assert!(url.contains(&format!("/{DEFAULT_ACCOUNT}/role-queue")), "QueueUrl {url}");
    assert_eq!(queue_arn(&temp.sqs, &url).await, format!("arn:aws:sqs:us-east-1:{DEFAULT_ACCOUNT}:role-queue"));
}

#[tokio::test]
async fn queue_created_with_an_assumed_role_of_another_account_lives_in_that_account() {
    let eddy = Eddy::start();
    // The role lives in 444455556666 and trusts the default account.
    let owner = clients(&eddy, "444455556666", "test", None).await;
    let (role_arn, _) = create_role(&owner.iam, "cross", DEFAULT_ACCOUNT).await;
    assert_eq!(role_arn, "arn:aws:iam::444455556666:role/cross");

    let caller = default_clients(&eddy).await;
    let out = caller
        .sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("visitor")
        .duration_seconds(900)
        .send()
        .await
        .expect("AssumeRole into another account");
    let creds = out.credentials().expect("Credentials");
    let expires = creds.expiration().secs();
    let now = now_secs();
    assert!((now + 900 - 120..=now + 900 + 120).contains(&expires), "Expiration {expires}, now {now}");
    assert_eq!(
        out.assumed_role_user().expect("AssumedRoleUser").arn(),
        "arn:aws:sts::444455556666:assumed-role/cross/visitor"
    );

    let temp = clients(&eddy, creds.access_key_id(), creds.secret_access_key(), Some(creds.session_token())).await;
    let me = temp.sts.get_caller_identity().send().await.expect("GetCallerIdentity");
    assert_eq!(me.account(), Some("444455556666"));
    assert_eq!(me.arn(), Some("arn:aws:sts::444455556666:assumed-role/cross/visitor"));

    let url = create_queue(&temp.sqs, "cross-queue").await;
    assert!(url.contains("/444455556666/cross-queue"), "QueueUrl {url}");
    assert_eq!(queue_arn(&temp.sqs, &url).await, "arn:aws:sqs:us-east-1:444455556666:cross-queue");
    // The caller's own account has no such queue.
    let err = caller.sqs.get_queue_url().queue_name("cross-queue").send().await.expect_err("not in caller's account");
    assert!(err.into_service_error().is_queue_does_not_exist());
}

#[tokio::test]
async fn assume_role_of_a_missing_role_is_access_denied_and_a_short_session_name_invalid() {
    let eddy = Eddy::start();
    let sts = default_clients(&eddy).await.sts;
    let err = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{DEFAULT_ACCOUNT}:role/no-such-role"))
        .role_session_name("session")
        .send()
        .await
        .expect_err("missing role");
    assert_eq!(err.code(), Some("AccessDenied"), "{err:?}");

    // RoleSessionName is 2 to 64 characters (AssumeRole request parameters).
    let err = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{DEFAULT_ACCOUNT}:role/no-such-role"))
        .role_session_name("s")
        .send()
        .await
        .expect_err("one-character session name");
    assert_eq!(err.code(), Some("ValidationError"), "{err:?}");
}

// ---------------------------------------------------------------- IAM user keys

#[tokio::test]
async fn an_iam_users_key_acts_as_the_user_in_its_account() {
    let eddy = Eddy::start();
    let account = "111122223333";
    let admin = clients(&eddy, account, "test", None).await;
    let user = admin.iam.create_user().user_name("bob").send().await.expect("CreateUser");
    let user = user.user().expect("User");
    assert_eq!(user.arn(), format!("arn:aws:iam::{account}:user/bob"));
    let user_id = user.user_id().to_string();
    let key = admin.iam.create_access_key().user_name("bob").send().await.expect("CreateAccessKey");
    let key = key.access_key().expect("AccessKey");

    let bob = clients(&eddy, key.access_key_id(), key.secret_access_key(), None).await;
    let me = bob.sts.get_caller_identity().send().await.expect("GetCallerIdentity as bob");
    assert_eq!(me.account(), Some(account));
    assert_eq!(me.arn(), Some(format!("arn:aws:iam::{account}:user/bob").as_str()));
    // For an IAM user, UserId is the user's unique ID.
    assert_eq!(me.user_id(), Some(user_id.as_str()));

    let url = create_queue(&bob.sqs, "bobs-queue").await;
    assert!(url.contains(&format!("/{account}/bobs-queue")), "QueueUrl {url}");
    assert_eq!(queue_arn(&bob.sqs, &url).await, format!("arn:aws:sqs:us-east-1:{account}:bobs-queue"));
    // The admin (the account's root) sees the same queue.
    let same = admin.sqs.get_queue_url().queue_name("bobs-queue").send().await.expect("GetQueueUrl as root");
    assert_eq!(same.queue_url(), Some(url.as_str()));
}
