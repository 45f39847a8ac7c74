//! The shop's people, with no I/O: who may sign in (an email and a role), what a password
//! must be, the session token a browser holds (the store keeps only its hash), and when
//! sign-ins are refused for a while. `crate::staff` does the hashing and the storing.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// What a member of staff may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything: overview, every payment, export, webhook actions, the audit log.
    Owner,
    /// The counter and today's payments, nothing else.
    Cashier,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Cashier => "cashier",
        }
    }

    /// The word [`Role::as_str`] writes.
    pub fn parse(word: &str) -> Option<Role> {
        match word.trim() {
            "owner" => Some(Role::Owner),
            "cashier" => Some(Role::Cashier),
            _ => None,
        }
    }
}

/// Why an email or password was refused. Messages are shown to whoever typed them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountInvalid {
    #[error("the email {0:?} is not an email address (name@example.com)")]
    Email(String),
    #[error("the password must be at least {MIN_PASSWORD_CHARS} characters")]
    PasswordTooShort,
    #[error("the password must be at most {MAX_PASSWORD_BYTES} bytes")]
    PasswordTooLong,
}

/// Shortest password accepted (dashboard spec).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest: argon2 hashes any length, but nobody needs more and a megabyte costs time.
pub const MAX_PASSWORD_BYTES: usize = 1024;
const MAX_EMAIL: usize = 254;

/// An email as staff are known by: trimmed and lowercased, so `Sari@Toko.id` and
/// `sari@toko.id` are one person.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Email, AccountInvalid> {
        let email = text.trim().to_lowercase();
        let refused = || AccountInvalid::Email(text.trim().chars().take(80).collect());
        let (local, domain) = email.split_once('@').ok_or_else(refused)?;
        let fine = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && email.len() <= MAX_EMAIL
            && email.chars().all(|c| !c.is_whitespace() && !c.is_control());
        if fine {
            Ok(Email(email))
        } else {
            Err(refused())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An email read back from the store (it was parsed on the way in).
    pub fn from_stored(text: String) -> Email {
        Email(text)
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password as typed (the first line of standard input for the CLI): checked for length,
/// never logged (no `Debug` of its text).
pub struct Password(String);

impl Password {
    pub fn new(text: &str) -> Result<Password, AccountInvalid> {
        let text = text.trim_end_matches(['\r', '\n']);
        if text.len() > MAX_PASSWORD_BYTES {
            return Err(AccountInvalid::PasswordTooLong);
        }
        if text.chars().count() < MIN_PASSWORD_CHARS {
            return Err(AccountInvalid::PasswordTooShort);
        }
        Ok(Password(text.to_owned()))
    }

    /// What was typed at sign-in: any length up to the maximum (a short one simply fails).
    pub fn typed(text: &str) -> Option<Password> {
        (text.len() <= MAX_PASSWORD_BYTES).then(|| Password(text.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

/// A session's token as the browser holds it: 32 random bytes (256 bits) in base64url.
pub struct SessionToken(String);

impl SessionToken {
    pub fn new() -> SessionToken {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        SessionToken(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A token from a cookie: only its shape is checked here; the store decides if it is one.
    pub fn from_cookie(text: &str) -> Option<SessionToken> {
        (text.len() == 43
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then(|| SessionToken(text.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the store keeps: SHA-256 of the token, in hex. The token is random, so no salt
    /// or slow hash is needed; a copy of the database does not sign anyone in.
    pub fn hash(&self) -> String {
        hex(&Sha256::digest(self.0.as_bytes()))
    }
}

impl Default for SessionToken {
    fn default() -> Self {
        SessionToken::new()
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(…)")
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// When sign-ins are refused: after [`Throttle::per_email`] failures for one email within
/// [`Throttle::window`], that email is refused (the right password too) until the window
/// has passed since those failures; an address gets [`Throttle::per_ip`].
#[derive(Debug, Clone, Copy)]
pub struct Throttle {
    pub window: Duration,
    pub per_email: u32,
    pub per_ip: u32,
}

/// The dashboard spec's (the store counts against it, `StaffStore::take_sign_in_slot`):
/// 5 failures per email per 15 minutes; an address may fail for 30
/// (a shop's staff share one IP behind its router, and each has their 5).
pub const THROTTLE: Throttle = Throttle {
    window: Duration::from_secs(15 * 60),
    per_email: 5,
    per_ip: 30,
};

/// What an audit entry records as its action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    SignIn,
    SignInFailed,
    SignInThrottled,
    SignOut,
    Resend,
    Check,
    Export,
    StaffAdded,
    StaffRemoved,
    PasswordSet,
    /// A payment link made, deactivated or activated again from the dashboard.
    LinkChange,
    /// A pasted receipt checked (**Cek bukti bayar**): the subject is the payment it belongs
    /// to, or why it is not one of the shop's.
    ReceiptCheck,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::SignIn => "sign_in",
            AuditAction::SignInFailed => "sign_in_failed",
            AuditAction::SignInThrottled => "sign_in_throttled",
            AuditAction::SignOut => "sign_out",
            AuditAction::Resend => "resend",
            AuditAction::Check => "check",
            AuditAction::Export => "export",
            AuditAction::StaffAdded => "staff_added",
            AuditAction::StaffRemoved => "staff_removed",
            AuditAction::PasswordSet => "password_set",
            AuditAction::LinkChange => "link_change",
            AuditAction::ReceiptCheck => "receipt_check",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_one_person_whatever_their_case_and_nonsense_is_refused() {
        assert_eq!(
            Email::parse("  Sari@Toko.ID ").expect("email").as_str(),
            "sari@toko.id"
        );
        for bad in [
            "",
            "sari",
            "@toko.id",
            "sari@",
            "sari@toko",
            "sa ri@toko.id",
            "a@b@c.id",
            "s@.id",
        ] {
            let err = Email::parse(bad).expect_err(bad);
            assert!(err.to_string().contains("not an email"), "{bad}: {err}");
        }
    }

    #[test]
    fn passwords_need_twelve_characters_and_never_show() {
        assert_eq!(
            Password::new("short-pass1").expect_err("11").to_string(),
            "the password must be at least 12 characters"
        );
        // Characters, not bytes: twelve of them in any script.
        assert!(Password::new("kata sandi ok\n").is_ok());
        assert!(Password::new("ééééééééééé").is_err());
        let password = Password::new("correct horse battery").expect("ok");
        assert_eq!(format!("{password:?}"), "Password(…)");
        assert!(Password::new(&"x".repeat(2000)).is_err());
    }

    #[test]
    fn session_tokens_are_random_and_stored_as_a_hash() {
        let a = SessionToken::new();
        let b = SessionToken::new();
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.expose().len(), 43);
        let back = SessionToken::from_cookie(a.expose()).expect("shape");
        assert_eq!(back.hash(), a.hash());
        assert_eq!(a.hash().len(), 64);
        assert!(!a.hash().contains(a.expose()));
        assert!(SessionToken::from_cookie("short").is_none());
        assert!(SessionToken::from_cookie(&"%".repeat(43)).is_none());
    }
}
