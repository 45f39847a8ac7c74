//! The PayDigital client: the only code that holds the key on the wire.

use super::budget::{Budget, Call, Limits};
use crate::config::{Config, UpstreamConfig};
use crate::logs::{Redactor, RedactorError};
use crate::metrics::Metrics;
use crate::store::PaymentStore;
use paydigital::wire::{self, CreateForm, CreateReply, StatusReply, UpstreamError};
use std::sync::Arc;
use std::time::Duration;

/// Why an upstream call failed. Details are for logs; shoppers see 502 or 504.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamFailure {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("could not reach PayDigital: {0}")]
    Transport(String),
    #[error("HTTP {status}: {detail}")]
    Http { status: u16, detail: String },
    /// The group's budget for PayDigital calls is spent for this long: not asked.
    #[error("over the upstream budget for {0:?}")]
    OverBudget(Duration),
    /// The budget could not be read from the store: not asked (only a create hears this).
    #[error("the upstream budget cannot be read: {detail}")]
    StoreUnavailable {
        reason: crate::store::Unavailability,
        detail: String,
    },
    #[error("the answer is longer than {0} bytes")]
    TooLarge(usize),
    #[error(transparent)]
    Reply(#[from] UpstreamError),
}

impl UpstreamFailure {
    /// Worth one more try for a read (a blip, a busy server); never for a create.
    fn is_transient(&self) -> bool {
        match self {
            UpstreamFailure::Transport(_) => true,
            UpstreamFailure::Http { status, .. } => *status >= 500,
            UpstreamFailure::Reply(UpstreamError::Empty | UpstreamError::NotJson { .. }) => true,
            _ => false,
        }
    }

    /// The outcome label of a call that was made (`checkout_upstream_calls_total`).
    fn label(&self) -> &'static str {
        match self {
            UpstreamFailure::Timeout(_) => "timeout",
            UpstreamFailure::Transport(_) => "transport",
            UpstreamFailure::Http { status, .. } if *status >= 500 => "http_5xx",
            UpstreamFailure::Http { .. } => "http_4xx",
            UpstreamFailure::OverBudget(_) | UpstreamFailure::StoreUnavailable { .. } => {
                "over_budget"
            }
            UpstreamFailure::TooLarge(_) => "too_large",
            UpstreamFailure::Reply(UpstreamError::Refused { .. }) => "refused",
            UpstreamFailure::Reply(_) => "bad_answer",
        }
    }
}

impl From<super::budget::Refused> for UpstreamFailure {
    fn from(refused: super::budget::Refused) -> UpstreamFailure {
        match refused {
            super::budget::Refused::Over(wait) => UpstreamFailure::OverBudget(wait),
            super::budget::Refused::Store { reason, detail } => {
                UpstreamFailure::StoreUnavailable { reason, detail }
            }
        }
    }
}

/// Why the client could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error(transparent)]
    Redactor(#[from] RedactorError),
}

/// The longest answer read from PayDigital.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// How many times a status read is tried.
const STATUS_ATTEMPTS: u32 = 2;

#[derive(Clone)]
pub struct Upstream {
    http: reqwest::Client,
    config: UpstreamConfig,
    /// Every call, retries too, takes one from it first.
    budget: Arc<Budget>,
    metrics: Arc<Metrics>,
    /// The key, in every form, out of every answer before any of it is kept: the log's
    /// writer redacts whole secrets, but an excerpt cut inside the key would keep a part it
    /// no longer recognises.
    redactor: Redactor,
}

impl Upstream {
    /// The client for `config`'s PayDigital, with the budget the group shares in `store`
    /// (`CHECKOUT_UPSTREAM_MAX_RPS`, `CHECKOUT_UPSTREAM_MAX_CREATES_PER_MIN`).
    /// Calls, their outcomes and the budget's refusals are counted in `metrics`.
    pub fn for_group(
        config: &Config,
        store: Arc<dyn PaymentStore>,
        metrics: Arc<Metrics>,
    ) -> Result<Upstream, ClientError> {
        let limits = Limits {
            status_per_second: config.upstream_max_rps,
            creates_per_minute: config.upstream_max_creates_per_min,
        };
        Upstream::new(
            config.upstream.clone(),
            Arc::new(Budget::new(store, limits, metrics.clone())),
            metrics,
        )
    }

