//! PayDigital's own API: the create request's form fields and the two replies.
//!
//! PayDigital's documentation shows only the happy path. Public integrations show the rest:
//! errors as `{"status":"<not success>","message":...}`, sometimes inside HTTP 200; numbers
//! as strings; PHP notices printed before the JSON; HTML error pages; empty bodies. Each of
//! those becomes an [`UpstreamError`] with a short excerpt for the logs, never a panic and
//! never a guess.

use crate::Status;
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::macros::{format_description, offset};
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// PayDigital writes its times without a zone; they are Jakarta's (WIB, UTC+7).
pub const JAKARTA: UtcOffset = offset!(+7);

/// How many characters of an unexpected body are kept for the logs.
const EXCERPT_CHARS: usize = 160;

/// How many `{` a body may hold before we stop looking for JSON behind PHP's noise.
const MAX_JSON_STARTS: usize = 64;

/// Why a PayDigital reply could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// Nothing at all (or only white space).
    #[error("empty reply")]
    Empty,
    /// Not JSON: an HTML error page, a PHP fatal error, a proxy's login page.
    #[error("reply is not JSON: {excerpt:?}")]
    NotJson { excerpt: String },
    /// PayDigital said no (`status` is not `success`).
    #[error("PayDigital refused ({status}): {message}")]
    Refused { status: String, message: String },
    /// JSON, but not the shape we need.
    #[error("unexpected reply ({reason}): {excerpt:?}")]
    BadShape {
        reason: &'static str,
        excerpt: String,
    },
}

/// The form fields of `POST /api/create_payment.php`. The key travels in the
/// `Authorization` header, not here, so that this value can be logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateForm {
    pub store_id: String,
    /// Rupiah, at least 1000.
    pub amount: u64,
    pub description: String,
    pub customer_name: String,
}

impl CreateForm {
    /// The `application/x-www-form-urlencoded` fields, in PayDigital's names.
    pub fn form_fields(&self) -> [(&'static str, String); 4] {
        [
            ("store_id", self.store_id.clone()),
            ("amount", self.amount.to_string()),
            ("description", self.description.clone()),
            ("customer_name", self.customer_name.clone()),
        ]
    }
}

/// A successful create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateReply {
    pub invoice: String,
    pub amount: u64,
    pub unique_code: u64,
    pub total_amount: u64,
    pub qr_content: String,
    pub qr_url: Option<String>,
    pub payment_url: Option<String>,
    pub expired_at: OffsetDateTime,
}

/// A successful status read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReply {
    pub invoice: String,
    pub status: Status,
    /// The word PayDigital used, kept for the logs (`unpaid`, `PAID`, ...).
    pub status_word: String,
    pub amount: Option<u64>,
    pub unique_code: Option<u64>,
    pub total_amount: Option<u64>,
    pub paid_at: Option<OffsetDateTime>,
    pub customer_name: Option<String>,
    pub store_name: Option<String>,
}

/// Reads a create reply. `zone` is the offset PayDigital's zoneless times are in
/// (normally [`JAKARTA`]).
pub fn parse_create(body: &str, zone: UtcOffset) -> Result<CreateReply, UpstreamError> {
    let data = success_data(body)?;
    let shape = |reason| UpstreamError::BadShape {
        reason,
        excerpt: excerpt(body),
    };
    let expired_at = text(&data, "expired_at")
        .ok_or_else(|| shape("no expired_at"))
        .and_then(|t| parse_time(&t, zone).ok_or_else(|| shape("expired_at is not a time")))?;
    Ok(CreateReply {
        invoice: text(&data, "invoice").ok_or_else(|| shape("no invoice"))?,
        amount: number(&data, "amount").ok_or_else(|| shape("no amount"))?,
        unique_code: number(&data, "unique_code").unwrap_or(0),
        total_amount: number(&data, "total_amount").ok_or_else(|| shape("no total_amount"))?,
        qr_content: text(&data, "qr_content").ok_or_else(|| shape("no qr_content"))?,
        qr_url: text(&data, "qr_url"),
        payment_url: text(&data, "payment_url"),
        expired_at,
    })
}

/// Reads a status reply.
pub fn parse_status(body: &str, zone: UtcOffset) -> Result<StatusReply, UpstreamError> {
    let data = success_data(body)?;
    let shape = |reason| UpstreamError::BadShape {
        reason,
        excerpt: excerpt(body),
    };
    let status_word = text(&data, "status").ok_or_else(|| shape("no status"))?;
    Ok(StatusReply {
        invoice: text(&data, "invoice").ok_or_else(|| shape("no invoice"))?,
        status: Status::from_word(&status_word),
        status_word,
        amount: number(&data, "amount"),
        unique_code: number(&data, "unique_code"),
        total_amount: number(&data, "total_amount"),
        // PHP writes "0000-00-00 00:00:00" or "" for "not yet": both read as none.
        paid_at: text(&data, "paid_at").and_then(|t| parse_time(&t, zone)),
        customer_name: text(&data, "customer_name"),
        store_name: text(&data, "store_name"),
    })
}

