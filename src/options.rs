//! What the embedding page asks for: element attributes or `mount()` options, checked.

/// Bounds on `poll-interval`: faster hammers the proxy, slower makes customers wait.
pub const MIN_POLL_MS: u32 = 1000;
pub const MAX_POLL_MS: u32 = 60_000;
pub const DEFAULT_POLL_MS: u32 = 3000;

/// A number from JavaScript or an attribute's text.
#[derive(Debug, Clone, PartialEq)]
pub enum NumberOrText {
    Number(f64),
    Text(String),
}

/// The options as given (camelCase from `mount()`; the loader maps attributes onto these).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawOptions {
    pub endpoint: Option<String>,
    pub amount: Option<NumberOrText>,
    pub item: Option<String>,
    pub description: Option<String>,
    pub customer_name: Option<String>,
    pub reference: Option<String>,
    pub lang: Option<String>,
    pub poll_interval: Option<NumberOrText>,
    pub success_url: Option<String>,
}

/// What to sell: the proxy prices an item, or takes an open amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Order {
    Amount(u64),
    Item(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub endpoint: String,
    pub order: Order,
    pub description: Option<String>,
    pub customer_name: Option<String>,
    pub reference: Option<String>,
    pub lang: Option<String>,
    pub poll_interval_ms: u32,
    pub success_url: Option<String>,
}

/// A set-up mistake, shown to the shop's developer in the console and the error event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    #[error("set either amount or item")]
    NoOrder,
    #[error("set amount or item, not both")]
    BothOrders,
    #[error("amount must be a whole number of rupiah, got \"{0}\"")]
    BadAmount(String),
    #[error("poll-interval must be a number of milliseconds, got \"{0}\"")]
    BadPollInterval(String),
    #[error("success-url must be an http(s) URL or a path, got \"{0}\"")]
    BadSuccessUrl(String),
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn whole_number(value: &NumberOrText) -> Option<u64> {
    match value {
        NumberOrText::Number(n) if n.fract() == 0.0 && *n >= 0.0 && *n <= 9.0e15 => Some(*n as u64),
        NumberOrText::Number(_) => None,
        NumberOrText::Text(t) => t.trim().parse().ok(),
    }
}

/// The value for an error message. Whole numbers only: formatting an `f64` would pull
/// the float printing code (about 15 KB) into the wasm bundle.
fn describe(value: &NumberOrText) -> String {
    match value {
        NumberOrText::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => (*n as i64).to_string(),
        NumberOrText::Number(_) => "a fraction".to_owned(),
        NumberOrText::Text(t) => t.clone(),
    }
}

impl Options {
    pub fn from_raw(raw: RawOptions) -> Result<Options, OptionsError> {
        let item = non_empty(raw.item);
        let amount = raw
            .amount
            .filter(|a| !matches!(a, NumberOrText::Text(t) if t.trim().is_empty()));
        let order = match (amount, item) {
            (Some(_), Some(_)) => return Err(OptionsError::BothOrders),
            (None, None) => return Err(OptionsError::NoOrder),
            (None, Some(item)) => Order::Item(item),
            (Some(amount), None) => Order::Amount(
                whole_number(&amount)
                    .filter(|a| *a > 0)
                    .ok_or_else(|| OptionsError::BadAmount(describe(&amount)))?,
            ),
        };
        let poll_interval_ms = match raw.poll_interval {
            None => DEFAULT_POLL_MS,
            Some(NumberOrText::Text(t)) if t.trim().is_empty() => DEFAULT_POLL_MS,
            Some(value) => {
                let ms = whole_number(&value)
                    .ok_or_else(|| OptionsError::BadPollInterval(describe(&value)))?;
                ms.clamp(u64::from(MIN_POLL_MS), u64::from(MAX_POLL_MS)) as u32
            }
        };
        let success_url = match non_empty(raw.success_url) {
            None => None,
            Some(url) => {
                let lower = url.to_ascii_lowercase();
                let safe = lower.starts_with("https://")
                    || lower.starts_with("http://")
                    || (url.starts_with('/') && !url.starts_with("//"));
                if !safe {
                    return Err(OptionsError::BadSuccessUrl(url));
                }
                Some(url)
            }
        };
        Ok(Options {
            endpoint: non_empty(raw.endpoint)
                .unwrap_or_else(|| "/api/payments".to_owned())
                .trim_end_matches('/')
                .to_owned(),
            order,
            description: non_empty(raw.description),
            customer_name: non_empty(raw.customer_name),
            reference: non_empty(raw.reference),
            lang: non_empty(raw.lang),
            poll_interval_ms,
            success_url,
        })
    }

