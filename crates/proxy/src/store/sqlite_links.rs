//! [`LinkStore`] on SQLite: the tables migration v7 made (link times in unix ms; payments'
//! own times are unix seconds). A reservation is counted and taken in one `IMMEDIATE`
//! transaction: SQLite has one writer, so two reservations cannot both count the same room.

use super::links::{amount_from_db, amount_to_db, LinkFilter, LinkInsert, LinkStore, Reservation};
use super::sqlite::{from_ms, to_ms, SqliteStore};
use super::{limit_of, to_i64, to_u64, StoreError};
use crate::domain::clock::after;
use crate::domain::links::{may_create, LinkUse, LinkWithTotals, PaymentLink};
use crate::domain::payment::Metadata;
use rusqlite::{params, Connection, OptionalExtension};
use std::time::Duration;
use time::OffsetDateTime;

/// A link's columns, then its paid count and total.
macro_rules! select_link {
    () => {
        "SELECT l.id, l.title, l.description, l.amount, l.min_amount, l.max_amount,
                l.max_payments, l.expires_at, l.success_url, l.metadata, l.active, l.created_at,
                l.idempotency_key, l.request_fingerprint,
                (SELECT COUNT(*) FROM payments p
                  WHERE p.payment_link_id = l.id AND p.status = 'paid'),
                (SELECT COALESCE(SUM(p.total_amount), 0) FROM payments p
                  WHERE p.payment_link_id = l.id AND p.status = 'paid')
         FROM payment_links l"
    };
}

impl SqliteStore {
    /// Every link, oldest first, and the link forms' secret if one was made: `migrate --to`.
    pub(super) fn dump_links(&self) -> Result<(Vec<PaymentLink>, Option<String>), StoreError> {
        self.with(|conn| {
            let mut statement = conn.prepare(concat!(select_link!(), " ORDER BY l.rowid"))?;
            let mut links = Vec::new();
            for row in statement.query_map([], decode)? {
                links.push(row??.link);
            }
            let secret = conn
                .query_row(
                    "SELECT secret FROM link_form_secret WHERE id = 1",
                    [],
                    |row| row.get(0),
                )
                .optional()?;
            Ok((links, secret))
        })
    }
}

fn opt_u64(n: Option<i64>) -> Result<Option<u64>, StoreError> {
    n.map(to_u64).transpose()
}

fn opt_i64(n: Option<u64>) -> Result<Option<i64>, StoreError> {
    n.map(to_i64).transpose()
}

fn decode(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<LinkWithTotals, StoreError>> {
    let raw = (
        row.get::<_, String>(0)?,
        row.get::<_, String>(1)?,
        row.get::<_, Option<String>>(2)?,
        row.get::<_, Option<i64>>(3)?,
        row.get::<_, Option<i64>>(4)?,
        row.get::<_, Option<i64>>(5)?,
        row.get::<_, Option<i64>>(6)?,
        row.get::<_, Option<i64>>(7)?,
        row.get::<_, Option<String>>(8)?,
        row.get::<_, Option<String>>(9)?,
        row.get::<_, bool>(10)?,
        row.get::<_, i64>(11)?,
        row.get::<_, Option<String>>(12)?,
        row.get::<_, Option<String>>(13)?,
        row.get::<_, i64>(14)?,
        row.get::<_, i64>(15)?,
    );
    Ok((|| {
        let (id, title, description, fixed, min, max, max_payments, expires_at) =
            (raw.0, raw.1, raw.2, raw.3, raw.4, raw.5, raw.6, raw.7);
        let max_payments = max_payments
            .map(|n| u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("max_payments {n}"))))
            .transpose()?;
        let metadata: Metadata = raw.9.map_or(Ok(Metadata::new()), |t| {
            serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("metadata: {e}")))
        })?;
        Ok(LinkWithTotals {
            link: PaymentLink {
                id,
                title,
                description,
                amount: amount_from_db(opt_u64(fixed)?, opt_u64(min)?, opt_u64(max)?),
                max_payments,
                expires_at: expires_at.map(from_ms).transpose()?,
                success_url: raw.8,
                metadata,
                active: raw.10,
                created_at: from_ms(raw.11)?,
                idempotency_key: raw.12,
                request_fingerprint: raw.13,
            },
            paid_count: to_u64(raw.14)?,
            paid_total: to_u64(raw.15)?,
        })
    })())
}

fn select(
    conn: &Connection,
    condition: &str,
    value: &str,
) -> Result<Option<LinkWithTotals>, StoreError> {
    let sql = format!("{} WHERE {condition}", select_link!());
    conn.prepare_cached(&sql)?
        .query_row([value], decode)
        .optional()?
        .transpose()
}

