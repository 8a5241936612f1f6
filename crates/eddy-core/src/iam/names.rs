//! IAM's identifiers: entity names and paths as the model constrains them,
//! unique ids (`AROA…`, `AIDA…`), access key ids and secrets, and ARNs.
//! IAM is global: its ARNs carry no region.

use rand::Rng;

use super::error::{constraint, IamResult};

/// `[\w+=,.@-]+`: the characters of user, role, group, policy and instance
/// profile names.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// A name of 1..=`max` name characters; `member` is the model's
/// lowerCamelCase member name, for the message.
pub fn check_name(member: &str, name: &str, max: usize) -> IamResult<()> {
    if name.is_empty() {
        return Err(constraint(member, name, "Member must have length greater than or equal to 1"));
    }
    if name.chars().count() > max {
        return Err(constraint(member, name, &format!("Member must have length less than or equal to {max}")));
    }
    if !name.chars().all(is_name_char) {
        return Err(constraint(member, name, "Member must satisfy regular expression pattern: [\\w+=,.@-]+"));
    }
    Ok(())
}

/// A path: `/` or `/…/` of printable ASCII, at most 512 characters. None is `/`.
pub fn check_path(member: &str, path: Option<&str>) -> IamResult<String> {
    let Some(path) = path else { return Ok("/".to_string()) };
    let printable = path.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c));
    let shaped = path == "/" || (path.len() >= 3 && path.starts_with('/') && path.ends_with('/'));
    if path.is_empty() || path.len() > 512 || !printable || !shaped {
        return Err(constraint(
            member,
            path,
            "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
        ));
    }
    Ok(path.to_string())
}

/// A PathPrefix filter of a listing: `/` followed by printable ASCII.
pub fn check_path_prefix(prefix: Option<&str>) -> IamResult<String> {
    let Some(prefix) = prefix else { return Ok("/".to_string()) };
    let printable = prefix.chars().all(|c| ('\u{21}'..='\u{7f}').contains(&c));
    if !prefix.starts_with('/') || prefix.len() > 512 || !printable {
        return Err(constraint(
            "pathPrefix",
            prefix,
            "Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*",
        ));
    }
    Ok(prefix.to_string())
}

const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/// Access key ids use base32's letters and digits, as AWS's do.
const KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn random(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len).map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char).collect()
}

/// Unique ids as AWS shapes them: a four-letter prefix naming the kind
/// (`AIDA` user, `AROA` role, `AGPA` group, `ANPA` policy, `AIPA` instance
/// profile) and 17 letters and digits.
pub fn unique_id(prefix: &str) -> String {
    format!("{prefix}{}", random(ID_ALPHABET, 17))
}

/// A 20-character access key id: `AKIA…` for an IAM user's long-term key,
/// `ASIA…` for STS temporary credentials.
pub fn access_key_id(prefix: &str) -> String {
    format!("{prefix}{}", random(KEY_ALPHABET, 16))
}

/// A 40-character secret access key.
pub fn secret_key() -> String {
    random(SECRET_ALPHABET, 40)
}

/// An opaque session token. AWS's are several hundred base64 characters
/// and their size is not fixed; SDKs pass them through untouched.
pub fn session_token() -> String {
    format!("IQoJb3JpZ2luX2Vj{}", random(SECRET_ALPHABET, 340))
}

/// `arn:aws:iam::{account}:{kind}{path}{name}` (`kind` as `role`, `user`…).
pub fn iam_arn(account: &str, kind: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:{kind}{path}{name}")
}

/// Whether `path` falls under a listing's PathPrefix.
pub fn under(path: &str, prefix: &str) -> bool {
    path.starts_with(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths_follow_the_model() {
        assert!(check_name("roleName", "my-role_1+=,.@", 64).is_ok());
        assert!(check_name("roleName", "", 64).is_err());
        assert!(check_name("roleName", &"r".repeat(65), 64).is_err());
        let e = check_name("roleName", "a/b", 64).unwrap_err();
        assert!(e.to_string().contains("Value 'a/b' at 'roleName'"), "{e}");
        assert_eq!(check_path("path", None).unwrap(), "/");
        assert_eq!(check_path("path", Some("/a/b/")).unwrap(), "/a/b/");
        for bad in ["", "a/", "/a", "//x y/", "/é/"] {
            assert!(check_path("path", Some(bad)).is_err(), "{bad}");
        }
        assert!(check_path_prefix(Some("/a")).is_ok());
        assert!(check_path_prefix(Some("a")).is_err());
    }

    #[test]
    fn ids_keys_and_arns_are_shaped_as_aws_shapes_them() {
        let id = unique_id("AROA");
        assert_eq!(id.len(), 21);
        assert!(id.starts_with("AROA"));
        let key = access_key_id("ASIA");
        assert_eq!(key.len(), 20);
        assert!(key.chars().all(|c| KEY_ALPHABET.contains(&(c as u8))));
        assert_eq!(secret_key().len(), 40);
        assert_eq!(iam_arn("123456789012", "role", "/svc/", "r"), "arn:aws:iam::123456789012:role/svc/r");
    }
}
