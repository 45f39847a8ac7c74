//! PostgreSQL: one database several proxies share (`docs/scale-out.md`).
//!
//! tokio-postgres with a deadpool pool (why, and what it costs: `docs/scale-out.md`). What is
//! PostgreSQL's own lives here: the connection (TLS, timeouts), the frozen migration list, and
//! the import of a SQLite store (`migrate --to`). Every query the proxy runs is written once in
//! the aggregates (`store/payments/`, `events/`, `claims/`, `staff/`, `links/`) over the async
//! layer (`store/db/`), fully async on the pool: claims use row locks there (`UPDATE ... WHERE`
//! re-checks a row another transaction just changed, and `FOR UPDATE SKIP LOCKED` lets two
//! proxies claim due work side by side).

use super::claims::{ClaimStore, Claims};
use super::db::{Db, Tx};
use super::events::{EventStore, Events};
use super::links::{LinkStore, Links};
use super::payments::{PaymentRows, StoredPayments};
use super::postgres_tls::{check_not_cleartext_across_a_network, connector, split_options, Tls};
use super::staff::{StaffDb, StaffStore};
use super::{Dump, Imported, PaymentStore, StoreError, Unavailability};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use std::time::Duration;
use time::OffsetDateTime;

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
    // v3: the shop's people (`store/staff/`), how long each delivery attempt took, and the
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

/// How many versions the frozen list above has: the shared list (`store/migrations/`)
/// goes on counting from here.
pub(super) const FROZEN: usize = MIGRATIONS.len();

/// The schema version this binary writes on PostgreSQL: the frozen versions, then the
/// shared ones (`store::POSTGRES_SCHEMA_VERSION`).
pub const SCHEMA_VERSION: usize = FROZEN + super::migrations::SHARED.len();

/// A time cut to the millisecond, as the outbox, the staff and the audit log keep them on both
/// databases (the import copies SQLite's rows as they are).
fn millis(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(at)
}

/// A pool of connections to one PostgreSQL database, migrated to this binary's schema.
pub struct PgStore {
    pool: Pool,
    /// The links, on the async layer (`store/db/`), over the same pool.
    links: Links,
    /// The webhook outbox, likewise.
    events: Events,
    /// The staff, sessions and audit log, likewise.
    staff: StaffDb,
    /// The claims, on the async layer too.
    claims: Claims,
    /// The payments, on the async layer too.
    payments: StoredPayments,
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
            events: Events::new(Db::Postgres(pool.clone())),
            staff: StaffDb::new(Db::Postgres(pool.clone())),
            claims: Claims::new(Db::Postgres(pool.clone())),
            payments: StoredPayments::new(Db::Postgres(pool.clone())),
            pool,
        };
        let mut client = store.client().await?;
        migrate(&mut client).await?;
        Ok(store)
    }

    /// Claims and leases read the caller's `now` instead of the database's clock (tests that
    /// play time forward).
    #[cfg(test)]
    fn on_callers_clock(mut self) -> PgStore {
        self.events = self.events.on_callers_clock();
        self.claims = self.claims.on_callers_clock();
        self.payments.on_callers_clock();
        self
    }

    pub(super) async fn client(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(StoreError::from)
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
    super::migrations::apply_postgres(client, FROZEN, super::migrations::SHARED).await
}

impl PaymentStore for PgStore {
    fn payments(&self) -> &dyn PaymentRows {
        &self.payments
    }

    fn events(&self) -> &dyn EventStore {
        &self.events
    }

    fn claims(&self) -> &dyn ClaimStore {
        &self.claims
    }

    fn staff(&self) -> &dyn StaffStore {
        &self.staff
    }

    fn links(&self) -> &dyn LinkStore {
        &self.links
    }
}

#[cfg(test)]
pub(crate) mod tests {
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
    pub(crate) fn empty_database() -> PostgresUrl {
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
            suite::wait(async {
                let client = store.client().await?;
                Ok::<_, StoreError>(client.batch_execute(sql).await?)
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
        let lease = Duration::from_secs(60);
        let first = runtime()
            .block_on(store.events().claim_due_events(real_now, lease, 10))
            .expect("claim");
        assert_eq!(first.len(), 1);
        let second = runtime()
            .block_on(store.events().claim_due_events(skewed, lease, 10))
            .expect("claim");
        assert!(second.is_empty(), "the lease holds by the database's clock");
    }

    /// Whether the store's own connection is encrypted, as the server sees it.
    fn encrypted(url: &PostgresUrl) -> Result<bool, StoreError> {
        let url = url.clone();
        runtime().block_on(async move {
            let store = PgStore::connect(&url, 1).await?;
            let rows = store
                .client()
                .await?
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
