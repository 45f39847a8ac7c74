//! What every log line passes through on its way out: a [`Redactor`] built from the
//! configuration's secrets (the PayDigital key, the merchant key, every webhook secret, the
//! PostgreSQL password), applied by the writer ([`Redacting`]) to each whole line.
//!
//! At the writer, not at each call site: a secret can reach a line in text nobody here chose
//! to log — PayDigital's error words quoting the key back, a client's input, a library's
//! error message — and a line written by code added later is covered without anyone
//! remembering to. Fields that are secrets are still never logged (their types print `***`);
//! this is the net under that rule.

use crate::config::Config;
use crate::store::Database;
use aho_corasick::{AhoCorasick, MatchKind};
use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::Arc;
use tracing_subscriber::fmt::MakeWriter;

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// The secrets were too many or too long to search for (aho-corasick's limits, far beyond any
/// configuration's).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the log redactor: {0}")]
pub struct RedactorError(#[from] aho_corasick::BuildError);

/// Finds every form of the configured secrets in a text and replaces each with
/// [`REDACTED`]. Cheap to clone (the automaton is shared).
#[derive(Clone, Default)]
pub struct Redactor {
    /// `None`: nothing to hide (no secret configured).
    finder: Option<Arc<AhoCorasick>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Its patterns are the secrets: never printed.
        f.write_str("Redactor(***)")
    }
}

impl Redactor {
    /// Redacts nothing (the sandbox alone holds no secret of anyone's).
    pub fn none() -> Redactor {
        Redactor::default()
    }

    /// A redactor for `secrets`, each also in the forms it takes when quoted in JSON or in a
    /// URL (see [`forms`]). Empty secrets are skipped (they would match everywhere).
    pub fn new<S: AsRef<[u8]>>(
        secrets: impl IntoIterator<Item = S>,
    ) -> Result<Redactor, RedactorError> {
        let mut patterns: Vec<Vec<u8>> = secrets
            .into_iter()
            .filter(|s| !s.as_ref().is_empty())
            .flat_map(|s| forms(s.as_ref()))
            .collect();
        patterns.sort();
        patterns.dedup();
        if patterns.is_empty() {
            return Ok(Redactor::none());
        }
        // Leftmost-longest: where one form contains another (`whsec_…` and its base64 part,
        // a key and its prefix-sharing sibling), the whole of the longer one goes. ASCII
        // case is ignored: percent-encoders write hex in either case (`%2F`, `%2f`), and a
        // text that equals a secret but for case is too close to it to print.
        let finder = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(true)
            .build(&patterns)?;
        Ok(Redactor {
            finder: Some(Arc::new(finder)),
        })
    }

    /// Every secret `config` holds: the PayDigital key, the merchant key, each webhook
    /// secret (the `whsec_` text it was given in, and its base64 part alone), and the
    /// PostgreSQL password.
    pub fn from_config(config: &Config) -> Result<Redactor, RedactorError> {
        let mut secrets: Vec<Vec<u8>> = vec![config.upstream.api_key.expose().as_bytes().to_vec()];
        if let Some(key) = &config.merchant_key {
            secrets.push(key.expose().as_bytes().to_vec());
        }
        if let Some(webhook) = &config.webhook {
            for secret in &webhook.secrets {
                let text = secret.text();
                // The base64 part is the secret too: quoted without its prefix, it is all
                // a forger needs.
                if let Some(encoded) = text.strip_prefix("whsec_") {
                    secrets.push(encoded.as_bytes().to_vec());
                }
                secrets.push(text.into_bytes());
            }
        }
        if let Database::Postgres(url) = &config.database {
            secrets.extend(url.password().map(<[u8]>::to_vec));
        }
        Redactor::new(secrets)
    }

    /// Whether any secret is there to hide.
    pub fn is_empty(&self) -> bool {
        self.finder.is_none()
    }

