//! [`LinkStore`] on PostgreSQL: the tables migration v4 made, shared by every instance. A
//! reservation locks the link's row (`FOR UPDATE`, to the commit), so reservations of one
//! link on any instance take turns, and counts paid, open and reserved payments in one
//! statement (one snapshot: a payment replacing its reservation meanwhile is counted once).

use super::links::{amount_from_db, amount_to_db, LinkFilter, LinkInsert, LinkStore, Reservation};
use super::postgres::PgStore;
use super::{limit_of, to_i64, to_u64, StoreError};
use crate::domain::clock::after;
use crate::domain::links::{may_create, LinkUse, LinkWithTotals, PaymentLink};
use crate::domain::payment::Metadata;
use std::time::Duration;
use time::OffsetDateTime;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

macro_rules! select_link {
    () => {
        "SELECT l.id, l.title, l.description, l.amount, l.min_amount, l.max_amount,
                l.max_payments, l.expires_at, l.success_url, l.metadata, l.active, l.created_at,
                l.idempotency_key, l.request_fingerprint,
                (SELECT COUNT(*) FROM payments p
                  WHERE p.payment_link_id = l.id AND p.status = 'paid'),
                (SELECT COALESCE(SUM(p.total_amount), 0)::BIGINT FROM payments p
                  WHERE p.payment_link_id = l.id AND p.status = 'paid')
         FROM payment_links l"
    };
}

fn opt_u64(n: Option<i64>) -> Result<Option<u64>, StoreError> {
    n.map(to_u64).transpose()
}

fn opt_i64(n: Option<u64>) -> Result<Option<i64>, StoreError> {
    n.map(to_i64).transpose()
}

fn decode(row: &Row) -> Result<LinkWithTotals, StoreError> {
    let max_payments: Option<i64> = row.try_get(6)?;
    let metadata: Option<serde_json::Value> = row.try_get(9)?;
    Ok(LinkWithTotals {
        link: PaymentLink {
            id: row.try_get(0)?,
            title: row.try_get(1)?,
            description: row.try_get(2)?,
            amount: amount_from_db(
                opt_u64(row.try_get(3)?)?,
                opt_u64(row.try_get(4)?)?,
                opt_u64(row.try_get(5)?)?,
            ),
            max_payments: max_payments
                .map(|n| {
                    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("max_payments {n}")))
                })
                .transpose()?,
            expires_at: row.try_get(7)?,
            success_url: row.try_get(8)?,
            metadata: metadata.map_or(Ok(Metadata::new()), |value| {
                serde_json::from_value(value)
                    .map_err(|e| StoreError::Corrupt(format!("metadata: {e}")))
            })?,
            active: row.try_get(10)?,
            created_at: row.try_get(11)?,
            idempotency_key: row.try_get(12)?,
            request_fingerprint: row.try_get(13)?,
        },
        paid_count: to_u64(row.try_get(14)?)?,
        paid_total: to_u64(row.try_get(15)?)?,
    })
}

/// Link times in milliseconds, as the SQLite store keeps them.
fn millis(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(at)
}

/// A link's row: its columns as [`INSERT_LINK`] takes them.
struct LinkRow {
    fixed: Option<i64>,
    min: Option<i64>,
    max: Option<i64>,
    max_payments: Option<i64>,
    expires_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    metadata: Option<serde_json::Value>,
}

/// Writes a link; followed by the conflict it gives way to.
const INSERT_LINK: &str = "INSERT INTO payment_links (id, title, description, amount, min_amount,
        max_amount, max_payments, expires_at, success_url, metadata, active,
        created_at, idempotency_key, request_fingerprint)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";

impl LinkRow {
    fn of(l: &PaymentLink) -> Result<LinkRow, StoreError> {
        let (fixed, min, max) = amount_to_db(l.amount);
        let metadata = if l.metadata.is_empty() {
            None
        } else {
            Some(
                serde_json::to_value(&l.metadata)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            )
        };
        Ok(LinkRow {
            fixed: opt_i64(fixed)?,
            min: opt_i64(min)?,
            max: opt_i64(max)?,
            max_payments: l.max_payments.map(i64::from),
            expires_at: l.expires_at.map(millis),
            created_at: millis(l.created_at),
            metadata,
        })
    }

    fn params<'a>(&'a self, l: &'a PaymentLink) -> [&'a (dyn ToSql + Sync); 14] {
        [
            &l.id,
            &l.title,
            &l.description,
            &self.fixed,
            &self.min,
            &self.max,
            &self.max_payments,
            &self.expires_at,
            &l.success_url,
            &self.metadata,
            &l.active,
            &self.created_at,
            &l.idempotency_key,
            &l.request_fingerprint,
        ]
    }
}

/// `migrate --to`: copies each of `links` unless its id or key is there already, and the link
/// forms' secret unless there is one (so forms shown before the move still post). The number
/// of links written.
pub(super) async fn import_links(
    tx: &deadpool_postgres::Transaction<'_>,
    links: &[PaymentLink],
    secret: Option<&str>,
) -> Result<u64, StoreError> {
    let sql = format!("{INSERT_LINK} ON CONFLICT DO NOTHING");
    let mut written = 0;
    for link in links {
        let row = LinkRow::of(link)?;
        written += tx.execute(sql.as_str(), &row.params(link)).await?;
    }
    if let Some(secret) = secret {
        tx.execute(
            "INSERT INTO link_form_secret (id, secret) VALUES (1, $1) ON CONFLICT DO NOTHING",
            &[&secret],
        )
        .await?;
    }
    Ok(written)
}

