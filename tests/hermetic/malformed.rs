//! A corpus of malformed profiles, each with the message it must produce (`*.expected` holds
//! substrings, one per line, that the error report must contain).

use crate::support::*;
use std::path::Path;

#[test]
fn every_malformed_profile_gets_its_message() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hermetic/malformed");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "the corpus shrank");
    for case in cases {
        let text = std::fs::read_to_string(&case).unwrap();
        let expected = std::fs::read_to_string(case.with_extension("expected")).unwrap();
        let err = match profile_from(&text) {
            Ok(_) => panic!("{} was accepted", case.display()),
            Err(e) => e,
        };
        let report = err.report();
        for line in expected.lines().filter(|l| !l.trim().is_empty()) {
            assert!(
                report.contains(line),
                "{}: expected {line:?} in\n{report}",
                case.display()
            );
        }
        assert_eq!(err.exit_code(), 2, "{}", case.display());
    }
}
