//! IAM and STS on a manual clock and an in-memory store (restart tests on disk).

use std::sync::Arc;

use super::*;
use crate::clock::ManualClock;
use crate::identity::Identity;
use crate::tags::Tags;

const ACCOUNT: &str = "111122223333";
const T0: Millis = 1_700_000_000_000;
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}"#;
const ALLOW_SQS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}"#;

fn iam_on(store: eddy_store::Store) -> (Arc<Iam>, ManualClock) {
    let clock = ManualClock::new(T0);
    (Iam::open(store, Arc::new(clock.clone())).unwrap(), clock)
}

fn iam() -> (Arc<Iam>, ManualClock) {
    iam_on(eddy_store::Store::in_memory())
}

fn role_req(name: &str) -> CreateRole {
    CreateRole {
        name: name.into(),
        path: None,
        trust_policy: TRUST.into(),
        description: None,
        max_session_secs: None,
        permissions_boundary: None,
        tags: Tags::new(),
    }
}

fn assume(arn: &str, session: &str, duration: Option<i64>) -> AssumeRole {
    AssumeRole {
        role_arn: arn.into(),
        session_name: session.into(),
        duration_secs: duration,
        policy: None,
        policy_arns: Vec::new(),
        region: "us-east-1".into(),
    }
}

fn root() -> Identity {
    Identity::root(ACCOUNT)
}

#[tokio::test]
async fn assumed_role_credentials_resolve_to_the_session_principal() {
    let (iam, clock) = iam();
    let role = iam.create_role(ACCOUNT, role_req("worker")).await.unwrap();
    assert_eq!(role.arn(), "arn:aws:iam::111122223333:role/worker");
    assert_eq!(role.max_session_secs, 3600);
    let issued = iam.assume_role(&root(), assume(&role.arn(), "job-1", None)).await.unwrap();
    let s = &issued.session;
    assert!(s.id.starts_with("ASIA") && s.id.len() == 20);
    assert_eq!(s.arn, "arn:aws:sts::111122223333:assumed-role/worker/job-1");
    assert_eq!(s.user_id, format!("{}:job-1", role.id));
    assert_eq!(s.expires_ms, T0 + 3_600_000);
    let cred = iam.credential(&s.id).unwrap();
    assert_eq!((cred.secret.as_str(), cred.session_token.as_deref()), (s.secret.as_str(), Some(s.token.as_str())));
    assert_eq!(cred.identity.account, ACCOUNT);
    assert!(!cred.identity.is_expired(clock.now_ms()));
    clock.advance_secs(3600);
    assert!(iam.identity(&s.id).unwrap().is_expired(clock.now_ms()), "expiry is kept for verification");
    assert_eq!(iam.get_role(ACCOUNT, "worker").unwrap().last_used, Some((T0, "us-east-1".into())));
}

#[tokio::test]
async fn assume_role_refuses_what_aws_refuses() {
    let (iam, _) = iam();
    let role = iam.create_role(ACCOUNT, role_req("r")).await.unwrap();
    let missing = iam.assume_role(&root(), assume("arn:aws:iam::111122223333:role/nope", "s1", None)).await;
    assert_eq!(
        missing.unwrap_err(),
        IamError::AccessDenied(
            "User: arn:aws:iam::111122223333:root is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111122223333:role/nope".into()
        )
    );
    for (session, duration) in [("x", None), ("bad name!", None), ("ok", Some(899)), ("ok", Some(43_201))] {
        let r = iam.assume_role(&root(), assume(&role.arn(), session, duration)).await;
        assert!(matches!(r, Err(IamError::Validation(_))), "{session} {duration:?}: {r:?}");
    }
    let over = iam.assume_role(&root(), assume(&role.arn(), "ok", Some(7200))).await.unwrap_err();
    assert_eq!(
        over,
        IamError::Validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.".into())
    );
    let mut with_policy = assume(&role.arn(), "ok", None);
    with_policy.policy = Some("{".into());
    assert!(matches!(iam.assume_role(&root(), with_policy).await, Err(IamError::MalformedPolicyDocument(_))));
    let mut with_policy = assume(&role.arn(), "ok", None);
    with_policy.policy = Some(ALLOW_SQS.into());
    assert!(iam.assume_role(&root(), with_policy).await.unwrap().packed_policy_size.is_some_and(|p| p > 0 && p <= 100));
    // Role chaining: an assumed role may assume another for an hour at most.
    let first = iam.assume_role(&root(), assume(&role.arn(), "one", None)).await.unwrap();
    let chained = iam.identity(&first.session.id).unwrap();
    assert!(iam.assume_role(&chained, assume(&role.arn(), "two", Some(3601))).await.is_err());
    assert!(iam.assume_role(&chained, assume(&role.arn(), "two", None)).await.is_ok());
}

