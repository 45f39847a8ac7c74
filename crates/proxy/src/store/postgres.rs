//! PostgreSQL: one database several proxies share (`docs/scale-out.md`).
//!
//! tokio-postgres with a deadpool pool (why, and what it costs: `docs/scale-out.md`). The
//! trait is blocking, like rusqlite: each call runs its query on the runtime from the blocking
//! pool thread it was called on (`Handle::block_on`), with the statement prepared once per
//! connection. Claims use row locks: `UPDATE ... WHERE` re-checks a row another transaction
//! just changed, and `FOR UPDATE SKIP LOCKED` lets two proxies claim due work side by side
//! without waiting for, or taking, each other's rows.

use super::db::{Db, Tx};
use super::links::{LinkStore, Links};
use super::payments::{PaymentRows, StoredPayments};
use super::postgres_tls::{check_not_cleartext_across_a_network, connector, split_options, Tls};
use super::{
    budget_step, limit_of, oldest_due_first, Attempt, DeliveryState, Dump, EventFilter,
    EventRecord, Imported, KeyClaim, PaymentStore, RefreshClaim, StoreError, StoredAttempt,
    Unavailability,
};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::runtime::Handle;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// How long a call waits for a connection (or to make one) before the database counts as
/// unreachable: `/healthz` answers 503 within this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest a query may run (migrations included: they are small).
const STATEMENT_TIMEOUT: &str = "-c statement_timeout=10000";
/// Held by the instance that migrates; the others wait on it (any number, chosen once).
const MIGRATION_LOCK: i64 = 0x7061_7964_6967_6974; // "paydigit"

/// A PostgreSQL connection string, parsed. It shows (Display, Debug) without its password.
#[derive(Clone)]
pub struct PostgresUrl {
    // Boxed: a Config is large, and `Database` moves one around by value.
    config: Box<tokio_postgres::Config>,
    tls: Tls,
}

impl PostgresUrl {
    /// A `postgres://` URL or a `host=... dbname=...` string.
    pub fn parse(text: &str) -> Result<PostgresUrl, StoreError> {
        let (text, tls) = split_options(text)?;
        // tokio-postgres's parse errors name the option, never its value.
        let mut config = text
            .parse::<tokio_postgres::Config>()
            .map_err(|e| StoreError::InvalidUrl(e.to_string()))?;
        if config.get_hosts().is_empty() {
            return Err(StoreError::InvalidUrl("it names no host".into()));
        }
        check_not_cleartext_across_a_network(&tls, config.get_hosts())?;
        config.ssl_mode(tls.ssl_mode());
        Ok(PostgresUrl {
            config: Box::new(config),
            tls,
        })
    }

    /// The password, if the URL holds one: for the log's redactor (`crate::logs`), which must
    /// know what to hide.
    pub(crate) fn password(&self) -> Option<&[u8]> {
        self.config.get_password()
    }

    /// The same server and user, another database (the tests make one per test).
    pub fn with_dbname(&self, dbname: &str) -> PostgresUrl {
        let mut config = self.config.clone();
        config.dbname(dbname);
        PostgresUrl {
            config,
            tls: self.tls.clone(),
        }
    }
}

impl std::fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .map(|host| match host {
                tokio_postgres::config::Host::Tcp(name) => name.clone(),
                tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        write!(
            f,
            "postgres://{}@{}:{port}/{}",
            self.config.get_user().unwrap_or(""),
            hosts.join(","),
            self.config.get_dbname().unwrap_or("")
        )
    }
}

impl std::fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PostgresUrl({self})")
    }
}

/// Schema versions, applied in order; `checkout_schema.version` says how many have run.
/// Times are `timestamptz` (whole seconds for a payment's own times, milliseconds for the
/// outbox's, as in the SQLite store), so that operators can read them with `psql`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE payments (
    seq                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                  TEXT NOT NULL UNIQUE,
    invoice             TEXT NOT NULL UNIQUE,
    status              TEXT NOT NULL,
    status_word         TEXT,
    amount              BIGINT NOT NULL,
    unique_code         BIGINT NOT NULL,
    total_amount        BIGINT NOT NULL,
    qr_content          TEXT NOT NULL,
    payment_url         TEXT,
    expires_at          TIMESTAMPTZ NOT NULL,
    paid_at             TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL,
    description         TEXT NOT NULL,
    customer_name       TEXT NOT NULL,
    reference           TEXT,
    item                TEXT,
    source              TEXT NOT NULL,
    metadata            JSONB,
    late                BOOLEAN NOT NULL DEFAULT false,
    idempotency_key     TEXT UNIQUE,
    request_fingerprint TEXT,
    next_check_at       TIMESTAMPTZ,
    refresh_claimed_at  TIMESTAMPTZ
);
CREATE INDEX payments_reference ON payments(reference);
CREATE INDEX payments_next_check ON payments(next_check_at) WHERE next_check_at IS NOT NULL;
CREATE TABLE events (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    payment_id      TEXT NOT NULL REFERENCES payments(id),
    type            TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_attempt_at TIMESTAMPTZ,
    last_status     TEXT,
    leased_until    TIMESTAMPTZ
);
CREATE INDEX events_undelivered ON events(payment_id, seq) WHERE state = 'pending';
CREATE TABLE attempts (
    event_id TEXT NOT NULL REFERENCES events(id),
    at       TIMESTAMPTZ NOT NULL,
    outcome  TEXT NOT NULL
);
CREATE INDEX attempts_event ON attempts(event_id);
CREATE TABLE idempotency_claims (
    key         TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    claimed_at  TIMESTAMPTZ NOT NULL
);
"#,
    // v2: a payment PayDigital said something unbelievable about (`Review`); the upstream
    // budget the group shares.
    "ALTER TABLE payments ADD COLUMN review TEXT;
     CREATE TABLE upstream_budget (kind TEXT PRIMARY KEY, tat_ms BIGINT NOT NULL);",
    // v3: the shop's people (`store/staff.rs`), how long each delivery attempt took, and the
    // indexes the dashboard reads by (the live feed by event time, the week by paid time).
    r#"
