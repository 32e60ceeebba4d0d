//! Building through the engine's BuildKit (`/build?version=2` with a session): the same context
//! and options as the classic builder, the Dockerfile with cache mounts, and BuildKit's status
//! stream (vertexes, their logs) turned into the `BuildWatcher`'s steps and lines.
//!
//! bollard starts the session itself (it serves registry credentials only) and decodes the
//! status stream (`moby.buildkit.trace`) into `StatusResponse`s; robodev keeps per vertex its
//! step, whether it is done, and the last lines of its log for a failure's report.

use super::build::{
    BuildOptions, BuildWatcher, TAIL_LINES, build_failure, next_or_tick, pack_context, shown,
    ticker,
};
use super::build_session::{self, SessionFiles};
use super::connection::BollardEngine;
use super::errors::api_error;
use crate::error::{Error, Result};
use crate::plan::image::ImagePlan;
use bollard::moby::buildkit::v1::StatusResponse;
use bollard::models::BuildInfoAux;
use bollard::query_parameters::{BuildImageOptions, BuilderVersion};
use std::collections::{HashMap, VecDeque};

impl BollardEngine {
    /// Build `plan` with BuildKit, sending `dockerfile` (the plan's Dockerfile with cache
    /// mounts, or without).
    pub(super) async fn build_with_buildkit(
        &self,
        plan: &ImagePlan,
        dockerfile: &str,
        opts: BuildOptions,
        watcher: &mut dyn BuildWatcher,
    ) -> Result<()> {
        let context = pack_context(plan, dockerfile)
            .map_err(|e| Error::io("cannot pack the build context", e))?;
        // The context and the secrets go through robodev's own session; bollard's (credentials
        // only) is given another id so that the two do not collide.
        let session = build_session::start(
            &self.endpoint,
            SessionFiles {
                context,
                secrets: opts.secrets.0.iter().cloned().collect(),
                ssh_agent: opts.ssh_agent.clone(),
                registry_auth: opts.registry_auth.0.iter().cloned().collect(),
            },
        )
        .await?;
        let ours = session.id.clone();
        let docker = self
            .docker
            .clone()
            .with_request_modifier(move |mut request| {
                if request.uri().path().ends_with("/session")
                    && let Ok(other) = format!("{ours}-bollard").parse()
                {
                    request
                        .headers_mut()
                        .insert("X-Docker-Expose-Session-Uuid", other);
                }
                request
            });
        // With a team registry: the image carries BuildKit's inline cache (not part of the
        // hash: no step reads the argument), and the team's last pushed build cache is a
        // source of cached layers.
        let mut build_args: std::collections::HashMap<String, String> =
            plan.build_args.clone().into_iter().collect();
        let registry_cache = plan.registry_cache.clone().filter(|_| !opts.offline);
        if plan.registry_cache.is_some() {
            build_args.insert("BUILDKIT_INLINE_CACHE".into(), "1".into());
        }
        let options = BuildImageOptions {
            t: Some(plan.tag.clone()),
            nocache: opts.no_cache,
            pull: opts.pull.then(|| "1".to_string()),
            cachefrom: registry_cache.map(|c| vec![c]),
            buildargs: Some(build_args),
            labels: Some(plan.labels.clone().into_iter().collect()),
            networkmode: Some(plan.network.clone()),
            platform: plan.platform.clone().unwrap_or_default(),
            version: BuilderVersion::BuilderBuildKit,
            session: Some(session.id.clone()),
            remote: Some(session.context_url.clone()),
            ..Default::default()
        };
        let body = bollard::body_full(bytes::Bytes::new());
        let mut stream = docker.build_image(options, None, Some(body));

        let mut progress = Progress::default();
        let mut ticks = ticker();
        loop {
            let Some(item) = next_or_tick(&mut stream, &mut ticks, watcher).await else {
                break;
            };
            let info = match item {
                Ok(info) => info,
                Err(bollard::errors::Error::DockerStreamError { error }) => {
                    return Err(progress.failure(plan, error));
                }
                // The stream can break off after the image was exported and named (seen on
                // Docker 20.10 under load: "bytes remaining on stream" once the build was
                // done): the build is done when the engine has the image under its name.
                Err(e) if progress.exported && self.image_exists(&plan.tag).await? => {
                    watcher.line(&format!("(the engine's build stream ended early: {e})"));
                    break;
                }
                Err(e) => return Err(api_error(&format!("build {}", plan.tag), e)),
            };
            if let Some(detail) = info.error_detail {
                let message = detail.message.unwrap_or_else(|| "unknown error".into());
                return Err(progress.failure(plan, message));
            }
            if let Some(BuildInfoAux::BuildKit(status)) = info.aux {
                progress.take(&status, watcher);
            }
            // Engines also write plain lines ("Successfully tagged …") beside the trace.
            if let Some(text) = info.stream {
                for line in text.lines().filter(|l| !l.trim().is_empty()) {
                    progress.exported |= line.starts_with("Successfully tagged ");
                    watcher.line(line);
                }
            }
        }
        Ok(())
    }
}

