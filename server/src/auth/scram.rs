//! The server's side of SCRAM-SHA-256 (RFC 5802, RFC 7677), as PostgreSQL runs it: a role's
//! secret is kept as StoredKey and ServerKey, which check a client's proof without being
//! able to make one. Channel binding (SCRAM-SHA-256-PLUS) is not offered.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use cairn_storage::ScramSecret;
use ring::digest::{digest, SHA256};
use ring::hmac;

use super::secrets::{random_bytes, RandomFailed};

/// Why an exchange failed. The client is told only that authentication failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ScramError {
    /// A message did not follow RFC 5802.
    #[error("malformed SCRAM message: {0}")]
    Malformed(&'static str),
    /// The proof did not match: a wrong password.
    #[error("wrong password")]
    WrongProof,
    /// The stored secret could not be decoded.
    #[error("the stored secret is damaged")]
    Damaged,
    /// No randomness for the server's nonce.
    #[error("{0}")]
    Random(#[from] RandomFailed),
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data).as_ref().to_vec()
}

/// The secret of a password: StoredKey and ServerKey, from its salted form (RFC 5802's
/// SaltedPassword, `Hi(password, salt, iterations)`).
pub(crate) fn keys_from_salted(salted: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let client_key = hmac_sha256(salted, b"Client Key");
    let stored_key = digest(&SHA256, &client_key).as_ref().to_vec();
    (stored_key, hmac_sha256(salted, b"Server Key"))
}

/// An exchange waiting for the client's proof.
#[derive(Debug)]
pub(crate) struct Challenge {
    stored_key: Vec<u8>,
    server_key: Vec<u8>,
    /// `client-first-message-bare` + "," + `server-first-message`.
    auth_prefix: String,
    /// The GS2 header the client sent, which it must echo (base64) in `c=`.
    gs2_header: String,
    /// The combined nonce.
    nonce: String,
}

/// Answers the client's first message with the server's, for a role with `secret`.
pub(crate) fn server_first(secret: &ScramSecret, client_first: &[u8]) -> Result<(String, Challenge), ScramError> {
    let text = std::str::from_utf8(client_first).map_err(|_| ScramError::Malformed("not UTF-8"))?;
    // gs2-header: cbind-flag "," [authzid] ","; then client-first-message-bare.
    let mut parts = text.splitn(3, ',');
    let (flag, authzid, bare) = (parts.next(), parts.next(), parts.next());
    let (Some(flag), Some(authzid), Some(bare)) = (flag, authzid, bare) else {
        return Err(ScramError::Malformed("no GS2 header"));
    };
    if flag != "n" && flag != "y" {
        return Err(ScramError::Malformed("channel binding is not offered"));
    }
    let client_nonce = attribute(bare, 'r').ok_or(ScramError::Malformed("no client nonce"))?;
    let stored_key = STANDARD.decode(&secret.stored_key).map_err(|_| ScramError::Damaged)?;
    let server_key = STANDARD.decode(&secret.server_key).map_err(|_| ScramError::Damaged)?;
    let nonce = format!("{client_nonce}{}", STANDARD.encode(random_bytes::<18>()?));
    let server_first = format!("r={nonce},s={},i={}", secret.salt, secret.iterations);
    let challenge = Challenge {
        stored_key,
        server_key,
        auth_prefix: format!("{bare},{server_first}"),
        gs2_header: format!("{flag},{authzid},"),
        nonce,
    };
    Ok((server_first, challenge))
}

impl Challenge {
    /// Checks the client's final message; returns the server's (its signature) when the
    /// proof is right.
    pub(crate) fn verify(&self, client_final: &[u8]) -> Result<String, ScramError> {
        let text = std::str::from_utf8(client_final).map_err(|_| ScramError::Malformed("not UTF-8"))?;
        let (without_proof, proof) = text.rsplit_once(",p=").ok_or(ScramError::Malformed("no proof"))?;
        if attribute(without_proof, 'c') != Some(STANDARD.encode(&self.gs2_header).as_str()) {
            return Err(ScramError::Malformed("channel binding data differs from the GS2 header"));
        }
        if attribute(without_proof, 'r') != Some(self.nonce.as_str()) {
            return Err(ScramError::Malformed("nonce differs"));
        }
        let proof = STANDARD.decode(proof).map_err(|_| ScramError::Malformed("proof is not base64"))?;
        let auth_message = format!("{},{without_proof}", self.auth_prefix);
        let signature = hmac_sha256(&self.stored_key, auth_message.as_bytes());
        if proof.len() != signature.len() {
            return Err(ScramError::WrongProof);
        }
        let client_key: Vec<u8> = proof.iter().zip(&signature).map(|(p, s)| p ^ s).collect();
        let computed = digest(&SHA256, &client_key);
        // Compared in constant time: every byte is looked at whatever the first difference.
        let differs = computed.as_ref().iter().zip(&self.stored_key).fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if differs != 0 || self.stored_key.len() != computed.as_ref().len() {
            return Err(ScramError::WrongProof);
        }
        Ok(format!("v={}", STANDARD.encode(hmac_sha256(&self.server_key, auth_message.as_bytes()))))
    }
}

/// The value of attribute `name` (`name=value`) in a comma-separated SCRAM message.
fn attribute(message: &str, name: char) -> Option<&str> {
    message.split(',').find_map(|a| a.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::secrets::scram_secret;
    use datafusion_postgres::pgwire::api::auth::sasl::scram::gen_salted_password;

    /// The client's side, as RFC 5802 computes it.
    fn client_final(password: &str, secret: &ScramSecret, client_first_bare: &str, server_first: &str) -> String {
        let salt = STANDARD.decode(&secret.salt).unwrap();
        let salted = gen_salted_password(password, &salt, secret.iterations as usize);
        let client_key = hmac_sha256(&salted, b"Client Key");
        let stored_key = digest(&SHA256, &client_key);
        let nonce = attribute(server_first, 'r').unwrap();
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
        let signature = hmac_sha256(stored_key.as_ref(), auth_message.as_bytes());
        let proof: Vec<u8> = client_key.iter().zip(&signature).map(|(k, s)| k ^ s).collect();
        format!("{without_proof},p={}", STANDARD.encode(proof))
    }

    #[test]
    fn the_right_password_proves_itself_and_a_wrong_one_does_not() {
        let secret = scram_secret("correct horse").unwrap();
        let bare = "n=,r=clientnonce123";
        for (password, ok) in [("correct horse", true), ("wrong", false)] {
            let (first, challenge) = server_first(&secret, format!("n,,{bare}").as_bytes()).unwrap();
            let reply = client_final(password, &secret, bare, &first);
            assert_eq!(challenge.verify(reply.as_bytes()).is_ok(), ok, "{password}");
        }
        let (first, challenge) = server_first(&secret, format!("n,,{bare}").as_bytes()).unwrap();
        let tampered = client_final("correct horse", &secret, bare, &first).replace("r=clientnonce123", "r=other");
        assert!(challenge.verify(tampered.as_bytes()).is_err());
        assert!(server_first(&secret, b"p=tls-server-end-point,,n=,r=x").is_err());
    }
}
