//! Configuration from the environment (`docs/proxy-api.md`, "Configuration"), read one
//! section at a time; every message names the variable that is wrong.

use crate::domain::new_payment::{Catalog, PaymentRules};
use crate::store::Database;
use ipnet::IpNet;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use time::UtcOffset;

/// PayDigital will not create a payment under this many rupiah.
pub const UPSTREAM_MIN_AMOUNT: u64 = 1000;
/// `CHECKOUT_MAX_AMOUNT` when unset.
pub const DEFAULT_MAX_AMOUNT: u64 = 10_000_000;

/// The merchant's PayDigital key. It prints as `***` so that no `{:?}` can leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself: for the `Authorization` header and nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// The shop server's bearer key for the merchant API. Prints as `***`; compared in
/// constant time.
#[derive(Clone)]
pub struct MerchantKey(String);

/// Shortest merchant key accepted: a guessable key would open every payment.
pub const MIN_MERCHANT_KEY: usize = 32;

impl MerchantKey {
    /// Whether `presented` is this key, in time that does not depend on where they differ.
    pub fn matches(&self, presented: &str) -> bool {
        use subtle::ConstantTimeEq;
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }

    /// The key itself: for the log's redactor (`crate::logs`), which must know what to hide.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for MerchantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MerchantKey(***)")
    }
}

/// The webhook signing secret's bytes (from `whsec_` + base64). Prints as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl WebhookSecret {
    /// Reads `whsec_` + base64 of 24 to 64 bytes, the Standard Webhooks form.
    pub fn parse(text: &str) -> Result<WebhookSecret, String> {
        use base64::Engine;
        let encoded = text.trim().strip_prefix("whsec_").ok_or(
            "must start with whsec_ (make one with `paydigital-proxy webhooks new-secret`)",
        )?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| "is not whsec_ followed by base64".to_owned())?;
        if !(24..=64).contains(&bytes.len()) {
            return Err(format!(
                "must hold 24 to 64 random bytes, not {}",
                bytes.len()
            ));
        }
        Ok(WebhookSecret(bytes))
    }

    /// The key itself: for signing and nowhere else.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The `whsec_` text it was given as (canonical base64 reads back to the same text): for
    /// the log's redactor (`crate::logs`), which must know what to hide.
    pub(crate) fn text(&self) -> String {
        use base64::Engine;
        format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(&self.0)
        )
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(***)")
    }
}

/// Where the shop's server is told of every change, and how hard we try.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub url: String,
    /// `CHECKOUT_WEBHOOK_SECRET`, one or more separated by spaces: each webhook is signed with
    /// each, so the shop can move to a new secret without a flag day.
    pub secrets: Vec<WebhookSecret>,
    /// The waits between attempts: the first retry after `retry_schedule[0]`, and so on;
    /// when they run out the event is `failed`.
    pub retry_schedule: Vec<Duration>,
    /// `CHECKOUT_WEBHOOK_LEASE_SECS`: how long a delivery is its sender's alone; a proxy
    /// killed mid-delivery leaves the event to another after this. Longer than a delivery can
    /// take (its 15 s timeout), so that one event is never sent twice at once.
    pub lease: Duration,
}

/// The retry schedule of `docs/merchant-api.md`.
pub const DEFAULT_RETRY_SCHEDULE: &str = "5s,5m,30m,2h,5h,10h,14h,20h,24h";

