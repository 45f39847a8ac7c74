//! What the embedding page asks for: element attributes or `mount()` options, checked.

/// Bounds on `poll-interval`: faster hammers the proxy, slower makes customers wait.
pub const MIN_POLL_MS: u32 = 1000;
pub const MAX_POLL_MS: u32 = 60_000;
pub const DEFAULT_POLL_MS: u32 = 3000;

/// A number from JavaScript or an attribute's text: `amount: 5000` and `amount="5000"`
/// mean the same.
#[derive(Debug, Clone, PartialEq)]
pub enum NumberOrText {
    Number(f64),
    Text(String),
}

impl<'de> serde::Deserialize<'de> for NumberOrText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A visitor rather than `#[serde(untagged)]`: untagged enums buffer every value
        // first, which costs the bundle a generic `Content` tree for one number.
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = NumberOrText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number or its digits as text")
            }
            fn visit_f64<E>(self, n: f64) -> Result<NumberOrText, E> {
                Ok(NumberOrText::Number(n))
            }
            fn visit_u64<E>(self, n: u64) -> Result<NumberOrText, E> {
                Ok(NumberOrText::Number(n as f64))
            }
            fn visit_i64<E>(self, n: i64) -> Result<NumberOrText, E> {
                Ok(NumberOrText::Number(n as f64))
            }
            fn visit_str<E>(self, text: &str) -> Result<NumberOrText, E> {
                Ok(NumberOrText::Text(text.to_owned()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// The options as given: `mount()`'s object (camelCase), or the loader's copy of the
/// element's attributes (all text). Unknown keys are ignored; `null` means "not set".
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RawOptions {
    pub endpoint: Option<String>,
    pub amount: Option<NumberOrText>,
    pub item: Option<String>,
    /// A payment the shop's server created (`pay_...`): shown, not created.
    pub payment: Option<String>,
    pub description: Option<String>,
    pub customer_name: Option<String>,
    pub reference: Option<String>,
    pub lang: Option<String>,
    pub poll_interval: Option<NumberOrText>,
    pub success_url: Option<String>,
    pub theme: Option<String>,
}

impl RawOptions {
    /// Reads options from any serde source (`mount()`'s object through serde-wasm-bindgen),
    /// naming the option whose value has the wrong type.
    pub fn read<'de, D: serde::Deserializer<'de>>(source: D) -> Result<RawOptions, OptionsError> {
        serde_path_to_error::deserialize(source).map_err(|e| {
            let option = e.path().to_string();
            OptionsError::WrongType {
                option: if option == "." {
                    "object".to_owned()
                } else {
                    option
                },
                reason: e.into_inner().to_string(),
            }
        })
    }
}

/// What to pay: an open amount or a catalog item the browser asks the proxy to create a
/// payment for, or a payment the shop's server already created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Order {
    Amount(u64),
    Item(String),
    Payment(String),
}

/// The card's colours: `light` (the default), `dark`, or `auto` (the phone's setting,
/// `prefers-color-scheme`). The QR stays dark on white in all three: scanners want it so.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Theme {
    #[default]
    Light,
    Dark,
    Auto,
}

impl Theme {
    /// The class on the widget's root that the stylesheet keys the colours on.
    pub fn class(self) -> &'static str {
        match self {
            Theme::Light => "pd",
            Theme::Dark => "pd pd-dark",
            Theme::Auto => "pd pd-auto",
        }
    }
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
    pub theme: Theme,
}

