//! The one test suite every store passes (`store_suite!` runs it on a fresh store of each
//! kind): the SQLite file and a real PostgreSQL database behave the same.

use super::*;
use crate::domain::payment::{Metadata, PaymentRecord, Review, Source};
use std::time::Duration;
use time::macros::datetime;
use time::OffsetDateTime;

/// One runtime for every store test in this binary: the stores' async parts (links) run on
/// it, and PostgreSQL stores keep their connections on it.
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
    })
}

/// A store call's answer, from a test's own thread.
pub(crate) fn wait<F: std::future::Future>(call: F) -> F::Output {
    runtime().block_on(call)
}

/// The lease the suite's claims take.
pub(crate) const LEASE: Duration = Duration::from_secs(60);

/// The id `sample(invoice, ..)` gets.
pub(crate) fn id_of(invoice: &str) -> String {
    format!("pay_{invoice:0>22}")
}

pub(crate) fn sample(invoice: &str, key: Option<&str>) -> PaymentRecord {
    PaymentRecord {
        id: id_of(invoice),
        invoice: invoice.into(),
        status: Status::Pending,
        status_word: None,
        amount: 10_000,
        unique_code: 387,
        total_amount: 10_387,
        qr_content: "000201...".into(),
        payment_url: Some("https://example.test/pay".into()),
        expires_at: datetime!(2026-11-24 08:19:05 UTC),
        paid_at: None,
        created_at: datetime!(2026-11-24 08:04:05 UTC),
        description: "Kopi".into(),
        customer_name: "Budi".into(),
        reference: Some("ORDER-1".into()),
        item: None,
        source: Source::Merchant,
        metadata: Metadata::from([("cart".to_owned(), "c_81".to_owned())]),
        late: false,
        idempotency_key: key.map(str::to_owned),
        request_fingerprint: key.map(|_| "{\"amount\":10000}".to_owned()),
        review: None,
        payment_link_id: None,
        created_by: None,
        receipt_token: crate::domain::ids::new_receipt_token(),
    }
}

/// An event for `payment` as the service writes one.
pub(crate) fn event(payment: &PaymentRecord, kind: &'static str, n: u32) -> NewEvent {
    NewEvent {
        id: format!("evt_{}_{n}", payment.invoice),
        payment_id: payment.id.clone(),
        event_type: kind,
        created_at: datetime!(2026-11-24 08:04:05 UTC) + time::Duration::seconds(n.into()),
        body: format!("{{\"type\":\"{kind}\"}}"),
    }
}

/// Stores `payment` with its `payment.created` event, checked again at once.
pub(crate) fn put(store: &dyn PaymentStore, payment: &PaymentRecord) -> Result<(), StoreError> {
    wait(store.payments().insert(
        payment,
        &event(payment, "payment.created", 0),
        Some(payment.created_at),
    ))
}

pub(crate) fn round_trips_and_changes_apply_only_to_the_state_they_were_decided_on(
    store: &dyn PaymentStore,
) {
    let payment = sample("PYG1", Some("key-1"));
    put(store, &payment).expect("insert");
    assert_eq!(
        wait(store.payments().get(&id_of("PYG1"))).expect("get"),
        Some(payment.clone())
    );
    assert_eq!(
        wait(store.payments().find_by_idempotency_key("key-1")).expect("find"),
        Some(payment.clone())
    );
    assert_eq!(
        wait(store.payments().get(&id_of("PYG2"))).expect("get"),
        None
    );
    assert_eq!(
        wait(store.payments().get("PYG1")).expect("an invoice is not an id"),
        None
    );

    let paid_at = datetime!(2026-11-24 08:10:00 UTC);
    let mut paid = payment.clone();
    paid.status = Status::Paid;
    paid.paid_at = Some(paid_at);
    paid.status_word = Some("PAID".into());
    let paid_event = event(&payment, "payment.paid", 1);
    assert!(wait(
        store
            .payments()
            .transition(&paid, Status::Pending, &paid_event, None)
    )
    .expect("paid"));
    // A second change decided on the old state (a racing reader) writes nothing.
    let mut expired = payment.clone();
    expired.status = Status::Expired;
    let expired_event = event(&payment, "payment.expired", 2);
    assert!(!wait(
        store
            .payments()
            .transition(&expired, Status::Pending, &expired_event, None)
    )
    .expect("refused"));
    let stored = wait(store.payments().get(&payment.id))
        .expect("get")
        .expect("present");
    assert_eq!(stored, paid);
    let events = wait(store.events().list_events(&EventFilter {
        limit: 10,
        ..EventFilter::default()
    }))
    .expect("events");
    let kinds: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(kinds, ["payment.created", "payment.paid"]);
    assert!(wait(
        store
            .payments()
            .claim_due_checks(OffsetDateTime::now_utc(), LEASE, 10)
    )
    .expect("due")
    .is_empty());
}

pub(crate) fn a_payments_events_go_out_one_at_a_time_in_order(store: &dyn PaymentStore) {
    let (one, two) = (sample("PYG1", None), sample("PYG2", None));
    put(store, &one).expect("one");
    put(store, &two).expect("two");
    let mut expired = one.clone();
    expired.status = Status::Expired;
    wait(store.payments().transition(
        &expired,
        Status::Pending,
        &event(&one, "payment.expired", 1),
        None,
    ))
    .expect("expired");
    let now = OffsetDateTime::now_utc();
    let claim = |at: OffsetDateTime| -> Vec<String> {
        wait(store.events().claim_due_events(at, LEASE, 10))
            .expect("claim")
            .into_iter()
            .map(|e| e.id)
            .collect()
    };
    // The lease a claim took, as the store keeps it: its holder's token.
    let token = |id: &str| {
        wait(store.events().list_events(&EventFilter {
            limit: 100,
            ..EventFilter::default()
        }))
        .expect("events")
        .into_iter()
        .find(|e| e.id == id)
        .and_then(|e| e.leased_until)
    };
    // Only each payment's oldest undelivered event.
    assert_eq!(claim(now), ["evt_PYG1_0", "evt_PYG2_0"]);
    assert!(claim(now).is_empty(), "leased events are nobody else's");
    let (leased, first_sender) = (token("evt_PYG1_0"), token("evt_PYG2_0"));
    assert!(leased.is_some() && first_sender.is_some());
    let attempt = |outcome: &str, then, lease| Attempt {
        at: now,
        outcome: outcome.into(),
        then,
        lease,
        duration: None,
    };
    let retry = now + time::Duration::minutes(5);
    assert!(wait(store.events().record_attempt(
        "evt_PYG1_0",
        &attempt("HTTP 503", AfterAttempt::RetryAt(retry), leased),
    ))
    .expect("attempt"));
    assert!(
        claim(now).is_empty(),
        "PYG1's next waits for its first; PYG2's is still leased"
    );
    // PYG2's sender died mid-delivery: once its lease lapses another proxy takes it over.
    let later = now + LEASE + time::Duration::seconds(1);
    assert_eq!(claim(later), ["evt_PYG2_0"]);
    // The first sender was only slow: its attempt, under the lapsed lease, is not recorded
    // over its successor's delivery.
    let successor = token("evt_PYG2_0");
    assert_ne!(successor, first_sender, "a new lease");
    assert!(!wait(store.events().record_attempt(
        "evt_PYG2_0",
        &attempt("HTTP 200", AfterAttempt::Delivered, first_sender)
    ))
    .expect("attempt"));
    assert!(wait(store.events().record_attempt(
        "evt_PYG2_0",
        &attempt("HTTP 503", AfterAttempt::RetryAt(retry), successor),
    ))
    .expect("the successor's attempt"));
    assert!(wait(store.events().record_attempt(
        "evt_PYG1_0",
        &attempt("HTTP 200", AfterAttempt::Delivered, None)
    ))
    .expect("attempt"));
    // Then PYG1's next.
    assert_eq!(claim(later), ["evt_PYG1_1"]);
    let first = wait(store.events().list_events(&EventFilter {
        limit: 1,
        ..EventFilter::default()
    }))
    .expect("events");
    let first = first.first().expect("one");
    assert_eq!((first.state, first.attempts), (DeliveryState::Delivered, 2));
    assert_eq!(first.last_status.as_deref(), Some("HTTP 200"));
    let after = wait(store.events().list_events(&EventFilter {
        after_id: Some("evt_PYG1_0".into()),
        state: Some(DeliveryState::Pending),
        limit: 10,
    }))
    .expect("events");
    assert_eq!(after.len(), 2);
    assert!(wait(store.events().resend("evt_PYG1_0", now)).expect("resend"));
    assert!(!wait(store.events().resend("evt_nope", now)).expect("resend"));
}