    /// The create request's body.
    pub fn create_request(&self) -> paydigital::api::CreatePayment {
        let (amount, item) = match &self.order {
            Order::Amount(a) => (Some(*a), None),
            Order::Item(i) => (None, Some(i.clone())),
        };
        paydigital::api::CreatePayment {
            amount,
            item,
            description: self.description.clone(),
            customer_name: self.customer_name.clone(),
            reference: self.reference.clone(),
        }
    }

    /// Where a payment's status is read.
    pub fn status_url(&self, invoice: &str) -> String {
        format!("{}/{}", self.endpoint, percent_encode(invoice))
    }

    /// The sessionStorage key a pending payment for this order is remembered under, so
    /// that a reload resumes it (same endpoint, same order, same reference).
    pub fn resume_key(&self) -> String {
        let order = match &self.order {
            Order::Amount(a) => format!("amount={a}"),
            Order::Item(i) => format!("item={i}"),
        };
        format!(
            "paydigital-checkout|{}|{}|{}",
            self.endpoint,
            order,
            self.reference.as_deref().unwrap_or("")
        )
    }
}

/// Encodes a path segment (invoices are alphanumeric, but the proxy's word is not trusted).
pub fn percent_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(byte >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(byte & 15)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(amount: Option<NumberOrText>, item: Option<&str>) -> RawOptions {
        RawOptions {
            amount,
            item: item.map(str::to_owned),
            ..RawOptions::default()
        }
    }

    #[test]
    fn amounts_from_numbers_and_attribute_text() {
        let from_js =
            Options::from_raw(raw(Some(NumberOrText::Number(10000.0)), None)).expect("valid");
        assert_eq!(from_js.order, Order::Amount(10000));
        assert_eq!(from_js.endpoint, "/api/payments");
        assert_eq!(from_js.poll_interval_ms, DEFAULT_POLL_MS);
        let from_attr = Options::from_raw(raw(Some(NumberOrText::Text(" 10000 ".into())), None))
            .expect("valid");
        assert_eq!(from_attr.order, Order::Amount(10000));
        for bad in [
            NumberOrText::Number(10.5),
            NumberOrText::Number(-1.0),
            NumberOrText::Text("10.000".into()),
            NumberOrText::Number(0.0),
        ] {
            assert!(matches!(
                Options::from_raw(raw(Some(bad), None)),
                Err(OptionsError::BadAmount(_))
            ));
        }
    }

    #[test]
    fn exactly_one_of_amount_or_item() {
        assert_eq!(
            Options::from_raw(raw(None, None)),
            Err(OptionsError::NoOrder)
        );
        assert_eq!(
            Options::from_raw(raw(Some(NumberOrText::Number(1000.0)), Some("kopi"))),
            Err(OptionsError::BothOrders)
        );
        let item = Options::from_raw(raw(None, Some("kopi-susu"))).expect("valid");
        assert_eq!(item.order, Order::Item("kopi-susu".into()));
        assert_eq!(item.create_request().item.as_deref(), Some("kopi-susu"));
        assert_eq!(item.create_request().amount, None);
    }

    #[test]
    fn poll_interval_is_clamped_and_success_url_is_safe() {
        let mut options = raw(Some(NumberOrText::Number(1000.0)), None);
        options.poll_interval = Some(NumberOrText::Text("10".into()));
        assert_eq!(
            Options::from_raw(options.clone())
                .expect("valid")
                .poll_interval_ms,
            MIN_POLL_MS
        );
        options.poll_interval = Some(NumberOrText::Number(600_000.0));
        assert_eq!(
            Options::from_raw(options.clone())
                .expect("valid")
                .poll_interval_ms,
            MAX_POLL_MS
        );
        for bad in [
            "javascript:alert(1)",
            "//evil.example/x",
            "data:text/html,x",
        ] {
            options.success_url = Some(bad.into());
            assert!(
                matches!(
                    Options::from_raw(options.clone()),
                    Err(OptionsError::BadSuccessUrl(_))
                ),
                "{bad}"
            );
        }
        options.success_url = Some("/terima-kasih".into());
        assert_eq!(
            Options::from_raw(options)
                .expect("valid")
                .success_url
                .as_deref(),
            Some("/terima-kasih")
        );
    }

    #[test]
    fn urls_and_resume_keys() {
        let mut options = raw(Some(NumberOrText::Number(10000.0)), None);
        options.endpoint = Some("https://toko.example/api/payments/".into());
        options.reference = Some("ORDER-1".into());
        let options = Options::from_raw(options).expect("valid");
        assert_eq!(
            options.status_url("PYG1/../x"),
            "https://toko.example/api/payments/PYG1%2F..%2Fx"
        );
        assert_eq!(
            options.resume_key(),
            "paydigital-checkout|https://toko.example/api/payments|amount=10000|ORDER-1"
        );
    }
}
