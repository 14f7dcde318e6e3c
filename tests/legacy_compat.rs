//! `legacy-compat.json` at the level of the plain Rust core: what the legacy TypeScript backend
//! (on Node 20) produced and accepted, for the AuthService CBC string format (`cbc`), the
//! SecureStorageService GCM format (`secureStorage`) and the FileEncryptionService layout (`file`,
//! iv ‖ tag ‖ ciphertext, checked here with the core's gcm16 primitives).
//!
//! The `credentialMap`, `xchacha` and `argon2id` suites are not covered here.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use axisor_crypto::cbc_format;
use axisor_crypto::codec::{decode_utf8_lossy, encode_hex, utf16_units};
use axisor_crypto::kdf::{cached_key, KeyMaterial, LegacySalt};
use axisor_crypto::secure_storage::{self, gcm16_decrypt, gcm16_encrypt, SecureStorageKey};
use common::{array_field, hex, hex_array, label, load, str_field, u64_field};
use serde_json::Value;

const KNOWN_SUITES: &[&str] = &["cbc", "secureStorage", "credentialMap", "file", "xchacha", "argon2id"];

fn vectors(suite: &str) -> Vec<(usize, Value)> {
    let file = load("legacy-compat.json");
    let all = array_field(&file, "vectors");
    let out: Vec<(usize, Value)> = all
        .iter()
        .enumerate()
        .filter(|(_, v)| str_field(v, "suite") == suite)
        .map(|(i, v)| (i, v.clone()))
        .collect();
    assert!(!out.is_empty(), "legacy-compat.json has no `{suite}` vectors");
    out
}

/// Derived keys per (key string, salt): scrypt runs once per distinct key in each test.
#[derive(Default)]
struct Keys(HashMap<(String, LegacySalt), Arc<KeyMaterial>>);

impl Keys {
    /// scrypt(utf8(key), "salt"): AuthService and FileEncryptionService.
    fn utf8(&mut self, key: &str) -> &KeyMaterial {
        self.0
            .entry((key.to_owned(), LegacySalt::Salt))
            .or_insert_with(|| Arc::new(KeyMaterial::derive(key.as_bytes(), LegacySalt::Salt)))
    }

    /// scrypt(Buffer.from(key, 'hex'), "axisor-salt"): SecureStorageService.
    fn secure_storage(&mut self, key: &str) -> &KeyMaterial {
        self.0.entry((key.to_owned(), LegacySalt::AxisorSalt)).or_insert_with(|| {
            // Through the production type: lenient hex decode, then scrypt under "axisor-salt".
            SecureStorageKey::from_hex(&utf16_units(key)).and_then(|k| k.material()).expect("derive")
        })
    }
}

/// What a vector expects of a decryption: a value, or that it throws.
enum Outcome<'a> {
    Value(&'a Value),
    Throws,
}

fn outcome<'a>(l: &str, v: &'a Value) -> Outcome<'a> {
    let expected = v.get("expected");
    let error = v.get("error").is_some() || v.get("deviation").is_some();
    match (expected, error) {
        (Some(e), false) => Outcome::Value(e),
        (None, true) => Outcome::Throws,
        _ => panic!("{l}: a vector must have exactly one of `expected` and `error`/`deviation`"),
    }
}

#[test]
fn file_is_consistent() {
    let file = load("legacy-compat.json");
    let all = array_field(&file, "vectors");
    assert_eq!(u64_field(&file["meta"], "count") as usize, all.len(), "meta.count");
    for (i, v) in all.iter().enumerate() {
        let suite = str_field(v, "suite");
        assert!(KNOWN_SUITES.contains(&suite), "#{i}: unknown suite {suite:?} (not covered by any test)");
    }
}