pub(crate) fn an_upstream_read_is_claimed_once_per_window(store: &dyn PaymentStore) {
    let payment = sample("PYG1", None);
    put(store, &payment).expect("insert");
    let now = datetime!(2026-11-24 08:05:00 UTC);
    let window = Duration::from_secs(2);
    let claim = |at| wait(store.claims().claim_refresh(&payment.id, at, window)).expect("claim");
    assert_eq!(claim(now), RefreshClaim::Mine);
    assert_eq!(
        claim(now + time::Duration::seconds(1)),
        RefreshClaim::Taken { at: now }
    );
    assert_eq!(claim(now + time::Duration::seconds(2)), RefreshClaim::Mine);
    assert_eq!(
        wait(store.claims().claim_refresh(&id_of("NOPE"), now, window)).expect("claim"),
        RefreshClaim::NoSuchPayment
    );
    // A read given back (it was not made) may be claimed at once.
    let later = now + time::Duration::seconds(2);
    wait(store.claims().release_refresh(&payment.id)).expect("release");
    assert_eq!(claim(later), RefreshClaim::Mine);
    wait(store.claims().release_refresh(&id_of("NOPE"))).expect("releasing nothing is fine");
}

pub(crate) fn the_upstream_budget_spaces_calls_per_kind(store: &dyn PaymentStore) {
    let now = datetime!(2026-11-24 09:00:00 UTC);
    let interval = Duration::from_millis(250);
    let take = |kind: &str, at: OffsetDateTime, slack: i64| {
        wait(store.claims().take_upstream_call(kind, at, interval, slack)).expect("take")
    };
    assert_eq!(take("status", now, 0), None, "the first call goes");
    assert_eq!(
        take("status", now, 0),
        Some(Duration::from_millis(250)),
        "the next is one interval away"
    );
    assert_eq!(take("create", now, 0), None, "each kind has its own budget");
    // A slack of a whole interval lets one more go now (a burst); a negative one keeps room.
    assert_eq!(take("status", now, 250), None);
    assert_eq!(
        take("status", now + time::Duration::milliseconds(500), -50),
        Some(Duration::from_millis(50))
    );
    assert_eq!(
        take("status", now + time::Duration::milliseconds(500), 0),
        None
    );
    // Time passed without calls is not saved up: the next goes, the one after waits.
    let idle = now + time::Duration::seconds(60);
    assert_eq!(take("status", idle, 0), None);
    assert_eq!(take("status", idle, 0), Some(Duration::from_millis(250)));
}

pub(crate) fn due_checks_are_claimed_once_until_their_lease_lapses(store: &dyn PaymentStore) {
    let mut lapsed = sample("LAPSED", None);
    lapsed.status = Status::Expired;
    let open = sample("OPEN", None);
    put(store, &lapsed).expect("lapsed");
    put(store, &open).expect("open");
    let now = datetime!(2026-11-24 09:00:00 UTC);
    let claim = |at: OffsetDateTime| -> Vec<String> {
        wait(store.payments().claim_due_checks(at, LEASE, 10))
            .expect("claim")
            .into_iter()
            .map(|p| p.invoice)
            .collect()
    };
    assert_eq!(claim(now), ["OPEN", "LAPSED"], "pending payments first");
    assert!(claim(now).is_empty(), "claimed checks are nobody else's");
    let five = time::Duration::seconds(5);
    wait(
        store
            .payments()
            .checked(&open.id, Some("unpaid"), Some(now + five)),
    )
    .expect("checked");
    assert_eq!(claim(now + five), ["OPEN"]);
    // LAPSED's checker died: its lease lapses and another proxy takes the check.
    assert_eq!(claim(now + LEASE + time::Duration::seconds(1)), ["LAPSED"]);
    wait(store.payments().checked(&open.id, None, None)).expect("no more checks");
    assert!(claim(now + time::Duration::days(1))
        .iter()
        .all(|invoice| invoice != "OPEN"));
}

pub(crate) fn an_idempotency_key_is_claimed_by_one_request(store: &dyn PaymentStore) {
    let now = datetime!(2026-11-24 09:00:00 UTC);
    let stale = Duration::from_secs(60);
    let claim = |fingerprint: &str, at| {
        wait(
            store
                .claims()
                .claim_idempotency_key("merchant:k", fingerprint, at, stale),
        )
        .expect("claim")
    };
    assert_eq!(claim("one", now), KeyClaim::Mine);
    assert_eq!(
        claim("two", now + time::Duration::seconds(1)),
        KeyClaim::Held {
            fingerprint: "one".into()
        }
    );
    // A claim left by a proxy that died mid-create is taken over once stale.
    assert_eq!(
        claim("two", now + time::Duration::seconds(61)),
        KeyClaim::Mine
    );
    wait(store.claims().release_idempotency_key("merchant:k")).expect("release");
    assert_eq!(
        claim("three", now + time::Duration::seconds(62)),
        KeyClaim::Mine
    );
    // Storing the payment ends the claim: from then on the key lives on the payment.
    put(store, &sample("PYG1", Some("merchant:k"))).expect("insert");
    assert_eq!(
        claim("four", now + time::Duration::seconds(63)),
        KeyClaim::Mine
    );
}

