//! QRIS, Indonesia's profile of the EMVCo merchant-presented QR code.
//!
//! A payload is a flat list of TLV fields: a two-digit tag, a two-digit length that counts
//! *characters* (not bytes: merchant names may be UTF-8), and the value. Tags 26–51 and 62
//! are templates whose values are TLV lists themselves. The last field is always the CRC
//! (tag 63, four uppercase hex digits): CRC-16/CCITT-FALSE over the UTF-8 bytes of everything
//! before it, `6304` included.
//!
//! [`Qris::parse`] never panics, whatever it is given, and never accepts a code it could not
//! vouch for: every way a payload can be wrong is its own [`QrisError`] variant.

use serde::Serialize;
use std::fmt;

/// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection), which the `crc` catalogue
/// calls CRC-16/IBM-3740.
const CRC16: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_IBM_3740);

/// The longest value a two-digit length can announce.
const MAX_VALUE_CHARS: usize = 99;

/// Tags every QRIS payload must carry, with the names used in error messages.
const MANDATORY: [(u8, &str); 7] = [
    (0, "payload format indicator"),
    (52, "merchant category code"),
    (53, "transaction currency"),
    (58, "country code"),
    (59, "merchant name"),
    (60, "merchant city"),
    (63, "CRC"),
];

/// Computes the CRC that a payload's tag 63 must carry, over `data` (everything before the
/// CRC value, `6304` included).
pub fn crc16(data: &[u8]) -> u16 {
    CRC16.checksum(data)
}

/// A TLV list that does not hold together. Offsets count characters from the start of the
/// list being read (the payload, or a template's value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlvError {
    /// The two characters where a tag should be are not two digits.
    #[error("malformed TLV at character {offset}: a tag must be two digits")]
    BadTag { offset: usize },
    /// The two characters after a tag are not two digits.
    #[error("malformed TLV at character {offset}: the length of tag {tag:02} must be two digits")]
    BadLength { tag: u8, offset: usize },
    /// A field announces more characters than remain.
    #[error(
        "truncated: tag {tag:02} at character {offset} announces {declared} characters, \
         only {available} remain"
    )]
    Truncated {
        tag: u8,
        offset: usize,
        declared: usize,
        available: usize,
    },
}

/// Why a string is not a QRIS code this crate will vouch for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QrisError {
    /// Nothing to parse.
    #[error("empty payload")]
    Empty,
    /// Every EMVCo payload starts with its format indicator, `000201`.
    #[error("not a QRIS payload: it must start with 000201")]
    NotQris,
    /// The TLV structure itself is broken.
    #[error(transparent)]
    Tlv(#[from] TlvError),
    /// A template (26–51, 62, 64, 80–99) whose value is not a TLV list.
    #[error("template {tag:02} is malformed: {source}")]
    MalformedTemplate {
        tag: u8,
        #[source]
        source: TlvError,
    },
    /// Tag 63 is present but other fields follow it.
    #[error("the CRC (tag 63) must be the last field")]
    CrcNotLast,
    /// Tag 63 is not four uppercase hex digits.
    #[error("the CRC (tag 63) must be 4 uppercase hex digits, found \"{0}\"")]
    BadCrcFormat(String),
    /// The CRC does not match the payload: a typo, a truncated scan or a tampered code.
    #[error("crc mismatch: expected {expected:04X}, found {found}")]
    CrcMismatch { expected: u16, found: String },
    /// A top-level tag appears twice.
    #[error("tag {0:02} appears more than once")]
    DuplicateTag(u8),
    /// A mandatory tag is absent.
    #[error("mandatory tag {tag:02} ({name}) is missing")]
    MissingTag { tag: u8, name: &'static str },
    /// Tag 01 must be `11` (static) or `12` (dynamic).
    #[error("point of initiation (tag 01) must be 11 or 12, found \"{0}\"")]
    BadInitiation(String),
    /// No merchant account information template (tags 26–51).
    #[error("no merchant account information (tags 26-51)")]
    NoMerchantAccount,
    /// Tag 54 is not digits with an optional `.` and at most two decimals.
    #[error("amount (tag 54) is not a number: \"{0}\"")]
    BadAmount(String),
    /// A field whose value breaks its format (MCC, currency, country, tip indicator).
    #[error("tag {tag:02} is invalid: {reason}")]
    BadField { tag: u8, reason: &'static str },
}

/// Whether a code is printed once for many payments or made for one payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Initiation {
    /// `11`: a printed sticker; the customer types the amount.
    Static,
    /// `12`: made for one payment, usually with the amount in tag 54.
    Dynamic,
}

/// A merchant account information template (tags 26–51).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MerchantAccount {
    /// The template's own tag.
    pub tag: u8,
    /// Sub-tag 00: the globally unique identifier of the network, e.g. `ID.CO.QRIS.WWW`.
    pub guid: Option<String>,
    /// Sub-tag 01: the merchant PAN.
    pub pan: Option<String>,
    /// Sub-tag 02: the merchant id within the network.
    pub merchant_id: Option<String>,
    /// Sub-tag 03: the merchant criteria (`UMI`, `UKE`, `UME`, `UBE`, `URE`).
    pub criteria: Option<String>,
    /// Any other sub-fields, in order.
    pub other: Vec<SubField>,
}

