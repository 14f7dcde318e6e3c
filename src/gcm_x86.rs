//! The stitched AES-256-GCM bulk kernel for x86_64 CPUs with VAES and VPCLMULQDQ on 256-bit
//! vectors (AVX2): Intel Ice Lake and later, AMD Zen 3 and later. Chosen at run time
//! ([`available`]); everywhere else `gcm_stream` runs its portable path.
//!
//! The design follows Eric Biggers' AES-GCM for x86_64 (BoringSSL's `aes-gcm-avx2-x86_64`, the
//! Linux kernel's `aes-gcm-avx10-x86_64.S`); this is an independent rewrite in Rust intrinsics of
//! the same ideas, not a copy of that code:
//!
//! - Eight blocks per iteration, two per ymm register. The counter is kept byte-reflected, so
//!   GCM's inc32 is a 32-bit lane add (`vpaddd`), which wraps within those 32 bits exactly as the
//!   standard says; each block is byte-swapped back (`vpshufb`) before its first AES round.
//! - GHASH works on byte-reflected blocks as polynomials in the natural bit order, where the GCM
//!   product is a·b·x^-127 modulo G = x^128 + x^127 + x^126 + x^121 + 1. The hash key is stored
//!   pre-multiplied by x, so one multiply is a carry-less 256-bit product followed by a
//!   Montgomery-style reduction (·x^-128) in two folds by x^63 + x^62 + x^57.
//! - GHASH of eight blocks costs one reduction: the blocks are multiplied by H^8..H^1
//!   (precomputed once per key) and the unreduced products summed.
//! - Encryption and hashing are interleaved in the same loop: while the AES rounds of batch i run,
//!   the ciphertext of batch i-1 (encryption) or batch i itself (decryption, read before it is
//!   overwritten) is hashed.
//!
//! Compiler spills of the kernel's registers to the stack are not wiped (as in the assembly
//! implementations, whose registers are not either); the key schedule and key powers are.

use core::arch::x86_64::*;
use std::sync::atomic::{AtomicU8, Ordering};

use zeroize::Zeroize;

/// The kernel's unit of work: eight 16-byte blocks.
pub(crate) const BATCH_BYTES: usize = 128;

/// Whether this CPU (and OS: `is_x86_feature_detected!` checks that the ymm state is enabled) can
/// run the kernel. Detected once, then read from a relaxed atomic.
pub(crate) fn available() -> bool {
    static STATE: AtomicU8 = AtomicU8::new(0); // 0: not yet detected, 1: no, 2: yes
    match STATE.load(Ordering::Relaxed) {
        1 => false,
        2 => true,
        _ => {
            let yes = std::arch::is_x86_feature_detected!("aes")
                && std::arch::is_x86_feature_detected!("pclmulqdq")
                && std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("vaes")
                && std::arch::is_x86_feature_detected!("vpclmulqdq");
            STATE.store(if yes { 2 } else { 1 }, Ordering::Relaxed);
            yes
        }
    }
}

/// The key-dependent state of the kernel, built once per key. Zeroized on drop.
///
/// Only [`Key::new`] makes one, and only after [`available`] said yes: holding a `Key` is the
/// proof that the CPU has the features its methods' `unsafe` calls rely on.
#[repr(C, align(32))]
pub(crate) struct Key {
    /// The 15 AES-256 round keys, each broadcast to both 128-bit lanes.
    rk: [[u8; 32]; 15],
    /// The hash key powers pre-multiplied by x (see the module doc), two per 256-bit entry, low
    /// lane first: [H^8, H^7], [H^6, H^5], [H^4, H^3], [H^2, H^1].
    h: [[u8; 32]; 4],
}

impl Drop for Key {
    fn drop(&mut self) {
        self.rk.zeroize();
        self.h.zeroize();
    }
}

