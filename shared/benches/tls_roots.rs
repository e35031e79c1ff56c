//! What a cold start spends on the trusted root certificates (BENCHMARKS.md): the system's roots
//! the default way (`rustls-native-certs`: the bundle and every file of the certificate
//! directory), against one bundle file (`tls::load`) with what the AWS SDK then does with it
//! (PEM out, parsed again into its store).
#![allow(missing_docs, clippy::unwrap_used)]

use cognito_passwordless::tls::{BUNDLES, load};
use criterion::{Criterion, criterion_group, criterion_main};
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

fn roots(c: &mut Criterion) {
    let mut group = c.benchmark_group("tls roots");
    group.sample_size(30);
    group.bench_function("system, the default way (before)", |b| {
        b.iter(|| {
            let mut store = RootCertStore::empty();
            store.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            store.len()
        });
    });
    group.bench_function("one bundle, as the SDK gets it (after)", |b| {
        b.iter(|| {
            let roots = load(|_| None, &BUNDLES);
            let pem = roots.pem();
            let mut store = RootCertStore::empty();
            for certificate in CertificateDer::pem_slice_iter(&pem) {
                store.add(certificate.unwrap()).unwrap();
            }
            store.len()
        });
    });
    group.finish();
}

criterion_group!(benches, roots);
criterion_main!(benches);