/// One field of a template that this crate keeps as it found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubField {
    pub tag: u8,
    pub value: String,
}

/// The tip or convenience fee a code asks for (tags 55–57).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Tip {
    /// `01`: the app asks the customer for a tip.
    Prompt,
    /// `02`: a fixed fee, tag 56.
    Fixed(String),
    /// `03`: a percentage fee, tag 57.
    Percentage(String),
}

/// A parsed, validated QRIS payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Qris {
    /// Tag 00, always `01`.
    pub payload_format: String,
    /// Tag 01, when present.
    pub initiation: Option<Initiation>,
    /// True when the point of initiation is `12`.
    pub dynamic: bool,
    /// Tags 26–51.
    pub merchant_accounts: Vec<MerchantAccount>,
    /// Tag 52.
    pub merchant_category_code: String,
    /// Tag 53, ISO 4217 numeric (`360` is the rupiah).
    pub currency: String,
    /// Tag 54 exactly as written, when present.
    pub amount: Option<String>,
    /// Tags 55–57.
    pub tip: Option<Tip>,
    /// Tag 58.
    pub country: String,
    /// Tag 59.
    pub merchant_name: String,
    /// Tag 60.
    pub merchant_city: String,
    /// Tag 61.
    pub postal_code: Option<String>,
    /// Tag 62's sub-fields (01 bill number, 05 reference label, 07 terminal label, ...).
    pub additional_data: Vec<SubField>,
    /// Tag 63.
    pub crc: String,
}

/// The amount a code carries does not equal what the customer was told to pay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the code asks for {found}, the payment is for {expected}")]
pub struct AmountMismatch {
    /// The whole-rupiah amount the payment was created for.
    pub expected: u64,
    /// Tag 54 as written in the code.
    pub found: String,
}

/// Why a code may not be shown for a payment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("invalid QRIS code: {0}")]
    Invalid(#[from] QrisError),
    #[error(transparent)]
    AmountMismatch(#[from] AmountMismatch),
}

/// Parses `payload` and checks that its amount, when it has one, equals `total` rupiah: the
/// one check the proxy and the widget run before a customer ever sees a code.
pub fn verify_for_total(payload: &str, total: u64) -> Result<Qris, VerifyError> {
    let code = Qris::parse(payload)?;
    code.check_total(total)?;
    Ok(code)
}

/// One top-level field, borrowed from the payload.
#[derive(Debug, Clone, Copy)]
struct Field<'a> {
    tag: u8,
    value: &'a str,
}

/// Reads two ASCII digits as a number.
fn two_digits(s: &str) -> Option<u8> {
    let bytes = s.as_bytes();
    match bytes {
        [a @ b'0'..=b'9', b @ b'0'..=b'9'] => Some((a - b'0') * 10 + (b - b'0')),
        _ => None,
    }
}

