//! The stdio transport: spawns the server (no shell; env and cwd inherited) and runs the three
//! pumps — client → pipeline → server, server → pipeline → client, and the server's stderr,
//! relayed line by line with secrets redacted. Each direction is one task, so each keeps its
//! order; a task writes what it forwards itself (no hop through another task), under a lock
//! per destination, and queues its replies to its sender for that destination's reply writer,
//! so it never waits on the other direction.

use std::ffi::OsString;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot, Mutex};
use tokio::task::JoinHandle;

use crate::frame::{Frame, FrameReader};
use crate::message;
use crate::outline::Outline;
use crate::pipeline::{Outcome, Pipeline};
use crate::shutdown;
use crate::stall::{self, Counted, Progress};
use crate::stderr;

pub struct Options {
    pub max_bytes: usize,
    pub grace: Duration,
    /// Whether the client has gone altogether, while bytes it wrote may still be unread
    /// ([`stall::client_gone`] for the proxy's own stdin and stdout).
    pub client_gone: Option<fn() -> bool>,
}

/// The client's EOF, told once: by its reader at the end of its input, or by the watch for a
/// client gone while the server reads nothing ([`run`]).
type Closed = Arc<std::sync::Mutex<Option<oneshot::Sender<()>>>>;

fn tell_closed(closed: &Closed) {
    let tx = closed.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(tx) = tx {
        let _ = tx.send(());
    }
}

/// One destination, written by whichever task has a message for it; `None` once closed.
type Out<W> = Arc<Mutex<Option<W>>>;

/// Writes one message and its newline. False once the destination is gone.
async fn send<W: AsyncWrite + Unpin>(out: &Out<W>, mut msg: Vec<u8>) -> bool {
    msg.push(b'\n');
    let mut guard = out.lock().await;
    let Some(w) = guard.as_mut() else {
        return false;
    };
    w.write_all(&msg).await.is_ok() && w.flush().await.is_ok()
}

/// Closes a destination (the server's stdin after the client's EOF).
async fn close<W: AsyncWrite + Unpin>(out: &Out<W>) {
    if let Some(mut w) = out.lock().await.take() {
        let _ = w.shutdown().await;
    }
}

/// A message over the byte cap, by its outline: a request gets an error back, an answer
/// becomes an error for whoever asked (the client's answer to a server's request goes to the
/// server), a notification or anything unreadable is dropped; all audited.
fn oversize(
    pipeline: &Pipeline,
    len: usize,
    outline: &Outline,
    max: usize,
    from_client: bool,
) -> Outcome {
    let id = outline.id.clone();
    pipeline.audit().record(
        "message_too_large",
        vec![
            (
                "direction",
                serde_json::json!(if from_client { "request" } else { "response" }),
            ),
            // The id as its JSON text decodes (`"\u0067hp_…"` is a string the trail's
            // scrubbing must see as it reads).
            ("message_id", crate::pipeline::audit_id(id.as_deref())),
            (
                "metadata",
                serde_json::json!({"bytes": len, "max_bytes": max}),
            ),
        ],
    );
    tracing::warn!(
        "message of {len} bytes is over the {max}-byte cap (scanner.content_max_length)"
    );
    let Some(id) = id else {
        return Outcome::default();
    };
    let code = if from_client {
        message::REQUEST_CONTENT
    } else {
        message::RESPONSE_CONTENT
    };
    let data = serde_json::json!({"reason": "too_large", "bytes": len, "max_bytes": max});
    let err = message::error_response(&id, code, "Message too large for content security", data);
    match (outline.has_method, outline.has_answer) {
        // A request: answered to its sender.
        (true, _) => Outcome {
            forward: None,
            reply: Some(err),
        },
        // An answer: the error goes on to the side that asked (and its request is done).
        (false, true) => {
            if !from_client {
                pipeline.forget_request(&id);
            }
            Outcome {
                forward: Some(err),
                reply: None,
            }
        }
        (false, false) => Outcome::default(),
    }
}

/// One direction: frames from `input` through the pipeline, forwards `onward`, replies `back`.
/// `progress` is told when a forward is under way.
async fn pump<R, A>(
    p: &Pipeline,
    input: R,
    max: usize,
    from_client: bool,
    onward: &Out<A>,
    back: &mpsc::UnboundedSender<Vec<u8>>,
    progress: Option<&Progress>,
) where
    R: AsyncRead + Unpin,
    A: AsyncWrite + Unpin,
{
    let mut frames = FrameReader::new(BufReader::with_capacity(64 * 1024, input), max);
    while let Ok(Some(frame)) = frames.next().await {
        let out = match frame {
            Frame::Line(line) if from_client => p.from_client(&line),
            Frame::Line(line) => p.from_server(&line),
            Frame::Oversize { len, outline, .. } => oversize(p, len, &outline, max, from_client),
        };
        if let Some(f) = out.forward {
            if let Some(p) = progress {
                p.start();
            }
            send(onward, f).await;
            if let Some(p) = progress {
                p.end();
            }
        }
        if let Some(r) = out.reply {
            // A reply goes back through the other direction's destination, which that
            // direction may hold while its peer is not reading (a big message to a server
            // that is itself blocked writing to us): waiting for it here could stop this
            // direction's reading for good. Replies queue, in order, for a writer of their
            // own ([`replies`]).
            let _ = back.send(r);
        }
    }
}

/// The writer of one destination's replies: a queue that never makes its sender wait, drained
/// in order into the destination, and the writer's task, which ends once every sender is gone
/// and the queue is written.
fn replies<W>(out: Out<W>) -> (mpsc::UnboundedSender<Vec<u8>>, JoinHandle<()>)
where
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let writer = tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            if !send(&out, msg).await {
                break;
            }
        }
    });
    (tx, writer)
}