pub(crate) fn duplicate_id_invoice_or_key_is_refused(store: &dyn PaymentStore) {
    put(store, &sample("PYG1", Some("k"))).expect("first");
    let mut same_invoice = sample("PYG1", None);
    same_invoice.id = id_of("OTHER");
    let refused = put(store, &same_invoice).expect_err("a second PYG1");
    // The log says what was refused (PostgreSQL's client alone says only "db error").
    let said = refused.to_string().to_lowercase();
    assert!(
        said.contains("unique") && said.contains("invoice"),
        "{said}"
    );
    let mut same_key = sample("PYG2", Some("k"));
    same_key.id = id_of("PYG2");
    assert!(put(store, &same_key).is_err());
    let mut same_id = sample("PYG3", None);
    same_id.id = id_of("PYG1");
    assert!(put(store, &same_id).is_err());
    // The payment and its event are one write: a refused payment left no event.
    let events = wait(store.events().list_events(&EventFilter {
        limit: 10,
        ..EventFilter::default()
    }))
    .expect("events");
    assert_eq!(events.len(), 1);
}

pub(crate) fn lists_newest_first_and_pages_do_not_shift_when_payments_arrive(
    store: &dyn PaymentStore,
) {
    for i in 0..5 {
        let mut p = sample(&format!("PYG{i}"), None);
        p.reference = Some(if i % 2 == 0 { "EVEN" } else { "ODD" }.to_owned());
        put(store, &p).expect("insert");
    }
    let page = |before: Option<String>| {
        wait(store.payments().list(&ListFilter {
            before_id: before,
            limit: 2,
            ..ListFilter::default()
        }))
        .expect("list")
        .into_iter()
        .map(|p| p.invoice)
        .collect::<Vec<_>>()
    };
    assert_eq!(page(None), ["PYG4", "PYG3"]);
    // A payment arrives between two pages: the next page goes on where the last ended.
    put(store, &sample("PYG5", None)).expect("insert");
    assert_eq!(page(Some(id_of("PYG3"))), ["PYG2", "PYG1"]);
    assert_eq!(page(Some(id_of("PYG1"))), ["PYG0"]);
    assert!(matches!(
        wait(store.payments().list(&ListFilter {
            before_id: Some(id_of("NOPE")),
            limit: 2,
            ..ListFilter::default()
        })),
        Err(StoreError::UnknownCursor(_))
    ));
    let even = wait(store.payments().list(&ListFilter {
        reference: Some("EVEN".into()),
        limit: 10,
        ..ListFilter::default()
    }))
    .expect("list");
    assert_eq!(even.len(), 3);
}

pub(crate) fn status_filters_see_the_clock_like_the_views(store: &dyn PaymentStore) {
    let now = datetime!(2026-11-24 09:00:00 UTC);
    let mut open = sample("OPEN", None);
    open.expires_at = now + time::Duration::minutes(5);
    let lapsed = sample("LAPSED", None); // expires 08:19, still 'pending' in the store
    let mut paid = sample("PAID", None);
    paid.status = Status::Paid;
    for p in [&open, &lapsed, &paid] {
        put(store, p).expect("insert");
    }
    let with = |status| {
        wait(store.payments().list(&ListFilter {
            status: Some(status),
            now: Some(now),
            limit: 10,
            ..ListFilter::default()
        }))
        .expect("list")
        .into_iter()
        .map(|p| p.invoice)
        .collect::<Vec<_>>()
    };
    assert_eq!(with(Status::Pending), ["OPEN"]);
    assert_eq!(with(Status::Expired), ["LAPSED"]);
    assert_eq!(with(Status::Paid), ["PAID"]);
    let after = wait(store.payments().list(&ListFilter {
        created_after: Some(datetime!(2026-11-24 08:04:05 UTC)),
        limit: 10,
        ..ListFilter::default()
    }))
    .expect("list");
    assert!(after.is_empty(), "created_after is exclusive");
}

pub(crate) fn a_payment_marked_for_review_keeps_everything_else(store: &dyn PaymentStore) {
    let payment = sample("PYG-REVIEW", None);
    put(store, &payment).expect("insert");
    assert_eq!(
        wait(store.payments().get(&payment.id))
            .expect("get")
            .map(|p| p.review),
        Some(None)
    );
    wait(
        store
            .payments()
            .mark_for_review(&payment.id, Review::AmountMismatch),
    )
    .expect("mark");
    let marked = wait(store.payments().get(&payment.id))
        .expect("get")
        .expect("there");
    assert_eq!(marked.review, Some(Review::AmountMismatch));
    assert_eq!(
        PaymentRecord {
            review: None,
            payment_link_id: None,
            ..marked.clone()
        },
        payment,
        "nothing else changed"
    );
    let listed = wait(store.payments().list(&ListFilter {
        limit: 10,
        ..ListFilter::default()
    }))
    .expect("list");
    assert_eq!(
        listed.first().map(|p| p.review),
        Some(Some(Review::AmountMismatch))
    );
}

/// One `#[test]` per suite function, each on a fresh store from `$fresh`.
fn staff_member(email: &str, role: crate::domain::staff::Role) -> staff::StaffMember {
    staff::StaffMember {
        email: crate::domain::staff::Email::parse(email).expect("email"),
        role,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: datetime!(2026-11-24 08:00 UTC),
    }
}

pub(crate) fn a_session_lasts_while_used_and_ends_with_its_account(store: &dyn PaymentStore) {
    use crate::domain::staff::Role;
    let people = store.staff();
    let owner = staff_member("pemilik@toko.id", Role::Owner);
    assert!(wait(people.add_staff(&owner)).expect("add"));
    assert!(
        !wait(people.add_staff(&owner)).expect("again"),
        "one account per email"
    );
    assert_eq!(
        wait(people.staff_member(&owner.email)).expect("read"),
        Some(owner.clone()),
        "read back as written"
    );
    let t0 = datetime!(2026-11-24 09:00 UTC);
    let idle = Duration::from_secs(3600);
    let touch = Duration::from_secs(60);
    let session = |hash: &'static str, now: OffsetDateTime| {
        wait(people.session(hash, now, idle, touch)).expect("read")
    };
    wait(people.create_session("hash-1", &owner.email, t0)).expect("session");
    let seen = session("hash-1", t0 + Duration::from_secs(30)).expect("live");
    assert_eq!(
        (seen.role, seen.created_at, seen.last_seen_at),
        (Role::Owner, t0, t0),
        "not touched within a minute"
    );
    // Used after 50 minutes: touched, so it lasts another hour from then.
    let t1 = t0 + Duration::from_secs(3000);
    assert_eq!(session("hash-1", t1).expect("live").last_seen_at, t1);
    assert!(session("hash-1", t1 + Duration::from_secs(3500)).is_some());
    // An hour unused: over, and gone.
    let late = t1 + Duration::from_secs(3500) + idle;
    assert!(session("hash-1", late).is_none());
    assert!(session("hash-1", t1).is_none(), "deleted");
    wait(people.create_session("hash-2", &owner.email, t0)).expect("session");
    wait(people.end_session("hash-2")).expect("end");
    assert!(session("hash-2", t0).is_none());
    wait(people.create_session("hash-3", &owner.email, t0)).expect("session");
    assert!(wait(people.set_password_hash(&owner.email, "$argon2id$new")).expect("set"));
    assert!(session("hash-3", t0).is_none(), "a new password ends it");
    assert_eq!(
        wait(people.staff_member(&owner.email))
            .expect("read")
            .expect("there")
            .password_hash,
        "$argon2id$new"
    );
    let nobody = crate::domain::staff::Email::parse("tamu@toko.id").expect("email");
    assert!(!wait(people.set_password_hash(&nobody, "$argon2id$x")).expect("no such one"));
    wait(people.create_session("hash-4", &owner.email, t0)).expect("session");
    assert!(wait(people.remove_staff(&owner.email)).expect("remove"));
    assert!(session("hash-4", t0).is_none());
    assert!(!wait(people.remove_staff(&owner.email)).expect("no such one"));
    assert!(wait(people.list_staff()).expect("list").is_empty());
    // Its sessions went with it on both databases (PostgreSQL's schema cascades, SQLite's
    // does not): an account added again under that email does not inherit them.
    assert!(wait(people.add_staff(&owner)).expect("add again"));
    assert!(
        session("hash-4", t0).is_none(),
        "no session outlives its account"
    );
}

