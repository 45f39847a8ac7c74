//! [`StaffStore`] on SQLite: the tables migration v6 made (times in unix ms).

use super::sqlite::{from_ms, to_ms, SqliteStore};
use super::staff::{
    refusal_note, role_from_db, AuditEntry, AuditRecord, SignInSlot, StaffMember, StaffSession,
    StaffStore, INSERT_AUDIT_SQLITE,
};
use super::{limit_of, StoreError};
use crate::domain::clock::{after, before};
use crate::domain::staff::Email;
use rusqlite::{params, OptionalExtension};
use std::time::Duration;
use time::OffsetDateTime;

fn member(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<StaffMember, StoreError>> {
    let (email, role, hash, created): (String, String, String, i64) =
        (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
    Ok((|| {
        Ok(StaffMember {
            email: Email::from_stored(email),
            role: role_from_db(&role)?,
            password_hash: hash,
            created_at: from_ms(created)?,
        })
    })())
}

fn insert_audit(conn: &rusqlite::Connection, e: &AuditEntry) -> Result<(), StoreError> {
    conn.prepare_cached(INSERT_AUDIT_SQLITE)?.execute(params![
        to_ms(e.at),
        e.actor,
        e.action,
        e.subject,
        e.ip
    ])?;
    Ok(())
}

impl StaffStore for SqliteStore {
    fn add_staff(&self, m: &StaffMember) -> Result<bool, StoreError> {
        self.with(|conn| {
            let added = conn.execute(
                "INSERT INTO staff (email, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (email) DO NOTHING",
                params![
                    m.email.as_str(),
                    m.role.as_str(),
                    m.password_hash,
                    to_ms(m.created_at)
                ],
            )?;
            Ok(added == 1)
        })
    }

    fn list_staff(&self) -> Result<Vec<StaffMember>, StoreError> {
        self.with(|conn| {
            let mut statement = conn.prepare(
                "SELECT email, role, password_hash, created_at FROM staff ORDER BY email",
            )?;
            let rows = statement.query_map([], member)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(row??);
            }
            Ok(out)
        })
    }

    fn staff_member(&self, email: &Email) -> Result<Option<StaffMember>, StoreError> {
        self.with(|conn| {
            conn.prepare_cached(
                "SELECT email, role, password_hash, created_at FROM staff WHERE email = ?1",
            )?
            .query_row([email.as_str()], member)
            .optional()?
            .transpose()
        })
    }

    fn remove_staff(&self, email: &Email) -> Result<bool, StoreError> {
        self.in_transaction(|conn| {
            conn.execute(
                "DELETE FROM staff_sessions WHERE email = ?1",
                [email.as_str()],
            )?;
            Ok(conn.execute("DELETE FROM staff WHERE email = ?1", [email.as_str()])? == 1)
        })
    }

    fn set_password_hash(&self, email: &Email, hash: &str) -> Result<bool, StoreError> {
        self.in_transaction(|conn| {
            let changed = conn.execute(
                "UPDATE staff SET password_hash = ?2 WHERE email = ?1",
                params![email.as_str(), hash],
            )?;
            conn.execute(
                "DELETE FROM staff_sessions WHERE email = ?1",
                [email.as_str()],
            )?;
            Ok(changed == 1)
        })
    }

    fn create_session(
        &self,
        token_hash: &str,
        email: &Email,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO staff_sessions (token_hash, email, created_at, last_seen_at)
                 VALUES (?1, ?2, ?3, ?3)",
                params![token_hash, email.as_str(), to_ms(now)],
            )?;
            Ok(())
        })
    }

    fn session(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
        idle: Duration,
        touch_after: Duration,
    ) -> Result<Option<StaffSession>, StoreError> {
        self.with(|conn| {
            let found: Option<(String, String, i64, i64)> = conn
                .prepare_cached(
                    "SELECT s.email, st.role, s.created_at, s.last_seen_at
                     FROM staff_sessions AS s JOIN staff AS st ON st.email = s.email
                     WHERE s.token_hash = ?1",
                )?
                .query_row([token_hash], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })
                .optional()?;
            let Some((email, role, created, last_seen)) = found else {
                return Ok(None);
            };
            let last_seen = from_ms(last_seen)?;
            if last_seen <= before(now, idle) {
                conn.execute(
                    "DELETE FROM staff_sessions WHERE token_hash = ?1",
                    [token_hash],
                )?;
                return Ok(None);
            }
            let mut seen = last_seen;
            if last_seen <= before(now, touch_after) {
                conn.execute(
                    "UPDATE staff_sessions SET last_seen_at = ?2 WHERE token_hash = ?1",
                    params![token_hash, to_ms(now)],
                )?;
                seen = now;
            }
            Ok(Some(StaffSession {
                email: Email::from_stored(email),
                role: role_from_db(&role)?,
                created_at: from_ms(created)?,
                last_seen_at: seen,
            }))
        })
    }

    fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                "DELETE FROM staff_sessions WHERE token_hash = ?1",
                [token_hash],
            )?;
            Ok(())
        })
    }

    fn take_sign_in_slot(
        &self,
        subjects: &[(&str, u32)],
        at: OffsetDateTime,
        window: Duration,
        refusal: &AuditEntry,
    ) -> Result<SignInSlot, StoreError> {
        let since = to_ms(before(at, window));
        // An IMMEDIATE transaction: no other writer counts between this one's read and write.
        self.in_transaction(|conn| {
            conn.execute("DELETE FROM login_failures WHERE at <= ?1", [since])?;
            let mut refused: Option<(i64, &str)> = None;
            for (subject, limit) in subjects {
                // The limit-th newest failure: while it is in the window, the subject is at
                // its limit; it leaves first.
                let offset = i64::from(limit.saturating_sub(1));
                let holding: Option<i64> = conn
                    .prepare_cached(
                        "SELECT at FROM login_failures WHERE subject = ?1 AND at > ?2
                         ORDER BY at DESC LIMIT 1 OFFSET ?3",
                    )?
                    .query_row(params![subject, since, offset], |row| row.get(0))
                    .optional()?;
                if let Some(oldest) = holding {
                    if refused.is_none_or(|(until, _)| oldest > until) {
                        refused = Some((oldest, subject));
                    }
                }
            }
            if let Some((holding, subject)) = refused {
                let note = refusal_note(subject);
                let noted: bool = conn
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM login_failures WHERE subject = ?1 AND at > ?2)",
                    )?
                    .query_row(params![note, since], |row| row.get(0))?;
                if !noted {
                    conn.execute(
                        "INSERT INTO login_failures (subject, at) VALUES (?1, ?2)",
                        params![note, to_ms(at)],
                    )?;
                    insert_audit(conn, refusal)?;
                }
                let until = after(from_ms(holding)?, window);
                return Ok(SignInSlot::Refused {
                    until,
                    first: !noted,
                });
            }
            for (subject, _) in subjects {
                conn.execute(
                    "INSERT INTO login_failures (subject, at) VALUES (?1, ?2)",
                    params![subject, to_ms(at)],
                )?;
            }
            Ok(SignInSlot::Counted)
        })
    }

    fn forgive_sign_in(&self, subjects: &[&str], at: OffsetDateTime) -> Result<(), StoreError> {
        self.in_transaction(|conn| {
            for subject in subjects {
                conn.execute(
                    "DELETE FROM login_failures WHERE rowid IN
                       (SELECT rowid FROM login_failures WHERE subject = ?1 AND at = ?2 LIMIT 1)",
                    params![subject, to_ms(at)],
                )?;
            }
            Ok(())
        })
    }

    fn append_audit(&self, e: &AuditEntry) -> Result<(), StoreError> {
        self.with(|conn| insert_audit(conn, e))
    }

    fn audit_log(
        &self,
        before_seq: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.with(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT seq, at, actor, action, subject, ip FROM audit_log
                 WHERE (?1 IS NULL OR seq < ?1) ORDER BY seq DESC LIMIT ?2",
            )?;
            let rows = statement.query_map(params![before_seq, limit_of(limit)], |row| {
                let at: i64 = row.get(1)?;
                let seq: i64 = row.get(0)?;
                let (actor, action, subject, ip) =
                    (row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?);
                Ok(from_ms(at).map(|at| AuditRecord {
                    seq,
                    entry: AuditEntry {
                        at,
                        actor,
                        action,
                        subject,
                        ip,
                    },
                }))
            })?;
            let mut out = Vec::new();
            for row in rows {
                out.push(row??);
            }
            Ok(out)
        })
    }
}