impl LinkStore for SqliteStore {
    fn insert_link(&self, l: &PaymentLink) -> Result<LinkInsert, StoreError> {
        let (fixed, min, max) = amount_to_db(l.amount);
        let metadata = if l.metadata.is_empty() {
            None
        } else {
            Some(
                serde_json::to_string(&l.metadata)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            )
        };
        self.in_transaction(|conn| {
            if let Some(key) = &l.idempotency_key {
                if let Some(existing) = select(conn, "l.idempotency_key = ?1", key)? {
                    return Ok(LinkInsert::Existing(Box::new(existing)));
                }
            }
            conn.execute(
                "INSERT INTO payment_links (id, title, description, amount, min_amount,
                    max_amount, max_payments, expires_at, success_url, metadata, active,
                    created_at, idempotency_key, request_fingerprint)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    l.id,
                    l.title,
                    l.description,
                    opt_i64(fixed)?,
                    opt_i64(min)?,
                    opt_i64(max)?,
                    l.max_payments,
                    l.expires_at.map(to_ms),
                    l.success_url,
                    metadata,
                    l.active,
                    to_ms(l.created_at),
                    l.idempotency_key,
                    l.request_fingerprint,
                ],
            )?;
            Ok(LinkInsert::Created)
        })
    }

    fn link(&self, id: &str) -> Result<Option<LinkWithTotals>, StoreError> {
        self.with(|conn| select(conn, "l.id = ?1", id))
    }

    fn list_links(&self, filter: &LinkFilter) -> Result<Vec<LinkWithTotals>, StoreError> {
        self.with(|conn| {
            let before: Option<i64> = match &filter.before_id {
                None => None,
                Some(id) => Some(
                    conn.query_row(
                        "SELECT rowid FROM payment_links WHERE id = ?1",
                        [id],
                        |row| row.get(0),
                    )
                    .optional()?
                    .ok_or_else(|| StoreError::UnknownCursor(id.clone()))?,
                ),
            };
            let sql = concat!(
                select_link!(),
                " WHERE (?1 IS NULL OR l.active = ?1) AND (?2 IS NULL OR l.rowid < ?2)
                 ORDER BY l.rowid DESC LIMIT ?3"
            );
            let mut statement = conn.prepare_cached(sql)?;
            let rows = statement.query_map(
                params![filter.active, before, limit_of(filter.limit)],
                decode,
            )?;
            let mut links = Vec::new();
            for row in rows {
                links.push(row??);
            }
            Ok(links)
        })
    }

    fn set_link_active(&self, id: &str, active: bool) -> Result<bool, StoreError> {
        self.with(|conn| {
            Ok(conn.execute(
                "UPDATE payment_links SET active = ?2 WHERE id = ?1",
                params![id, active],
            )? == 1)
        })
    }

    fn reserve_link_payment(
        &self,
        link_id: &str,
        key: &str,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> Result<Reservation, StoreError> {
        self.in_transaction(|conn| {
            let Some(found) = select(conn, "l.id = ?1", link_id)? else {
                return Ok(Reservation::NoSuchLink);
            };
            conn.execute(
                "DELETE FROM link_reservations WHERE link_id = ?1 AND expires_at <= ?2",
                params![link_id, to_ms(now)],
            )?;
            let (open, reserved): (i64, i64) = conn.query_row(
                "SELECT
                    (SELECT COUNT(*) FROM payments WHERE payment_link_id = ?1
                       AND status = 'pending' AND expires_at > ?2),
                    (SELECT COUNT(*) FROM link_reservations WHERE link_id = ?1 AND key <> ?3)",
                params![link_id, now.unix_timestamp(), key],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            let used = LinkUse {
                paid: found.paid_count,
                open: to_u64(open)?,
                reserved: to_u64(reserved)?,
            };
            if let Err(refusal) = may_create(&found.link, used, now) {
                return Ok(Reservation::Refused(refusal));
            }
            conn.execute(
                "INSERT INTO link_reservations (key, link_id, expires_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at",
                params![key, link_id, to_ms(after(now, ttl))],
            )?;
            Ok(Reservation::Reserved)
        })
    }

    fn release_link_reservation(&self, key: &str) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute("DELETE FROM link_reservations WHERE key = ?1", [key])?;
            Ok(())
        })
    }

    fn link_form_secret(&self, candidate: &str) -> Result<String, StoreError> {
        self.in_transaction(|conn| {
            conn.execute(
                "INSERT INTO link_form_secret (id, secret) VALUES (1, ?1) ON CONFLICT DO NOTHING",
                [candidate],
            )?;
            Ok(conn.query_row(
                "SELECT secret FROM link_form_secret WHERE id = 1",
                [],
                |row| row.get(0),
            )?)
        })
    }
}
