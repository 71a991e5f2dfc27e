//! TLS for tokio-postgres with rustls (ring provider): a `MakeTlsConnect` whose certificate
//! check follows libpq's `sslmode`, client certificates, and `tls-server-end-point` channel
//! binding for SCRAM.

use crate::settings::{ConnectSettings, RootCert, SslMode};
use crate::Error;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// How much of the server's certificate is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Nothing (the handshake signature still is): `prefer`/`require` without a root certificate.
    Nothing,
    /// The chain, not the name: `verify-ca`, and `require` with a root certificate.
    Chain,
    /// The chain and the host name: `verify-full`.
    Full,
}

impl Check {
    /// libpq's rule: verify-* as named; a weaker mode checks the chain when roots are available.
    pub fn for_mode(mode: SslMode, has_roots: bool) -> Check {
        match mode {
            SslMode::VerifyFull => Check::Full,
            SslMode::VerifyCa => Check::Chain,
            _ if has_roots => Check::Chain,
            _ => Check::Nothing,
        }
    }
}

#[derive(Debug)]
struct Verifier {
    check: Check,
    webpki: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(webpki) = &self.webpki else {
            return Ok(ServerCertVerified::assertion());
        };
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            // webpki checks the chain before the name: a name error means the chain is good.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if self.check == Check::Chain => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn load_roots(root: &RootCert) -> Result<RootCertStore, Error> {
    let mut store = RootCertStore::empty();
    match root {
        RootCert::System => {
            let found = rustls_native_certs::load_native_certs();
            for c in found.certs {
                let _ = store.add(c);
            }
            if store.is_empty() {
                return Err(Error::Settings(format!(
                    "sslrootcert=system: no usable certificate in the system trust store{}",
                    found
                        .errors
                        .first()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                )));
            }
        }
        RootCert::File(path) => {
            let iter = CertificateDer::pem_file_iter(path).map_err(|e| {
                Error::Settings(format!(
                    "cannot read root certificate file \"{}\": {e}",
                    path.display()
                ))
            })?;
            for c in iter {
                let c = c.map_err(|e| {
                    Error::Settings(format!(
                        "invalid root certificate file \"{}\": {e}",
                        path.display()
                    ))
                })?;
                store.add(c).map_err(|e| {
                    Error::Settings(format!(
                        "invalid certificate in \"{}\": {e}",
                        path.display()
                    ))
                })?;
            }
            if store.is_empty() {
                return Err(Error::Settings(format!(
                    "root certificate file \"{}\" holds no PEM certificate",
                    path.display()
                )));
            }
        }
    }
    Ok(store)
}

fn check_key_permissions(path: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        if let Ok(m) = std::fs::metadata(path) {
            let mode = m.permissions().mode();
            // libpq: u=rw (0600) or less, or u=rw,g=r (0640) when owned by root.
            let allowed = if m.uid() == 0 { 0o037 } else { 0o077 };
            if mode & allowed != 0 {
                return Err(Error::Settings(format!(
                    "private key file \"{}\" has group or world access; permissions should be u=rw (0600) or less",
                    path.display()
                )));
            }
        }
    }
    let _ = path;
    Ok(())
}

/// The rustls configuration for `settings` at this level of checking.
pub fn client_config(settings: &ConnectSettings, check: Check) -> Result<ClientConfig, Error> {
    let provider = provider();
    let webpki = match check {
        Check::Nothing => None,
        Check::Chain | Check::Full => {
            let root = settings.sslrootcert.clone().ok_or_else(|| {
                Error::Settings(format!(
                    "sslmode={} needs a root certificate to check the server against: \"{}\" does not exist (set sslrootcert to the CA file, or sslrootcert=system for public CAs)",
                    settings.sslmode,
                    settings.sslrootcert_path.display()
                ))
            })?;
            if let RootCert::File(p) = &root {
                if !p.is_file() {
                    return Err(Error::Settings(format!(
                        "sslmode={}: root certificate file \"{}\" does not exist",
                        settings.sslmode,
                        p.display()
                    )));
                }
            }
            let roots = load_roots(&root)?;
            Some(
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| Error::Settings(format!("TLS setup: {e}")))?,
            )
        }
    };
    let verifier = Arc::new(Verifier {
        check,
        webpki,
        provider: provider.clone(),
    });
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Settings(format!("TLS setup: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match (&settings.sslcert, &settings.sslkey) {
        (Some(cert), key) => {
            let key_path = key.clone().unwrap_or_else(|| cert.with_extension("key"));
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
                .and_then(|it| it.collect::<Result<_, _>>())
                .map_err(|e| {
                    Error::Settings(format!(
                        "cannot read client certificate \"{}\": {e}",
                        cert.display()
                    ))
                })?;
            if chain.is_empty() {
                return Err(Error::Settings(format!(
                    "client certificate file \"{}\" holds no PEM certificate",
                    cert.display()
                )));
            }
            check_key_permissions(&key_path)?;
            let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| {
                Error::Settings(format!(
                    "cannot read private key \"{}\" (for sslcert \"{}\"): {e}",
                    key_path.display(),
                    cert.display()
                ))
            })?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                Error::Settings(format!(
                    "client certificate \"{}\" and key \"{}\" do not go together: {e}",
                    cert.display(),
                    key_path.display()
                ))
            })?
        }
        (None, Some(key)) => {
            return Err(Error::Settings(format!(
                "sslkey \"{}\" is set but sslcert is not",
                key.display()
            )))
        }
        (None, None) => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(config)
}

