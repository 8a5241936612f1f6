//! Signing keys: `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date),
//! region), service), "aws4_request")`. Four HMACs per derivation, so keys
//! are cached per (access key, date, region, service): a request then costs
//! one HMAC of its string to sign.

use std::collections::HashMap;
use std::sync::RwLock;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub type SigningKey = [u8; 32];

pub fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

pub fn derive(secret: &str, date: &str, region: &str, service: &str) -> SigningKey {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// Past this many keys the cache starts over: a day's date change or a
/// flood of distinct keys cannot grow it without bound.
const MAX_KEYS: usize = 4_096;

/// `access key/date/region/service`: one string, so a lookup builds one
/// key rather than four (none of the parts can hold a `/`, as the
/// credential is split on it).
type CacheKey = String;

/// Derived keys by (access key, date, region, service). Each entry keeps the
/// secret it was derived from, so a key id whose secret changed (a bootstrap
/// key redefined, an id reused) is derived again rather than trusted.
#[derive(Default)]
pub struct KeyCache {
    keys: RwLock<HashMap<CacheKey, (String, SigningKey)>>,
}

impl KeyCache {
    pub fn new() -> KeyCache {
        KeyCache::default()
    }

    pub fn get(&self, access_key: &str, secret: &str, date: &str, region: &str, service: &str) -> SigningKey {
        let mut id = String::with_capacity(access_key.len() + date.len() + region.len() + service.len() + 3);
        for (i, part) in [access_key, date, region, service].into_iter().enumerate() {
            if i > 0 {
                id.push('/');
            }
            id.push_str(part);
        }
        let cached = self.keys.read().expect("key cache lock").get(&id).filter(|(s, _)| s == secret).map(|(_, k)| *k);
        if let Some(key) = cached {
            return key;
        }
        let key = derive(secret, date, region, service);
        let mut keys = self.keys.write().expect("key cache lock");
        if keys.len() >= MAX_KEYS {
            keys.clear();
        }
        keys.insert(id, (secret.to_string(), key));
        key
    }

    pub fn len(&self) -> usize {
        self.keys.read().expect("key cache lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_matches_published_vectors() {
        // IAM User Guide's example key (wJalr…/20150830/us-east-1/iam).
        let key = derive("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam");
        assert_eq!(hex::encode(key), "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
        // The wire-protocol notes' vector.
        assert_eq!(
            hex::encode(derive("test", "20240101", "us-east-1", "sqs")),
            "3fe67330913bafa525e4807aa621808c137eb5395baeaae95babc2ec7af81741"
        );
    }

    #[test]
    fn cache_rederives_when_the_secret_changes() {
        let cache = KeyCache::new();
        let a = cache.get("AKID", "one", "20240101", "us-east-1", "sqs");
        assert_eq!(cache.get("AKID", "one", "20240101", "us-east-1", "sqs"), a);
        assert_eq!(cache.len(), 1);
        let b = cache.get("AKID", "two", "20240101", "us-east-1", "sqs");
        assert_ne!(a, b);
        assert_eq!(b, derive("two", "20240101", "us-east-1", "sqs"));
        assert_eq!(cache.len(), 1);
    }
}
