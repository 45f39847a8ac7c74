//! One state machine for a payment's life: loading → pending → paid | expired | error.
//!
//! Pure Rust with an injected clock (`now_ms`, a monotonic millisecond count such as
//! `performance.now()`), so every transition is tested natively; the view only renders it.

use paydigital::api::Payment;
use paydigital::Status;

/// Longest wait between status reads while the proxy cannot be reached.
pub const MAX_BACKOFF_MS: u32 = 30_000;

/// A QRIS code stays payable after its time is up, so an expired payment is still checked
/// now and then: a customer who paid at the last second sees paid, not "expired".
pub const LATE_CHECKS: u32 = 60;
pub const LATE_CHECK_INTERVAL_MS: u32 = 10_000;

/// A shopper back from the wallet app may not want to wait for the next read: after this
/// long pending, "I've paid — check now" is offered...
pub const CHECK_NOW_AFTER_MS: f64 = 20_000.0;
/// ...and reads at most this often, however often it is pressed.
pub const CHECK_NOW_EVERY_MS: f64 = 5_000.0;

/// Why there is no QR to show. Serialized as `{code, message}`: the `detail` of
/// `paydigital:error`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Failure {
    #[serde(skip)]
    pub kind: FailureKind,
    /// `snake_case`, as in the proxy's errors (`network`, `invalid_qr`, `rate_limited`...).
    pub code: String,
    /// For developers and the host page; customers see translated text.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The proxy could not be reached or did not answer sensibly.
    Network,
    /// The proxy answered with an error.
    Proxy,
    /// The QR code failed verification: it is never drawn.
    InvalidQr,
    /// The embedding page set the widget up wrongly.
    Config,
}

impl Failure {
    pub fn new(kind: FailureKind, code: &str, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// What the customer sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    Loading,
    Pending(Payment),
    Paid(Payment),
    Expired(Payment),
    Error(Failure),
}

/// The phase's name, reflected in the host's `data-state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseKind {
    Loading,
    Pending,
    Paid,
    Expired,
    Error,
}

impl PhaseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseKind::Loading => "loading",
            PhaseKind::Pending => "pending",
            PhaseKind::Paid => "paid",
            PhaseKind::Expired => "expired",
            PhaseKind::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Checkout {
    phase: Phase,
    /// When the code expires, on the `now_ms` clock: the proxy's `expires_in` counted from
    /// when its answer arrived, so a wrong phone clock does not matter.
    deadline_ms: f64,
    /// Status reads failed in a row.
    failures: u32,
    poll_interval_ms: u32,
    /// One more read right after the countdown ends, for a payment made in the last seconds.
    late_check_due: bool,
    /// Slow reads left after expiry.
    late_checks_left: u32,
    /// When the code was first shown pending, for "check now".
    pending_since_ms: f64,
    /// When "check now" last read.
    checked_now_ms: Option<f64>,
    /// The last payment came from a sandbox proxy (`livemode: false`). Kept across a retry
    /// or a new code, so the badge does not blink off while loading.
    test_mode: bool,
}

impl Checkout {
    pub fn new(poll_interval_ms: u32) -> Checkout {
        Checkout {
            phase: Phase::Loading,
            deadline_ms: 0.0,
            failures: 0,
            poll_interval_ms,
            late_check_due: false,
            late_checks_left: 0,
            pending_since_ms: 0.0,
            checked_now_ms: None,
            test_mode: false,
        }
    }

    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    pub fn kind(&self) -> PhaseKind {
        match self.phase {
            Phase::Loading => PhaseKind::Loading,
            Phase::Pending(_) => PhaseKind::Pending,
            Phase::Paid(_) => PhaseKind::Paid,
            Phase::Expired(_) => PhaseKind::Expired,
            Phase::Error(_) => PhaseKind::Error,
        }
    }

    /// The payment shown, in any phase that has one.
    pub fn payment(&self) -> Option<&Payment> {
        match &self.phase {
            Phase::Pending(p) | Phase::Paid(p) | Phase::Expired(p) => Some(p),
            Phase::Loading | Phase::Error(_) => None,
        }
    }

