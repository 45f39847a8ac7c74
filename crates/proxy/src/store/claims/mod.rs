//! Work that several proxies on one store could do twice, claimed in the store: an upstream
//! status read of a payment (the refresh claim), a create under an `Idempotency-Key` (the
//! key claim), and one call from the group's shared upstream budget (a GCRA whose state is
//! a row per kind of call). [`ClaimStore`] is written once, over the store's executor layer
//! (`store/db/`), as [`Claims`], which both stores hand out; `suite.rs` runs it on both
//! databases.
//!
//! Serialisation is what it was before the move: each claim is one transaction, `IMMEDIATE`
//! on SQLite (the only writer of the file while it runs) and on PostgreSQL the claim's own
//! `UPDATE ... WHERE`/upsert row lock, plus `FOR UPDATE` on the budget's row. Clocks too:
//! PostgreSQL reads its own (`now()` for claims, `clock_timestamp()` for the budget), so that
//! every proxy of a group decides by the same one; SQLite takes the caller's `now`.

mod sql;

use super::db::{Db, Tx, Unit};
use super::{budget_step, KeyClaim, RefreshClaim, StoreError, Unavailability};
use std::time::Duration;
use time::OffsetDateTime;

/// The store's claims. Async: the services call it directly, no blocking thread between.
#[async_trait::async_trait]
pub trait ClaimStore: Send + Sync + 'static {
    /// Claims the upstream status read of payment `id` for the whole group, unless one was
    /// claimed within `window` before `now`.
    async fn claim_refresh(
        &self,
        id: &str,
        now: OffsetDateTime,
        window: Duration,
    ) -> Result<RefreshClaim, StoreError>;
    /// Gives a status read claim back (the read was not made): the next reader may claim it.
    async fn release_refresh(&self, id: &str) -> Result<(), StoreError>;
    /// Takes one call of `kind` (`status`, `create`) from the group's upstream budget: one
    /// every `interval`, as a GCRA whose theoretical arrival time (`tat`) is kept in the
    /// store, so every proxy on one database shares it. Taken when `tat <= now + slack_ms`
    /// (a negative slack keeps room for more urgent callers); then `tat` moves to
    /// `max(tat, now) + interval`. `Some(wait)`: over budget for that long. PostgreSQL uses
    /// its own clock; SQLite, one proxy's, `now`.
    async fn take_upstream_call(
        &self,
        kind: &str,
        now: OffsetDateTime,
        interval: Duration,
        slack_ms: i64,
    ) -> Result<Option<Duration>, StoreError>;
    /// Claims the right to create the payment for `key`, unless another request holds a
    /// claim younger than `stale` (older ones were left by a proxy that died mid-create).
    async fn claim_idempotency_key(
        &self,
        key: &str,
        fingerprint: &str,
        now: OffsetDateTime,
        stale: Duration,
    ) -> Result<KeyClaim, StoreError>;
    /// Gives a key claim back after a failed create, so that a retry may create.
    async fn release_idempotency_key(&self, key: &str) -> Result<(), StoreError>;
}

/// Whose clock a claim decides by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Clock {
    /// The database's, where it has one every proxy shares (PostgreSQL); SQLite, one
    /// proxy's file, takes the caller's `now`.
    Database,
    /// Always the caller's `now` (tests that play time forward on PostgreSQL).
    #[cfg(test)]
    Caller,
}

/// [`ClaimStore`] on either database: each statement said once (`sql.rs`).
pub struct Claims {
    db: Db,
    clock: Clock,
}

impl Claims {
    pub(crate) fn new(db: Db) -> Claims {
        Claims {
            db,
            clock: Clock::Database,
        }
    }

    /// Claims decide by the caller's `now` on PostgreSQL too.
    #[cfg(test)]
    pub(crate) fn on_callers_clock(self) -> Claims {
        Claims {
            clock: Clock::Caller,
            ..self
        }
    }

    fn now(&self) -> sql::Now {
        sql::Now::of(self.db.dialect(), self.clock)
    }
}

/// How many times a key claim is tried while its holder keeps giving it back between our
/// insert and our read.
const KEY_CLAIM_TRIES: usize = 3;

/// One try of [`ClaimStore::claim_idempotency_key`] in `tx`: `None` when the claim was
/// given back between the upsert and the read.
async fn claim_key_in(
    tx: &Tx<'_>,
    now: sql::Now,
    key: &str,
    fingerprint: &str,
    at: OffsetDateTime,
    stale: Duration,
) -> Result<Option<KeyClaim>, StoreError> {
    if tx
        .execute(&sql::claim_key(now, key, fingerprint, at, stale)?)
        .await?
        == 1
    {
        return Ok(Some(KeyClaim::Mine));
    }
    let rows = tx.query(&sql::select_key_holder(key)).await?;
    rows.first()
        .map(|row| {
            Ok(KeyClaim::Held {
                fingerprint: row.text("fingerprint")?,
            })
        })
        .transpose()
}