    /// `text` with every secret replaced by [`REDACTED`]; borrowed when there was none.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match self.redact_bytes(text.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            // Whole UTF-8 patterns replaced by ASCII in valid UTF-8: still valid; lossy only
            // to stay panic-free.
            Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
        }
    }

    /// `bytes` with every secret replaced by [`REDACTED`]; borrowed when there was none.
    pub fn redact_bytes<'t>(&self, bytes: &'t [u8]) -> Cow<'t, [u8]> {
        let Some(finder) = &self.finder else {
            return Cow::Borrowed(bytes);
        };
        if !finder.is_match(bytes) {
            return Cow::Borrowed(bytes);
        }
        let mut out = Vec::with_capacity(bytes.len());
        let replaced = finder.try_replace_all_with_bytes(bytes, &mut out, |_, _, dst| {
            dst.extend_from_slice(REDACTED.as_bytes());
            true
        });
        match replaced {
            Ok(()) => Cow::Owned(out),
            // Only an anchored-only automaton fails, and this one is unanchored; were it ever
            // to, the text is dropped rather than written with the secret in it.
            Err(_) => {
                Cow::Owned(format!("{REDACTED} (the line could not be searched)").into_bytes())
            }
        }
    }
}

/// The forms a secret takes in a log line: as it is, JSON-escaped (a JSON log line, or
/// PayDigital's JSON quoted inside a message) and percent-encoded (a URL or form body quoted
/// back; the search ignores the hex digits' case).
fn forms(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut forms = vec![secret.to_vec()];
    if let Ok(text) = std::str::from_utf8(secret) {
        if let Ok(quoted) = serde_json::to_string(text) {
            let inner = quoted
                .strip_prefix('"')
                .and_then(|q| q.strip_suffix('"'))
                .unwrap_or(&quoted);
            forms.push(inner.as_bytes().to_vec());
        }
    }
    let mut encoded = Vec::with_capacity(secret.len());
    for &byte in secret {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(byte);
        } else {
            encoded.extend_from_slice(format!("%{byte:02X}").as_bytes());
        }
    }
    forms.push(encoded);
    forms
}

/// A [`MakeWriter`] whose writers pass every line through a [`Redactor`] before `make`'s
/// writer (standard output or error) sees it.
pub struct Redacting<M> {
    redactor: Redactor,
    make: M,
}

impl<M> Redacting<M> {
    pub fn new(redactor: Redactor, make: M) -> Redacting<M> {
        Redacting { redactor, make }
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingWriter<'a, M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter::new(&self.redactor, self.make.make_writer())
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        RedactingWriter::new(&self.redactor, self.make.make_writer_for(meta))
    }
}

/// One event's writer: it holds what it is given until a line is complete (so a secret
/// split across two `write` calls is still found whole), writes complete lines redacted, and
/// the rest when dropped. tracing-subscriber makes one per event and writes the event's
/// whole line into it at once.
pub struct RedactingWriter<'a, W: Write> {
    redactor: &'a Redactor,
    inner: W,
    pending: Vec<u8>,
}

impl<'a, W: Write> RedactingWriter<'a, W> {
    fn new(redactor: &'a Redactor, inner: W) -> Self {
        RedactingWriter {
            redactor,
            inner,
            pending: Vec::new(),
        }
    }

    /// Writes out the pending bytes up to `end`, redacted.
    fn write_out(&mut self, end: usize) -> io::Result<()> {
        let rest = self.pending.split_off(end.min(self.pending.len()));
        let done = std::mem::replace(&mut self.pending, rest);
        self.inner.write_all(&self.redactor.redact_bytes(&done))
    }

    /// Where the complete lines end (after the last newline), if any is complete.
    fn complete_lines(&self) -> Option<usize> {
        self.pending
            .iter()
            .rposition(|&b| b == b'\n')
            .map(|at| at.saturating_add(1))
    }
}

