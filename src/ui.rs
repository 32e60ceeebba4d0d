//! Messages to the user: colour only on a terminal and never with NO_COLOR; -q and -v.

use crate::error::Error;
pub use crate::text::plain;
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
            eprintln!("{}", lines(msg.as_ref()));
        }
    }

    pub fn success(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!(
                "{} {}",
                paint(self.color, Style::new().green(), "✓"),
                lines(msg.as_ref())
            );
        }
    }

    pub fn warn(&self, msg: impl AsRef<str>) {
        eprintln!(
            "{} {}",
            paint(self.color, Style::new().yellow().bold(), "warning:"),
            lines(msg.as_ref())
        );
    }

    /// What robodev decided; shown with -v.
    pub fn note(&self, msg: impl AsRef<str>) {
        if self.verbose {
            eprintln!(
                "{} {}",
                paint(self.color, Style::new().dim(), "note:"),
                lines(msg.as_ref())
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

/// Each line made safe to print (a message's own line breaks kept).
fn lines(text: &str) -> String {
    text.split('\n').map(plain).collect::<Vec<_>>().join("\n")
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

/// Rows as aligned columns (two spaces apart), the header first; trailing spaces trimmed.
pub fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let widths: Vec<usize> = (0..N)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let header = header.map(String::from);
    let mut text = String::new();
    for row in std::iter::once(&header).chain(rows.iter()) {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:w$}", w = widths[i]))
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
}
