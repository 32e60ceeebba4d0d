//! Who the container user is, decided from the profile and the host user.

use crate::facts::HostUser;
use crate::profile::{Profile, UserMode, grammar};
use serde::Serialize;

/// The user of a dev container: whoever opens the folder (the Dev Containers tools substitute
/// it). A real host user's name can never look like this.
pub const PORTABLE_USER: &str = "${localEnv:USER}";

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContainerUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
}

impl ContainerUser {
    pub fn for_profile(profile: &Profile, host: &HostUser) -> ContainerUser {
        if profile.user == UserMode::Root || host.uid == 0 {
            return ContainerUser {
                name: "root".into(),
                uid: 0,
                gid: 0,
                home: "/root".into(),
            };
        }
        // A host name that is not a portable user name (rare: capitals, a leading digit) is
        // replaced; the uid and gid are what matter for file ownership.
        let name = if grammar::user_name(&host.name).is_ok() || host.name == PORTABLE_USER {
            host.name.clone()
        } else {
            "dev".into()
        };
        ContainerUser {
            home: format!("/home/{name}"),
            name,
            uid: host.uid,
            gid: host.gid,
        }
    }

    pub fn is_root(&self) -> bool {
        self.uid == 0
    }

    /// `user` for the engine: numeric, so it works whatever names the image has.
    pub fn spec(&self) -> String {
        format!("{}:{}", self.uid, self.gid)
    }

    /// The private runtime directory the image makes for this user (sockets go there).
    pub fn runtime_dir(&self) -> String {
        format!("/run/user/{}", self.uid)
    }
}
