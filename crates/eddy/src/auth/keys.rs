//! Bootstrap credentials: keys given at start (`--bootstrap-key`,
//! `--credentials-file`), each its account's root. They are what a first
//! client signs with in verify mode, before any IAM user or role exists.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapKey {
    pub secret: String,
    pub account: String,
}

/// Access key id → secret and account.
pub type BootstrapKeys = HashMap<String, BootstrapKey>;

/// `KEYID:SECRET[:ACCOUNT]`; without an account, `default_account(key id)`.
pub fn parse_flag(value: &str, default_account: &dyn Fn(&str) -> String) -> anyhow::Result<(String, BootstrapKey)> {
    let parts: Vec<&str> = value.split(':').collect();
    let (id, secret, account) = match parts[..] {
        [id, secret] => (id, secret, default_account(id)),
        [id, secret, account] => (id, secret, account.to_string()),
        _ => bail!("--bootstrap-key takes KEYID:SECRET[:ACCOUNT], not {:?}", redact(value)),
    };
    checked(id, secret, account)
}

/// An AWS shared-credentials file: `[profile]` sections with
/// `aws_access_key_id`, `aws_secret_access_key` and, optionally,
/// `account_id` (or the CLI's `aws_account_id`).
pub fn parse_file(path: &Path, default_account: &dyn Fn(&str) -> String) -> anyhow::Result<BootstrapKeys> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading credentials file {}", path.display()))?;
    parse_ini(&text, default_account).with_context(|| format!("credentials file {}", path.display()))
}

fn parse_ini(text: &str, default_account: &dyn Fn(&str) -> String) -> anyhow::Result<BootstrapKeys> {
    let mut profiles: Vec<(String, HashMap<String, String>)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            profiles.push((name.trim().to_string(), HashMap::new()));
        } else if let Some((key, value)) = line.split_once('=') {
            let Some((_, entries)) = profiles.last_mut() else {
                bail!("line {}: a setting before any [profile]", n + 1)
            };
            entries.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
        } else {
            bail!("line {}: neither [profile] nor key = value", n + 1);
        }
    }
    let mut keys = BootstrapKeys::new();
    for (profile, entries) in profiles {
        let (Some(id), Some(secret)) = (entries.get("aws_access_key_id"), entries.get("aws_secret_access_key")) else {
            continue;
        };
        let account = entries.get("account_id").or_else(|| entries.get("aws_account_id"));
        let account = account.cloned().unwrap_or_else(|| default_account(id));
        let (id, key) = checked(id, secret, account).with_context(|| format!("profile [{profile}]"))?;
        keys.insert(id, key);
    }
    Ok(keys)
}

fn checked(id: &str, secret: &str, account: String) -> anyhow::Result<(String, BootstrapKey)> {
    if id.is_empty() || secret.is_empty() {
        bail!("an access key id and a secret are both required");
    }
    if !eddy_core::arn::is_account_id(&account) {
        bail!("account {account:?} of key {id} is not a 12-digit account id");
    }
    Ok((id.to_string(), BootstrapKey { secret: secret.to_string(), account }))
}

/// A flag value for an error message, its secret hidden.
fn redact(value: &str) -> String {
    match value.split_once(':') {
        Some((id, _)) => format!("{id}:…"),
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default(_: &str) -> String {
        "000000000000".into()
    }

    #[test]
    fn flags() {
        let (id, key) = parse_flag("AKID:s3cret", &default).unwrap();
        assert_eq!((id.as_str(), key.secret.as_str(), key.account.as_str()), ("AKID", "s3cret", "000000000000"));
        let (_, key) = parse_flag("AKID:s/+x:111122223333", &default).unwrap();
        assert_eq!((key.secret.as_str(), key.account.as_str()), ("s/+x", "111122223333"));
        for bad in ["AKID", "AKID:", ":s", "AKID:s:acct", "a:b:111122223333:d"] {
            let err = parse_flag(bad, &default).unwrap_err().to_string();
            assert!(!err.contains("s3cret"), "{err}");
        }
    }

    #[test]
    fn credentials_file() {
        let text = "# comment\n[default]\naws_access_key_id = AKIDONE\naws_secret_access_key=one\n\n\
                    [other]\n; another\naws_access_key_id=AKIDTWO\naws_secret_access_key = two\naccount_id = 111122223333\n\
                    [no-keys]\nregion = eu-west-1\n";
        let keys = parse_ini(text, &default).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys["AKIDONE"], BootstrapKey { secret: "one".into(), account: "000000000000".into() });
        assert_eq!(keys["AKIDTWO"].account, "111122223333");
        assert!(parse_ini("aws_access_key_id = x\n", &default).is_err());
        assert!(parse_ini("[p]\naws_access_key_id=a\naws_secret_access_key=b\naccount_id=12\n", &default).is_err());
    }
}
