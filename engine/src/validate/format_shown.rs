//! Markup a model reads as a new turn or a tool call, shown as the format a page documents.
//! Model cards and template docs show whole example turns (`Phi-3 chat format:` then
//! `<|user|>` and a question) and whole tool calls (`the template instructs the model to answer
//! with <tool_call>{"name": …}`): the same markup an attacker plants in a tool result to pass
//! for a system turn or a call the model made. The difference a rule can see is the words just
//! before it: documentation names the format, template or tokens it is showing. Such a finding
//! keeps [`SHOWN_FACTOR`] of its confidence, under the default floor; it still counts towards the
//! text's injection score, so an example that carries an order with it is still reported.

/// What a finding of markup shown as a documented format keeps of its confidence.
pub const SHOWN_FACTOR: f32 = 0.5;

/// Words that name a format, a template or its tokens (ASCII ones compared as whole words, in
/// any case; the others as they are written).
const ASCII_WORDS: &[&[u8]] = &[
    b"format",
    b"formats",
    b"formato",
    b"template",
    b"templates",
    b"templating",
    b"plantilla",
    b"vorlage",
    b"jinja",
    b"token",
    b"tokens",
    b"tokenizer",
    b"tokeniser",
    b"chat_template",
    b"apply_chat_template",
];
const OTHER_WORDS: &[&str] = &[
    "模板",
    "格式",
    "テンプレート",
    "フォーマット",
    "템플릿",
    "형식",
];

/// Whether the text just before a match (`before`, up to the matcher's context) names the
/// format, template or tokens the match would then be an example of.
pub fn names_a_format(before: &[u8]) -> bool {
    let words = before
        .split(|b| !b.is_ascii_alphanumeric() && *b != b'_')
        .filter(|w| w.len() >= 5);
    for word in words {
        if ASCII_WORDS.iter().any(|w| word.eq_ignore_ascii_case(w)) {
            return true;
        }
    }
    OTHER_WORDS
        .iter()
        .any(|w| memchr::memmem::find(before, w.as_bytes()).is_some())
}

#[cfg(test)]
mod tests {
    use super::names_a_format;

    #[test]
    fn documentation_names_what_it_shows() {
        assert!(names_a_format(b"Phi-3 chat format:\n\n"));
        assert!(names_a_format(
            b"Each turn is wrapped in a header, see the TEMPLATE below:\n"
        ));
        assert!(names_a_format(
            b"Gemma uses control tokens and two roles:\n\n"
        ));
        assert!(names_a_format("Qwen 的对话模板如下：\n".as_bytes()));
        // Tool results and pages that only carry the markup.
        assert!(!names_a_format(b"The weather today is sunny."));
        assert!(!names_a_format(
            b"Order 5512 shipped. Formatted by the courier."
        ));
        assert!(!names_a_format(b"Search complete.\n"));
    }
}
