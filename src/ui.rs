//! Messages to the user: colour only on a terminal and never with NO_COLOR; -q and -v.

use crate::error::Error;
use console::Style;
use std::io::Write;

#[derive(Clone, Copy, Debug)]
pub struct Ui {
    pub quiet: bool,
    pub verbose: bool,
    pub color: bool,
}

pub fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && console::Term::stderr().is_term()
}

fn paint(color: bool, style: Style, text: &str) -> String {
    style.force_styling(color).apply_to(text).to_string()
}

impl Ui {
    pub fn new(quiet: bool, verbose: bool) -> Ui {
        Ui {
            quiet,
            verbose,
            color: color_enabled(),
        }
    }

    pub fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    pub fn success(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!(
                "{} {}",
                paint(self.color, Style::new().green(), "✓"),
                msg.as_ref()
            );
        }
    }

    pub fn warn(&self, msg: impl AsRef<str>) {
        eprintln!(
            "{} {}",
            paint(self.color, Style::new().yellow().bold(), "warning:"),
            msg.as_ref()
        );
    }

    /// What robodev decided; shown with -v.
    pub fn note(&self, msg: impl AsRef<str>) {
        if self.verbose {
            eprintln!(
                "{} {}",
                paint(self.color, Style::new().dim(), "note:"),
                msg.as_ref()
            );
        }
    }

    pub fn check_mark(&self, ok: bool) -> String {
        if ok {
            paint(self.color, Style::new().green(), "✓")
        } else {
            paint(self.color, Style::new().red(), "✗")
        }
    }
}

pub fn print_error(e: &Error) {
    let color = color_enabled();
    let report = e.report();
    let report = report.replacen(
        "error:",
        &paint(color, Style::new().red().bold(), "error:"),
        1,
    );
    eprintln!("{report}");
}

/// Print data to stdout; a closed pipe (`robodev ls | head`) is not an error.
pub fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

/// A path as the user should read it: no `/.` at the end, relative to the current directory
/// when it is inside it.
pub fn shown_path(path: &std::path::Path) -> String {
    let cwd = std::env::current_dir().ok();
    let shown = cwd
        .as_deref()
        .and_then(|c| path.strip_prefix(c).ok())
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(path);
    let text = shown.display().to_string();
    text.strip_suffix("/.").unwrap_or(&text).to_string()
}

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
