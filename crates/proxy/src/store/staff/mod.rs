//! What the store keeps of the shop's people: staff accounts (argon2id hashes only), their
//! sessions (a hash of each token), failed sign-ins (the throttle counts them, so every
//! instance sees every failure) and the audit log. [`StaffStore`] is written once, over the
//! store's executor layer (`store/db/`), as [`StaffDb`], which both stores hand out;
//! statements and row decoders are in `sql.rs`; `suite.rs` runs it on both databases.

mod sql;

use super::db::{Db, Tx};
use super::StoreError;
use crate::domain::clock::{after, before};
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

pub(crate) fn role_from_db(word: &str) -> Result<Role, StoreError> {
    Role::parse(word).ok_or_else(|| StoreError::Corrupt(format!("unknown role {word:?}")))
}

/// The store's staff, sessions, sign-in throttle and audit log. Async: the staff service
/// calls it directly, no blocking thread between.
#[async_trait::async_trait]
pub trait StaffStore: Send + Sync + 'static {
    /// Adds an account; `false` when the email has one already (nothing changed).
    async fn add_staff(&self, member: &StaffMember) -> Result<bool, StoreError>;
    /// Every account, by email.
    async fn list_staff(&self) -> Result<Vec<StaffMember>, StoreError>;
    async fn staff_member(&self, email: &Email) -> Result<Option<StaffMember>, StoreError>;
    /// Removes an account and ends its sessions; `false`: no such account.
    async fn remove_staff(&self, email: &Email) -> Result<bool, StoreError>;
    /// Sets a new password hash and ends every session of the account; `false`: no such one.
    async fn set_password_hash(&self, email: &Email, hash: &str) -> Result<bool, StoreError>;
    /// Starts a session for `token_hash`.
    async fn create_session(
        &self,
        token_hash: &str,
        email: &Email,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// The session of `token_hash` if it was used within `idle` (an older one is deleted).
    /// Its last use is moved to `now` when it is older than `touch_after`, so a page's polls
    /// do not each write.
    async fn session(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
        idle: Duration,
        touch_after: Duration,
    ) -> Result<Option<StaffSession>, StoreError>;
    /// Ends a session (sign out). Ending one that is not there is fine.
    async fn end_session(&self, token_hash: &str) -> Result<(), StoreError>;
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
    async fn take_sign_in_slot(
        &self,
        subjects: &[(&str, u32)],
        at: OffsetDateTime,
        window: Duration,
        refusal: &AuditEntry,
    ) -> Result<SignInSlot, StoreError>;
    /// Takes back the failure [`StaffStore::take_sign_in_slot`] counted at `at` for each of
    /// `subjects`.
    async fn forgive_sign_in(
        &self,
        subjects: &[&str],
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;
    /// The audit log newest first, `limit` lines before `before_seq` (from the newest when
    /// none).
    async fn audit_log(
        &self,
        before_seq: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError>;
}

/// The advisory lock sign-ins are counted under on PostgreSQL ("pdsignin" in ASCII).
const SIGN_IN_LOCK: i64 = 0x7064_7369_676e_696e;

/// [`StaffStore`] on either database: each query said once (`sql.rs`).
pub struct StaffDb {
    db: Db,
}

impl StaffDb {
    pub(crate) fn new(db: Db) -> StaffDb {
        StaffDb { db }
    }
}

/// Appends `entry` to the audit log in `tx`: written with the rest of it, or not at all.
pub(crate) async fn append_audit_in(tx: &Tx<'_>, entry: &AuditEntry) -> Result<(), StoreError> {
    tx.execute(&sql::insert_audit(tx.dialect(), entry)?).await?;
    Ok(())
}

/// [`StaffStore::take_sign_in_slot`]'s work, in `tx`.
async fn take_slot_in(
    tx: &Tx<'_>,
    subjects: &[(&str, u32)],
    at: OffsetDateTime,
    window: Duration,
    refusal: &AuditEntry,
) -> Result<SignInSlot, StoreError> {
    let dialect = tx.dialect();
    // Every count, on every instance, takes its turn from here to the commit: two guesses
    // on two proxies cannot both read four failures and both go on (the advisory lock on
    // PostgreSQL; on SQLite the IMMEDIATE transaction already is the only writer).
    if let Some(lock) = dialect.advisory_lock(SIGN_IN_LOCK) {
        tx.execute(&lock).await?;
    }
    let since = before(at, window);
    tx.execute(&sql::delete_failures_until(dialect, since))
        .await?;
    let mut refused: Option<(OffsetDateTime, &str)> = None;
    for (subject, limit) in subjects {
        // The limit-th newest failure: while it is in the window, the subject is at its
        // limit; it leaves first.
        let nth = limit.saturating_sub(1);
        let rows = tx
            .query(&sql::select_nth_newest_failure(
                dialect, subject, since, nth,
            ))
            .await?;
        if let Some(row) = rows.first() {
            let holding = row.time("at", super::db::Unit::Millis)?;
            if refused.is_none_or(|(until, _)| holding > until) {
                refused = Some((holding, subject));
            }
        }
    }
    if let Some((holding, subject)) = refused {
        let note = refusal_note(subject);
        let noted = !tx
            .query(&sql::select_any_failure(dialect, &note, since))
            .await?
            .is_empty();
        if !noted {
            tx.execute(&sql::insert_failure(dialect, &note, at)?)
                .await?;
            append_audit_in(tx, refusal).await?;
        }
        return Ok(SignInSlot::Refused {
            until: after(holding, window),
            first: !noted,
        });
    }
    for (subject, _) in subjects {
        tx.execute(&sql::insert_failure(dialect, subject, at)?)
            .await?;
    }
    Ok(SignInSlot::Counted)
}

#[async_trait::async_trait]
impl StaffStore for StaffDb {
    async fn add_staff(&self, m: &StaffMember) -> Result<bool, StoreError> {
        let insert = sql::insert_member(self.db.dialect(), m)?;
        Ok(self.db.execute(&insert).await? == 1)
    }

    async fn list_staff(&self) -> Result<Vec<StaffMember>, StoreError> {
        let rows = self.db.query(&sql::select_members()).await?;
        let mut members = rows
            .iter()
            .map(sql::member)
            .collect::<Result<Vec<_>, _>>()?;
        // Sorted here, by the email's bytes (SQLite's `ORDER BY` on text): PostgreSQL's
        // `ORDER BY` follows the database's collation, which may rank `a.b@` and `ab@`
        // otherwise, so the two would list the same accounts in different orders.
        members.sort_by(|a, b| a.email.cmp(&b.email));
        Ok(members)
    }

    async fn staff_member(&self, email: &Email) -> Result<Option<StaffMember>, StoreError> {
        let rows = self
            .db
            .query_fixed(&sql::MEMBER_BY_EMAIL, vec![email.as_str().into()])
            .await?;
        rows.first().map(sql::member).transpose()
    }

    async fn remove_staff(&self, email: &Email) -> Result<bool, StoreError> {
        // The sessions are deleted here, on both databases: only PostgreSQL's schema has
        // `ON DELETE CASCADE` (SQLite's has no foreign key at all), and the frozen schemas
        // stay as they are.
        let tx = self.db.begin().await?;
        tx.execute(&sql::delete_sessions_of(email)).await?;
        let removed = tx.execute(&sql::delete_member(email)).await? == 1;
        tx.commit().await?;
        Ok(removed)
    }

    async fn set_password_hash(&self, email: &Email, hash: &str) -> Result<bool, StoreError> {
        let tx = self.db.begin().await?;
        let changed = tx.execute(&sql::set_password_hash(email, hash)).await? == 1;
        tx.execute(&sql::delete_sessions_of(email)).await?;
        tx.commit().await?;
        Ok(changed)
    }

    async fn create_session(
        &self,
        token_hash: &str,
        email: &Email,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let insert = sql::insert_session(self.db.dialect(), token_hash, email, now)?;
        self.db.execute(&insert).await?;
        Ok(())
    }

    async fn session(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
        idle: Duration,
        touch_after: Duration,
    ) -> Result<Option<StaffSession>, StoreError> {
        let rows = self
            .db
            .query_fixed(&sql::SESSION_BY_TOKEN, vec![token_hash.into()])
            .await?;
        let Some(mut session) = rows.first().map(sql::session).transpose()? else {
            return Ok(None);
        };
        if session.last_seen_at <= before(now, idle) {
            self.db.execute(&sql::delete_session(token_hash)).await?;
            return Ok(None);
        }
        if session.last_seen_at <= before(now, touch_after) {
            let touch = sql::touch_session(self.db.dialect(), token_hash, now);
            self.db.execute(&touch).await?;
            session.last_seen_at = now;
        }
        Ok(Some(session))
    }

    async fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.db.execute(&sql::delete_session(token_hash)).await?;
        Ok(())
    }

    async fn take_sign_in_slot(
        &self,
        subjects: &[(&str, u32)],
        at: OffsetDateTime,
        window: Duration,
        refusal: &AuditEntry,
    ) -> Result<SignInSlot, StoreError> {
        let tx = self.db.begin().await?;
        // Refused or counted, what was done is committed; an error drops `tx`, which rolls
        // back (a note without its audit line is never kept).
        let slot = take_slot_in(&tx, subjects, at, window, refusal).await?;
        tx.commit().await?;
        Ok(slot)
    }

    async fn forgive_sign_in(
        &self,
        subjects: &[&str],
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let tx = self.db.begin().await?;
        for subject in subjects {
            tx.execute(&sql::delete_one_failure(tx.dialect(), subject, at))
                .await?;
        }
        tx.commit().await
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let insert = sql::insert_audit(self.db.dialect(), entry)?;
        self.db.execute(&insert).await?;
        Ok(())
    }

    async fn audit_log(
        &self,
        before_seq: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = self
            .db
            .query(&sql::select_audit_page(before_seq, limit))
            .await?;
        rows.iter().map(sql::audit_record).collect()
    }
}