impl LinkStore for PgStore {
    fn insert_link(&self, l: &PaymentLink) -> Result<LinkInsert, StoreError> {
        let row = LinkRow::of(l)?;
        let sql = format!("{INSERT_LINK} ON CONFLICT (idempotency_key) DO NOTHING");
        self.run(async {
            // `ON CONFLICT (idempotency_key) DO NOTHING`: of two creates with one key (on any
            // instances), one inserts; the other finds it.
            let inserted = self.execute(sql.as_str(), &row.params(l)).await?;
            if inserted == 1 {
                return Ok(LinkInsert::Created);
            }
            let rows = self
                .query(
                    concat!(select_link!(), " WHERE l.idempotency_key = $1"),
                    &[&l.idempotency_key],
                )
                .await?;
            let existing = rows.first().map(decode).transpose()?.ok_or_else(|| {
                StoreError::Corrupt("a link key conflict without its link".into())
            })?;
            Ok(LinkInsert::Existing(Box::new(existing)))
        })
    }

    fn link(&self, id: &str) -> Result<Option<LinkWithTotals>, StoreError> {
        self.run(async {
            let rows = self
                .query(concat!(select_link!(), " WHERE l.id = $1"), &[&id])
                .await?;
            rows.first().map(decode).transpose()
        })
    }

    fn list_links(&self, filter: &LinkFilter) -> Result<Vec<LinkWithTotals>, StoreError> {
        self.run(async {
            let before: Option<i64> = match &filter.before_id {
                None => None,
                Some(id) => Some(
                    self.query("SELECT seq FROM payment_links WHERE id = $1", &[id])
                        .await?
                        .first()
                        .ok_or_else(|| StoreError::UnknownCursor(id.clone()))?
                        .try_get(0)?,
                ),
            };
            let limit = limit_of(filter.limit);
            // Only the conditions the filter sets: PostgreSQL wants every parameter used.
            let mut sql = String::from(concat!(select_link!(), " WHERE true"));
            let mut params: Vec<&(dyn ToSql + Sync)> = Vec::new();
            if let Some(active) = &filter.active {
                params.push(active);
                sql.push_str(&format!(" AND l.active = ${}", params.len()));
            }
            if let Some(before) = &before {
                params.push(before);
                sql.push_str(&format!(" AND l.seq < ${}", params.len()));
            }
            params.push(&limit);
            sql.push_str(&format!(" ORDER BY l.seq DESC LIMIT ${}", params.len()));
            let rows = self.query(&sql, &params).await?;
            rows.iter().map(decode).collect()
        })
    }

    fn set_link_active(&self, id: &str, active: bool) -> Result<bool, StoreError> {
        self.run(async {
            Ok(self
                .execute(
                    "UPDATE payment_links SET active = $2 WHERE id = $1",
                    &[&id, &active],
                )
                .await?
                == 1)
        })
    }

    fn reserve_link_payment(
        &self,
        link_id: &str,
        key: &str,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> Result<Reservation, StoreError> {
        let until = millis(after(now, ttl));
        let now = millis(now);
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            // The link's row lock orders every reservation of this link, on every instance.
            let locked = tx
                .query(
                    "SELECT id FROM payment_links WHERE id = $1 FOR UPDATE",
                    &[&link_id],
                )
                .await?;
            if locked.is_empty() {
                return Ok(Reservation::NoSuchLink);
            }
            tx.execute(
                "DELETE FROM link_reservations WHERE link_id = $1 AND expires_at <= $2",
                &[&link_id, &now],
            )
            .await?;
            // One statement, one snapshot: a payment that replaces its reservation between
            // two separate counts would be counted by neither.
            let rows = tx
                .query(
                    concat!(
                        "SELECT q.*,
                            (SELECT COUNT(*) FROM payments WHERE payment_link_id = $1
                               AND status = 'pending' AND expires_at > $2),
                            (SELECT COUNT(*) FROM link_reservations WHERE link_id = $1
                               AND key <> $3)
                         FROM (",
                        select_link!(),
                        " WHERE l.id = $1) q"
                    ),
                    &[&link_id, &now, &key],
                )
                .await?;
            let Some(row) = rows.first() else {
                return Ok(Reservation::NoSuchLink);
            };
            let found = decode(row)?;
            let used = LinkUse {
                paid: found.paid_count,
                open: to_u64(row.try_get(16)?)?,
                reserved: to_u64(row.try_get(17)?)?,
            };
            if let Err(refusal) = may_create(&found.link, used, now) {
                return Ok(Reservation::Refused(refusal));
            }
            tx.execute(
                "INSERT INTO link_reservations (key, link_id, expires_at) VALUES ($1, $2, $3)
                 ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at",
                &[&key, &link_id, &until],
            )
            .await?;
            tx.commit().await?;
            Ok(Reservation::Reserved)
        })
    }

    fn release_link_reservation(&self, key: &str) -> Result<(), StoreError> {
        self.run(async {
            self.execute("DELETE FROM link_reservations WHERE key = $1", &[&key])
                .await?;
            Ok(())
        })
    }

    fn link_form_secret(&self, candidate: &str) -> Result<String, StoreError> {
        self.run(async {
            self.execute(
                "INSERT INTO link_form_secret (id, secret) VALUES (1, $1) ON CONFLICT DO NOTHING",
                &[&candidate],
            )
            .await?;
            let rows = self
                .query("SELECT secret FROM link_form_secret WHERE id = 1", &[])
                .await?;
            let row = rows.first().ok_or_else(|| {
                StoreError::Corrupt("no link form secret after storing one".into())
            })?;
            Ok(row.try_get(0)?)
        })
    }
}