#[tokio::test]
async fn session_tokens_keep_the_callers_identity() {
    let (iam, _) = iam();
    iam.create_user(
        ACCOUNT,
        CreateUser { name: "alice".into(), path: None, permissions_boundary: None, tags: Tags::new() },
    )
    .await
    .unwrap();
    let key = iam.create_access_key(ACCOUNT, "alice").await.unwrap();
    let alice = iam.identity(&key.id).unwrap();
    assert_eq!(alice.arn, "arn:aws:iam::111122223333:user/alice");
    let token = iam.get_session_token(&alice, None).await.unwrap();
    assert_eq!(token.expires_ms, T0 + 43_200_000);
    let same = iam.identity(&token.id).unwrap();
    assert_eq!((same.arn.as_str(), same.user_id.as_str()), (alice.arn.as_str(), alice.user_id.as_str()));
    assert!(matches!(iam.get_session_token(&same, None).await, Err(IamError::AccessDenied(_))));
    let root_token = iam.get_session_token(&root(), Some(7200)).await.unwrap();
    assert_eq!(root_token.expires_ms, T0 + 3_600_000, "the root's sessions last an hour at most");
}

#[tokio::test]
async fn access_keys_are_two_per_user_and_can_be_deactivated() {
    let (iam, _) = iam();
    let user =
        CreateUser { name: "bob".into(), path: Some("/team/".into()), permissions_boundary: None, tags: Tags::new() };
    assert_eq!(iam.create_user(ACCOUNT, user).await.unwrap().arn(), "arn:aws:iam::111122223333:user/team/bob");
    let a = iam.create_access_key(ACCOUNT, "bob").await.unwrap();
    assert!(a.id.starts_with("AKIA") && a.secret.len() == 40);
    iam.create_access_key(ACCOUNT, "bob").await.unwrap();
    assert!(matches!(iam.create_access_key(ACCOUNT, "bob").await, Err(IamError::LimitExceeded(_))));
    iam.update_access_key(ACCOUNT, Some("bob"), &a.id, false).await.unwrap();
    assert!(!iam.credential(&a.id).unwrap().active);
    assert!(matches!(iam.delete_user(ACCOUNT, "bob").await, Err(IamError::DeleteConflict(_))));
    assert!(matches!(iam.delete_access_key(ACCOUNT, Some("bob"), "AKIANOPE").await, Err(IamError::NoSuchEntity(_))));
    for k in iam.list_access_keys(ACCOUNT, "bob", None, None).unwrap().items {
        iam.delete_access_key(ACCOUNT, None, &k.id).await.unwrap();
    }
    iam.delete_user(ACCOUNT, "bob").await.unwrap();
    assert_eq!(iam.credential(&a.id), None);
}