/// Reads `5s,5m,30m,2h` (also `ms`): the waits between webhook attempts.
pub fn parse_schedule(text: &str) -> Result<Vec<Duration>, String> {
    let schedule = text
        .split(',')
        .map(|part| {
            let part = part.trim();
            let split = part
                .find(|c: char| !c.is_ascii_digit())
                .ok_or_else(|| format!("{part:?} has no unit (ms, s, m or h)"))?;
            let (number, unit) = part.split_at(split);
            let n: u64 = number
                .parse()
                .map_err(|_| format!("{part:?} is not a number and a unit"))?;
            let seconds = |per: u64| {
                n.checked_mul(per)
                    .map(Duration::from_secs)
                    .ok_or_else(|| format!("{part:?} is too long"))
            };
            match unit {
                "ms" => Ok(Duration::from_millis(n)),
                "s" => seconds(1),
                "m" => seconds(60),
                "h" => seconds(3600),
                other => Err(format!("{part:?}: unknown unit {other:?} (ms, s, m or h)")),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    if schedule.is_empty() {
        return Err("is empty".into());
    }
    Ok(schedule)
}

/// Where and how to reach PayDigital.
#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    pub base_url: String,
    pub api_key: ApiKey,
    pub store_id: String,
    /// How long one upstream call may take before the shopper gets a 504.
    pub timeout: Duration,
    /// The zone of PayDigital's zoneless times.
    pub zone: UtcOffset,
}

/// Which browser origins may call the API (the proxy's own origin always may).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// `*`: any origin (the test setup and shops that embed everywhere).
    Any,
    /// Exactly these origins, e.g. `https://toko.example`.
    List(Vec<String>),
}

impl AllowedOrigins {
    pub fn allows(&self, origin: &str) -> bool {
        match self {
            AllowedOrigins::Any => true,
            AllowedOrigins::List(list) => list.iter().any(|o| o == origin),
        }
    }
}

/// Everything `paydigital-proxy serve` needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub upstream: UpstreamConfig,
    pub allowed_origins: AllowedOrigins,
    /// `CHECKOUT_DATABASE`: a SQLite file, or the PostgreSQL database several proxies share.
    pub database: Database,
    /// `CHECKOUT_DATABASE_POOL`: PostgreSQL connections this instance may hold (all of them).
    pub database_pool: usize,
    pub static_dir: PathBuf,
    /// What a new payment may be: the amount range, the catalog if the proxy sets prices,
    /// whether browsers may name a `reference`.
    pub rules: PaymentRules,
    /// Creates allowed per client IP per minute.
    pub creates_per_minute: u32,
    /// `CHECKOUT_TRUSTED_PROXIES`: the reverse proxies whose `X-Forwarded-For` is believed
    /// (none when unset: the client is the peer).
    pub trusted_proxies: Vec<IpNet>,
    /// How long after expiry a pending payment is still checked upstream: QRIS codes stay
    /// payable, so a late payment must still be seen.
    pub late_payment_grace: Duration,
    /// At most one upstream status read per invoice per this long.
    pub status_refresh: Duration,
    /// The merchant API's key; `None` turns the merchant API off (every call 401).
    pub merchant_key: Option<MerchantKey>,
    /// The proxy's public base URL (`https://pay.toko.example`), for `checkout_url`.
    pub public_url: Option<String>,
    /// `CHECKOUT_RECEIPT_SHOWS_CUSTOMER=on`: the receipt page (`/r/{token}`) names the
    /// customer. Off by default: a receipt link is forwarded in chats.
    pub receipt_shows_customer: bool,
    /// `None`: no webhooks (events are still kept, for the events API).
    pub webhook: Option<WebhookConfig>,
    /// `CHECKOUT_UPSTREAM_MAX_RPS`: status calls to PayDigital per second, for the whole
    /// group — readers' refreshes and the confirmation worker's checks together.
    pub upstream_max_rps: u32,
    /// `CHECKOUT_UPSTREAM_MAX_CREATES_PER_MIN`: creates per minute, for the whole group.
    pub upstream_max_creates_per_min: u32,
    /// `CHECKOUT_MAX_CONNECTIONS`: connections open at once; further ones wait.
    pub max_connections: usize,
    /// `false` with `--sandbox`: every event, webhook and merchant view says so (`livemode`),
    /// so a shop's server can refuse test payments.
    pub livemode: bool,
    /// `CHECKOUT_CHECK_LEASE_SECS`: how long a claimed confirmation check is this proxy's
    /// alone. Longer than a check can take (the upstream timeout, the rate limiter's queue).
    pub check_lease: Duration,
    /// `CHECKOUT_SESSION_IDLE_SECS`: a dashboard session unused this long is over.
    pub session_idle: Duration,
    /// `CHECKOUT_METRICS_LISTEN`: where `GET /metrics` is served (Prometheus text), on a
    /// listener of its own so that it is never public by accident; `None`: nowhere.
    pub metrics_listen: Option<SocketAddr>,
    /// `CHECKOUT_INSTANCE_ID`: this proxy's name in its metrics and JSON log lines (one
    /// made at start when unset, so that each run is told apart).
    pub instance_id: String,
    /// `CHECKOUT_LOG_FORMAT`: `text` (people) or `json` (one object a line, for a collector).
    pub log_format: LogFormat,
    /// `CHECKOUT_BACKUP_DIR`: where the proxy writes snapshots of its SQLite store;
    /// `None`: it writes none.
    pub backup: Option<BackupConfig>,
}

/// Scheduled snapshots of a SQLite store (`workers/backup.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupConfig {
    /// `CHECKOUT_BACKUP_DIR`: the folder (made at the first snapshot if missing).
    pub dir: PathBuf,
    /// `CHECKOUT_BACKUP_EVERY` (default `24h`): the time from one snapshot to the next.
    pub every: Duration,
    /// `CHECKOUT_BACKUP_KEEP` (default 7): how many of its snapshots are kept, newest first.
    pub keep: usize,
}

impl BackupConfig {
    /// `None` without `CHECKOUT_BACKUP_DIR`. The interval is written as one step of the webhook
    /// retry schedule (`30m`, `6h`, `24h`), at least 1 s.
    fn from_vars(
        vars: &Vars<impl Fn(&str) -> Option<String>>,
        database: &Database,
    ) -> Result<Option<BackupConfig>, ConfigError> {
        let Some(dir) = vars.get("CHECKOUT_BACKUP_DIR") else {
            for name in ["CHECKOUT_BACKUP_EVERY", "CHECKOUT_BACKUP_KEEP"] {
                if vars.get(name).is_some() {
                    return Err(invalid(
                        name,
                        "is set but CHECKOUT_BACKUP_DIR is not: name the folder for snapshots",
                    ));
                }
            }
            return Ok(None);
        };
        if let Database::Postgres(_) = database {
            return Err(invalid(
                "CHECKOUT_BACKUP_DIR",
                "is for a SQLite store; CHECKOUT_DATABASE is PostgreSQL: back it up with \
                 pg_dump (see README.md, Backups)",
            ));
        }
        let every_text = vars
            .get("CHECKOUT_BACKUP_EVERY")
            .unwrap_or_else(|| "24h".to_owned());
        let every = match parse_schedule(&every_text)
            .map_err(|reason| invalid("CHECKOUT_BACKUP_EVERY", reason))?
            .as_slice()
        {
            [one] if *one >= Duration::from_secs(1) => *one,
            [_] => return Err(invalid("CHECKOUT_BACKUP_EVERY", "must be at least 1s")),
            _ => {
                return Err(invalid(
                    "CHECKOUT_BACKUP_EVERY",
                    "is one interval, e.g. 24h, 6h or 30m",
                ))
            }
        };
        let keep = usize::try_from(vars.u64("CHECKOUT_BACKUP_KEEP", 7)?)
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| invalid("CHECKOUT_BACKUP_KEEP", "must be 1 or more"))?;
        Ok(Some(BackupConfig {
            dir: PathBuf::from(dir.trim()),
            every,
            keep,
        }))
    }
}

