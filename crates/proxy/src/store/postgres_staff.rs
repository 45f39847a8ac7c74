//! [`StaffStore`] on PostgreSQL: the tables migration v3 made, shared by every instance (a
//! session started on one is good on all, a failure counted on one counts on all).

use super::postgres::PgStore;
use super::staff::{
    refusal_note, role_from_db, AuditEntry, AuditRecord, SignInSlot, StaffMember, StaffSession,
    StaffStore, INSERT_AUDIT_POSTGRES,
};
use super::{limit_of, StoreError};
use crate::domain::clock::{after, before};
use crate::domain::staff::Email;
use std::time::Duration;
use time::OffsetDateTime;
use tokio_postgres::Row;

/// The advisory lock sign-ins are counted under ("pdsignin" in ASCII).
const SIGN_IN_LOCK: i64 = 0x7064_7369_676e_696e;

fn member(row: &Row) -> Result<StaffMember, StoreError> {
    Ok(StaffMember {
        email: Email::from_stored(row.try_get(0)?),
        role: role_from_db(row.try_get(1)?)?,
        password_hash: row.try_get(2)?,
        created_at: row.try_get(3)?,
    })
}

impl StaffStore for PgStore {
    fn add_staff(&self, m: &StaffMember) -> Result<bool, StoreError> {
        self.run(async {
            let added = self
                .execute(
                    "INSERT INTO staff (email, role, password_hash, created_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (email) DO NOTHING",
                    &[&m.email.as_str(), &m.role.as_str(), &m.password_hash, &m.created_at],
                )
                .await?;
            Ok(added == 1)
        })
    }

    fn list_staff(&self) -> Result<Vec<StaffMember>, StoreError> {
        self.run(async {
            let rows = self
                .query(
                    "SELECT email, role, password_hash, created_at FROM staff ORDER BY email",
                    &[],
                )
                .await?;
            rows.iter().map(member).collect()
        })
    }

    fn staff_member(&self, email: &Email) -> Result<Option<StaffMember>, StoreError> {
        self.run(async {
            let rows = self
                .query(
                    "SELECT email, role, password_hash, created_at FROM staff WHERE email = $1",
                    &[&email.as_str()],
                )
                .await?;
            rows.first().map(member).transpose()
        })
    }

    fn remove_staff(&self, email: &Email) -> Result<bool, StoreError> {
        // Its sessions go with it (ON DELETE CASCADE).
        self.run(async {
            let removed = self
                .execute("DELETE FROM staff WHERE email = $1", &[&email.as_str()])
                .await?;
            Ok(removed == 1)
        })
    }

