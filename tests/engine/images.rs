//! robodev's images on a real engine: listed with the containers using them, each layer with
//! the profile section that made it, another name, and removal refused while a container
//! uses the image.

use crate::support::*;

fn json(ws: &Ws, args: &[&str]) -> serde_json::Value {
    let out = ws.run(args);
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn images_history_tag_and_rm_of_a_profiles_image() {
    if !engine() {
        return;
    }
    let stamp = format!("{:?}", std::time::SystemTime::now());
    let mut ws = Ws::new(&format!(
        "version: 1\nname: imgs\nextends: debian\nenv: {{IMAGES_TEST: \"{stamp}\"}}\n"
    ));
    ws.ok(&["up", "-d"]);
    let container = ws.container();

    let listed = json(&ws, &["images", "--json"]);
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["containers"][0] == container.as_str())
        .unwrap_or_else(|| panic!("no row for {container}: {listed:#}"));
    assert_eq!(row["profile"], "imgs");
    let tag = row["tag"].as_str().unwrap().to_string();
    assert!(tag.starts_with("robodev/imgs:"), "{tag}");
    assert!(row["size"].as_i64().unwrap() > 0);

    let layers = json(&ws, &["image", "history", "--json"]);
    let sections: Vec<&str> = layers
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["section"].as_str().unwrap())
        .collect();
    assert_eq!(sections.first(), Some(&"base image"), "{sections:?}");
    for wanted in [
        "tooling",
        "ROS packages",
        "system packages",
        "user",
        "environment",
    ] {
        assert!(sections.contains(&wanted), "{wanted} in {sections:?}");
    }
    // In the order the Dockerfile makes them.
    let first = |s: &str| sections.iter().position(|x| *x == s).unwrap();
    assert!(first("tooling") < first("ROS packages"));
    assert!(first("ROS packages") < first("system packages"));
    assert!(first("system packages") < first("user"));
    let env_layer = layers
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["section"] == "environment")
        .unwrap();
    assert!(
        env_layer["created_by"]
            .as_str()
            .unwrap()
            .contains("IMAGES_TEST")
    );

    // Used by the environment: not removed.
    let out = ws.run(&["image", "rm"]);
    assert_fails(
        &out,
        2,
        &["is used by container", &container, "robodev down"],
    );

    let other = format!("robot.local/imgs:{}", std::process::id());
    ws.ok(&["image", "tag", &other]);
    let inspected = json(&ws, &["image", "inspect", "--json"]);
    assert_eq!(inspected["tag"], tag.as_str());
    assert!(
        inspected["names"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == other.as_str()),
        "{inspected:#}"
    );

    ws.ok(&["down"]);
    let out = ws.run(&["image", "rm"]);
    assert!(out.status.success());
    assert!(stderr(&out).contains(&format!("the image stays under {other}")));
    assert!(!docker(&["image", "inspect", &tag]).status.success());
    assert!(docker(&["rmi", &other]).status.success());
    let out = ws.run(&["image", "inspect"]);
    assert_fails(&out, 2, &["has no image on this engine", "robodev build"]);
}
