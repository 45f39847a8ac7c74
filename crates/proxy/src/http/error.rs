//! The one error type handlers return. Each variant is one `code` of the contract; what is
//! internal (store failures, upstream's own words) is logged here and never sent. The
//! service's and the domain's errors become answers here, and nowhere else.

use crate::domain::new_payment::Invalid;
use crate::payments::ServiceError;
use crate::store::Unavailability;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use paydigital::api::{ErrorBody, ErrorDetail};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
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
    /// The shop's budget of calls to PayDigital is spent for now.
    #[error("too many payments are being created right now; try again in {retry_after_secs} s")]
    UpstreamBusy { retry_after_secs: u64 },
    /// Another request with this `Idempotency-Key` is still creating its payment (on this
    /// proxy or another) and did not finish in time: retry with the same key.
    #[error("a request with this Idempotency-Key is still being processed; retry in a moment")]
    IdempotencyInProgress,
    /// The store cannot answer now: the reason is said in the shop's words (a full disk is
    /// not a bug), the detail is for the log only.
    #[error("{}; retry later", reason.describe())]
    StoreUnavailable {
        reason: Unavailability,
        detail: String,
    },
    /// A bug or a broken store. The detail is for the log only.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidRequest(_)
            | ApiError::InvalidField { .. }
            | ApiError::AmountOutOfRange { .. }
            | ApiError::UnknownItem(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::OriginNotAllowed => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::IdempotencyConflict | ApiError::IdempotencyInProgress => StatusCode::CONFLICT,
            ApiError::StoreUnavailable { .. } | ApiError::UpstreamBusy { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Upstream(_) => StatusCode::BAD_GATEWAY,
            ApiError::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    pub fn error_code(&self) -> ErrorCode {
        match self {
            ApiError::InvalidRequest(_) | ApiError::InvalidField { .. } => {
                ErrorCode::InvalidRequest
            }
            ApiError::Unauthorized => ErrorCode::Unauthorized,
            ApiError::AmountOutOfRange { .. } => ErrorCode::AmountOutOfRange,
            ApiError::UnknownItem(_) => ErrorCode::UnknownItem,
            ApiError::OriginNotAllowed => ErrorCode::OriginNotAllowed,
            ApiError::NotFound => ErrorCode::NotFound,
            ApiError::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            ApiError::RateLimited { .. } => ErrorCode::RateLimited,
            ApiError::IdempotencyConflict => ErrorCode::IdempotencyConflict,
            ApiError::IdempotencyInProgress => ErrorCode::IdempotencyInProgress,
            ApiError::StoreUnavailable { .. } => ErrorCode::StoreUnavailable,
            ApiError::Upstream(_) => ErrorCode::UpstreamError,
            ApiError::UpstreamTimeout => ErrorCode::UpstreamTimeout,
            ApiError::UpstreamBusy { .. } => ErrorCode::UpstreamBusy,
            ApiError::Internal(_) => ErrorCode::InternalError,
        }
    }
}

/// Every `error.code` the API answers with: the OpenAPI document's enum of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    Unauthorized,
    AmountOutOfRange,
    UnknownItem,
    OriginNotAllowed,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    IdempotencyConflict,
    IdempotencyInProgress,
    StoreUnavailable,
    UpstreamError,
    UpstreamTimeout,
    UpstreamBusy,
    InternalError,
}

impl ErrorCode {
    /// Every code, for the test that keeps [`ErrorCode::as_str`] and the document together.
    pub const ALL: [ErrorCode; 15] = [
        ErrorCode::InvalidRequest,
        ErrorCode::Unauthorized,
        ErrorCode::AmountOutOfRange,
        ErrorCode::UnknownItem,
        ErrorCode::OriginNotAllowed,
        ErrorCode::NotFound,
        ErrorCode::PayloadTooLarge,
        ErrorCode::RateLimited,
        ErrorCode::IdempotencyConflict,
        ErrorCode::IdempotencyInProgress,
        ErrorCode::StoreUnavailable,
        ErrorCode::UpstreamError,
        ErrorCode::UpstreamTimeout,
        ErrorCode::UpstreamBusy,
        ErrorCode::InternalError,
    ];

