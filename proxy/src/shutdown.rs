//! Graceful shutdown: SIGINT and SIGTERM are forwarded to the server (SIGHUP, the terminal or
//! session going away, as SIGTERM); when the client closes its end (the server's stdin is closed
//! for it) the server gets a grace period, then SIGTERM, then SIGKILL. A second SIGTERM does not
//! put the SIGKILL off. Whatever happens, the proxy ends with the server's exit status and never hangs.

use std::time::Duration;

use tokio::process::Child;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::oneshot;

/// Sends `sig` to the server's process group (it leads one of its own, see
/// [`crate::stdio::start`]), so what it started (`npx` → `node`, a shell's children) goes with
/// it; to the server alone if there is no such group.
fn send(child: &Child, sig: i32) {
    if let Some(pid) = child.id() {
        // SAFETY: kill(2) with the pid (and process group) of a child we have not reaped.
        unsafe {
            if libc::kill(-(pid as libc::pid_t), sig) != 0 {
                libc::kill(pid as libc::pid_t, sig);
            }
        }
    }
}

/// SIGKILL for the server's process group, and the server itself.
fn kill(child: &mut Child) {
    send(child, libc::SIGKILL);
    let _ = child.start_kill();
}

/// The exit code the proxy should end with for this status: the child's code, or 128 + signal.
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

/// SIGINT, SIGTERM and SIGHUP, caught from the moment this is made (inside a tokio runtime) until it
/// is dropped. Made before the server is started: a signal that comes while the proxy is still
/// loading its rules then waits here and is forwarded once the server is supervised, instead
/// of ending the proxy and leaving the server behind.
pub struct Signals {
    interrupt: Signal,
    terminate: Signal,
    /// None when the proxy was started with SIGHUP ignored (`nohup`): the session then
    /// outlives its terminal, as the user asked.
    hangup: Option<Signal>,
}

/// Whether `sig` is ignored in this process (inherited from `nohup` or a shell's `trap ''`).
fn is_ignored(sig: libc::c_int) -> bool {
    // SAFETY: sigaction with a null new action only reads the current one into `old`.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}

impl Signals {
    pub fn listen() -> std::io::Result<Self> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: if is_ignored(libc::SIGHUP) {
                None
            } else {
                Some(signal(SignalKind::hangup())?)
            },
        })
    }
}

/// Stops a server the proxy will not run after all (its own start-up failed): SIGTERM, up to
/// `grace` for it to exit, then SIGKILL; reaped either way.
pub async fn stop(mut child: Child, grace: Duration) {
    send(&child, libc::SIGTERM);
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        kill(&mut child);
        let _ = child.wait().await;
    }
}

/// Waits for the child, forwarding signals and escalating after client EOF or a signal.
pub async fn supervise(
    child: &mut Child,
    signals: Signals,
    mut client_closed: oneshot::Receiver<()>,
    grace: Duration,
) -> std::io::Result<std::process::ExitStatus> {
    let Signals {
        interrupt: mut sigint,
        terminate: mut sigterm,
        hangup: mut sighup,
    } = signals;
    let mut closed = false;
    // Next escalation step and when it is due.
    let mut deadline: Option<tokio::time::Instant> = None;
    let mut next_signal = libc::SIGTERM;
    loop {
        let timer = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            status = child.wait() => return status,
            _ = sigint.recv() => {
                tracing::info!("SIGINT: forwarding to the server");
                send(child, libc::SIGINT);
                deadline.get_or_insert(tokio::time::Instant::now() + grace);
            }
            name = async {
                tokio::select! {
                    _ = sigterm.recv() => "SIGTERM",
                    Some(_) = async {
                        match sighup.as_mut() {
                            Some(s) => s.recv().await,
                            None => std::future::pending().await,
                        }
                    } => "SIGHUP",
                }
            } => {
                tracing::info!("{name}: sending SIGTERM to the server");
                send(child, libc::SIGTERM);
                // The kill is due one grace period after the first SIGTERM; more of them do
                // not put it off.
                if next_signal != libc::SIGKILL || deadline.is_none() {
                    deadline = Some(tokio::time::Instant::now() + grace);
                }
                next_signal = libc::SIGKILL;
            }
            _ = &mut client_closed, if !closed => {
                closed = true;
                tracing::debug!("client closed its end; the server has {grace:?} to exit");
                deadline.get_or_insert(tokio::time::Instant::now() + grace);
            }
            _ = timer => {
                if next_signal == libc::SIGTERM {
                    tracing::warn!("server still running after {grace:?}: sending SIGTERM");
                    send(child, libc::SIGTERM);
                    next_signal = libc::SIGKILL;
                    deadline = Some(tokio::time::Instant::now() + grace);
                } else {
                    tracing::warn!("server still running: killing it");
                    kill(child);
                    deadline = None;
                }
            }
        }
    }
}
