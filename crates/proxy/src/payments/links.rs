//! Payment links through the payment service: create (with `Idempotency-Key`), read, list
//! and (de)activate links, and make a payment for one. A link's payment is created at
//! PayDigital before its row exists, so `max_payments` is held by a store reservation taken
//! first (counted with paid and open payments in one step, on every instance) and ended by
//! the payment's insert or, when the create fails, released.

use super::error::ServiceError;
use super::idempotency::{Idempotency, KeyScope};
use super::{Created, Page, Payments};
use crate::domain::ids;
use crate::domain::link_tokens::FormSecret;
use crate::domain::links::{LinkWithTotals, NewLink, NewLinkRequest, PaymentLink};
use crate::domain::new_payment::NewPayment;
use crate::domain::payment::Source;
use crate::store::links::{LinkFilter, LinkInsert, Reservation};
use std::time::Duration;
use time::OffsetDateTime;

/// How long a reservation holds a place while PayDigital is asked: far longer than a create
/// may take (the request timeout), short enough that a proxy killed mid-create frees the
/// place soon.
pub const RESERVATION_TTL: Duration = Duration::from_secs(120);

/// Why a customer's Pay on a link made nothing.
#[derive(Debug, thiserror::Error)]
pub enum LinkPayError {
    #[error(transparent)]
    Refused(#[from] crate::domain::links::LinkRefusal),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// What the link's form posts, as its idempotency fingerprint: one token, one link.
#[derive(serde::Serialize)]
struct LinkPress<'a> {
    link: &'a str,
}

impl Payments {
    /// The link forms' secret, read from the store once (every instance shares it).
    pub async fn form_secret(&self) -> Result<FormSecret, ServiceError> {
        if let Some(secret) = self.form_secret.get() {
            return Ok(secret.clone());
        }
        let candidate = FormSecret::generate();
        let stored = self
            .in_store(self.store.links().link_form_secret(&candidate))
            .await?;
        let secret = FormSecret::from_stored(&stored).ok_or_else(|| {
            ServiceError::Internal("the stored link form secret is malformed".into())
        })?;
        Ok(self.form_secret.get_or_init(|| secret).clone())
    }

    /// Creates a link, or answers the one an earlier request with the same key made
    /// (`true`: replayed); the same key with another request is a conflict.
    pub async fn create_link(
        &self,
        request: NewLinkRequest,
        key: Option<&str>,
        validated: NewLink,
    ) -> Result<(LinkWithTotals, bool), ServiceError> {
        let idempotency = key
            .map(|key| Idempotency::new(KeyScope::Merchant, key, &request))
            .transpose()?;
        let (idempotency_key, request_fingerprint) =
            idempotency.map(|i| (i.scoped_key, i.fingerprint)).unzip();
        let link = PaymentLink {
            id: ids::new_link_id(),
            title: validated.title,
            description: validated.description,
            amount: validated.amount,
            max_payments: validated.max_payments,
            expires_at: validated.expires_at,
            success_url: validated.success_url,
            metadata: validated.metadata,
            active: true,
            created_at: OffsetDateTime::now_utc(),
            idempotency_key,
            request_fingerprint,
        };
        match self.in_store(self.store.links().insert_link(&link)).await? {
            LinkInsert::Created => {
                tracing::info!(id = %link.id, "payment link created");
                let id = link.id.clone();
                let read = self.link(&id).await?;
                Ok((read, false))
            }
            LinkInsert::Existing(existing) => {
                if existing.link.request_fingerprint != link.request_fingerprint {
                    return Err(ServiceError::IdempotencyConflict);
                }
                Ok((*existing, true))
            }
        }
    }

    /// A link with its paid count and total. Anything not shaped like a link id is not
    /// found, without a store read.
    pub async fn link(&self, id: &str) -> Result<LinkWithTotals, ServiceError> {
        if !ids::looks_like_link_id(id) {
            return Err(ServiceError::NotFound);
        }
        self.in_store(self.store.links().link(id))
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// Links newest first, a page at a time.
    pub async fn list_links(
        &self,
        filter: LinkFilter,
    ) -> Result<Page<LinkWithTotals>, ServiceError> {
        let limit = filter.limit;
        let mut filter = filter;
        filter.limit = limit.saturating_add(1);
        let rows = self
            .in_store(self.store.links().list_links(&filter))
            .await?;
        Ok(Page::of(rows, limit, |l| l.link.id.as_str()))
    }

    /// Activates or deactivates a link (links are never deleted); the link as it is now.
    pub async fn set_link_active(
        &self,
        id: &str,
        active: bool,
    ) -> Result<LinkWithTotals, ServiceError> {
        if !ids::looks_like_link_id(id) {
            return Err(ServiceError::NotFound);
        }
        if !self
            .in_store(self.store.links().set_link_active(id, active))
            .await?
        {
            return Err(ServiceError::NotFound);
        }
        tracing::info!(id, active, "payment link changed");
        self.link(id).await
    }

    /// The payment `link`'s form with `nonce` made already, if it did (a reload, a double
    /// click): answered even once the link is sold out, since it may be the last place itself.
    pub async fn link_payment_made(
        &self,
        link: &PaymentLink,
        nonce: &str,
    ) -> Result<Option<Created>, ServiceError> {
        let idempotency = Idempotency::new(KeyScope::Link, nonce, &LinkPress { link: &link.id })?;
        self.made_with(&idempotency).await
    }

    /// A customer pressed Pay on `link`'s page with the form's one-time `nonce`: the payment
    /// that form made before (a reload, a double click), or a new one for `amount` if the link
    /// has room for it now.
    pub async fn pay_link(
        &self,
        link: &PaymentLink,
        amount: u64,
        nonce: &str,
    ) -> Result<Created, LinkPayError> {
        let idempotency = Idempotency::new(KeyScope::Link, nonce, &LinkPress { link: &link.id })?;
        // The form's payment, if it made one: it may fill the link's last place itself.
        if let Some(existing) = self.made_with(&idempotency).await? {
            return Ok(existing);
        }
        let key = idempotency.scoped_key.clone();
        let now = OffsetDateTime::now_utc();
        let reservation = self
            .in_store(
                self.store
                    .links()
                    .reserve_link_payment(&link.id, &key, now, RESERVATION_TTL),
            )
            .await?;
        match reservation {
            Reservation::Reserved => {}
            Reservation::Refused(refusal) => return Err(refusal.into()),
            Reservation::NoSuchLink => return Err(ServiceError::NotFound.into()),
        }
        let new = NewPayment {
            amount,
            item: None,
            source: Source::Link,
            description: link.title.clone(),
            customer_name: super::DEFAULT_LINK_CUSTOMER.to_owned(),
            reference: None,
            metadata: link.metadata.clone(),
            payment_link_id: Some(link.id.clone()),
            created_by: None,
        };
        let result = self.create(new, Some(idempotency)).await;
        // Stored: the insert ended the reservation. Failed, or made by a twin request of the
        // same form (whose insert may have ended it before this one was taken): drop it.
        if !matches!(
            &result,
            Ok(Created {
                replayed: false,
                ..
            })
        ) {
            if let Err(e) = self
                .in_store(self.store.links().release_link_reservation(&key))
                .await
            {
                tracing::warn!(error = %e, "cannot release a link reservation (it lapses)");
            }
        }
        Ok(result?)
    }
}
