//! Connecting the local terminal to a container process: raw mode with a TTY (restored on every
//! exit path), resize following, or plain pipes without one.

use crate::error::{Error, Result};
use bollard::container::LogOutput;
use futures_util::{Stream, StreamExt};
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use tokio::io::{AsyncWrite, AsyncWriteExt};

pub struct Attached {
    pub output: Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>,
    pub input: Pin<Box<dyn AsyncWrite + Send>>,
}

/// Puts the terminal in raw mode and restores it when dropped: on return, on error, and on
/// unwinding. Ctrl-C in raw mode is a byte for the container, not a signal for us.
struct RawMode;

impl RawMode {
    fn enable() -> Result<RawMode> {
        crossterm::terminal::enable_raw_mode()
            .map_err(|e| Error::io("cannot switch the terminal to raw mode", e))?;
        Ok(RawMode)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

/// Read our stdin on a plain thread: a blocking read cannot be cancelled, and a runtime
/// blocking-pool thread would keep the process waiting for Enter at exit.
fn stdin_channel() -> tokio::sync::mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    std::thread::spawn(move || {
        use std::io::Read;
        let mut stdin = std::io::stdin();
        let mut buf = [0u8; 8192];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.blocking_send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

/// How pumping ended: the process's output closed, or robodev got a signal (its number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PumpEnd {
    Finished,
    Signal(i32),
}

fn signal(kind: tokio::signal::unix::SignalKind) -> Option<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(kind).ok()
}

async fn next(s: &mut Option<tokio::signal::unix::Signal>) {
    match s.as_mut() {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// Connect our terminal to the process until its output ends or a signal arrives. SIGINT,
/// SIGTERM and SIGHUP are caught (a cancelled CI job, `timeout`, a closed ssh session) so the
/// caller can pass them on to the process inside instead of leaving it running. On a TTY,
/// Ctrl-C is a byte for the process (raw mode), not a signal.
pub async fn pump<R, F>(attached: Attached, tty: bool, stdin: bool, resize: R) -> Result<PumpEnd>
where
    R: Fn(u16, u16) -> F,
    F: Future<Output = ()>,
{
    let Attached {
        mut output,
        mut input,
    } = attached;
    let _raw = if tty { Some(RawMode::enable()?) } else { None };
    if tty && let Ok((w, h)) = crossterm::terminal::size() {
        resize(h, w).await;
    }
    let mut winch = if tty {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change()).ok()
    } else {
        None
    };
    use tokio::signal::unix::SignalKind;
    let mut hangup = signal(SignalKind::hangup());
    let mut terminate = signal(SignalKind::terminate());
    let mut interrupt = signal(SignalKind::interrupt());
    let mut stdin_rx = stdin.then(stdin_channel);
    let mut stdout = std::io::stdout();
    let mut stderr = std::io::stderr();

    loop {
        tokio::select! {
            item = output.next() => {
                match item {
                    None => break,
                    Some(Err(e)) => return Err(super::errors::api_error("read the command's output", e)),
                    Some(Ok(LogOutput::StdErr { message })) => {
                        let _ = stderr.write_all(&message);
                        let _ = stderr.flush();
                    }
                    Some(Ok(other)) => {
                        let _ = stdout.write_all(&other.into_bytes());
                        let _ = stdout.flush();
                    }
                }
            }
            chunk = async { match stdin_rx.as_mut() { Some(rx) => rx.recv().await, None => std::future::pending().await } } => {
                match chunk {
                    Some(bytes) => {
                        if input.write_all(&bytes).await.is_err() { stdin_rx = None; }
                    }
                    None => {
                        // Our stdin ended: pass the end on, so `cat` and friends finish.
                        let _ = input.shutdown().await;
                        stdin_rx = None;
                    }
                }
            }
            _ = async { match winch.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {
                if let Ok((w, h)) = crossterm::terminal::size() {
                    resize(h, w).await;
                }
            }
            _ = next(&mut hangup) => return Ok(PumpEnd::Signal(1)),
            _ = next(&mut interrupt) => return Ok(PumpEnd::Signal(2)),
            _ = next(&mut terminate) => return Ok(PumpEnd::Signal(15)),
        }
    }
    Ok(PumpEnd::Finished)
}
