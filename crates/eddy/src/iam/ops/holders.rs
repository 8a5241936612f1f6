//! The operations that users, roles and groups share, with the holder's
//! kind in their name: Attach/Detach{User,Role,Group}Policy,
//! ListAttached{…}Policies and the inline policies' Put/Get/Delete/List.

use serde_json::json;

use eddy_core::iam::{url_encode, HolderKind};
use eddy_wire::iam::{self as w, required};

use super::super::shapes;
use super::{core, Handler, Output};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Attach,
    Detach,
    ListAttached,
    Put,
    Get,
    Delete,
    List,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HolderOp {
    verb: Verb,
    kind: HolderKind,
}

impl HolderOp {
    /// The operation an action names, if it is one of these.
    pub fn parse(action: &str) -> Option<HolderOp> {
        let kinds = [("User", HolderKind::User), ("Role", HolderKind::Role), ("Group", HolderKind::Group)];
        kinds.iter().find_map(|(word, kind)| {
            let verb = match action {
                a if a == format!("Attach{word}Policy") => Verb::Attach,
                a if a == format!("Detach{word}Policy") => Verb::Detach,
                a if a == format!("ListAttached{word}Policies") => Verb::ListAttached,
                a if a == format!("Put{word}Policy") => Verb::Put,
                a if a == format!("Get{word}Policy") => Verb::Get,
                a if a == format!("Delete{word}Policy") => Verb::Delete,
                a if a == format!("List{word}Policies") => Verb::List,
                _ => return None,
            };
            Some(HolderOp { verb, kind: *kind })
        })
    }
}

/// The holder's name member as the model names it.
fn name_member(kind: HolderKind) -> &'static str {
    match kind {
        HolderKind::User => "UserName",
        HolderKind::Role => "RoleName",
        HolderKind::Group => "GroupName",
    }
}

impl Handler<'_> {
    pub(super) async fn holder_op(&self, op: HolderOp, i: w::HolderPolicyRequest) -> Output {
        let kind = op.kind;
        let member = name_member(kind);
        let name = match kind {
            HolderKind::User => i.user_name,
            HolderKind::Role => i.role_name,
            HolderKind::Group => i.group_name,
        };
        let name = required(name, member)?;
        let (iam, account) = (self.iam, self.account());
        match op.verb {
            Verb::Attach => {
                core(iam.attach_policy(kind, account, &name, &required(i.policy_arn, "PolicyArn")?).await).map(|_| None)
            }
            Verb::Detach => {
                core(iam.detach_policy(kind, account, &name, &required(i.policy_arn, "PolicyArn")?).await).map(|_| None)
            }
            Verb::ListAttached => {
                let page = core(iam.list_attached(
                    kind,
                    account,
                    &name,
                    i.path_prefix.as_deref(),
                    i.marker.as_deref(),
                    i.max_items,
                ))?;
                Ok(Some(shapes::listing(
                    "AttachedPolicies",
                    &page,
                    |p| json!({"PolicyName": p.name, "PolicyArn": p.arn}),
                )))
            }
            Verb::Put => {
                let policy = required(i.policy_name, "PolicyName")?;
                let document = required(i.policy_document, "PolicyDocument")?;
                core(iam.put_inline(kind, account, &name, &policy, document).await).map(|_| None)
            }
            Verb::Get => {
                let policy = required(i.policy_name, "PolicyName")?;
                let document = core(iam.get_inline(kind, account, &name, &policy))?;
                Ok(Some(json!({member: name, "PolicyName": policy, "PolicyDocument": url_encode(&document)})))
            }
            Verb::Delete => {
                let policy = required(i.policy_name, "PolicyName")?;
                core(iam.delete_inline(kind, account, &name, &policy).await).map(|_| None)
            }
            Verb::List => {
                let page = core(iam.list_inline(kind, account, &name, i.marker.as_deref(), i.max_items))?;
                Ok(Some(shapes::listing("PolicyNames", &page, |n| json!(n))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_name_verb_and_holder() {
        let op = HolderOp::parse("AttachRolePolicy").unwrap();
        assert_eq!((op.verb, op.kind), (Verb::Attach, HolderKind::Role));
        assert_eq!(HolderOp::parse("ListAttachedGroupPolicies").unwrap().verb, Verb::ListAttached);
        assert_eq!(HolderOp::parse("ListUserPolicies").unwrap().verb, Verb::List);
        assert_eq!(HolderOp::parse("GetGroupPolicy").unwrap().kind, HolderKind::Group);
        assert_eq!(HolderOp::parse("ListPolicies"), None);
        assert_eq!(HolderOp::parse("AttachPolicy"), None);
    }
}
