//! `amqps://`: the library reaches the broker through TLS (rustls).
//!
//! The shared broker listens in plain AMQP only, and a TLS listener added to
//! it would touch every other user of the machine's broker. So each test
//! starts its own TLS listener, with a certificate it makes, in front of the
//! broker's plain port: the library's side of the connection is real TLS,
//! verified against the CA `AMQP_TLS_CA_FILE` names.

mod support;

use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use amqp::{AmqpSettings, Broker, Envelope, EventPublisher, MessageMeta, Topology};
use support::*;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        ServerConfig,
        pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
    },
};

/// A TLS listener forwarding to the broker's plain port, counting the
/// handshakes that completed and failed.
struct TlsFront {
    port: u16,
    ca_pem: String,
    handshakes: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn tls_front() -> TlsFront {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()])
        .expect("a self-signed certificate");
    let chain = vec![CertificateDer::from(certified.cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let config = ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .expect("server config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let upstream = amqp_url()
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("127.0.0.1:5672")
        .to_owned();
    let (handshakes, refused) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let task = tokio::spawn({
        let (handshakes, refused) = (handshakes.clone(), refused.clone());
        async move {
            while let Ok((client, _)) = listener.accept().await {
                let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
                let (handshakes, refused) = (handshakes.clone(), refused.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(client).await else {
                        refused.fetch_add(1, Ordering::SeqCst);
                        return;
                    };
                    handshakes.fetch_add(1, Ordering::SeqCst);
                    if let Ok(mut broker) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut broker).await;
                    }
                });
            }
        }
    });
    TlsFront {
        port,
        ca_pem: certified.cert.pem(),
        handshakes,
        refused,
        task,
    }
}

/// `AMQP_URL` for the TLS listener: the broker's account, `amqps://`.
fn amqps_url(port: u16) -> String {
    let plain = amqp_url();
    let credentials = plain
        .strip_prefix("amqp://")
        .and_then(|rest| rest.split('@').next())
        .unwrap_or("guest:guest");
    format!("amqps://{credentials}@127.0.0.1:{port}/%2f")
}

#[tokio::test]
async fn amqps_with_a_trusted_ca_publishes_with_confirms() {
    init_tracing();
    let front = tls_front().await;
    let ca_file = TempFile::with(&front.ca_pem);
    let mut namespace = TestNamespace::new();
    let queue = namespace.name("tls.events");
    let topology = Topology::new(namespace.clone()).with_event_queue(&queue, &["tls.#"]);
    namespace.deletes(&topology);
    let url = amqps_url(front.port);
    let path = ca_file.0.to_string_lossy().into_owned();
    let mut settings = AmqpSettings::from_lookup(
        |name| match name {
            "AMQP_URL" => Some(url.clone()),
            "AMQP_NAMESPACE" => Some(namespace.to_string()),
            "AMQP_TLS_CA_FILE" => Some(path.clone()),
            _ => None,
        },
        "tls-test",
    )
    .expect("settings");
    settings.queue_expiry = Some(std::time::Duration::from_secs(120));

    let broker = Broker::start(settings, topology);
    broker
        .wait_ready(PATIENCE)
        .await
        .expect("connected over TLS");
    let event = Envelope::new(
        "tls.checked",
        serde_json::json!({"over": "tls"}),
        MessageMeta::default(),
    );
    EventPublisher::new(&broker)
        .publish(&event)
        .await
        .expect("published and confirmed over TLS");

    assert!(
        front.handshakes.load(Ordering::SeqCst) >= 1,
        "the connection was TLS"
    );
    broker.close().await;
}

#[tokio::test]
async fn amqps_refuses_a_broker_certificate_it_does_not_trust() {
    init_tracing();
    let front = tls_front().await;
    let namespace = TestNamespace::new();
    let topology = Topology::new(namespace.clone());
    let url = amqps_url(front.port);
    let settings = AmqpSettings::from_lookup(
        |name| match name {
            "AMQP_URL" => Some(url.clone()),
            "AMQP_NAMESPACE" => Some(namespace.to_string()),
            _ => None,
        },
        "tls-test",
    )
    .expect("settings");
    let broker = Broker::start(settings, topology);

    eventually(PATIENCE, "a refused TLS handshake", || async {
        (front.refused.load(Ordering::SeqCst) >= 1).then_some(())
    })
    .await;
    assert_eq!(
        front.handshakes.load(Ordering::SeqCst),
        0,
        "no handshake completed"
    );
    assert!(!broker.is_ready(), "not connected to an untrusted broker");
    broker.close().await;
}

#[test]
fn a_ca_file_that_cannot_be_read_is_named() {
    let error = AmqpSettings::from_lookup(
        |name| (name == "AMQP_TLS_CA_FILE").then(|| "/nonexistent/ca.pem".to_owned()),
        "tls-test",
    )
    .unwrap_err();
    assert!(error.contains("AMQP_TLS_CA_FILE"), "{error}");
}

/// A file of the test's own in the temporary directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn with(contents: &str) -> Self {
        let path = std::env::temp_dir().join(format!("amqps-ca-{}.pem", uuid::Uuid::new_v4()));
        std::fs::write(&path, contents).expect("temp file written");
        Self(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