#[tokio::test]
async fn names_are_unique_without_case_and_roles_delete_only_when_bare() {
    let (iam, _) = iam();
    iam.create_role(ACCOUNT, role_req("Svc")).await.unwrap();
    assert!(matches!(iam.create_role(ACCOUNT, role_req("svc")).await, Err(IamError::EntityAlreadyExists(_))));
    assert!(iam.create_role("999999999999", role_req("svc")).await.is_ok(), "another account");
    iam.attach_policy(HolderKind::Role, ACCOUNT, "Svc", "arn:aws:iam::aws:policy/AmazonSQSFullAccess").await.unwrap();
    iam.put_inline(HolderKind::Role, ACCOUNT, "Svc", "inline", ALLOW_SQS.into()).await.unwrap();
    let profile = iam.create_instance_profile(ACCOUNT, "p", None, Tags::new()).await.unwrap();
    assert!(profile.roles.is_empty());
    iam.add_role_to_instance_profile(ACCOUNT, "p", "Svc").await.unwrap();
    assert!(matches!(iam.add_role_to_instance_profile(ACCOUNT, "p", "Svc").await, Err(IamError::LimitExceeded(_))));
    let conflict = |m: &str| Err(IamError::DeleteConflict(format!("Cannot delete entity, must {m} first.")));
    assert_eq!(iam.delete_role(ACCOUNT, "Svc").await, conflict("detach all policies"));
    iam.detach_policy(HolderKind::Role, ACCOUNT, "Svc", "arn:aws:iam::aws:policy/AmazonSQSFullAccess").await.unwrap();
    assert_eq!(iam.delete_role(ACCOUNT, "Svc").await, conflict("delete policies"));
    iam.delete_inline(HolderKind::Role, ACCOUNT, "Svc", "inline").await.unwrap();
    assert_eq!(iam.delete_role(ACCOUNT, "Svc").await, conflict("remove roles from instance profile"));
    iam.remove_role_from_instance_profile(ACCOUNT, "p", "svc").await.unwrap();
    iam.delete_role(ACCOUNT, "svc").await.unwrap();
    assert!(matches!(iam.get_role(ACCOUNT, "Svc"), Err(IamError::NoSuchEntity(_))));
}

#[tokio::test]
async fn managed_policies_keep_five_versions_and_refuse_deletion_while_attached() {
    let (iam, _) = iam();
    let p = iam.create_policy(ACCOUNT, "sqs", Some("/app/"), ALLOW_SQS.into(), None, Tags::new()).await.unwrap();
    assert_eq!(p.arn, "arn:aws:iam::111122223333:policy/app/sqs");
    assert_eq!(p.default_version, "v1");
    for n in 2..=5 {
        let v = iam.create_policy_version(ACCOUNT, &p.arn, ALLOW_SQS.into(), n == 5).await.unwrap();
        assert_eq!(v.id, format!("v{n}"));
    }
    assert!(matches!(
        iam.create_policy_version(ACCOUNT, &p.arn, ALLOW_SQS.into(), false).await,
        Err(IamError::LimitExceeded(_))
    ));
    assert_eq!(iam.get_policy(ACCOUNT, &p.arn).unwrap().default_version, "v5");
    let listed: Vec<_> =
        iam.list_policy_versions(ACCOUNT, &p.arn, None, None).unwrap().items.into_iter().map(|v| v.id).collect();
    assert_eq!(listed, ["v5", "v4", "v3", "v2", "v1"]);
    assert!(matches!(iam.delete_policy_version(ACCOUNT, &p.arn, "v5").await, Err(IamError::DeleteConflict(_))));
    iam.set_default_policy_version(ACCOUNT, &p.arn, "v2").await.unwrap();
    iam.create_user(
        ACCOUNT,
        CreateUser { name: "u".into(), path: None, permissions_boundary: None, tags: Tags::new() },
    )
    .await
    .unwrap();
    iam.attach_policy(HolderKind::User, ACCOUNT, "u", &p.arn).await.unwrap();
    assert_eq!(iam.get_policy(ACCOUNT, &p.arn).unwrap().attachment_count, 1);
    assert_eq!(
        iam.delete_policy(ACCOUNT, &p.arn).await,
        Err(IamError::DeleteConflict("Cannot delete a policy attached to entities.".into()))
    );
    iam.detach_policy(HolderKind::User, ACCOUNT, "u", &p.arn).await.unwrap();
    assert!(matches!(iam.delete_policy(ACCOUNT, &p.arn).await, Err(IamError::DeleteConflict(_))), "versions left");
    for v in ["v1", "v3", "v4", "v5"] {
        iam.delete_policy_version(ACCOUNT, &p.arn, v).await.unwrap();
    }
    iam.delete_policy(ACCOUNT, &p.arn).await.unwrap();
    assert!(matches!(iam.get_policy(ACCOUNT, &p.arn), Err(IamError::NoSuchEntity(_))));
}

