//! What the payment service can fail with, in its own words: `http/` decides what each
//! means as an answer, the workers log them.

use crate::store::StoreError;

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
    /// The database cannot be reached: the detail is for the log only.
    #[error("store unavailable: {0}")]
    StoreUnavailable(String),
    /// A bug or a broken store: the detail is for the log only.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UnknownCursor(id) => ServiceError::UnknownCursor(id),
            StoreError::Unavailable(detail) => ServiceError::StoreUnavailable(detail),
            // The connection broke under the query (a database restart, a network cut).
            StoreError::Postgres(e) if e.as_db_error().is_none() => {
                ServiceError::StoreUnavailable(e.to_string())
            }
            e => ServiceError::Internal(e.to_string()),
        }
    }
}
