//! The `SSL` block against a TLS server on loopback that requires a client certificate signed
//! by a test CA: SSL_GET with and without the client certificate, with an encrypted key, with a
//! server certificate from another CA, and the files that cannot be loaded.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use rustls::pki_types::PrivateKeyDer;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use common::*;
use vigil_check::probes::{probe, ProbeContext, TlsClient};
use vigil_check::verdict::{Failure, ProbeResult, Success};
use vigil_check::{Error, Plan, Status};

/// `printf hello | md5sum`
const HELLO_MD5: &str = "5d41402abc4b2a76b9719d911017c592";
const OK_HELLO: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello";

/// A CA and what it signed.
struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).expect("CA certificate");
        Ca { cert, key }
    }

    /// A certificate for `name` signed by this CA, and its key.
    fn issue(&self, name: &str, usage: ExtendedKeyUsagePurpose) -> (rcgen::Certificate, KeyPair) {
        let key = KeyPair::generate().expect("key");
        (self.issue_for(&key, name, usage), key)
    }

    /// A certificate for `name` and `key` signed by this CA.
    fn issue_for(&self, key: &KeyPair, name: &str, usage: ExtendedKeyUsagePurpose) -> rcgen::Certificate {
        let mut params = CertificateParams::new(vec![name.to_string()]).expect("params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![usage];
        params.signed_by(key, &self.cert, &self.key).expect("certificate")
    }
}

/// A fresh directory for PEM files, removed when dropped (also when a test fails).
struct Dir(tempfile::TempDir);

impl Dir {
    fn new(name: &str) -> Dir {
        Dir(tempfile::Builder::new().prefix(&format!("vigil-ssl-{name}-")).tempdir().expect("dir"))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write");
        path.to_string_lossy().into_owned()
    }
}

/// A TLS server that requires a client certificate signed by `clients`, presenting a
/// certificate signed by `issuer`. Returns its address and how many handshakes succeeded.
async fn mtls_server(clients: &Ca, issuer: &Ca) -> (SocketAddr, Arc<Mutex<usize>>) {
    let (cert, key) = issuer.issue("localhost", ExtendedKeyUsagePurpose::ServerAuth);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(clients.cert.der().clone()).expect("client CA");
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
        .build()
        .expect("client verifier");
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![cert.der().clone()], PrivateKeyDer::Pkcs8(key.serialize_der().into()))
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind(LOOPBACK).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = Arc::new(Mutex::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let (acceptor, count) = (acceptor.clone(), Arc::clone(&count));
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(s).await {
                    *count.lock().expect("lock") += 1;
                    serve_http(tls, Reply::Bytes(OK_HELLO.to_vec()), Arc::new(Mutex::new(Vec::new()))).await;
                }
            });
        }
    });
    (addr, accepted)
}

/// A configuration with `ssl` as its SSL block and one SSL_GET towards `addr`.
fn config(ssl: &str, addr: SocketAddr, rs_extra: &str) -> String {
    format!(
        "{ssl}virtual_server 127.0.0.2 443 {{\n protocol TCP\n delay_loop 0.2\n warmup 0\n real_server {} {} {{\n {rs_extra}\n SSL_GET {{\n connect_timeout 2\n url {{\n path /\n digest {HELLO_MD5}\n }}\n }}\n }}\n}}\n",
        addr.ip(),
        addr.port()
    )
}

fn ssl_block(ca: &str, certificate: Option<&str>, key: Option<&str>, password: Option<&str>) -> String {
    let mut text = format!("SSL {{\n ca {ca}\n");
    for (kw, value) in [("certificate", certificate), ("key", key), ("password", password)] {
        if let Some(v) = value {
            text.push_str(&format!(" {kw} {v}\n"));
        }
    }
    text.push_str("}\n");
    text
}

/// One SSL_GET attempt with the plan's SSL block loaded as the runner loads it.
async fn attempt(plan: &Plan) -> ProbeResult {
    let ctx = ProbeContext::new("tester".into(), 7);
    let ctx = match &plan.ssl {
        None => ctx,
        Some(ssl) => ctx.with_tls(Some(TlsClient::load(ssl).expect("the SSL block loads"))),
    };
    probe(&plan.checks[0], &ctx).await
}

/// The test PKI on disk: CA, client certificate and key.
struct Files {
    _dir: Dir,
    ca: String,
    cert: String,
    key: String,
    client_key: KeyPair,
}

