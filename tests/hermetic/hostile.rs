//! Hostile or absurd profiles (issue "Hardening", 4): every one is bad input with a clear
//! message and exit 2, quickly — never a crash, a hang, or raw bytes on the terminal.

use crate::support::*;
use predicates::prelude::*;
use proptest::prelude::*;
use std::time::{Duration, Instant};

fn stderr_of(cmd: &mut assert_cmd::Command) -> (Option<i32>, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A chain of 1,500 `extends:` overflowed the stack and aborted with signal 6.
#[test]
fn a_very_long_extends_chain_is_refused_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..1500 {
        std::fs::write(
            dir.path().join(format!("p{i}.yaml")),
            format!("version: 1\nextends: ./p{}.yaml\n", i + 1),
        )
        .unwrap();
    }
    std::fs::write(
        dir.path().join("p1500.yaml"),
        "version: 1\nextends: humble\n",
    )
    .unwrap();
    let started = Instant::now();
    let (code, err) = stderr_of(robodev(dir.path()).args(["profile", "show", "./p0.yaml"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("longer than 64 profiles"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// Cycles through a directory symlink or `sub/..` went 40 hops (ELOOP) or 10 s.
#[test]
fn cycles_through_symlinks_and_dotdot_are_cycles() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("loop")).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "version: 1\nextends: ./loop/a.yaml\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.yaml"),
        "version: 1\nextends: ./sub/../b.yaml\n",
    )
    .unwrap();
    for file in ["./a.yaml", "./b.yaml"] {
        let started = Instant::now();
        let (code, err) = stderr_of(robodev(dir.path()).args(["profile", "show", file]));
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("cycle"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}

/// A name with `ESC ] 0; … BEL` retitled the terminal; a key with a newline forged an `error:`
/// line.
#[test]
fn control_characters_never_reach_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("robodev.yaml"),
        "version: 1\nextends: humble\nname: \"x\\e]0;pwned\\a\"\n",
    )
    .unwrap();
    let (code, err) = stderr_of(robodev(dir.path()).args(["profile", "show"]));
    assert_eq!(code, Some(2));
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");

    std::fs::write(
        dir.path().join("robodev.yaml"),
        "version: 1\nextends: humble\n\"devices\\nerror: all good\": 1\n",
    )
    .unwrap();
    let (code, err) = stderr_of(robodev(dir.path()).args(["profile", "show"]));
    assert_eq!(code, Some(2));
    let error_lines = err.lines().filter(|l| l.starts_with("error:")).count();
    assert_eq!(error_lines, 1, "{err}");
}

/// Env values over 64 KB passed validation, then the engine refused the Dockerfile line.
#[test]
fn env_values_are_held_to_the_engines_line_limit() {
    let big = "x".repeat(70_000);
    let err = profile_from(&format!(
        "version: 1\nextends: humble\nenv: {{BIG: \"{big}\"}}\n"
    ))
    .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.report().contains("at most 60000"), "{}", err.report());
    let ok = "y".repeat(59_000);
    let p = plan(
        &profile_from(&format!(
            "version: 1\nextends: humble\nenv: {{OK: \"{ok}\"}}\n"
        ))
        .unwrap(),
    );
    assert!(p.image.dockerfile.lines().all(|l| l.len() < 65_535));
}

/// A directory, Latin-1 or UTF-16 profile exited 1; bad input is 2.
#[test]
fn unreadable_profiles_are_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("adir.yaml")).unwrap();
    std::fs::write(
        dir.path().join("latin1.yaml"),
        b"version: 1\nname: caf\xe9\n",
    )
    .unwrap();
    let mut utf16 = vec![0xff, 0xfe];
    for c in "version: 1\nextends: humble\n".encode_utf16() {
        utf16.extend_from_slice(&c.to_le_bytes());
    }
    std::fs::write(dir.path().join("utf16.yaml"), utf16).unwrap();
    for (file, said) in [
        ("./adir.yaml", "is a directory"),
        ("./latin1.yaml", "not UTF-8"),
        ("./utf16.yaml", "not UTF-8"),
    ] {
        robodev(dir.path())
            .args(["profile", "show", file])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(said));
    }
}

/// A merge-key alias bomb cost 2.4 s and 176 MB before the parser's own budget stopped it, and
/// the budget's wording reached the user.
#[test]
fn an_alias_bomb_stops_at_once_in_plain_words() {
    let mut text =
        String::from("version: 1\nextends: humble\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("robodev.yaml"), &text).unwrap();
    let started = Instant::now();
    let (code, err) = stderr_of(robodev(dir.path()).args(["profile", "show"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(
        !err.contains("budget breached") && !err.contains("Nodes {"),
        "{err}"
    );
}

/// Structure-aware fuzzing: any mix of known keys, unknown keys and hostile scalars is either a
/// profile or an error with exit code 2 — never a panic.
fn hostile_scalar() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "\"\\e[2J\"",
        "\"a\\nb\"",
        "'*'",
        "~",
        "[]",
        "{}",
        "-1",
        "1e400",
        "0x10",
        "\"\\u0000\"",
        "&a x",
        "*nope",
        "!!binary aGk=",
        "\"../../etc\"",
        "humble",
        "true",
        "\"${HOME}\"",
        "[a, [b, [c]]]",
        "{a: {b: {c: d}}}",
        "\"long long long long long long long long\"",
    ])
    .prop_map(String::from)
}

fn hostile_profile() -> impl Strategy<Value = String> {
    // Every field a profile has (new ones are fuzzed without touching this test), and one it
    // has not.
    let mut names: Vec<&'static str> = robodev::profile::raw::FIELDS.to_vec();
    names.push("zzz");
    let keys = prop::sample::select(names);
    prop::collection::vec((keys, hostile_scalar()), 0..8).prop_map(|pairs| {
        let mut text = String::from("version: 1\n");
        for (k, v) in pairs {
            text.push_str(&format!("{k}: {v}\n"));
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]
    #[test]
    fn no_profile_text_panics_or_exits_other_than_2(text in hostile_profile()) {
        match profile_from(&text) {
            Ok(p) => {
                let _ = plan_for(&p, &laptop(), &Default::default());
            }
            Err(e) => prop_assert_eq!(e.exit_code(), 2, "{}\n{}", text, e.report()),
        }
    }
}