    /// A payment arrived from a create (or from a resumed invoice). Its code is checked
    /// before anything is shown: valid QRIS, CRC holds, amount equals `total_amount`.
    pub fn created(&mut self, payment: Payment, now_ms: f64) {
        self.test_mode = !payment.livemode;
        if let Err(e) =
            paydigital::qris::verify_for_total(&payment.qr_content, payment.total_amount)
        {
            self.phase = Phase::Error(Failure::new(
                FailureKind::InvalidQr,
                "invalid_qr",
                e.to_string(),
            ));
            return;
        }
        self.failures = 0;
        self.late_check_due = false;
        self.late_checks_left = LATE_CHECKS;
        self.deadline_ms = now_ms + payment.expires_in as f64 * 1000.0;
        self.pending_since_ms = now_ms;
        self.checked_now_ms = None;
        self.phase = match payment.status {
            Status::Pending if payment.expires_in > 0 => Phase::Pending(payment),
            Status::Pending | Status::Expired => Phase::Expired(payment),
            Status::Paid => Phase::Paid(payment),
        };
    }

    /// A create failed.
    pub fn create_failed(&mut self, failure: Failure) {
        self.phase = Phase::Error(failure);
    }

    /// A status read answered. Paid wins from pending and from expired (a late payment);
    /// nothing leaves paid.
    pub fn status_read(&mut self, read: Payment, now_ms: f64) {
        let same_payment = self.payment().is_some_and(|p| p.id == read.id);
        if !same_payment || self.kind() == PhaseKind::Paid {
            return;
        }
        self.failures = 0;
        self.late_check_due = false;
        if self.kind() == PhaseKind::Expired {
            self.late_checks_left = self.late_checks_left.saturating_sub(1);
        }
        // The proxy's word on the code stays: status reads do not change what is drawn.
        let shown = match self.payment() {
            Some(p) => Payment {
                qr_content: p.qr_content.clone(),
                ..read
            },
            None => return,
        };
        match shown.status {
            Status::Paid => self.phase = Phase::Paid(shown),
            Status::Expired if self.kind() == PhaseKind::Pending => {
                self.late_checks_left = LATE_CHECKS;
                self.phase = Phase::Expired(shown);
            }
            Status::Expired => self.phase = Phase::Expired(shown),
            Status::Pending if self.kind() == PhaseKind::Pending => {
                self.deadline_ms = now_ms + shown.expires_in as f64 * 1000.0;
                self.phase = Phase::Pending(shown);
            }
            Status::Pending => {}
        }
    }

    /// A status read failed (network, 5xx): back off, show "reconnecting".
    pub fn read_failed(&mut self) {
        self.failures = self.failures.saturating_add(1);
        if self.kind() == PhaseKind::Expired {
            self.late_check_due = false;
            self.late_checks_left = self.late_checks_left.saturating_sub(1);
        }
    }

    /// The clock moved: a pending code whose time is up expires (with one late check).
    pub fn tick(&mut self, now_ms: f64) {
        if let Phase::Pending(payment) = &self.phase {
            if now_ms >= self.deadline_ms {
                self.phase = Phase::Expired(payment.clone());
                self.late_check_due = true;
                self.late_checks_left = LATE_CHECKS;
            }
        }
    }

    /// Back to loading, for "try again" and "new code".
    pub fn restart(&mut self) {
        let test_mode = self.test_mode;
        *self = Checkout::new(self.poll_interval_ms);
        self.test_mode = test_mode;
    }

    /// Whether to show MODE UJI / TEST MODE: the payment (or the last one) is a sandbox's.
    pub fn test_mode(&self) -> bool {
        self.test_mode
    }

    /// Paid, and the proxy says after it had recorded the code expired.
    pub fn paid_late(&self) -> bool {
        matches!(&self.phase, Phase::Paid(p) if p.late)
    }

