//! The one-time token in a payment link's form. The page (`GET /l/{id}`) must write
//! nothing — chat apps fetch links for their previews — so the token is not stored: it is a
//! random nonce, the link's id and the time it was issued, MACed (HMAC-SHA256) with a secret
//! every instance shares (kept in the store). The Pay press (`POST`) checks the MAC and the
//! age, and the nonce becomes the create's idempotency key: a reload or a double click of one
//! form makes one payment, and a token is good for its own link only.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::Sha256;
use std::time::Duration;
use time::OffsetDateTime;

/// How long a page's form may be pressed after it was shown.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// A token issued this far "in the future" is still fine (instances' clocks differ a little).
const CLOCK_SKEW: i64 = 60;
const NONCE_BYTES: usize = 16;
const MAC_BYTES: usize = 32;
const TOKEN_BYTES: usize = NONCE_BYTES + 8 + MAC_BYTES;
/// What the MAC covers first: a token of this kind, this version, and nothing else signed
/// with the same secret.
const DOMAIN: &[u8] = b"paydigital link form v1\0";

/// The shared secret (32 random bytes in base64url, as the store keeps it), as a MAC ready
/// to be cloned for each token.
#[derive(Clone)]
pub struct FormSecret(Hmac<Sha256>);

impl std::fmt::Debug for FormSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FormSecret(…)")
    }
}

impl FormSecret {
    /// A new random secret, as the store keeps it.
    pub fn generate() -> String {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The secret the store kept; `None` when it is not one [`FormSecret::generate`] made.
    pub fn from_stored(text: &str) -> Option<FormSecret> {
        URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .filter(|b| b.len() == 32)
            .and_then(|b| <Hmac<Sha256> as Mac>::new_from_slice(&b).ok())
            .map(FormSecret)
    }

    fn mac(&self, link_id: &str, nonce: &[u8], issued: i64) -> Hmac<Sha256> {
        let mut mac = self.0.clone();
        mac.update(DOMAIN);
        mac.update(link_id.as_bytes());
        mac.update(b"\0");
        mac.update(nonce);
        mac.update(&issued.to_be_bytes());
        mac
    }

    /// A token for one press of `link_id`'s form, issued `now`.
    pub fn issue(&self, link_id: &str, now: OffsetDateTime) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        OsRng.fill_bytes(&mut nonce);
        let issued = now.unix_timestamp();
        let tag = self.mac(link_id, &nonce, issued).finalize().into_bytes();
        let mut bytes = Vec::with_capacity(TOKEN_BYTES);
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&issued.to_be_bytes());
        bytes.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The token's nonce (base64url) if it is one this secret issued for `link_id`, within
    /// its lifetime at `now`.
    pub fn check(
        &self,
        token: &str,
        link_id: &str,
        now: OffsetDateTime,
    ) -> Result<String, BadToken> {
        let bytes = URL_SAFE_NO_PAD
            .decode(token.trim())
            .map_err(|_| BadToken::Malformed)?;
        if bytes.len() != TOKEN_BYTES {
            return Err(BadToken::Malformed);
        }
        let (nonce, rest) = bytes.split_at(NONCE_BYTES);
        let (issued, tag) = rest.split_at(8);
        let issued = i64::from_be_bytes(issued.try_into().map_err(|_| BadToken::Malformed)?);
        self.mac(link_id, nonce, issued)
            .verify_slice(tag)
            .map_err(|_| BadToken::Forged)?;
        let age = now.unix_timestamp().saturating_sub(issued);
        let lifetime = i64::try_from(TOKEN_LIFETIME.as_secs()).unwrap_or(i64::MAX);
        if age > lifetime || age < -CLOCK_SKEW {
            return Err(BadToken::Stale);
        }
        Ok(URL_SAFE_NO_PAD.encode(nonce))
    }
}

/// Why a form's token was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BadToken {
    #[error("the form's token is missing or malformed")]
    Malformed,
    /// Not issued by this shop for this link (another link's, or made up).
    #[error("the form's token is not this link's")]
    Forged,
    #[error("the form is too old; open the link again")]
    Stale,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-02 10:00:00 UTC);

    fn secret() -> FormSecret {
        FormSecret::from_stored(&FormSecret::generate()).expect("a generated secret reads back")
    }

    #[test]
    fn a_token_is_good_for_its_link_for_an_hour() {
        let s = secret();
        let token = s.issue("plink_a", NOW);
        let nonce = s.check(&token, "plink_a", NOW).expect("fresh");
        assert_eq!(nonce.len(), 22);
        assert_eq!(
            s.check(&token, "plink_a", NOW + time::Duration::hours(1)),
            Ok(nonce.clone()),
            "the same form, pressed again, gives the same nonce (one payment)"
        );
        assert_eq!(
            s.check(&token, "plink_a", NOW + time::Duration::seconds(3601)),
            Err(BadToken::Stale)
        );
        assert_eq!(
            s.check(&token, "plink_a", NOW - time::Duration::seconds(61)),
            Err(BadToken::Stale)
        );
        assert_ne!(
            s.issue("plink_a", NOW),
            token,
            "each page view its own nonce"
        );
    }

    #[test]
    fn another_links_token_a_forged_one_and_junk_are_refused() {
        let s = secret();
        let token = s.issue("plink_a", NOW);
        assert_eq!(s.check(&token, "plink_b", NOW), Err(BadToken::Forged));
        assert_eq!(
            secret().check(&token, "plink_a", NOW),
            Err(BadToken::Forged)
        );
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).expect("base64");
        if let Some(last) = bytes.last_mut() {
            *last ^= 1;
        }
        let tampered = URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(s.check(&tampered, "plink_a", NOW), Err(BadToken::Forged));
        for junk in ["", "abc", "!!!!", &"A".repeat(75)] {
            assert!(s.check(junk, "plink_a", NOW).is_err(), "{junk}");
        }
        assert!(FormSecret::from_stored("short").is_none());
        assert_eq!(format!("{:?}", s), "FormSecret(…)");
    }
}