    pub fn new(
        config: UpstreamConfig,
        budget: Arc<Budget>,
        metrics: Arc<Metrics>,
    ) -> Result<Upstream, ClientError> {
        let redactor = Redactor::new([config.api_key.expose()])?;
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("paydigital-checkout/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Upstream {
            http,
            config,
            budget,
            metrics,
            redactor,
        })
    }

    /// `Some(wait)` when the budget is known to refuse `call` for now.
    pub fn over_budget(&self, call: Call) -> Option<Duration> {
        self.budget.refused(call)
    }

    pub fn config(&self) -> &UpstreamConfig {
        &self.config
    }

    /// Creates a payment. Never retried: a create that timed out may have happened.
    pub async fn create(
        &self,
        amount: u64,
        description: &str,
        customer_name: &str,
    ) -> Result<CreateReply, UpstreamFailure> {
        self.budget
            .take(Call::Create)
            .await
            .map_err(UpstreamFailure::from)?;
        let request = CreateForm {
            store_id: self.config.store_id.clone(),
            amount,
            description: description.to_owned(),
            customer_name: customer_name.to_owned(),
        };
        let form = serde_urlencoded::to_string(request.form_fields())
            .map_err(|e| UpstreamFailure::Transport(e.to_string()))?;
        let started = std::time::Instant::now();
        let result = async {
            let body = self
                .send(
                    self.http
                        .post(format!("{}/api/create_payment.php", self.config.base_url))
                        .header(
                            reqwest::header::CONTENT_TYPE,
                            "application/x-www-form-urlencoded",
                        )
                        .body(form),
                )
                .await?;
            Ok(wire::parse_create(&body, self.config.zone)?)
        }
        .await;
        self.count("create", &result, started);
        result
    }

    /// One call made: its outcome and how long it took.
    fn count<T>(
        &self,
        kind: &'static str,
        result: &Result<T, UpstreamFailure>,
        started: std::time::Instant,
    ) {
        let outcome = match result {
            Ok(_) => "ok",
            Err(failure) => failure.label(),
        };
        self.metrics.upstream_call(kind, outcome, started.elapsed());
    }

    /// Reads a payment's status, trying once more after a transient failure (if the budget
    /// allows: a retry is a call like any other). `call` says who waits for it.
    pub async fn status(&self, invoice: &str, call: Call) -> Result<StatusReply, UpstreamFailure> {
        let mut attempt = 1;
        loop {
            self.budget
                .take(call)
                .await
                .map_err(UpstreamFailure::from)?;
            let started = std::time::Instant::now();
            let result: Result<StatusReply, UpstreamFailure> = async {
                let body = self
                    .send(
                        self.http
                            .get(format!("{}/api/payment.php", self.config.base_url))
                            .query(&[("invoice", invoice)]),
                    )
                    .await?;
                Ok(wire::parse_status(&body, self.config.zone)?)
            }
            .await;
            self.count("status", &result, started);
            match result {
                Err(failure) if attempt < STATUS_ATTEMPTS && failure.is_transient() => {
                    tracing::info!(invoice, %failure, "retrying status read");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<String, UpstreamFailure> {
        let response = request
            .bearer_auth(self.config.api_key.expose())
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let status = response.status();
        let body = self.read_capped(response).await?;
        if let Some(noise) = wire::leading_noise(&body) {
            tracing::warn!(%noise, "PayDigital printed something before its JSON");
        }
        if !status.is_success() {
            // A refusal may come with any status: read it for the log if it is JSON.
            let detail = match wire::parse_status(&body, self.config.zone) {
                Err(UpstreamError::Refused { message, .. }) => message,
                _ => wire::excerpt(&body),
            };
            return Err(UpstreamFailure::Http {
                status: status.as_u16(),
                detail,
            });
        }
        Ok(body)
    }

    /// The answer's body, as text, if it is no longer than [`MAX_ANSWER_BYTES`]: PayDigital
    /// answers in a few hundred bytes, and a broken or hostile server must not fill memory.
    async fn read_capped(
        &self,
        mut response: reqwest::Response,
    ) -> Result<String, UpstreamFailure> {
        if response
            .content_length()
            .is_some_and(|length| length > MAX_ANSWER_BYTES as u64)
        {
            return Err(UpstreamFailure::TooLarge(MAX_ANSWER_BYTES));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport(e))? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(UpstreamFailure::TooLarge(MAX_ANSWER_BYTES));
            }
            body.extend_from_slice(&chunk);
        }
        // Whatever of it is logged later (an excerpt, PayDigital's message) has no key in it.
        Ok(String::from_utf8_lossy(&self.redactor.redact_bytes(&body)).into_owned())
    }

    fn transport(&self, error: reqwest::Error) -> UpstreamFailure {
        if error.is_timeout() {
            UpstreamFailure::Timeout(self.config.timeout)
        } else {
            // Without the URL: it is ours, and query strings are nobody's business.
            UpstreamFailure::Transport(error.without_url().to_string())
        }
    }
}