/// A started server and the signals caught for it.
pub struct Server {
    pub child: Child,
    pub signals: shutdown::Signals,
}

/// Environment variables that hold the proxy's own keys: the server must not inherit them, or
/// it could sign pins for a changed tool list (a rug pull the proxy would then accept) and
/// forge the audit chain's HMACs.
pub const WITHHELD_FROM_SERVER: &[&str] = &["PARAPET_SIGNING_KEY", "PARAPET_FINGERPRINT_KEY"];

/// Starts the server: `command` run directly (no shell), env (less
/// [`WITHHELD_FROM_SERVER`]) and cwd inherited, its three standard streams piped, killed if
/// dropped before it is run. SIGINT, SIGTERM and SIGHUP are caught
/// first, to be forwarded to it ([`shutdown::Signals`]). Call it inside a tokio runtime. It may
/// be started before the pipeline is ready (its start-up then overlaps the proxy's): what it
/// writes waits in its pipes.
pub fn start(command: &[OsString]) -> std::io::Result<Server> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| std::io::Error::other("no server command given"))?;
    let signals = shutdown::Signals::listen()?;
    let mut command = Command::new(program);
    for var in WITHHELD_FROM_SERVER {
        command.env_remove(var);
    }
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A process group of its own: signals and the final kill reach what it starts too.
        .process_group(0)
        .kill_on_drop(true);
    // Out of the proxy's group, the server would outlive a proxy killed with its group (a
    // client's SIGKILL to it, a terminal hang-up): on Linux it gets SIGTERM when the thread
    // that started it ends (the main thread in `wrap`).
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe, and the closure touches nothing of the parent.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    let child = command.spawn().map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot start {}: {e}", program.to_string_lossy()),
        )
    })?;
    Ok(Server { child, signals })
}

/// Runs the proxy between the client and the `server` (from [`start`]) until the server
/// exits; returns its exit code.
pub async fn run<R, W>(
    pipeline: Arc<Pipeline>,
    server: Server,
    opts: Options,
    client_in: R,
    client_out: W,
) -> std::io::Result<i32>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let Server { mut child, signals } = server;
    let child_in = child.stdin.take().expect("piped");
    let child_out = child.stdout.take().expect("piped");
    let child_err = child.stderr.take().expect("piped");

    let to_client: Out<W> = Arc::new(Mutex::new(Some(client_out)));
    let progress = Arc::new(Progress::default());
    let to_server: Out<Counted<tokio::process::ChildStdin>> =
        Arc::new(Mutex::new(Some(Counted::new(child_in, progress.clone()))));
    let (closed_tx, closed_rx) = oneshot::channel();
    let closed: Closed = Arc::new(std::sync::Mutex::new(Some(closed_tx)));
    let max = opts.max_bytes;

    let (replies_to_client, mut client_replies) = replies(to_client.clone());
    let (replies_to_server, server_replies) = replies(to_server.clone());
    let client_reader = {
        let (p, onward, back) = (pipeline.clone(), to_server.clone(), replies_to_client);
        let (closed, progress) = (closed.clone(), progress.clone());
        tokio::spawn(async move {
            pump(&p, client_in, max, true, &onward, &back, Some(&progress)).await;
            close(&onward).await;
            tell_closed(&closed);
        })
    };
    // A client gone altogether while the server takes nothing in ([`stall`]): its EOF counts
    // as come.
    let watch = opts.client_gone.map(|gone| {
        let grace = opts.grace;
        tokio::spawn(async move {
            stall::watch(progress, gone, grace).await;
            tracing::warn!(
                "the client has gone and the server has taken nothing in for {grace:?}: ending the session"
            );
            tell_closed(&closed);
        })
    });
    let mut server_reader = {
        let (p, onward, back) = (pipeline.clone(), to_client.clone(), replies_to_server);
        // Answers to the server's refused requests go back until its stdin is closed.
        tokio::spawn(async move { pump(&p, child_out, max, false, &onward, &back, None).await })
    };
    let mut stderr_pump = {
        let p = pipeline.clone();
        tokio::spawn(async move { stderr::relay(p, child_err, tokio::io::stderr()).await })
    };

    let status = shutdown::supervise(&mut child, signals, closed_rx, opts.grace).await?;
    // One grace period for everything left, then the proxy ends whatever holds it.
    let deadline = tokio::time::Instant::now() + opts.grace;
    // What the server wrote before it exited is still relayed; but a process it started may
    // hold its stdout and stderr open for as long as it lives (`npx`, shell wrappers,
    // daemons), and a client may have stopped reading.
    let drained = async {
        let _ = (&mut server_reader).await;
        let _ = (&mut stderr_pump).await;
    };
    if tokio::time::timeout_at(deadline, drained).await.is_err() {
        tracing::warn!(
            "the server exited but its output is not drained (a process it started holds it open, or the client is not reading): not waiting for it"
        );
        server_reader.abort();
        stderr_pump.abort();
    }
    if let Some(w) = watch {
        w.abort();
    }
    client_reader.abort();
    let _ = client_reader.await;
    server_replies.abort();
    // The refusals queued for the client are written (its reader, their only sender, is gone,
    // so the writer ends once they are), unless the client is not reading.
    if tokio::time::timeout_at(deadline, &mut client_replies)
        .await
        .is_err()
    {
        tracing::warn!("the client is not reading: replies still queued for it are dropped");
        client_replies.abort();
        let _ = client_replies.await;
    }
    let _ = tokio::time::timeout_at(deadline, close(&to_client)).await;
    Ok(shutdown::exit_code(status))
}
