//! What the store keeps of payment links (`domain/links.rs`): the links, what their paid
//! payments add up to, and the reservations that hold `max_payments` while a link's payment
//! is being created at PayDigital (the payment row does not exist yet then, so it could not
//! be counted). [`LinkStore`] is written once, over the store's executor layer (`store/db/`),
//! as [`Links`], which both stores hand out; `suite.rs` runs it on both databases.

mod sql;

use super::db::{Db, Tx, Unit};
use super::StoreError;
use crate::domain::clock::after;
use crate::domain::links::{
    may_create, LinkAmount, LinkRefusal, LinkUse, LinkWithTotals, PaymentLink,
};
use sea_query::{Expr, OnConflict, Query};
use sql::{name, LINKS, RESERVATIONS, SECRET};
use std::time::Duration;
use time::OffsetDateTime;

/// Which links a list asks for, newest first.
#[derive(Debug, Clone, Default)]
pub struct LinkFilter {
    pub active: Option<bool>,
    /// Only links created before this one (the previous page's last id).
    pub before_id: Option<String>,
    pub limit: usize,
}

/// What a link insert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkInsert {
    Created,
    /// A link with the same idempotency key was there already (it is this one).
    Existing(Box<LinkWithTotals>),
}

/// What a reservation for one more payment of a link answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Held until it expires, the payment with its key is stored, or it is released.
    Reserved,
    Refused(LinkRefusal),
    NoSuchLink,
}

/// The store's links. Async: the services call it directly, no blocking thread between.
#[async_trait::async_trait]
pub trait LinkStore: Send + Sync + 'static {
    /// Stores a new link; one with the same idempotency key is not stored twice (the one
    /// there is returned).
    async fn insert_link(&self, link: &PaymentLink) -> Result<LinkInsert, StoreError>;
    /// A link by its id, with its paid count and total.
    async fn link(&self, id: &str) -> Result<Option<LinkWithTotals>, StoreError>;
    /// Links newest first, as the filter says.
    async fn list_links(&self, filter: &LinkFilter) -> Result<Vec<LinkWithTotals>, StoreError>;
    /// Activates or deactivates a link; `false`: no such link.
    async fn set_link_active(&self, id: &str, active: bool) -> Result<bool, StoreError>;
    /// In one step that no other reservation (on any instance) can interleave with: counts
    /// the link's paid payments, its open ones (pending, not expired at `now`) and its live
    /// reservations (other than `key`'s), asks [`crate::domain::links::may_create`], and if
    /// it may, reserves one more under `key` until `now + ttl`. Storing the payment with
    /// that idempotency key ends the reservation in the same transaction.
    async fn reserve_link_payment(
        &self,
        link_id: &str,
        key: &str,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> Result<Reservation, StoreError>;
    /// Drops a reservation (its create failed). Dropping one that is not there is fine.
    async fn release_link_reservation(&self, key: &str) -> Result<(), StoreError>;
    /// The secret link forms' tokens are MACed with, the same for every instance: the one
    /// stored, or `candidate` if none was (the first instance to ask stores its own).
    async fn link_form_secret(&self, candidate: &str) -> Result<String, StoreError>;
}

/// A link's amount columns (`amount`, `min_amount`, `max_amount`) as a [`LinkAmount`].
pub(crate) fn amount_from_db(fixed: Option<u64>, min: Option<u64>, max: Option<u64>) -> LinkAmount {
    match fixed {
        Some(amount) => LinkAmount::Fixed(amount),
        None => LinkAmount::Open { min, max },
    }
}

/// The other way round.
pub(crate) fn amount_to_db(amount: LinkAmount) -> (Option<u64>, Option<u64>, Option<u64>) {
    match amount {
        LinkAmount::Fixed(amount) => (Some(amount), None, None),
        LinkAmount::Open { min, max } => (None, min, max),
    }
}

/// [`LinkStore`] on either database: each query said once (`sql.rs`).
pub struct Links {
    db: Db,
}

impl Links {
    pub(crate) fn new(db: Db) -> Links {
        Links { db }
    }

    /// Every link, oldest first, and the link forms' secret if one was made: `migrate --to`.
    pub(crate) async fn dump(&self) -> Result<(Vec<PaymentLink>, Option<String>), StoreError> {
        let dialect = self.db.dialect();
        let links = self
            .db
            .query(&sql::select_all(dialect))
            .await?
            .iter()
            .map(sql::decode)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .map(|l| l.link)
            .collect();
        let secret = self.stored_secret().await?;
        Ok((links, secret))
    }

    async fn stored_secret(&self) -> Result<Option<String>, StoreError> {
        let select = Query::select()
            .column(name("secret"))
            .from(name(SECRET))
            .and_where(Expr::col(name("id")).eq(1))
            .to_owned();
        self.db
            .query(&select)
            .await?
            .first()
            .map(|row| row.text("secret"))
            .transpose()
    }
}

/// `migrate --to`: copies each of `links` in `tx` unless its id or key is there already, and
/// the link forms' secret unless there is one (so forms shown before the move still post).
/// The number of links written.
pub(crate) async fn import(
    tx: &Tx<'_>,
    links: &[PaymentLink],
    secret: Option<&str>,
) -> Result<u64, StoreError> {
    let mut written = 0;
    for link in links {
        let insert = sql::insert(
            tx.dialect(),
            link,
            OnConflict::new().do_nothing().to_owned(),
        )?;
        written = tx.execute(&insert).await?.saturating_add(written);
    }
    if let Some(secret) = secret {
        tx.execute(&insert_secret(secret)?).await?;
    }
    Ok(written)
}