CREATE TABLE staff (
    email         TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE TABLE staff_sessions (
    token_hash   TEXT PRIMARY KEY,
    email        TEXT NOT NULL REFERENCES staff(email) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX staff_sessions_email ON staff_sessions(email);
CREATE TABLE login_failures (
    subject TEXT NOT NULL,
    at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_subject ON login_failures(subject, at);
CREATE INDEX login_failures_at ON login_failures(at);
CREATE TABLE audit_log (
    seq     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      TIMESTAMPTZ NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT,
    ip      TEXT
);
ALTER TABLE attempts ADD COLUMN duration_ms BIGINT;
CREATE INDEX events_created ON events(created_at);
CREATE INDEX payments_paid ON payments(paid_at) WHERE paid_at IS NOT NULL;
"#,
    // v4 — payment links (issue #22): the links, the payments made through each, and the
    // reservations that hold a link's `max_payments` while PayDigital is asked.
    r#"
CREATE TABLE payment_links (
    seq                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                  TEXT NOT NULL UNIQUE,
    title               TEXT NOT NULL,
    description         TEXT,
    amount              BIGINT,
    min_amount          BIGINT,
    max_amount          BIGINT,
    max_payments        BIGINT,
    expires_at          TIMESTAMPTZ,
    success_url         TEXT,
    metadata            JSONB,
    active              BOOLEAN NOT NULL DEFAULT true,
    created_at          TIMESTAMPTZ NOT NULL,
    idempotency_key     TEXT UNIQUE,
    request_fingerprint TEXT
);
CREATE TABLE link_reservations (
    key        TEXT PRIMARY KEY,
    link_id    TEXT NOT NULL REFERENCES payment_links(id),
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX link_reservations_link ON link_reservations(link_id, expires_at);
ALTER TABLE payments ADD COLUMN payment_link_id TEXT;
CREATE INDEX payments_link ON payments(payment_link_id) WHERE payment_link_id IS NOT NULL;
CREATE TABLE link_form_secret (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    secret TEXT NOT NULL
);
"#,
    // v5: who charged a payment at the counter; the counter lists one person's recent sales.
    r#"
ALTER TABLE payments ADD COLUMN created_by TEXT;
CREATE INDEX payments_counter ON payments(created_by, created_at) WHERE created_by IS NOT NULL;
"#,
    // v6: receipts (`/r/{token}`). Existing payments get a token made in SQL, without
    // pgcrypto (an extension a shop's database may not allow): two `gen_random_uuid()`
    // (core since PostgreSQL 13, from its strong random source) are 244 random bits, in
    // base64url (43 characters). New payments get 128 bits from the proxy's OsRng.
    r#"
ALTER TABLE payments ADD COLUMN receipt_token TEXT;
UPDATE payments SET receipt_token = translate(rtrim(encode(
    decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'),
    'base64'), '='), '+/', '-_');
ALTER TABLE payments ALTER COLUMN receipt_token SET NOT NULL;
CREATE UNIQUE INDEX payments_receipt ON payments(receipt_token);
"#,
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

macro_rules! event_columns {
    () => {
        "id, payment_id, type, created_at, body, state, attempts, next_attempt_at, \
         last_attempt_at, last_status, leased_until"
    };
}

/// The outbox's times, in milliseconds like the SQLite store.
/// A duration as the milliseconds SQL multiplies `interval '1 millisecond'` by.
fn to_millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn millis(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(at)
}

fn decode_event(row: &Row) -> Result<EventRecord, StoreError> {
    let attempts: i32 = row.try_get(6)?;
    Ok(EventRecord {
        id: row.try_get(0)?,
        payment_id: row.try_get(1)?,
        event_type: row.try_get(2)?,
        created_at: row.try_get(3)?,
        body: row.try_get(4)?,
        state: DeliveryState::from_db(row.try_get(5)?)?,
        attempts: u32::try_from(attempts)
            .map_err(|_| StoreError::Corrupt(format!("{attempts} attempts")))?,
        next_attempt_at: row.try_get(7)?,
        last_attempt_at: row.try_get(8)?,
        last_status: row.try_get(9)?,
        leased_until: row.try_get(10)?,
    })
}

fn decode_all<T>(
    rows: &[Row],
    decode: fn(&Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    rows.iter().map(decode).collect()
}

/// A pool of connections to one PostgreSQL database, migrated to this binary's schema.
pub struct PgStore {
    pool: Pool,
    /// The links, on the async layer (`store/db/`), over the same pool.
    links: Links,
    /// The payments, on the async layer too.
    payments: StoredPayments,
    runtime: Handle,
    /// Whose clock claims and leases read: the database's (every instance the same one), or,
    /// for tests that play time forward, the `now` each call is given.
    clock: Clock,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clock {
    Database,
    #[cfg(test)]
    Caller,
}

impl PgStore {
    /// Connects (at most `pool_size` connections, the migration's included) and brings the
    /// schema up to date; concurrent starts are safe (one migrates, the others wait). Runs on
    /// the current Tokio runtime, which later blocking calls use too.
    pub async fn connect(url: &PostgresUrl, pool_size: usize) -> Result<PgStore, StoreError> {
        let mut config = (*url.config).clone();
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.application_name("paydigital-proxy");
        // A query the server never answers (a hung host, a cut without a reset) ends instead
        // of holding a blocking thread: the server cancels it, and dead peers are noticed.
        if config.get_options().is_none() {
            config.options(STATEMENT_TIMEOUT);
        }
        config.keepalives_idle(Duration::from_secs(30));
        let manager = Manager::from_config(
            config,
            connector(&url.tls)?,
            ManagerConfig {
                // A connection the server closed (a restart) is replaced, not handed out.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| StoreError::unavailable(Unavailability::Unreachable, e.to_string()))?;
        let store = PgStore {
            links: Links::new(Db::Postgres(pool.clone())),
            payments: StoredPayments::new(Db::Postgres(pool.clone())),
            pool,
            runtime: Handle::current(),
            clock: Clock::Database,
        };
        let mut client = store.client().await?;
        migrate(&mut client).await?;
        Ok(store)
    }

    /// Claims and leases read the caller's `now` instead of the database's clock (tests that
    /// play time forward).
    #[cfg(test)]
    fn on_callers_clock(mut self) -> PgStore {
        self.clock = Clock::Caller;
        self.payments.on_callers_clock();
        self
    }

    /// The `now` a claim's SQL takes as `COALESCE($n, now())`: none, on the database's clock.
    #[cfg_attr(not(test), allow(unused_variables))]
    fn now_param(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        match self.clock {
            Clock::Database => None,
            #[cfg(test)]
            Clock::Caller => Some(millis(now)),
        }
    }

    pub(super) async fn client(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(StoreError::from)
    }

    /// Runs `work` to its end from the blocking thread the trait is called on.
    pub(super) fn run<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.runtime.block_on(work)
    }

    pub(super) async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await?;
        Ok(client.query(&statement, params).await?)
    }

    pub(super) async fn execute(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await?;
        Ok(client.execute(&statement, params).await?)
    }

    /// Copies what `migrate --to` read from a SQLite store. Rows already here (a second run)
    /// are left as they are; attempts are copied with their event only.
    pub async fn import(&self, dump: &Dump) -> Result<Imported, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let mut imported = Imported {
            links: super::links::import(
                &Tx::within(&tx),
                &dump.links,
                dump.link_form_secret.as_deref(),
            )
            .await?,
            ..Imported::default()
        };
        // Written by the same statement as every payment (`store/payments/sql.rs`).
        imported.payments = super::payments::import(&Tx::within(&tx), &dump.payments).await?;
        let mut new_events = std::collections::HashSet::new();
        for e in &dump.events {
            let attempts = i32::try_from(e.attempts).unwrap_or(i32::MAX);
            let inserted = tx
                .execute(
                    "INSERT INTO events (id, payment_id, type, created_at, body, state, attempts,
                        next_attempt_at, last_attempt_at, last_status)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
                    &[
                        &e.id,
                        &e.payment_id,
                        &e.event_type,
                        &millis(e.created_at),
                        &e.body,
                        &e.state.as_str(),
                        &attempts,
                        &millis(e.next_attempt_at),
                        &e.last_attempt_at.map(millis),
                        &e.last_status,
                    ],
                )
                .await?;
            if inserted == 1 {
                new_events.insert(e.id.as_str());
            }
            imported.events += inserted;
        }
        for a in dump
            .attempts
            .iter()
            .filter(|a| new_events.contains(a.event_id.as_str()))
        {
            let duration = a.duration_ms.map(|d| i64::try_from(d).unwrap_or(i64::MAX));
            tx.execute(
                "INSERT INTO attempts (event_id, at, outcome, duration_ms) VALUES ($1, $2, $3, $4)",
                &[&a.event_id, &millis(a.at), &a.outcome, &duration],
            )
            .await?;
            imported.attempts += 1;
        }
        for m in &dump.staff {
            imported.staff += tx
                .execute(
                    "INSERT INTO staff (email, role, password_hash, created_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (email) DO NOTHING",
                    &[&m.email.as_str(), &m.role.as_str(), &m.password_hash, &m.created_at],
                )
                .await?;
        }
        // The log has no key of its own: a line is there already if one with the same moment,
        // actor and action is.
        for e in &dump.audit {
            imported.audit += tx
                .execute(
                    "INSERT INTO audit_log (at, actor, action, subject, ip)
                     SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (
                        SELECT 1 FROM audit_log WHERE at = $1 AND actor = $2 AND action = $3)",
                    &[&millis(e.at), &e.actor, &e.action, &e.subject, &e.ip],
                )
                .await?;
        }
        tx.commit().await?;
        Ok(imported)
    }
}

/// Brings the schema up to date under an advisory lock: of several instances starting at
/// once, one migrates while the others wait, then find nothing left to do.
async fn migrate(client: &mut Object) -> Result<(), StoreError> {
    client
        .query("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let result = apply_migrations(client).await;
    // Released with the session anyway, should this fail (the connection went away).
    let _ = client
        .query("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    result
}

async fn apply_migrations(client: &mut Object) -> Result<(), StoreError> {
    // Asked first rather than `CREATE TABLE IF NOT EXISTS`, whose notice would be logged at
    // every start.
    let exists: bool = client
        .query_one("SELECT to_regclass('checkout_schema') IS NOT NULL", &[])
        .await?
        .try_get(0)?;
    if !exists {
        client
            .batch_execute("CREATE TABLE checkout_schema (version INTEGER NOT NULL)")
            .await?;
    }
    let row = client
        .query_opt("SELECT version FROM checkout_schema", &[])
        .await?;
    let applied = match row {
        Some(row) => usize::try_from(row.try_get::<_, i32>(0)?)
            .map_err(|_| StoreError::Corrupt("negative schema version".into()))?,
        None => {
            client
                .execute("INSERT INTO checkout_schema (version) VALUES (0)", &[])
                .await?;
            0
        }
    };
    if applied > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found: applied,
            known: SCHEMA_VERSION,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = client.transaction().await?;
        tx.batch_execute(sql).await?;
        let version = i32::try_from(index + 1).unwrap_or(i32::MAX);
        tx.execute("UPDATE checkout_schema SET version = $1", &[&version])
            .await?;
        tx.commit().await?;
        tracing::info!(version, "PostgreSQL schema migrated");
    }
    Ok(())
}

impl PaymentStore for PgStore {
    fn links(&self) -> &dyn LinkStore {
        &self.links
    }

    fn payments(&self) -> &dyn PaymentRows {
        &self.payments
    }

    fn take_upstream_call(
        &self,
        kind: &str,
        _now: OffsetDateTime,
        interval: Duration,
        slack_ms: i64,
    ) -> Result<Option<Duration>, StoreError> {
        let interval = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.execute(
                "INSERT INTO upstream_budget (kind, tat_ms) VALUES ($1, 0) ON CONFLICT DO NOTHING",
                &[&kind],
            )
            .await?;
            // The row lock queues the group's instances; the database's clock is the one
            // they all read.
            let row = tx
                .query_one(
                    "SELECT tat_ms, (extract(epoch FROM clock_timestamp()) * 1000)::bigint
                     FROM upstream_budget WHERE kind = $1 FOR UPDATE",
                    &[&kind],
                )
                .await?;
            let (tat, now): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
            let taken = match budget_step(tat, now, interval, slack_ms) {
                Ok(next) => {
                    tx.execute(
                        "UPDATE upstream_budget SET tat_ms = $2 WHERE kind = $1",
                        &[&kind, &next],
                    )
                    .await?;
                    None
                }
                Err(wait) => Some(wait),
            };
            tx.commit().await?;
            Ok(taken)
        })
    }

    fn release_refresh(&self, id: &str) -> Result<(), StoreError> {
        self.run(async {
            self.execute(
                "UPDATE payments SET refresh_claimed_at = NULL WHERE id = $1",
                &[&id],
            )
            .await?;
            Ok(())
        })
    }

    fn claim_refresh(
        &self,
        id: &str,
        now: OffsetDateTime,
        window: Duration,
    ) -> Result<RefreshClaim, StoreError> {
        self.run(async {
            // One statement: claimed, or when the live claim was made (no row: no payment).
            let rows = self
                .query(
                    "WITH claimed AS (
                        UPDATE payments SET refresh_claimed_at = COALESCE($2, now())
                        WHERE id = $1 AND (refresh_claimed_at IS NULL
                            OR refresh_claimed_at <= COALESCE($2, now()) - $3::bigint * interval '1 millisecond')
                        RETURNING id)
                     SELECT EXISTS (SELECT 1 FROM claimed), refresh_claimed_at
                     FROM payments WHERE id = $1",
                    &[&id, &self.now_param(now), &to_millis(window)],
                )
                .await?;
            let Some(row) = rows.first() else {
                return Ok(RefreshClaim::NoSuchPayment);
            };
            if row.try_get::<_, bool>(0)? {
                return Ok(RefreshClaim::Mine);
            }
            // The SELECT sees the snapshot the statement began with: a claim made by another
            // proxy a moment later may be missing, and `at` older than it is. This proxy
            // then only asks the store again sooner.
            let at: Option<OffsetDateTime> = row.try_get(1)?;
            Ok(RefreshClaim::Taken {
                at: at.unwrap_or(now),
            })
        })
    }

    fn claim_due_events(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<EventRecord>, StoreError> {
        self.run(async {
            let rows = self
                .query(
                    concat!(
                        "UPDATE events
                         SET leased_until = COALESCE($1, now()) + $2::bigint * interval '1 millisecond'
                         WHERE seq IN (
                            SELECT seq FROM events AS e
                            WHERE state = 'pending' AND next_attempt_at <= COALESCE($1, now())
                              AND (leased_until IS NULL OR leased_until <= COALESCE($1, now()))
                              AND NOT EXISTS (SELECT 1 FROM events AS earlier
                                  WHERE earlier.payment_id = e.payment_id
                                    AND earlier.state = 'pending' AND earlier.seq < e.seq)
                            ORDER BY next_attempt_at LIMIT $3
                            FOR UPDATE SKIP LOCKED)
                         AND state = 'pending'
                         AND (leased_until IS NULL OR leased_until <= COALESCE($1, now()))
                         RETURNING ",
                        event_columns!()
                    ),
                    &[&self.now_param(now), &to_millis(lease), &limit_of(limit)],
                )
                .await?;
            decode_all(&rows, decode_event).map(oldest_due_first)
        })
    }

    fn record_attempt(&self, event_id: &str, attempt: &Attempt) -> Result<bool, StoreError> {
        let (state, next) = attempt.then.leaves();
        let next = next.map(millis);
        // The token exactly as the claim returned it (the database keeps microseconds).
        let lease = attempt.lease;
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let at = millis(attempt.at);
            let updated = tx
                .execute(
                    "UPDATE events SET state = $2, attempts = attempts + 1,
                        next_attempt_at = COALESCE($3, next_attempt_at), last_attempt_at = $4,
                        last_status = $5, leased_until = NULL
                     WHERE id = $1 AND leased_until IS NOT DISTINCT FROM $6",
                    &[
                        &event_id,
                        &state.as_str(),
                        &next,
                        &at,
                        &attempt.outcome,
                        &lease,
                    ],
                )
                .await?;
            if updated == 0 {
                return Ok(false);
            }
            let duration = attempt
                .duration
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            tx.execute(
                "INSERT INTO attempts (event_id, at, outcome, duration_ms) VALUES ($1, $2, $3, $4)",
                &[&event_id, &at, &attempt.outcome, &duration],
            )
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    fn events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError> {
        self.run(async {
            let after: Option<i64> = match &filter.after_id {
                None => None,
                Some(id) => Some(
                    self.query("SELECT seq FROM events WHERE id = $1", &[id])
                        .await?
                        .first()
                        .ok_or_else(|| StoreError::UnknownCursor(id.clone()))?
                        .try_get(0)?,
                ),
            };
            let rows = self
                .query(
                    concat!(
                        "SELECT ",
                        event_columns!(),
                        " FROM events WHERE ($1::bigint IS NULL OR seq > $1)
                          AND ($2::text IS NULL OR state = $2) ORDER BY seq LIMIT $3"
                    ),
                    &[
                        &after,
                        &filter.state.map(DeliveryState::as_str),
                        &limit_of(filter.limit),
                    ],
                )
                .await?;
            decode_all(&rows, decode_event)
        })
    }

    fn resend(&self, event_id: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
        self.run(async {
            let changed = self
                .execute(
                    "UPDATE events SET state = 'pending', attempts = 0, next_attempt_at = $2
                     WHERE id = $1",
                    &[&event_id, &millis(now)],
                )
                .await?;
            Ok(changed > 0)
        })
    }

    fn claim_idempotency_key(
        &self,
        key: &str,
        fingerprint: &str,
        now: OffsetDateTime,
        stale: Duration,
    ) -> Result<KeyClaim, StoreError> {
        self.run(async {
            // The holder may give its claim back between our insert and our read: then ask
            // again.
            for _ in 0..3 {
                let claimed = self
                    .query(
                        "INSERT INTO idempotency_claims (key, fingerprint, claimed_at)
                         VALUES ($1, $2, COALESCE($3, now()))
                         ON CONFLICT (key) DO UPDATE
                            SET fingerprint = excluded.fingerprint,
                                claimed_at = excluded.claimed_at
                            WHERE idempotency_claims.claimed_at
                                <= COALESCE($3, now()) - $4::bigint * interval '1 millisecond'
                         RETURNING key",
                        &[&key, &fingerprint, &self.now_param(now), &to_millis(stale)],
                    )
                    .await?;
                if !claimed.is_empty() {
                    return Ok(KeyClaim::Mine);
                }
                let held = self
                    .query(
                        "SELECT fingerprint FROM idempotency_claims WHERE key = $1",
                        &[&key],
                    )
                    .await?;
                if let Some(row) = held.first() {
                    return Ok(KeyClaim::Held {
                        fingerprint: row.try_get(0)?,
                    });
                }
            }
            Err(StoreError::unavailable(
                Unavailability::Busy,
                format!("the claim on an idempotency key kept changing hands ({key})"),
            ))
        })
    }

    fn release_idempotency_key(&self, key: &str) -> Result<(), StoreError> {
        self.run(async {
            self.execute("DELETE FROM idempotency_claims WHERE key = $1", &[&key])
                .await?;
            Ok(())
        })
    }

    fn payment_events(&self, payment_id: &str) -> Result<Vec<EventRecord>, StoreError> {
        self.run(async {
            let rows = self
                .query(
                    concat!(
                        "SELECT ",
                        event_columns!(),
                        " FROM events WHERE payment_id = $1 ORDER BY seq"
                    ),
                    &[&payment_id],
                )
                .await?;
            decode_all(&rows, decode_event)
        })
    }

    fn payment_attempts(&self, payment_id: &str) -> Result<Vec<StoredAttempt>, StoreError> {
        self.run(async {
            // ctid breaks ties of one instant, so that every read gives the same order.
            let rows = self
                .query(
                    "SELECT a.event_id, a.at, a.outcome, a.duration_ms
                     FROM attempts AS a JOIN events AS e ON e.id = a.event_id
                     WHERE e.payment_id = $1 ORDER BY a.at, a.ctid",
                    &[&payment_id],
                )
                .await?;
            decode_all(&rows, |row| {
                let duration: Option<i64> = row.try_get(3)?;
                Ok(StoredAttempt {
                    event_id: row.try_get(0)?,
                    at: row.try_get(1)?,
                    outcome: row.try_get(2)?,
                    duration_ms: duration.and_then(|d| u64::try_from(d).ok()),
                })
            })
        })
    }

    fn events_since(
        &self,
        since: OffsetDateTime,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<EventRecord>, StoreError> {
        self.run(async {
            let rows = self
                .query(
                    concat!(
                        "SELECT ",
                        event_columns!(),
                        " FROM events WHERE created_at >= $1 AND ($3::text IS NULL OR
                           (created_at, seq) > (SELECT created_at, seq FROM events WHERE id = $3))
                         ORDER BY created_at, seq LIMIT $2"
                    ),
                    &[&since, &limit_of(limit), &after],
                )
                .await?;
            decode_all(&rows, decode_event)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite;
    use tokio_postgres::NoTls;

    /// One runtime for every PostgreSQL test in this binary (stores run their queries on it):
    /// the suite's, which the links' async calls run on.
    fn runtime() -> &'static tokio::runtime::Runtime {
        suite::runtime()
    }

    /// The cluster `make test` starts. Without it these tests fail, never skip: the
    /// PostgreSQL store is part of what `make test` proves.
    pub(crate) fn server() -> PostgresUrl {
        let url = std::env::var("PAYDIGITAL_TEST_POSTGRES").unwrap_or_else(|_| {
            panic!(
                "PAYDIGITAL_TEST_POSTGRES is not set: run `make test` (it starts a throwaway \
                 PostgreSQL 15), or `eval \"$(scripts/postgres.sh start)\"` first"
            )
        });
        PostgresUrl::parse(&url).expect("PAYDIGITAL_TEST_POSTGRES is a PostgreSQL URL")
    }

    /// A new, empty database on the test cluster.
    fn empty_database() -> PostgresUrl {
        let server = server();
        let name = format!(
            "store_{}",
            crate::domain::ids::new_payment_id()
                .to_lowercase()
                .replace('-', "_")
        );
        runtime().block_on(async {
            let (client, connection) = server
                .config
                .connect(NoTls)
                .await
                .expect("the test cluster answers");
            tokio::spawn(connection);
            // template0: nobody is ever connected to it, so parallel tests may copy it at once.
            client
                .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE template0"))
                .await
                .expect("create database");
        });
        server.with_dbname(&name)
    }

    /// A store on a new database.
    fn fresh() -> PgStore {
        runtime()
            .block_on(PgStore::connect(&empty_database(), 4))
            .expect("connect and migrate")
            .on_callers_clock()
    }

    suite::store_suite!(fresh());

    #[test]
    fn a_first_refusal_is_noted_and_audited_together() {
        let store = fresh();
        // A trigger makes the audit table refuse rows, as a full disk or a broken table would.
        let refuse_audit = |on: bool| {
            let sql = if on {
                "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS
                   $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$;
                 CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log
                   FOR EACH ROW EXECUTE FUNCTION refuse_audit()"
            } else {
                "DROP TRIGGER refuse_audit ON audit_log; DROP FUNCTION refuse_audit()"
            };
            store
                .run(async {
                    let client = store.client().await?;
                    Ok(client.batch_execute(sql).await?)
                })
                .expect("trigger");
        };
        suite::a_first_refusal_is_noted_and_audited_together(&store, &refuse_audit);
    }

    #[test]
    fn claims_and_leases_read_the_databases_clock_not_a_skewed_instances() {
        let store = runtime()
            .block_on(PgStore::connect(&empty_database(), 2))
            .expect("connect");
        let real_now = OffsetDateTime::now_utc();
        let mut payment = suite::sample("PYG-SKEW", None);
        payment.expires_at = real_now + Duration::from_secs(3600);
        let created = suite::event(&payment, "payment.created", 0);
        suite::wait(store.payments().insert(
            &payment,
            &created,
            Some(real_now + Duration::from_secs(600)),
        ))
        .expect("insert");
        // An instance whose clock runs an hour fast finds nothing due yet, and no event's
        // lease ends by its reckoning either.
        let skewed = real_now + Duration::from_secs(3600);
        let checks = suite::wait(store.payments().claim_due_checks(
            skewed,
            Duration::from_secs(60),
            10,
        ))
        .expect("claim");
        assert!(checks.is_empty(), "due by the database's clock only");
        let first = store
            .claim_due_events(real_now, Duration::from_secs(60), 10)
            .expect("claim");
        assert_eq!(first.len(), 1);
        let second = store
            .claim_due_events(skewed, Duration::from_secs(60), 10)
            .expect("claim");
        assert!(second.is_empty(), "the lease holds by the database's clock");
    }

    /// Whether the store's own connection is encrypted, as the server sees it.
    fn encrypted(url: &PostgresUrl) -> Result<bool, StoreError> {
        let url = url.clone();
        runtime().block_on(async move {
            let store = PgStore::connect(&url, 1).await?;
            let rows = store
                .query(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                    &[],
                )
                .await?;
            Ok(rows
                .first()
                .map(|row| row.get::<_, bool>(0))
                .unwrap_or(false))
        })
    }

    #[test]
    fn tls_is_used_when_asked_and_the_certificate_checked_when_told() {
        let base = std::env::var("PAYDIGITAL_TEST_POSTGRES").expect("PAYDIGITAL_TEST_POSTGRES");
        let ca = std::env::var("PAYDIGITAL_TEST_POSTGRES_CA").unwrap_or_else(|_| {
            panic!("PAYDIGITAL_TEST_POSTGRES_CA is not set: start the cluster with scripts/postgres.sh")
        });
        let with = |query: &str| PostgresUrl::parse(&format!("{base}?{query}")).expect("a URL");
        assert!(encrypted(&with("sslmode=require")).expect("require connects"));
        // By address and by name: the certificate is for both.
        let verified = format!("sslmode=verify-full&sslrootcert={ca}");
        assert!(encrypted(&with(&verified)).expect("verify-full connects"));
        let by_name = base.replace("127.0.0.1", "localhost");
        let by_name = PostgresUrl::parse(&format!("{by_name}?{verified}")).expect("a URL");
        assert!(encrypted(&by_name).expect("verify-full by name connects"));
        assert!(!encrypted(&with("sslmode=disable")).expect("disable connects"));
        // Another CA than the one that signed the server's certificate: refused.
        let dir = tempfile::tempdir().expect("tempdir");
        let other = dir.path().join("other-ca.crt");
        let made = std::process::Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=someone else"])
            .arg("-keyout")
            .arg(dir.path().join("other-ca.key"))
            .arg("-out")
            .arg(&other)
            .output()
            .expect("openssl runs");
        assert!(made.status.success());
        let wrong = with(&format!(
            "sslmode=verify-full&sslrootcert={}",
            other.display()
        ));
        assert!(
            encrypted(&wrong).is_err(),
            "a certificate from another CA is not believed"
        );
    }

    #[test]
    fn concurrent_starts_migrate_once_and_a_newer_schema_is_refused() {
        let url = empty_database();
        // Three instances starting at once on an empty database.
        let starts: Vec<_> = (0..3)
            .map(|_| {
                let url = url.clone();
                runtime().spawn(async move { PgStore::connect(&url, 2).await })
            })
            .collect();
        let stores: Vec<PgStore> = starts
            .into_iter()
            .map(|start| {
                runtime()
                    .block_on(start)
                    .expect("joined")
                    .expect("starts beside the others")
            })
            .collect();
        let store = stores.first().expect("three");
        suite::wait(store.payments().health()).expect("healthy");
        let version = runtime().block_on(async {
            let client = store.client().await.expect("client");
            let rows = client
                .query("SELECT version FROM checkout_schema", &[])
                .await
                .expect("version");
            assert_eq!(rows.len(), 1, "one version row");
            let version: i32 = rows.first().map(|r| r.get(0)).unwrap_or_default();
            client
                .execute("UPDATE checkout_schema SET version = $1", &[&(version + 1)])
                .await
                .expect("bump");
            version
        });
        assert_eq!(usize::try_from(version).ok(), Some(SCHEMA_VERSION));
        let refused = runtime().block_on(PgStore::connect(&url, 2));
        assert!(
            matches!(refused, Err(StoreError::TooNew { found, known }) if found == known + 1),
            "a newer schema is refused"
        );
    }

    #[test]
    fn the_receipt_migration_gives_existing_payments_their_own_random_tokens() {
        let url = empty_database();
        // A database as the release before receipts left it (v5), with two payments.
        runtime().block_on(async {
            let (client, connection) = url.config.connect(NoTls).await.expect("connect");
            tokio::spawn(connection);
            client
                .batch_execute("CREATE TABLE checkout_schema (version INTEGER NOT NULL)")
                .await
                .expect("schema table");
            for sql in MIGRATIONS.iter().take(5) {
                client.batch_execute(sql).await.expect("an old migration");
            }
            client
                .batch_execute(
                    "INSERT INTO checkout_schema (version) VALUES (5);
                     INSERT INTO payments (id, invoice, status, amount, unique_code,
                        total_amount, qr_content, expires_at, created_at, description,
                        customer_name, source)
                     VALUES
                     ('pay_OLD0000000000000000001', 'PYG-OLD-1', 'paid', 10000, 387, 10387,
                      'qr', now(), now(), 'Kopi', 'Budi', 'merchant'),
                     ('pay_OLD0000000000000000002', 'PYG-OLD-2', 'pending', 5000, 1, 5001,
                      'qr', now(), now(), 'Teh', 'Sari', 'browser');",
                )
                .await
                .expect("old payments");
        });
        let store = runtime()
            .block_on(PgStore::connect(&url, 2))
            .expect("migrates");
        let token_of = |id: &str| {
            suite::wait(store.payments().get(id))
                .expect("get")
                .map(|p| p.receipt_token)
                .expect("kept")
        };
        let (first, second) = (
            token_of("pay_OLD0000000000000000001"),
            token_of("pay_OLD0000000000000000002"),
        );
        assert_ne!(first, second);
        for token in [&first, &second] {
            // 32 bytes of two UUIDs in base64url: 43 characters, the shape lookups accept.
            assert_eq!(token.len(), 43, "{token}");
            assert!(
                crate::domain::ids::looks_like_receipt_token(token),
                "{token}"
            );
            assert!(!token.contains("OLD"), "{token}");
        }
        assert_eq!(
            suite::wait(store.payments().find_by_receipt_token(&first))
                .expect("find")
                .map(|p| p.invoice),
            Some("PYG-OLD-1".to_owned())
        );
        // New payments beside them get tokens from the proxy.
        let new = suite::sample("PYG-NEW", None);
        suite::put(&store, &new).expect("insert");
        assert_eq!(
            suite::wait(store.payments().find_by_receipt_token(&new.receipt_token))
                .expect("find")
                .map(|p| p.id),
            Some(new.id)
        );
    }

    /// A transaction of the async layer dropped uncommitted is rolled back before its
    /// connection serves again: with one connection in the pool, the next statement would
    /// otherwise run inside it and see its row.
    #[test]
    fn a_dropped_transaction_rolls_back_before_its_connection_is_reused() {
        use crate::store::db::Db;
        use sea_query::{Alias, Query};
        let store = runtime()
            .block_on(PgStore::connect(&empty_database(), 1))
            .expect("connect");
        let db = Db::Postgres(store.pool.clone());
        let count = || {
            Query::select()
                .expr_as(
                    sea_query::Func::count(sea_query::Expr::col(sea_query::Asterisk)),
                    Alias::new("n"),
                )
                .from(Alias::new("link_form_secret"))
                .to_owned()
        };
        suite::wait(async {
            let tx = db.begin().await.expect("begin");
            let insert = Query::insert()
                .into_table(Alias::new("link_form_secret"))
                .columns([Alias::new("id"), Alias::new("secret")])
                .values([1.into(), "dropped".into()])
                .expect("two values")
                .to_owned();
            assert_eq!(tx.execute(&insert).await.expect("insert"), 1);
            assert_eq!(
                tx.query(&count()).await.expect("count")[0]
                    .i64("n")
                    .expect("n"),
                1
            );
            drop(tx);
            let rows = db.query(&count()).await.expect("count after the drop");
            assert_eq!(rows[0].i64("n").expect("n"), 0);
        });
    }

    #[test]
    fn the_password_is_never_shown() {
        let url = PostgresUrl::parse(
            "postgres://shop:s3cr3t-pw@db.internal:6432/checkout?sslmode=require",
        )
        .expect("url");
        // Refused across a network without TLS, and the refusal names no password either.
        let cleartext = PostgresUrl::parse("postgres://shop:s3cr3t-pw@db.internal:6432/checkout")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            cleartext.contains("sslmode") && !cleartext.contains("s3cr3t"),
            "{cleartext}"
        );
        assert_eq!(url.to_string(), "postgres://shop@db.internal:6432/checkout");
        assert!(!format!("{url:?}").contains("s3cr3t"));
        let words = PostgresUrl::parse("host=/run/pg dbname=checkout user=shop password=s3cr3t-pw")
            .expect("key=value");
        assert!(!words.to_string().contains("s3cr3t"));
        let unreachable = runtime().block_on(PgStore::connect(
            &PostgresUrl::parse("postgres://shop:s3cr3t-pw@127.0.0.1:1/checkout").expect("url"),
            1,
        ));
        let message = unreachable.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("unreachable"), "{message}");
        assert!(!message.contains("s3cr3t"), "{message}");
        assert!(
            PostgresUrl::parse("postgres://shop:s3cr3t-pw@/checkout?port=nope")
                .err()
                .map(|e| !e.to_string().contains("s3cr3t"))
                .unwrap_or(false)
        );
    }
}
