//! Shared helpers for the integration tests: locating and loading the external vectors in
//! `../shared/vectors/` (relative to the crate root), and strict hex decoding of vector fields.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;

/// `$AXISOR_VECTORS_DIR` if set, else `<crate root>/../shared/vectors` (the same folder in CI), else
/// the workplace's `/work/shared/vectors` (for a clone made elsewhere, e.g. in /tmp).
pub fn vectors_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("AXISOR_VECTORS_DIR") {
        return PathBuf::from(dir);
    }
    let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors");
    if beside.is_dir() {
        return beside;
    }
    PathBuf::from("/work/shared/vectors")
}

/// Parse one vector file (path relative to the vectors folder).
pub fn load(rel: &str) -> Value {
    let path = vectors_dir().join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read vector file {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()))
}

/// Strict hex decoding of a vector field (the vector files are well-formed; a malformed field is a
/// test-data error, not something to decode leniently).
pub fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd-length hex in vector data ({} chars)", s.len());
    s.as_bytes()
        .chunks_exact(2)
        .map(|p| {
            let d = |c: u8| match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => panic!("non-hex character in vector data"),
            };
            d(p[0]) << 4 | d(p[1])
        })
        .collect()
}

/// `hex` into a fixed-size array, checking the length.
pub fn hex_array<const N: usize>(s: &str) -> [u8; N] {
    let v = hex(s);
    let len = v.len();
    v.try_into().unwrap_or_else(|_| panic!("expected {N} bytes of hex, got {len}"))
}

/// A string field of a JSON object, panicking with the field name if absent or not a string.
pub fn str_field<'a>(v: &'a Value, name: &str) -> &'a str {
    v.get(name)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("vector field `{name}` missing or not a string"))
}

pub fn u64_field(v: &Value, name: &str) -> u64 {
    v.get(name)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("vector field `{name}` missing or not an integer"))
}

pub fn array_field<'a>(v: &'a Value, name: &str) -> &'a Vec<Value> {
    v.get(name)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("vector field `{name}` missing or not an array"))
}

/// A short, non-secret label for a vector in assertion messages: suite/op/name and its index.
pub fn label(i: usize, v: &Value) -> String {
    let get = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("-");
    format!("#{i} {}/{} name={}", get("suite"), get("op"), get("name"))
}