/// Reads `YYYY-MM-DD HH:MM:SS` in `zone` (or an RFC 3339 time, should PayDigital ever add a
/// zone) into an instant.
pub fn parse_time(text: &str, zone: UtcOffset) -> Option<OffsetDateTime> {
    let text = text.trim();
    let naive = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    if let Ok(local) = PrimitiveDateTime::parse(text, naive) {
        return Some(local.assume_offset(zone));
    }
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// Writes a time the way PayDigital does (zoneless, in `zone`): the sandbox's side.
pub fn format_time(at: OffsetDateTime, zone: UtcOffset) -> String {
    let naive = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    at.to_offset(zone).format(naive).unwrap_or_default()
}

/// Writes an instant as RFC 3339 in `zone` (`2026-11-24T15:04:05+07:00`).
pub fn rfc3339(at: OffsetDateTime, zone: UtcOffset) -> String {
    at.to_offset(zone)
        .replace_nanosecond(0)
        .unwrap_or(at)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// The first characters of a body, on one line, for a log message.
pub fn excerpt(body: &str) -> String {
    let mut out: String = body
        .trim()
        .chars()
        .take(EXCERPT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if body.trim().chars().count() > EXCERPT_CHARS {
        out.push('…');
    }
    out
}

/// What came before the JSON in a body, if anything did (a PHP notice, say): worth a log line.
pub fn leading_noise(body: &str) -> Option<String> {
    let trimmed = body.trim_start_matches('\u{feff}').trim();
    if trimmed.starts_with('{') || serde_json::from_str::<Value>(trimmed).is_ok() {
        return None;
    }
    let start = json_start(trimmed)?;
    Some(excerpt(trimmed.get(..start).unwrap_or_default()))
}

/// Where a JSON object starts that runs to the end of `body`.
fn json_start(body: &str) -> Option<usize> {
    body.match_indices('{')
        .take(MAX_JSON_STARTS)
        .map(|(i, _)| i)
        .find(|&i| {
            body.get(i..)
                .is_some_and(|rest| serde_json::from_str::<Map<String, Value>>(rest).is_ok())
        })
}

/// Finds the JSON object in a body, behind PHP's notices if need be.
fn json_object(body: &str) -> Result<Map<String, Value>, UpstreamError> {
    let trimmed = body.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Err(UpstreamError::Empty);
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(Value::Object(map)) => return Ok(map),
        Ok(_) => {
            return Err(UpstreamError::BadShape {
                reason: "not a JSON object",
                excerpt: excerpt(body),
            })
        }
        Err(_) => {}
    }
    json_start(trimmed)
        .and_then(|start| trimmed.get(start..))
        .and_then(|rest| serde_json::from_str(rest).ok())
        .ok_or_else(|| UpstreamError::NotJson {
            excerpt: excerpt(body),
        })
}

/// The `data` object of a `{"status":"success","data":{...}}` reply.
fn success_data(body: &str) -> Result<Map<String, Value>, UpstreamError> {
    let mut object = json_object(body)?;
    let status = text(&object, "status").unwrap_or_default();
    if !status.eq_ignore_ascii_case("success") {
        let message = text(&object, "message")
            .or_else(|| text(&object, "error"))
            .unwrap_or_else(|| "(no message)".to_owned());
        return Err(UpstreamError::Refused {
            status: if status.is_empty() {
                "(no status)".to_owned()
            } else {
                status
            },
            message: excerpt(&message),
        });
    }
    match object.remove("data") {
        Some(Value::Object(data)) => Ok(data),
        _ => Err(UpstreamError::BadShape {
            reason: "no data object",
            excerpt: excerpt(body),
        }),
    }
}

/// A text field; numbers are accepted and written out. Empty and null read as none.
fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A whole, non-negative number, written as a JSON number or as a string (`"10000"`, and
/// `"10000.00"`, which PHP's number_format likes).
fn number(map: &Map<String, Value>, key: &str) -> Option<u64> {
    match map.get(key)? {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 9.0e15)
                .map(|f| f as u64)
        }),
        Value::String(s) => {
            let s = s.trim();
            let whole = match s.split_once('.') {
                Some((whole, fraction)) if fraction.bytes().all(|b| b == b'0') => whole,
                Some(_) => return None,
                None => s,
            };
            if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            whole.parse().ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const CREATED: &str = r#"{"status":"success","data":{"invoice":"PYG20261124150405123","amount":10000,"unique_code":387,"total_amount":10387,"qr_content":"000201...","qr_url":"https://example.test/qr.png","payment_url":"https://example.test/pay/PYG20261124150405123","expired_at":"2026-11-24 15:19:05"}}"#;

    #[test]
    fn reads_a_create_reply_as_jakarta_time() {
        let created = parse_create(CREATED, JAKARTA).expect("valid reply");
        assert_eq!(created.invoice, "PYG20261124150405123");
        assert_eq!(
            (created.amount, created.unique_code, created.total_amount),
            (10000, 387, 10387)
        );
        assert_eq!(created.expired_at, datetime!(2026-11-24 08:19:05 UTC));
        assert_eq!(
            rfc3339(created.expired_at, JAKARTA),
            "2026-11-24T15:19:05+07:00"
        );
    }

    #[test]
    fn numbers_may_be_strings() {
        let body = CREATED
            .replace("\"amount\":10000,", "\"amount\":\"10000\",")
            .replace("\"unique_code\":387,", "\"unique_code\":\" 387\",")
            .replace("\"total_amount\":10387,", "\"total_amount\":\"10387.00\",");
        let created = parse_create(&body, JAKARTA).expect("lenient numbers");
        assert_eq!(
            (created.amount, created.unique_code, created.total_amount),
            (10000, 387, 10387)
        );
    }

    #[test]
    fn fractional_or_negative_amounts_are_refused() {
        for bad in [
            "\"10000.5\"",
            "-10000",
            "\"1e4\"",
            "10000.5",
            "\"\"",
            "null",
            "true",
        ] {
            let body = CREATED.replace("\"amount\":10000", &format!("\"amount\":{bad}"));
            assert!(
                matches!(
                    parse_create(&body, JAKARTA),
                    Err(UpstreamError::BadShape { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_php_notice_before_the_json_is_survived() {
        let body = format!(
            "<br />\n<b>Notice</b>:  Undefined index: x in <b>/var/www/api.php</b> on line <b>{{3}}</b><br />\n{CREATED}"
        );
        let created = parse_create(&body, JAKARTA).expect("JSON after a notice");
        assert_eq!(created.total_amount, 10387);
        assert!(leading_noise(&body).is_some_and(|n| n.contains("Notice")));
        assert_eq!(leading_noise(CREATED), None);
    }

    #[test]
    fn errors_are_typed_even_inside_http_200() {
        let refused = parse_create(r#"{"status":"error","message":"Invalid API key"}"#, JAKARTA);
        assert_eq!(
            refused,
            Err(UpstreamError::Refused {
                status: "error".into(),
                message: "Invalid API key".into()
            })
        );
        assert_eq!(parse_create("", JAKARTA), Err(UpstreamError::Empty));
        assert_eq!(parse_create("  \n", JAKARTA), Err(UpstreamError::Empty));
        assert!(matches!(
            parse_create(
                "<html><body><h1>500 Internal Server Error</h1></body></html>",
                JAKARTA
            ),
            Err(UpstreamError::NotJson { .. })
        ));
        assert!(matches!(
            parse_create("[1,2]", JAKARTA),
            Err(UpstreamError::BadShape { .. })
        ));
        assert!(matches!(
            parse_create(r#"{"status":"success","data":{"invoice":"X"}}"#, JAKARTA),
            Err(UpstreamError::BadShape { .. })
        ));
        assert!(matches!(
            parse_create(r#"{"status":"success"}"#, JAKARTA),
            Err(UpstreamError::BadShape {
                reason: "no data object",
                ..
            })
        ));
    }

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        let long = format!("<html>\n{}</html>", "x".repeat(1000));
        let e = excerpt(&long);
        assert!(e.chars().count() <= EXCERPT_CHARS + 1);
        assert!(!e.contains('\n'));
    }

    #[test]
    fn reads_status_words_and_paid_at() {
        let body = r#"{"status":"success","data":{"invoice":"PYG1","amount":"10000","unique_code":"387","total_amount":"10387","status":"PAID","paid_at":"2026-11-24 15:10:00","customer_name":"Budi","store_name":"Toko"}}"#;
        let reply = parse_status(body, JAKARTA).expect("valid");
        assert_eq!(reply.status, Status::Paid);
        assert_eq!(reply.status_word, "PAID");
        assert_eq!(reply.paid_at, Some(datetime!(2026-11-24 08:10:00 UTC)));
        assert_eq!(reply.total_amount, Some(10387));

        let unpaid = body
            .replace("PAID", "unpaid")
            .replace("2026-11-24 15:10:00", "0000-00-00 00:00:00");
        let reply = parse_status(&unpaid, JAKARTA).expect("valid");
        assert_eq!(reply.status, Status::Pending);
        assert_eq!(reply.paid_at, None);
    }

    #[test]
    fn zone_can_be_overridden() {
        let at = parse_time("2026-11-24 15:00:00", offset!(+8)).expect("time");
        assert_eq!(at, datetime!(2026-11-24 07:00:00 UTC));
        assert_eq!(format_time(at, JAKARTA), "2026-11-24 14:00:00");
        assert_eq!(
            parse_time("2026-11-24T15:00:00Z", JAKARTA),
            Some(datetime!(2026-11-24 15:00:00 UTC))
        );
        assert_eq!(parse_time("yesterday", JAKARTA), None);
        assert_eq!(parse_time("2026-13-40 99:00:00", JAKARTA), None);
    }

    #[test]
    fn form_fields_use_paydigitals_names() {
        let request = CreateForm {
            store_id: "S1".into(),
            amount: 10000,
            description: "Kopi".into(),
            customer_name: "Budi".into(),
        };
        let fields = request.form_fields();
        assert_eq!(fields[0], ("store_id", "S1".to_string()));
        assert_eq!(fields[1], ("amount", "10000".to_string()));
    }
}
