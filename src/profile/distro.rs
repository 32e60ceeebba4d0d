//! One table with every distro's facts: ROS version, OS codename, base image per variant,
//! end-of-life date. Adding a distro means adding a row here and a profile in `profiles/`.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    RosCore,
    RosBase,
    Perception,
    Simulation,
    Desktop,
    DesktopFull,
}

impl Variant {
    pub const ALL: [Variant; 6] = [
        Variant::RosCore,
        Variant::RosBase,
        Variant::Perception,
        Variant::Simulation,
        Variant::Desktop,
        Variant::DesktopFull,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Variant::RosCore => "ros-core",
            Variant::RosBase => "ros-base",
            Variant::Perception => "perception",
            Variant::Simulation => "simulation",
            Variant::Desktop => "desktop",
            Variant::DesktopFull => "desktop-full",
        }
    }

    pub fn parse(s: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == s)
    }
}

/// Where a distro's images come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Images {
    /// The official ROS images: `ros:<distro>-<variant>` for the small variants and
    /// `osrf/ros:<distro>-<variant>` for the desktop ones (Docker Hub's library only has the former).
    OfficialRos,
    /// One base image for every variant; the variant adds apt packages instead.
    Plain {
        image: &'static str,
        variant_packages: &'static [(Variant, &'static str)],
    },
}

#[derive(Debug, PartialEq, Eq)]
pub struct Distro {
    pub name: &'static str,
    /// 1 or 2.
    pub ros_version: u8,
    pub os: &'static str,
    pub codename: &'static str,
    /// ISO date; `None` for rolling releases.
    pub end_of_life: Option<&'static str>,
    pub variants: &'static [Variant],
    pub images: Images,
    /// Where `setup.bash` lives; `None` when ROS is installed into /usr by the OS.
    pub setup_dir: Option<&'static str>,
    /// The apt package with the `rosdep` command.
    pub rosdep_package: &'static str,
    /// The distro name rosdep knows (`--rosdistro`); `None` when rosdep has no such distro.
    pub rosdistro: Option<&'static str>,
}

use Variant::*;

const ROS2_VARIANTS: &[Variant] = &[
    RosCore,
    RosBase,
    Perception,
    Simulation,
    Desktop,
    DesktopFull,
];

pub static DISTROS: &[Distro] = &[
    Distro {
        name: "humble",
        ros_version: 2,
        os: "ubuntu",
        codename: "jammy",
        end_of_life: Some("2027-05-31"),
        variants: ROS2_VARIANTS,
        images: Images::OfficialRos,
        rosdep_package: "python3-rosdep",
        rosdistro: Some("humble"),
        setup_dir: Some("/opt/ros/humble"),
    },
    Distro {
        name: "jazzy",
        ros_version: 2,
        os: "ubuntu",
        codename: "noble",
        end_of_life: Some("2029-05-31"),
        variants: ROS2_VARIANTS,
        images: Images::OfficialRos,
        rosdep_package: "python3-rosdep",
        rosdistro: Some("jazzy"),
        setup_dir: Some("/opt/ros/jazzy"),
    },
    Distro {
        name: "kilted",
        ros_version: 2,
        os: "ubuntu",
        codename: "noble",
        end_of_life: Some("2026-11-30"),
        variants: ROS2_VARIANTS,
        images: Images::OfficialRos,
        rosdep_package: "python3-rosdep",
        rosdistro: Some("kilted"),
        setup_dir: Some("/opt/ros/kilted"),
    },
    Distro {
        name: "rolling",
        ros_version: 2,
        os: "ubuntu",
        codename: "resolute",
        end_of_life: None,
        variants: ROS2_VARIANTS,
        images: Images::OfficialRos,
        rosdep_package: "python3-rosdep",
        rosdistro: Some("rolling"),
        setup_dir: Some("/opt/ros/rolling"),
    },
    Distro {
        name: "noetic",
        ros_version: 1,
        os: "ubuntu",
        codename: "focal",
        end_of_life: Some("2025-05-31"),
        variants: &[RosCore, RosBase, Perception, Desktop, DesktopFull],
        images: Images::OfficialRos,
        rosdep_package: "python3-rosdep",
        rosdistro: Some("noetic"),
        setup_dir: Some("/opt/ros/noetic"),
    },
    Distro {
        name: "debian",
        ros_version: 1,
        os: "debian",
        codename: "bookworm",
        end_of_life: None,
        variants: &[RosCore, RosBase, Desktop],
        images: Images::Plain {
            image: "debian:bookworm",
            variant_packages: &[
                (RosCore, "ros-core-dev"),
                (RosBase, "ros-base-dev"),
                (Desktop, "ros-desktop-dev"),
            ],
        },
        rosdep_package: "python3-rosdep2",
        rosdistro: None,
        setup_dir: None,
    },
];

