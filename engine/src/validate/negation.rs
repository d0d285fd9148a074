//! Whether a request for a password, in a language other than English, is negated: "Huwag
//! ibigay ang inyong password" (never give your password), "ฝ่ายไอทีจะไม่ขอรหัสผ่าน" (IT will not
//! ask for your password), "Deel je wachtwoord nooit", "पासवर्ड कभी किसी को न बताएं". Security
//! reminders say this in every language; an attacker asks for the password instead.
//!
//! Three places carry the negation, by language: the words right before the request (most
//! languages), the words right after the verb and its object (Dutch and German), or a word
//! inside the match's own gap (Hindi, whose verb comes last). Words are compared whole and
//! lower case (ASCII folding only; the lists hold the forms as written).

/// Negations that end the text before the request: the words right before it must be one of
/// these (whole, so "no" is not the end of "ano"), or one of them and then up to three words
/// of [`BETWEEN`], and not right after a word of [`CONDITIONS`].
const BEFORE: &[&str] = &[
    // Spanish, Portuguese, French, Italian.
    "no",
    "nunca",
    "jamás",
    "jamas",
    "não",
    "nao",
    "ne",
    "n'",
    "jamais",
    "non",
    // Russian, Ukrainian, Polish.
    "не",
    "никогда",
    "ніколи",
    "nie",
    "nigdy",
    // Arabic.
    "لا",
    "لن",
    "لم",
    // Vietnamese, Indonesian/Malay, Tagalog.
    "không",
    "không bao giờ",
    "đừng",
    "chưa",
    "chẳng",
    "jangan",
    "jangan pernah",
    "tidak",
    "tidak pernah",
    "tidak akan",
    "tidak akan pernah",
    "tak",
    "huwag",
    "'wag",
    "wag",
    "hindi",
    "huwag kailanman",
    "hindi kailanman",
    "kailanman",
];

/// Negations written without a space before the verb (Thai, Chinese): the text before the
/// request ends in one of these.
const BEFORE_JOINED: &[&str] = &[
    "ไม่",
    "ห้าม",
    "อย่า",
    "ไม่ควร",
    "不要",
    "不会",
    "不會",
    "绝不",
    "絕不",
    "切勿",
    "请勿",
    "請勿",
];

/// Clitics, auxiliaries and "ask you to" that may stand between a negation and the request, up
/// to three of them ("không bao giờ yêu cầu bạn cung cấp mật khẩu": we never ask you to give
/// your password).
const BETWEEN: &[&str] = &[
    "te",
    "le",
    "les",
    "me",
    "lo",
    "la",
    "nos",
    "vous",
    "ti",
    "mi",
    "ci",
    "vai",
    "va",
    "sẽ",
    "akan",
    "pernah",
    "будет",
    "буде",
    "będzie",
    "yêu",
    "cầu",
    "bạn",
    "hỏi",
    "meminta",
    "anda",
    "kamu",
    "pedirá",
    "pediremos",
    "pedimos",
    "pedir",
    "lhe",
    "demandera",
    "demanderons",
    "demandons",
    "chiederà",
    "chiederemo",
    "hihingin",
    "hihingi",
    "ninyo",
    "mo",
];

/// Negations that follow the request's verb and object (Dutch, German verb-second order:
/// "Deel je wachtwoord nooit met iemand", "Gib dein Passwort niemals weiter").
const AFTER: &[&str] = &[
    "nooit",
    "niet",
    "niemals",
    "nie",
    "nicht",
    "keinem",
    "niemandem",
];

/// Negations inside the match (Hindi puts them before the final verb: "पासवर्ड कभी किसी को न
/// बताएं"; Bengali after it).
const INSIDE: &[&str] = &["न", "मत", "नहीं", "না", "কখনও"];

/// True when the password request `matched` is negated by the text around it.
pub(crate) fn is_negated(before: &[u8], matched: &[u8], after: &[u8]) -> bool {
    let before = String::from_utf8_lossy(clause_before(before));
    let before = before.trim_end();
    let lower = before.to_lowercase();
    // Up to three clitics, auxiliaries or "ask you" words between the negation and the request
    // ("no le des", "não vai pedir", "không bao giờ yêu cầu bạn cung cấp"): drop them, looking
    // again after each.
    let mut head = lower.as_str();
    let mut ends_with_negation = words_end(head, BEFORE);
    for _ in 0..3 {
        match head.rsplit_once([' ', '\t']) {
            Some((rest, last)) if !ends_with_negation && BETWEEN.contains(&last) => {
                head = rest.trim_end();
                ends_with_negation = words_end(head, BEFORE);
            }
            _ => break,
        }
    }
    let joined = BEFORE_JOINED.iter().any(|p| {
        lower.strip_suffix(p).is_some_and(|rest| {
            !["ถ้า", "หาก", "如果", "若", "为什么", "為什麼"]
                .iter()
                .any(|c| rest.ends_with(c))
        })
    });
    let after = String::from_utf8_lossy(&after[..after.len().min(48)]);
    let mut next_words = after
        .split_whitespace()
        .map(|w| w.trim_end_matches([',', '.', ';', '!']).to_lowercase());
    let after_negation = next_words
        .next()
        .is_some_and(|w| AFTER.contains(&w.as_str()))
        && !next_words
            .next()
            .is_some_and(|w| COMPARISONS.contains(&w.as_str()));
    let inside = String::from_utf8_lossy(matched)
        .split_whitespace()
        .any(|w| INSIDE.contains(&w));
    ends_with_negation || joined || after_negation || inside
}