fn files(name: &str, ca: &Ca) -> Files {
    let dir = Dir::new(name);
    let (client_cert, client_key) = ca.issue("checker", ExtendedKeyUsagePurpose::ClientAuth);
    Files {
        ca: dir.write("ca.pem", &ca.cert.pem()),
        cert: dir.write("client.pem", &client_cert.pem()),
        key: dir.write("client.key", &client_key.serialize_pem()),
        client_key,
        _dir: dir,
    }
}

#[tokio::test]
async fn client_certificate_passes_and_its_absence_fails() {
    let ca = Ca::new("Vigil test CA");
    let f = files("mtls", &ca);
    let (addr, accepted) = mtls_server(&ca, &ca).await;

    let with_cert = plan_of(&config(&ssl_block(&f.ca, Some(&f.cert), Some(&f.key), None), addr, ""));
    assert_eq!(attempt(&with_cert).await, Ok(Success::PLAIN));
    assert_eq!(*accepted.lock().expect("lock"), 1);

    // No SSL block: keepalived's context has no client certificate; the server refuses it.
    let without = plan_of(&config("", addr, ""));
    assert_eq!(without.ssl, None);
    let r = attempt(&without).await;
    assert!(matches!(r, Err(Failure::Tls(_))), "{r:?}");

    // A certificate without its key: OpenSSL sends no certificate then, and neither does Vigil.
    let no_key = plan_of(&config(&ssl_block(&f.ca, Some(&f.cert), None, None), addr, ""));
    let r = attempt(&no_key).await;
    assert!(matches!(r, Err(Failure::Tls(_))), "{r:?}");

    // A client certificate from a CA the server does not trust.
    let other = Ca::new("Other CA");
    let g = files("mtls-other", &other);
    let untrusted = plan_of(&config(&ssl_block(&g.ca, Some(&g.cert), Some(&g.key), None), addr, ""));
    let r = attempt(&untrusted).await;
    assert!(matches!(r, Err(Failure::Tls(_))), "{r:?}");
    assert_eq!(*accepted.lock().expect("lock"), 1, "only the first handshake passed");
}

/// keepalived loads `ca` into its context's trust store but never has OpenSSL verify the
/// server (no SSL_VERIFY_PEER, no SSL_get_verify_result in check_ssl.c / check_http.c): a
/// server whose certificate another CA signed still passes, and Vigil keeps that.
#[tokio::test]
async fn server_certificate_from_another_ca_is_not_refused_as_in_keepalived() {
    let ca = Ca::new("Vigil test CA");
    let stranger = Ca::new("Stranger CA");
    let f = files("server-other-ca", &ca);
    let (addr, accepted) = mtls_server(&ca, &stranger).await;
    let plan = plan_of(&config(&ssl_block(&f.ca, Some(&f.cert), Some(&f.key), None), addr, ""));
    assert_eq!(attempt(&plan).await, Ok(Success::PLAIN));
    assert_eq!(*accepted.lock().expect("lock"), 1);
}

/// The client key as `openssl pkcs8 -topk8 -v2 aes-256-cbc` writes it (PBES2, PBKDF2 with
/// HMAC-SHA256, AES-256-CBC), made with fixed salt and IV.
fn encrypted_pem(key: &KeyPair, password: &str) -> String {
    use pkcs8::der::EncodePem;
    let der = key.serialize_der();
    let info = pkcs8::PrivateKeyInfo::try_from(der.as_slice()).expect("PKCS#8");
    let params = pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(2048, b"vigil-salt", &[7u8; 16])
        .expect("PBES2 parameters");
    let encrypted = info.encrypt_with_params(params, password).expect("encrypt");
    let encrypted = pkcs8::EncryptedPrivateKeyInfo::try_from(encrypted.as_bytes()).expect("encrypted key");
    encrypted.to_pem(pkcs8::LineEnding::LF).expect("PEM")
}

#[tokio::test]
async fn encrypted_key_with_its_password() {
    let ca = Ca::new("Vigil test CA");
    let f = files("encrypted", &ca);
    let (addr, accepted) = mtls_server(&ca, &ca).await;
    let dir = Dir::new("encrypted-key");
    let key = dir.write("client.key", &encrypted_pem(&f.client_key, "s3cret"));

    let plan = plan_of(&config(&ssl_block(&f.ca, Some(&f.cert), Some(&key), Some("s3cret")), addr, ""));
    assert_eq!(attempt(&plan).await, Ok(Success::PLAIN));
    assert_eq!(*accepted.lock().expect("lock"), 1);

    for password in [Some("wrong"), None] {
        let plan = plan_of(&config(&ssl_block(&f.ca, Some(&f.cert), Some(&key), password), addr, ""));
        let ssl = plan.ssl.expect("SSL block");
        match TlsClient::load(&ssl) {
            Err(Error::SslFile { what: "key", path, .. }) => assert_eq!(path, key),
            other => panic!("password {password:?}: {other:?}"),
        }
    }
}

