//! No profile value can add a Dockerfile instruction or a shell command: for every string field,
//! any value is either rejected with a profile error, or it appears in the Dockerfile only as a
//! single quoted word, and the Dockerfile keeps the shape it has with a harmless value.

use crate::support::*;
use proptest::prelude::*;

/// Each field as a profile template; `VALUE` is replaced by a YAML double-quoted string.
const FIELDS: &[&str] = &[
    "version: 1\nextends: humble\nname: VALUE\n",
    "version: 1\nros: {distro: VALUE}\n",
    "version: 1\nros: {distro: humble, variant: VALUE}\n",
    "version: 1\nextends: humble\nbase_image: VALUE\n",
    "version: 1\nextends: humble\nplatform: VALUE\n",
    "version: 1\nextends: humble\napt: [VALUE]\n",
    "version: 1\nextends: humble\npip: [VALUE]\n",
    "version: 1\nextends: humble\nenv: {SAFE: VALUE}\n",
    "version: 1\nextends: humble\nenv: {VALUE: x}\n",
    "version: 1\nextends: humble\nmounts: [{source: VALUE, target: /data}]\n",
    "version: 1\nextends: humble\nmounts: [{source: /data, target: VALUE}]\n",
    "version: 1\nextends: humble\nworkspace: {path: VALUE}\n",
    "version: 1\nextends: humble\nworkspace: {mount: VALUE}\n",
    "version: 1\nextends: humble\nuser: VALUE\n",
    "version: 1\nextends: humble\nshell: VALUE\n",
    "version: 1\nextends: humble\nnetwork: VALUE\n",
    "version: 1\nextends: humble\nipc: VALUE\n",
    "version: 1\nextends: humble\nshm_size: VALUE\n",
    "version: 1\nextends: humble\ngpu: VALUE\n",
    "version: 1\nextends: humble\ndevices: [{path: VALUE, optional: true}]\n",
    "version: 1\nextends: humble\ndevices: [{path: /dev/ttyUSB0, as: VALUE, optional: true}]\n",
    "version: 1\nextends: humble\nhotplug: [VALUE]\n",
    "version: 1\nextends: humble\nsecurity: {cap_drop: [VALUE]}\n",
    "version: 1\nextends: humble\napt_repositories: [VALUE]\n",
    "version: 1\nextends: humble\nsecrets: [{id: VALUE, env: TEAM_AUTH, for: apt}]\n",
    "version: 1\nextends: humble\nsecrets: [{id: team, env: VALUE, for: pip}]\npip: [numpy]\n",
];

const INSTRUCTIONS: &[&str] = &[
    "FROM",
    "SHELL",
    "ARG",
    "RUN",
    "COPY",
    "ENV",
    "ENTRYPOINT",
    "CMD",
];

fn yaml_quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// Strings built from the pieces injections are made of.
fn hostile() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "\n",
        "\r",
        "\\",
        "\\\n",
        "'",
        "\"",
        "$(id)",
        "`id`",
        ";",
        "&&",
        "|",
        "#",
        " ",
        "RUN touch /pwned",
        "ENV X=1",
        "${HOME}",
        "$HOME",
        ",",
        ":",
        "=",
        "a",
        "git",
        "numpy",
        "/dev/ttyUSB0",
        "humble",
        "\t",
        ">=1",
        "[x]",
        "*",
    ]);
    prop::collection::vec(pieces, 1..6).prop_map(|v| v.concat())
}