#[async_trait::async_trait]
impl ClaimStore for Claims {
    async fn claim_refresh(
        &self,
        id: &str,
        now: OffsetDateTime,
        window: Duration,
    ) -> Result<RefreshClaim, StoreError> {
        let tx = self.db.begin().await?;
        // On PostgreSQL the UPDATE's row lock (and its re-check of the WHERE on a row another
        // transaction just changed) lets one proxy claim; on SQLite the IMMEDIATE
        // transaction does. The read after it is this transaction's too: no row, no payment.
        // (On PostgreSQL it sees a claim committed meanwhile, where the one statement this
        // replaces read its own starting snapshot and could return an older one. The cost:
        // BEGIN and COMMIT are two more round trips, once per payment per window.)
        if tx
            .execute(&sql::claim_refresh(self.now(), id, now, window))
            .await?
            == 1
        {
            tx.commit().await?;
            return Ok(RefreshClaim::Mine);
        }
        let rows = tx.query(&sql::select_refresh_claim(id)).await?;
        tx.commit().await?;
        let Some(row) = rows.first() else {
            return Ok(RefreshClaim::NoSuchPayment);
        };
        let at = row.opt_time("refresh_claimed_at", Unit::Millis)?;
        Ok(RefreshClaim::Taken {
            at: at.unwrap_or(now),
        })
    }

    async fn release_refresh(&self, id: &str) -> Result<(), StoreError> {
        self.db.execute(&sql::release_refresh(id)).await?;
        Ok(())
    }

    async fn take_upstream_call(
        &self,
        kind: &str,
        now: OffsetDateTime,
        interval: Duration,
        slack_ms: i64,
    ) -> Result<Option<Duration>, StoreError> {
        let interval = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
        let clock = self.now();
        let tx = self.db.begin().await?;
        tx.execute(&sql::insert_budget(kind)?).await?;
        // The row lock queues the group's instances (PostgreSQL); the database's clock is
        // the one they all read.
        let rows = tx.query(&sql::select_budget(clock, kind)).await?;
        let row = rows
            .first()
            .ok_or_else(|| StoreError::Corrupt(format!("no upstream budget row for {kind}")))?;
        let tat = row.i64("tat_ms")?;
        let now = match clock.budget_clock() {
            Some(_) => row.i64(sql::NOW_MS)?,
            None => Unit::Millis.to_int(now),
        };
        let taken = match budget_step(tat, now, interval, slack_ms) {
            Ok(next) => {
                tx.execute(&sql::update_budget(kind, next)).await?;
                None
            }
            Err(wait) => Some(wait),
        };
        tx.commit().await?;
        Ok(taken)
    }

    async fn claim_idempotency_key(
        &self,
        key: &str,
        fingerprint: &str,
        now: OffsetDateTime,
        stale: Duration,
    ) -> Result<KeyClaim, StoreError> {
        for _ in 0..KEY_CLAIM_TRIES {
            let tx = self.db.begin().await?;
            let claim = claim_key_in(&tx, self.now(), key, fingerprint, now, stale).await?;
            tx.commit().await?;
            if let Some(claim) = claim {
                return Ok(claim);
            }
        }
        Err(StoreError::unavailable(
            Unavailability::Busy,
            format!("the claim on an idempotency key kept changing hands ({key})"),
        ))
    }

    async fn release_idempotency_key(&self, key: &str) -> Result<(), StoreError> {
        self.db.execute(&sql::release_key(key)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite::{put, sample, wait};
    use crate::store::{postgres, PaymentStore, PgStore};

    /// A proxy whose clock runs an hour fast decides nothing differently on PostgreSQL: the
    /// claims and the budget read the database's clock (on the caller's, each of these
    /// would be taken again).
    #[test]
    fn postgres_claims_and_the_budget_read_the_databases_clock_not_a_skewed_instances() {
        let store = wait(PgStore::connect(&postgres::tests::empty_database(), 2)).expect("connect");
        let payment = sample("PYG-CLAIM", None);
        put(&store, &payment).expect("insert");
        let claims = store.claims();
        let real_now = OffsetDateTime::now_utc();
        let skewed = real_now + Duration::from_secs(3600);
        let window = Duration::from_secs(60);
        assert_eq!(
            wait(claims.claim_refresh(&payment.id, real_now, window)).expect("claim"),
            RefreshClaim::Mine
        );
        assert!(matches!(
            wait(claims.claim_refresh(&payment.id, skewed, window)).expect("claim"),
            RefreshClaim::Taken { .. }
        ));
        assert_eq!(
            wait(claims.claim_idempotency_key("merchant:k", "one", real_now, window))
                .expect("claim"),
            KeyClaim::Mine
        );
        assert_eq!(
            wait(claims.claim_idempotency_key("merchant:k", "two", skewed, window)).expect("claim"),
            KeyClaim::Held {
                fingerprint: "one".into()
            }
        );
        let hour = Duration::from_secs(3600);
        assert_eq!(
            wait(claims.take_upstream_call("status", real_now, hour, 0)).expect("take"),
            None
        );
        let wait_for = wait(claims.take_upstream_call("status", skewed, hour, 0))
            .expect("take")
            .expect("over budget by the database's clock");
        assert!(wait_for > Duration::from_secs(3500), "{wait_for:?}");
    }
}
