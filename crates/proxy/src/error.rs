//! The one error type handlers return. Each variant is one `code` of the contract; what is
//! internal (store failures, upstream's own words) is logged here and never sent.

use axum::extract::rejection::JsonRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use paydigital::api::{ErrorBody, ErrorDetail};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed: bad JSON, wrong types, text too long.
    #[error("{0}")]
    InvalidRequest(String),
    /// One field of the request is wrong; the answer names it (`"field": "amount"`).
    #[error("{message}")]
    InvalidField { field: String, message: String },
    /// The merchant API without the right key.
    #[error("a valid merchant key is required: Authorization: Bearer <CHECKOUT_MERCHANT_KEY>")]
    Unauthorized,
    #[error("amount must be a whole number of rupiah from {min} to {max}")]
    AmountOutOfRange { min: u64, max: u64 },
    #[error("unknown item {0:?}")]
    UnknownItem(String),
    #[error("this origin may not use this checkout")]
    OriginNotAllowed,
    #[error("no such payment")]
    NotFound,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("too many payments created from this address; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyConflict,
    /// Upstream said no or spoke nonsense. The detail is for the log only.
    #[error("the payment provider could not create this payment; please try again")]
    Upstream(String),
    #[error("the payment provider did not answer in time; please try again")]
    UpstreamTimeout,
    /// Another request with this `Idempotency-Key` is still creating its payment (on this
    /// proxy or another) and did not finish in time: retry with the same key.
    #[error("a request with this Idempotency-Key is still being processed; retry in a moment")]
    IdempotencyInProgress,
    /// The database cannot be reached. The detail is for the log only.
    #[error("the payment store is not available; please try again")]
    StoreUnavailable(String),
    /// A bug or a broken store. The detail is for the log only.
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::InvalidRequest(_)
            | AppError::InvalidField { .. }
            | AppError::AmountOutOfRange { .. }
            | AppError::UnknownItem(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::OriginNotAllowed => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::IdempotencyConflict | AppError::IdempotencyInProgress => StatusCode::CONFLICT,
            AppError::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Upstream(_) => StatusCode::BAD_GATEWAY,
            AppError::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::InvalidRequest(_) | AppError::InvalidField { .. } => "invalid_request",
            AppError::Unauthorized => "unauthorized",
            AppError::AmountOutOfRange { .. } => "amount_out_of_range",
            AppError::UnknownItem(_) => "unknown_item",
            AppError::OriginNotAllowed => "origin_not_allowed",
            AppError::NotFound => "not_found",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::IdempotencyConflict => "idempotency_conflict",
            AppError::IdempotencyInProgress => "idempotency_in_progress",
            AppError::StoreUnavailable(_) => "store_unavailable",
            AppError::Upstream(_) => "upstream_error",
            AppError::UpstreamTimeout => "upstream_timeout",
            AppError::Internal(_) => "internal_error",
        }
    }
}

impl AppError {
    /// `field` is wrong, as `message` says.
    pub fn field(field: &str, message: impl Into<String>) -> AppError {
        AppError::InvalidField {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    fn field_name(&self) -> Option<String> {
        match self {
            AppError::InvalidField { field, .. } => Some(field.clone()),
            AppError::AmountOutOfRange { .. } => Some("amount".to_owned()),
            _ => None,
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else {
            AppError::InvalidRequest(rejection.body_text())
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            AppError::Upstream(detail) => tracing::warn!(%detail, "upstream failure"),
            AppError::UpstreamTimeout => tracing::warn!("upstream timeout"),
            AppError::Internal(detail) => tracing::error!(%detail, "internal error"),
            AppError::StoreUnavailable(detail) => tracing::error!(%detail, "store unavailable"),
            _ => {}
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.to_string(),
                field: self.field_name(),
            },
        };
        let mut response = (self.status(), axum::Json(body)).into_response();
        if let AppError::Unauthorized = self {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let AppError::StoreUnavailable(_) | AppError::IdempotencyInProgress = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let AppError::RateLimited { retry_after_secs } = self {
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}