/// What robodev keeps of one BuildKit vertex (a Dockerfile step, or BuildKit's own work such
/// as loading the context).
#[derive(Debug, Default)]
struct Vertex {
    /// The step: "3/9" (or "build 3/12" in a stage) and its instruction; `None` for BuildKit's
    /// own vertexes ("[internal] load build definition from Dockerfile").
    step: Option<(String, String)>,
    name: String,
    announced: bool,
    done: bool,
    error: String,
    tail: VecDeque<String>,
    /// A log line not yet ended by a newline.
    partial: String,
}

/// The build so far, from the status stream.
#[derive(Debug, Default)]
struct Progress {
    vertexes: HashMap<String, Vertex>,
    /// The last step that began: a failure without a vertex error is reported there.
    last_step: Option<String>,
    /// The image was exported and named: the build is done.
    exported: bool,
}

impl Progress {
    fn take(&mut self, status: &StatusResponse, watcher: &mut dyn BuildWatcher) {
        for v in &status.vertexes {
            if v.name.starts_with("exporting to image")
                && v.completed.is_some()
                && v.error.is_empty()
            {
                self.exported = true;
            }
            let vertex = self.vertexes.entry(v.digest.clone()).or_default();
            if vertex.name.is_empty() {
                vertex.name = v.name.clone();
                vertex.step = vertex_step(&v.name).map(|(c, i)| (c.to_string(), shown(i)));
            }
            if !v.error.is_empty() {
                vertex.error = v.error.clone();
            }
            let seconds = match (&v.started, &v.completed) {
                (Some(s), Some(c)) => {
                    (c.seconds - s.seconds) as f64 + f64::from(c.nanos - s.nanos) / 1e9
                }
                _ => 0.0,
            };
            let label = match &vertex.step {
                Some((count, instruction)) => (count.clone(), instruction.clone()),
                None => (String::new(), vertex.name.clone()),
            };
            if v.completed.is_some() && !vertex.done {
                vertex.done = true;
                if !vertex.announced && v.cached {
                    // A cached step is one line: it began and ended at once.
                    vertex.announced = true;
                    match &vertex.step {
                        Some(_) => watcher.done(&label.0, &label.1, true, seconds),
                        None => watcher.line(&format!("{} CACHED", label.1)),
                    }
                    continue;
                }
                if !vertex.announced {
                    announce(vertex, watcher);
                }
                if vertex.error.is_empty() {
                    match &vertex.step {
                        Some(_) => watcher.done(&label.0, &label.1, v.cached, seconds),
                        None => watcher.line(&format!("{} DONE {seconds:.1}s", label.1)),
                    }
                }
            } else if v.started.is_some() && !vertex.announced {
                announce(vertex, watcher);
                if vertex.step.is_some() {
                    self.last_step = Some(v.digest.clone());
                }
            }
        }
        for log in &status.logs {
            let vertex = self.vertexes.entry(log.vertex.clone()).or_default();
            vertex.partial.push_str(&String::from_utf8_lossy(&log.msg));
            while let Some(end) = vertex.partial.find('\n') {
                let line: String = vertex.partial.drain(..=end).collect();
                let line = line.trim_end_matches(['\n', '\r']);
                if line.trim().is_empty() {
                    continue;
                }
                watcher.line(line);
                if vertex.tail.len() == TAIL_LINES {
                    vertex.tail.pop_front();
                }
                vertex.tail.push_back(line.to_string());
            }
        }
    }