#[tokio::test]
async fn list_policies_by_scope_attachment_and_path() {
    let (iam, _) = iam();
    let local = iam.create_policy(ACCOUNT, "mine", None, ALLOW_SQS.into(), None, Tags::new()).await.unwrap();
    let listing =
        |scope, only_attached, prefix| PolicyListing { scope, only_attached, prefix, marker: None, max: Some(1000) };
    let arns = |q| iam.list_policies(ACCOUNT, q).unwrap().items.into_iter().map(|p| p.arn).collect::<Vec<_>>();
    assert_eq!(arns(listing(PolicyScope::Local, false, None)), std::slice::from_ref(&local.arn));
    let aws = arns(listing(PolicyScope::Aws, false, None));
    assert!(aws.contains(&"arn:aws:iam::aws:policy/AdministratorAccess".to_string()) && !aws.contains(&local.arn));
    assert!(arns(listing(PolicyScope::All, true, None)).is_empty());
    iam.create_role(ACCOUNT, role_req("r")).await.unwrap();
    iam.attach_policy(HolderKind::Role, ACCOUNT, "r", "arn:aws:iam::aws:policy/AdministratorAccess").await.unwrap();
    assert_eq!(arns(listing(PolicyScope::All, true, None)), ["arn:aws:iam::aws:policy/AdministratorAccess"]);
    let service_role = arns(listing(PolicyScope::Aws, false, Some("/service-role/")));
    assert_eq!(service_role, ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]);
    // Pages of two walk the whole listing once.
    let (mut seen, mut marker) = (Vec::new(), None::<String>);
    loop {
        let q = PolicyListing {
            scope: PolicyScope::All,
            only_attached: false,
            prefix: None,
            marker: marker.as_deref(),
            max: Some(2),
        };
        let page = iam.list_policies(ACCOUNT, q).unwrap();
        seen.extend(page.items.into_iter().map(|p| p.arn));
        match page.marker {
            Some(m) => marker = Some(m),
            None => break,
        }
    }
    assert_eq!(seen.len(), managed::all().len() + 1);
    assert!(matches!(iam.list_roles(ACCOUNT, None, None, Some(0)), Err(IamError::Validation(_))));
}

#[tokio::test]
async fn groups_hold_users_and_refuse_deletion_while_they_do() {
    let (iam, _) = iam();
    iam.create_group(ACCOUNT, "devs", None).await.unwrap();
    iam.create_user(
        ACCOUNT,
        CreateUser { name: "u".into(), path: None, permissions_boundary: None, tags: Tags::new() },
    )
    .await
    .unwrap();
    iam.add_user_to_group(ACCOUNT, "devs", "u").await.unwrap();
    let (_, members) = iam.get_group(ACCOUNT, "devs", None, None).unwrap();
    assert_eq!(members.items.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["u"]);
    assert_eq!(iam.list_groups_for_user(ACCOUNT, "u", None, None).unwrap().items.len(), 1);
    assert!(matches!(iam.delete_group(ACCOUNT, "devs").await, Err(IamError::DeleteConflict(_))));
    assert!(matches!(iam.delete_user(ACCOUNT, "u").await, Err(IamError::DeleteConflict(_))));
    iam.remove_user_from_group(ACCOUNT, "devs", "u").await.unwrap();
    iam.delete_group(ACCOUNT, "devs").await.unwrap();
    iam.delete_user(ACCOUNT, "u").await.unwrap();
}

#[tokio::test]
async fn a_failed_save_changes_nothing() {
    let store = eddy_store::Store::in_memory();
    let (iam, _) = iam_on(store.clone());
    store.refuse_writes(true);
    assert!(matches!(iam.create_role(ACCOUNT, role_req("r")).await, Err(IamError::Internal(_))));
    store.refuse_writes(false);
    assert!(matches!(iam.get_role(ACCOUNT, "r"), Err(IamError::NoSuchEntity(_))));
}

