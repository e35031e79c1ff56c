//! The root certificates every HTTPS connection of a function trusts (the AWS SDK clients, the
//! small HTTP client, the legacy database), read once per process from one bundle file.
//!
//! The default way (`rustls-native-certs`) reads the system bundle *and* every file of the
//! certificate directory: on a Debian machine some 400 files for the same 146 roots, most of
//! Create's cold start. Lambda's `provided.al2023` image keeps all its roots in one bundle,
//! `/etc/pki/tls/certs/ca-bundle.crt`. So the roots come from, in order:
//!
//! 1. `SSL_CERT_FILE`, when set (the OpenSSL variable; it must hold certificates);
//! 2. the default way, when `SSL_CERT_DIR` is set (a directory was asked for);
//! 3. the first of [`BUNDLES`] that exists and holds certificates;
//! 4. the default way.
//!
//! Only certificates rustls accepts as trust anchors are kept, so a malformed entry in a bundle
//! is skipped, as the default way skips it. An `SSL_CERT_FILE` that holds no usable certificate
//! falls back to the default way (step 4); one that is not a regular file of at most 8 MiB
//! (`/dev/zero`, a FIFO) leaves no roots, so clients refuse to start naming it. Where the roots came from and how
//! many were kept is logged once, when they are first read; with none at all, every client
//! refuses to start ([`required`]) rather than fail each call later.

use std::path::Path;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// The one-file bundles tried, in order: Amazon Linux 2023 (Lambda's `provided.al2023`) and
/// Fedora/RHEL, Debian and Ubuntu, Alpine and macOS.
pub const BUNDLES: [&str; 3] = [
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/cert.pem",
];

/// The trusted roots and where they came from.
#[derive(Debug, Clone)]
pub struct RootCertificates {
    /// The certificates (DER), each one rustls accepts as a trust anchor.
    pub certificates: Vec<CertificateDer<'static>>,
    /// Where they were read: a file's path, or `system` for the default way.
    pub source: String,
}

impl RootCertificates {
    /// A rustls store of the roots.
    pub fn store(&self) -> RootCertStore {
        let mut store = RootCertStore::empty();
        store.add_parsable_certificates(self.certificates.iter().cloned());
        store
    }

    /// The roots as one PEM text (what the AWS SDK's trust store takes).
    pub fn pem(&self) -> Vec<u8> {
        let mut pem = String::new();
        for certificate in &self.certificates {
            pem.push_str("-----BEGIN CERTIFICATE-----\n");
            let encoded = STANDARD.encode(certificate.as_ref());
            let mut rest = encoded.as_str();
            while !rest.is_empty() {
                let (line, tail) = rest.split_at(rest.len().min(64));
                pem.push_str(line);
                pem.push('\n');
                rest = tail;
            }
            pem.push_str("-----END CERTIFICATE-----\n");
        }
        pem.into_bytes()
    }
}

/// The roots of this process, read on first use (at cold start) and kept.
pub fn roots() -> &'static RootCertificates {
    static ROOTS: OnceLock<RootCertificates> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let roots = load(|name| std::env::var(name).ok(), &BUNDLES);
        tracing::info!(
            source = roots.source.as_str(),
            certificates = roots.certificates.len(),
            "TLS roots read"
        );
        roots
    })
}

/// The roots of this process, or a configuration error when there are none: a client without
/// roots would refuse every server, so it must not start.
pub fn required() -> Result<&'static RootCertificates, crate::Error> {
    non_empty(roots())
}

fn non_empty(roots: &RootCertificates) -> Result<&RootCertificates, crate::Error> {
    if roots.certificates.is_empty() {
        return Err(crate::Error::config(
            "SSL_CERT_FILE",
            format!(
                "no usable root certificate was found (read from {}); point it at a PEM bundle",
                roots.source
            ),
        ));
    }
    Ok(roots)
}

/// Reads the roots as the module documentation says, with the variables from `lookup` and the
/// bundles tried in `bundles` order.
pub fn load(lookup: impl Fn(&str) -> Option<String>, bundles: &[&str]) -> RootCertificates {
    let set = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
    if let Some(file) = set("SSL_CERT_FILE") {
        if let Some(certificates) = from_bundle(Path::new(&file)) {
            return RootCertificates {
                certificates,
                source: file,
            };
        }
        // The default way reads SSL_CERT_FILE again, without a limit: only a small regular file
        // may go there (/dev/zero or a FIFO would exhaust or hang the cold start). Anything else
        // leaves no roots, so every client refuses to start, naming the variable.
        let unsafe_to_read = std::fs::metadata(&file)
            .is_ok_and(|metadata| !metadata.is_file() || metadata.len() > MAX_BUNDLE_BYTES as u64);
        if unsafe_to_read {
            return RootCertificates {
                certificates: Vec::new(),
                source: format!("{file}, which is not a regular file of at most 8 MiB"),
            };
        }
        return system();
    }
    if set("SSL_CERT_DIR").is_some() {
        return system();
    }
    for bundle in bundles {
        if let Some(certificates) = from_bundle(Path::new(bundle)) {
            return RootCertificates {
                certificates,
                source: (*bundle).to_owned(),
            };
        }
    }
    system()
}