/// Splits `s` after `n` characters, or `None` when it is shorter.
fn split_chars(s: &str, n: usize) -> Option<(&str, &str)> {
    let at = s
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()))
        .nth(n)?;
    Some(s.split_at(at))
}

/// Reads a TLV list.
fn parse_tlv(mut rest: &str) -> Result<Vec<Field<'_>>, TlvError> {
    let mut fields = Vec::new();
    let mut offset = 0;
    while !rest.is_empty() {
        let (tag_text, after_tag) = split_chars(rest, 2).ok_or(TlvError::BadTag { offset })?;
        let tag = two_digits(tag_text).ok_or(TlvError::BadTag { offset })?;
        let (len_text, after_len) = split_chars(after_tag, 2).ok_or(TlvError::BadLength {
            tag,
            offset: offset + 2,
        })?;
        let declared = usize::from(two_digits(len_text).ok_or(TlvError::BadLength {
            tag,
            offset: offset + 2,
        })?);
        let (value, after_value) =
            split_chars(after_len, declared).ok_or_else(|| TlvError::Truncated {
                tag,
                offset,
                declared,
                available: after_len.chars().count(),
            })?;
        fields.push(Field { tag, value });
        offset += 4 + declared;
        rest = after_value;
    }
    Ok(fields)
}

fn sub_fields(tag: u8, value: &str) -> Result<Vec<SubField>, QrisError> {
    parse_tlv(value)
        .map(|fields| {
            fields
                .into_iter()
                .map(|f| SubField {
                    tag: f.tag,
                    value: f.value.to_owned(),
                })
                .collect()
        })
        .map_err(|source| QrisError::MalformedTemplate { tag, source })
}

fn merchant_account(tag: u8, value: &str) -> Result<MerchantAccount, QrisError> {
    let mut account = MerchantAccount {
        tag,
        guid: None,
        pan: None,
        merchant_id: None,
        criteria: None,
        other: Vec::new(),
    };
    for field in sub_fields(tag, value)? {
        let slot = match field.tag {
            0 => &mut account.guid,
            1 => &mut account.pan,
            2 => &mut account.merchant_id,
            3 => &mut account.criteria,
            _ => {
                account.other.push(field);
                continue;
            }
        };
        *slot = Some(field.value);
    }
    Ok(account)
}

