//! Inline policies: documents embedded in one user, role or group.

use super::attach::HolderKind;
use super::document::check_identity;
use super::error::{no_such, IamError, IamResult};
use super::names::check_name;
use super::{Iam, Page};

/// Most inline policies one entity may have (AWS bounds their total size;
/// a count keeps the record small).
const MAX_INLINE: usize = 100;

fn missing(kind: HolderKind, policy: &str) -> IamError {
    no_such(format!("The {} policy with name {policy} cannot be found.", kind.word()))
}

impl Iam {
    pub async fn put_inline(
        &self,
        kind: HolderKind,
        account: &str,
        name: &str,
        policy: &str,
        document: String,
    ) -> IamResult<()> {
        check_name("policyName", policy, 128)?;
        check_identity("policyDocument", &document)?;
        self.commit(|s| {
            let mut holder = s.holder(kind, account, name)?;
            let inline = holder.inline();
            if !inline.contains_key(policy) && inline.len() >= MAX_INLINE {
                return Err(IamError::LimitExceeded(format!("Cannot exceed quota for inline policies: {MAX_INLINE}")));
            }
            inline.insert(policy.to_string(), document);
            Ok((vec![holder.save()], ()))
        })
        .await
    }

    /// The document of an inline policy, as it was put.
    pub fn get_inline(&self, kind: HolderKind, account: &str, name: &str, policy: &str) -> IamResult<String> {
        self.read(|s| s.holder(kind, account, name)?.inline().get(policy).cloned().ok_or_else(|| missing(kind, policy)))
    }

    pub async fn delete_inline(&self, kind: HolderKind, account: &str, name: &str, policy: &str) -> IamResult<()> {
        self.commit(|s| {
            let mut holder = s.holder(kind, account, name)?;
            holder.inline().remove(policy).ok_or_else(|| missing(kind, policy))?;
            Ok((vec![holder.save()], ()))
        })
        .await
    }

    pub fn list_inline(
        &self,
        kind: HolderKind,
        account: &str,
        name: &str,
        marker: Option<&str>,
        max: Option<i64>,
    ) -> IamResult<Page<String>> {
        let names = self.read(|s| Ok(s.holder(kind, account, name)?.inline().keys().cloned().collect::<Vec<_>>()))?;
        let listing = format!("iam-inline-{}/{account}/{}", kind.word(), name.to_lowercase());
        self.page(&listing, names, |n| n.as_str(), marker, max)
    }
}
