//! scrypt known answers (RFC 7914 section 12, and the addon's own parameters) from
//! `kdf.json`, through `kdf::scrypt_raw` and, at the addon's parameters, `kdf::scrypt_node_defaults`.
//! The Argon2id vectors of the same file belong to a later issue.

mod common;

use axisor_crypto::codec::encode_hex;
use axisor_crypto::kdf::{scrypt_node_defaults, scrypt_raw};
use common::{array_field, hex, load, str_field, u64_field};
use serde_json::Value;

/// Vectors needing this much memory or more are kept out of the default run.
const BIG_MEMORY: u64 = 1 << 30;

fn all_scrypt_vectors() -> Vec<Value> {
    let kdf = load("kdf.json");
    let mut out = Vec::new();
    for section in ["scrypt", "scrypt_addon_params"] {
        let vectors = array_field(kdf.get(section).unwrap_or_else(|| panic!("kdf.json has no `{section}`")), "vectors");
        assert!(!vectors.is_empty(), "kdf.json `{section}` has no vectors");
        out.extend(vectors.iter().cloned());
    }
    out
}

fn is_big(v: &Value) -> bool {
    // 128 * r * N, the V array; checked against the file's own figure.
    let mem = 128 * u64_field(v, "r") * u64_field(v, "N");
    assert_eq!(mem, u64_field(v, "memory_bytes"), "{}: memory_bytes", str_field(v, "id"));
    mem >= BIG_MEMORY
}

fn check_scrypt(v: &Value) {
    let id = str_field(v, "id");
    let n = u64_field(v, "N");
    let log_n = u64_field(v, "log2_N");
    assert_eq!(1u64 << log_n, n, "{id}: log2_N does not match N");
    let password = hex(str_field(v, "password_hex"));
    let salt = hex(str_field(v, "salt_hex"));
    // The printable forms, when given, must be the same bytes.
    assert_eq!(str_field(v, "password").as_bytes(), password.as_slice(), "{id}: password vs password_hex");
    assert_eq!(str_field(v, "salt").as_bytes(), salt.as_slice(), "{id}: salt vs salt_hex");
    let expected = str_field(v, "expected_hex");
    let dk_len = u64_field(v, "dkLen") as usize;
    assert_eq!(expected.len(), dk_len * 2, "{id}: dkLen vs expected_hex");

    let mut out = vec![0u8; dk_len];
    scrypt_raw(
        &password,
        &salt,
        log_n as u8,
        u64_field(v, "r") as u32,
        u64_field(v, "p") as u32,
        &mut out,
    )
    .unwrap_or_else(|e| panic!("{id}: scrypt_raw failed: {e}"));
    assert_eq!(encode_hex(&out), expected, "{id}: scrypt_raw");

    let addon = v.get("matches_addon_params").and_then(Value::as_bool).unwrap_or_else(|| panic!("{id}: matches_addon_params"));
    assert_eq!(
        addon,
        n == 16384 && u64_field(v, "r") == 8 && u64_field(v, "p") == 1,
        "{id}: matches_addon_params flag vs parameters"
    );
    if addon {
        // The addon's derivation gives 32 bytes; PBKDF2's output blocks are independent, so these
        // are the first 32 bytes of any longer output.
        let key = scrypt_node_defaults(&password, &salt);
        assert_eq!(encode_hex(key.as_bytes()), expected[..64], "{id}: scrypt_node_defaults");
    }
}

#[test]
fn scrypt_known_answers() {
    let vectors: Vec<Value> = all_scrypt_vectors().into_iter().filter(|v| !is_big(v)).collect();
    assert!(!vectors.is_empty());
    let mut via_defaults = 0;
    for v in &vectors {
        check_scrypt(v);
        if v["matches_addon_params"] == Value::Bool(true) {
            via_defaults += 1;
        }
    }
    assert!(
        vectors.iter().any(|v| v["matches_addon_params"] == Value::Bool(true) && u64_field(v, "dkLen") == 32),
        "the dkLen-32 addon-parameters vector must be in the default run"
    );
    eprintln!("scrypt: {} vectors via scrypt_raw, {via_defaults} also via scrypt_node_defaults", vectors.len());
}

#[test]
#[ignore = "needs 1 GiB; run with --ignored"]
fn scrypt_known_answers_1gib() {
    let vectors: Vec<Value> = all_scrypt_vectors().into_iter().filter(is_big).collect();
    assert!(!vectors.is_empty(), "no large-memory scrypt vector (rfc7914-12-4) found");
    for v in &vectors {
        check_scrypt(v);
    }
    eprintln!("scrypt (large memory): {} vectors", vectors.len());
}
