//! Files in and out of a container through the Engine API's archive endpoint (the remote
//! workspace copy), and a quiet command run to tidy up after them.

use super::connection::BollardEngine;
use super::errors::{MEDIUM, api_error, limited};
use crate::error::{Error, Result};
use futures_util::StreamExt;

impl BollardEngine {
    /// Extract the tar `archive` at `dest` in the container (created, running or stopped).
    pub async fn upload(&self, container: &str, dest: &str, archive: Vec<u8>) -> Result<()> {
        let action = format!("copy files into {container}:{dest}");
        let options = bollard::query_parameters::UploadToContainerOptions {
            path: dest.to_string(),
            ..Default::default()
        };
        self.docker
            .upload_to_container(container, Some(options), bollard::body_full(archive.into()))
            .await
            .map_err(|e| api_error(&action, e))
    }

    /// The tar of `path` in the container (its last component is the archive's top entry).
    pub async fn download(&self, container: &str, path: &str) -> Result<Vec<u8>> {
        let action = format!("copy {container}:{path}");
        let options = bollard::query_parameters::DownloadFromContainerOptions {
            path: path.to_string(),
        };
        let mut stream = self
            .docker
            .download_from_container(container, Some(options));
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk.map_err(|e| api_error(&action, e))?);
        }
        Ok(out)
    }

    /// Run `cmd` as `user` in the running container, output discarded; its exit code.
    pub async fn exec_quiet(&self, container: &str, user: &str, cmd: Vec<String>) -> Result<i64> {
        let action = format!("run {} in {container}", cmd.first().map_or("", |c| c));
        let config = bollard::exec::CreateExecOptions {
            cmd: Some(cmd),
            user: Some(user.to_string()),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..Default::default()
        };
        let exec = limited(MEDIUM, &action, self.docker.create_exec(container, config))
            .await?
            .map_err(|e| api_error(&action, e))?;
        match self
            .docker
            .start_exec(&exec.id, None)
            .await
            .map_err(|e| api_error(&action, e))?
        {
            bollard::exec::StartExecResults::Attached { mut output, .. } => {
                while output.next().await.is_some() {}
            }
            bollard::exec::StartExecResults::Detached => {}
        }
        let inspect = limited(MEDIUM, &action, self.docker.inspect_exec(&exec.id))
            .await?
            .map_err(|e| api_error(&action, e))?;
        inspect.exit_code.ok_or_else(|| Error::Engine {
            action: format!("cannot {action}"),
            message: "the engine gave no exit code".into(),
            help: None,
        })
    }
}
