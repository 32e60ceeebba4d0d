//! `robodev test` on the real engine: colcon build, test and test-result in a throw-away
//! container; the exit code is the verdict, a failing test is named, results land in --results.

use crate::support::*;

pub const PACKAGE: &[(&str, &str)] = &[
    (
        "src/checked/package.xml",
        "<?xml version=\"1.0\"?>\n<package format=\"3\">\n  <name>checked</name>\n  <version>0.1.0</version>\n  <description>tested</description>\n  <maintainer email=\"dev@example.com\">dev</maintainer>\n  <license>MIT</license>\n  <export><build_type>ament_python</build_type></export>\n</package>\n",
    ),
    (
        "src/checked/setup.py",
        "from setuptools import setup\nsetup(name='checked', version='0.1.0', packages=['checked'], data_files=[('share/checked', ['package.xml'])], tests_require=['pytest'])\n",
    ),
    (
        "src/checked/checked/__init__.py",
        "def answer():\n    return 42\n",
    ),
    (
        "src/checked/test/test_answer.py",
        "from checked import answer\n\ndef test_the_answer():\n    assert answer() == 42\n",
    ),
];

#[test]
fn test_runs_colcon_tests_names_a_failure_and_keeps_the_results() {
    if !engine() {
        return;
    }
    // A GPU profile on a machine without one: the tests run in the environment's own image
    // (with the GPU's libraries), the one `build` made and the team's registry would hold.
    let ws = Ws::new(&format!("{DEBIAN}gpu: nvidia\n"));
    write_files(ws.path(), PACKAGE);
    ws.ok(&["build"]);
    let out = ws.run(&["test", "--results", "out"]);
    assert!(out.status.success());
    let said = stderr(&out);
    assert!(
        !said.contains("✓ built") && !said.contains("[1/"),
        "another image was built: {said}"
    );
    assert!(stderr(&out).contains("tests passed"), "{}", stderr(&out));
    let xml = ws.path().join("out/build/checked/pytest.xml");
    let report = std::fs::read_to_string(&xml).unwrap_or_else(|_| panic!("no {}", xml.display()));
    assert!(report.contains("test_the_answer"), "{report}");

    write_files(
        ws.path(),
        &[(
            "src/checked/test/test_wrong.py",
            "def test_the_wrong_answer():\n    assert 6 * 9 == 42, 'the question was wrong'\n",
        )],
    );
    let out = ws.run(&["test", "--packages-select", "checked"]);
    assert_eq!(out.status.code(), Some(1));
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(said.contains("test_the_wrong_answer"), "{said}");
    assert!(said.contains("tests failed"), "{said}");

    let out = ws.run(&["test", "--packages-select", "bad;name"]);
    assert_fails(&out, 2, &["not a package name"]);
}

/// A plain CMake package whose CTest test fails: its result reaches `--results` as JUnit
/// (GitLab's and GitHub's test reports read only JUnit), naming the failing test.
#[test]
fn a_failing_ctest_test_of_a_plain_cmake_package_reaches_the_results_as_junit() {
    if !engine() {
        return;
    }
    let ws = Ws::new(DEBIAN);
    write_files(
        ws.path(),
        &[
            (
                "src/counted/package.xml",
                "<?xml version=\"1.0\"?>\n<package format=\"3\">\n  <name>counted</name>\n  <version>0.1.0</version>\n  <description>tested</description>\n  <maintainer email=\"dev@example.com\">dev</maintainer>\n  <license>MIT</license>\n  <export><build_type>cmake</build_type></export>\n</package>\n",
            ),
            (
                "src/counted/CMakeLists.txt",
                "cmake_minimum_required(VERSION 3.16)\nproject(counted NONE)\nenable_testing()\nadd_test(NAME counts_to_three COMMAND sh -c \"test 3 -eq 3\")\nadd_test(NAME counts_to_four COMMAND sh -c \"test 2 -eq 4\")\n",
            ),
        ],
    );
    let out = ws.run(&["test", "--results", "out"]);
    assert_eq!(out.status.code(), Some(1), "a failing test fails the run");
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        said.contains("counts_to_four"),
        "the failing test is named: {said}"
    );
    assert!(
        !said.contains("Traceback"),
        "colcon reads only what it can: {said}"
    );
    let junit = ws.path().join("out/build/counted/ctest-junit.xml");
    let report =
        std::fs::read_to_string(&junit).unwrap_or_else(|_| panic!("no {}", junit.display()));
    assert!(report.contains("counts_to_four"), "{report}");
    assert!(
        report.contains("<failure"),
        "the failure is in the report: {report}"
    );
}
