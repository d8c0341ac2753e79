//! The TLS client context every SSL_GET shares, built as keepalived 2.2.7 builds it
//! (check_ssl.c), once when the checkers start:
//!
//! - without an `SSL` block: no client certificate;
//! - with one: `certificate` is the client certificate followed by its chain, `key` its private
//!   key (decrypted with `password` when encrypted, as PKCS#8 or in OpenSSL's legacy PEM form),
//!   `ca` a file of CA certificates. A file that cannot be loaded, or a key that does not belong
//!   to the certificate, fails the whole context.
//!
//! Either way the server's certificate is not verified: keepalived loads the CA file into the
//! context's trust store but never asks OpenSSL to verify the peer (no `SSL_VERIFY_PEER`) nor
//! reads the verification result, so a server with any certificate passes. Vigil does the same,
//! so that a configuration behaves as it did under keepalived; signatures in the handshake are
//! still checked. A client certificate is sent only when both `certificate` and `key` are set,
//! as OpenSSL sends none without a key.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use vigil_config::model::SslSettings;

use crate::Error;

/// The client settings of SSL_GET, with and without SNI.
#[derive(Debug, Clone)]
pub struct TlsClient {
    sni: Arc<ClientConfig>,
    no_sni: Arc<ClientConfig>,
}

impl TlsClient {
    /// keepalived's context when there is no `SSL` block.
    pub fn anonymous() -> TlsClient {
        TlsClient::build(None).expect("a context without a client certificate always builds")
    }

    /// The context of an `SSL` block, its files read now. keepalived reads the certificate,
    /// then the key, then the CA file, and stops at the first that fails.
    pub fn load(ssl: &SslSettings) -> Result<TlsClient, Error> {
        let chain = ssl.certificate.as_deref().map(certificates).transpose()?;
        let key = match ssl.key.as_deref() {
            None => None,
            Some(path) => Some(private_key(path, ssl.password.as_deref())?),
        };
        if let Some(path) = ssl.ca.as_deref() {
            ca_file(path)?;
        }
        let identity = match (chain, key) {
            (Some(chain), Some(key)) => Some((chain, key)),
            _ => None,
        };
        TlsClient::build(identity).map_err(|reason| Error::SslFile {
            what: "key",
            path: ssl.key.clone().unwrap_or_default(),
            reason: reason.to_string(),
        })
    }

    fn build(
        identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    ) -> Result<TlsClient, rustls::Error> {
        let config = |sni: bool, identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
                .with_safe_default_protocol_versions()
                .expect("the ring provider supports TLS 1.2 and 1.3")
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)));
            let mut config = match identity {
                // rustls refuses a key that does not match the certificate, as OpenSSL's
                // SSL_CTX_use_PrivateKey_file does.
                Some((chain, key)) => builder.with_client_auth_cert(chain, key)?,
                None => builder.with_no_client_auth(),
            };
            config.enable_sni = sni;
            Ok::<_, rustls::Error>(Arc::new(config))
        };
        let copy = identity.as_ref().map(|(chain, key)| (chain.clone(), key.clone_key()));
        Ok(TlsClient { sni: config(true, identity)?, no_sni: config(false, copy)? })
    }

    pub(crate) fn config(&self, sni: bool) -> Arc<ClientConfig> {
        Arc::clone(if sni { &self.sni } else { &self.no_sni })
    }
}

fn read(what: &'static str, path: &str) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::SslFile { what, path: path.into(), reason: e.to_string() })
}

/// Every certificate of a PEM file, the client's first (SSL_CTX_use_certificate_chain_file).
fn certificates(path: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    pem_certificates("certificate", path)
}

/// Checks that the CA file holds certificates; nothing verifies against them (see the module).
fn ca_file(path: &str) -> Result<(), Error> {
    pem_certificates("CA", path).map(drop)
}

fn pem_certificates(what: &'static str, path: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let failed = |reason: String| Error::SslFile { what, path: path.into(), reason };
    let pem = read(what, path)?;
    let certs =
        CertificateDer::pem_slice_iter(&pem).collect::<Result<Vec<_>, _>>().map_err(|e| failed(e.to_string()))?;
    if certs.is_empty() {
        return Err(failed("no certificate in it".into()));
    }
    Ok(certs)
}

/// PEM labels of private keys, as OpenSSL's PEM_read_bio_PrivateKey takes them.
const KEY_LABELS: [&str; 4] = ["ENCRYPTED PRIVATE KEY", "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"];