pub(crate) fn accounts_list_by_email(store: &dyn PaymentStore) {
    use crate::domain::staff::Role;
    let people = store.staff();
    for email in ["budi@toko.id", "a.b@toko.id", "ab@toko.id", "Ani@toko.id"] {
        assert!(wait(people.add_staff(&staff_member(email, Role::Cashier))).expect("add"));
    }
    let listed: Vec<String> = wait(people.list_staff())
        .expect("list")
        .into_iter()
        .map(|m| m.email.to_string())
        .collect();
    // By the email's bytes on both databases, whatever PostgreSQL's collation says.
    assert_eq!(
        listed,
        ["a.b@toko.id", "ab@toko.id", "ani@toko.id", "budi@toko.id"]
    );
}

/// The audit line a first refusal writes.
fn throttled() -> staff::AuditEntry {
    staff::AuditEntry {
        at: datetime!(2026-11-24 09:00 UTC),
        actor: "a@toko.id".into(),
        action: "sign_in_throttled".into(),
        subject: None,
        ip: Some("192.0.2.1".into()),
    }
}

/// A sign-in attempt against `subjects` at `at` in a 15-minute window.
fn take_slot(
    store: &dyn PaymentStore,
    subjects: &[(&str, u32)],
    at: OffsetDateTime,
) -> Result<staff::SignInSlot, StoreError> {
    let window = Duration::from_secs(900);
    wait(
        store
            .staff()
            .take_sign_in_slot(subjects, at, window, &throttled()),
    )
}

/// A first refusal's note and its audit line are one write: when the audit line cannot be
/// written (`refuse_audit(true)` makes the store refuse it), the note is not kept either, so
/// the next refusal is the first again and is audited. Each store passes how to make its
/// own audit table refuse a row.
pub(crate) fn a_first_refusal_is_noted_and_audited_together(
    store: &dyn PaymentStore,
    refuse_audit: &dyn Fn(bool),
) {
    use staff::SignInSlot::{Counted, Refused};
    let t0 = datetime!(2026-11-24 11:00 UTC);
    let at = |s: u64| t0 + Duration::from_secs(s);
    let subjects = [("email:audit@toko.id", 1), ("ip:192.0.2.9", 30)];
    let audited = || {
        wait(store.staff().audit_log(None, 10))
            .expect("audit log")
            .iter()
            .filter(|r| r.entry.action == "sign_in_throttled")
            .count()
    };
    assert_eq!(take_slot(store, &subjects, at(0)).expect("slot"), Counted);
    refuse_audit(true);
    assert!(
        take_slot(store, &subjects, at(1)).is_err(),
        "the audit line failed, so the refusal fails"
    );
    refuse_audit(false);
    assert_eq!(audited(), 0);
    assert_eq!(
        take_slot(store, &subjects, at(2)).expect("slot"),
        Refused {
            until: at(900),
            first: true
        },
        "no note was left by the failed one"
    );
    assert_eq!(audited(), 1);
    assert_eq!(
        take_slot(store, &subjects, at(3)).expect("slot"),
        Refused {
            until: at(900),
            first: false
        }
    );
    assert_eq!(audited(), 1, "a flood is one line");
    let line = wait(store.staff().audit_log(None, 1)).expect("audit log");
    assert_eq!(line.first().map(|r| &r.entry), Some(&throttled()));
}

pub(crate) fn failed_sign_ins_are_counted_per_subject_within_the_window(store: &dyn PaymentStore) {
    use staff::SignInSlot::{Counted, Refused};
    let t0 = datetime!(2026-11-24 09:00 UTC);
    let at = |s: u64| t0 + Duration::from_secs(s);
    let a = [("email:a@toko.id", 3), ("ip:192.0.2.1", 30)];
    for n in 0..3u64 {
        assert_eq!(take_slot(store, &a, at(n * 60)).expect("slot"), Counted);
    }
    // At the limit: refused until the oldest of the three leaves the window; the first
    // refusal is marked so, the next is not.
    let refused = |s: u64| take_slot(store, &a, at(s)).expect("slot");
    assert_eq!(
        refused(180),
        Refused {
            until: at(900),
            first: true
        }
    );
    assert_eq!(
        refused(200),
        Refused {
            until: at(900),
            first: false
        }
    );
    // The address's own limit refuses another email.
    for n in 0..2u64 {
        assert_eq!(
            take_slot(
                store,
                &[("email:c@toko.id", 5), ("ip:198.51.100.1", 2)],
                at(n)
            )
            .expect("slot"),
            Counted
        );
    }
    assert_eq!(
        take_slot(
            store,
            &[("email:d@toko.id", 5), ("ip:198.51.100.1", 2)],
            at(10)
        )
        .expect("slot"),
        Refused {
            until: at(900),
            first: true
        }
    );
    // A right password takes its count back.
    for n in 0..3u64 {
        assert_eq!(
            take_slot(store, &[("email:b@toko.id", 1)], at(n)).expect("slot"),
            Counted
        );
        wait(store.staff().forgive_sign_in(&["email:b@toko.id"], at(n))).expect("forgive");
    }
    // Once the oldest failure has left the window, one more attempt is let through.
    assert_eq!(refused(901), Counted);
    assert_eq!(
        refused(902),
        Refused {
            until: at(960),
            first: false
        }
    );
}