    /// The word the body carries (serde writes the same; a test checks).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::AmountOutOfRange => "amount_out_of_range",
            ErrorCode::UnknownItem => "unknown_item",
            ErrorCode::OriginNotAllowed => "origin_not_allowed",
            ErrorCode::NotFound => "not_found",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::IdempotencyConflict => "idempotency_conflict",
            ErrorCode::IdempotencyInProgress => "idempotency_in_progress",
            ErrorCode::StoreUnavailable => "store_unavailable",
            ErrorCode::UpstreamError => "upstream_error",
            ErrorCode::UpstreamTimeout => "upstream_timeout",
            ErrorCode::UpstreamBusy => "upstream_busy",
            ErrorCode::InternalError => "internal_error",
        }
    }
}

impl ApiError {
    /// `field` is wrong, as `message` says.
    pub fn field(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::InvalidField {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    fn field_name(&self) -> Option<String> {
        match self {
            ApiError::InvalidField { field, .. } => Some(field.clone()),
            ApiError::AmountOutOfRange { .. } => Some("amount".to_owned()),
            _ => None,
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        match invalid {
            Invalid::Request(message) => ApiError::InvalidRequest(message),
            Invalid::Field { field, message } => ApiError::InvalidField { field, message },
            Invalid::AmountOutOfRange { min, max } => ApiError::AmountOutOfRange { min, max },
            Invalid::UnknownItem(item) => ApiError::UnknownItem(item),
        }
    }
}

impl From<crate::payments::ChargeError> for ApiError {
    fn from(e: crate::payments::ChargeError) -> Self {
        match e {
            crate::payments::ChargeError::Invalid(invalid) => invalid.into(),
            crate::payments::ChargeError::Service(service) => service.into(),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound => ApiError::NotFound,
            ServiceError::UnknownCursor(id) => {
                ApiError::field("cursor", format!("no payment {id} to continue after"))
            }
            ServiceError::IdempotencyConflict => ApiError::IdempotencyConflict,
            ServiceError::IdempotencyInProgress => ApiError::IdempotencyInProgress,
            ServiceError::Upstream(detail) => ApiError::Upstream(detail),
            ServiceError::UpstreamTimeout => ApiError::UpstreamTimeout,
            ServiceError::UpstreamBusy(wait) => ApiError::UpstreamBusy {
                retry_after_secs: wait.as_secs() + 1,
            },
            ServiceError::StoreUnavailable { reason, detail } => {
                ApiError::StoreUnavailable { reason, detail }
            }
            ServiceError::Internal(detail) => ApiError::Internal(detail),
        }
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::InvalidRequest(rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Upstream(detail) => tracing::warn!(%detail, "upstream failure"),
            ApiError::UpstreamTimeout => tracing::warn!("upstream timeout"),
            ApiError::Internal(detail) => tracing::error!(%detail, "internal error"),
            ApiError::StoreUnavailable { reason, detail } => {
                tracing::error!(reason = reason.as_str(), %detail, "store unavailable")
            }
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
        if let ApiError::Unauthorized = self {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let ApiError::IdempotencyInProgress = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let ApiError::StoreUnavailable { reason, .. } = self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(reason.retry_after_secs()),
            );
        }
        if let ApiError::RateLimited { retry_after_secs }
        | ApiError::UpstreamBusy { retry_after_secs } = self
        {
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn each_code_is_written_as_the_document_names_it() {
        for code in ErrorCode::ALL {
            assert_eq!(
                serde_json::to_value(code).expect("serializes"),
                serde_json::json!(code.as_str())
            );
        }
    }
}
