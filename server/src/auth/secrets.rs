//! Secrets: SCRAM-SHA-256 password secrets for roles and API keys, made from random bytes
//! and stored only in forms that cannot stand in for them (StoredKey and ServerKey, a
//! SHA-256 hash).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use cairn_storage::ScramSecret;
use datafusion_postgres::pgwire::api::auth::sasl::scram::gen_salted_password;
use ring::digest::{digest, SHA256};
use ring::rand::{SecureRandom, SystemRandom};

/// PBKDF2 iterations for new passwords, PostgreSQL's default.
pub(crate) const ITERATIONS: u32 = 4096;

/// Why a secret could not be made.
#[derive(Debug, thiserror::Error)]
#[error("the system's random number generator failed")]
pub(crate) struct RandomFailed;

/// `N` random bytes from the system's generator.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], RandomFailed> {
    let mut bytes = [0u8; N];
    SystemRandom::new().fill(&mut bytes).map_err(|_| RandomFailed)?;
    Ok(bytes)
}

/// The SCRAM secret of `password`, with a fresh salt: StoredKey and ServerKey, which check a
/// proof of the password but cannot make one.
pub(crate) fn scram_secret(password: &str) -> Result<ScramSecret, RandomFailed> {
    let salt = random_bytes::<16>()?;
    let salted = gen_salted_password(password, &salt, ITERATIONS as usize);
    let (stored_key, server_key) = super::scram::keys_from_salted(&salted);
    Ok(ScramSecret {
        iterations: ITERATIONS,
        salt: STANDARD.encode(salt),
        stored_key: STANDARD.encode(stored_key),
        server_key: STANDARD.encode(server_key),
    })
}

/// A new API key: 48 random characters (URL-safe base64 of 36 bytes).
pub(crate) fn new_api_key() -> Result<String, RandomFailed> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<36>()?))
}

/// The hash an API key is stored and looked up by (SHA-256, hex).
pub(crate) fn key_hash(key: &str) -> String {
    digest(&SHA256, key.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_differ_per_call_and_keys_hash_stably() {
        let (a, b) = (scram_secret("pw").unwrap(), scram_secret("pw").unwrap());
        assert_ne!((&a.salt, &a.stored_key), (&b.salt, &b.stored_key));
        let key = new_api_key().unwrap();
        assert_eq!(key.len(), 48);
        assert_eq!(key_hash(&key), key_hash(&key));
        assert_eq!(key_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