/// Two failures of one moment are two: forgiving one leaves the other counted.
pub(crate) fn forgiving_a_failure_takes_back_only_one(store: &dyn PaymentStore) {
    use staff::SignInSlot::{Counted, Refused};
    let at = datetime!(2026-11-24 12:00 UTC);
    let subjects = [("email:twice@toko.id", 2)];
    assert_eq!(take_slot(store, &subjects, at).expect("slot"), Counted);
    assert_eq!(take_slot(store, &subjects, at).expect("slot"), Counted);
    wait(store.staff().forgive_sign_in(&["email:twice@toko.id"], at)).expect("forgive");
    assert_eq!(take_slot(store, &subjects, at).expect("slot"), Counted);
    assert!(matches!(
        take_slot(store, &subjects, at).expect("slot"),
        Refused { .. }
    ));
}

/// Guesses sent at once: exactly the limit get through, however they interleave.
pub(crate) fn parallel_sign_ins_cannot_pass_the_limit_together(store: &dyn PaymentStore) {
    let t0 = datetime!(2026-11-24 10:00 UTC);
    let counted = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..12u64)
            .map(|n| {
                scope.spawn(move || {
                    take_slot(
                        store,
                        &[("email:race@toko.id", 5), ("ip:203.0.113.50", 30)],
                        t0 + Duration::from_millis(n),
                    )
                })
            })
            .collect();
        runs.into_iter()
            .map(|run| run.join().expect("thread").expect("slot"))
            .filter(|slot| *slot == staff::SignInSlot::Counted)
            .count()
    });
    assert_eq!(counted, 5);
}

pub(crate) fn the_audit_log_pages_newest_first(store: &dyn PaymentStore) {
    for n in 0..5i64 {
        wait(store.staff().append_audit(&staff::AuditEntry {
            at: datetime!(2026-11-24 09:00 UTC) + time::Duration::seconds(n),
            actor: "pemilik@toko.id".into(),
            action: format!("action_{n}"),
            subject: (n % 2 == 0).then(|| format!("pay_{n}")),
            ip: Some("192.0.2.7".into()),
        }))
        .expect("append");
    }
    let first = wait(store.staff().audit_log(None, 3)).expect("page");
    let actions: Vec<&str> = first.iter().map(|r| r.entry.action.as_str()).collect();
    assert_eq!(actions, ["action_4", "action_3", "action_2"]);
    let rest = wait(store.staff().audit_log(first.last().map(|r| r.seq), 3)).expect("page");
    let actions: Vec<&str> = rest.iter().map(|r| r.entry.action.as_str()).collect();
    assert_eq!(actions, ["action_1", "action_0"]);
    assert_eq!(rest[1].entry.subject.as_deref(), Some("pay_0"));
    assert_eq!(
        rest[1].entry.at,
        datetime!(2026-11-24 09:00 UTC),
        "read back as written"
    );
    assert_eq!(rest[0].entry.subject, None);
}

pub(crate) fn the_dashboard_reads_days_timelines_and_recent_events(store: &dyn PaymentStore) {
    use crate::domain::days::day_number;
    let zone = time::macros::offset!(+7);
    // Paid at 23:30 UTC on the 24th (06:30 on the 25th in Jakarta) and at 10:00 UTC.
    for (invoice, paid_at, total) in [
        ("PYG-D1", datetime!(2026-11-24 10:00 UTC), 10_387),
        ("PYG-D2", datetime!(2026-11-24 23:30 UTC), 25_779),
        ("PYG-D3", datetime!(2026-11-24 23:45 UTC), 1_000),
    ] {
        let mut p = sample(invoice, None);
        p.total_amount = total;
        put(store, &p).expect("insert");
        let before = p.status;
        p.status = Status::Paid;
        p.paid_at = Some(paid_at);
        wait(
            store
                .payments()
                .transition(&p, before, &event(&p, "payment.paid", 1), None),
        )
        .expect("paid");
    }
    // Unpaid ones do not count.
    put(store, &sample("PYG-D4", None)).expect("insert");
    let days = wait(
        store
            .payments()
            .paid_by_day(datetime!(2026-11-20 00:00 UTC), zone),
    )
    .expect("days");
    let day24 = day_number(datetime!(2026-11-24 10:00 UTC), zone);
    assert_eq!(days.len(), 2, "{days:?}");
    assert_eq!(
        (days[0].day, days[0].count, days[0].total),
        (day24, 1, 10_387)
    );
    assert_eq!(
        (days[1].day, days[1].count, days[1].total),
        (day24 + 1, 2, 26_779)
    );
    assert!(wait(
        store
            .payments()
            .paid_by_day(datetime!(2026-11-26 00:00 UTC), zone)
    )
    .expect("days")
    .is_empty());
    let id = id_of("PYG-D1");
    let events = wait(store.events().payment_events(&id)).expect("events");
    let kinds: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(kinds, ["payment.created", "payment.paid"]);
    let claimed = wait(
        store
            .events()
            .claim_due_events(datetime!(2026-11-24 08:05 UTC), LEASE, 10),
    )
    .expect("claim");
    let first = claimed
        .iter()
        .find(|e| e.payment_id == id)
        .expect("its event");
    wait(store.events().record_attempt(
        &first.id,
        &Attempt {
            at: datetime!(2026-11-24 08:05 UTC),
            outcome: "HTTP 204".into(),
            then: AfterAttempt::Delivered,
            lease: first.leased_until,
            duration: Some(Duration::from_millis(42)),
        },
    ))
    .expect("recorded");
    let attempts = wait(store.events().payment_attempts(&id)).expect("attempts");
    assert_eq!(attempts.len(), 1);
    assert_eq!(
        (attempts[0].outcome.as_str(), attempts[0].duration_ms),
        ("HTTP 204", Some(42))
    );
    assert!(wait(store.events().payment_attempts(&id_of("PYG-D4")))
        .expect("none")
        .is_empty());
    // Events by time: those at or after the moment, oldest first.
    let recent = wait(
        store
            .events()
            .events_since(datetime!(2026-11-24 08:04:06 UTC), None, 100),
    )
    .expect("recent");
    assert!(
        recent.iter().all(|e| e.event_type == "payment.paid"),
        "{recent:?}"
    );
    assert_eq!(recent.len(), 3);
}

/// A burst of one instant larger than a page is read page by page, after the last event
/// given, each once: the live feed cannot stall on it.
pub(crate) fn events_of_one_instant_page_after_the_last_given(store: &dyn PaymentStore) {
    let mut written = Vec::new();
    for n in 0..7 {
        let mut payment = sample(&format!("PYG-B{n}"), None);
        payment.reference = None;
        put(store, &payment).expect("insert");
        written.push(event(&payment, "payment.created", 0).id);
    }
    let instant = datetime!(2026-11-24 08:04:05 UTC);
    let mut read = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..4 {
        let page = wait(store.events().events_since(instant, after.as_deref(), 3)).expect("page");
        read.extend(page.iter().map(|e| e.id.clone()));
        after = page.last().map(|e| e.id.clone());
        if page.len() < 3 {
            break;
        }
    }
    assert_eq!(read, written, "every event once, in the order written");
    assert!(
        wait(store.events().events_since(instant, Some("evt_unknown"), 3))
            .expect("unknown")
            .is_empty()
    );
}