/// `MakeTlsConnect` over rustls.
#[derive(Clone)]
pub struct MakeRustlsConnect {
    config: Arc<ClientConfig>,
}

impl MakeRustlsConnect {
    pub fn new(config: ClientConfig) -> MakeRustlsConnect {
        MakeRustlsConnect {
            config: Arc::new(config),
        }
    }
}

impl<S> MakeTlsConnect<S> for MakeRustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsConnect, io::Error> {
        let name = ServerName::try_from(domain.to_string()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid host name `{domain}` for TLS"),
            )
        })?;
        Ok(RustlsConnect {
            connector: tokio_rustls::TlsConnector::from(self.config.clone()),
            name,
        })
    }
}

pub struct RustlsConnect {
    connector: tokio_rustls::TlsConnector,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let s = self.connector.connect(self.name, stream).await?;
            Ok(RustlsStream(s))
        })
    }
}

pub struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        let (_, conn) = self.0.get_ref();
        match conn
            .peer_certificates()
            .and_then(|c| c.first())
            .and_then(|c| end_point_hash(c.as_ref()))
        {
            Some(h) => ChannelBinding::tls_server_end_point(h),
            None => ChannelBinding::none(),
        }
    }
}

/// RFC 5929 `tls-server-end-point`: the certificate hashed with its signature's hash (SHA-256
/// for MD5 and SHA-1). None for algorithms without one (Ed25519, RSA-PSS): SCRAM then goes on
/// without channel binding.
fn end_point_hash(der: &[u8]) -> Option<Vec<u8>> {
    use sha2::Digest;
    let oid = signature_oid(der)?;
    const SHA256: &[&[u8]] = &[
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04], // md5WithRSA
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05], // sha1WithRSA
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b], // sha256WithRSA
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01],             // ecdsa-with-SHA1
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02],       // ecdsa-with-SHA256
    ];
    const SHA384: &[&[u8]] = &[
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c],
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03],
    ];
    const SHA512: &[&[u8]] = &[
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d],
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04],
    ];
    if SHA256.contains(&oid) {
        Some(sha2::Sha256::digest(der).to_vec())
    } else if SHA384.contains(&oid) {
        Some(sha2::Sha384::digest(der).to_vec())
    } else if SHA512.contains(&oid) {
        Some(sha2::Sha512::digest(der).to_vec())
    } else {
        None
    }
}

/// One DER TLV at the start of `b`: (tag, content, rest).
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)?;
    let (len, hdr) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *b.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let content = b.get(hdr..hdr + len)?;
    Some((tag, content, &b[hdr + len..]))
}

/// The OID bytes of `Certificate.signatureAlgorithm`.
fn signature_oid(der: &[u8]) -> Option<&[u8]> {
    let (0x30, cert, _) = tlv(der)? else {
        return None;
    };
    let (0x30, _tbs, rest) = tlv(cert)? else {
        return None;
    };
    let (0x30, alg, _) = tlv(rest)? else {
        return None;
    };
    let (0x06, oid, _) = tlv(alg)? else {
        return None;
    };
    Some(oid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_walker_finds_the_signature_algorithm() {
        // SEQUENCE { SEQUENCE {}, SEQUENCE { OID 1.2.840.10045.4.3.2 }, BIT STRING }
        let der = [
            0x30, 0x12, 0x30, 0x00, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04,
            0x03, 0x02, 0x03, 0x02, 0x00, 0x00,
        ];
        assert_eq!(
            signature_oid(&der),
            Some(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02][..])
        );
        assert_eq!(end_point_hash(&der).map(|h| h.len()), Some(32));
        assert_eq!(signature_oid(&der[..5]), None);
    }

    #[test]
    fn check_follows_libpq() {
        assert_eq!(Check::for_mode(SslMode::Require, false), Check::Nothing);
        assert_eq!(Check::for_mode(SslMode::Require, true), Check::Chain);
        assert_eq!(Check::for_mode(SslMode::Prefer, true), Check::Chain);
        assert_eq!(Check::for_mode(SslMode::VerifyCa, true), Check::Chain);
        assert_eq!(Check::for_mode(SslMode::VerifyFull, false), Check::Full);
    }
}
