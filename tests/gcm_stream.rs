//! The streaming AES-256-GCM of the file format against Wycheproof's 128-bit-IV group (12 of its
//! 19 cases wrap the 32-bit counter), with chunk boundaries at 1, 15, 16 and 17 bytes, and the
//! file functions end to end (round trip, tamper, abort, in place) on real files.

mod common;

use std::sync::atomic::AtomicBool;

use axisor_crypto::error::ErrorCode;
use axisor_crypto::file_format::{self, FileControl};
use axisor_crypto::gcm_stream::{self, GcmDecryptor, GcmEncryptor, GcmKey};
use axisor_crypto::kdf::{KeyMaterial, LegacySalt};
use common::{array_field, hex, hex_array, load, str_field, u64_field};

#[test]
fn wycheproof_128_bit_iv_group_through_the_stream() {
    let file = load("wycheproof/aes_gcm_test.json");
    let mut n = 0;
    for g in array_field(&file, "testGroups") {
        if u64_field(g, "keySize") != 256 || u64_field(g, "ivSize") != 128 {
            continue;
        }
        for t in array_field(g, "tests") {
            let id = u64_field(t, "tcId");
            assert!(hex(str_field(t, "aad")).is_empty(), "tcId {id}: the file format has no AAD");
            let key_bytes = hex_array::<32>(str_field(t, "key"));
            let iv: [u8; 16] = hex_array(str_field(t, "iv"));
            let (msg, ct, tag) = (hex(str_field(t, "msg")), hex(str_field(t, "ct")), hex_array::<16>(str_field(t, "tag")));
            let valid = str_field(t, "result") == "valid";
            let fast = GcmKey::new(&key_bytes);
            assert_eq!(fast.is_accelerated(), gcm_stream::accelerated());
            for (path, key) in [("default", &fast), ("portable", &GcmKey::portable(&key_bytes))] {
                for chunk in [1usize, 15, 16, 17, usize::MAX] {
                    let chunk = chunk.min(msg.len().max(1));
                    let mut buf = msg.clone();
                    let mut enc = GcmEncryptor::new(key, &iv);
                    for c in buf.chunks_mut(chunk) {
                        enc.update(c).unwrap();
                    }
                    let got_tag = enc.finish();
                    if valid {
                        assert_eq!(buf, ct, "tcId {id} chunk {chunk} {path}: ciphertext");
                        assert_eq!(got_tag, tag, "tcId {id} chunk {chunk} {path}: tag");
                    }
                    let mut buf = ct.clone();
                    let mut dec = GcmDecryptor::new(key, &iv);
                    for c in buf.chunks_mut(chunk) {
                        dec.update(c).unwrap();
                    }
                    assert_eq!(dec.finish(&tag).is_ok(), valid, "tcId {id} chunk {chunk} {path}: verification");
                    if valid {
                        assert_eq!(buf, msg, "tcId {id} chunk {chunk} {path}: plaintext");
                    }
                }
            }
            n += 1;
        }
    }
    assert_eq!(n, 19, "the 128-bit-IV group has 19 cases");
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("axisor-gcm-stream-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn files_round_trip_match_the_buffer_format_and_reject_tampering() {
    let key = KeyMaterial::derive(b"file-key", LegacySalt::Salt);
    let dir = temp_dir("rt");
    let iv = [3u8; 16];
    for len in [0usize, 1, 16, 17, file_format::CHUNK_BYTES - 1, file_format::CHUNK_BYTES, file_format::CHUNK_BYTES + 17] {
        let plain: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
        let (src, enc, dec) = (dir.join("p"), dir.join("e"), dir.join("d"));
        std::fs::write(&src, &plain).unwrap();
        file_format::encrypt_file(&key, &iv, &src, &enc, false, FileControl::default()).unwrap();
        let bytes = std::fs::read(&enc).unwrap();
        assert_eq!(bytes, file_format::encrypt_buffer(&key, &iv, &plain).unwrap(), "len {len}");
        file_format::decrypt_file(&key, &enc, &dec, false, FileControl::default()).unwrap();
        assert_eq!(std::fs::read(&dec).unwrap(), plain, "len {len}");
        for pos in [0, 16, 32, 32 + len / 2, bytes.len() - 1] {
            if pos >= bytes.len() {
                continue;
            }
            let mut bad = bytes.clone();
            bad[pos] ^= 0x80;
            std::fs::write(&enc, &bad).unwrap();
            let _ = std::fs::remove_file(&dec);
            let err = file_format::decrypt_file(&key, &enc, &dec, false, FileControl::default()).unwrap_err();
            assert_eq!(err.code, ErrorCode::AuthFailed, "len {len} pos {pos}");
            assert!(!dec.exists(), "nothing is written on failure");
        }
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).filter(|e| e.file_name().to_string_lossy().ends_with(".tmp")).collect();
    assert!(leftovers.is_empty(), "temporary files left behind");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn short_input_abort_and_in_place() {
    let key = KeyMaterial::derive(b"file-key", LegacySalt::Salt);
    let dir = temp_dir("misc");
    let (short, out) = (dir.join("short"), dir.join("out"));
    std::fs::write(&short, [0u8; 31]).unwrap();
    let err = file_format::decrypt_file(&key, &short, &out, false, FileControl::default()).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidFormat);
    let aborted = AtomicBool::new(true);
    let src = dir.join("src");
    std::fs::write(&src, b"original").unwrap();
    let err = file_format::encrypt_file(&key, &[1; 16], &src, &src, true, FileControl { abort: Some(&aborted), progress: None }).unwrap_err();
    assert_eq!(err.code, ErrorCode::Aborted);
    assert_eq!(std::fs::read(&src).unwrap(), b"original");
    file_format::encrypt_file(&key, &[1; 16], &src, &src, true, FileControl::default()).unwrap();
    assert_eq!(std::fs::read(&src).unwrap().len(), 32 + 8);
    file_format::decrypt_file(&key, &src, &src, true, FileControl::default()).unwrap();
    assert_eq!(std::fs::read(&src).unwrap(), b"original");
    std::fs::remove_dir_all(&dir).unwrap();
}