#[tokio::test]
async fn everything_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let open = || eddy_store::Store::open(dir.path(), eddy_store::Durability::Flush).unwrap();
    let (role_arn, session_id, key_id, policy_arn) = {
        let (iam, _) = iam_on(open());
        let role = iam.create_role(ACCOUNT, role_req("r")).await.unwrap();
        let policy = iam.create_policy(ACCOUNT, "p", None, ALLOW_SQS.into(), None, Tags::new()).await.unwrap();
        iam.attach_policy(HolderKind::Role, ACCOUNT, "r", &policy.arn).await.unwrap();
        iam.create_user(
            ACCOUNT,
            CreateUser { name: "u".into(), path: None, permissions_boundary: None, tags: Tags::new() },
        )
        .await
        .unwrap();
        let key = iam.create_access_key(ACCOUNT, "u").await.unwrap();
        let session = iam.assume_role(&root(), assume(&role.arn(), "s1", None)).await.unwrap().session;
        (role.arn(), session.id, key.id, policy.arn)
    };
    let (iam, _) = iam_on(open());
    assert_eq!(iam.get_role(ACCOUNT, "r").unwrap().arn(), role_arn);
    assert!(iam.get_role(ACCOUNT, "r").unwrap().attached.contains(&policy_arn));
    assert_eq!(iam.get_policy(ACCOUNT, &policy_arn).unwrap().attachment_count, 1);
    assert_eq!(iam.identity(&key_id).unwrap().arn, "arn:aws:iam::111122223333:user/u");
    assert_eq!(iam.identity(&session_id).unwrap().arn, "arn:aws:sts::111122223333:assumed-role/r/s1");
}

#[tokio::test]
async fn service_linked_roles_live_under_their_service() {
    let (iam, _) = iam();
    let role = iam.create_service_linked_role(ACCOUNT, "autoscaling.amazonaws.com", None, None).await.unwrap();
    assert_eq!(
        role.arn(),
        "arn:aws:iam::111122223333:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    );
    assert!(role.trust_policy.contains("autoscaling.amazonaws.com"));
    let again = iam.create_service_linked_role(ACCOUNT, "autoscaling.amazonaws.com", None, None).await;
    assert!(matches!(again, Err(IamError::InvalidInput(_))));
    let suffixed = iam.create_service_linked_role(ACCOUNT, "autoscaling.amazonaws.com", None, Some("x".into())).await;
    assert_eq!(suffixed.unwrap().name, "AWSServiceRoleForAutoScaling_x");
    assert!(iam.create_service_linked_role(ACCOUNT, "nonsense", None, None).await.is_err());
}

fn user_req(name: &str) -> CreateUser {
    CreateUser { name: name.into(), path: None, permissions_boundary: None, tags: Tags::new() }
}

#[tokio::test]
async fn a_renamed_user_keeps_its_id_keys_and_groups_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let open = || eddy_store::Store::open(dir.path(), eddy_store::Durability::Flush).unwrap();
    let (id, key_id) = {
        let (iam, _) = iam_on(open());
        let user = iam.create_user(ACCOUNT, user_req("Old")).await.unwrap();
        iam.create_user(ACCOUNT, user_req("taken")).await.unwrap();
        iam.create_group(ACCOUNT, "g", None).await.unwrap();
        iam.add_user_to_group(ACCOUNT, "g", "Old").await.unwrap();
        let key = iam.create_access_key(ACCOUNT, "Old").await.unwrap();
        let taken = UserUpdate { new_name: Some("TAKEN".into()), new_path: None };
        assert!(matches!(iam.update_user(ACCOUNT, "old", taken).await, Err(IamError::EntityAlreadyExists(_))));
        let missing = UserUpdate { new_name: Some("x".into()), new_path: None };
        assert!(matches!(iam.update_user(ACCOUNT, "nobody", missing).await, Err(IamError::NoSuchEntity(_))));
        let rename = UserUpdate { new_name: Some("New".into()), new_path: Some("/p/".into()) };
        iam.update_user(ACCOUNT, "old", rename).await.unwrap();
        (user.id, key.id)
    };
    let (iam, _) = iam_on(open());
    assert!(matches!(iam.get_user(ACCOUNT, "Old"), Err(IamError::NoSuchEntity(_))));
    let user = iam.get_user(ACCOUNT, "new").unwrap();
    assert_eq!((user.name.as_str(), user.id.as_str()), ("New", id.as_str()));
    assert_eq!(iam.identity(&key_id).unwrap().arn, "arn:aws:iam::111122223333:user/p/New");
    let keys = iam.list_access_keys(ACCOUNT, "New", None, None).unwrap().items;
    assert_eq!(keys.iter().map(|k| k.user_name.as_str()).collect::<Vec<_>>(), ["New"]);
    let (_, members) = iam.get_group(ACCOUNT, "g", None, None).unwrap();
    assert_eq!(members.items.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["New"]);
    // Only the case changes: the same user.
    let recase = UserUpdate { new_name: Some("NEW".into()), new_path: None };
    iam.update_user(ACCOUNT, "new", recase).await.unwrap();
    assert_eq!(iam.get_user(ACCOUNT, "new").unwrap().name, "NEW");
    assert_eq!(iam.list_users(ACCOUNT, None, None, None).unwrap().items.len(), 2);
}