    fn set_password_hash(&self, email: &Email, hash: &str) -> Result<bool, StoreError> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let changed = tx
                .execute(
                    "UPDATE staff SET password_hash = $2 WHERE email = $1",
                    &[&email.as_str(), &hash],
                )
                .await?;
            tx.execute(
                "DELETE FROM staff_sessions WHERE email = $1",
                &[&email.as_str()],
            )
            .await?;
            tx.commit().await?;
            Ok(changed == 1)
        })
    }

    fn create_session(
        &self,
        token_hash: &str,
        email: &Email,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.run(async {
            self.execute(
                "INSERT INTO staff_sessions (token_hash, email, created_at, last_seen_at)
                 VALUES ($1, $2, $3, $3)",
                &[&token_hash, &email.as_str(), &now],
            )
            .await?;
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
        self.run(async {
            let rows = self
                .query(
                    "SELECT s.email, st.role, s.created_at, s.last_seen_at
                     FROM staff_sessions AS s JOIN staff AS st ON st.email = s.email
                     WHERE s.token_hash = $1",
                    &[&token_hash],
                )
                .await?;
            let Some(row) = rows.first() else {
                return Ok(None);
            };
            let last_seen: OffsetDateTime = row.try_get(3)?;
            if last_seen <= before(now, idle) {
                self.execute(
                    "DELETE FROM staff_sessions WHERE token_hash = $1",
                    &[&token_hash],
                )
                .await?;
                return Ok(None);
            }
            let mut seen = last_seen;
            if last_seen <= before(now, touch_after) {
                self.execute(
                    "UPDATE staff_sessions SET last_seen_at = $2 WHERE token_hash = $1",
                    &[&token_hash, &now],
                )
                .await?;
                seen = now;
            }
            Ok(Some(StaffSession {
                email: Email::from_stored(row.try_get(0)?),
                role: role_from_db(row.try_get(1)?)?,
                created_at: row.try_get(2)?,
                last_seen_at: seen,
            }))
        })
    }

    fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.run(async {
            self.execute(
                "DELETE FROM staff_sessions WHERE token_hash = $1",
                &[&token_hash],
            )
            .await?;
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
        let since = before(at, window);
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            // Every instance counts under one lock (held to the commit): two guesses on two
            // proxies cannot both read four failures and both go on.
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SIGN_IN_LOCK])
                .await?;
            tx.execute("DELETE FROM login_failures WHERE at <= $1", &[&since])
                .await?;
            let mut refused: Option<(OffsetDateTime, &str)> = None;
            for (subject, limit) in subjects {
                // The limit-th newest failure: while it is in the window, the subject is at
                // its limit; it leaves first.
                let offset = i64::from(limit.saturating_sub(1));
                let rows = tx
                    .query(
                        "SELECT at FROM login_failures WHERE subject = $1 AND at > $2
                         ORDER BY at DESC LIMIT 1 OFFSET $3",
                        &[subject, &since, &offset],
                    )
                    .await?;
                if let Some(row) = rows.first() {
                    let holding: OffsetDateTime = row.try_get(0)?;
                    if refused.is_none_or(|(until, _)| holding > until) {
                        refused = Some((holding, subject));
                    }
                }
            }
            if let Some((holding, subject)) = refused {
                let note = refusal_note(subject);
                let noted = !tx
                    .query(
                        "SELECT 1 FROM login_failures WHERE subject = $1 AND at > $2 LIMIT 1",
                        &[&note, &since],
                    )
                    .await?
                    .is_empty();
                if !noted {
                    tx.execute(
                        "INSERT INTO login_failures (subject, at) VALUES ($1, $2)",
                        &[&note, &at],
                    )
                    .await?;
                    let e = refusal;
                    tx.execute(
                        INSERT_AUDIT_POSTGRES,
                        &[&e.at, &e.actor, &e.action, &e.subject, &e.ip],
                    )
                    .await?;
                }
                tx.commit().await?;
                return Ok(SignInSlot::Refused {
                    until: after(holding, window),
                    first: !noted,
                });
            }
            for (subject, _) in subjects {
                tx.execute(
                    "INSERT INTO login_failures (subject, at) VALUES ($1, $2)",
                    &[subject, &at],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(SignInSlot::Counted)
        })
    }

    fn forgive_sign_in(&self, subjects: &[&str], at: OffsetDateTime) -> Result<(), StoreError> {
        self.run(async {
            for subject in subjects {
                self.execute(
                    "DELETE FROM login_failures WHERE ctid IN
                       (SELECT ctid FROM login_failures WHERE subject = $1 AND at = $2 LIMIT 1)",
                    &[subject, &at],
                )
                .await?;
            }
            Ok(())
        })
    }

    fn append_audit(&self, e: &AuditEntry) -> Result<(), StoreError> {
        self.run(async {
            self.execute(
                INSERT_AUDIT_POSTGRES,
                &[&e.at, &e.actor, &e.action, &e.subject, &e.ip],
            )
            .await?;
            Ok(())
        })
    }

    fn audit_log(
        &self,
        before_seq: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.run(async {
            let rows = self
                .query(
                    "SELECT seq, at, actor, action, subject, ip FROM audit_log
                     WHERE ($1::bigint IS NULL OR seq < $1) ORDER BY seq DESC LIMIT $2",
                    &[&before_seq, &limit_of(limit)],
                )
                .await?;
            rows.iter()
                .map(|row| {
                    Ok(AuditRecord {
                        seq: row.try_get(0)?,
                        entry: AuditEntry {
                            at: row.try_get(1)?,
                            actor: row.try_get(2)?,
                            action: row.try_get(3)?,
                            subject: row.try_get(4)?,
                            ip: row.try_get(5)?,
                        },
                    })
                })
                .collect()
        })
    }
}
