//! `robodev test`: what runs in a throw-away container of the environment's image — colcon
//! build, colcon test, colcon test-result — and where the results go. Pure: the command line and
//! the container's extra mount.

use super::container::{ContainerPlan, MountKind};

/// Where `--results DIR` is mounted inside.
pub const RESULTS_INSIDE: &str = "/robodev-results";
/// CTest's JUnit report, in each CMake package's build directory. Not named `*.xml` there:
/// `colcon test-result` reads every XML file of the build directory and cannot parse CTest's
/// JUnit (it prints a traceback); it is copied out as `ctest-junit.xml`.
pub const CTEST_JUNIT: &str = "ctest-junit.report";

/// Which packages a test run covers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selection {
    pub select: Vec<String>,
    pub up_to: Vec<String>,
}

/// The script the container runs (`sh -c`): build, test, then the verdict of
/// `colcon test-result --verbose`, which names each failing test; its exit code is the run's.
/// Results and logs are copied out when a results directory is mounted.
pub fn script(selection: &Selection, results: bool) -> String {
    let quote = |p: &String| {
        shlex::try_quote(p)
            .map(|q| q.into_owned())
            .unwrap_or_default()
    };
    let mut sel = String::new();
    if !selection.select.is_empty() {
        sel.push_str(" --packages-select");
        selection.select.iter().for_each(|p| {
            sel.push(' ');
            sel.push_str(&quote(p));
        });
    }
    if !selection.up_to.is_empty() {
        sel.push_str(" --packages-up-to");
        selection.up_to.iter().for_each(|p| {
            sel.push(' ');
            sel.push_str(&quote(p));
        });
    }
    // CTest writes JUnit itself (CMake >= 3.21): a plain CMake package's tests then reach CI's
    // test report like ament's and pytest's (colcon test-result reads CTest's own Test.xml).
    let mut s = format!(
        "colcon build --event-handlers console_cohesion-{sel} || exit $?\n\
         colcon test --event-handlers console_cohesion-{sel} --ctest-args --output-junit {CTEST_JUNIT}\n\
         colcon test-result --verbose\n\
         verdict=$?\n"
    );
    if results {
        s.push_str(&format!(
            "for d in build/*/; do\n\
             \x20 find \"$d\" -maxdepth 3 \\( -name '*.xml' -path '*test_results*' -o -name 'pytest.xml' \\) \
             -exec cp --parents {{}} {RESULTS_INSIDE}/ \\; 2>/dev/null\n\
             \x20 # CTest's JUnit, for packages without ament's own results (no test listed twice)\n\
             \x20 if [ -f \"${{d}}{CTEST_JUNIT}\" ] && [ -z \"$(find \"$d\" -maxdepth 3 -name '*.xml' -path '*test_results*' 2>/dev/null)\" ]; then\n\
             \x20   mkdir -p \"{RESULTS_INSIDE}/$d\" && cp \"${{d}}{CTEST_JUNIT}\" \"{RESULTS_INSIDE}/${{d}}ctest-junit.xml\"\n\
             \x20 fi\n\
             done\n\
             [ -d log/latest_test ] && cp -rL log/latest_test {RESULTS_INSIDE}/log\n"
        ));
    }
    s.push_str("exit $verdict\n");
    s
}

/// The environment's throw-away container with the results directory mounted.
pub fn container(base: &ContainerPlan, results_dir: Option<&str>) -> ContainerPlan {
    let mut plan = base.throwaway();
    if let Some(dir) = results_dir {
        plan.push_mount(MountKind::Bind, dir, RESULTS_INSIDE, false);
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_selection_is_quoted_and_the_verdict_is_test_results() {
        let s = script(
            &Selection {
                select: vec!["a; rm -rf /".into()],
                up_to: vec!["rover_bringup".into()],
            },
            true,
        );
        assert!(s.contains("--packages-select 'a; rm -rf /'"), "{s}");
        assert!(s.contains("--packages-up-to rover_bringup"), "{s}");
        assert!(
            s.contains("colcon test-result --verbose\nverdict=$?"),
            "{s}"
        );
        assert!(s.trim_end().ends_with("exit $verdict"));
        assert!(!script(&Selection::default(), false).contains(RESULTS_INSIDE));
        // `$d` next to a name would be another variable (`$dctest…`).
        assert!(s.contains(&format!("\"${{d}}{CTEST_JUNIT}\"")), "{s}");
        assert!(!s.contains("$dctest"), "{s}");
    }
}
