//! The fast AES-256-GCM kernel (x86_64 VAES + VPCLMULQDQ, chosen at run time) against the portable
//! path and the one-shot `aes-gcm`: random keys, IVs, lengths (0..10000) and chunkings, in both
//! directions, with IVs chosen so that the 32-bit counter wraps inside the first batches.

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::Aes256;
use axisor_crypto::gcm_stream::{self, GcmDecryptor, GcmEncryptor, GcmKey};
use axisor_crypto::kdf::{DerivedKey, KeyMaterial};
use axisor_crypto::secure_storage::gcm16_encrypt;

/// SplitMix64: a small deterministic generator (the seed is printed on failure).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = self.next() as u8;
        }
    }
}

/// GF(2^128) multiplication as SP 800-38D writes it (bit 0 of a block is its most significant).
fn gf_mul(x: u128, y: u128) -> u128 {
    let (mut z, mut v) = (0u128, y);
    for i in (0..128).rev() {
        if (x >> i) & 1 == 1 {
            z ^= v;
        }
        v = if v & 1 == 1 { (v >> 1) ^ (0xe1 << 120) } else { v >> 1 };
    }
    z
}

const GF_ONE: u128 = 1 << 127;

fn gf_inv(a: u128) -> u128 {
    // a^(2^128 - 2).
    let (mut r, mut b, mut e) = (GF_ONE, a, u128::MAX - 1);
    while e > 0 {
        if e & 1 == 1 {
            r = gf_mul(r, b);
        }
        b = gf_mul(b, b);
        e >>= 1;
    }
    r
}

fn hash_key(key: &[u8; 32]) -> u128 {
    let mut h = aes::Block::default();
    Aes256::new(key.into()).encrypt_block(&mut h);
    u128::from_be_bytes(h.into())
}

/// J0 of a 16-byte IV: GHASH(IV ‖ 0^64 ‖ [128]_64) = IV·H² + 128·H.
fn j0_of(h: u128, iv: &[u8; 16]) -> u128 {
    gf_mul(gf_mul(u128::from_be_bytes(*iv), h) ^ 128, h)
}

/// The IV whose J0 is `j0` (solving the equation above), so that tests can put the counter
/// where they like.
fn iv_for(h: u128, j0: u128) -> [u8; 16] {
    let iv = gf_mul(j0 ^ gf_mul(128, h), gf_inv(gf_mul(h, h)));
    let iv = iv.to_be_bytes();
    assert_eq!(j0_of(h, &iv), j0, "the IV solves for its J0");
    iv
}

const CHUNKS: [usize; 14] = [1, 15, 16, 17, 127, 128, 129, 255, 256, 257, 1000, 4096, 4097, usize::MAX];

/// Chunk lengths: one size throughout, or a random size from the list for each chunk.
fn chunking(rng: &mut Rng, len: usize) -> Vec<usize> {
    let mut sizes = Vec::new();
    let fixed = rng.below(2) == 0;
    let size = CHUNKS[rng.below(CHUNKS.len())];
    let mut left = len;
    while left > 0 {
        let s = if fixed { size } else { CHUNKS[rng.below(CHUNKS.len())] }.min(left);
        sizes.push(s);
        left -= s;
    }
    sizes
}

/// Hand `buf` to `update` in consecutive pieces of the given sizes.
fn in_pieces(buf: &mut [u8], sizes: &[usize], mut update: impl FnMut(&mut [u8])) {
    let mut rest = buf;
    for &s in sizes {
        let (head, tail) = rest.split_at_mut(s);
        update(head);
        rest = tail;
    }
}

fn encrypt(key: &GcmKey, iv: &[u8; 16], buf: &mut [u8], sizes: &[usize]) -> [u8; 16] {
    let mut enc = GcmEncryptor::new(key, iv);
    in_pieces(buf, sizes, |piece| enc.update(piece).unwrap());
    enc.finish()
}

fn decrypt(key: &GcmKey, iv: &[u8; 16], buf: &mut [u8], sizes: &[usize], tag: &[u8; 16]) -> bool {
    let mut dec = GcmDecryptor::new(key, iv);
    in_pieces(buf, sizes, |piece| dec.update(piece).unwrap());
    dec.finish(tag).is_ok()
}