impl Key {
    /// The kernel's key for `key`, or `None` when this CPU cannot run the kernel.
    pub(crate) fn new(key: &[u8; 32]) -> Option<Box<Key>> {
        if !available() {
            return None;
        }
        // Built in place on the heap: no copy of the schedule is left behind by a move.
        let mut k = Box::new(Key { rk: [[0; 32]; 15], h: [[0; 32]; 4] });
        // SAFETY: `available()` just confirmed the target features `init` is compiled with.
        unsafe { k.init(key) };
        Some(k)
    }

    /// Encrypt `buf` in place (its length a multiple of [`BATCH_BYTES`]) with the counter blocks
    /// `counter`, inc32(`counter`), ..., folding the ciphertext into the GHASH accumulator `acc`.
    pub(crate) fn encrypt(&self, counter: &[u8; 16], acc: &mut [u8; 16], buf: &mut [u8]) {
        assert!(buf.len().is_multiple_of(BATCH_BYTES), "whole batches only");
        // SAFETY: a `Key` exists only where `available()` is true (see the type's doc); the length
        // was checked to be whole batches, which is all `crypt` reads and writes.
        unsafe { crypt::<true>(self, counter, acc, buf) }
    }

    /// Decrypt `buf` in place (whole batches), hashing the ciphertext before it is overwritten.
    pub(crate) fn decrypt(&self, counter: &[u8; 16], acc: &mut [u8; 16], buf: &mut [u8]) {
        assert!(buf.len().is_multiple_of(BATCH_BYTES), "whole batches only");
        // SAFETY: as in `encrypt`.
        unsafe { crypt::<false>(self, counter, acc, buf) }
    }

    /// Fold whole 16-byte blocks into the GHASH accumulator `acc` (the form `encrypt` keeps it in).
    pub(crate) fn ghash(&self, acc: &mut [u8; 16], blocks: &[u8]) {
        assert!(blocks.len().is_multiple_of(16), "whole blocks only");
        // SAFETY: as in `encrypt`; `ghash_blocks` reads whole blocks within `blocks` only.
        unsafe { ghash_blocks(self, acc, blocks) }
    }

    #[target_feature(enable = "avx2,aes,pclmulqdq,vaes,vpclmulqdq")]
    fn init(&mut self, key: &[u8; 32]) {
        let mut rk = expand_key(key);
        for (dst, k) in self.rk.iter_mut().zip(rk.iter()) {
            // SAFETY: `dst` is 32 writable bytes.
            unsafe { _mm256_storeu_si256(dst.as_mut_ptr().cast(), _mm256_broadcastsi128_si256(*k)) };
        }
        // H = E_K(0^128), byte-reflected, times x (a 128-bit shift left, reduced by G).
        let mut h = _mm_xor_si128(_mm_setzero_si128(), rk[0]);
        for k in &rk[1..14] {
            h = _mm_aesenc_si128(h, *k);
        }
        h = _mm_aesenclast_si128(h, rk[14]);
        let mut h_bytes = [0u8; 16];
        // SAFETY: `h_bytes` is 16 writable bytes.
        unsafe { _mm_storeu_si128(h_bytes.as_mut_ptr().cast(), h) };
        let mut hv = u128::from_be_bytes(h_bytes);
        // Branch-free: the mask is all ones when the top bit is set.
        let carry = 0u128.wrapping_sub(hv >> 127);
        hv = (hv << 1) ^ (carry & 0xc200_0000_0000_0000_0000_0000_0000_0001);
        let mut h1_bytes = hv.to_le_bytes();
        // SAFETY: 16 readable bytes.
        let h1 = unsafe { _mm_loadu_si128(h1_bytes.as_ptr().cast()) };
        let mut powers = [h1; 8]; // powers[i] = H^(i+1)
        for i in 1..8 {
            powers[i] = mul128(powers[i - 1], h1);
        }
        for (j, dst) in self.h.iter_mut().enumerate() {
            let v = _mm256_set_m128i(powers[6 - 2 * j], powers[7 - 2 * j]);
            // SAFETY: `dst` is 32 writable bytes.
            unsafe { _mm256_storeu_si256(dst.as_mut_ptr().cast(), v) };
        }
        // Wipe the local copies (best effort: the compiler may have kept others in spill slots).
        // SAFETY: plain writes through valid references, volatile so they are not elided.
        unsafe {
            core::ptr::write_volatile(&mut rk, [_mm_setzero_si128(); 15]);
            core::ptr::write_volatile(&mut powers, [_mm_setzero_si128(); 8]);
        }
        h_bytes.zeroize();
        h1_bytes.zeroize();
        hv.zeroize();
    }
}

