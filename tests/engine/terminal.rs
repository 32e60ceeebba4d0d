//! robodev on a real terminal (tmux): `shell` has a TTY, follows resizes, passes Ctrl-C to the
//! command inside, returns the exit code and restores the terminal; `up` asks before recreating.

use crate::support::*;
use std::time::Duration;

#[test]
fn shell_has_a_tty_follows_resize_and_returns_the_exit_code() {
    if !engine() {
        return;
    }
    let mut ws = Ws::new(DEBIAN);
    ws.ok(&["up", "-d"]);
    ws.container();
    let term = Tmux::start(
        "shell",
        100,
        30,
        &robodev_script(&ws, "shell", "stty -a | grep -o ' icanon';"),
    );
    std::thread::sleep(Duration::from_millis(500));
    term.line("tty && echo answer=$((6*7))");
    term.wait_for("answer=42");
    assert!(term.screen().contains("/dev/pts/"), "{}", term.screen());
    term.resize(90, 25);
    std::thread::sleep(Duration::from_millis(500));
    term.line("echo size=$(stty size)");
    term.wait_for("size=25 90");
    // Ctrl-C goes to the command inside, not to robodev: the shell survives and answers.
    term.line("sleep 30; echo slept");
    std::thread::sleep(Duration::from_millis(700));
    term.keys(&["C-c"]);
    std::thread::sleep(Duration::from_millis(300));
    term.line("echo still=$((40+2))");
    term.wait_for("still=42");
    assert!(
        !term.screen().lines().any(|l| l.trim() == "slept"),
        "Ctrl-C did not reach the command:\n{}",
        term.screen()
    );
    assert!(
        !term.screen().contains("robodev-exit="),
        "Ctrl-C ended robodev:\n{}",
        term.screen()
    );
    term.line("exit 3");
    term.wait_for("robodev-exit=3");
    // Raw mode was undone: the outer shell's terminal is canonical again.
    term.wait_for(" icanon");
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
    let term = Tmux::start("recreate", 160, 30, &robodev_script(&ws, "up -d", ""));
    term.wait_for("Recreate it?");
    term.keys(&["y", "Enter"]);
    term.wait_for("robodev-exit=0");
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