/// How log lines are written (`CHECKOUT_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Lines for people, as tracing-subscriber writes them.
    #[default]
    Text,
    /// One JSON object a line, to standard error, and a line for every request (status reads
    /// at debug level only: they come thousands a second).
    Json,
}

impl LogFormat {
    /// `CHECKOUT_LOG_FORMAT`: `text` when unset.
    pub fn parse(text: Option<&str>) -> Result<LogFormat, ConfigError> {
        match text.map(str::trim).filter(|t| !t.is_empty()) {
            None | Some("text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(invalid(
                "CHECKOUT_LOG_FORMAT",
                format!("is text or json, not {other:?}"),
            )),
        }
    }
}

/// An instance id made at start: `px-` and 8 hex digits from the OS's random source.
fn new_instance_id() -> String {
    use rand::Rng;
    format!("px-{:08x}", rand::rngs::OsRng.gen::<u32>())
}

/// `CHECKOUT_INSTANCE_ID`: a label value, so letters, digits and `-_.:` only, at most 64.
fn instance_id(vars: &Vars<impl Fn(&str) -> Option<String>>) -> Result<String, ConfigError> {
    let Some(id) = vars.get("CHECKOUT_INSTANCE_ID") else {
        return Ok(new_instance_id());
    };
    let id = id.trim();
    let fits = id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if !fits {
        return Err(invalid(
            "CHECKOUT_INSTANCE_ID",
            "is at most 64 letters, digits and -_.: (e.g. checkout-1)",
        ));
    }
    Ok(id.to_owned())
}

/// A configuration the proxy refuses to start with. Messages name the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is required (or run with --sandbox to try the checkout without an account)")]
    Missing(&'static str),
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Key and store the in-process sandbox accepts.
pub const SANDBOX_API_KEY: &str = "sandbox-secret-key";
pub const SANDBOX_STORE_ID: &str = "SANDBOX-STORE";
/// The store when `CHECKOUT_DATABASE` names none.
pub const DEFAULT_DATABASE: &str = "paydigital-checkout.sqlite";
/// The shortest lease accepted: a delivery may take 15 s, a check two upstream timeouts.
const MIN_LEASE_SECS: u64 = 20;

fn invalid(name: &'static str, reason: impl fmt::Display) -> ConfigError {
    ConfigError::Invalid {
        name,
        reason: reason.to_string(),
    }
}

/// The environment as the sections read it: unset and blank are the same.
struct Vars<F>(F);

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.trim().is_empty())
    }

    fn u64(&self, name: &'static str, default: u64) -> Result<u64, ConfigError> {
        self.get(name).map_or(Ok(default), |v| {
            v.trim().parse().map_err(|e| invalid(name, e))
        })
    }

    /// A whole number of at least 1 that fits a `u32`.
    fn positive_u32(&self, name: &'static str, default: u64) -> Result<u32, ConfigError> {
        u32::try_from(self.u64(name, default)?)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| invalid(name, "must be 1 or more"))
    }

    /// A lease in seconds: at least [`MIN_LEASE_SECS`].
    fn lease(&self, name: &'static str) -> Result<Duration, ConfigError> {
        let secs = self.u64(name, 60)?;
        if secs < MIN_LEASE_SECS {
            return Err(invalid(
                name,
                format!(
                    "must be {MIN_LEASE_SECS} or more: a delivery may take 15 s, a check two \
                     upstream timeouts"
                ),
            ));
        }
        Ok(Duration::from_secs(secs))
    }

    /// A secret from `NAME` or from the file `NAME_FILE` names, trimmed. The file's path,
    /// never its content, may appear in an error.
    fn secret(
        &self,
        name: &'static str,
        file_var: &'static str,
    ) -> Result<Option<String>, ConfigError> {
        if let Some(value) = self.get(name) {
            return Ok(Some(value.trim().to_owned()));
        }
        match self.get(file_var) {
            None => Ok(None),
            Some(path) => std::fs::read_to_string(path.trim())
                .map(|text| Some(text.trim().to_owned()))
                .map_err(|e| invalid(file_var, format!("{}: {e}", path.trim()))),
        }
    }

    /// An `http(s)://` URL, without a trailing `/`.
    fn url(&self, name: &'static str, example: &str) -> Result<Option<String>, ConfigError> {
        let Some(url) = self.get(name) else {
            return Ok(None);
        };
        let url = url.trim().trim_end_matches('/').to_owned();
        if !is_http_url(&url) {
            return Err(invalid(
                name,
                format!("must be an http(s) URL like {example}"),
            ));
        }
        Ok(Some(url))
    }
}