/// A set-up mistake, shown to the shop's developer in the console and the error event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    #[error("set one of amount, item or payment")]
    NoOrder,
    #[error("set only one of amount, item or payment")]
    BothOrders,
    #[error("payment must be a payment id from your server (pay_...), got \"{0}\"")]
    BadPayment(String),
    #[error("amount must be a whole number of rupiah, got \"{0}\"")]
    BadAmount(String),
    #[error("poll-interval must be a number of milliseconds, got \"{0}\"")]
    BadPollInterval(String),
    #[error("success-url must be an http(s) URL or a path, got \"{0}\"")]
    BadSuccessUrl(String),
    #[error("theme must be light, dark or auto, got \"{0}\"")]
    BadTheme(String),
    /// An option of the wrong type, e.g. `pollInterval: true` (named as the page spelled it).
    #[error("option {option}: {reason}")]
    WrongType { option: String, reason: String },
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
        let payment = non_empty(raw.payment);
        let amount = raw
            .amount
            .filter(|a| !matches!(a, NumberOrText::Text(t) if t.trim().is_empty()));
        let order = match (amount, item, payment) {
            (None, None, None) => return Err(OptionsError::NoOrder),
            (None, Some(item), None) => Order::Item(item),
            (None, None, Some(id)) if id.starts_with("pay_") => Order::Payment(id),
            (None, None, Some(id)) => return Err(OptionsError::BadPayment(id)),
            (Some(amount), None, None) => Order::Amount(
                whole_number(&amount)
                    .filter(|a| *a > 0)
                    .ok_or_else(|| OptionsError::BadAmount(describe(&amount)))?,
            ),
            _ => return Err(OptionsError::BothOrders),
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
                if !paydigital::links::is_return_url(&url) {
                    return Err(OptionsError::BadSuccessUrl(url));
                }
                Some(url)
            }
        };
        let theme = match non_empty(raw.theme).map(|t| t.to_ascii_lowercase()) {
            None => Theme::Light,
            Some(t) if t == "light" => Theme::Light,
            Some(t) if t == "dark" => Theme::Dark,
            Some(t) if t == "auto" => Theme::Auto,
            Some(other) => return Err(OptionsError::BadTheme(other)),
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
            theme,
        })
    }

    /// The create request's body; `None` for a payment the shop's server created.
    pub fn create_request(&self) -> Option<paydigital::api::CreatePayment> {
        let (amount, item) = match &self.order {
            Order::Amount(a) => (Some(*a), None),
            Order::Item(i) => (None, Some(i.clone())),
            Order::Payment(_) => return None,
        };
        Some(paydigital::api::CreatePayment {
            amount,
            item,
            description: self.description.clone(),
            customer_name: self.customer_name.clone(),
            reference: self.reference.clone(),
        })
    }

    /// Where a payment's status is read, by its public id.
    pub fn status_url(&self, id: &str) -> String {
        format!("{}/{}", self.endpoint, percent_encode(id))
    }

    /// The sessionStorage key a pending payment for this order is remembered under, so
    /// that a reload resumes it (same endpoint, same order, same reference). A payment the
    /// shop's server created needs none: the page names it.
    pub fn resume_key(&self) -> Option<String> {
        let order = match &self.order {
            Order::Amount(a) => format!("amount={a}"),
            Order::Item(i) => format!("item={i}"),
            Order::Payment(_) => return None,
        };
        Some(format!(
            "paydigital-checkout|{}|{}|{}",
            self.endpoint,
            order,
            self.reference.as_deref().unwrap_or("")
        ))
    }

    /// Whether an expired payment may be replaced by a new code from here: only what the
    /// browser ordered. The shop's server prices its own orders, so it makes the next one.
    pub fn can_renew(&self) -> bool {
        !matches!(self.order, Order::Payment(_))
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

    fn read(json: &str) -> Result<RawOptions, OptionsError> {
        RawOptions::read(&mut serde_json::Deserializer::from_str(json))
    }

    #[test]
    fn options_read_from_javascript_values_name_the_wrong_one() {
        let raw =
            read(r#"{"amount":"5000","pollInterval":1500,"customerName":"Budi","onPaid":{}}"#)
                .expect("digits as text and unknown keys are fine");
        assert_eq!(raw.amount, Some(NumberOrText::Text("5000".into())));
        assert_eq!(raw.poll_interval, Some(NumberOrText::Number(1500.0)));
        assert_eq!(raw.customer_name.as_deref(), Some("Budi"));
        assert_eq!(
            read(r#"{"amount":null}"#).expect("null is unset").amount,
            None
        );
        for (json, option) in [
            (r#"{"amount":5000,"pollInterval":true}"#, "pollInterval"),
            (r#"{"amount":{"value":5000}}"#, "amount"),
            (r#"{"customerName":42}"#, "customerName"),
        ] {
            let error = read(json).expect_err(json);
            assert!(
                matches!(&error, OptionsError::WrongType { option: o, .. } if o == option),
                "{json}: {error:?}"
            );
            assert!(error.to_string().contains(option), "{error}");
        }
        assert!(matches!(
            read("5"),
            Err(OptionsError::WrongType { option, .. }) if option == "object"
        ));
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
        let request = item.create_request().expect("a create");
        assert_eq!(request.item.as_deref(), Some("kopi-susu"));
        assert_eq!(request.amount, None);
        assert!(item.can_renew());

        let mut shown = raw(None, None);
        shown.payment = Some(" pay_abcdefghijklmnopqrstuv ".into());
        let shown = Options::from_raw(shown).expect("valid");
        assert_eq!(
            shown.order,
            Order::Payment("pay_abcdefghijklmnopqrstuv".into())
        );
        assert_eq!(shown.create_request(), None, "never created by the browser");
        assert_eq!(shown.resume_key(), None);
        assert!(
            !shown.can_renew(),
            "no new code for the shop server's order"
        );
        assert_eq!(
            shown.status_url("pay_abcdefghijklmnopqrstuv"),
            "/api/payments/pay_abcdefghijklmnopqrstuv"
        );
        let mut both = raw(Some(NumberOrText::Number(1000.0)), None);
        both.payment = Some("pay_x".into());
        assert_eq!(Options::from_raw(both), Err(OptionsError::BothOrders));
        let mut invoice = raw(None, None);
        invoice.payment = Some("PYG2026".into());
        assert!(matches!(
            Options::from_raw(invoice),
            Err(OptionsError::BadPayment(_))
        ));
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
            "/\\evil.example/x",
            "/\t/evil.example/x",
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
    fn themes_light_by_default_dark_or_auto() {
        let mut options = raw(Some(NumberOrText::Number(1000.0)), None);
        assert_eq!(
            Options::from_raw(options.clone()).expect("valid").theme,
            Theme::Light
        );
        for (given, theme) in [
            ("dark", Theme::Dark),
            (" Auto ", Theme::Auto),
            ("", Theme::Light),
        ] {
            options.theme = Some(given.into());
            assert_eq!(
                Options::from_raw(options.clone()).expect("valid").theme,
                theme,
                "{given}"
            );
        }
        options.theme = Some("blue".into());
        assert_eq!(
            Options::from_raw(options),
            Err(OptionsError::BadTheme("blue".into()))
        );
        assert_eq!(Theme::Dark.class(), "pd pd-dark");
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
            options.resume_key().as_deref(),
            Some("paydigital-checkout|https://toko.example/api/payments|amount=10000|ORDER-1")
        );
    }
}
