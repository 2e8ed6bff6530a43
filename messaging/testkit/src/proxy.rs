//! A TCP proxy in front of the broker or the database whose live
//! connections can be cut, to show what happens when the network drops every
//! socket at once; frozen, to show what happens when the server stops
//! answering on a socket that stays open; or refusing, to show a server that
//! turns every new connection away (an outage).

use std::sync::{Arc, Mutex};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{
        TcpListener, TcpStream,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
    sync::watch,
    task::AbortHandle,
};

/// The proxy; dropping it stops it and cuts every connection.
pub struct TcpProxy {
    port: u16,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    frozen: watch::Sender<bool>,
    refusing: watch::Sender<bool>,
    accept: AbortHandle,
}

impl TcpProxy {
    /// Listens on a port the OS picks and forwards to `upstream`.
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let connections: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (frozen, _) = watch::channel(false);
        let (refusing, _) = watch::channel(false);
        let (tracked, gate, closed) = (connections.clone(), frozen.clone(), refusing.clone());
        let accept = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                if *closed.borrow() {
                    // Reset, as a host with nothing listening does.
                    let _ = inbound.set_zero_linger();
                    drop(inbound);
                    continue;
                }
                let upstream = upstream.clone();
                let gate = gate.clone();
                let task = tokio::spawn(async move {
                    if let Ok(outbound) = TcpStream::connect(upstream).await {
                        let (in_read, in_write) = inbound.into_split();
                        let (out_read, out_write) = outbound.into_split();
                        tokio::select! {
                            _ = pump(in_read, out_write, gate.subscribe()) => {}
                            _ = pump(out_read, in_write, gate.subscribe()) => {}
                        }
                    }
                });
                tracked.lock().unwrap().push(task.abort_handle());
            }
        })
        .abort_handle();
        Self {
            port,
            connections,
            frozen,
            refusing,
            accept,
        }
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Drops every live connection; returns how many there were. New
    /// connections are still accepted.
    pub fn cut(&self) -> usize {
        let mut connections = self.connections.lock().unwrap();
        let live = connections.iter().filter(|c| !c.is_finished()).count();
        for connection in connections.drain(..) {
            connection.abort();
        }
        live
    }

    /// Stops carrying bytes either way on every connection, old and new,
    /// while keeping the sockets open: a broker that went silent.
    pub fn freeze(&self) {
        self.frozen.send_replace(true);
    }

    /// Carries bytes again, including what was held back while frozen.
    pub fn thaw(&self) {
        self.frozen.send_replace(false);
    }

    /// Cuts every live connection and closes each new one at once, until
    /// [`TcpProxy::accept_again`]: the server is down.
    pub fn refuse(&self) -> usize {
        self.refusing.send_replace(true);
        self.cut()
    }

    /// Takes new connections again.
    pub fn accept_again(&self) {
        self.refusing.send_replace(false);
    }
}

/// Copies `from` to `to`, holding bytes back while `frozen` says so.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut frozen: watch::Receiver<bool>) {
    let mut buffer = vec![0_u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        if frozen.wait_for(|frozen| !*frozen).await.is_err() {
            return;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}
