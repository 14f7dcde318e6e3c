//! Argon2id known answers from `kdf.json` (RFC 9106 section 5.3, with its secret and associated
//! data, and the t=2 / m=64 MiB / p=1 / 32-byte vectors) and the `argon2id` vectors of
//! `legacy-compat.json`, through both backends of `argon2id` (the RustCrypto crate and the AVX2
//! core), plus the AVX2 core against the crate on random parameters.
//!
//! The AVX2 core lives in this crate, which the dev profile leaves unoptimized: one 64 MiB
//! derivation through it takes ~6 s in a debug build (~0.05 s in release). So a debug run sends
//! one 64 MiB vector through it and the others through the crate; a release run
//! (`cargo test --release`) sends every vector through both. The 64 MiB vectors also run through
//! the release addon in jest (`__test__/sodium-vectors.test.js`).

mod common;

use axisor_crypto::argon2id::{self, avx2_available, Backend, M_COST_KIB, OUTPUT_BYTES, P_COST, SALT_BYTES, T_COST};
use axisor_crypto::base64_sodium::to_base64;
use axisor_crypto::codec::{encode_hex, utf16_units};
use axisor_crypto::error::ErrorCode;
use common::{array_field, hex, label, load, str_field, u64_field};
use serde_json::Value;

const RELEASE: bool = !cfg!(debug_assertions);

/// The backends to run a 64 MiB vector through: both in release, the crate only in debug
/// (`heavy_ok` lets one vector through the AVX2 core in debug too).
fn backends(heavy_ok: bool) -> Vec<Backend> {
    let mut b = vec![Backend::Crate];
    if avx2_available() && (RELEASE || heavy_ok) {
        b.push(Backend::Avx2);
    }
    b
}

fn run_raw(backend: Backend, v: &Value) -> String {
    let id = str_field(v, "id");
    assert_eq!(str_field(v, "variant"), "argon2id", "{id}");
    assert_eq!(u64_field(v, "version"), 0x13, "{id}: version");
    let mut out = vec![0u8; u64_field(v, "tag_length") as usize];
    argon2id::argon2id_with(
        backend,
        &hex(str_field(v, "password_hex")),
        &hex(str_field(v, "salt_hex")),
        &hex(str_field(v, "secret_hex")),
        &hex(str_field(v, "associated_data_hex")),
        u64_field(v, "t_cost") as u32,
        u64_field(v, "m_cost_kib") as u32,
        u64_field(v, "parallelism") as u32,
        &mut out,
    )
    .unwrap_or_else(|e| panic!("{id} ({backend:?}): {e}"));
    encode_hex(&out)
}

#[test]
fn rfc9106_argon2id_with_secret_and_associated_data() {
    let kdf = load("kdf.json");
    let v = &kdf["argon2id"]["rfc9106"];
    assert!(!str_field(v, "secret_hex").is_empty() && !str_field(v, "associated_data_hex").is_empty());
    assert_eq!(u64_field(v, "parallelism"), 4);
    for backend in backends(true) {
        assert_eq!(run_raw(backend, v), str_field(v, "expected_hex"), "rfc9106-5.3 ({backend:?})");
    }
}