/// Parses an amount written as digits with an optional `.` and at most two decimals into
/// hundredths of the currency unit.
fn parse_amount_minor(text: &str) -> Option<u64> {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (text, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || fraction.len() > 2 || !all_digits(fraction) {
        return None;
    }
    if text.ends_with('.') {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let hundredths = match fraction.len() {
        0 => 0,
        1 => u64::from(fraction.as_bytes().first()? - b'0') * 10,
        _ => fraction.parse::<u64>().ok()?,
    };
    whole.checked_mul(100)?.checked_add(hundredths)
}

impl Qris {
    /// Parses and validates a QRIS payload.
    pub fn parse(payload: &str) -> Result<Qris, QrisError> {
        if payload.is_empty() {
            return Err(QrisError::Empty);
        }
        if !payload.starts_with("000201") {
            return Err(QrisError::NotQris);
        }
        let fields = parse_tlv(payload)?;

        // The CRC first: a code that was mistyped or cut short says so, rather than
        // reporting whatever field the damage happened to land in.
        let crc = match fields.last() {
            Some(last) if last.tag == 63 => last.value,
            _ if fields.iter().any(|f| f.tag == 63) => return Err(QrisError::CrcNotLast),
            _ => {
                return Err(QrisError::MissingTag {
                    tag: 63,
                    name: "CRC",
                })
            }
        };
        let crc_is_upper_hex = crc.len() == 4
            && crc
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b));
        if !crc_is_upper_hex {
            return Err(QrisError::BadCrcFormat(crc.to_owned()));
        }
        // The CRC value is the last four bytes (checked ASCII above).
        let covered = payload
            .get(..payload.len() - 4)
            .ok_or_else(|| QrisError::BadCrcFormat(crc.to_owned()))?;
        let expected = crc16(covered.as_bytes());
        if u16::from_str_radix(crc, 16) != Ok(expected) {
            return Err(QrisError::CrcMismatch {
                expected,
                found: crc.to_owned(),
            });
        }

        let mut seen = [false; 100];
        for field in &fields {
            let slot = seen
                .get_mut(usize::from(field.tag))
                .ok_or(QrisError::DuplicateTag(field.tag))?;
            if *slot {
                return Err(QrisError::DuplicateTag(field.tag));
            }
            *slot = true;
        }
        for (tag, name) in MANDATORY {
            if !seen.get(usize::from(tag)).copied().unwrap_or(false) {
                return Err(QrisError::MissingTag { tag, name });
            }
        }
        let get = |tag: u8| fields.iter().find(|f| f.tag == tag).map(|f| f.value);
        let text = |tag: u8| get(tag).unwrap_or_default().to_owned();

        let initiation = match get(1) {
            None => None,
            Some("11") => Some(Initiation::Static),
            Some("12") => Some(Initiation::Dynamic),
            Some(other) => return Err(QrisError::BadInitiation(other.to_owned())),
        };

        let merchant_accounts = fields
            .iter()
            .filter(|f| (26..=51).contains(&f.tag))
            .map(|f| merchant_account(f.tag, f.value))
            .collect::<Result<Vec<_>, _>>()?;
        if merchant_accounts.is_empty() {
            return Err(QrisError::NoMerchantAccount);
        }
        // Other templates must hold together too, even where nothing here reads them.
        for field in fields.iter().filter(|f| f.tag == 64 || f.tag >= 80) {
            sub_fields(field.tag, field.value)?;
        }

        let mcc = text(52);
        if mcc.len() != 4 || !mcc.bytes().all(|b| b.is_ascii_digit()) {
            return Err(QrisError::BadField {
                tag: 52,
                reason: "the merchant category code must be 4 digits",
            });
        }
        let currency = text(53);
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_digit()) {
            return Err(QrisError::BadField {
                tag: 53,
                reason: "the currency must be a 3-digit ISO 4217 code",
            });
        }
        let country = text(58);
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(QrisError::BadField {
                tag: 58,
                reason: "the country must be a 2-letter ISO 3166 code",
            });
        }

        let amount = get(54).map(str::to_owned);
        if let Some(amount) = &amount {
            if parse_amount_minor(amount).is_none() {
                return Err(QrisError::BadAmount(amount.clone()));
            }
        }

        let tip = match get(55) {
            None => None,
            Some("01") => Some(Tip::Prompt),
            Some("02") => Some(Tip::Fixed(get(56).map(str::to_owned).ok_or(
                QrisError::BadField {
                    tag: 56,
                    reason: "a fixed fee (55 = 02) needs its value in tag 56",
                },
            )?)),
            Some("03") => Some(Tip::Percentage(get(57).map(str::to_owned).ok_or(
                QrisError::BadField {
                    tag: 57,
                    reason: "a percentage fee (55 = 03) needs its value in tag 57",
                },
            )?)),
            Some(_) => {
                return Err(QrisError::BadField {
                    tag: 55,
                    reason: "the tip indicator must be 01, 02 or 03",
                })
            }
        };

        let additional_data = match get(62) {
            Some(value) => sub_fields(62, value)?,
            None => Vec::new(),
        };

        Ok(Qris {
            payload_format: text(0),
            dynamic: initiation == Some(Initiation::Dynamic),
            initiation,
            merchant_accounts,
            merchant_category_code: mcc,
            currency,
            amount,
            tip,
            country,
            merchant_name: text(59),
            merchant_city: text(60),
            postal_code: get(61).map(str::to_owned),
            additional_data,
            crc: crc.to_owned(),
        })
    }

    /// Tag 54 in hundredths of the currency unit (`"39000.00"` is 3 900 000).
    pub fn amount_minor(&self) -> Option<u64> {
        self.amount.as_deref().and_then(parse_amount_minor)
    }

    /// Checks that the code asks for exactly `total` whole rupiah, when it asks for an amount
    /// at all (a static code leaves the amount to the customer).
    pub fn check_total(&self, total: u64) -> Result<(), AmountMismatch> {
        match (&self.amount, self.amount_minor()) {
            (None, _) => Ok(()),
            (Some(_), Some(minor)) if Some(minor) == total.checked_mul(100) => Ok(()),
            (Some(found), _) => Err(AmountMismatch {
                expected: total,
                found: found.clone(),
            }),
        }
    }

    /// The national QRIS account (GUID `ID.CO.QRIS.WWW`), when the code has one.
    pub fn national_account(&self) -> Option<&MerchantAccount> {
        self.merchant_accounts
            .iter()
            .find(|a| a.guid.as_deref() == Some("ID.CO.QRIS.WWW"))
    }

    /// An additional-data sub-field (tag 62), e.g. `5` for the reference label.
    pub fn additional(&self, tag: u8) -> Option<&str> {
        self.additional_data
            .iter()
            .find(|f| f.tag == tag)
            .map(|f| f.value.as_str())
    }
}

