//! `robodev init` on a real terminal: tmux runs it, send-keys answers, the file appears.

use crate::support::*;
use std::process::Command;
use std::time::Duration;

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().expect("tmux");
    stdout(&out)
}

#[test]
fn the_init_wizard_on_a_terminal() {
    if Command::new("tmux").arg("-V").output().is_err() {
        assert!(std::env::var("CI").is_err(), "CI=true but tmux is missing");
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("robodev-wizard-")
        .tempdir_in(scratch())
        .unwrap();
    let session = format!("robodev-wizard-{}", std::process::id());
    let command = format!(
        "cd {} && env -u DISPLAY NO_COLOR=1 {} init; sleep 5",
        dir.path().display(),
        bin().display()
    );
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "120",
        "-y",
        "40",
        &command,
    ]);
    let wait_for = |text: &str| {
        for _ in 0..100 {
            if tmux(&["capture-pane", "-p", "-t", &session]).contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "never saw {text:?}:\n{}",
            tmux(&["capture-pane", "-p", "-t", &session])
        );
    };
    wait_for("ROS distro");
    tmux(&["send-keys", "-t", &session, "Up", ""]);
    std::thread::sleep(Duration::from_millis(200));
    tmux(&["send-keys", "-t", &session, "Enter", ""]); // the distro above jazzy: humble
    wait_for("Variant");
    tmux(&["send-keys", "-t", &session, "Enter", ""]);
    wait_for("GPU");
    tmux(&["send-keys", "-t", &session, "Enter", ""]);
    if tmux(&["capture-pane", "-p", "-t", &session]).contains("Devices to pass through") {
        tmux(&["send-keys", "-t", &session, "Enter", ""]);
    }
    wait_for("Hotplug classes");
    tmux(&["send-keys", "-t", &session, "Space", ""]); // serial
    tmux(&["send-keys", "-t", &session, "Enter", ""]);
    wait_for("Forward the X11 display");
    tmux(&["send-keys", "-t", &session, "y", ""]);
    wait_for("Extra apt packages");
    tmux(&["send-keys", "-t", &session, "-l", "htop"]);
    tmux(&["send-keys", "-t", &session, "Enter", ""]);
    let path = dir.path().join("robodev.yaml");
    for _ in 0..50 {
        if path.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let screen = tmux(&["capture-pane", "-p", "-t", &session]);
    tmux(&["kill-session", "-t", &session]);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("no robodev.yaml; screen:\n{screen}"));
    assert!(text.contains("distro: \"humble\""), "{text}");
    assert!(text.contains("hotplug: [\"serial\"]"), "{text}");
    assert!(text.contains("x11: true"), "{text}");
    assert!(text.contains("htop"), "{text}");
}