/// The first private key of a PEM file, decrypted with `password` when it is encrypted.
fn private_key(path: &str, password: Option<&str>) -> Result<PrivateKeyDer<'static>, Error> {
    let failed = |reason: String| Error::SslFile { what: "key", path: path.into(), reason };
    let pem = read("key", path)?;
    let text = String::from_utf8_lossy(&pem);
    let first = text.match_indices("-----BEGIN ").find_map(|(at, _)| {
        let label = text[at + 11..].split("-----").next()?;
        KEY_LABELS.contains(&label).then_some((at, label))
    });
    let Some((at, label)) = first else {
        return Err(failed("no private key in it".into()));
    };
    let end = format!("-----END {label}-----");
    let Some(len) = text[at..].find(&end) else {
        return Err(failed(format!("no '{end}' line")));
    };
    let section = &text[at..at + len + end.len()];
    let legacy = section.contains("Proc-Type: 4,ENCRYPTED");
    if label != "ENCRYPTED PRIVATE KEY" && !legacy {
        return PrivateKeyDer::from_pem_slice(section.as_bytes()).map_err(|e| failed(e.to_string()));
    }
    // Without a password OpenSSL would ask on the terminal, which a daemon does not have.
    let Some(password) = password else {
        return Err(failed("the key is encrypted and the SSL block has no password".into()));
    };
    let wrong = || failed("cannot decrypt the key (wrong password?)".into());
    if legacy {
        let plain = legacy_decrypt(section, label, password).map_err(failed)?.ok_or_else(wrong)?;
        // A wrong password can still unpad cleanly by chance: only DER that parses counts.
        pkcs8::der::Document::try_from(plain.as_slice()).map_err(|_| wrong())?;
        return Ok(match label {
            "RSA PRIVATE KEY" => PrivateKeyDer::Pkcs1(plain.into()),
            "EC PRIVATE KEY" => PrivateKeyDer::Sec1(plain.into()),
            _ => PrivateKeyDer::Pkcs8(plain.into()),
        });
    }
    let (_, document) = pkcs8::SecretDocument::from_pem(section).map_err(|e| failed(e.to_string()))?;
    let encrypted = pkcs8::EncryptedPrivateKeyInfo::try_from(document.as_bytes()).map_err(|e| failed(e.to_string()))?;
    let plain = encrypted.decrypt(password).map_err(|_| wrong())?;
    // A wrong password can still unpad cleanly by chance: only a key that parses counts.
    pkcs8::PrivateKeyInfo::try_from(plain.as_bytes()).map_err(|_| wrong())?;
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(plain.as_bytes().to_vec())))
}

/// OpenSSL's legacy PEM encryption: `Proc-Type: 4,ENCRYPTED` and `DEK-Info: CIPHER,IV` headers
/// before the base64, the cipher's key made by EVP_BytesToKey with MD5, one round, the IV's
/// first 8 bytes as salt. `Ok(None)`: the padding is wrong, so the password is.
fn legacy_decrypt(section: &str, label: &str, password: &str) -> Result<Option<Vec<u8>>, String> {
    let mut dek_info = None;
    let mut body = String::new();
    for line in section.lines().skip(1).map(str::trim) {
        if line.starts_with("-----END ") {
            break;
        }
        match line.split_once(':') {
            Some(("DEK-Info", value)) => dek_info = Some(value.trim()),
            Some(_) => {}
            None if line.is_empty() => {}
            None => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    let (cipher, iv) = dek_info.and_then(|d| d.split_once(',')).ok_or("no DEK-Info header")?;
    let iv = hex(iv.trim()).ok_or("the DEK-Info IV is not hexadecimal")?;
    let key_len = match cipher {
        "AES-128-CBC" => 16,
        "AES-192-CBC" | "DES-EDE3-CBC" => 24,
        "AES-256-CBC" => 32,
        "DES-CBC" => 8,
        other => return Err(format!("cipher {other} of the legacy PEM encryption is not supported")),
    };
    let salt = iv.get(..8).ok_or("the DEK-Info IV is too short")?;
    let key = bytes_to_key(password.as_bytes(), salt, key_len);
    let pem = format!("-----BEGIN {label}-----\n{body}-----END {label}-----\n");
    let (_, mut data) = pkcs8::der::pem::decode_vec(pem.as_bytes()).map_err(|e| e.to_string())?;
    let plain = match cipher {
        "AES-128-CBC" => cbc_decrypt::<aes::Aes128>(&key, &iv, &mut data),
        "AES-192-CBC" => cbc_decrypt::<aes::Aes192>(&key, &iv, &mut data),
        "AES-256-CBC" => cbc_decrypt::<aes::Aes256>(&key, &iv, &mut data),
        "DES-EDE3-CBC" => cbc_decrypt::<des::TdesEde3>(&key, &iv, &mut data),
        _ => cbc_decrypt::<des::Des>(&key, &iv, &mut data),
    }
    .map_err(|e| format!("{cipher}: {e}"))?;
    Ok(plain.map(<[u8]>::to_vec))
}

/// OpenSSL's EVP_BytesToKey with MD5 and one round: D_i = MD5(D_(i-1) || password || salt).
fn bytes_to_key(password: &[u8], salt: &[u8], len: usize) -> Vec<u8> {
    use md5::{Digest, Md5};
    let mut key = Vec::with_capacity(len + 16);
    let mut last: Vec<u8> = Vec::new();
    while key.len() < len {
        last = Md5::new().chain_update(&last).chain_update(password).chain_update(salt).finalize().to_vec();
        key.extend_from_slice(&last);
    }
    key.truncate(len);
    key
}

/// CBC decryption in place with PKCS#7 padding; `Ok(None)` when the padding is wrong.
fn cbc_decrypt<'a, C>(key: &[u8], iv: &[u8], data: &'a mut [u8]) -> Result<Option<&'a [u8]>, String>
where
    C: cbc::cipher::BlockCipher + cbc::cipher::BlockDecryptMut + cbc::cipher::KeyInit,
{
    use cbc::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};
    let decryptor = cbc::Decryptor::<C>::new_from_slices(key, iv).map_err(|e| e.to_string())?;
    Ok(decryptor.decrypt_padded_mut::<Pkcs7>(data).ok())
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// keepalived never verifies the server's certificate; its signatures in the handshake are
/// still checked.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