/// Keys encrypted by the openssl tool itself, when it is installed: PKCS#8 (`openssl pkcs8
/// -topk8`, AES and 3DES) and OpenSSL's legacy PEM encryption (`-traditional`, AES and 3DES),
/// for an EC key and an RSA key; each passes with its password and fails to load without.
#[tokio::test]
async fn keys_encrypted_by_openssl() {
    let dir = Dir::new("openssl-keys");
    let openssl = |args: &[&str]| std::process::Command::new("openssl").args(args).output();
    let rsa = dir.path("rsa.key");
    match openssl(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path(&rsa)]) {
        Ok(out) => assert!(out.status.success(), "openssl genpkey: {}", String::from_utf8_lossy(&out.stderr)),
        Err(e) => {
            println!("SKIP keys_encrypted_by_openssl: no openssl tool ({e})");
            return;
        }
    }
    let rsa_key = KeyPair::from_pem(&std::fs::read_to_string(&rsa).expect("read")).expect("RSA key");
    let ec_key = KeyPair::generate().expect("key");
    let ca = Ca::new("Vigil test CA");
    let ca_file = dir.write("ca.pem", &ca.cert.pem());
    let (addr, accepted) = mtls_server(&ca, &ca).await;
    let forms: [(&str, &[&str], &str); 5] = [
        ("pkcs8-aes", &["pkcs8", "-topk8", "-v2", "aes-256-cbc"], "ENCRYPTED PRIVATE KEY"),
        ("pkcs8-3des-sha1", &["pkcs8", "-topk8", "-v2", "des3", "-v2prf", "hmacWithSHA1"], "ENCRYPTED PRIVATE KEY"),
        ("legacy-aes128", &["pkey", "-traditional", "-aes128"], "DEK-Info: AES-128-CBC"),
        ("legacy-aes256", &["pkey", "-traditional", "-aes256"], "DEK-Info: AES-256-CBC"),
        ("legacy-3des", &["pkey", "-traditional", "-des3"], "DEK-Info: DES-EDE3-CBC"),
    ];
    let mut passed = 0;
    for (name, key) in [("ec", &ec_key), ("rsa", &rsa_key)] {
        let cert =
            dir.write(&format!("{name}.pem"), &ca.issue_for(key, "checker", ExtendedKeyUsagePurpose::ClientAuth).pem());
        let plain = dir.write(&format!("{name}-plain.key"), &key.serialize_pem());
        for (form, args, marker) in forms {
            let encrypted = dir.path(&format!("{name}-{form}.key"));
            let mut args = args.to_vec();
            args.extend(["-in", &plain, "-out", path(&encrypted), "-passout", "pass:pw"]);
            let out = openssl(&args).expect("openssl ran before");
            assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            let text = std::fs::read_to_string(&encrypted).expect("read");
            assert!(text.contains(marker), "{name} {form}: {text}");
            let ssl = ssl_block(&ca_file, Some(&cert), Some(path(&encrypted)), Some("pw"));
            assert_eq!(attempt(&plan_of(&config(&ssl, addr, ""))).await, Ok(Success::PLAIN), "{name} {form}");
            passed += 1;
            for password in [Some("wrong"), None] {
                let ssl = ssl_block(&ca_file, Some(&cert), Some(path(&encrypted)), password);
                let loaded = TlsClient::load(&plan_of(&config(&ssl, addr, "")).ssl.expect("SSL block"));
                assert!(
                    matches!(loaded, Err(Error::SslFile { what: "key", .. })),
                    "{name} {form} {password:?}: {loaded:?}"
                );
            }
        }
    }
    assert_eq!(*accepted.lock().expect("lock"), passed);
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

