//! What the payment service can fail with, in its own words: `http/` decides what each
//! means as an answer, the workers log them.

use crate::store::{StoreError, Unavailability};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("no such payment")]
    NotFound,
    /// A list was asked to continue after an id the store does not have.
    #[error("no {0} to continue the list after")]
    UnknownCursor(String),
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyConflict,
    /// Another request with this `Idempotency-Key` is still creating its payment (on this
    /// proxy or another) and did not finish in time: retry with the same key.
    #[error("a request with this Idempotency-Key is still being processed")]
    IdempotencyInProgress,
    /// PayDigital said no or spoke nonsense: the detail is for the log only.
    #[error("upstream: {0}")]
    Upstream(String),
    #[error("PayDigital did not answer in time")]
    UpstreamTimeout,
    /// The group's budget of PayDigital calls is spent for this long.
    #[error("over the upstream budget for {0:?}")]
    UpstreamBusy(std::time::Duration),
    /// The store cannot answer now (a full disk, a held lock, an unreachable server): the
    /// reason is the shop's to read, the detail for the log only.
    #[error("store unavailable ({}): {detail}", reason.as_str())]
    StoreUnavailable {
        reason: Unavailability,
        detail: String,
    },
    /// A bug or a broken store: the detail is for the log only.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UnknownCursor(id) => ServiceError::UnknownCursor(id),
            StoreError::Unavailable { reason, detail } => {
                ServiceError::StoreUnavailable { reason, detail }
            }
            // Everything else, a row the store expected included (`NotFound`: the service
            // asks for payments by `Option`, so a missing one here is a bug or a broken
            // store, not the client's 404).
            e => ServiceError::Internal(e.to_string()),
        }
    }
}
