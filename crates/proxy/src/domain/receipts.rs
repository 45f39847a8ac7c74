//! What a pasted "bukti bayar" is (`receipts.md`, "Verifying a receipt someone sent"): a
//! receipt link of this shop's (its token, to look up), a link on another host (a fake page
//! can copy our page's look, not our address), or not a receipt at all. No I/O: the store
//! says whether a token is one of ours.

use super::ids::looks_like_receipt_token;

/// What was pasted, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pasted<'a> {
    /// A token to look up: the pasted link was on this shop's host, or a bare token.
    Token(&'a str),
    /// A link on another host (named here, for the answer and the audit log).
    OtherHost(&'a str),
    /// Neither a receipt link nor a token.
    NotAReceipt,
}

/// Reads `text` (a receipt URL, `/r/{token}`, or a bare token). `own_host` is this shop's
/// host (`pay.toko.example`, with its port if it has one), compared without regard to case
/// or scheme: whoever holds the name holds both schemes.
pub fn read_pasted<'a>(text: &'a str, own_host: &str) -> Pasted<'a> {
    let text = text.trim();
    let path = match text.split_once("://") {
        Some((scheme, rest)) => {
            if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
                return Pasted::NotAReceipt;
            }
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, path) = rest.split_at(end);
            if authority.is_empty() {
                return Pasted::NotAReceipt;
            }
            // `pay.toko.example@evil.test` opens evil.test: a trick to look like ours. Our
            // receipt links never carry a user part, so any `@` is someone else's link.
            if authority.contains('@') || !authority.eq_ignore_ascii_case(own_host) {
                return Pasted::OtherHost(authority);
            }
            path
        }
        None => text,
    };
    // The path without its query or fragment; a bare token has neither.
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let token = match path.strip_prefix("/r/") {
        Some(rest) => rest.strip_suffix(".png").unwrap_or(rest),
        // A link on our host must be a receipt's; a bare word must be a token.
        None if text.contains("://") || path.starts_with('/') => return Pasted::NotAReceipt,
        None => path,
    };
    if looks_like_receipt_token(token) {
        Pasted::Token(token)
    } else {
        Pasted::NotAReceipt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "pay.toko.example";
    const TOKEN: &str = "Qm3v6r1Jf0Zt8uYk2LcH4w";

    #[test]
    fn our_links_and_bare_tokens_give_the_token() {
        for pasted in [
            format!("https://pay.toko.example/r/{TOKEN}"),
            format!("  https://PAY.toko.example/r/{TOKEN}?utm=wa#top \n"),
            format!("http://pay.toko.example/r/{TOKEN}.png"),
            format!("/r/{TOKEN}"),
            TOKEN.to_owned(),
        ] {
            assert_eq!(read_pasted(&pasted, HOST), Pasted::Token(TOKEN), "{pasted}");
        }
    }

    #[test]
    fn another_hosts_link_is_not_ours_however_alike() {
        for (pasted, host) in [
            (
                format!("https://pay.toko.example.evil.test/r/{TOKEN}"),
                "pay.toko.example.evil.test",
            ),
            (
                format!("https://pay-toko.example/r/{TOKEN}"),
                "pay-toko.example",
            ),
            (
                format!("https://pay.toko.example@evil.test/r/{TOKEN}"),
                "pay.toko.example@evil.test",
            ),
            (
                format!("https://pay.toko.example:8443/r/{TOKEN}"),
                "pay.toko.example:8443",
            ),
        ] {
            assert_eq!(
                read_pasted(&pasted, HOST),
                Pasted::OtherHost(host),
                "{pasted}"
            );
        }
    }

    #[test]
    fn anything_else_is_not_a_receipt() {
        for pasted in [
            "",
            "lunas",
            "javascript:alert(1)",
            "https://pay.toko.example/pay/pay_AAAAAAAAAAAAAAAAAAAAAA",
            "https://pay.toko.example/r/short",
            "ftp://pay.toko.example/r/Qm3v6r1Jf0Zt8uYk2LcH4w",
            "https:///r/Qm3v6r1Jf0Zt8uYk2LcH4w",
        ] {
            assert_eq!(read_pasted(pasted, HOST), Pasted::NotAReceipt, "{pasted}");
        }
    }
}