/// AES-256 key expansion with AESKEYGENASSIST (FIPS 197's schedule, the classic AES-NI sequence).
#[target_feature(enable = "avx2,aes,pclmulqdq,vaes,vpclmulqdq")]
fn expand_key(key: &[u8; 32]) -> [__m128i; 15] {
    /// w[i..i+4] of an even round key: `prev` xor its prefix shifts, xor the broadcast `assist`.
    #[inline]
    #[target_feature(enable = "avx2,aes,pclmulqdq,vaes,vpclmulqdq")]
    fn fold(prev: __m128i, assist: __m128i) -> __m128i {
        let mut t = prev;
        let mut s = _mm_slli_si128(prev, 4);
        t = _mm_xor_si128(t, s);
        s = _mm_slli_si128(s, 4);
        t = _mm_xor_si128(t, s);
        s = _mm_slli_si128(s, 4);
        t = _mm_xor_si128(t, s);
        _mm_xor_si128(t, assist)
    }
    macro_rules! pair {
        ($rk:ident, $i:expr, $rcon:expr) => {
            // Even key: RotWord(SubWord(w)) ^ rcon of the previous odd key, broadcast from dword 3.
            $rk[$i] = fold($rk[$i - 2], _mm_shuffle_epi32(_mm_aeskeygenassist_si128($rk[$i - 1], $rcon), 0xff));
        };
        ($rk:ident, $i:expr, $rcon:expr, odd) => {
            pair!($rk, $i, $rcon);
            // Odd key: SubWord(w) of the new even key, broadcast from dword 2.
            $rk[$i + 1] = fold($rk[$i - 1], _mm_shuffle_epi32(_mm_aeskeygenassist_si128($rk[$i], 0), 0xaa));
        };
    }
    let mut rk = [_mm_setzero_si128(); 15];
    // SAFETY: `key` is 32 readable bytes.
    unsafe {
        rk[0] = _mm_loadu_si128(key.as_ptr().cast());
        rk[1] = _mm_loadu_si128(key.as_ptr().add(16).cast());
    }
    pair!(rk, 2, 0x01, odd);
    pair!(rk, 4, 0x02, odd);
    pair!(rk, 6, 0x04, odd);
    pair!(rk, 8, 0x08, odd);
    pair!(rk, 10, 0x10, odd);
    pair!(rk, 12, 0x20, odd);
    pair!(rk, 14, 0x40);
    rk
}

/// The reduction constant: x^63 + x^62 + x^57 in the high 64 bits (only those are used).
#[inline]
#[target_feature(enable = "avx2,aes,pclmulqdq,vaes,vpclmulqdq")]
fn gfpoly128() -> __m128i {
    _mm_set_epi64x(0xc200_0000_0000_0000u64 as i64, 1)
}

#[inline]
#[target_feature(enable = "avx2,aes,pclmulqdq,vaes,vpclmulqdq")]
fn gfpoly256() -> __m256i {
    _mm256_broadcastsi128_si256(gfpoly128())
}

/// Reverses the bytes of each 128-bit lane.
#[inline]
#[target_feature(enable = "avx2,aes,pclmulqdq,vaes,vpclmulqdq")]
fn bswap_mask() -> __m256i {
    _mm256_set_epi8(
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, //
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    )
}