/// The largest bundle read (the system bundles are about 200 KB).
const MAX_BUNDLE_BYTES: usize = 8 * 1024 * 1024;

/// The certificates rustls accepts from one PEM file; `None` when it is not a regular file of at
/// most 8 MiB, cannot be read or holds none.
pub fn from_bundle(path: &Path) -> Option<Vec<CertificateDer<'static>>> {
    let text = crate::env::read_config_file("SSL_CERT_FILE", path, MAX_BUNDLE_BYTES).ok()?;
    let certificates = usable(CertificateDer::pem_slice_iter(&text).filter_map(Result::ok));
    (!certificates.is_empty()).then_some(certificates)
}

/// The system's roots the default way (`rustls-native-certs`).
fn system() -> RootCertificates {
    RootCertificates {
        certificates: usable(rustls_native_certs::load_native_certs().certs),
        source: "system".to_owned(),
    }
}

/// The certificates that rustls accepts as trust anchors.
fn usable(
    certificates: impl IntoIterator<Item = CertificateDer<'static>>,
) -> Vec<CertificateDer<'static>> {
    certificates
        .into_iter()
        .filter(|certificate| RootCertStore::empty().add(certificate.clone()).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A throw-away directory with `files` (name, contents).
    fn directory(files: &[(&str, &[u8])]) -> std::path::PathBuf {
        let mut name = [0u8; 8];
        getrandom::fill(&mut name).unwrap();
        let dir = std::env::temp_dir().join(format!("tls-roots-{}", hex(&name)));
        std::fs::create_dir_all(&dir).unwrap();
        for (file, contents) in files {
            std::fs::write(dir.join(file), contents).unwrap();
        }
        dir
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Some real roots: the system's, the default way.
    fn some_roots() -> RootCertificates {
        let roots = system();
        assert!(
            roots.certificates.len() > 10,
            "this machine has no system roots"
        );
        roots
    }

    #[test]
    fn pem_round_trips_every_certificate() {
        let roots = some_roots();
        let pem = roots.pem();
        let again: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(again, roots.certificates);
        assert!(
            pem.split(|b| *b == b'\n')
                .all(|line| line.len() <= 64 || line.starts_with(b"-----"))
        );
        assert_eq!(roots.store().len(), roots.certificates.len());
    }

    #[test]
    fn the_first_bundle_that_holds_certificates_is_read() {
        let roots = some_roots();
        let junk =
            b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
        let mut mixed = junk.to_vec();
        mixed.extend_from_slice(&roots.pem());
        let dir = directory(&[
            ("empty.pem", b""),
            ("junk.pem", junk),
            ("mixed.pem", &mixed),
        ]);
        let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
        let (missing, empty, only_junk, good) = (
            path("missing.pem"),
            path("empty.pem"),
            path("junk.pem"),
            path("mixed.pem"),
        );
        let bundles = [
            missing.as_str(),
            empty.as_str(),
            only_junk.as_str(),
            good.as_str(),
        ];
        let loaded = load(|_| None, &bundles);
        assert_eq!(loaded.source, good);
        // The malformed entry is skipped, every real root kept.
        assert_eq!(loaded.certificates, roots.certificates);
        // SSL_CERT_FILE comes first; SSL_CERT_DIR asks for the default way.
        let file = load(
            |name| (name == "SSL_CERT_FILE").then(|| good.clone()),
            &[missing.as_str()],
        );
        assert_eq!(file.source, good);
        let dir_asked = load(
            |name| (name == "SSL_CERT_DIR").then(|| "/etc/ssl/certs".to_owned()),
            &bundles,
        );
        assert_eq!(dir_asked.source, "system");
        // Nothing usable anywhere: the default way.
        assert_eq!(load(|_| None, &[missing.as_str()]).source, "system");
        // An SSL_CERT_FILE without certificates: the default way too.
        let unusable = load(
            |name| (name == "SSL_CERT_FILE").then(|| only_junk.clone()),
            &bundles,
        );
        assert_eq!(unusable.source, "system");
        // One that is not a regular file is never read, here or the default way: no roots, so
        // every client refuses to start, naming SSL_CERT_FILE.
        for device in ["/dev/zero", "/dev/stdin", "/"] {
            let refused = load(
                |name| (name == "SSL_CERT_FILE").then(|| device.to_owned()),
                &bundles,
            );
            assert!(refused.certificates.is_empty(), "{device}");
            let error = non_empty(&refused).unwrap_err().to_string();
            assert!(
                error.contains("SSL_CERT_FILE") && error.contains(device),
                "{error}"
            );
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn no_roots_at_all_is_a_configuration_error_naming_the_variable() {
        let none = RootCertificates {
            certificates: Vec::new(),
            source: "system".to_owned(),
        };
        let error = non_empty(&none).unwrap_err().to_string();
        assert!(error.contains("SSL_CERT_FILE"), "{error}");
        assert!(error.contains("read from system"), "{error}");
        let roots = some_roots();
        assert!(non_empty(&roots).is_ok());
        assert!(required().is_ok(), "this machine's roots are usable");
    }
}