    /// The error of a failed build: the step whose vertex failed (else the last one begun),
    /// with the last lines of its log.
    fn failure(mut self, plan: &ImagePlan, message: String) -> Error {
        let failed = self
            .vertexes
            .iter()
            .find(|(_, v)| !v.error.is_empty() && v.step.is_some())
            .or_else(|| self.vertexes.iter().find(|(_, v)| !v.error.is_empty()))
            .map(|(digest, _)| digest.clone())
            .or(self.last_step.take());
        let Some(vertex) = failed.and_then(|d| self.vertexes.remove(&d)) else {
            return build_failure(plan, "(before the first step)", message, VecDeque::new());
        };
        let mut tail = vertex.tail;
        if !vertex.partial.trim().is_empty() {
            tail.push_back(vertex.partial.trim_end().to_string());
        }
        let step = match vertex.step {
            Some((count, instruction)) => format!("{count} : {instruction}"),
            // BuildKit asks the base's registry before the first step: a base it cannot get
            // is said as the classic builder's failed `FROM` is.
            None => match vertex.name.strip_prefix("[internal] load metadata for ") {
                Some(base) => {
                    let base = base
                        .strip_prefix("docker.io/library/")
                        .or_else(|| base.strip_prefix("docker.io/"))
                        .unwrap_or(base);
                    format!("(base) : FROM {base}")
                }
                None => format!("(BuildKit: {})", vertex.name),
            },
        };
        build_failure(plan, &step, message, tail)
    }
}

fn announce(vertex: &mut Vertex, watcher: &mut dyn BuildWatcher) {
    vertex.announced = true;
    match &vertex.step {
        Some((count, instruction)) => watcher.step(count, instruction),
        None => watcher.line(&vertex.name),
    }
}