/// a·b·x^-128 mod G on one 128-bit lane: with b a key power (pre-multiplied by x), the GCM
/// product of a and that power.
#[inline]
#[target_feature(enable = "avx2,aes,pclmulqdq,vaes,vpclmulqdq")]
fn mul128(a: __m128i, b: __m128i) -> __m128i {
    let lo = _mm_clmulepi64_si128(a, b, 0x00);
    let mi = _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x01), _mm_clmulepi64_si128(a, b, 0x10));
    let hi = _mm_clmulepi64_si128(a, b, 0x11);
    let gf = gfpoly128();
    // Fold LO into MI: LO·x^-64 = swap(LO) + LO_low·(x^63 + x^62 + x^57) (mod G, shifted).
    let mi = _mm_xor_si128(_mm_xor_si128(mi, _mm_shuffle_epi32(lo, 0x4e)), _mm_clmulepi64_si128(gf, lo, 0x01));
    // Fold MI into HI the same way.
    _mm_xor_si128(_mm_xor_si128(hi, _mm_shuffle_epi32(mi, 0x4e)), _mm_clmulepi64_si128(gf, mi, 0x01))
}

#[inline]
#[target_feature(enable = "avx2,aes,pclmulqdq,vaes,vpclmulqdq")]
fn zext(x: __m128i) -> __m256i {
    _mm256_set_m128i(_mm_setzero_si128(), x)
}

/// Unaligned 32-byte load.
///
/// # Safety
/// `p` must point to 32 readable bytes.
#[inline]
#[target_feature(enable = "avx2,aes,pclmulqdq,vaes,vpclmulqdq")]
unsafe fn load(p: *const u8) -> __m256i {
    // SAFETY: the caller's contract.
    unsafe { _mm256_loadu_si256(p.cast()) }
}

#[inline]
#[target_feature(enable = "avx2,aes,pclmulqdq,vaes,vpclmulqdq")]
fn rk(key: &Key, i: usize) -> __m256i {
    // SAFETY: `key.rk[i]` is 32 readable bytes (and 32-byte aligned, the struct is).
    unsafe { _mm256_load_si256(key.rk[i].as_ptr().cast()) }
}

#[inline]
#[target_feature(enable = "avx2,aes,pclmulqdq,vaes,vpclmulqdq")]
fn hpow(key: &Key, j: usize) -> __m256i {
    // SAFETY: `key.h[j]` is 32 readable, 32-byte aligned bytes.
    unsafe { _mm256_load_si256(key.h[j].as_ptr().cast()) }
}

/// The unreduced product terms (LO, MI, HI) of one ymm of blocks by one ymm of key powers,
/// accumulated.
#[inline]
#[target_feature(enable = "avx2,aes,pclmulqdq,vaes,vpclmulqdq")]
fn mul_acc(x: __m256i, h: __m256i, lo: &mut __m256i, mi: &mut __m256i, hi: &mut __m256i) {
    *lo = _mm256_xor_si256(*lo, _mm256_clmulepi64_epi128(x, h, 0x00));
    *mi = _mm256_xor_si256(*mi, _mm256_xor_si256(_mm256_clmulepi64_epi128(x, h, 0x01), _mm256_clmulepi64_epi128(x, h, 0x10)));
    *hi = _mm256_xor_si256(*hi, _mm256_clmulepi64_epi128(x, h, 0x11));
}

/// Fold LO into MI (the first half of the reduction, both lanes).
#[inline]
#[target_feature(enable = "avx2,aes,pclmulqdq,vaes,vpclmulqdq")]
fn fold_lo(lo: __m256i, mi: __m256i) -> __m256i {
    let t = _mm256_clmulepi64_epi128(gfpoly256(), lo, 0x01);
    _mm256_xor_si256(_mm256_xor_si256(mi, _mm256_shuffle_epi32(lo, 0x4e)), t)
}

/// Fold MI into HI and sum the two lanes: the new accumulator.
#[inline]
#[target_feature(enable = "avx2,aes,pclmulqdq,vaes,vpclmulqdq")]
fn fold_mi(mi: __m256i, hi: __m256i) -> __m128i {
    let t = _mm256_clmulepi64_epi128(gfpoly256(), mi, 0x01);
    let r = _mm256_xor_si256(_mm256_xor_si256(hi, _mm256_shuffle_epi32(mi, 0x4e)), t);
    _mm_xor_si128(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1))
}