fn is_http_url(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

/// `PAYDIGITAL_UTC_OFFSET_HOURS`: the zone of PayDigital's zoneless times, whole hours from
/// UTC (Jakarta, +7, when unset).
pub fn parse_zone(hours: Option<&str>) -> Result<UtcOffset, ConfigError> {
    const NAME: &str = "PAYDIGITAL_UTC_OFFSET_HOURS";
    let hours = match hours.map(str::trim).filter(|h| !h.is_empty()) {
        None => 7,
        Some(text) => text.parse::<i8>().map_err(|e| invalid(NAME, e))?,
    };
    UtcOffset::from_hms(hours, 0, 0).map_err(|e| invalid(NAME, e))
}

/// `CHECKOUT_TRUSTED_PROXIES`: comma-separated CIDRs (`10.0.0.0/8`) or addresses.
fn trusted_proxies(
    vars: &Vars<impl Fn(&str) -> Option<String>>,
) -> Result<Vec<IpNet>, ConfigError> {
    const NAME: &str = "CHECKOUT_TRUSTED_PROXIES";
    if vars.get("CHECKOUT_TRUST_FORWARDED_FOR").is_some() {
        // It believed the leftmost X-Forwarded-For address, which any client writes itself.
        return Err(invalid(
            "CHECKOUT_TRUST_FORWARDED_FOR",
            "is replaced by CHECKOUT_TRUSTED_PROXIES: list your reverse proxy's addresses \
             (e.g. CHECKOUT_TRUSTED_PROXIES=127.0.0.1/32)",
        ));
    }
    let Some(list) = vars.get(NAME) else {
        return Ok(Vec::new());
    };
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    invalid(
                        NAME,
                        format!("{entry:?} is not an address or a CIDR like 10.0.0.0/8"),
                    )
                })
        })
        .collect()
}

/// `serve --sandbox` is for this machine: anyone who reaches a sandbox can press "pay" on any
/// payment, and the shop would receive a genuinely signed `payment.paid`. So it refuses a real
/// key and a listen address other than loopback (`--sandbox-public` overrides).
pub fn sandbox_stays_private(listen: SocketAddr, key_given: bool) -> Result<(), ConfigError> {
    if key_given {
        return Err(invalid(
            "PAYDIGITAL_API_KEY",
            "is set, but --sandbox never uses a real key: unset it (or pass --sandbox-public)",
        ));
    }
    if !listen.ip().is_loopback() {
        return Err(invalid(
            "CHECKOUT_LISTEN",
            format!(
                "{listen} is not this machine only: a sandbox anyone can reach lets them mark \
                 payments paid; listen on 127.0.0.1 (or pass --sandbox-public)"
            ),
        ));
    }
    Ok(())
}

/// `CHECKOUT_DATABASE`, or the default file.
pub fn parse_database(text: Option<&str>) -> Result<Database, ConfigError> {
    Database::parse(text.unwrap_or(DEFAULT_DATABASE)).map_err(|e| invalid("CHECKOUT_DATABASE", e))
}

impl UpstreamConfig {
    fn from_vars(
        vars: &Vars<impl Fn(&str) -> Option<String>>,
        sandbox: bool,
    ) -> Result<UpstreamConfig, ConfigError> {
        let api_key = match vars.secret("PAYDIGITAL_API_KEY", "PAYDIGITAL_API_KEY_FILE")? {
            Some(key) => ApiKey::new(key),
            None if sandbox => ApiKey::new(SANDBOX_API_KEY),
            None => return Err(ConfigError::Missing("PAYDIGITAL_API_KEY")),
        };
        let store_id = match vars.get("PAYDIGITAL_STORE_ID") {
            Some(id) => id,
            None if sandbox => SANDBOX_STORE_ID.to_owned(),
            None => return Err(ConfigError::Missing("PAYDIGITAL_STORE_ID")),
        };
        let base_url = vars
            .get("PAYDIGITAL_BASE_URL")
            .unwrap_or_else(|| "https://paydigital.biz.id".to_owned())
            .trim_end_matches('/')
            .to_owned();
        // The key travels in every request: never in clear text across a network.
        if !(base_url.starts_with("https://") || paydigital::links::is_local_http(&base_url)) {
            return Err(invalid(
                "PAYDIGITAL_BASE_URL",
                "must start with https:// (http:// only to this machine, e.g. a local sandbox)",
            ));
        }
        Ok(UpstreamConfig {
            base_url,
            api_key,
            store_id,
            timeout: Duration::from_secs(vars.u64("PAYDIGITAL_TIMEOUT_SECS", 10)?.max(1)),
            zone: parse_zone(vars.get("PAYDIGITAL_UTC_OFFSET_HOURS").as_deref())?,
        })
    }
}

