//! The shop's people as a service (beside `payments/`, called by the admin pages and the
//! `staff`/`audit` commands): accounts with argon2id password hashes, signing in under the
//! throttle, sessions, signing out, and the audit log. It answers in [`StaffError`] and
//! [`SignInError`], never in HTTP. Hashing runs on the blocking pool; the store's staff part
//! ([`crate::store::staff::StaffStore`]) is async and awaited directly.

use crate::domain::staff::{
    AccountInvalid, AuditAction, Email, Password, Role, SessionToken, THROTTLE,
};
use crate::metrics::Metrics;
use crate::store::staff::{
    AuditEntry, AuditRecord, SignInSlot, StaffMember, StaffSession, StaffStore,
};
use crate::store::{PaymentStore, StoreError};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Semaphore;

/// A session's last use is written at most this often (each page and poll reads it).
const TOUCH_AFTER: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("{0}")]
    Invalid(#[from] AccountInvalid),
    #[error("{0} already has an account")]
    Exists(Email),
    #[error("no account for {0}")]
    NoSuchStaff(Email),
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error("the store: {0}")]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

/// Why a sign-in failed. A wrong email and a wrong password are one answer.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("wrong email or password")]
    Wrong,
    /// Too many failures for this email or address: refused until the window has passed.
    #[error("too many failed sign-ins; try again in {} minutes", .0.as_secs().div_ceil(60))]
    Throttled(Duration),
    #[error(transparent)]
    Staff(#[from] StaffError),
}

/// Who signed in.
#[derive(Debug)]
pub struct SignedIn {
    pub token: SessionToken,
    pub email: Email,
    pub role: Role,
}

pub struct Staff {
    store: Arc<dyn PaymentStore>,
    idle: Duration,
    metrics: Arc<Metrics>,
    /// Password checks running at once (one per core of a small machine).
    verifying: Semaphore,
}

impl Staff {
    /// Store errors are counted in `metrics`.
    pub fn new(store: Arc<dyn PaymentStore>, idle: Duration, metrics: Arc<Metrics>) -> Staff {
        Staff {
            store,
            idle,
            metrics,
            verifying: Semaphore::new(2),
        }
    }

    /// The store's staff part.
    fn people(&self) -> &dyn StaffStore {
        self.store.staff()
    }

    /// A store call's answer; its error counted in the metrics.
    async fn in_store<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StaffError> {
        call.await
            .inspect_err(|e| self.metrics.store_error(e))
            .map_err(StaffError::Store)
    }

    /// Appends `actor` doing `action` now to the audit log.
    async fn audit(
        &self,
        actor: &str,
        action: AuditAction,
        subject: Option<String>,
        ip: Option<IpAddr>,
    ) -> Result<(), StaffError> {
        let line = entry(actor, action, subject, ip);
        self.in_store(self.people().append_audit(&line)).await
    }

    /// Adds an account (the CLI's `staff add`).
    pub async fn add(
        &self,
        email: Email,
        role: Role,
        password: Password,
    ) -> Result<(), StaffError> {
        let hash = hash(password).await?;
        let member = StaffMember {
            email: email.clone(),
            role,
            password_hash: hash,
            created_at: OffsetDateTime::now_utc(),
        };
        if !self.in_store(self.people().add_staff(&member)).await? {
            return Err(StaffError::Exists(email));
        }
        self.audit(
            "cli",
            AuditAction::StaffAdded,
            Some(email.to_string()),
            None,
        )
        .await
    }

    pub async fn list(&self) -> Result<Vec<StaffMember>, StaffError> {
        self.in_store(self.people().list_staff()).await
    }

    /// Removes an account; its sessions end with it.
    pub async fn remove(&self, email: Email) -> Result<(), StaffError> {
        if !self.in_store(self.people().remove_staff(&email)).await? {
            return Err(StaffError::NoSuchStaff(email));
        }
        self.audit(
            "cli",
            AuditAction::StaffRemoved,
            Some(email.to_string()),
            None,
        )
        .await
    }