pub(crate) fn search_finds_by_id_invoice_reference_or_part_of_a_name(store: &dyn PaymentStore) {
    let mut sari = sample("PYG-S1", None);
    sari.customer_name = "Sari Dewi".into();
    sari.reference = Some("ORD-SARI".into());
    let mut percent = sample("PYG-S2", None);
    percent.customer_name = "Diskon 50%".into();
    percent.reference = None;
    let mut plain = sample("PYG-S3", None);
    plain.customer_name = "Diskon 500".into();
    plain.reference = None;
    let mut accented = sample("PYG-S4", None);
    accented.customer_name = "Élan Ñoño".into();
    accented.reference = None;
    for p in [&sari, &percent, &plain, &accented] {
        put(store, p).expect("insert");
    }
    let find = |q: &str| -> Vec<String> {
        wait(store.payments().list(&ListFilter {
            search: Some(q.into()),
            limit: 10,
            ..ListFilter::default()
        }))
        .expect("list")
        .into_iter()
        .map(|p| p.invoice)
        .collect()
    };
    for q in [
        "ORD-SARI",
        "PYG-S1",
        sari.id.as_str(),
        "sari",
        "DEWI",
        "ri de",
    ] {
        assert_eq!(find(q), ["PYG-S1"], "{q}");
    }
    assert_eq!(find("50%"), ["PYG-S2"], "% is not a wildcard");
    // A name beyond ASCII is found as written, its ASCII part in any case: the same on
    // both databases, whatever PostgreSQL's locale would lower (`Dialect::lower_ascii`).
    assert_eq!(find("ÉLAN Ñoño"), ["PYG-S4"]);
    assert!(find("élan").is_empty(), "É is not lowered on either");
    assert_eq!(find("diskon"), ["PYG-S3", "PYG-S2"]);
    assert!(find("ORD-").is_empty(), "a reference is matched whole");
    // With a date range.
    let within = wait(store.payments().list(&ListFilter {
        search: Some("diskon".into()),
        created_before: Some(datetime!(2026-11-24 08:04:05 UTC)),
        limit: 10,
        ..ListFilter::default()
    }))
    .expect("list");
    assert!(within.is_empty(), "created_before is exclusive");
}

pub(crate) fn the_backlog_counts_watched_payments_and_undelivered_events(store: &dyn PaymentStore) {
    let now = datetime!(2026-11-24 08:10:00 UTC);
    assert_eq!(
        wait(store.payments().backlog(now)).expect("empty"),
        Backlog::default()
    );
    let stored = |invoice: &str, expires_at, n: u32, next_check| {
        let mut payment = sample(invoice, None);
        payment.expires_at = expires_at;
        wait(
            store
                .payments()
                .insert(&payment, &event(&payment, "payment.created", n), next_check),
        )
        .expect("insert");
        payment
    };
    let check = Some(now);
    // Payable, past expiry but still checked, and one nobody checks any more.
    stored("PYG-OPEN", datetime!(2026-11-24 08:19:05 UTC), 10, check);
    stored("PYG-LATE", datetime!(2026-11-24 08:05:00 UTC), 20, check);
    stored("PYG-DONE", datetime!(2026-11-24 08:05:00 UTC), 30, None);
    // Paid: not open, whatever its next check.
    let paid = stored("PYG-PAID", datetime!(2026-11-24 08:19:05 UTC), 5, check);
    let mut to = paid.clone();
    to.status = Status::Paid;
    to.paid_at = Some(now);
    assert!(wait(store.payments().transition(
        &to,
        Status::Pending,
        &event(&paid, "payment.paid", 40),
        check
    ))
    .expect("paid"));
    let backlog = wait(store.payments().backlog(now)).expect("backlog");
    assert_eq!(
        (backlog.payments_pending, backlog.payments_expired_watched),
        (1, 1)
    );
    assert_eq!(backlog.events_pending, 5);
    assert_eq!(
        backlog.oldest_pending_event_at,
        Some(datetime!(2026-11-24 08:04:10 UTC))
    );
    // The oldest delivered: the next oldest is the queue's age.
    let claimed = wait(store.events().claim_due_events(now, LEASE, 10))
        .expect("claim")
        .into_iter()
        .find(|e| e.id == "evt_PYG-PAID_5")
        .expect("the paid payment's first event is due");
    assert!(wait(store.events().record_attempt(
        &claimed.id,
        &Attempt {
            at: now,
            outcome: "HTTP 204".into(),
            then: AfterAttempt::Delivered,
            lease: claimed.leased_until,
            duration: None,
        },
    ))
    .expect("attempt"));
    let backlog = wait(store.payments().backlog(now)).expect("backlog");
    assert_eq!(backlog.events_pending, 4);
    assert_eq!(
        backlog.oldest_pending_event_at,
        Some(datetime!(2026-11-24 08:04:15 UTC))
    );
}

// ---- Payment links (issue #22): links, their paid totals, reservations, the form secret.

use super::links::{LinkFilter, LinkInsert, Reservation};
use crate::domain::links::{LinkAmount, LinkRefusal, PaymentLink};

/// Before the suite's sample payments expire (08:19:05).
const LINKS_NOW: OffsetDateTime = datetime!(2026-11-24 08:10:00 UTC);
const LINK_TTL: Duration = Duration::from_secs(120);

fn link_id(n: u32) -> String {
    format!("plink_{n:0>22}")
}

pub(crate) fn sample_link(n: u32, max_payments: Option<u32>) -> PaymentLink {
    PaymentLink {
        id: link_id(n),
        title: format!("Kopi {n}"),
        description: Some("Satu liter".into()),
        amount: LinkAmount::Fixed(25_000),
        max_payments,
        expires_at: Some(datetime!(2026-12-24 00:00:00.123 UTC)),
        success_url: Some("https://toko.example/terima-kasih".into()),
        metadata: Metadata::from([("sku".to_owned(), "K1".to_owned())]),
        active: true,
        created_at: datetime!(2026-11-24 08:00:00.5 UTC) + time::Duration::seconds(n.into()),
        idempotency_key: None,
        request_fingerprint: None,
    }
}

pub(crate) fn a_receipt_token_finds_its_payment_only_and_is_unique(store: &dyn PaymentStore) {
    let first = sample("PYG1", None);
    let second = sample("PYG2", None);
    put(store, &first).expect("first");
    put(store, &second).expect("second");
    assert_ne!(first.receipt_token, second.receipt_token);
    assert_eq!(
        wait(store.payments().find_by_receipt_token(&first.receipt_token)).expect("find"),
        Some(first.clone()),
        "read back whole"
    );
    assert_eq!(
        wait(
            store
                .payments()
                .find_by_receipt_token(&second.receipt_token)
        )
        .expect("find")
        .map(|p| p.id),
        Some(second.id.clone())
    );
    // Neither the id nor a token one character off finds anything.
    assert_eq!(
        wait(store.payments().find_by_receipt_token(&first.id)).expect("find"),
        None
    );
    let mut lookalike = first.receipt_token.clone();
    let last = if lookalike.ends_with('A') { "B" } else { "A" };
    lookalike.pop();
    lookalike.push_str(last);
    assert_eq!(
        wait(store.payments().find_by_receipt_token(&lookalike)).expect("find"),
        None
    );
    // A second payment cannot share a token.
    let mut copy = sample("PYG3", None);
    copy.receipt_token = first.receipt_token.clone();
    let refused = put(store, &copy).expect_err("a shared token");
    assert!(
        refused.to_string().to_lowercase().contains("unique"),
        "{refused}"
    );
}