impl WebhookConfig {
    /// `None` without `CHECKOUT_WEBHOOK_URL`.
    fn from_vars(
        vars: &Vars<impl Fn(&str) -> Option<String>>,
    ) -> Result<Option<WebhookConfig>, ConfigError> {
        let Some(url) = vars
            .get("CHECKOUT_WEBHOOK_URL")
            .map(|u| u.trim().to_owned())
        else {
            return Ok(None);
        };
        if !is_http_url(&url) {
            return Err(invalid("CHECKOUT_WEBHOOK_URL", "must be an http(s) URL"));
        }
        let secret = vars
            .secret("CHECKOUT_WEBHOOK_SECRET", "CHECKOUT_WEBHOOK_SECRET_FILE")?
            .ok_or(ConfigError::Invalid {
                name: "CHECKOUT_WEBHOOK_SECRET",
                reason: "is required with CHECKOUT_WEBHOOK_URL (make one with `paydigital-proxy webhooks new-secret`)".into(),
            })?;
        let several = secret.split_whitespace().count() > 1;
        let secrets = secret
            .split_whitespace()
            .enumerate()
            .map(|(i, text)| {
                WebhookSecret::parse(text).map_err(|reason| {
                    let which = if several {
                        format!("secret {}: ", i + 1)
                    } else {
                        String::new()
                    };
                    invalid("CHECKOUT_WEBHOOK_SECRET", format!("{which}{reason}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let retry_schedule = parse_schedule(
            &vars
                .get("CHECKOUT_WEBHOOK_RETRY_SCHEDULE")
                .unwrap_or_else(|| DEFAULT_RETRY_SCHEDULE.to_owned()),
        )
        .map_err(|reason| invalid("CHECKOUT_WEBHOOK_RETRY_SCHEDULE", reason))?;
        Ok(Some(WebhookConfig {
            url,
            secrets,
            retry_schedule,
            lease: vars.lease("CHECKOUT_WEBHOOK_LEASE_SECS")?,
        }))
    }
}

impl PaymentRules {
    /// What a proxy configured with none of the variables allows (the committed OpenAPI
    /// document describes it).
    pub fn defaults() -> PaymentRules {
        PaymentRules {
            min_amount: UPSTREAM_MIN_AMOUNT,
            max_amount: DEFAULT_MAX_AMOUNT,
            catalog: None,
            browser_reference: true,
        }
    }

    fn from_vars(
        vars: &Vars<impl Fn(&str) -> Option<String>>,
    ) -> Result<PaymentRules, ConfigError> {
        let catalog = match vars.get("CHECKOUT_CATALOG") {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| invalid("CHECKOUT_CATALOG", format!("{path}: {e}")))?;
                Some(parse_catalog(&text)?)
            }
            None => None,
        };
        let min_amount = vars.u64("CHECKOUT_MIN_AMOUNT", UPSTREAM_MIN_AMOUNT)?;
        let max_amount = vars.u64("CHECKOUT_MAX_AMOUNT", DEFAULT_MAX_AMOUNT)?;
        if min_amount < UPSTREAM_MIN_AMOUNT {
            return Err(invalid(
                "CHECKOUT_MIN_AMOUNT",
                "PayDigital's minimum is 1000",
            ));
        }
        if max_amount < min_amount {
            return Err(invalid("CHECKOUT_MAX_AMOUNT", "below CHECKOUT_MIN_AMOUNT"));
        }
        let browser_reference = match vars
            .get("CHECKOUT_BROWSER_REFERENCE")
            .as_deref()
            .map(str::trim)
        {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => {
                return Err(invalid(
                    "CHECKOUT_BROWSER_REFERENCE",
                    format!("is on or off, not {other:?}"),
                ))
            }
        };
        Ok(PaymentRules {
            min_amount,
            max_amount,
            catalog,
            browser_reference,
        })
    }
}

impl Config {
    /// Reads the configuration through `var` (the process environment in production, a map
    /// in tests), section by section. With `sandbox`, key and store default to the sandbox's.
    pub fn from_vars(
        var: impl Fn(&str) -> Option<String>,
        sandbox: bool,
    ) -> Result<Config, ConfigError> {
        let vars = Vars(var);
        let upstream = UpstreamConfig::from_vars(&vars, sandbox)?;
        let listen = vars
            .get("CHECKOUT_LISTEN")
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
            .parse()
            .map_err(|e| invalid("CHECKOUT_LISTEN", e))?;
        let allowed_origins = match vars.get("CHECKOUT_ALLOWED_ORIGINS") {
            Some(v) if v.trim() == "*" => AllowedOrigins::Any,
            Some(v) => AllowedOrigins::List(
                v.split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_owned())
                    .filter(|o| !o.is_empty())
                    .collect(),
            ),
            None => AllowedOrigins::List(Vec::new()),
        };
        let merchant_key =
            match vars.secret("CHECKOUT_MERCHANT_KEY", "CHECKOUT_MERCHANT_KEY_FILE")? {
                None => None,
                Some(key) if key.chars().count() < MIN_MERCHANT_KEY => {
                    return Err(invalid(
                        "CHECKOUT_MERCHANT_KEY",
                        format!(
                    "must be at least {MIN_MERCHANT_KEY} characters (try: openssl rand -hex 32)"
                ),
                    ))
                }
                Some(key) => Some(MerchantKey(key)),
            };
        let database_pool = usize::try_from(vars.u64("CHECKOUT_DATABASE_POOL", 10)?)
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| invalid("CHECKOUT_DATABASE_POOL", "must be from 1 to 1000"))?;
        let database = parse_database(vars.get("CHECKOUT_DATABASE").as_deref())?;
        let backup = BackupConfig::from_vars(&vars, &database)?;
        Ok(Config {
            listen,
            upstream,
            allowed_origins,
            database,
            backup,
            database_pool,
            static_dir: vars
                .get("CHECKOUT_STATIC_DIR")
                .unwrap_or_else(|| "dist".to_owned())
                .into(),
            rules: PaymentRules::from_vars(&vars)?,
            creates_per_minute: vars.positive_u32("CHECKOUT_CREATES_PER_MINUTE", 20)?,
            trusted_proxies: trusted_proxies(&vars)?,
            late_payment_grace: Duration::from_secs(
                vars.u64("CHECKOUT_LATE_PAYMENT_GRACE_SECS", 24 * 3600)?,
            ),
            status_refresh: Duration::from_millis(vars.u64("CHECKOUT_STATUS_REFRESH_MS", 2000)?),
            merchant_key,
            public_url: vars.url("CHECKOUT_PUBLIC_URL", "https://pay.toko.example")?,
            receipt_shows_customer: on_or_off(&vars, "CHECKOUT_RECEIPT_SHOWS_CUSTOMER", false)?,
            webhook: WebhookConfig::from_vars(&vars)?,
            upstream_max_rps: vars.positive_u32("CHECKOUT_UPSTREAM_MAX_RPS", 5)?,
            upstream_max_creates_per_min: vars
                .positive_u32("CHECKOUT_UPSTREAM_MAX_CREATES_PER_MIN", 120)?,
            check_lease: vars.lease("CHECKOUT_CHECK_LEASE_SECS")?,
            session_idle: Duration::from_secs(
                vars.positive_u32("CHECKOUT_SESSION_IDLE_SECS", 43_200)?
                    .into(),
            ),
            livemode: !sandbox,
            metrics_listen: vars
                .get("CHECKOUT_METRICS_LISTEN")
                .map(|v| v.trim().parse())
                .transpose()
                .map_err(|e| invalid("CHECKOUT_METRICS_LISTEN", e))?,
            instance_id: instance_id(&vars)?,
            log_format: LogFormat::parse(vars.get("CHECKOUT_LOG_FORMAT").as_deref())?,
            max_connections: usize::try_from(vars.u64("CHECKOUT_MAX_CONNECTIONS", 10_000)?)
                .ok()
                .filter(|n| (1..=1_000_000).contains(n))
                .ok_or_else(|| invalid("CHECKOUT_MAX_CONNECTIONS", "must be from 1 to 1000000"))?,
        })
    }

    /// Reads the process environment.
    pub fn from_env(sandbox: bool) -> Result<Config, ConfigError> {
        Config::from_vars(|name| std::env::var(name).ok(), sandbox)
    }
}

/// A switch: `on` or `off` (or unset: `default`); anything else is refused, not guessed.
fn on_or_off(
    vars: &Vars<impl Fn(&str) -> Option<String>>,
    name: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match vars.get(name).as_deref().map(str::trim) {
        None => Ok(default),
        Some("on") => Ok(true),
        Some("off") => Ok(false),
        Some(other) => Err(invalid(name, format!("is on or off, not {other:?}"))),
    }
}

/// Reads a catalog file.
pub fn parse_catalog(text: &str) -> Result<Catalog, ConfigError> {
    let catalog: Catalog =
        toml::from_str(text).map_err(|e| invalid("CHECKOUT_CATALOG", e.message()))?;
    for (id, item) in &catalog.items {
        if item.price < UPSTREAM_MIN_AMOUNT {
            return Err(invalid(
                "CHECKOUT_CATALOG",
                format!(
                    "item {id:?} costs {}, under PayDigital's minimum of 1000",
                    item.price
                ),
            ));
        }
    }
    Ok(catalog)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn live_config_names_the_missing_variable() {
        let err = Config::from_vars(vars(&[("PAYDIGITAL_STORE_ID", "S1")]), false).unwrap_err();
        assert_eq!(err, ConfigError::Missing("PAYDIGITAL_API_KEY"));
        assert!(err.to_string().contains("PAYDIGITAL_API_KEY"));
        let err = Config::from_vars(vars(&[("PAYDIGITAL_API_KEY", "k")]), false).unwrap_err();
        assert_eq!(err, ConfigError::Missing("PAYDIGITAL_STORE_ID"));
    }

    #[test]
    fn defaults_follow_the_contract() {
        let config = Config::from_vars(vars(&[]), true).expect("sandbox needs nothing");
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.upstream.base_url, "https://paydigital.biz.id");
        assert_eq!(config.upstream.timeout, Duration::from_secs(10));
        assert_eq!(config.upstream.zone, UtcOffset::from_hms(7, 0, 0).unwrap());
        assert_eq!(
            (config.rules.min_amount, config.rules.max_amount),
            (1000, 10_000_000)
        );
        assert_eq!(config.allowed_origins, AllowedOrigins::List(vec![]));
        assert_eq!(config.static_dir, PathBuf::from("dist"));
        assert!(matches!(
            &config.database,
            Database::Sqlite(path) if path == &PathBuf::from("paydigital-checkout.sqlite")
        ));
        assert_eq!(config.database_pool, 10);
        assert_eq!(config.metrics_listen, None, "no metrics unless asked");
        assert_eq!(config.log_format, LogFormat::Text);
        assert!(config.instance_id.starts_with("px-") && config.instance_id.len() == 11);
    }