    /// Whether "I've paid — check now" is offered: pending for 20 s or more.
    pub fn offers_check_now(&self, now_ms: f64) -> bool {
        self.kind() == PhaseKind::Pending && now_ms - self.pending_since_ms >= CHECK_NOW_AFTER_MS
    }

    /// Whether "check now" is resting after a read (at most one per 5 s).
    pub fn check_now_resting(&self, now_ms: f64) -> bool {
        self.checked_now_ms
            .is_some_and(|at| now_ms - at < CHECK_NOW_EVERY_MS)
    }

    /// "Check now" was pressed: `true` when a read is to be made now (and counted).
    pub fn check_now(&mut self, now_ms: f64) -> bool {
        if !self.offers_check_now(now_ms) || self.check_now_resting(now_ms) {
            return false;
        }
        self.checked_now_ms = Some(now_ms);
        true
    }

    /// Whole seconds left on the countdown.
    pub fn remaining_secs(&self, now_ms: f64) -> u64 {
        let left = (self.deadline_ms - now_ms) / 1000.0;
        if left > 0.0 {
            left.ceil() as u64
        } else {
            0
        }
    }

    /// Status reads are failing.
    pub fn reconnecting(&self) -> bool {
        self.failures > 0 && self.kind() == PhaseKind::Pending
    }

    /// How long until the next status read, or `None` when there is nothing to wait for.
    /// `jitter` in `[0, 1)` spreads retries of many phones over ±20 %.
    pub fn next_read_in_ms(&self, jitter: f64) -> Option<u32> {
        match self.kind() {
            PhaseKind::Pending if self.failures == 0 => Some(self.poll_interval_ms),
            PhaseKind::Pending => {
                let exponent = self.failures.min(16);
                let backoff = (self.poll_interval_ms as f64 * 2f64.powi(exponent as i32))
                    .min(MAX_BACKOFF_MS as f64);
                let spread = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
                Some((backoff * spread) as u32)
            }
            PhaseKind::Expired if self.late_check_due => Some(0),
            PhaseKind::Expired if self.late_checks_left > 0 => Some(LATE_CHECK_INTERVAL_MS),
            _ => None,
        }
    }

