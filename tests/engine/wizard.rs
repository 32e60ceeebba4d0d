//! `robodev init` on a real terminal: tmux runs it, send-keys answers, the file appears.

use crate::support::*;
use std::time::Duration;

#[test]
fn the_init_wizard_on_a_terminal() {
    if std::process::Command::new("tmux")
        .arg("-V")
        .output()
        .is_err()
    {
        assert!(std::env::var("CI").is_err(), "CI=true but tmux is missing");
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("robodev-wizard-")
        .tempdir_in(scratch())
        .unwrap();
    let script = format!(
        "cd {} && env -u DISPLAY NO_COLOR=1 {} init; sleep 5",
        dir.path().display(),
        bin().display()
    );
    let term = Tmux::start("wizard", 120, 40, &script);
    term.wait_for("ROS distro");
    term.keys(&["Up"]);
    std::thread::sleep(Duration::from_millis(200));
    term.keys(&["Enter"]); // the distro above jazzy: humble
    term.wait_for("Variant");
    term.keys(&["Enter"]);
    term.wait_for("GPU");
    term.keys(&["Enter"]);
    if term.screen().contains("Devices to pass through") {
        term.keys(&["Enter"]);
    }
    term.wait_for("Hotplug classes");
    term.keys(&["Space", "Enter"]); // serial
    term.wait_for("Forward the X11 display");
    term.keys(&["y"]);
    term.wait_for("Extra apt packages");
    term.line("htop");
    let path = dir.path().join("robodev.yaml");
    for _ in 0..50 {
        if path.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("no robodev.yaml; screen:\n{}", term.screen()));
    assert!(text.contains("extends: \"humble\""), "{text}");
    assert!(text.contains("hotplug: [\"serial\"]"), "{text}");
    assert!(text.contains("x11: true"), "{text}");
    assert!(text.contains("htop"), "{text}");
}