/// GHASH of eight blocks at `p` into `acc`, one reduction.
///
/// # Safety
/// `p` must point to 128 readable bytes.
#[inline]
#[target_feature(enable = "avx2,aes,pclmulqdq,vaes,vpclmulqdq")]
unsafe fn ghash8(key: &Key, acc: __m128i, p: *const u8) -> __m128i {
    let bswap = bswap_mask();
    let (mut lo, mut mi, mut hi) = (_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256());
    for j in 0..4 {
        // SAFETY: within the caller's 128 bytes.
        let mut x = _mm256_shuffle_epi8(unsafe { load(p.add(32 * j)) }, bswap);
        if j == 0 {
            x = _mm256_xor_si256(x, zext(acc));
        }
        mul_acc(x, hpow(key, j), &mut lo, &mut mi, &mut hi);
    }
    fold_mi(fold_lo(lo, mi), hi)
}

/// # Safety
/// The CPU must have the target features; `blocks.len()` must be a multiple of 16.
#[target_feature(enable = "avx2,aes,pclmulqdq,vaes,vpclmulqdq")]
unsafe fn ghash_blocks(key: &Key, acc_bytes: &mut [u8; 16], blocks: &[u8]) {
    // SAFETY: 16 readable bytes.
    let mut acc = unsafe { _mm_loadu_si128(acc_bytes.as_ptr().cast()) };
    let mut batches = blocks.chunks_exact(BATCH_BYTES);
    for b in &mut batches {
        // SAFETY: `b` is 128 readable bytes.
        acc = unsafe { ghash8(key, acc, b.as_ptr()) };
    }
    let h1 = _mm256_extracti128_si256(hpow(key, 3), 1);
    let bswap = _mm256_castsi256_si128(bswap_mask());
    for b in batches.remainder().chunks_exact(16) {
        // SAFETY: `b` is 16 readable bytes.
        let x = _mm_shuffle_epi8(unsafe { _mm_loadu_si128(b.as_ptr().cast()) }, bswap);
        acc = mul128(_mm_xor_si128(acc, x), h1);
    }
    // SAFETY: 16 writable bytes.
    unsafe { _mm_storeu_si128(acc_bytes.as_mut_ptr().cast(), acc) };
}