impl Distro {
    pub fn find(name: &str) -> Option<&'static Distro> {
        DISTROS.iter().find(|d| d.name == name)
    }

    pub fn names() -> Vec<&'static str> {
        DISTROS.iter().map(|d| d.name).collect()
    }

    pub fn base_image(&self, variant: Variant) -> String {
        match self.images {
            Images::OfficialRos => match variant {
                RosCore | RosBase | Perception => format!("ros:{}-{}", self.name, variant.name()),
                Simulation | Desktop | DesktopFull => {
                    format!("osrf/ros:{}-{}", self.name, variant.name())
                }
            },
            Images::Plain { image, .. } => image.to_string(),
        }
    }

    /// Packages the variant adds on top of the base image (only for `Images::Plain`).
    pub fn variant_packages(&self, variant: Variant) -> Vec<String> {
        match self.images {
            Images::OfficialRos => Vec::new(),
            Images::Plain {
                variant_packages, ..
            } => variant_packages
                .iter()
                .filter(|(v, _)| *v == variant)
                .map(|(_, p)| p.to_string())
                .collect(),
        }
    }

    /// Apt packages named like `ros-<distro>-*` belong in the ROS layer.
    pub fn is_ros_package(&self, package: &str) -> bool {
        package.starts_with(&format!("ros-{}-", self.name))
    }

    /// `Some(date)` when `today` (ISO) is past the end of life.
    pub fn is_end_of_life(&self, today: &str) -> bool {
        self.end_of_life.is_some_and(|eol| today > eol)
    }

    /// A warning for distros past, or within 60 days of, their end of life.
    pub fn life_warning(&self, today: &str) -> Option<String> {
        let eol = self.end_of_life?;
        if today > eol {
            Some(format!(
                "ROS {} reached end of life on {eol}: it gets no more updates or security fixes; \
                 consider moving to a supported distro ({})",
                self.name,
                supported_names(today).join(", ")
            ))
        } else if days_between(today, eol).is_some_and(|d| d <= 60) {
            Some(format!(
                "ROS {} reaches end of life on {eol}; plan the move to a supported distro",
                self.name
            ))
        } else {
            None
        }
    }
}

fn supported_names(today: &str) -> Vec<&'static str> {
    DISTROS
        .iter()
        .filter(|d| d.ros_version == 2 && !d.is_end_of_life(today))
        .map(|d| d.name)
        .collect()
}

/// Days from `a` to `b`, both `YYYY-MM-DD`.
fn days_between(a: &str, b: &str) -> Option<i64> {
    Some(day_number(b)? - day_number(a)?)
}

/// Days since 1970-01-01 for a `YYYY-MM-DD` date (proleptic Gregorian).
pub fn day_number(date: &str) -> Option<i64> {
    let mut parts = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146097 + doe - 719468)
}

/// Today's date as `YYYY-MM-DD` (UTC), from the system clock.
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    date_from_day_number(secs.div_euclid(86_400))
}

fn date_from_day_number(z: i64) -> String {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for date in ["1970-01-01", "2000-02-29", "2026-11-23", "2027-05-31"] {
            assert_eq!(date_from_day_number(day_number(date).unwrap()), date);
        }
        assert_eq!(days_between("2026-11-23", "2026-11-30"), Some(7));
    }

    #[test]
    fn eol_warnings() {
        let noetic = Distro::find("noetic").unwrap();
        assert!(
            noetic
                .life_warning("2026-11-23")
                .unwrap()
                .contains("reached end of life")
        );
        let kilted = Distro::find("kilted").unwrap();
        assert!(
            kilted
                .life_warning("2026-11-23")
                .unwrap()
                .contains("reaches end of life")
        );
        assert!(
            Distro::find("jazzy")
                .unwrap()
                .life_warning("2026-11-23")
                .is_none()
        );
    }

    #[test]
    fn images() {
        let humble = Distro::find("humble").unwrap();
        assert_eq!(humble.base_image(Variant::RosBase), "ros:humble-ros-base");
        assert_eq!(
            humble.base_image(Variant::Desktop),
            "osrf/ros:humble-desktop"
        );
        let debian = Distro::find("debian").unwrap();
        assert_eq!(debian.base_image(Variant::RosBase), "debian:bookworm");
        assert_eq!(
            debian.variant_packages(Variant::RosBase),
            vec!["ros-base-dev"]
        );
    }
}