/// A pending payment of `link` made with `key` (as the service stores one).
fn link_payment(invoice: &str, link: &str, key: &str) -> PaymentRecord {
    let mut p = sample(invoice, Some(key));
    p.source = Source::Link;
    p.payment_link_id = Some(link.to_owned());
    p
}

fn pay(store: &dyn PaymentStore, p: &PaymentRecord) {
    let mut paid = p.clone();
    paid.status = Status::Paid;
    paid.paid_at = Some(LINKS_NOW);
    assert!(wait(store.payments().transition(
        &paid,
        Status::Pending,
        &event(p, "payment.paid", 1),
        None
    ))
    .expect("paid"));
}

pub(crate) fn links_round_trip_page_filter_and_add_up_their_paid_payments(
    store: &dyn PaymentStore,
) {
    let mut open = sample_link(1, None);
    open.amount = LinkAmount::Open {
        min: Some(5000),
        max: None,
    };
    open.description = None;
    open.expires_at = None;
    open.success_url = None;
    open.metadata = Metadata::new();
    let mut keyed = sample_link(2, Some(3));
    keyed.idempotency_key = Some("merchant:link-key".into());
    keyed.request_fingerprint = Some("{\"title\":\"Kopi 2\"}".into());
    let third = sample_link(3, None);
    for l in [&open, &keyed, &third] {
        assert_eq!(
            wait(store.links().insert_link(l)).expect("insert"),
            LinkInsert::Created
        );
    }
    let read = wait(store.links().link(&open.id))
        .expect("read")
        .expect("there");
    assert_eq!(read.link, open);
    assert_eq!((read.paid_count, read.paid_total), (0, 0));
    assert_eq!(wait(store.links().link(&link_id(9))).expect("read"), None);

    // The same key again: the link that is there, not a second one.
    let mut again = sample_link(4, None);
    again.idempotency_key = keyed.idempotency_key.clone();
    match wait(store.links().insert_link(&again)).expect("insert again") {
        LinkInsert::Existing(existing) => assert_eq!(existing.link, keyed),
        other => panic!("a second link with one key: {other:?}"),
    }
    assert_eq!(wait(store.links().link(&again.id)).expect("read"), None);

    let page = |filter: LinkFilter| -> Vec<String> {
        wait(store.links().list_links(&filter))
            .expect("list")
            .into_iter()
            .map(|l| l.link.id)
            .collect()
    };
    let first = page(LinkFilter {
        limit: 2,
        ..LinkFilter::default()
    });
    assert_eq!(first, [third.id.clone(), keyed.id.clone()]);
    // A link made meanwhile does not shift the next page.
    wait(store.links().insert_link(&sample_link(5, None))).expect("insert");
    let next = page(LinkFilter {
        limit: 2,
        before_id: Some(keyed.id.clone()),
        ..LinkFilter::default()
    });
    assert_eq!(next, [open.id.clone()]);
    assert!(matches!(
        wait(store.links().list_links(&LinkFilter {
            limit: 2,
            before_id: Some(link_id(9)),
            ..LinkFilter::default()
        })),
        Err(StoreError::UnknownCursor(_))
    ));

    assert!(wait(store.links().set_link_active(&keyed.id, false)).expect("deactivate"));
    assert!(!wait(store.links().set_link_active(&link_id(9), false)).expect("no such link"));
    let inactive = page(LinkFilter {
        active: Some(false),
        limit: 10,
        ..LinkFilter::default()
    });
    assert_eq!(inactive, [keyed.id.clone()]);
    let active = page(LinkFilter {
        active: Some(true),
        limit: 10,
        ..LinkFilter::default()
    });
    assert_eq!(active, [link_id(5), third.id.clone(), open.id.clone()]);

    // Paid payments of the link add up; pending ones and other links' do not.
    let (a, b) = (
        link_payment("PYG1", &third.id, "link:a"),
        link_payment("PYG2", &third.id, "link:b"),
    );
    let mut other = link_payment("PYG3", &open.id, "link:c");
    other.total_amount = 99_999;
    for p in [&a, &b, &other] {
        put(store, p).expect("insert");
    }
    pay(store, &a);
    pay(store, &other);
    let totals = wait(store.links().link(&third.id))
        .expect("read")
        .expect("there");
    assert_eq!((totals.paid_count, totals.paid_total), (1, a.total_amount));
    assert_eq!(
        wait(store.payments().get(&b.id))
            .expect("get")
            .expect("there")
            .payment_link_id,
        Some(third.id.clone())
    );
    let listed = wait(store.links().list_links(&LinkFilter {
        limit: 10,
        ..LinkFilter::default()
    }))
    .expect("list");
    let of_open = listed
        .iter()
        .find(|l| l.link.id == open.id)
        .expect("listed");
    assert_eq!((of_open.paid_count, of_open.paid_total), (1, 99_999));
}