/// One batch: CTR over the eight blocks at `data` (in place) with the counters from `ctr`
/// (advanced by eight), and, when `HASH`, GHASH of the eight ciphertext blocks at `ghash_src`
/// into `acc`, stitched into the AES rounds.
///
/// # Safety
/// The CPU must have the target features; `data` must point to 128 readable and writable bytes,
/// `ghash_src` (when `HASH`) to 128 readable bytes, either the same as `data` (decryption: read
/// before written) or not overlapping it.
#[inline]
#[target_feature(enable = "avx2,aes,pclmulqdq,vaes,vpclmulqdq")]
unsafe fn batch<const HASH: bool>(key: &Key, ctr: &mut __m256i, acc: &mut __m128i, ghash_src: *const u8, data: *mut u8) {
    // An opaque pointer each batch: the round keys and key powers are then read from the key
    // itself as memory operands, not hoisted out of the loop into stack copies (there are not
    // registers enough to keep them), which would leave key material behind on the stack.
    let key = core::hint::black_box(key);
    let bswap = bswap_mask();
    let two = _mm256_set_epi32(0, 0, 0, 2, 0, 0, 0, 2);
    let c0 = *ctr;
    let c1 = _mm256_add_epi32(c0, two);
    let c2 = _mm256_add_epi32(c1, two);
    let c3 = _mm256_add_epi32(c2, two);
    *ctr = _mm256_add_epi32(c3, two);
    let k = rk(key, 0);
    let mut s0 = _mm256_xor_si256(_mm256_shuffle_epi8(c0, bswap), k);
    let mut s1 = _mm256_xor_si256(_mm256_shuffle_epi8(c1, bswap), k);
    let mut s2 = _mm256_xor_si256(_mm256_shuffle_epi8(c2, bswap), k);
    let mut s3 = _mm256_xor_si256(_mm256_shuffle_epi8(c3, bswap), k);
    macro_rules! round {
        ($i:expr) => {{
            let k = rk(key, $i);
            s0 = _mm256_aesenc_epi128(s0, k);
            s1 = _mm256_aesenc_epi128(s1, k);
            s2 = _mm256_aesenc_epi128(s2, k);
            s3 = _mm256_aesenc_epi128(s3, k);
        }};
    }
    let (mut lo, mut mi, mut hi) = (_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256());
    macro_rules! hash_pair {
        ($j:expr) => {
            if HASH {
                // SAFETY: within the caller's 128 readable bytes at `ghash_src`.
                let mut x = _mm256_shuffle_epi8(unsafe { load(ghash_src.add(32 * $j)) }, bswap);
                if $j == 0 {
                    x = _mm256_xor_si256(x, zext(*acc));
                }
                mul_acc(x, hpow(key, $j), &mut lo, &mut mi, &mut hi);
            }
        };
    }
    round!(1);
    hash_pair!(0);
    round!(2);
    hash_pair!(1);
    round!(3);
    hash_pair!(2);
    round!(4);
    hash_pair!(3);
    round!(5);
    if HASH {
        mi = fold_lo(lo, mi);
    }
    round!(6);
    if HASH {
        *acc = fold_mi(mi, hi);
    }
    round!(7);
    round!(8);
    round!(9);
    round!(10);
    round!(11);
    round!(12);
    round!(13);
    // The last round's key xor and the data xor in one: aesenclast(s, k ^ d) = aesenclast(s, k) ^ d.
    let k = rk(key, 14);
    // SAFETY: `data` is 128 readable and writable bytes; everything at `ghash_src` was read above.
    unsafe {
        let d0 = _mm256_xor_si256(k, load(data));
        let d1 = _mm256_xor_si256(k, load(data.add(32)));
        let d2 = _mm256_xor_si256(k, load(data.add(64)));
        let d3 = _mm256_xor_si256(k, load(data.add(96)));
        _mm256_storeu_si256(data.cast(), _mm256_aesenclast_epi128(s0, d0));
        _mm256_storeu_si256(data.add(32).cast(), _mm256_aesenclast_epi128(s1, d1));
        _mm256_storeu_si256(data.add(64).cast(), _mm256_aesenclast_epi128(s2, d2));
        _mm256_storeu_si256(data.add(96).cast(), _mm256_aesenclast_epi128(s3, d3));
    }
}

