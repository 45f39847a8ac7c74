//! What the store keeps of payment links (`domain/links.rs`): the links, what their paid
//! payments add up to, and the reservations that hold `max_payments` while a link's payment
//! is being created at PayDigital (the payment row does not exist yet then, so it could not
//! be counted). Both databases implement [`LinkStore`]; `suite.rs` runs it on both.

use super::StoreError;
use crate::domain::links::{LinkAmount, LinkRefusal, LinkWithTotals, PaymentLink};
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

pub trait LinkStore: Send + Sync + 'static {
    /// Stores a new link; one with the same idempotency key is not stored twice (the one
    /// there is returned).
    fn insert_link(&self, link: &PaymentLink) -> Result<LinkInsert, StoreError>;
    /// A link by its id, with its paid count and total.
    fn link(&self, id: &str) -> Result<Option<LinkWithTotals>, StoreError>;
    /// Links newest first, as the filter says.
    fn list_links(&self, filter: &LinkFilter) -> Result<Vec<LinkWithTotals>, StoreError>;
    /// Activates or deactivates a link; `false`: no such link.
    fn set_link_active(&self, id: &str, active: bool) -> Result<bool, StoreError>;
    /// In one step that no other reservation (on any instance) can interleave with: counts
    /// the link's paid payments, its open ones (pending, not expired at `now`) and its live
    /// reservations (other than `key`'s), asks [`crate::domain::links::may_create`], and if
    /// it may, reserves one more under `key` until `now + ttl`. Storing the payment with
    /// that idempotency key ends the reservation in the same transaction.
    fn reserve_link_payment(
        &self,
        link_id: &str,
        key: &str,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> Result<Reservation, StoreError>;
    /// Drops a reservation (its create failed). Dropping one that is not there is fine.
    fn release_link_reservation(&self, key: &str) -> Result<(), StoreError>;
    /// The secret link forms' tokens are MACed with, the same for every instance: the one
    /// stored, or `candidate` if none was (the first instance to ask stores its own).
    fn link_form_secret(&self, candidate: &str) -> Result<String, StoreError>;
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
