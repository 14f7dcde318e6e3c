//! Project Wycheproof known answers (valid and invalid cases) for the AES-256 primitives the core
//! uses: CBC/PKCS#7 (`cbc_format::cbc_encrypt` / `cbc_decrypt`) and GCM with 96-bit IVs and with the
//! legacy 128-bit IV (`kdf::Aes256Gcm16`, `secure_storage::gcm16_encrypt` / `gcm16_decrypt`).

mod common;

use aes::cipher::KeyInit;
use aes::Aes256;
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::AeadInOut;
use aes_gcm::{AesGcm, Nonce, Tag};
use axisor_crypto::cbc_format::{cbc_decrypt, cbc_encrypt};
use axisor_crypto::codec::encode_hex;
use axisor_crypto::error::ErrorCode;
use axisor_crypto::kdf::{Aes256Gcm16, DerivedKey, KeyMaterial};
use axisor_crypto::secure_storage::{gcm16_decrypt, gcm16_encrypt};
use common::{array_field, hex, hex_array, load, str_field, u64_field};
use serde_json::Value;

type Aes256Gcm12 = AesGcm<Aes256, U12>;

fn groups(file: &str) -> Vec<Value> {
    array_field(&load(file), "testGroups").clone()
}

fn result_valid(t: &Value) -> bool {
    match str_field(t, "result") {
        "valid" => true,
        "invalid" => false,
        other => panic!("tcId {}: unexpected result {other:?} (acceptable is not used by these files)", u64_field(t, "tcId")),
    }
}

#[test]
fn aes_cbc_pkcs5_keysize_256() {
    let groups: Vec<Value> = groups("wycheproof/aes_cbc_pkcs5_test.json")
        .into_iter()
        .filter(|g| u64_field(g, "keySize") == 256)
        .collect();
    assert_eq!(groups.len(), 1, "expected exactly one keySize-256 CBC group");
    let (mut valid, mut invalid, mut expected) = (0usize, 0usize, 0usize);
    for g in &groups {
        assert_eq!(u64_field(g, "ivSize"), 128);
        let tests = array_field(g, "tests");
        expected += tests.len();
        for t in tests {
            let id = u64_field(t, "tcId");
            let key: [u8; 32] = hex_array(str_field(t, "key"));
            let iv: [u8; 16] = hex_array(str_field(t, "iv"));
            let msg = hex(str_field(t, "msg"));
            let ct = hex(str_field(t, "ct"));
            let aes = Aes256::new(&key.into());
            if result_valid(t) {
                assert_eq!(encode_hex(&cbc_encrypt(&aes, &iv, &msg)), encode_hex(&ct), "CBC tcId {id}: encrypt");
                let pt = cbc_decrypt(&aes, &iv, &ct).unwrap_or_else(|e| panic!("CBC tcId {id}: decrypt failed: {e}"));
                assert!(pt.as_slice() == msg.as_slice(), "CBC tcId {id}: decrypt gave a different plaintext");
                valid += 1;
            } else {
                match cbc_decrypt(&aes, &iv, &ct) {
                    Ok(_) => panic!("CBC tcId {id}: invalid ciphertext was accepted"),
                    Err(e) => assert_eq!(e.code, ErrorCode::BadDecrypt, "CBC tcId {id}: error code"),
                }
                invalid += 1;
            }
        }
    }
    assert_eq!(valid + invalid, expected, "every CBC case must run");
    assert!(valid > 0 && invalid > 0);
    eprintln!("wycheproof CBC keySize 256: {valid} valid + {invalid} invalid cases");
}

/// One AES-256-GCM case through the given encrypt/decrypt functions (both detached, in place).
struct GcmCase {
    id: u64,
    aad: Vec<u8>,
    msg: Vec<u8>,
    ct: Vec<u8>,
    tag: [u8; 16],
    valid: bool,
}

fn run_gcm_case<E, D>(c: &GcmCase, path: &str, encrypt: E, decrypt: D)
where
    E: Fn(&mut [u8]) -> [u8; 16],
    D: Fn(&mut [u8], &[u8; 16]) -> bool,
{
    let id = c.id;
    if c.valid {
        let mut buf = c.msg.clone();
        let tag = encrypt(&mut buf);
        assert_eq!(encode_hex(&buf), encode_hex(&c.ct), "GCM tcId {id} ({path}): ciphertext");
        assert_eq!(encode_hex(&tag), encode_hex(&c.tag), "GCM tcId {id} ({path}): tag");
        let mut buf = c.ct.clone();
        assert!(decrypt(&mut buf, &c.tag), "GCM tcId {id} ({path}): valid case failed to decrypt");
        assert!(buf == c.msg, "GCM tcId {id} ({path}): decrypt gave a different plaintext");
    } else {
        let mut buf = c.ct.clone();
        assert!(!decrypt(&mut buf, &c.tag), "GCM tcId {id} ({path}): invalid case was accepted");
    }
}