pub(crate) fn reservations_hold_a_links_max_payments(store: &dyn PaymentStore) {
    let two = sample_link(1, Some(2));
    wait(store.links().insert_link(&two)).expect("insert");
    let reserve = |key: &str, at: OffsetDateTime| {
        wait(
            store
                .links()
                .reserve_link_payment(&two.id, key, at, LINK_TTL),
        )
        .expect("reserve")
    };
    assert_eq!(reserve("link:a", LINKS_NOW), Reservation::Reserved);
    assert_eq!(
        reserve("link:a", LINKS_NOW),
        Reservation::Reserved,
        "one form, one place"
    );
    assert_eq!(reserve("link:b", LINKS_NOW), Reservation::Reserved);
    assert_eq!(
        reserve("link:c", LINKS_NOW),
        Reservation::Refused(LinkRefusal::Busy)
    );

    // The payment takes its reservation's place: still two taken.
    let a = link_payment("PYG1", &two.id, "link:a");
    put(store, &a).expect("insert");
    assert_eq!(
        reserve("link:c", LINKS_NOW),
        Reservation::Refused(LinkRefusal::Busy)
    );
    // A failed create gives its place back.
    wait(store.links().release_link_reservation("link:b")).expect("release");
    wait(store.links().release_link_reservation("link:none")).expect("releasing nothing is fine");
    assert_eq!(reserve("link:c", LINKS_NOW), Reservation::Reserved);
    // A reservation left by a proxy that died lapses.
    let later = LINKS_NOW + time::Duration::seconds(121);
    assert_eq!(reserve("link:d", later), Reservation::Reserved);

    // Paid up to the limit: sold out, whatever is reserved.
    let b = link_payment("PYG2", &two.id, "link:c");
    put(store, &b).expect("insert");
    pay(store, &a);
    pay(store, &b);
    assert_eq!(
        reserve("link:e", LINKS_NOW),
        Reservation::Refused(LinkRefusal::SoldOut)
    );

    // An open payment that expired unpaid frees its place.
    let three = sample_link(2, Some(1));
    wait(store.links().insert_link(&three)).expect("insert");
    put(store, &link_payment("PYG3", &three.id, "link:f")).expect("insert");
    let r = |key: &str, at| {
        wait(
            store
                .links()
                .reserve_link_payment(&three.id, key, at, LINK_TTL),
        )
        .expect("reserve")
    };
    assert_eq!(
        r("link:g", LINKS_NOW),
        Reservation::Refused(LinkRefusal::Busy)
    );
    assert_eq!(
        r("link:g", datetime!(2026-11-24 08:19:05 UTC)),
        Reservation::Reserved
    );

    wait(store.links().set_link_active(&three.id, false)).expect("deactivate");
    assert_eq!(
        r("link:h", LINKS_NOW),
        Reservation::Refused(LinkRefusal::Inactive)
    );
    let mut expiring = sample_link(3, None);
    expiring.expires_at = Some(LINKS_NOW);
    wait(store.links().insert_link(&expiring)).expect("insert");
    assert_eq!(
        wait(
            store
                .links()
                .reserve_link_payment(&expiring.id, "link:i", LINKS_NOW, LINK_TTL)
        )
        .expect("reserve"),
        Reservation::Refused(LinkRefusal::Expired)
    );
    assert_eq!(
        wait(
            store
                .links()
                .reserve_link_payment(&link_id(9), "link:j", LINKS_NOW, LINK_TTL)
        )
        .expect("reserve"),
        Reservation::NoSuchLink
    );
}

/// Ten customers pressing Pay at once on the last place: one gets it, however they
/// interleave.
pub(crate) fn parallel_reservations_take_a_links_last_place_once(store: &dyn PaymentStore) {
    let one = sample_link(1, Some(1));
    wait(store.links().insert_link(&one)).expect("insert");
    let reserved = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..10)
            .map(|n| {
                let id = one.id.clone();
                scope.spawn(move || {
                    wait(store.links().reserve_link_payment(
                        &id,
                        &format!("link:press-{n}"),
                        LINKS_NOW,
                        LINK_TTL,
                    ))
                })
            })
            .collect();
        runs.into_iter()
            .map(|run| run.join().expect("thread").expect("reserve"))
            .filter(|r| *r == Reservation::Reserved)
            .count()
    });
    assert_eq!(reserved, 1);
}

pub(crate) fn every_instance_gets_the_first_stored_form_secret(store: &dyn PaymentStore) {
    assert_eq!(
        wait(store.links().link_form_secret("first")).expect("secret"),
        "first"
    );
    assert_eq!(
        wait(store.links().link_form_secret("second")).expect("secret"),
        "first"
    );
}

pub(crate) fn a_counter_sale_keeps_its_cashier_and_lists_by_them(store: &dyn PaymentStore) {
    let sale = |invoice: &str, cashier: &str, minutes_ago: i64| {
        let mut p = sample(invoice, None);
        p.source = Source::Counter;
        p.reference = None;
        p.created_by = Some(cashier.to_owned());
        p.created_at = datetime!(2026-11-24 20:00:00 UTC) - time::Duration::minutes(minutes_ago);
        p
    };
    let mine = sale("PYG-KASIR-1", "kasir@toko.id", 30);
    let older = sale("PYG-KASIR-0", "kasir@toko.id", 13 * 60);
    let theirs = sale("PYG-PEMILIK", "pemilik@toko.id", 10);
    let shop = sample("PYG-SHOP", None);
    for p in [&older, &mine, &theirs, &shop] {
        put(store, p).expect("insert");
    }
    assert_eq!(
        wait(store.payments().get(&mine.id)).expect("get"),
        Some(mine.clone()),
        "kept as it was"
    );
    let by = |cashier: &str, after: Option<OffsetDateTime>| {
        wait(store.payments().list(&ListFilter {
            created_by: Some(cashier.to_owned()),
            created_after: after,
            limit: 10,
            ..ListFilter::default()
        }))
        .expect("list")
        .into_iter()
        .map(|p| p.invoice)
        .collect::<Vec<_>>()
    };
    assert_eq!(by("kasir@toko.id", None), ["PYG-KASIR-1", "PYG-KASIR-0"]);
    assert_eq!(
        by("kasir@toko.id", Some(datetime!(2026-11-24 08:00:00 UTC))),
        ["PYG-KASIR-1"],
        "the last twelve hours"
    );
    assert_eq!(by("pemilik@toko.id", None), ["PYG-PEMILIK"]);
    assert!(by("tamu@toko.id", None).is_empty());
    let everyone = wait(store.payments().list(&ListFilter {
        limit: 10,
        ..ListFilter::default()
    }))
    .expect("list");
    assert_eq!(everyone.len(), 4, "no filter, every payment");
}

macro_rules! store_suite {
    ($fresh:expr) => {
        $crate::store::suite::store_suite!(@tests $fresh;
            round_trips_and_changes_apply_only_to_the_state_they_were_decided_on,
            a_payments_events_go_out_one_at_a_time_in_order,
            an_upstream_read_is_claimed_once_per_window,
            the_upstream_budget_spaces_calls_per_kind,
            due_checks_are_claimed_once_until_their_lease_lapses,
            an_idempotency_key_is_claimed_by_one_request,
            duplicate_id_invoice_or_key_is_refused,
            lists_newest_first_and_pages_do_not_shift_when_payments_arrive,
            status_filters_see_the_clock_like_the_views,
            a_payment_marked_for_review_keeps_everything_else,
            a_session_lasts_while_used_and_ends_with_its_account,
            failed_sign_ins_are_counted_per_subject_within_the_window,
            parallel_sign_ins_cannot_pass_the_limit_together,
            accounts_list_by_email,
            forgiving_a_failure_takes_back_only_one,
            events_of_one_instant_page_after_the_last_given,
            the_audit_log_pages_newest_first,
            the_dashboard_reads_days_timelines_and_recent_events,
            search_finds_by_id_invoice_reference_or_part_of_a_name,
            the_backlog_counts_watched_payments_and_undelivered_events,
            links_round_trip_page_filter_and_add_up_their_paid_payments,
            reservations_hold_a_links_max_payments,
            parallel_reservations_take_a_links_last_place_once,
            every_instance_gets_the_first_stored_form_secret,
            a_counter_sale_keeps_its_cashier_and_lists_by_them,
            a_receipt_token_finds_its_payment_only_and_is_unique,
        );
    };
    (@tests $fresh:expr; $($name:ident,)*) => {
        $(
            #[test]
            fn $name() {
                let store = $fresh;
                $crate::store::suite::$name(&store);
            }
        )*
    };
}
pub(crate) use store_suite;