    /// Whether status reads are still worth making (for a tab that becomes visible again).
    pub fn wants_reads(&self) -> bool {
        match self.kind() {
            PhaseKind::Pending => true,
            PhaseKind::Expired => self.late_check_due || self.late_checks_left > 0,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paydigital::qris::{MerchantAccount, QrisBuilder};

    fn code(total: u64) -> String {
        QrisBuilder::new("Toko Kopi", "JAKARTA")
            .merchant_account(MerchantAccount::national("ID1026000000001", "UMI"))
            .amount(total)
            .build()
            .expect("valid")
    }

    fn payment(status: Status, expires_in: u64) -> Payment {
        Payment {
            id: "pay_0000000000000000000001".into(),
            invoice: "PYG1".into(),
            status,
            amount: 10_000,
            unique_code: 387,
            total_amount: 10_387,
            qr_content: code(10_387),
            payment_url: None,
            expires_at: "2026-11-24T15:19:05+07:00".into(),
            expires_in,
            server_time: "2026-11-24T15:04:05+07:00".into(),
            paid_at: None,
            late: false,
            livemode: true,
            receipt_url: None,
        }
    }

    #[test]
    fn pending_then_paid() {
        let mut checkout = Checkout::new(3000);
        assert_eq!(checkout.kind(), PhaseKind::Loading);
        assert_eq!(checkout.next_read_in_ms(0.5), None);
        checkout.created(payment(Status::Pending, 900), 1_000.0);
        assert_eq!(checkout.kind(), PhaseKind::Pending);
        assert_eq!(checkout.remaining_secs(1_000.0), 900);
        assert_eq!(checkout.next_read_in_ms(0.5), Some(3000));
        checkout.status_read(payment(Status::Paid, 880), 21_000.0);
        assert_eq!(checkout.kind(), PhaseKind::Paid);
        assert_eq!(checkout.next_read_in_ms(0.5), None, "polling stops on paid");
        checkout.status_read(payment(Status::Expired, 0), 22_000.0);
        assert_eq!(checkout.kind(), PhaseKind::Paid, "paid is final");
    }

    #[test]
    fn a_code_that_fails_verification_is_never_pending() {
        let mut checkout = Checkout::new(3000);
        let mut bad_crc = payment(Status::Pending, 900);
        bad_crc
            .qr_content
            .replace_range(bad_crc.qr_content.len() - 4.., "0000");
        checkout.created(bad_crc, 0.0);
        assert!(matches!(checkout.phase(), Phase::Error(f) if f.kind == FailureKind::InvalidQr));
        assert!(checkout.payment().is_none());

        let mut wrong_total = payment(Status::Pending, 900);
        wrong_total.total_amount = 10_388;
        checkout.restart();
        checkout.created(wrong_total, 0.0);
        assert!(matches!(checkout.phase(), Phase::Error(f) if f.code == "invalid_qr"));
    }

    #[test]
    fn the_countdown_runs_on_the_injected_clock_and_expires() {
        let mut checkout = Checkout::new(3000);
        checkout.created(payment(Status::Pending, 10), 5_000.0);
        checkout.tick(9_500.0);
        assert_eq!(checkout.kind(), PhaseKind::Pending);
        assert_eq!(checkout.remaining_secs(9_500.0), 6);
        checkout.tick(15_000.0);
        assert_eq!(checkout.kind(), PhaseKind::Expired);
        assert_eq!(checkout.remaining_secs(15_000.0), 0);
        // One late check right away, then slow ones for a while, then nothing.
        assert_eq!(checkout.next_read_in_ms(0.5), Some(0));
        assert!(checkout.wants_reads());
        checkout.status_read(payment(Status::Expired, 0), 15_100.0);
        assert_eq!(checkout.next_read_in_ms(0.5), Some(LATE_CHECK_INTERVAL_MS));
        for _ in 1..LATE_CHECKS {
            checkout.status_read(payment(Status::Expired, 0), 20_000.0);
        }
        assert_eq!(checkout.next_read_in_ms(0.5), None);
        assert!(!checkout.wants_reads());
    }

    #[test]
    fn a_late_payment_turns_expired_into_paid() {
        let mut checkout = Checkout::new(3000);
        checkout.created(payment(Status::Pending, 1), 0.0);
        checkout.tick(2_000.0);
        assert_eq!(checkout.kind(), PhaseKind::Expired);
        checkout.status_read(payment(Status::Paid, 0), 2_100.0);
        assert_eq!(checkout.kind(), PhaseKind::Paid);
    }

    #[test]
    fn failures_back_off_exponentially_with_a_cap_and_recover() {
        let mut checkout = Checkout::new(3000);
        checkout.created(payment(Status::Pending, 900), 0.0);
        checkout.read_failed();
        assert!(checkout.reconnecting());
        assert_eq!(checkout.next_read_in_ms(0.5), Some(6000));
        checkout.read_failed();
        assert_eq!(checkout.next_read_in_ms(0.5), Some(12_000));
        assert_eq!(checkout.next_read_in_ms(0.0), Some(9_600));
        assert_eq!(checkout.next_read_in_ms(1.0), Some(14_400));
        for _ in 0..40 {
            checkout.read_failed();
        }
        assert_eq!(checkout.next_read_in_ms(0.5), Some(MAX_BACKOFF_MS));
        checkout.status_read(payment(Status::Pending, 800), 100_000.0);
        assert!(!checkout.reconnecting());
        assert_eq!(checkout.next_read_in_ms(0.5), Some(3000));
        assert_eq!(
            checkout.remaining_secs(100_000.0),
            800,
            "re-synced to the proxy"
        );
    }

    #[test]
    fn a_late_payment_is_told_apart_from_one_in_time() {
        let mut checkout = Checkout::new(3000);
        checkout.created(payment(Status::Pending, 900), 0.0);
        checkout.status_read(payment(Status::Paid, 880), 1_000.0);
        assert!(!checkout.paid_late());
        checkout.restart();
        checkout.created(payment(Status::Pending, 1), 0.0);
        checkout.tick(2_000.0);
        let mut late = payment(Status::Paid, 0);
        late.late = true;
        checkout.status_read(late, 30_000.0);
        assert_eq!(checkout.kind(), PhaseKind::Paid);
        assert!(checkout.paid_late());
        assert!(checkout.payment().is_some_and(|p| p.late), "detail.late");
    }

    #[test]
    fn the_expired_view_keeps_reading_through_the_grace_window() {
        let mut checkout = Checkout::new(60_000);
        checkout.created(payment(Status::Pending, 1), 0.0);
        checkout.tick(1_000.0);
        checkout.status_read(payment(Status::Expired, 0), 1_100.0);
        // About ten minutes of reads, the proxy's grace for a late payment.
        let mut waited_ms = 0;
        while let Some(delay) = checkout.next_read_in_ms(0.5) {
            waited_ms += delay;
            checkout.status_read(payment(Status::Expired, 0), 2_000.0);
            assert!(waited_ms <= 600_000, "the reads end");
        }
        assert_eq!(waited_ms, 600_000 - LATE_CHECK_INTERVAL_MS);
    }

    #[test]
    fn check_now_comes_after_20_seconds_and_reads_at_most_every_5() {
        let mut checkout = Checkout::new(60_000);
        assert!(!checkout.offers_check_now(100_000.0), "not while loading");
        checkout.created(payment(Status::Pending, 900), 1_000.0);
        assert!(!checkout.offers_check_now(20_999.0));
        assert!(!checkout.check_now(20_999.0));
        assert!(checkout.offers_check_now(21_000.0));
        assert!(checkout.check_now(21_000.0));
        assert!(checkout.check_now_resting(25_999.0));
        assert!(
            !checkout.check_now(25_999.0),
            "a second press within 5 s reads nothing"
        );
        assert!(checkout.check_now(26_000.0));
        checkout.status_read(payment(Status::Paid, 800), 27_000.0);
        assert!(!checkout.offers_check_now(60_000.0), "gone once paid");
    }

    #[test]
    fn test_mode_follows_the_proxy_and_survives_a_new_code() {
        let mut checkout = Checkout::new(3000);
        checkout.created(payment(Status::Pending, 900), 0.0);
        assert!(!checkout.test_mode(), "live");
        let mut sandbox = payment(Status::Pending, 900);
        sandbox.livemode = false;
        checkout.restart();
        checkout.created(sandbox, 0.0);
        assert!(checkout.test_mode());
        checkout.restart();
        assert_eq!(checkout.kind(), PhaseKind::Loading);
        assert!(
            checkout.test_mode(),
            "still a test while the next code loads"
        );
        checkout.create_failed(Failure::new(FailureKind::Network, "network", "offline"));
        assert!(checkout.test_mode(), "and when it fails");
    }

    #[test]
    fn status_reads_for_another_payment_are_ignored() {
        let mut checkout = Checkout::new(3000);
        checkout.created(payment(Status::Pending, 900), 0.0);
        let mut other = payment(Status::Paid, 900);
        other.id = "pay_0000000000000000000002".into();
        checkout.status_read(other, 1.0);
        assert_eq!(checkout.kind(), PhaseKind::Pending);
    }

    #[test]
    fn resumed_payments_start_in_their_own_phase() {
        let mut checkout = Checkout::new(3000);
        checkout.created(payment(Status::Paid, 0), 0.0);
        assert_eq!(checkout.kind(), PhaseKind::Paid);
        checkout.restart();
        checkout.created(payment(Status::Pending, 0), 0.0);
        assert_eq!(checkout.kind(), PhaseKind::Expired);
    }

    #[test]
    fn create_failures_show_an_error_and_restart_clears_it() {
        let mut checkout = Checkout::new(3000);
        checkout.create_failed(Failure::new(FailureKind::Network, "network", "offline"));
        assert_eq!(checkout.kind(), PhaseKind::Error);
        checkout.restart();
        assert_eq!(checkout.kind(), PhaseKind::Loading);
    }
}