impl<W: Write> Write for RedactingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.pending.is_empty() && buf.last() == Some(&b'\n') {
            // The usual case, a whole event's line in one write: no copy to hold it.
            self.inner.write_all(&self.redactor.redact_bytes(buf))?;
            return Ok(buf.len());
        }
        self.pending.extend_from_slice(buf);
        if let Some(end) = self.complete_lines() {
            self.write_out(end)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(end) = self.complete_lines() {
            self.write_out(end)?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for RedactingWriter<'_, W> {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            // A drop cannot report an error; a log line that cannot be written is lost as
            // tracing-subscriber would lose it.
            let _ = self.write_out(self.pending.len());
            let _ = self.inner.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    const KEY: &str = "pd_live_K3Y+with/odd=chars\"x";

    #[test]
    fn every_form_of_every_secret_is_replaced() {
        let redactor = Redactor::new([KEY, "mk_MERCHANT_0123456789"]).expect("redactor");
        let json = serde_json::to_string(KEY).expect("json");
        let text = format!(
            "HTTP 401: Invalid API key {KEY}; sent {json}; url ?k=pd_live_K3Y%2Bwith%2fodd%3Dchars%22x \
             and Bearer mk_MERCHANT_0123456789."
        );
        let redacted = redactor.redact(&text);
        assert!(
            !redacted.contains("K3Y") && !redacted.contains("MERCHANT"),
            "{redacted}"
        );
        assert_eq!(redacted.matches(REDACTED).count(), 4, "{redacted}");
        assert!(redacted.starts_with("HTTP 401: Invalid API key [redacted]; sent \"[redacted]\""));
        // Nothing to hide: the same text, not a copy.
        assert!(matches!(
            redactor.redact("payment created"),
            Cow::Borrowed(_)
        ));
        assert!(Redactor::new([""]).expect("redactor").is_empty());
        assert_eq!(format!("{redactor:?}"), "Redactor(***)");
    }

    #[test]
    fn the_configuration_names_every_secret_it_holds() {
        let first = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let second = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0";
        let vars = [
            ("PAYDIGITAL_API_KEY", "pd_live_APIKEY_123"),
            ("PAYDIGITAL_STORE_ID", "TOKO"),
            (
                "CHECKOUT_MERCHANT_KEY",
                "mk_MERCHANT_0123456789abcdef0123456789",
            ),
            ("CHECKOUT_WEBHOOK_URL", "https://toko.example/hooks"),
            ("CHECKOUT_WEBHOOK_SECRET", &format!("{first} {second}")),
            (
                "CHECKOUT_DATABASE",
                "postgres://checkout:PG_PASS_w0rd@127.0.0.1/checkout",
            ),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let config = Config::from_vars(
            |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            false,
        )
        .expect("config");
        let redactor = Redactor::from_config(&config).expect("redactor");
        let text = format!(
            "pd_live_APIKEY_123 mk_MERCHANT_0123456789abcdef0123456789 {first} {} PG_PASS_w0rd",
            second.trim_start_matches("whsec_")
        );
        assert_eq!(redactor.redact(&text), ["[redacted]"; 5].join(" "));
    }

    #[test]
    fn the_longest_secret_wins_where_two_overlap() {
        let redactor = Redactor::new(["whsec_AAAABBBB", "AAAABBBB"]).expect("redactor");
        assert_eq!(
            redactor.redact("s=whsec_AAAABBBB t=AAAABBBB"),
            "s=[redacted] t=[redacted]"
        );
    }

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_secret_split_across_writes_is_still_found() {
        let sink = Sink::default();
        let redactor = Redactor::new([KEY]).expect("redactor");
        let make = Redacting::new(redactor, {
            let sink = sink.clone();
            move || sink.clone()
        });
        {
            let mut writer = make.make_writer();
            let (a, b) = KEY.split_at(10);
            write!(writer, "first line\nkey {a}").expect("write");
            writer.flush().expect("flush");
            write!(writer, "{b} end\nno newline {KEY}").expect("write");
        }
        let written = String::from_utf8(sink.0.lock().expect("sink").clone()).expect("utf-8");
        assert_eq!(
            written,
            "first line\nkey [redacted] end\nno newline [redacted]"
        );
    }

    #[test]
    fn every_line_a_subscriber_writes_is_redacted() {
        let sink = Sink::default();
        let redactor = Redactor::new(["whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0", "pg-PASSWORD"])
            .expect("redactor");
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(Redacting::new(redactor, {
                let sink = sink.clone();
                move || sink.clone()
            }))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let said = "the receiver said whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0";
            tracing::warn!(detail = said, "someone else's text");
            tracing::error!("connect to postgres://u:pg-PASSWORD@db failed");
        });
        let written = String::from_utf8(sink.0.lock().expect("sink").clone()).expect("utf-8");
        let lines: Vec<serde_json::Value> = written
            .lines()
            .map(|l| serde_json::from_str(l).expect("still one JSON object a line"))
            .collect();
        assert_eq!(lines.len(), 2, "{written}");
        assert!(
            !written.contains("c2VjcmV0") && !written.contains("pg-PASSWORD"),
            "{written}"
        );
        assert_eq!(lines[0]["fields"]["detail"], "the receiver said [redacted]");
        assert_eq!(
            lines[1]["fields"]["message"],
            "connect to postgres://u:[redacted]@db failed"
        );
    }
}