#[test]
fn files_that_cannot_be_loaded_fail_the_context_as_in_keepalived() {
    let ca = Ca::new("Vigil test CA");
    let f = files("bad-files", &ca);
    let dir = Dir::new("bad-files-extra");
    let missing = dir.path("missing.pem").to_string_lossy().into_owned();
    let garbage = dir.write("garbage.pem", "not a PEM file\n");
    let (_, other_key) = ca.issue("other", ExtendedKeyUsagePurpose::ClientAuth);
    let mismatched = dir.write("other.key", &other_key.serialize_pem());
    let load = |ca: &str, cert: &str, key: &str| {
        let text = format!("{}virtual_server 127.0.0.2 443 {{\n real_server 127.0.0.1 443 {{\n SSL_GET {{\n url {{\n path /\n }}\n }}\n }}\n}}\n", ssl_block(ca, Some(cert), Some(key), None));
        TlsClient::load(&plan_of(&text).ssl.expect("SSL block")).err()
    };
    let what = |e: Option<Error>| match e {
        Some(Error::SslFile { what, .. }) => what,
        other => panic!("not an SSL file error: {other:?}"),
    };
    assert!(load(&f.ca, &f.cert, &f.key).is_none());
    assert_eq!(what(load(&f.ca, &missing, &f.key)), "certificate");
    assert_eq!(what(load(&f.ca, &garbage, &f.key)), "certificate");
    assert_eq!(what(load(&f.ca, &f.cert, &missing)), "key");
    assert_eq!(what(load(&f.ca, &f.cert, &garbage)), "key");
    assert_eq!(what(load(&f.ca, &f.cert, &mismatched)), "key", "a key that is not the certificate's");
    assert_eq!(what(load(&missing, &f.cert, &f.key)), "CA");
    assert_eq!(what(load(&garbage, &f.cert, &f.key)), "CA");
    let e = load(&f.ca, &missing, &f.key).expect("an error");
    assert!(e.to_string().starts_with("SSL error : Cant load certificate file..."), "{e}");
}

#[tokio::test]
async fn without_an_ssl_context_every_ssl_get_fails() {
    let ca = Ca::new("Vigil test CA");
    let (addr, accepted) = mtls_server(&ca, &ca).await;
    let plan = plan_of(&config("", addr, ""));
    let ctx = ProbeContext::new("tester".into(), 7).with_tls(None);
    let r = probe(&plan.checks[0], &ctx).await;
    assert!(matches!(&r, Err(Failure::Tls(m)) if m.contains("SSL block")), "{r:?}");
    assert_eq!(*accepted.lock().expect("lock"), 0);
}

/// The runner loads the plan's SSL block: a real server with `alpha` starts down and comes
/// up only by passing the server's client-certificate check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_uses_the_ssl_block() {
    let ca = Ca::new("Vigil test CA");
    let f = files("runner", &ca);
    let (addr, _) = mtls_server(&ca, &ca).await;
    let plan = plan_of(&config(&ssl_block(&f.ca, Some(&f.cert), Some(&f.key), None), addr, "alpha"));
    // The board's start time is only shown, never read here.
    let status = Status::new(&plan, std::time::UNIX_EPOCH);
    let (tx, mut rx) = mpsc::channel(8);
    let shutdown = CancellationToken::new();
    let runner = tokio::spawn(vigil_check::run(plan, tx, status, shutdown.clone()));
    let change = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("a change in time");
    shutdown.cancel();
    let change = change.expect("runner alive");
    assert!(change.up, "{change:?}");
    runner.await.expect("runner ends");
}

/// `vigild -t` reads the SSL block through the configuration crate: every keyword is acted
/// on now, so no "not implemented" note; a second block replaces the first, as keepalived says.
#[test]
fn the_ssl_block_is_read_without_a_not_implemented_note() {
    let text = "SSL {\n password pw\n ca /etc/ssl/ca.pem\n certificate /etc/ssl/c.pem\n key /etc/ssl/k.pem\n}\n";
    let parsed = vigil_config::parse_str("ssl.conf", text, &vigil_config::Options::default(), None);
    let codes: Vec<&str> = parsed.diagnostics.iter().map(|d| d.code).collect();
    assert!(codes.is_empty(), "{:#?}", parsed.diagnostics);
    let ssl = parsed.config.ssl.expect("SSL block read");
    assert_eq!(
        (ssl.password.as_deref(), ssl.ca.as_deref(), ssl.certificate.as_deref(), ssl.key.as_deref()),
        (Some("pw"), Some("/etc/ssl/ca.pem"), Some("/etc/ssl/c.pem"), Some("/etc/ssl/k.pem"))
    );

    let twice = format!("{text}SSL {{\n ca /etc/ssl/other.pem\n}}\n");
    let parsed = vigil_config::parse_str("ssl.conf", &twice, &vigil_config::Options::default(), None);
    assert!(
        parsed.diagnostics.iter().any(|d| d.message == "SSL context already specified - replacing" && d.span.line == 7),
        "{:#?}",
        parsed.diagnostics
    );
    let ssl = parsed.config.ssl.expect("SSL block read");
    assert_eq!((ssl.ca.as_deref(), ssl.key.as_deref()), (Some("/etc/ssl/other.pem"), None));
}
