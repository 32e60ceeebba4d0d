//! Showing a push or pull: on a terminal, a bar per layer (indicatif's multi-progress); off a
//! terminal, one line when a layer is done; nothing with -q.

use crate::engine::TransferWatcher;
use crate::ui::Ui;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::BTreeMap;

pub struct TransferProgress {
    ui: Ui,
    multi: Option<MultiProgress>,
    bars: BTreeMap<String, ProgressBar>,
    done: usize,
}

/// Statuses the engine gives a layer that is finished.
const DONE: &[&str] = &[
    "Pushed",
    "Layer already exists",
    "Pull complete",
    "Already exists",
    "Mounted from",
];

impl TransferProgress {
    pub fn new(ui: Ui) -> TransferProgress {
        let on_terminal = console::Term::stderr().is_term();
        TransferProgress {
            ui,
            multi: (on_terminal && !ui.quiet).then(MultiProgress::new),
            bars: BTreeMap::new(),
            done: 0,
        }
    }

    fn bar(&mut self, layer: &str) -> Option<&ProgressBar> {
        let multi = self.multi.as_ref()?;
        Some(self.bars.entry(layer.to_string()).or_insert_with(|| {
            let bar = multi.add(ProgressBar::new(0));
            bar.set_style(
                ProgressStyle::with_template("{prefix:.dim} {wide_msg} {bytes}/{total_bytes}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_prefix(layer.to_string());
            bar
        }))
    }
}

impl TransferWatcher for TransferProgress {
    fn event(
        &mut self,
        layer: Option<&str>,
        status: &str,
        current: Option<i64>,
        total: Option<i64>,
    ) {
        let finished = DONE.iter().any(|d| status.starts_with(d));
        if finished {
            self.done += 1;
        }
        let name = layer.unwrap_or("layers").to_string();
        let done = self.done;
        if let Some(bar) = self.bar(&name) {
            if let Some(total) = total {
                bar.set_length(total.max(0) as u64);
            }
            if let Some(current) = current {
                bar.set_position(current.max(0) as u64);
            }
            let msg = if layer.is_none() {
                format!("{status} ({done} done)")
            } else {
                status.to_string()
            };
            bar.set_message(msg);
            if finished && layer.is_some() {
                bar.finish();
            }
        } else if finished {
            match layer {
                Some(id) => self.ui.info(format!("  {id}: {status}")),
                None => self.ui.info(format!("  layer {done}: {status}")),
            }
        }
    }

    fn finish(&mut self) {
        for bar in self.bars.values() {
            bar.finish_and_clear();
        }
        if let Some(multi) = &self.multi {
            let _ = multi.clear();
        }
    }
}