/// Why [`QrisBuilder::build`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// A value does not fit a two-digit length.
    #[error("tag {tag:02} would be {chars} characters long; at most 99 fit")]
    TooLong { tag: u8, chars: usize },
    /// Merchant account templates live in tags 26–51.
    #[error("merchant account tag {0} is outside 26-51")]
    BadAccountTag(u8),
    /// A code needs at least one merchant account.
    #[error("a QRIS code needs at least one merchant account")]
    NoMerchantAccount,
    /// Names and cities must be present.
    #[error("tag {0:02} must not be empty")]
    Empty(u8),
}

/// Builds valid QRIS payloads (the sandbox's codes, and tests').
#[derive(Debug, Clone)]
pub struct QrisBuilder {
    accounts: Vec<MerchantAccount>,
    merchant_category_code: String,
    currency: String,
    country: String,
    merchant_name: String,
    merchant_city: String,
    postal_code: Option<String>,
    amount: Option<u64>,
    additional_data: Vec<SubField>,
}

struct Writer(String);

impl Writer {
    fn field(&mut self, tag: u8, value: &str) -> Result<(), BuildError> {
        let chars = value.chars().count();
        if chars > MAX_VALUE_CHARS {
            return Err(BuildError::TooLong { tag, chars });
        }
        use fmt::Write;
        // Writing into a String cannot fail.
        let _ = write!(self.0, "{tag:02}{chars:02}{value}");
        Ok(())
    }
}

fn template(
    tag: u8,
    fields: &[(u8, Option<&str>)],
    other: &[SubField],
) -> Result<String, BuildError> {
    let mut inner = Writer(String::new());
    for (sub, value) in fields {
        if let Some(value) = value {
            inner.field(*sub, value)?;
        }
    }
    for field in other {
        inner.field(field.tag, &field.value)?;
    }
    if inner.0.chars().count() > MAX_VALUE_CHARS {
        return Err(BuildError::TooLong {
            tag,
            chars: inner.0.chars().count(),
        });
    }
    Ok(inner.0)
}

impl QrisBuilder {
    /// A rupiah code for an Indonesian merchant (MCC, currency and country can be changed).
    pub fn new(merchant_name: impl Into<String>, merchant_city: impl Into<String>) -> Self {
        QrisBuilder {
            accounts: Vec::new(),
            merchant_category_code: "5999".into(),
            currency: "360".into(),
            country: "ID".into(),
            merchant_name: merchant_name.into(),
            merchant_city: merchant_city.into(),
            postal_code: None,
            amount: None,
            additional_data: Vec::new(),
        }
    }

    /// Adds a merchant account template.
    pub fn merchant_account(mut self, account: MerchantAccount) -> Self {
        self.accounts.push(account);
        self
    }

    pub fn merchant_category_code(mut self, mcc: impl Into<String>) -> Self {
        self.merchant_category_code = mcc.into();
        self
    }

    pub fn postal_code(mut self, postal_code: impl Into<String>) -> Self {
        self.postal_code = Some(postal_code.into());
        self
    }

    /// Makes the code dynamic, for exactly `rupiah`.
    pub fn amount(mut self, rupiah: u64) -> Self {
        self.amount = Some(rupiah);
        self
    }