    /// A new password; every session of the account ends (a leaked one stops working).
    pub async fn set_password(&self, email: Email, password: Password) -> Result<(), StaffError> {
        let hash = hash(password).await?;
        if !self
            .in_store(self.people().set_password_hash(&email, &hash))
            .await?
        {
            return Err(StaffError::NoSuchStaff(email));
        }
        self.audit(
            "cli",
            AuditAction::PasswordSet,
            Some(email.to_string()),
            None,
        )
        .await
    }

    /// Signs in with what was typed, from `ip` (limited as `limited_as`, its IPv6 /64),
    /// under the throttle: refused for an email or address with too many recent failures
    /// even with the right password. The attempt is counted before the password is checked
    /// and taken back when it was right, so guesses sent at once are counted as they arrive.
    pub async fn sign_in(
        &self,
        email_typed: &str,
        password_typed: &str,
        ip: IpAddr,
        limited_as: IpAddr,
    ) -> Result<SignedIn, SignInError> {
        let now = OffsetDateTime::now_utc();
        // Unparseable emails are counted too (as typed, tidied): they cost a hash.
        let email = Email::parse(email_typed).ok();
        let actor = email
            .as_ref()
            .map_or_else(|| as_typed(email_typed), |e| e.to_string());
        let email_subject = format!("email:{actor}");
        let ip_subject = format!("ip:{limited_as}");
        // Written by the store with the throttle's note of a first refusal, in its
        // transaction (a flood of refusals is one line, and never none).
        let refusal = entry(&actor, AuditAction::SignInThrottled, None, Some(ip));
        let slot = self
            .in_store(self.people().take_sign_in_slot(
                &[
                    (&email_subject, THROTTLE.per_email),
                    (&ip_subject, THROTTLE.per_ip),
                ],
                now,
                THROTTLE.window,
                &refusal,
            ))
            .await?;
        if let SignInSlot::Refused { until, .. } = slot {
            let wait = (until - now).try_into().unwrap_or(Duration::ZERO);
            return Err(SignInError::Throttled(wait.max(Duration::from_secs(1))));
        }
        let member = match &email {
            Some(email) => self.in_store(self.people().staff_member(email)).await?,
            None => None,
        };
        let typed = Password::typed(password_typed);
        let stored = member.as_ref().map(|m| m.password_hash.clone());
        let matches = {
            // Each check holds 19 MiB for tens of milliseconds: a burst waits its turn
            // rather than taking the machine's memory and cores.
            let _turn = self
                .verifying
                .acquire()
                .await
                .map_err(|e| StaffError::Internal(e.to_string()))?;
            verify(typed, stored).await?
        };
        match (member, matches) {
            (Some(member), true) => {
                let token = SessionToken::new();
                self.in_store(
                    self.people()
                        .forgive_sign_in(&[&email_subject, &ip_subject], now),
                )
                .await?;
                self.in_store(
                    self.people()
                        .create_session(&token.hash(), &member.email, now),
                )
                .await?;
                self.audit(member.email.as_str(), AuditAction::SignIn, None, Some(ip))
                    .await?;
                Ok(SignedIn {
                    token,
                    email: member.email,
                    role: member.role,
                })
            }
            _ => {
                self.audit(&actor, AuditAction::SignInFailed, None, Some(ip))
                    .await?;
                Err(SignInError::Wrong)
            }
        }
    }

    /// The session a cookie names, if it is live.
    pub async fn session(&self, token: SessionToken) -> Result<Option<StaffSession>, StaffError> {
        let now = OffsetDateTime::now_utc();
        self.in_store(
            self.people()
                .session(&token.hash(), now, self.idle, TOUCH_AFTER),
        )
        .await
    }

