//! Making text: what comes from elsewhere (a user's profile, a program's output, the engine)
//! safe to show on a terminal, and YAML for the files robodev writes for other tools.

/// Text from a program's output or a user's file, safe to print: escape sequences (colours,
/// cursor moves, terminal titles) removed, other control characters shown as `\u{..}`.
pub fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.peek() {
                // CSI: ESC [ parameters, ended by a letter.
                Some('[') => {
                    chars.next();
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                // OSC: ESC ] … ended by BEL or ESC \.
                Some(']') => {
                    chars.next();
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                            break;
                        }
                    }
                }
                _ => {
                    chars.next();
                }
            },
            '\t' => out.push(c),
            '\r' => {}
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

/// YAML for files robodev writes for other tools (Compose, Kubernetes, CI): plain or quoted
/// scalars only, never folded, so each value reads back as the one line it is.
pub fn yaml<T: serde::Serialize>(value: &T) -> String {
    let mut options = serde_saphyr::SerializerOptions::default();
    options.prefer_block_scalars = false;
    serde_saphyr::to_string_with_options(value, options).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn escape_sequences_are_removed() {
        assert_eq!(plain("\u{1b}[1;31mred\u{1b}[0m"), "red");
        assert_eq!(plain("a\u{1b}]0;title\u{7}b"), "ab");
        assert_eq!(plain("a\u{1b}]0;title\u{1b}\\b"), "ab");
        assert_eq!(plain("x\ny"), "x\\u{a}y");
        assert_eq!(plain("50%\r"), "50%");
    }
}