    /// Adds a sub-field to the additional data template (62).
    pub fn additional(mut self, tag: u8, value: impl Into<String>) -> Self {
        self.additional_data.push(SubField {
            tag,
            value: value.into(),
        });
        self
    }

    /// Writes the payload, CRC included.
    pub fn build(&self) -> Result<String, BuildError> {
        if self.accounts.is_empty() {
            return Err(BuildError::NoMerchantAccount);
        }
        if self.merchant_name.is_empty() {
            return Err(BuildError::Empty(59));
        }
        if self.merchant_city.is_empty() {
            return Err(BuildError::Empty(60));
        }
        let mut out = Writer(String::new());
        out.field(0, "01")?;
        out.field(1, if self.amount.is_some() { "12" } else { "11" })?;
        let mut accounts: Vec<&MerchantAccount> = self.accounts.iter().collect();
        accounts.sort_by_key(|a| a.tag);
        for account in accounts {
            if !(26..=51).contains(&account.tag) {
                return Err(BuildError::BadAccountTag(account.tag));
            }
            let value = template(
                account.tag,
                &[
                    (0, account.guid.as_deref()),
                    (1, account.pan.as_deref()),
                    (2, account.merchant_id.as_deref()),
                    (3, account.criteria.as_deref()),
                ],
                &account.other,
            )?;
            out.field(account.tag, &value)?;
        }
        out.field(52, &self.merchant_category_code)?;
        out.field(53, &self.currency)?;
        if let Some(amount) = self.amount {
            out.field(54, &amount.to_string())?;
        }
        out.field(58, &self.country)?;
        out.field(59, &self.merchant_name)?;
        out.field(60, &self.merchant_city)?;
        if let Some(postal) = &self.postal_code {
            out.field(61, postal)?;
        }
        if !self.additional_data.is_empty() {
            let value = template(62, &[], &self.additional_data)?;
            out.field(62, &value)?;
        }
        out.0.push_str("6304");
        let crc = crc16(out.0.as_bytes());
        use fmt::Write;
        let _ = write!(out.0, "{crc:04X}");
        Ok(out.0)
    }
}

impl MerchantAccount {
    /// A national QRIS account template (tag 51, GUID `ID.CO.QRIS.WWW`).
    pub fn national(nmid: impl Into<String>, criteria: impl Into<String>) -> Self {
        MerchantAccount {
            tag: 51,
            guid: Some("ID.CO.QRIS.WWW".into()),
            pan: None,
            merchant_id: Some(nmid.into()),
            criteria: Some(criteria.into()),
            other: Vec::new(),
        }
    }

    /// An acquirer's account template (tags 26–45), e.g. `COM.EXAMPLE.WWW`.
    pub fn acquirer(
        tag: u8,
        guid: impl Into<String>,
        pan: impl Into<String>,
        merchant_id: impl Into<String>,
        criteria: impl Into<String>,
    ) -> Self {
        MerchantAccount {
            tag,
            guid: Some(guid.into()),
            pan: Some(pan.into()),
            merchant_id: Some(merchant_id.into()),
            criteria: Some(criteria.into()),
            other: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_into_hundredths() {
        assert_eq!(parse_amount_minor("10387"), Some(1_038_700));
        assert_eq!(parse_amount_minor("39000.00"), Some(3_900_000));
        assert_eq!(parse_amount_minor("23.7"), Some(2370));
        assert_eq!(parse_amount_minor("23.72"), Some(2372));
        for bad in [
            "", ".", "1.", ".5", "1.234", "1e3", "-5", "+5", "1,000", "1 000", "١٢",
        ] {
            assert_eq!(parse_amount_minor(bad), None, "{bad:?}");
        }
        assert_eq!(parse_amount_minor("99999999999999999999"), None);
    }

    #[test]
    fn split_chars_counts_characters() {
        assert_eq!(split_chars("北京ab", 2), Some(("北京", "ab")));
        assert_eq!(split_chars("ab", 2), Some(("ab", "")));
        assert_eq!(split_chars("a", 2), None);
    }
}
