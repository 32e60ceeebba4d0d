//! Showing a build: a spinner with "[n/N] instruction" on a terminal, plain step lines
//! otherwise, the whole log with -v, nothing with -q.

use crate::engine::BuildWatcher;
use crate::ui::Ui;
use std::time::Duration;

pub struct BuildProgress {
    ui: Ui,
    bar: Option<indicatif::ProgressBar>,
}

impl BuildProgress {
    pub fn new(ui: Ui) -> BuildProgress {
        BuildProgress { ui, bar: None }
    }
}

impl BuildWatcher for BuildProgress {
    fn start(&mut self, tag: &str) {
        let on_terminal = console::Term::stderr().is_term();
        if !self.ui.quiet && !self.ui.verbose && on_terminal {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {prefix} {wide_msg} {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.set_prefix(format!("building {tag}"));
            bar.enable_steady_tick(Duration::from_millis(100));
            self.bar = Some(bar);
        } else {
            self.ui.info(format!("building {tag}"));
        }
    }

    fn step(&mut self, count: &str, instruction: &str) {
        let short: String = instruction.chars().take(80).collect();
        match &self.bar {
            Some(bar) => bar.set_message(format!("[{count}] {short}")),
            None if !self.ui.verbose => self.ui.info(format!("  [{count}] {short}")),
            None => {}
        }
    }

    fn line(&mut self, line: &str) {
        if self.ui.verbose {
            eprintln!("{line}");
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