#[test]
fn the_fast_kernel_is_chosen_exactly_where_the_cpu_has_it() {
    #[cfg(target_arch = "x86_64")]
    let has = std::arch::is_x86_feature_detected!("aes")
        && std::arch::is_x86_feature_detected!("pclmulqdq")
        && std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("vaes")
        && std::arch::is_x86_feature_detected!("vpclmulqdq");
    #[cfg(not(target_arch = "x86_64"))]
    let has = false;
    assert_eq!(gcm_stream::accelerated(), has);
    assert_eq!(GcmKey::new(&[1; 32]).is_accelerated(), has);
    assert_eq!(KeyMaterial::new(&DerivedKey::from_bytes([1; 32])).gcm_stream().is_accelerated(), has);
    assert!(!GcmKey::portable(&[1; 32]).is_accelerated());
    eprintln!("fast AES-256-GCM kernel on this CPU: {has}");
}

/// One random case: the default key (fast kernel on capable CPUs) and the forced-portable key
/// must agree with each other and with the one-shot AEAD, under independent chunkings.
fn differential_case(rng: &mut Rng, len: usize, wrap_at: Option<u32>) {
    let mut key = [0u8; 32];
    rng.fill(&mut key);
    let h = hash_key(&key);
    let iv = match wrap_at {
        // Data block k has counter J0 + 1 + k (mod 2^32): it wraps to 0 at block `blocks`.
        Some(blocks) => {
            let mut j0 = [0u8; 16];
            rng.fill(&mut j0[..12]);
            j0[12..].copy_from_slice(&u32::MAX.wrapping_sub(blocks).to_be_bytes());
            iv_for(h, u128::from_be_bytes(j0))
        }
        None => {
            let mut iv = [0u8; 16];
            rng.fill(&mut iv);
            iv
        }
    };
    let mut plain = vec![0u8; len];
    rng.fill(&mut plain);
    let (fast, portable) = (GcmKey::new(&key), GcmKey::portable(&key));
    let what = format!("len {len}, wrap at {wrap_at:?}, key {key:02x?}, iv {iv:02x?}");

    let mut expected = plain.clone();
    let expected_tag = gcm16_encrypt(KeyMaterial::new(&DerivedKey::from_bytes(key)).gcm16(), &iv, &mut expected);
    for k in [&fast, &portable] {
        let sizes = chunking(rng, len);
        let mut buf = plain.clone();
        let tag = encrypt(k, &iv, &mut buf, &sizes);
        assert!(buf == expected, "{what}: ciphertext (accelerated {}, chunks {sizes:?})", k.is_accelerated());
        assert_eq!(tag, expected_tag, "{what}: tag (accelerated {}, chunks {sizes:?})", k.is_accelerated());
        let sizes = chunking(rng, len);
        assert!(decrypt(k, &iv, &mut buf, &sizes, &tag), "{what}: verification (chunks {sizes:?})");
        assert!(buf == plain, "{what}: plaintext (accelerated {}, chunks {sizes:?})", k.is_accelerated());
        // A flipped bit anywhere (ciphertext or tag) fails.
        let mut bad = expected.clone();
        let mut bad_tag = tag;
        if len > 0 && rng.below(2) == 0 {
            bad[rng.below(len)] ^= 1 << rng.below(8);
        } else {
            bad_tag[rng.below(16)] ^= 1 << rng.below(8);
        }
        assert!(!decrypt(k, &iv, &mut bad, &chunking(rng, len), &bad_tag), "{what}: tampering accepted");
    }
}

#[test]
fn fast_and_portable_paths_agree_on_random_inputs() {
    let seed = 0x6a09_e667_f3bc_c908;
    let mut rng = Rng(seed);
    for i in 0..240 {
        let len = match i % 4 {
            0 => rng.below(10_000),
            1 => rng.below(600),
            // Whole batches and one off them, where the kernel and the tail code meet.
            2 => (1 + rng.below(40)) * 128 + [0, 1, 15, 16, 17, 127][rng.below(6)],
            _ => [0, 1, 16, 127, 128, 129, 255, 256, 257, 1024, 4096, 9999][rng.below(12)],
        };
        differential_case(&mut rng, len, None);
    }
}

#[test]
fn the_counter_wraps_inside_a_batch() {
    let mut rng = Rng(0xbb67_ae85_84ca_a73b);
    // Wraps in every position of the first batches (the kernel does 8 blocks at a time), with
    // lengths that reach well past them.
    for blocks in 0..40u32 {
        for _ in 0..3 {
            let len = blocks as usize * 16 + rng.below(3000);
            differential_case(&mut rng, len, Some(blocks));
        }
    }
    // J0 = 0xffffffff: the data counter starts at 0.
    differential_case(&mut rng, 4096, Some(u32::MAX));
}