#[test]
fn cbc_suite() {
    let mut keys = Keys::default();
    let (mut enc, mut dec_ok, mut dec_err) = (0, 0, 0);
    for (i, v) in vectors("cbc") {
        let l = label(i, &v);
        let key = keys.utf8(str_field(&v, "key"));
        let input = str_field(&v, "input");
        match str_field(&v, "op") {
            "encryptData" => {
                let iv: [u8; 16] = hex_array(str_field(&v, "ivHex"));
                let expected = str_field(&v, "expected");
                assert_eq!(cbc_format::encrypt_with_iv(key, &iv, input.as_bytes()), expected, "{l}: encryptData");
                // And the legacy output reads back.
                let back = cbc_format::decrypt(key, &utf16_units(expected))
                    .unwrap_or_else(|e| panic!("{l}: decrypting the legacy output failed: {e}"));
                assert!(back == input, "{l}: round trip gave a different plaintext");
                enc += 1;
            }
            "decryptData" => {
                let got = cbc_format::decrypt(key, &utf16_units(input));
                match outcome(&l, &v) {
                    Outcome::Value(e) => {
                        let e = e.as_str().unwrap_or_else(|| panic!("{l}: `expected` is not a string"));
                        let got = got.unwrap_or_else(|err| panic!("{l}: decryptData failed: {err}"));
                        assert!(
                            got == e,
                            "{l}: decryptData differs from Node ({} vs {} UTF-16 units)",
                            got.encode_utf16().count(),
                            e.encode_utf16().count()
                        );
                        // Vectors that record the raw plaintext: the bytes before the UTF-8 decoding.
                        if let Some(p) = v.get("plaintextHex") {
                            let units = utf16_units(input);
                            let (iv_hex, ct_hex) = cbc_format::split_encrypted(&units).unwrap();
                            let raw = cbc_format::decrypt_parts(key, iv_hex, ct_hex).unwrap();
                            let p = p.as_str().unwrap_or_else(|| panic!("{l}: plaintextHex"));
                            assert!(raw.as_slice() == hex(p).as_slice(), "{l}: raw plaintext bytes");
                            assert!(decode_utf8_lossy(raw.to_vec()) == e, "{l}: lossy decoding of the raw bytes");
                        }
                        dec_ok += 1;
                    }
                    Outcome::Throws => {
                        assert!(got.is_err(), "{l}: Node threw, the core returned a value");
                        dec_err += 1;
                    }
                }
            }
            op => panic!("{l}: unknown op {op:?}"),
        }
    }
    assert!(enc > 0 && dec_ok > 0 && dec_err > 0);
    eprintln!("cbc: {enc} encryptData, {dec_ok} decryptData values, {dec_err} decryptData errors");
}

#[test]
fn cbc_through_the_key_cache() {
    // The production path derives keys through `cached_key`: same bytes as `KeyMaterial::derive`.
    let mut n = 0;
    for (i, v) in vectors("cbc") {
        if str_field(&v, "op") != "encryptData" {
            continue;
        }
        let l = label(i, &v);
        let key = cached_key(str_field(&v, "key").as_bytes(), LegacySalt::Salt).expect("cached_key");
        let iv: [u8; 16] = hex_array(str_field(&v, "ivHex"));
        let out = cbc_format::encrypt_with_iv(&key, &iv, str_field(&v, "input").as_bytes());
        assert_eq!(out, str_field(&v, "expected"), "{l}: encryptData via cached_key");
        n += 1;
    }
    assert!(n > 0);
    eprintln!("cbc via cached_key: {n} encryptData vectors");
}

#[test]
fn secure_storage_suite() {
    let mut keys = Keys::default();
    let (mut enc, mut dec_ok, mut dec_err) = (0, 0, 0);
    for (i, v) in vectors("secureStorage") {
        let l = label(i, &v);
        let key = keys.secure_storage(str_field(&v, "key"));
        match str_field(&v, "op") {
            "encryptCredentials" => {
                let iv: [u8; 16] = hex_array(str_field(&v, "ivHex"));
                let json = str_field(&v, "json");
                // `json` is JSON.stringify(input): the same value.
                let reparsed: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{l}: json: {e}"));
                assert!(&reparsed == v.get("input").unwrap(), "{l}: `json` is not the `input` object");
                let expected = str_field(&v, "expected");
                assert_eq!(secure_storage::encrypt_with_iv(key, &iv, json.as_bytes()), expected, "{l}: encryptCredentials");
                let back = secure_storage::decrypt(key, &utf16_units(expected))
                    .unwrap_or_else(|e| panic!("{l}: decrypting the legacy output failed: {e}"));
                assert!(back.as_slice() == json.as_bytes(), "{l}: round trip gave a different plaintext");
                enc += 1;
            }
            "decryptCredentials" => {
                let input = str_field(&v, "input");
                let got = secure_storage::decrypt(key, &utf16_units(input));
                match outcome(&l, &v) {
                    Outcome::Value(e) => {
                        let bytes = got.unwrap_or_else(|err| panic!("{l}: decryptCredentials failed: {err}"));
                        let text = decode_utf8_lossy(bytes.to_vec());
                        let value: Value = serde_json::from_str(&text)
                            .unwrap_or_else(|_| panic!("{l}: decrypted text is not JSON"));
                        assert!(&value == e, "{l}: decryptCredentials gave a different object");
                        dec_ok += 1;
                    }
                    Outcome::Throws => {
                        assert!(got.is_err(), "{l}: must be rejected, the core returned a value");
                        dec_err += 1;
                    }
                }
            }
            op => panic!("{l}: unknown op {op:?}"),
        }
    }
    assert!(enc > 0 && dec_ok > 0 && dec_err > 0);
    eprintln!("secureStorage: {enc} encryptCredentials, {dec_ok} decryptCredentials values, {dec_err} rejected");
}

