//! `robodev shell` on a real terminal (tmux): a TTY inside, resize followed, the exit code
//! passed back, and the terminal restored afterwards.

use crate::support::*;
use std::process::Command;
use std::time::Duration;

fn tmux(args: &[&str]) -> String {
    stdout(&Command::new("tmux").args(args).output().expect("tmux"))
}

#[test]
fn shell_has_a_tty_follows_resize_and_returns_the_exit_code() {
    if !engine() {
        return;
    }
    let mut ws = Ws::new(DEBIAN);
    ws.ok(&["up", "-d"]);
    ws.container();
    let session = format!("robodev-shell-{}", std::process::id());
    let script = format!(
        "cd {} && env NO_COLOR=1 ROBODEV_STATE_DIR={}/.state {} shell; echo \"robodev-exit=$?\"; stty -a | grep -o ' icanon'; sleep 30",
        ws.path().display(),
        ws.path().display(),
        bin().display()
    );
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "100",
        "-y",
        "30",
        &script,
    ]);
    let screen = || tmux(&["capture-pane", "-p", "-t", &session]);
    let wait_for = |text: &str| {
        for _ in 0..100 {
            if screen().contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let s = screen();
        tmux(&["kill-session", "-t", &session]);
        panic!("never saw {text:?}:\n{s}");
    };
    let send = |text: &str| {
        tmux(&["send-keys", "-t", &session, "-l", text]);
        tmux(&["send-keys", "-t", &session, "Enter"]);
    };
    std::thread::sleep(Duration::from_millis(500));
    send("tty && echo answer=$((6*7))");
    wait_for("answer=42");
    assert!(screen().contains("/dev/pts/"), "{}", screen());
    tmux(&["resize-window", "-t", &session, "-x", "90", "-y", "25"]);
    std::thread::sleep(Duration::from_millis(500));
    send("echo size=$(stty size)");
    wait_for("size=25 90");
    // Ctrl-C goes to the command inside, not to robodev: the shell survives and answers.
    send("sleep 30; echo slept");
    std::thread::sleep(Duration::from_millis(700));
    tmux(&["send-keys", "-t", &session, "C-c"]);
    std::thread::sleep(Duration::from_millis(300));
    send("echo still=$((40+2))");
    wait_for("still=42");
    assert!(
        !screen().lines().any(|l| l.trim() == "slept"),
        "Ctrl-C did not reach the command:\n{}",
        screen()
    );
    assert!(
        !screen().contains("robodev-exit="),
        "Ctrl-C ended robodev:\n{}",
        screen()
    );
    send("exit 3");
    wait_for("robodev-exit=3");
    // Raw mode was undone: the outer shell's terminal is canonical again.
    wait_for(" icanon");
    tmux(&["kill-session", "-t", &session]);
}

#[test]
fn a_changed_profile_asks_before_recreating_on_a_terminal() {
    if !engine() {
        return;
    }
    let mut ws = Ws::new(DEBIAN);
    ws.ok(&["up", "-d"]);
    let name = ws.container();
    let first_id = docker_inspect(&name)["Id"].clone();
    std::fs::write(
        ws.path().join("robodev.yaml"),
        format!("{DEBIAN}env: {{ASKED: \"yes\"}}\n"),
    )
    .unwrap();
    ws.ok(&["build"]);
    let session = format!("robodev-recreate-{}", std::process::id());
    let script = format!(
        "cd {} && env NO_COLOR=1 ROBODEV_STATE_DIR={}/.state {} up -d; echo \"robodev-exit=$?\"; sleep 30",
        ws.path().display(),
        ws.path().display(),
        bin().display()
    );
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "160",
        "-y",
        "30",
        &script,
    ]);
    let screen = || tmux(&["capture-pane", "-p", "-t", &session]);
    let wait_for = |text: &str| {
        for _ in 0..150 {
            if screen().contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let s = screen();
        tmux(&["kill-session", "-t", &session]);
        panic!("never saw {text:?}:\n{s}");
    };
    wait_for("Recreate it?");
    tmux(&["send-keys", "-t", &session, "y"]);
    tmux(&["send-keys", "-t", &session, "Enter"]);
    wait_for("robodev-exit=0");
    tmux(&["kill-session", "-t", &session]);
    assert_ne!(
        docker_inspect(&name)["Id"],
        first_id,
        "the container was recreated"
    );
    assert_eq!(
        ws.ok(&["exec", "--", "sh", "-c", "echo $ASKED"]).trim(),
        "yes"
    );
}