    /// Ends the session on the server: the same cookie is refused from now on.
    pub async fn sign_out(
        &self,
        token: SessionToken,
        who: Email,
        ip: IpAddr,
    ) -> Result<(), StaffError> {
        self.in_store(self.people().end_session(&token.hash()))
            .await?;
        self.audit(who.as_str(), AuditAction::SignOut, None, Some(ip))
            .await
    }

    /// Records what a signed-in person did.
    pub async fn record(
        &self,
        who: &Email,
        action: AuditAction,
        subject: Option<String>,
        ip: IpAddr,
    ) -> Result<(), StaffError> {
        self.audit(who.as_str(), action, subject, Some(ip)).await
    }

    /// The audit log newest first: `limit` lines before `before_seq`.
    pub async fn audit_log(
        &self,
        before_seq: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StaffError> {
        self.in_store(self.people().audit_log(before_seq, limit))
            .await
    }
}

/// What was typed in the email field as the audit log and the throttle keep it: trimmed,
/// lowercased, without control characters, at most an email's 254 characters.
fn as_typed(text: &str) -> String {
    text.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(254)
        .collect::<String>()
        .to_lowercase()
}

/// An audit line for `actor` doing `action` now.
fn entry(
    actor: &str,
    action: AuditAction,
    subject: Option<String>,
    ip: Option<IpAddr>,
) -> AuditEntry {
    AuditEntry {
        at: OffsetDateTime::now_utc(),
        actor: actor.to_owned(),
        action: action.as_str().to_owned(),
        subject,
        ip: ip.map(|ip| ip.to_string()),
    }
}

/// argon2id with the crate's defaults (OWASP's: 19 MiB, 2 passes, 1 lane) and a random salt.
async fn hash(password: Password) -> Result<String, StaffError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| StaffError::Hash(e.to_string()))
    })
    .await
    .map_err(|e| StaffError::Internal(e.to_string()))?
}