/// A vertex that is a Dockerfile step: "[3/9] RUN apt-get update" → ("3/9", "RUN apt-get
/// update"); in a named stage "[build 3/12] RUN colcon build" → ("build 3/12", …). BuildKit's
/// own vertexes ("[internal] load metadata for …", "[auth] …") are not steps.
fn vertex_step(name: &str) -> Option<(&str, &str)> {
    let (inside, instruction) = name.strip_prefix('[')?.split_once("] ")?;
    let count = inside.rsplit(' ').next()?;
    let (n, of) = count.split_once('/')?;
    let is_number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    // Docker 20.10 names the unnamed stage "stage-0"; the count alone says as much.
    let inside = match inside.split_once(' ') {
        Some((stage, _)) if stage.starts_with("stage-") => count,
        _ => inside,
    };
    (is_number(n) && is_number(of)).then_some((inside, instruction.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::build::tests::plan;
    use bollard::moby::buildkit::v1::{Vertex as PbVertex, VertexLog};

    #[derive(Default)]
    struct Seen(Vec<String>);

    impl BuildWatcher for Seen {
        fn start(&mut self, _: &str) {}
        fn step(&mut self, count: &str, instruction: &str) {
            self.0.push(format!("step {count} {instruction}"));
        }
        fn done(&mut self, count: &str, _: &str, cached: bool, _: f64) {
            self.0.push(format!("done {count} cached={cached}"));
        }
        fn line(&mut self, line: &str) {
            self.0.push(format!("line {line}"));
        }
        fn finish(&mut self) {}
    }

    fn vertex(digest: &str, name: &str, started: Option<i64>, completed: Option<i64>) -> PbVertex {
        let mut v = PbVertex {
            digest: digest.into(),
            name: name.into(),
            ..Default::default()
        };
        // The timestamps' type is prost's, named only through the message.
        for (field, at) in [(&mut v.started, started), (&mut v.completed, completed)] {
            if let Some(seconds) = at {
                let mut t = field.take().unwrap_or_default();
                t.seconds = seconds;
                *field = Some(t);
            }
        }
        v
    }

    #[test]
    fn steps_of_buildkit_are_the_numbered_vertexes() {
        assert_eq!(
            vertex_step("[3/9] RUN apt-get update"),
            Some(("3/9", "RUN apt-get update"))
        );
        assert_eq!(
            vertex_step("[build 3/12] RUN colcon build"),
            Some(("build 3/12", "RUN colcon build"))
        );
        assert_eq!(
            vertex_step("[internal] load metadata for docker.io/library/debian:bookworm"),
            None
        );
        assert_eq!(vertex_step("[auth] sharing credentials"), None);
        assert_eq!(
            vertex_step("[stage-0 2/8] RUN make"),
            Some(("2/8", "RUN make"))
        );
        assert_eq!(vertex_step("exporting to image"), None);
    }

    #[test]
    fn a_step_is_shown_without_its_cache_mounts() {
        assert_eq!(
            shown(
                "RUN --mount=type=cache,id=a,target=/x --mount=type=cache,id=b,target=/y   apt-get update  && apt-get install -y  tree"
            ),
            "RUN apt-get update && apt-get install -y tree"
        );
        assert_eq!(shown("COPY a /b"), "COPY a /b");
    }

    #[test]
    fn a_step_is_announced_once_and_said_done_or_cached() {
        let mut seen = Seen::default();
        let mut p = Progress::default();
        let status = |vertexes| StatusResponse {
            vertexes,
            ..Default::default()
        };
        p.take(
            &status(vec![PbVertex {
                cached: true,
                ..vertex(
                    "a",
                    "[1/3] FROM docker.io/library/debian:bookworm",
                    Some(1),
                    Some(1),
                )
            }]),
            &mut seen,
        );
        p.take(
            &status(vec![vertex("b", "[2/3] RUN make", Some(2), None)]),
            &mut seen,
        );
        p.take(
            &status(vec![vertex("b", "[2/3] RUN make", Some(2), None)]),
            &mut seen,
        );
        p.take(
            &status(vec![vertex("b", "[2/3] RUN make", Some(2), Some(5))]),
            &mut seen,
        );
        p.take(
            &status(vec![vertex("c", "exporting to image", Some(5), Some(6))]),
            &mut seen,
        );
        assert_eq!(
            seen.0,
            [
                "done 1/3 cached=true",
                "step 2/3 RUN make",
                "done 2/3 cached=false",
                "line exporting to image",
                "line exporting to image DONE 1.0s",
            ]
        );
    }

    #[test]
    fn a_failed_step_names_its_instruction_and_keeps_its_log() {
        let mut seen = Seen::default();
        let mut p = Progress::default();
        p.take(
            &StatusResponse {
                vertexes: vec![vertex("b", "[2/3] RUN apt-get install nope", Some(2), None)],
                logs: vec![VertexLog {
                    vertex: "b".into(),
                    msg: b"Reading package lists...\nE: Unable to locate package nope\n".to_vec(),
                    ..Default::default()
                }],
                ..Default::default()
            },
            &mut seen,
        );
        p.take(
            &StatusResponse {
                vertexes: vec![PbVertex {
                    error: "exit code: 100".into(),
                    ..vertex("b", "[2/3] RUN apt-get install nope", Some(2), Some(3))
                }],
                ..Default::default()
            },
            &mut seen,
        );
        assert!(
            !seen.0.iter().any(|l| l.starts_with("done")),
            "{:?}",
            seen.0
        );
        match p.failure(
            &plan(),
            "did not complete successfully: exit code: 100".into(),
        ) {
            Error::Build { step, log_tail, .. } => {
                assert_eq!(step, "2/3 : RUN apt-get install nope");
                assert_eq!(
                    log_tail,
                    [
                        "Reading package lists...",
                        "E: Unable to locate package nope"
                    ]
                );
            }
            other => panic!("not a build error: {other:?}"),
        }
    }
}