#[test]
fn aes_gcm_keysize_256_iv_96_and_128() {
    let groups: Vec<Value> = groups("wycheproof/aes_gcm_test.json")
        .into_iter()
        .filter(|g| u64_field(g, "keySize") == 256 && matches!(u64_field(g, "ivSize"), 96 | 128))
        .collect();
    let expected: usize = groups.iter().map(|g| array_field(g, "tests").len()).sum();
    assert!(groups.iter().any(|g| u64_field(g, "ivSize") == 96), "no 96-bit-IV group");
    assert!(groups.iter().any(|g| u64_field(g, "ivSize") == 128), "no 128-bit-IV group");

    // (12-byte IV, 16-byte IV via the core's gcm16_* (empty AAD), 16-byte IV with AAD)
    let (mut n12, mut n16_core, mut n16_aad, mut n_invalid) = (0usize, 0usize, 0usize, 0usize);
    for g in &groups {
        assert_eq!(u64_field(g, "tagSize"), 128, "only 128-bit tags are in scope");
        let iv_bits = u64_field(g, "ivSize");
        for t in array_field(g, "tests") {
            let id = u64_field(t, "tcId");
            let key: [u8; 32] = hex_array(str_field(t, "key"));
            let iv = hex(str_field(t, "iv"));
            assert_eq!(iv.len() as u64 * 8, iv_bits, "tcId {id}: IV length differs from its group's ivSize");
            let case = GcmCase {
                id,
                aad: hex(str_field(t, "aad")),
                msg: hex(str_field(t, "msg")),
                ct: hex(str_field(t, "ct")),
                tag: hex_array(str_field(t, "tag")),
                valid: result_valid(t),
            };
            if !case.valid {
                n_invalid += 1;
            }
            match iv.len() {
                12 => {
                    let gcm = Aes256Gcm12::new(&key.into());
                    let nonce = Nonce::<U12>::try_from(iv.as_slice()).unwrap();
                    run_gcm_case(
                        &case,
                        "AesGcm<Aes256, U12>",
                        |buf| {
                            gcm.encrypt_inout_detached(&nonce, &case.aad, InOutBuf::from(buf))
                                .expect("encrypt")
                                .into()
                        },
                        |buf, tag| {
                            gcm.decrypt_inout_detached(&nonce, &case.aad, InOutBuf::from(buf), &Tag::from(*tag))
                                .is_ok()
                        },
                    );
                    n12 += 1;
                }
                16 => {
                    let iv: [u8; 16] = iv.as_slice().try_into().unwrap();
                    // The production construction: KeyMaterial builds its Aes256Gcm16 from the AES key schedule.
                    let km = KeyMaterial::new(&DerivedKey::from_bytes(key));
                    if case.aad.is_empty() {
                        run_gcm_case(
                            &case,
                            "secure_storage::gcm16_*",
                            |buf| gcm16_encrypt(km.gcm16(), &iv, buf),
                            |buf, tag| match gcm16_decrypt(km.gcm16(), &iv, buf, tag) {
                                Ok(()) => true,
                                Err(e) => {
                                    assert_eq!(e.code, ErrorCode::AuthFailed, "tcId {id}: error code");
                                    false
                                }
                            },
                        );
                        n16_core += 1;
                    } else {
                        // gcm16_* take no AAD: same cipher types, through the AEAD trait.
                        let standalone = Aes256Gcm16::new(&key.into());
                        for (path, gcm) in [("KeyMaterial::gcm16 + AAD", km.gcm16()), ("Aes256Gcm16::new + AAD", &standalone)] {
                            let nonce = Nonce::from(iv);
                            run_gcm_case(
                                &case,
                                path,
                                |buf| {
                                    gcm.encrypt_inout_detached(&nonce, &case.aad, InOutBuf::from(buf))
                                        .expect("encrypt")
                                        .into()
                                },
                                |buf, tag| {
                                    gcm.decrypt_inout_detached(&nonce, &case.aad, InOutBuf::from(buf), &Tag::from(*tag))
                                        .is_ok()
                                },
                            );
                        }
                        n16_aad += 1;
                    }
                }
                n => unreachable!("ivSize filter let through a {n}-byte IV"),
            }
        }
    }
    assert_eq!(n12 + n16_core + n16_aad, expected, "every selected GCM case must run");
    assert!(n16_core > 0, "no 16-byte-IV case went through secure_storage::gcm16_*");
    eprintln!(
        "wycheproof GCM keySize 256: {} cases ({n12} with 12-byte IV, {n16_core} 16-byte IV via gcm16_*, \
         {n16_aad} 16-byte IV with AAD; {n_invalid} invalid)",
        expected
    );
}