fn check(template: &str, value: &str) {
    let baseline_profile =
        profile_from(&template.replace("VALUE", &yaml_quoted(safe_value(template)))).unwrap();
    let baseline = instructions(&plan(&baseline_profile).image.dockerfile);
    let yaml = template.replace("VALUE", &yaml_quoted(value));
    let profile = match profile_from(&yaml) {
        Ok(p) => p,
        Err(e) => {
            assert_eq!(e.exit_code(), 2, "{yaml}: {e}");
            return;
        }
    };
    let Ok(p) = robodev::plan::make(robodev::plan::PlanInputs {
        profile: &profile,
        host: &laptop(),
        engine: &Default::default(),
        workspace: &workspace(),
        templates: None,
        pins: Default::default(),
    }) else {
        return;
    };
    let got = instructions(&p.image.dockerfile);
    assert_eq!(
        got.len(),
        baseline.len(),
        "instruction count changed for {value:?}:\n{}",
        p.image.dockerfile
    );
    for (g, b) in got.iter().zip(&baseline) {
        let keyword = |s: &str| s.split_whitespace().next().unwrap_or("").to_string();
        assert_eq!(keyword(g), keyword(b), "{value:?}");
        assert!(INSTRUCTIONS.contains(&keyword(g).as_str()), "{g}");
    }
    // The Dockerfile with cache mounts (BuildKit, buildah) holds the value just as safely.
    let mounts = |p: &robodev::plan::Plan| {
        instructions(
            p.image
                .cache_mount_dockerfile
                .as_ref()
                .unwrap_or(&p.image.dockerfile),
        )
    };
    let (got_m, base_m) = (mounts(&p), mounts(&plan(&baseline_profile)));
    assert_eq!(got_m.len(), base_m.len(), "{value:?}: {got_m:?}");
    for (g, b) in got_m.iter().zip(&base_m) {
        let keyword = |s: &str| s.split_whitespace().next().unwrap_or("").to_string();
        assert_eq!(keyword(g), keyword(b), "{value:?}");
        if let (Some(g), Some(b)) = (g.strip_prefix("RUN "), b.strip_prefix("RUN ")) {
            let words = shlex::split(g).unwrap_or_else(|| panic!("{value:?}: {g}"));
            assert_eq!(
                words.len(),
                shlex::split(b).unwrap().len(),
                "{value:?}: {g}"
            );
        }
    }
    // Shell-level: every RUN line still splits into the same words around the value.
    for (g, b) in got
        .iter()
        .zip(&baseline)
        .filter(|(g, _)| g.starts_with("RUN "))
    {
        let words = shlex::split(&g[4..])
            .unwrap_or_else(|| panic!("unbalanced quoting for {value:?}: {g}"));
        let base_words = shlex::split(&b[4..]).unwrap();
        assert_eq!(
            words.len(),
            base_words.len(),
            "{value:?} changed the words of {g}"
        );
    }
    // ENV values round-trip exactly.
    if template.contains("env: {SAFE: VALUE}") {
        let line = got.iter().find(|l| l.starts_with("ENV SAFE=")).unwrap();
        let quoted = &line["ENV SAFE=".len()..];
        let inner = &quoted[1..quoted.len() - 1];
        let mut unescaped = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            unescaped.push(if c == '\\' { chars.next().unwrap() } else { c });
        }
        assert_eq!(unescaped, value);
    }
    // Devcontainer mount strings keep their key=value structure.
    let files =
        robodev::plan::devcontainer::for_profile(&p.profile, None, Default::default()).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(files.devcontainer_json.split_once('\n').unwrap().1).unwrap();
    for m in json["mounts"].as_array().unwrap() {
        for part in m.as_str().unwrap().split(',') {
            let key = part.split('=').next().unwrap();
            assert!(
                ["source", "target", "type", "readonly"].contains(&key),
                "{value:?} broke mount {m}"
            );
        }
    }
}

fn safe_value(template: &str) -> &'static str {
    match template {
        t if t.contains("apt_repositories") => "deb http://apt.example.com/ stable main",
        t if t.contains("id: VALUE") => "team",
        t if t.contains("secrets") => "TEAM_AUTH",
        t if t.contains("distro:") && !t.contains("variant") => "humble",
        t if t.contains("variant") => "ros-base",
        t if t.contains("base_image") => "ubuntu:22.04",
        t if t.contains("platform") => "linux/amd64",
        t if t.contains("pip") => "numpy",
        t if t.contains("{VALUE: x}") => "SAFE",
        t if t.contains("devices") => "/dev/ttyUSB1",
        t if t.contains("mounts") || t.contains("mount:") || t.contains("path: VALUE") => "/data",
        t if t.contains("user:") => "host",
        t if t.contains("shell") => "bash",
        t if t.contains("network") => "host",
        t if t.contains("ipc") => "host",
        t if t.contains("shm_size") => "1g",
        t if t.contains("gpu") => "none",
        t if t.contains("hotplug") => "serial",
        t if t.contains("cap_drop") => "MKNOD",
        _ => "git",
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]
    #[test]
    fn no_field_can_inject(field in 0..FIELDS.len(), value in hostile()) {
        check(FIELDS[field], &value);
    }
}

#[test]
fn known_payloads_are_contained() {
    for template in FIELDS {
        for payload in [
            "git\nRUN touch /pwned",
            "x \\\nRUN id",
            "$(touch /pwned)",
            "a'b\"c",
            "`id`",
            "/data,readonly",
        ] {
            check(template, payload);
        }
    }
}
