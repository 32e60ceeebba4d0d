//! Showing a build: a spinner with "[n/N] instruction" on a terminal, plain step lines
//! otherwise, the whole log with -v, nothing with -q.

use crate::engine::BuildWatcher;
use crate::ui::{Ui, plain};
use std::time::{Duration, Instant};

/// Off a terminal, a line at least this often during a long step, so a CI log shows progress.
const HEARTBEAT: Duration = Duration::from_secs(30);

pub struct BuildProgress {
    ui: Ui,
    bar: Option<indicatif::ProgressBar>,
    /// The current step ("5/14") and when it began; when robodev last printed a line.
    step: String,
    step_started: Instant,
    last_line: Instant,
}

impl BuildProgress {
    pub fn new(ui: Ui) -> BuildProgress {
        BuildProgress {
            ui,
            bar: None,
            step: String::new(),
            step_started: Instant::now(),
            last_line: Instant::now(),
        }
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
        // The spinner's `wide_msg` fits the terminal; a log gets the whole instruction.
        let instruction = plain(instruction);
        self.step = count.to_string();
        self.step_started = Instant::now();
        self.last_line = Instant::now();
        match &self.bar {
            Some(bar) => bar.set_message(format!("[{count}] {instruction}")),
            None if !self.ui.verbose => self.ui.info(format!("  [{count}] {instruction}")),
            None => {}
        }
    }

    /// BuildKit's end of a step: a cached step is one line; a step that ran gets its time.
    fn done(&mut self, count: &str, instruction: &str, cached: bool, seconds: f64) {
        let line = if cached {
            format!("  [{count}] {} CACHED", plain(instruction))
        } else {
            format!("  [{count}] DONE {seconds:.1}s")
        };
        self.last_line = Instant::now();
        match &self.bar {
            Some(bar) if cached => {
                bar.set_message(format!("[{count}] {} CACHED", plain(instruction)))
            }
            Some(_) => {}
            None if self.ui.verbose => eprintln!("{line}"),
            None => self.ui.info(line),
        }
    }

    fn line(&mut self, line: &str) {
        if self.ui.verbose {
            eprintln!("{}", plain(line));
            self.last_line = Instant::now();
        }
    }

    fn tick(&mut self) {
        if self.bar.is_none() && !self.step.is_empty() && self.last_line.elapsed() >= HEARTBEAT {
            self.ui.info(format!(
                "  … [{}] still running ({}s)",
                self.step,
                self.step_started.elapsed().as_secs()
            ));
            self.last_line = Instant::now();
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
