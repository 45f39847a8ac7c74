//! Telling the shop's server (Standard Webhooks): signing secrets and signatures, one
//! attempt to send an event ([`Sender`]), and what follows an attempt (the retry schedule,
//! `Retry-After`, 410). Events come from the outbox the store writes with every state change;
//! `crate::workers::deliver` claims them and calls this.

use crate::config::{WebhookConfig, WebhookSecret};
use crate::store::{AfterAttempt, EventRecord};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;
use std::time::Duration;
use time::OffsetDateTime;

/// A receiver has this long to answer 2xx.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);
/// A `Retry-After` longer than this is read as this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// `v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`.
pub fn sign(secret: &WebhookSecret, id: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes keys of any length: this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header: one `v1,…` per secret, separated by spaces (Standard
/// Webhooks' way to rotate: a receiver accepts any one it knows).
pub fn signatures(secrets: &[WebhookSecret], id: &str, timestamp: i64, body: &str) -> String {
    secrets
        .iter()
        .map(|secret| sign(secret, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A new signing secret: `whsec_` + base64 of 32 bytes from the OS's random source.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill(&mut bytes);
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx.
    Delivered(u16),
    /// 410 Gone: the receiver wants no more of this event.
    Gone,
    /// Anything else: retried, not before `retry_after` if the receiver said so.
    Failed {
        outcome: String,
        retry_after: Option<Duration>,
    },
}

impl Outcome {
    /// How the events API and the command line show it: `HTTP 503`, `timeout`...
    pub fn describe(&self) -> String {
        match self {
            Outcome::Delivered(status) => format!("HTTP {status}"),
            Outcome::Gone => "HTTP 410".to_owned(),
            Outcome::Failed { outcome, .. } => outcome.clone(),
        }
    }
}

/// What follows an attempt: the `attempts`-th (counting this one) came to `outcome`.
pub fn after_attempt(
    outcome: &Outcome,
    attempts: u32,
    schedule: &[Duration],
    now: OffsetDateTime,
    jitter: f64,
) -> AfterAttempt {
    match outcome {
        Outcome::Delivered(_) => AfterAttempt::Delivered,
        Outcome::Gone => AfterAttempt::Abandoned,
        Outcome::Failed { retry_after, .. } => {
            let Some(wait) = usize::try_from(attempts)
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| schedule.get(i))
            else {
                return AfterAttempt::Failed;
            };
            // ±10 %, so that a receiver back from an outage is not hit by everything at once.
            let factor = 1.0 + jitter.clamp(-0.1, 0.1);
            let jittered =
                Duration::try_from_secs_f64(wait.as_secs_f64() * factor).unwrap_or(Duration::MAX);
            let wait = match retry_after {
                Some(asked) => jittered.max((*asked).min(MAX_RETRY_AFTER)),
                None => jittered,
            };
            AfterAttempt::RetryAt(crate::domain::clock::after(now, wait))
        }
    }
}

/// `Retry-After` in seconds or as an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    at.duration_since(std::time::SystemTime::now()).ok()
}

/// Sends one event.
pub struct Sender {
    http: reqwest::Client,
    config: WebhookConfig,
}

impl Sender {
    pub fn new(config: WebhookConfig) -> Result<Sender, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(DELIVERY_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            // A redirect is not a delivery: the shop must fix its URL.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "paydigital-checkout-webhooks/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()?;
        Ok(Sender { http, config })
    }

    pub fn config(&self) -> &WebhookConfig {
        &self.config
    }

    /// One attempt, signed with this attempt's own time.
    pub async fn attempt(&self, event: &EventRecord, now: OffsetDateTime) -> Outcome {
        let timestamp = now.unix_timestamp();
        let signature = signatures(&self.config.secrets, &event.id, timestamp, &event.body);
        let sent = self
            .http
            .post(&self.config.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &event.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(event.body.clone())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {
                Outcome::Delivered(response.status().as_u16())
            }
            Ok(response) if response.status() == reqwest::StatusCode::GONE => Outcome::Gone,
            Ok(response) => Outcome::Failed {
                outcome: format!("HTTP {}", response.status().as_u16()),
                retry_after: retry_after(response.headers()),
            },
            Err(e) if e.is_timeout() => Outcome::Failed {
                outcome: "timeout".to_owned(),
                retry_after: None,
            },
            Err(e) => Outcome::Failed {
                // Without the URL: it may carry a token of the shop's.
                outcome: e.without_url().to_string(),
                retry_after: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn signs_as_the_standard_webhooks_example() {
        // The example of standard-webhooks' spec and libraries.
        let secret =
            WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn new_secrets_are_well_formed_and_distinct() {
        let secret = new_secret();
        assert_eq!(
            WebhookSecret::parse(&secret).map(|s| s.bytes().len()),
            Ok(32)
        );
        assert_ne!(new_secret(), secret);
    }

    #[test]
    fn retries_follow_the_schedule_with_jitter_and_retry_after_then_fail() {
        let now = datetime!(2026-11-24 08:00:00 UTC);
        let schedule = [Duration::from_secs(5), Duration::from_secs(300)];
        let failed = Outcome::Failed {
            outcome: "HTTP 503".into(),
            retry_after: None,
        };
        assert_eq!(
            after_attempt(&failed, 1, &schedule, now, 0.0),
            AfterAttempt::RetryAt(now + Duration::from_secs(5))
        );
        assert_eq!(
            after_attempt(&failed, 2, &schedule, now, 0.1),
            AfterAttempt::RetryAt(now + Duration::from_secs(330))
        );
        assert_eq!(
            after_attempt(&failed, 2, &schedule, now, -0.5),
            AfterAttempt::RetryAt(now + Duration::from_secs(270)),
            "jitter is at most 10 %"
        );
        assert_eq!(
            after_attempt(&failed, 3, &schedule, now, 0.0),
            AfterAttempt::Failed
        );
        let slow_down = Outcome::Failed {
            outcome: "HTTP 429".into(),
            retry_after: Some(Duration::from_secs(60)),
        };
        assert_eq!(
            after_attempt(&slow_down, 1, &schedule, now, 0.0),
            AfterAttempt::RetryAt(now + Duration::from_secs(60))
        );
        assert_eq!(
            after_attempt(&Outcome::Gone, 1, &schedule, now, 0.0),
            AfterAttempt::Abandoned
        );
        // A schedule at the edge of what a Duration holds neither panics nor wraps.
        let huge = [Duration::MAX];
        assert!(matches!(
            after_attempt(&failed, 1, &huge, now, 0.1),
            AfterAttempt::RetryAt(at) if at > now
        ));
        assert_eq!(
            after_attempt(&Outcome::Delivered(204), 1, &schedule, now, 0.0),
            AfterAttempt::Delivered
        );
    }
}
