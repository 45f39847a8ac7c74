//! `Idempotency-Key`: one payment per key, however often and wherever a request is retried.
//! Racing requests with one key queue on its lock in this proxy; across proxies the store's
//! key claim decides who creates upstream, and the others wait for its payment.

use super::error::ServiceError;
use super::{Created, Payments};
use crate::domain::new_payment::NewPayment;
use crate::store::KeyClaim;
use serde::Serialize;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// A key claim this old was left by a proxy that died mid-create: another may take it. Longer
/// than any create can take (the request timeout).
const KEY_CLAIM_STALE: Duration = Duration::from_secs(60);
/// How long a request waits for another proxy's create with the same key before answering
/// `idempotency_in_progress` (inside the request timeout).
const KEY_CLAIM_WAIT: Duration = Duration::from_secs(20);
/// How often the store is asked meanwhile.
const KEY_CLAIM_POLL: Duration = Duration::from_millis(50);

/// Who sent an `Idempotency-Key`: browsers and the shop's server have separate key spaces,
/// so a page cannot claim (or read back) a key the shop's server will use.
#[derive(Debug, Clone, Copy)]
pub enum KeyScope {
    Browser,
    Merchant,
    /// A payment link's form: the key is the form's one-time token.
    Link,
    /// A sale at the counter: the key is the sale's, made by the counter page, and it is
    /// the signed-in person's own (`counter:{email}:{key}`).
    Counter,
}

/// An `Idempotency-Key` with what it was sent with.
pub struct Idempotency {
    pub(super) scoped_key: String,
    /// The canonical request: the same key with another request is a conflict.
    pub(super) fingerprint: String,
}

impl Idempotency {
    /// `key` as sent by `scope`, with the request it came with. Request types serialize their
    /// fields in a fixed order (maps sorted), so the JSON is a canonical form of the request.
    pub fn new(
        scope: KeyScope,
        key: &str,
        request: &impl Serialize,
    ) -> Result<Idempotency, ServiceError> {
        let scope = match scope {
            KeyScope::Browser => "browser",
            KeyScope::Merchant => "merchant",
            KeyScope::Link => "link",
            KeyScope::Counter => "counter",
        };
        let fingerprint =
            serde_json::to_string(request).map_err(|e| ServiceError::Internal(e.to_string()))?;
        Ok(Idempotency {
            scoped_key: format!("{scope}:{key}"),
            fingerprint,
        })
    }
}

impl Payments {
    /// Creates a payment, or finds the one an earlier request with the same idempotency key
    /// made.
    pub async fn create(
        &self,
        new: NewPayment,
        idempotency: Option<Idempotency>,
    ) -> Result<Created, ServiceError> {
        let Some(idempotency) = idempotency else {
            let record = self.create_upstream(new, None).await?;
            return Ok(Created {
                record,
                replayed: false,
            });
        };
        let key = idempotency.scoped_key.clone();
        let lock = self.creating.get(&key);
        let result = async {
            let _guard = lock.lock().await;
            self.create_once(new, idempotency).await
        }
        .await;
        drop(lock);
        self.creating.forget(&key);
        result
    }

    /// [`Payments::create`], carried to its end in a task of its own: a browser that goes
    /// away mid-create (a checkout destroyed at once: React StrictMode mounts, destroys and
    /// mounts again) would otherwise drop it holding the key's claim, and the next mount with
    /// the same key would wait for it, then get `idempotency_in_progress` (issue 33).
    pub async fn create_to_the_end(
        self: &std::sync::Arc<Self>,
        new: NewPayment,
        idempotency: Option<Idempotency>,
    ) -> Result<Created, ServiceError> {
        let payments = self.clone();
        tokio::spawn(async move { payments.create(new, idempotency).await })
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?
    }

    /// The payment made with `idempotency`'s key, found or created here once the key is
    /// claimed; waits (polling the store) while another proxy holds the claim.
    async fn create_once(
        &self,
        new: NewPayment,
        idempotency: Idempotency,
    ) -> Result<Created, ServiceError> {
        let waiting_since = Instant::now();
        loop {
            if let Some(existing) = self.made_with(&idempotency).await? {
                return Ok(existing);
            }
            let now = OffsetDateTime::now_utc();
            let claim = self
                .in_store(self.store.claims().claim_idempotency_key(
                    &idempotency.scoped_key,
                    &idempotency.fingerprint,
                    now,
                    KEY_CLAIM_STALE,
                ))
                .await?;
            match claim {
                KeyClaim::Mine => {
                    // The holder before us may have stored its payment between our look and
                    // our claim.
                    if let Some(existing) = self.made_with(&idempotency).await? {
                        self.release_key(&idempotency.scoped_key).await;
                        return Ok(existing);
                    }
                    let key = idempotency.scoped_key.clone();
                    return match self.create_upstream(new, Some(idempotency)).await {
                        Ok(record) => Ok(Created {
                            record,
                            replayed: false,
                        }),
                        Err(e) => {
                            self.release_key(&key).await;
                            Err(e)
                        }
                    };
                }
                KeyClaim::Held { fingerprint } if fingerprint != idempotency.fingerprint => {
                    return Err(ServiceError::IdempotencyConflict);
                }
                KeyClaim::Held { .. } => {
                    if waiting_since.elapsed() > KEY_CLAIM_WAIT {
                        return Err(ServiceError::IdempotencyInProgress);
                    }
                    tokio::time::sleep(KEY_CLAIM_POLL).await;
                }
            }
        }
    }

    /// The payment an earlier request with this key made: a replay, or a conflict if that
    /// request was another.
    pub(super) async fn made_with(
        &self,
        idempotency: &Idempotency,
    ) -> Result<Option<Created>, ServiceError> {
        let Some(existing) = self
            .in_store(
                self.store
                    .payments()
                    .find_by_idempotency_key(&idempotency.scoped_key),
            )
            .await?
        else {
            return Ok(None);
        };
        if existing.request_fingerprint.as_deref() != Some(idempotency.fingerprint.as_str()) {
            return Err(ServiceError::IdempotencyConflict);
        }
        Ok(Some(Created {
            record: existing,
            replayed: true,
        }))
    }

    /// Gives a key claim back, so that a retry may create; if this fails, the claim lapses
    /// after [`KEY_CLAIM_STALE`].
    async fn release_key(&self, key: &str) {
        if let Err(e) = self
            .in_store(self.store.claims().release_idempotency_key(key))
            .await
        {
            tracing::warn!(error = %e, "cannot release an idempotency key claim");
        }
    }
}