/// Whether `typed` is the password `stored` hashes. With no account (or nothing typed) a
/// hash is still checked, so that a wrong email takes as long as a wrong password.
async fn verify(typed: Option<Password>, stored: Option<String>) -> Result<bool, StaffError> {
    tokio::task::spawn_blocking(move || {
        let decoy = decoy_hash();
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| decoy.to_owned());
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return Err(StaffError::Store(StoreError::Corrupt(
                "a password hash is not a PHC string".into(),
            )));
        };
        let typed = typed.as_ref().map_or("", |p| p.expose());
        let matches = Argon2::default()
            .verify_password(typed.as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await
    .map_err(|e| StaffError::Internal(e.to_string()))?
}

/// A hash of a random password nobody knows, made once per process.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        let secret = SessionToken::new();
        Argon2::default()
            .hash_password(secret.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            // Unreachable with the default parameters; a fixed well-formed hash keeps the
            // timing equal all the same.
            .unwrap_or_else(|_| {
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$8JJkk0ZzqB3dOQ8aJvQpTQ6T0K2mJXo0Xcz0Q9q7Hk4".into()
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    fn service() -> Staff {
        let store: Arc<dyn PaymentStore> = Arc::new(SqliteStore::in_memory().expect("store"));
        Staff::new(
            store,
            Duration::from_secs(3600),
            Arc::new(crate::metrics::Metrics::new("test")),
        )
    }

    fn email(text: &str) -> Email {
        Email::parse(text).expect("email")
    }

    #[tokio::test]
    async fn a_right_password_signs_in_and_a_wrong_one_or_email_gets_one_answer() {
        let staff = service();
        let ip: IpAddr = "203.0.113.9".parse().expect("ip");
        staff
            .add(
                email("sari@toko.id"),
                Role::Owner,
                Password::new("kata-sandi-panjang").expect("pw"),
            )
            .await
            .expect("add");
        let signed = staff
            .sign_in("Sari@Toko.id", "kata-sandi-panjang", ip, ip)
            .await
            .expect("in");
        assert_eq!(signed.role, Role::Owner);
        let session = staff
            .session(SessionToken::from_cookie(signed.token.expose()).expect("t"))
            .await
            .expect("read");
        assert_eq!(session.map(|s| s.email), Some(email("sari@toko.id")));
        let wrong_password = staff
            .sign_in("sari@toko.id", "bukan-sandinya!", ip, ip)
            .await
            .expect_err("wrong");
        let wrong_email = staff
            .sign_in("budi@toko.id", "kata-sandi-panjang", ip, ip)
            .await
            .expect_err("nobody");
        assert_eq!(wrong_password.to_string(), wrong_email.to_string());
        // Hashes only: the stored text is argon2id and not the password.
        let stored = staff.list().await.expect("list");
        assert!(stored[0].password_hash.starts_with("$argon2id$"));
        assert!(!stored[0].password_hash.contains("kata-sandi-panjang"));
    }

    #[tokio::test]
    async fn after_five_failures_the_email_is_refused_even_with_the_right_password() {
        let staff = service();
        staff
            .add(
                email("kasir@toko.id"),
                Role::Cashier,
                Password::new("kasir-sandi-123").expect("pw"),
            )
            .await
            .expect("add");
        for n in 0..5u8 {
            let ip = IpAddr::from([198, 51, 100, n]);
            assert!(matches!(
                staff
                    .sign_in("kasir@toko.id", "salah-salah-salah", ip, ip)
                    .await,
                Err(SignInError::Wrong)
            ));
        }
        let ip = IpAddr::from([198, 51, 100, 99]);
        let sixth = staff
            .sign_in("kasir@toko.id", "kasir-sandi-123", ip, ip)
            .await;
        assert!(matches!(sixth, Err(SignInError::Throttled(_))), "{sixth:?}");
        // Another email from those addresses is not refused.
        staff
            .add(
                email("owner@toko.id"),
                Role::Owner,
                Password::new("owner-sandi-123").expect("pw"),
            )
            .await
            .expect("add");
        assert!(staff
            .sign_in("owner@toko.id", "owner-sandi-123", ip, ip)
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn a_new_password_ends_every_session_and_removal_ends_the_account() {
        let staff = service();
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        staff
            .add(
                email("a@toko.id"),
                Role::Owner,
                Password::new("first-password-1").expect("pw"),
            )
            .await
            .expect("add");
        let signed = staff
            .sign_in("a@toko.id", "first-password-1", ip, ip)
            .await
            .expect("in");
        let cookie = signed.token.expose().to_owned();
        staff
            .set_password(
                email("a@toko.id"),
                Password::new("second-password-2").expect("pw"),
            )
            .await
            .expect("set");
        assert!(staff
            .session(SessionToken::from_cookie(&cookie).expect("t"))
            .await
            .expect("read")
            .is_none());
        assert!(staff
            .sign_in("a@toko.id", "first-password-1", ip, ip)
            .await
            .is_err());
        assert!(staff
            .sign_in("a@toko.id", "second-password-2", ip, ip)
            .await
            .is_ok());
        staff.remove(email("a@toko.id")).await.expect("remove");
        assert!(matches!(
            staff.remove(email("a@toko.id")).await,
            Err(StaffError::NoSuchStaff(_))
        ));
        assert!(matches!(
            staff
                .add(
                    email("b@toko.id"),
                    Role::Owner,
                    Password::new("bbbbbbbbbbbb").expect("pw")
                )
                .await,
            Ok(())
        ));
        assert!(matches!(
            staff
                .add(
                    email("B@toko.id"),
                    Role::Cashier,
                    Password::new("bbbbbbbbbbbb").expect("pw")
                )
                .await,
            Err(StaffError::Exists(_))
        ));
        let log = staff.audit_log(None, 50).await.expect("audit");
        let actions: Vec<&str> = log.iter().map(|r| r.entry.action.as_str()).collect();
        // Newest first.
        assert_eq!(
            actions,
            [
                "staff_added",
                "staff_removed",
                "sign_in",
                "sign_in_failed",
                "password_set",
                "sign_in",
                "staff_added"
            ]
        );
    }
}