/// Stores the link forms' secret unless one is there.
fn insert_secret(secret: &str) -> Result<sea_query::InsertStatement, StoreError> {
    let mut insert = Query::insert();
    insert
        .into_table(name(SECRET))
        .columns([name("id"), name("secret")])
        .values([1.into(), secret.into()])
        .map_err(|e| StoreError::Build(e.to_string()))?
        .on_conflict(OnConflict::new().do_nothing().to_owned());
    Ok(insert)
}

/// [`LinkStore::reserve_link_payment`]'s work, in `tx`.
async fn reserve_in(
    tx: &Tx<'_>,
    link_id: &str,
    key: &str,
    now: OffsetDateTime,
    ttl: Duration,
) -> Result<Reservation, StoreError> {
    let dialect = tx.dialect();
    // Every reservation of this link, on every instance, takes its turn from here to the
    // commit: the link's row lock on PostgreSQL, the IMMEDIATE transaction on SQLite.
    let mut lock = Query::select()
        .column(name("id"))
        .from(name(LINKS))
        .and_where(Expr::col(name("id")).eq(link_id))
        .to_owned();
    dialect.lock_for_update(&mut lock);
    if tx.query(&lock).await?.is_empty() {
        return Ok(Reservation::NoSuchLink);
    }
    let lapsed = Query::delete()
        .from_table(name(RESERVATIONS))
        .and_where(Expr::col(name("link_id")).eq(link_id))
        .and_where(Expr::col(name("expires_at")).lte(dialect.time(now, Unit::Millis)))
        .to_owned();
    tx.execute(&lapsed).await?;
    let rows = tx
        .query(&sql::select_link_use(dialect, link_id, key, now))
        .await?;
    let Some(row) = rows.first() else {
        return Ok(Reservation::NoSuchLink);
    };
    let found = sql::decode(row)?;
    let used = LinkUse {
        paid: found.paid_count,
        open: row.u64("open")?,
        reserved: row.u64("reserved")?,
    };
    if let Err(refusal) = may_create(&found.link, used, now) {
        return Ok(Reservation::Refused(refusal));
    }
    let mut reserve = Query::insert();
    reserve
        .into_table(name(RESERVATIONS))
        .columns([name("key"), name("link_id"), name("expires_at")])
        .values([
            key.into(),
            link_id.into(),
            dialect.time(after(now, ttl), Unit::Millis).into(),
        ])
        .map_err(|e| StoreError::Build(e.to_string()))?
        .on_conflict(
            OnConflict::column(name("key"))
                .update_column(name("expires_at"))
                .to_owned(),
        );
    tx.execute(&reserve).await?;
    Ok(Reservation::Reserved)
}

#[async_trait::async_trait]
impl LinkStore for Links {
    async fn insert_link(&self, l: &PaymentLink) -> Result<LinkInsert, StoreError> {
        // Of two creates with one key (on any instances), one inserts; the other finds it.
        let conflict = OnConflict::column(name("idempotency_key"))
            .do_nothing()
            .to_owned();
        let insert = sql::insert(self.db.dialect(), l, conflict)?;
        if self.db.execute(&insert).await? == 1 {
            return Ok(LinkInsert::Created);
        }
        let key = l.idempotency_key.as_deref().unwrap_or_default();
        let rows = self
            .db
            .query(&sql::select_link_by("idempotency_key", key))
            .await?;
        let existing =
            rows.first().map(sql::decode).transpose()?.ok_or_else(|| {
                StoreError::Corrupt("a link key conflict without its link".into())
            })?;
        Ok(LinkInsert::Existing(Box::new(existing)))
    }

    async fn link(&self, id: &str) -> Result<Option<LinkWithTotals>, StoreError> {
        let rows = self
            .db
            .query_fixed(&sql::LINK_BY_ID, vec![id.into()])
            .await?;
        rows.first().map(sql::decode).transpose()
    }

    async fn list_links(&self, filter: &LinkFilter) -> Result<Vec<LinkWithTotals>, StoreError> {
        let dialect = self.db.dialect();
        let before = match &filter.before_id {
            None => None,
            Some(id) => Some(self.db.position_of(sql::LINKS, id).await?),
        };
        let rows = self
            .db
            .query(&sql::select_page(dialect, filter, before))
            .await?;
        rows.iter().map(sql::decode).collect()
    }

    async fn set_link_active(&self, id: &str, active: bool) -> Result<bool, StoreError> {
        let update = Query::update()
            .table(name(LINKS))
            .value(name("active"), active)
            .and_where(Expr::col(name("id")).eq(id))
            .to_owned();
        Ok(self.db.execute(&update).await? == 1)
    }

    async fn reserve_link_payment(
        &self,
        link_id: &str,
        key: &str,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> Result<Reservation, StoreError> {
        let tx = self.db.begin().await?;
        // Refused or not, what was done is committed (lapsed reservations dropped); an error
        // drops `tx`, which rolls back.
        let outcome = reserve_in(&tx, link_id, key, now, ttl).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    async fn release_link_reservation(&self, key: &str) -> Result<(), StoreError> {
        let delete = Query::delete()
            .from_table(name(RESERVATIONS))
            .and_where(Expr::col(name("key")).eq(key))
            .to_owned();
        self.db.execute(&delete).await?;
        Ok(())
    }

    async fn link_form_secret(&self, candidate: &str) -> Result<String, StoreError> {
        // The first instance to ask stores its own; the row is never changed after.
        self.db.execute(&insert_secret(candidate)?).await?;
        self.stored_secret()
            .await?
            .ok_or_else(|| StoreError::Corrupt("no link form secret after storing one".into()))
    }
}
