//! Amounts in Indonesian words, for the soundbox announcement ("Pembayaran diterima, dua puluh
//! lima ribu rupiah"). Pure: the dashboard's page only speaks what the server wrote.

const ONES: [&str; 10] = [
    "nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan",
];

/// The scales above a thousand, each a thousand times the one before.
const SCALES: [&str; 5] = ["", "ribu", "juta", "miliar", "triliun"];

/// `n` in Indonesian words: 25779 → `dua puluh lima ribu tujuh ratus tujuh puluh sembilan`,
/// 1000 → `seribu`, 100000 → `seratus ribu`, 11000 → `sebelas ribu`, 1000000 → `satu juta`.
pub fn in_words(n: u64) -> String {
    if n == 0 {
        return ONES[0].to_owned();
    }
    // Groups of three digits, lowest first.
    let mut groups = Vec::new();
    let mut rest = n;
    while rest > 0 {
        groups.push(rest % 1000);
        rest /= 1000;
    }
    let mut words: Vec<String> = Vec::new();
    for (scale, group) in groups.iter().enumerate().rev() {
        let group = *group;
        if group == 0 {
            continue;
        }
        // Beyond triliun the scale repeats ("seribu triliun" is not said; amounts never get
        // there: CHECKOUT_MAX_AMOUNT is far below).
        let name = SCALES.get(scale).copied().unwrap_or("triliun");
        if scale == 1 && group == 1 {
            words.push("seribu".to_owned());
            continue;
        }
        words.push(below_a_thousand(group));
        if !name.is_empty() {
            words.push(name.to_owned());
        }
    }
    words.join(" ")
}

/// 1 to 999.
fn below_a_thousand(n: u64) -> String {
    let hundreds = n / 100;
    let rest = n % 100;
    let mut words = Vec::new();
    match hundreds {
        0 => {}
        1 => words.push("seratus".to_owned()),
        h => words.push(format!("{} ratus", ones(h))),
    }
    if rest > 0 {
        words.push(below_a_hundred(rest));
    }
    words.join(" ")
}

/// 1 to 99.
fn below_a_hundred(n: u64) -> String {
    match n {
        0..=9 => ones(n).to_owned(),
        10 => "sepuluh".to_owned(),
        11 => "sebelas".to_owned(),
        12..=19 => format!("{} belas", ones(n - 10)),
        _ if n.is_multiple_of(10) => format!("{} puluh", ones(n / 10)),
        _ => format!("{} puluh {}", ones(n / 10), ones(n % 10)),
    }
}

fn ones(digit: u64) -> &'static str {
    usize::try_from(digit)
        .ok()
        .and_then(|d| ONES.get(d))
        .copied()
        .unwrap_or("")
}

/// What the soundbox says when a payment of `total_amount` lands.
pub fn announcement(total_amount: u64) -> String {
    format!("Pembayaran diterima, {} rupiah", in_words(total_amount))
}

#[cfg(test)]
mod tests {
    use super::{announcement, in_words};

    #[test]
    fn amounts_read_as_an_indonesian_says_them() {
        let table: &[(u64, &str)] = &[
            // satuan
            (0, "nol"),
            (1, "satu"),
            (7, "tujuh"),
            // belasan
            (10, "sepuluh"),
            (11, "sebelas"),
            (12, "dua belas"),
            (19, "sembilan belas"),
            // puluhan
            (20, "dua puluh"),
            (21, "dua puluh satu"),
            (99, "sembilan puluh sembilan"),
            // seratus, ratusan
            (100, "seratus"),
            (101, "seratus satu"),
            (111, "seratus sebelas"),
            (250, "dua ratus lima puluh"),
            (999, "sembilan ratus sembilan puluh sembilan"),
            // seribu, ribuan
            (1000, "seribu"),
            (1001, "seribu satu"),
            (1100, "seribu seratus"),
            (2000, "dua ribu"),
            (10_387, "sepuluh ribu tiga ratus delapan puluh tujuh"),
            (11_000, "sebelas ribu"),
            (25_779, "dua puluh lima ribu tujuh ratus tujuh puluh sembilan"),
            (100_000, "seratus ribu"),
            (101_000, "seratus satu ribu"),
            (111_111, "seratus sebelas ribu seratus sebelas"),
            (999_999, "sembilan ratus sembilan puluh sembilan ribu sembilan ratus sembilan puluh sembilan"),
            // juta
            (1_000_000, "satu juta"),
            (1_001_000, "satu juta seribu"),
            (1_250_500, "satu juta dua ratus lima puluh ribu lima ratus"),
            // CHECKOUT_MAX_AMOUNT's default, and beyond it
            (10_000_000, "sepuluh juta"),
            (10_000_999, "sepuluh juta sembilan ratus sembilan puluh sembilan"),
            (999_000_000, "sembilan ratus sembilan puluh sembilan juta"),
            (1_000_000_000, "satu miliar"),
            (2_000_000_000_000, "dua triliun"),
        ];
        for (n, words) in table {
            assert_eq!(in_words(*n), *words, "{n}");
        }
    }

    #[test]
    fn the_announcement_names_the_total_in_rupiah() {
        assert_eq!(
            announcement(25_779),
            "Pembayaran diterima, dua puluh lima ribu tujuh ratus tujuh puluh sembilan rupiah"
        );
    }
}