#[test]
fn argon2id_t2_m65536_p1_known_answers() {
    let kdf = load("kdf.json");
    let vectors = array_field(&kdf["argon2id"]["t2_m65536_p1_len32"], "vectors");
    assert_eq!(vectors.len(), 5, "kdf.json argon2id t2_m65536_p1_len32 vectors");
    let (mut runs, mut addon, mut refused) = (0, 0, 0);
    let mut avx2_in_debug = false;
    for v in vectors {
        let id = str_field(v, "id");
        assert_eq!(
            (u64_field(v, "t_cost") as u32, u64_field(v, "m_cost_kib") as u32, u64_field(v, "parallelism") as u32, u64_field(v, "tag_length") as usize),
            (T_COST, M_COST_KIB, P_COST, OUTPUT_BYTES),
            "{id}: parameters"
        );
        let expected = str_field(v, "expected_hex");
        let password = hex(str_field(v, "password_hex"));
        let salt = hex(str_field(v, "salt_hex"));
        let matches = v["matches_addon_params"].as_bool().unwrap_or_else(|| panic!("{id}: matches_addon_params"));
        assert_eq!(matches, salt.len() == SALT_BYTES, "{id}: matches_addon_params vs salt length");
        if matches {
            // The addon's own path: strict base64 salt, derivation, libsodium base64 output.
            let salt = argon2id::decode_salt(&utf16_units(&to_base64(&salt))).unwrap();
            for backend in backends(!avx2_in_debug) {
                avx2_in_debug |= backend == Backend::Avx2;
                let b64 = argon2id::derive_key_from_password_with(backend, &password, &salt).unwrap();
                assert_eq!(&*b64, &to_base64(&hex(expected)), "{id}: derive_key_from_password ({backend:?})");
                runs += 1;
            }
            addon += 1;
        } else {
            // 8-byte salts: Argon2 itself accepts them, libsodium's crypto_pwhash (and the addon) not.
            for backend in backends(false) {
                assert_eq!(run_raw(backend, v), expected, "{id}: argon2id_raw ({backend:?})");
                runs += 1;
            }
            assert_eq!(argon2id::derive_interactive(&password, &salt).unwrap_err().code, ErrorCode::InvalidSalt, "{id}");
            assert_eq!(argon2id::decode_salt(&utf16_units(&to_base64(&salt))).unwrap_err().code, ErrorCode::InvalidSalt, "{id}");
            refused += 1;
        }
    }
    assert_eq!((addon, refused), (2, 3));
    assert!(!avx2_available() || avx2_in_debug || RELEASE);
    eprintln!("argon2id t=2 m=64MiB p=1: {addon} through the addon's derivation, {refused} 8-byte salts refused by it; {runs} derivations");
}

#[test]
fn legacy_compat_argon2id_vectors() {
    let file = load("legacy-compat.json");
    let vectors: Vec<(usize, &Value)> = array_field(&file, "vectors").iter().enumerate().filter(|(_, v)| v["suite"] == "argon2id").collect();
    assert_eq!(vectors.len(), 4, "legacy-compat argon2id vectors");
    let (mut ok, mut errors) = (0, 0);
    for (i, v) in &vectors {
        let name = label(*i, v);
        assert_eq!(str_field(v, "op"), "deriveKeyFromPassword");
        for backend in backends(false) {
            let result = argon2id::decode_salt(&utf16_units(str_field(v, "saltB64")))
                .and_then(|salt| argon2id::derive_key_from_password_with(backend, str_field(v, "password").as_bytes(), &salt));
            match (v.get("expected"), result) {
                (Some(expected), Ok(key)) => {
                    assert_eq!(Some(key.as_str()), expected.as_str(), "{name} ({backend:?})");
                    ok += 1;
                }
                (Some(_), Err(e)) => panic!("{name}: {e}"),
                (None, Ok(_)) => panic!("{name}: expected an error"),
                (None, Err(e)) => {
                    assert_eq!(e.code, ErrorCode::InvalidSalt, "{name}");
                    errors += 1;
                }
            }
        }
    }
    let per = backends(false).len();
    assert_eq!((ok, errors), (3 * per, per));
}

/// xorshift64*: deterministic test data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn bytes(&mut self, max: u64) -> Vec<u8> {
        let len = self.below(max + 1) as usize;
        (0..len).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn avx2_core_matches_the_crate_on_random_parameters() {
    if !avx2_available() {
        eprintln!("no AVX2 on this CPU: only the crate backend exists here");
        return;
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let cases = 60;
    for case in 0..cases {
        let p = 1 + rng.below(4) as u32;
        let m = 8 * p + rng.below(if case % 10 == 0 { 2048 } else { 256 }) as u32;
        let t = 1 + rng.below(3) as u32;
        let out_len = [4, 16, 32, 33, 64, 65, 97, 128][rng.below(8) as usize];
        let password = rng.bytes(40);
        let mut salt = rng.bytes(24);
        salt.resize(salt.len().max(8), 0x5a);
        let secret = if rng.below(3) == 0 { rng.bytes(32) } else { Vec::new() };
        let ad = if rng.below(3) == 0 { rng.bytes(32) } else { Vec::new() };
        let mut a = vec![0u8; out_len];
        let mut b = vec![0u8; out_len];
        argon2id::argon2id_with(Backend::Crate, &password, &salt, &secret, &ad, t, m, p, &mut a).unwrap();
        argon2id::argon2id_with(Backend::Avx2, &password, &salt, &secret, &ad, t, m, p, &mut b).unwrap();
        assert_eq!(encode_hex(&a), encode_hex(&b), "case {case}: t={t} m={m} p={p} out={out_len} secret={} ad={}", secret.len(), ad.len());
    }
    eprintln!("AVX2 core = crate on {cases} random parameter sets");
}