/// FileEncryptionService's layout, iv(16) ‖ tag(16) ‖ ciphertext, over the core's gcm16 primitives.
fn encrypt_file(key: &KeyMaterial, iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    let mut ct = plaintext.to_vec();
    let tag = gcm16_encrypt(key.gcm16(), iv, &mut ct);
    [iv.as_slice(), &tag, &ct].concat()
}

/// The decryption side: anything shorter than iv + tag is refused (Node failed on those too, with a
/// short-tag error or an authentication failure).
fn decrypt_file(key: &KeyMaterial, data: &[u8]) -> Result<Vec<u8>, String> {
    if data.len() < 32 {
        return Err(format!("file too short ({} bytes)", data.len()));
    }
    let iv: [u8; 16] = data[..16].try_into().unwrap();
    let tag: [u8; 16] = data[16..32].try_into().unwrap();
    let mut buf = data[32..].to_vec();
    gcm16_decrypt(key.gcm16(), &iv, &mut buf, &tag).map_err(|e| e.to_string())?;
    Ok(buf)
}

#[test]
fn file_suite() {
    let mut keys = Keys::default();
    let (mut enc, mut dec_ok, mut dec_err) = (0, 0, 0);
    for (i, v) in vectors("file") {
        let l = label(i, &v);
        let key = keys.utf8(str_field(&v, "key"));
        match str_field(&v, "op") {
            "encryptFile" => {
                let iv: [u8; 16] = hex_array(str_field(&v, "ivHex"));
                let plaintext = hex(str_field(&v, "plaintextHex"));
                let expected = str_field(&v, "expectedHex");
                assert_eq!(encode_hex(&encrypt_file(key, &iv, &plaintext)), expected, "{l}: encryptFile");
                let back = decrypt_file(key, &hex(expected)).unwrap_or_else(|e| panic!("{l}: decrypting the legacy output: {e}"));
                assert!(back == plaintext, "{l}: round trip gave a different plaintext");
                enc += 1;
            }
            "decryptFile" => {
                let got = decrypt_file(key, &hex(str_field(&v, "inputHex")));
                let has_error = v.get("error").is_some() || v.get("deviation").is_some();
                match (v.get("expectedHex"), has_error) {
                    (Some(e), false) => {
                        let e = hex(e.as_str().unwrap_or_else(|| panic!("{l}: expectedHex")));
                        let got = got.unwrap_or_else(|err| panic!("{l}: decryptFile failed: {err}"));
                        assert!(got == e, "{l}: decryptFile gave different bytes");
                        dec_ok += 1;
                    }
                    (None, true) => {
                        assert!(got.is_err(), "{l}: must be rejected, got a plaintext");
                        dec_err += 1;
                    }
                    _ => panic!("{l}: a decryptFile vector needs exactly one of `expectedHex` and `error`"),
                }
            }
            op => panic!("{l}: unknown op {op:?}"),
        }
    }
    assert!(enc > 0 && dec_err > 0);
    eprintln!("file: {enc} encryptFile (+ round trip), {dec_ok} decryptFile values, {dec_err} decryptFile errors");
}