    #[test]
    fn backups_are_off_by_default_and_their_mistakes_refused() {
        let config = Config::from_vars(vars(&[]), true).expect("sandbox");
        assert_eq!(config.backup, None, "no snapshots unless asked");
        let config = Config::from_vars(vars(&[("CHECKOUT_BACKUP_DIR", "/var/backups/pd")]), true)
            .expect("a folder is enough");
        assert_eq!(
            config.backup,
            Some(BackupConfig {
                dir: PathBuf::from("/var/backups/pd"),
                every: Duration::from_secs(24 * 3600),
                keep: 7,
            })
        );
        let config = Config::from_vars(
            vars(&[
                ("CHECKOUT_BACKUP_DIR", "snaps"),
                ("CHECKOUT_BACKUP_EVERY", "1s"),
                ("CHECKOUT_BACKUP_KEEP", "2"),
            ]),
            true,
        )
        .expect("1s is allowed");
        let backup = config.backup.expect("on");
        assert_eq!((backup.every, backup.keep), (Duration::from_secs(1), 2));
        for (pairs, name, words) in [
            (
                vec![
                    ("CHECKOUT_BACKUP_DIR", "d"),
                    ("CHECKOUT_BACKUP_EVERY", "999ms"),
                ],
                "CHECKOUT_BACKUP_EVERY",
                "at least 1s",
            ),
            (
                vec![
                    ("CHECKOUT_BACKUP_DIR", "d"),
                    ("CHECKOUT_BACKUP_EVERY", "daily"),
                ],
                "CHECKOUT_BACKUP_EVERY",
                "unit",
            ),
            (
                vec![
                    ("CHECKOUT_BACKUP_DIR", "d"),
                    ("CHECKOUT_BACKUP_EVERY", "1h,2h"),
                ],
                "CHECKOUT_BACKUP_EVERY",
                "one interval",
            ),
            (
                vec![("CHECKOUT_BACKUP_DIR", "d"), ("CHECKOUT_BACKUP_KEEP", "0")],
                "CHECKOUT_BACKUP_KEEP",
                "1 or more",
            ),
            (
                vec![("CHECKOUT_BACKUP_KEEP", "3")],
                "CHECKOUT_BACKUP_KEEP",
                "CHECKOUT_BACKUP_DIR is not",
            ),
            (
                vec![
                    ("CHECKOUT_BACKUP_DIR", "d"),
                    ("CHECKOUT_DATABASE", "postgres://pd:pw@localhost/checkout"),
                ],
                "CHECKOUT_BACKUP_DIR",
                "pg_dump",
            ),
        ] {
            let err = Config::from_vars(vars(&pairs), true).unwrap_err();
            let text = err.to_string();
            assert!(
                matches!(&err, ConfigError::Invalid { name: n, .. } if *n == name)
                    && text.contains(words),
                "{pairs:?}: {text}"
            );
        }
    }