/// # Safety
/// The CPU must have the target features; `buf.len()` must be a multiple of [`BATCH_BYTES`].
#[target_feature(enable = "avx2,aes,pclmulqdq,vaes,vpclmulqdq")]
unsafe fn crypt<const ENCRYPT: bool>(key: &Key, counter: &[u8; 16], acc_bytes: &mut [u8; 16], buf: &mut [u8]) {
    let n = buf.len() / BATCH_BYTES;
    if n == 0 {
        return;
    }
    // Byte-reflected, the 32-bit counter is the low dword of each lane: lanes [c, c + 1].
    let c = u128::from_be_bytes(*counter).to_le_bytes();
    // SAFETY: 16 readable bytes.
    let c = _mm256_broadcastsi128_si256(unsafe { _mm_loadu_si128(c.as_ptr().cast()) });
    let mut ctr = _mm256_add_epi32(c, _mm256_set_epi32(0, 0, 0, 1, 0, 0, 0, 0));
    // SAFETY: 16 readable bytes.
    let mut acc = unsafe { _mm_loadu_si128(acc_bytes.as_ptr().cast()) };
    let p = buf.as_mut_ptr();
    // SAFETY (the block): batch i is bytes [128 i, 128 i + 128) of `buf`, i < n, all in bounds.
    unsafe {
        if ENCRYPT {
            // Batch i is encrypted while batch i - 1's ciphertext is hashed; the last one after.
            batch::<false>(key, &mut ctr, &mut acc, p, p);
            for i in 1..n {
                batch::<true>(key, &mut ctr, &mut acc, p.add((i - 1) * BATCH_BYTES), p.add(i * BATCH_BYTES));
            }
            acc = ghash8(key, acc, p.add((n - 1) * BATCH_BYTES));
        } else {
            for i in 0..n {
                let q = p.add(i * BATCH_BYTES);
                batch::<true>(key, &mut ctr, &mut acc, q, q);
            }
        }
        _mm_storeu_si128(acc_bytes.as_mut_ptr().cast(), acc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::{BlockCipherEncrypt, KeyInit};
    use aes::Aes256;
    use ghash::universal_hash::UniversalHash;
    use ghash::GHash;

    fn fill(state: &mut u64, out: &mut [u8]) {
        for b in out {
            *state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            *b = (*state >> 56) as u8;
        }
    }

    fn reference_ghash(aes: &Aes256, blocks: &[u8]) -> [u8; 16] {
        let mut h = ghash::Block::default();
        aes.encrypt_block(&mut h);
        let mut g = GHash::new(&h);
        g.update(ghash::Block::slice_as_chunks(blocks).0);
        g.finalize().into()
    }

    /// The kernel on its own against the `aes` and `ghash` crates: CTR with the counter
    /// wrapping at every offset of the first batches, GHASH over whole batches and odd tails.
    #[test]
    fn kernel_matches_the_aes_and_ghash_crates() {
        if !available() {
            eprintln!("skipped: this CPU cannot run the kernel");
            return;
        }
        let mut seed = 0x243f_6a88_85a3_08d3u64;
        for case in 0..60u32 {
            let mut key = [0u8; 32];
            fill(&mut seed, &mut key);
            let (fast, aes) = (Key::new(&key).expect("available"), Aes256::new(&key.into()));
            let mut counter = [0u8; 16];
            fill(&mut seed, &mut counter[..12]);
            let start = u32::MAX - case % 24;
            counter[12..].copy_from_slice(&start.to_be_bytes());
            let len = BATCH_BYTES * (1 + case as usize % 5);
            let mut plain = vec![0u8; len];
            fill(&mut seed, &mut plain);
            let mut expected = plain.clone();
            for (i, block) in expected.chunks_exact_mut(16).enumerate() {
                let mut ks = aes::Block::from(counter);
                ks[12..].copy_from_slice(&start.wrapping_add(i as u32).to_be_bytes());
                aes.encrypt_block(&mut ks);
                block.iter_mut().zip(ks.iter()).for_each(|(b, k)| *b ^= k);
            }
            let mut buf = plain.clone();
            let mut acc = [0u8; 16];
            fast.encrypt(&counter, &mut acc, &mut buf);
            assert_eq!(buf, expected, "case {case}: ciphertext");
            let tag_part = u128::from_le_bytes(acc).to_be_bytes();
            assert_eq!(tag_part, reference_ghash(&aes, &expected), "case {case}: GHASH of the ciphertext");
            let mut acc2 = [0u8; 16];
            fast.decrypt(&counter, &mut acc2, &mut buf);
            assert_eq!(buf, plain, "case {case}: plaintext");
            assert_eq!(acc2, acc, "case {case}: decryption hashes the ciphertext");
            let blocks = 16 * (case as usize % (len / 16 + 1));
            let mut acc3 = [0u8; 16];
            fast.ghash(&mut acc3, &expected[..blocks]);
            assert_eq!(u128::from_le_bytes(acc3).to_be_bytes(), reference_ghash(&aes, &expected[..blocks]), "case {case}: {blocks} bytes");
        }
    }
}