#[tokio::test]
async fn access_keys_report_their_last_use() {
    let (iam, clock) = iam();
    iam.create_user(ACCOUNT, user_req("u")).await.unwrap();
    let key = iam.create_access_key(ACCOUNT, "u").await.unwrap();
    let never = iam.access_key_last_used(ACCOUNT, &key.id).unwrap().unwrap();
    assert_eq!((never.user_name.as_str(), never.last_use), ("u", None));
    clock.advance_ms(5000);
    iam.note_key_use(&key.id, "sqs", "eu-west-1");
    let used = iam.access_key_last_used(ACCOUNT, &key.id).unwrap().unwrap().last_use.unwrap();
    assert_eq!(used, LastUse { at_ms: T0 + 5000, service: "sqs".into(), region: "eu-west-1".into() });
    assert_eq!(iam.access_key_last_used("999999999999", &key.id).unwrap(), None);
    assert_eq!(iam.access_key_last_used(ACCOUNT, "AKIAZZZZZZZZZZZZZZZZ").unwrap(), None);
    assert!(matches!(iam.access_key_last_used(ACCOUNT, "short"), Err(IamError::Validation(_))));
}

#[tokio::test]
async fn entities_for_policy_by_kind_usage_and_page() {
    let (iam, _) = iam();
    let policy = iam.create_policy(ACCOUNT, "p", None, ALLOW_SQS.into(), None, Tags::new()).await.unwrap();
    iam.create_user(ACCOUNT, user_req("u")).await.unwrap();
    let mut bounded = user_req("b");
    bounded.permissions_boundary = Some(policy.arn.clone());
    iam.create_user(ACCOUNT, bounded).await.unwrap();
    iam.create_role(ACCOUNT, role_req("r")).await.unwrap();
    iam.attach_policy(HolderKind::User, ACCOUNT, "u", &policy.arn).await.unwrap();
    iam.attach_policy(HolderKind::Role, ACCOUNT, "r", &policy.arn).await.unwrap();
    let list = |filter, usage, marker: Option<String>, max| {
        let q = EntityListing { arn: &policy.arn, filter, prefix: None, usage, marker: marker.as_deref(), max };
        iam.list_entities_for_policy(ACCOUNT, q).unwrap()
    };
    let names = |p: &Page<PolicyEntity>| p.items.iter().map(|e| e.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&list(None, None, None, None)), ["r", "b", "u"]);
    assert_eq!(names(&list(Some(EntityFilter::User), None, None, None)), ["b", "u"]);
    assert!(list(Some(EntityFilter::AwsManagedPolicy), None, None, None).items.is_empty());
    assert_eq!(names(&list(None, Some(PolicyUsage::PermissionsPolicy), None, None)), ["r", "u"]);
    assert_eq!(names(&list(None, Some(PolicyUsage::PermissionsBoundary), None, None)), ["b"]);
    let first = list(None, None, None, Some(2));
    assert_eq!(names(&first), ["r", "b"]);
    assert_eq!(names(&list(None, None, first.marker, Some(2))), ["u"]);
    let missing = EntityListing {
        arn: "arn:aws:iam::111122223333:policy/nope",
        filter: None,
        prefix: None,
        usage: None,
        marker: None,
        max: None,
    };
    assert!(matches!(iam.list_entities_for_policy(ACCOUNT, missing), Err(IamError::NoSuchEntity(_))));
}