    #[test]
    fn metrics_listen_log_format_and_instance_id_are_checked() {
        let config = Config::from_vars(
            vars(&[
                ("CHECKOUT_METRICS_LISTEN", "127.0.0.1:9464"),
                ("CHECKOUT_LOG_FORMAT", "json"),
                ("CHECKOUT_INSTANCE_ID", "checkout-1"),
            ]),
            true,
        )
        .expect("valid");
        assert_eq!(
            config.metrics_listen,
            Some("127.0.0.1:9464".parse().expect("addr"))
        );
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.instance_id, "checkout-1");
        for (name, bad) in [
            ("CHECKOUT_METRICS_LISTEN", "9464"),
            ("CHECKOUT_LOG_FORMAT", "yaml"),
            ("CHECKOUT_INSTANCE_ID", "a\"b"),
        ] {
            let err = Config::from_vars(vars(&[(name, bad)]), true).expect_err(bad);
            assert!(
                matches!(&err, ConfigError::Invalid { name: n, .. } if *n == name),
                "{name}: {err}"
            );
        }
    }

    #[test]
    fn the_key_never_prints() {
        let config = Config::from_vars(
            vars(&[
                ("PAYDIGITAL_API_KEY", "pd_live_SECRET"),
                ("PAYDIGITAL_STORE_ID", "S1"),
            ]),
            false,
        )
        .expect("valid");
        assert!(!format!("{config:?}").contains("SECRET"));
        assert_eq!(config.upstream.api_key.expose(), "pd_live_SECRET");
    }

    #[test]
    fn merchant_key_is_long_never_prints_and_matches_exactly() {
        let short = Config::from_vars(vars(&[("CHECKOUT_MERCHANT_KEY", "too-short")]), true)
            .expect_err("short key");
        assert!(matches!(
            short,
            ConfigError::Invalid {
                name: "CHECKOUT_MERCHANT_KEY",
                ..
            }
        ));
        assert!(!short.to_string().contains("too-short"), "{short}");
        let key = "mk_0123456789abcdef0123456789abcdef";
        let config =
            Config::from_vars(vars(&[("CHECKOUT_MERCHANT_KEY", key)]), true).expect("valid");
        let merchant_key = config.merchant_key.clone().expect("configured");
        assert!(merchant_key.matches(key));
        assert!(!merchant_key.matches("mk_0123456789abcdef0123456789abcdeX"));
        assert!(!merchant_key.matches(""));
        assert!(!format!("{config:?}").contains(key));
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("merchant.key");
        std::fs::write(&file, format!("{key}\n")).expect("write");
        let from_file = Config::from_vars(
            vars(&[("CHECKOUT_MERCHANT_KEY_FILE", &file.display().to_string())]),
            true,
        )
        .expect("valid");
        assert!(from_file.merchant_key.expect("configured").matches(key));
        assert!(Config::from_vars(vars(&[]), true)
            .expect("valid")
            .merchant_key
            .is_none());
    }

    #[test]
    fn a_webhook_url_needs_a_well_formed_secret() {
        let url = ("CHECKOUT_WEBHOOK_URL", "https://toko.example/webhooks");
        let missing = Config::from_vars(vars(&[url]), true).expect_err("no secret");
        assert!(matches!(
            missing,
            ConfigError::Invalid {
                name: "CHECKOUT_WEBHOOK_SECRET",
                ..
            }
        ));
        for bad in ["not-whsec", "whsec_!!!", "whsec_c2hvcnQ="] {
            let err = Config::from_vars(vars(&[url, ("CHECKOUT_WEBHOOK_SECRET", bad)]), true)
                .expect_err(bad);
            assert!(
                matches!(
                    err,
                    ConfigError::Invalid {
                        name: "CHECKOUT_WEBHOOK_SECRET",
                        ..
                    }
                ),
                "{bad}"
            );
            assert!(
                !err.to_string().contains(bad),
                "the secret is not echoed: {err}"
            );
        }
        let good = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let config = Config::from_vars(vars(&[url, ("CHECKOUT_WEBHOOK_SECRET", good)]), true)
            .expect("valid");
        let webhook = config.webhook.clone().expect("configured");
        assert_eq!(webhook.secrets.len(), 1);
        assert_eq!(webhook.secrets[0].bytes().len(), 24);
        let two = format!("{good} whsec_6lVivdF9r+kMuycmtZoFMVcgrruxW/mwu6KNlJJPFBY=");
        let rotating = Config::from_vars(vars(&[url, ("CHECKOUT_WEBHOOK_SECRET", &two)]), true)
            .expect("two secrets");
        assert_eq!(rotating.webhook.expect("configured").secrets.len(), 2);
        let one_bad = format!("{good} whsec_!!!");
        let err = Config::from_vars(vars(&[url, ("CHECKOUT_WEBHOOK_SECRET", &one_bad)]), true)
            .expect_err("the second is bad");
        assert!(err.to_string().contains("secret 2"), "{err}");
        assert!(!err.to_string().contains("MfKQ9r8"), "{err}");
        assert_eq!(webhook.retry_schedule.len(), 9);
        assert_eq!(webhook.retry_schedule[1], Duration::from_secs(300));
        assert!(!format!("{config:?}").contains("MfKQ9r8"));
        assert_eq!(
            parse_schedule("200ms, 1s,2m,1h"),
            Ok(vec![
                Duration::from_millis(200),
                Duration::from_secs(1),
                Duration::from_secs(120),
                Duration::from_secs(3600)
            ])
        );
        assert!(parse_schedule("5x").is_err());
        assert!(
            parse_schedule("18446744073709551615h").is_err(),
            "overflow is an error"
        );
        assert!(parse_schedule("5").is_err());
        assert_eq!(config.upstream_max_rps, 5);
    }

    #[test]
    fn trusted_proxies_are_cidrs_or_addresses_and_the_old_switch_is_refused() {
        let config = Config::from_vars(
            vars(&[("CHECKOUT_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8 ,::1")]),
            true,
        )
        .expect("valid");
        let shown: Vec<String> = config
            .trusted_proxies
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(shown, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
        assert!(Config::from_vars(vars(&[]), true)
            .expect("valid")
            .trusted_proxies
            .is_empty());
        let bad = Config::from_vars(vars(&[("CHECKOUT_TRUSTED_PROXIES", "10.0.0.0/33")]), true)
            .expect_err("bad cidr");
        assert!(bad.to_string().contains("10.0.0.0/33"), "{bad}");
        let old = Config::from_vars(vars(&[("CHECKOUT_TRUST_FORWARDED_FOR", "true")]), true)
            .expect_err("the old switch");
        assert!(
            old.to_string().contains("CHECKOUT_TRUSTED_PROXIES"),
            "{old}"
        );
    }

    #[test]
    fn the_key_goes_upstream_over_https_or_to_this_machine_only() {
        for good in [
            "https://paydigital.biz.id",
            "http://127.0.0.1:8090",
            "http://localhost:8090/",
        ] {
            let config = Config::from_vars(vars(&[("PAYDIGITAL_BASE_URL", good)]), true);
            assert!(config.is_ok(), "{good}");
        }
        for bad in [
            "http://paydigital.biz.id",
            "http://10.0.0.5:8090",
            "ftp://x",
        ] {
            let err = Config::from_vars(vars(&[("PAYDIGITAL_BASE_URL", bad)]), true)
                .expect_err("refused");
            assert!(
                matches!(
                    err,
                    ConfigError::Invalid {
                        name: "PAYDIGITAL_BASE_URL",
                        ..
                    }
                ),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn the_sandbox_refuses_a_real_key_and_a_public_address() {
        let local: SocketAddr = "127.0.0.1:8080".parse().expect("addr");
        assert_eq!(sandbox_stays_private(local, false), Ok(()));
        assert_eq!(
            sandbox_stays_private("[::1]:8080".parse().expect("addr"), false),
            Ok(())
        );
        assert!(matches!(
            sandbox_stays_private(local, true),
            Err(ConfigError::Invalid {
                name: "PAYDIGITAL_API_KEY",
                ..
            })
        ));
        assert!(matches!(
            sandbox_stays_private("0.0.0.0:8080".parse().expect("addr"), false),
            Err(ConfigError::Invalid {
                name: "CHECKOUT_LISTEN",
                ..
            })
        ));
        assert!(!Config::from_vars(vars(&[]), true).expect("valid").livemode);
        let live = Config::from_vars(
            vars(&[("PAYDIGITAL_API_KEY", "k"), ("PAYDIGITAL_STORE_ID", "S1")]),
            false,
        )
        .expect("valid");
        assert!(live.livemode);
    }

    #[test]
    fn minimum_cannot_go_below_upstreams() {
        let err = Config::from_vars(vars(&[("CHECKOUT_MIN_AMOUNT", "500")]), true).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                name: "CHECKOUT_MIN_AMOUNT",
                ..
            }
        ));
    }

    #[test]
    fn origins_and_catalog_parse() {
        let config = Config::from_vars(
            vars(&[(
                "CHECKOUT_ALLOWED_ORIGINS",
                "https://a.example, https://b.example/",
            )]),
            true,
        )
        .expect("valid");
        assert!(config.allowed_origins.allows("https://b.example"));
        assert!(!config.allowed_origins.allows("https://c.example"));
        let catalog = parse_catalog("[items.kopi-susu]\nname = \"Kopi Susu\"\nprice = 25000\n")
            .expect("valid catalog");
        assert_eq!(catalog.items["kopi-susu"].price, 25000);
        assert!(parse_catalog("[items.permen]\nname = \"Permen\"\nprice = 500\n").is_err());
        assert!(parse_catalog("[items.x]\nname = \"X\"\nprice = -1\n").is_err());
    }
}
