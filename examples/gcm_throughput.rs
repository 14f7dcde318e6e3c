//! Single-threaded throughput of the streaming AES-256-GCM (the file format's cipher) on one
//! in-memory buffer, through the fast kernel (when this CPU has it) and the portable path:
//!
//!     cargo run --release --no-default-features --example gcm_throughput [MiB] [rounds]
//!
//! Prints the best of `rounds` (default 64 MiB, 5 rounds) for each direction and path, and for
//! `file_format::encrypt_buffer` (what encryptBuffer runs: a fresh output buffer each call).

use std::time::Instant;

use axisor_crypto::file_format;
use axisor_crypto::gcm_stream::{self, GcmDecryptor, GcmEncryptor, GcmKey};
use axisor_crypto::kdf::{DerivedKey, KeyMaterial};

fn main() {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(64);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let key = [0x5au8; 32];
    let iv = [0xa5u8; 16];
    let mut buf: Vec<u8> = (0..mib << 20).map(|i| (i * 7 % 251) as u8).collect();
    println!("AES-256-GCM, 16-byte IV, {mib} MiB in one update, best of {rounds}; fast kernel available: {}", gcm_stream::accelerated());
    let mut tags = Vec::new();
    for (name, key) in [("default", GcmKey::new(&key)), ("portable", GcmKey::portable(&key))] {
        let (mut enc_best, mut dec_best) = (f64::MAX, f64::MAX);
        let mut tag = [0u8; 16];
        for _ in 0..rounds {
            let t = Instant::now();
            let mut enc = GcmEncryptor::new(&key, &iv);
            enc.update(&mut buf).expect("within GCM's limit");
            tag = enc.finish();
            enc_best = enc_best.min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let mut dec = GcmDecryptor::new(&key, &iv);
            dec.update(&mut buf).expect("within GCM's limit");
            dec.finish(&tag).expect("the tag verifies");
            dec_best = dec_best.min(t.elapsed().as_secs_f64());
        }
        tags.push(tag);
        let mb = (mib << 20) as f64 / 1e6;
        println!(
            "  {name:<8} (accelerated: {:<5})  encrypt {:>7.0} MB/s   decrypt {:>7.0} MB/s",
            key.is_accelerated(),
            mb / enc_best,
            mb / dec_best
        );
    }
    assert!(tags.windows(2).all(|w| w[0] == w[1]), "both paths give the same tag");

    // What encryptBuffer does around the cipher: a fresh output buffer per call (header room +
    // a copy of the input), encrypted in place. Fresh memory costs page faults and the kernel's
    // zeroing of every page; this line shows how much of the end-to-end time that is.
    let material = KeyMaterial::new(&DerivedKey::from_bytes(key));
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let t = Instant::now();
        let out = file_format::encrypt_buffer(&material, &iv, &buf).expect("within GCM's limit");
        best = best.min(t.elapsed().as_secs_f64());
        drop(std::hint::black_box(out));
    }
    println!("  file_format::encrypt_buffer (fresh {mib} MiB output each call): {:>7.0} MB/s", (mib << 20) as f64 / 1e6 / best);
}
