//! What the store keeps of the shop's people: staff accounts (argon2id hashes only), their
//! sessions (a hash of each token), failed sign-ins (the throttle counts them, so every
//! instance sees every failure) and the audit log. Both databases implement [`StaffStore`].

use super::StoreError;
use crate::domain::staff::{Email, Role};
use std::time::Duration;
use time::OffsetDateTime;

/// A member of staff as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    pub email: Email,
    pub role: Role,
    /// An argon2id PHC string (`$argon2id$v=19$...`).
    pub password_hash: String,
    pub created_at: OffsetDateTime,
}

/// A live session: who it is, as the staff table says now (a role changed or an account
/// removed takes effect on the next request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSession {
    pub email: Email,
    pub role: Role,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: OffsetDateTime,
    /// The email of who did it, or `cli` for the command line.
    pub actor: String,
    /// [`crate::domain::staff::AuditAction::as_str`].
    pub action: String,
    /// What it was done to: a payment, an event, an account.
    pub subject: Option<String>,
    /// The client IP as `security.md` decides it; none from the command line.
    pub ip: Option<String>,
}

/// An audit line as read back, with its place in the log (the list's cursor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub entry: AuditEntry,
}

/// How an audit line is written, by both stores (alone or in a larger transaction).
pub(crate) const INSERT_AUDIT_SQLITE: &str =
    "INSERT INTO audit_log (at, actor, action, subject, ip) VALUES (?1, ?2, ?3, ?4, ?5)";
pub(crate) const INSERT_AUDIT_POSTGRES: &str =
    "INSERT INTO audit_log (at, actor, action, subject, ip) VALUES ($1, $2, $3, $4, $5)";

/// What the throttle answered a sign-in attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInSlot {
    /// Counted (as a failure until forgiven): the password may be checked.
    Counted,
    /// A subject is at its limit until `until`, when the failure that keeps it there leaves
    /// the window. `first`: the first refusal of that subject in the window (the audit log
    /// records that one, not each of a flood).
    Refused { until: OffsetDateTime, first: bool },
}

/// The subject a throttled subject's first refusal is noted under (same table, same window).
pub(crate) fn refusal_note(subject: &str) -> String {
    format!("refused:{subject}")
}

pub trait StaffStore: Send + Sync + 'static {
    /// Adds an account; `false` when the email has one already (nothing changed).
    fn add_staff(&self, member: &StaffMember) -> Result<bool, StoreError>;
    /// Every account, by email.
    fn list_staff(&self) -> Result<Vec<StaffMember>, StoreError>;
    fn staff_member(&self, email: &Email) -> Result<Option<StaffMember>, StoreError>;
    /// Removes an account and ends its sessions; `false`: no such account.
    fn remove_staff(&self, email: &Email) -> Result<bool, StoreError>;
    /// Sets a new password hash and ends every session of the account; `false`: no such one.
    fn set_password_hash(&self, email: &Email, hash: &str) -> Result<bool, StoreError>;
    /// Starts a session for `token_hash`.
    fn create_session(
        &self,
        token_hash: &str,
        email: &Email,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// The session of `token_hash` if it was used within `idle` (an older one is deleted).
    /// Its last use is moved to `now` when it is older than `touch_after`, so a page's polls
    /// do not each write.
    fn session(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
        idle: Duration,
        touch_after: Duration,
    ) -> Result<Option<StaffSession>, StoreError>;
    /// Ends a session (sign out). Ending one that is not there is fine.
    fn end_session(&self, token_hash: &str) -> Result<(), StoreError>;
    /// Counts a sign-in attempt as a failure against each `(subject, limit)` (`email:…`,
    /// `ip:…`) unless one of them already has `limit` failures since `at - window`: in one
    /// step, so that guesses sent in parallel cannot all pass a count taken before any was
    /// recorded. A right password takes its count back with [`StaffStore::forgive_sign_in`].
    /// Failures older than the window are forgotten.
    ///
    /// A subject's first refusal in the window is noted ([`refusal_note`]) and `refusal` is
    /// appended to the audit log in the same transaction: were they two, a failure between
    /// them would leave the note without its row, and the throttle silent in the audit log
    /// for the rest of the window (later refusals are not `first`).
    fn take_sign_in_slot(
        &self,
        subjects: &[(&str, u32)],
        at: OffsetDateTime,
        window: Duration,
        refusal: &AuditEntry,
    ) -> Result<SignInSlot, StoreError>;
    /// Takes back the failure [`StaffStore::take_sign_in_slot`] counted at `at` for each of
    /// `subjects`.
    fn forgive_sign_in(&self, subjects: &[&str], at: OffsetDateTime) -> Result<(), StoreError>;
    fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;
    /// The audit log newest first, `limit` lines before `before_seq` (from the newest when
    /// none).
    fn audit_log(
        &self,
        before_seq: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError>;
}

pub(crate) fn role_from_db(word: &str) -> Result<Role, StoreError> {
    Role::parse(word).ok_or_else(|| StoreError::Corrupt(format!("unknown role {word:?}")))
}
