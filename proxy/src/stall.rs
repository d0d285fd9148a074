//! A client gone while the server reads nothing. The client's EOF reaches the proxy only
//! after everything the client wrote before it; when the server has stopped reading its
//! input, the proxy never gets that far and the session would never end. So the proxy watches
//! for the client having gone altogether — its end of the proxy's stdin closed and nobody left
//! to read the proxy's stdout — while a forward to the server has made no progress for a grace
//! period, and then counts the client's EOF as come (the server gets its grace period, then
//! SIGTERM, then SIGKILL). A client that only closed its writing end and still reads the
//! answers is never cut off, however long the server takes.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::AsyncWrite;

/// Whether the client that started the proxy has gone: the proxy's stdin has lost its writer
/// (bytes may still be unread) and its stdout its reader. poll(2) says so for pipes and
/// sockets; a file or `/dev/null` never goes, so a session writing to one is never ended here.
pub fn client_gone() -> bool {
    #[cfg(target_os = "linux")]
    let (read_events, hung_up) = (
        libc::POLLIN | libc::POLLRDHUP,
        libc::POLLHUP | libc::POLLRDHUP,
    );
    #[cfg(not(target_os = "linux"))]
    let (read_events, hung_up) = (libc::POLLIN, libc::POLLHUP);
    let mut fds = [
        libc::pollfd {
            fd: 0,
            events: read_events,
            revents: 0,
        },
        libc::pollfd {
            fd: 1,
            events: libc::POLLOUT,
            revents: 0,
        },
    ];
    // SAFETY: two valid pollfds, and no wait.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, 0) };
    n > 0 && fds[0].revents & hung_up != 0 && fds[1].revents & (libc::POLLERR | libc::POLLHUP) != 0
}

/// What the watch reads of the forwards to the server: whether one is under way, and how many
/// bytes the server has taken in all.
#[derive(Default)]
pub struct Progress {
    sending: AtomicBool,
    written: AtomicU64,
}

impl Progress {
    pub fn start(&self) {
        self.sending.store(true, Ordering::Relaxed);
    }

    pub fn end(&self) {
        self.sending.store(false, Ordering::Relaxed);
    }
}

/// A writer that counts what its destination takes into a [`Progress`].
pub struct Counted<W> {
    inner: W,
    progress: Arc<Progress>,
}

impl<W> Counted<W> {
    pub fn new(inner: W, progress: Arc<Progress>) -> Self {
        Counted { inner, progress }
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Counted<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            self.progress
                .written
                .fetch_add(*n as u64, Ordering::Relaxed);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Returns once `gone()` says the client has gone while a forward has made no progress for
/// `limit`; checks four times a second.
pub async fn watch(progress: Arc<Progress>, gone: fn() -> bool, limit: Duration) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut last = (0, tokio::time::Instant::now());
    loop {
        tick.tick().await;
        let now = tokio::time::Instant::now();
        let written = progress.written.load(Ordering::Relaxed);
        if !progress.sending.load(Ordering::Relaxed) || written != last.0 {
            last = (written, now);
            continue;
        }
        if now - last.1 >= limit && gone() {
            return;
        }
    }
}