/// Whether `text` ends in one of `phrases`, whole words, that is not "if not" or "why not"
/// ("Si no envía sus contraseñas…" threatens, "¿Por qué no me envías…?" asks).
fn words_end(text: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| {
        text.strip_suffix(p).is_some_and(|rest| {
            (rest.is_empty() || rest.ends_with([' ', '\t', '\u{a0}']))
                && !rest
                    .split_whitespace()
                    .next_back()
                    .is_some_and(|w| CONDITIONS.contains(&w))
        })
    })
}

/// Words that make the negation after them a condition or a question, not a prohibition.
const CONDITIONS: &[&str] = &[
    "si",
    "se",
    "if",
    "jeśli",
    "jesli",
    "jeżeli",
    "jezeli",
    "если",
    "якщо",
    "wenn",
    "falls",
    "als",
    "om",
    "hvis",
    "jos",
    "dacă",
    "daca",
    "kung",
    "kalau",
    "jika",
    "nếu",
    "agar",
    "qué",
    "pourquoi",
    "perché",
    "perche",
    "dlaczego",
    "почему",
    "чому",
    "waarom",
    "warum",
    "varför",
    "hvorfor",
    "miksi",
    "proč",
    "proc",
];

/// Words after a post-verbal negation that make it a comparison ("niet later dan vrijdag").
const COMPARISONS: &[&str] = &[
    "later",
    "später",
    "spater",
    "później",
    "pozniej",
    "eher",
    "früher",
];

/// The part of `before` in the match's own clause: after the last sentence end or line break.
fn clause_before(before: &[u8]) -> &[u8] {
    let cut = before
        .iter()
        .rposition(|&b| matches!(b, b'.' | b'!' | b'?' | b'\n' | b';'))
        .map_or(0, |i| i + 1);
    &before[cut..]
}

#[cfg(test)]
mod tests {
    use super::is_negated;

    fn negated(before: &str, matched: &str, after: &str) -> bool {
        is_negated(before.as_bytes(), matched.as_bytes(), after.as_bytes())
    }

    #[test]
    fn reminders_not_to_share_a_password_are_negated() {
        assert!(negated(
            "Huwag ",
            "ibigay ang inyong password",
            " kahit kanino."
        ));
        assert!(!negated("Ok. ", "ibigay ang inyong password", ""));
        assert!(negated(
            "Huwag kailanman ",
            "ibigay ang inyong password",
            ""
        ));
        assert!(negated("ฝ่ายไอทีจะไม่", "ขอรหัสผ่าน", "ของคุณ"));
        assert!(negated("ห้าม", "บอกรหัสผ่าน", ""));
        assert!(negated(
            "Bộ phận IT sẽ không bao giờ ",
            "hỏi mật khẩu",
            " của bạn."
        ));
        assert!(negated("", "Deel je wachtwoord", " nooit met iemand."));
        assert!(negated("अपना ", "पासवर्ड कभी किसी को न बताएं", "।"));
        assert!(negated(
            "Tim IT tidak akan pernah ",
            "meminta kata sandi",
            " Anda."
        ));
    }

    #[test]
    fn requests_for_a_password_are_not() {
        assert!(!negated("", "Ibigay mo sa akin ang iyong password", "."));
        assert!(!negated("ช่วย", "บอกรหัสผ่าน", "ให้ฉันหน่อย"));
        assert!(!negated("Hãy ", "cho tôi biết mật khẩu", " của bạn."));
        assert!(!negated("", "Deel je wachtwoord", " met mij."));
        assert!(!negated("Nunca olvides ", "decirme tu contraseña", "."));
        assert!(negated("Nunca te ", "pedirá tu contraseña", "."));
        assert!(!negated("为什么不", "告诉我你的密码", "？"));
        assert!(!negated(
            "Si no ",
            "envía sus contraseñas a verif@ejemplo.com",
            " hoy."
        ));
        assert!(!negated("ถ้าไม่", "ส่งรหัสผ่าน", ""));
        assert!(!negated("¿Por qué no me ", "das tu contraseña", "?"));
        assert!(!negated(
            "",
            "Stuur je wachtwoorden naar x@y.nl",
            " niet later dan vrijdag."
        ));
        assert!(!negated("Mai ", "trimite o dată parola", ""));
        assert!(!negated("请分别", "发送密码到 a@example.com", ""));
        assert!(!negated("Ano ", "ang iyong password", "?"));
        // A negation in an earlier sentence does not reach the request.
        assert!(!negated("No. ", "Dime tu contraseña", "."));
    }
}
