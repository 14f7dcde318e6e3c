//! Argon2id as the legacy `AdvancedCryptoService.deriveKeyFromPassword` called libsodium:
//! `crypto_pwhash(32, from_string(password), from_base64(salt), OPSLIMIT_INTERACTIVE,
//! MEMLIMIT_INTERACTIVE, ALG_ARGON2ID13)`, i.e. Argon2id v1.3 with t = 2, m = 65536 KiB (64 MiB),
//! p = 1, no secret, no associated data, a 16-byte salt and a 32-byte output, returned as
//! libsodium base64.
//!
//! Two implementations of the memory-filling core, with identical results:
//!
//! - [`Backend::Avx2`]: this module's own Argon2 (RFC 9106) with the BlaMka permutation written
//!   in AVX2 intrinsics (the layout of the reference implementation's `opt.c`), used on x86-64
//!   when the CPU has AVX2 (detected at run time, so the binary still runs on any x86-64). The
//!   RustCrypto `argon2` crate leaves the permutation to the auto-vectorizer, which measured about
//!   15% slower here, and that margin decides the performance gate.
//! - [`Backend::Crate`]: the RustCrypto `argon2` crate, everywhere else. It is also the oracle the
//!   tests compare the AVX2 core with (every known answer through both, plus random parameters).
//!
//! The working memory (64 MiB of blocks derived from the password) is mapped per call, asked for
//! transparent huge pages (on this kind of VM, faulting in 16384 small pages cost ~45 ms, more
//! than half the hash), wiped before it is unmapped, and never kept between calls.

use argon2::{Algorithm, Argon2, AssociatedData, Block, Params, ParamsBuilder, Version};
use blake2::digest::block_api::{UpdateCore, VariableOutputCore};
use blake2::digest::block_buffer::LazyBuffer;
use blake2::digest::Digest;
use blake2::{Blake2b512, Blake2bVarCore};
use zeroize::{Zeroize, Zeroizing};

use crate::base64_sodium;
use crate::error::{CryptoError, ErrorCode, Result};

/// `crypto_pwhash_SALTBYTES`.
pub const SALT_BYTES: usize = 16;
/// The derived key length the legacy code asked for.
pub const OUTPUT_BYTES: usize = 32;
/// `crypto_pwhash_OPSLIMIT_INTERACTIVE`.
pub const T_COST: u32 = 2;
/// `crypto_pwhash_MEMLIMIT_INTERACTIVE` (67108864 bytes) in KiB.
pub const M_COST_KIB: u32 = 65536;
/// libsodium's Argon2 always runs one lane.
pub const P_COST: u32 = 1;

const BLOCK_BYTES: usize = 1024;
const SYNC_POINTS: usize = 4;
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
const ADDRESSES_IN_BLOCK: usize = 128;

/// Which implementation fills the Argon2 memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The RustCrypto `argon2` crate (portable).
    Crate,
    /// This module's AVX2 core (x86-64 CPUs with AVX2).
    Avx2,
}

/// Whether [`Backend::Avx2`] can run on this CPU.
pub fn avx2_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The backend [`argon2id_raw`] and the exports use.
pub fn default_backend() -> Backend {
    if avx2_available() {
        Backend::Avx2
    } else {
        Backend::Crate
    }
}

fn bad_params(e: argon2::Error) -> CryptoError {
    CryptoError::new(ErrorCode::InvalidArgValue, format!("Invalid Argon2 parameters: {e}"))
}

const _: () = assert!(std::mem::size_of::<Block>() == BLOCK_BYTES && std::mem::align_of::<Block>() <= 4096);

/// Argon2 working memory: fresh zero pages, wiped before they are returned to the system.
struct BlockMemory {
    /// The mapping (or allocation) as made, and the blocks inside it.
    base: *mut u8,
    mapped: usize,
    blocks: *mut u8,
    len: usize,
}

const HUGE_PAGE: usize = 2 << 20;

fn out_of_memory() -> CryptoError {
    CryptoError::new(ErrorCode::InvalidArgValue, "Could not allocate the Argon2 memory")
}

impl BlockMemory {
    #[cfg(unix)]
    fn new(len: usize) -> Result<Self> {
        let size = len.checked_mul(BLOCK_BYTES).filter(|&s| s > 0).ok_or_else(out_of_memory)?;
        // Room to start the blocks on a huge-page boundary, so every 2 MiB of them can be one page.
        let mapped = if size >= HUGE_PAGE { size.checked_add(HUGE_PAGE).ok_or_else(out_of_memory)? } else { size };
        // SAFETY: a fresh private anonymous mapping; the result is checked.
        let base = unsafe {
            libc::mmap(std::ptr::null_mut(), mapped, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
        };
        if base == libc::MAP_FAILED {
            return Err(out_of_memory());
        }
        let base = base.cast::<u8>();
        let offset = if size >= HUGE_PAGE { (HUGE_PAGE - (base as usize % HUGE_PAGE)) % HUGE_PAGE } else { 0 };
        // SAFETY: offset < HUGE_PAGE, within the mapping.
        let blocks = unsafe { base.add(offset) };
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if size >= HUGE_PAGE {
            // Only advice: without transparent huge pages the memory is simply made of small pages.
            // SAFETY: the range lies inside the mapping.
            unsafe { libc::madvise(blocks.cast(), size, libc::MADV_HUGEPAGE) };
        }
        Ok(BlockMemory { base, mapped, blocks, len })
    }

    #[cfg(not(unix))]
    fn new(len: usize) -> Result<Self> {
        let layout = Self::layout(len)?;
        // SAFETY: non-zero size (checked in `layout`).
        let base = unsafe { std::alloc::alloc_zeroed(layout) };
        if base.is_null() {
            return Err(out_of_memory());
        }
        Ok(BlockMemory { base, mapped: layout.size(), blocks: base, len })
    }

    #[cfg(not(unix))]
    fn layout(len: usize) -> Result<std::alloc::Layout> {
        let size = len.checked_mul(BLOCK_BYTES).filter(|&s| s > 0).ok_or_else(out_of_memory)?;
        std::alloc::Layout::from_size_align(size, 64).map_err(|_| out_of_memory())
    }

    /// The blocks as the `argon2` crate's type.
    fn crate_blocks(&mut self) -> &mut [Block] {
        // SAFETY: `len` blocks of 1024 bytes, 64-byte aligned (page-aligned), zero-initialized
        // (a valid `Block`: plain u64s), exclusively borrowed through `self`.
        unsafe { std::slice::from_raw_parts_mut(self.blocks.cast::<Block>(), self.len) }
    }
}

impl Drop for BlockMemory {
    fn drop(&mut self) {
        // One memset (a volatile write per word would cost a tenth of the hash), then the pointer
        // escapes through black_box so the wipe is not removed as a dead store.
        // SAFETY: the blocks are `len * 1024` bytes inside the mapping owned by `self`.
        unsafe { std::ptr::write_bytes(self.blocks, 0, self.len * BLOCK_BYTES) };
        std::hint::black_box(self.blocks);
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
        #[cfg(unix)]
        // SAFETY: the mapping made in `new`, unmapped once.
        unsafe {
            libc::munmap(self.base.cast(), self.mapped);
        }
        #[cfg(not(unix))]
        // SAFETY: allocated in `new` with this layout.
        unsafe {
            std::alloc::dealloc(self.base, std::alloc::Layout::from_size_align_unchecked(self.mapped, 64));
        }
    }
}

/// Argon2's variable-length hash H' (RFC 9106 section 3.3). `out` is 1 KiB (a block) or the
/// tag, whose length `validate` has checked (at least 4 bytes).
fn blake2b_long(inputs: &[&[u8]], out: &mut [u8]) {
    let len = (out.len() as u32).to_le_bytes();
    if out.len() <= 64 {
        // Blake2b with the output length itself as parameter (not a truncated Blake2b-512).
        if let Ok(mut core) = Blake2bVarCore::new(out.len()) {
            let mut buf = LazyBuffer::new(&len);
            for input in inputs {
                buf.digest_blocks(input, |blocks| core.update_blocks(blocks));
            }
            let mut full = Default::default();
            core.finalize_variable_core(&mut buf, &mut full);
            out.copy_from_slice(&full[..out.len()]);
            full.zeroize();
        }
        return;
    }
    let mut h = Blake2b512::new();
    h.update(len);
    for input in inputs {
        h.update(input);
    }
    let mut v = h.finalize();
    // V1..Vr: the first 32 bytes of each; then V(r+1) = Blake2b-(T - 32r)(Vr), 33..=64 bytes.
    out[..32].copy_from_slice(&v[..32]);
    let mut rest = &mut out[32..];
    while rest.len() > 64 {
        v = Blake2b512::digest(v);
        let (chunk, tail) = rest.split_at_mut(32);
        chunk.copy_from_slice(&v[..32]);
        rest = tail;
    }
    blake2b_long_last(&v, rest);
    v.zeroize();
}

fn blake2b_long_last(v: &[u8], out: &mut [u8]) {
    // V_{r+1} = Blake2b-(T - 32r)(V_r), without H''s length prefix.
    if let Ok(mut core) = Blake2bVarCore::new(out.len()) {
        let mut buf = LazyBuffer::new(&[]);
        buf.digest_blocks(v, |blocks| core.update_blocks(blocks));
        let mut full = Default::default();
        core.finalize_variable_core(&mut buf, &mut full);
        out.copy_from_slice(&full[..out.len()]);
        full.zeroize();
    }
}

/// Parameters validated by the `argon2` crate, shared by both backends.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
struct Validated {
    params: Params,
    lanes: usize,
    lane_length: usize,
    segment_length: usize,
    block_count: usize,
}

#[allow(clippy::too_many_arguments)]
fn validate(password: &[u8], salt: &[u8], secret: &[u8], associated_data: &[u8], t: u32, m: u32, p: u32, out_len: usize) -> Result<Validated> {
    let mut builder = ParamsBuilder::new();
    builder.t_cost(t).m_cost(m).p_cost(p).output_len(out_len);
    if !associated_data.is_empty() {
        builder.data(AssociatedData::new(associated_data).map_err(bad_params)?);
    }
    let params = builder.build().map_err(bad_params)?;
    if salt.len() < argon2::MIN_SALT_LEN || u32::try_from(salt.len()).is_err() {
        return Err(bad_params(argon2::Error::SaltTooShort));
    }
    if u32::try_from(password.len()).is_err() {
        return Err(bad_params(argon2::Error::PwdTooLong));
    }
    if u32::try_from(secret.len()).is_err() {
        return Err(bad_params(argon2::Error::SecretTooLong));
    }
    let lanes = p as usize;
    let block_count = params.block_count();
    let lane_length = block_count / lanes;
    Ok(Validated { params, lanes, lane_length, segment_length: lane_length / SYNC_POINTS, block_count })
}

/// H0 (RFC 9106 section 3.2).
fn initial_hash(v: &Validated, password: &[u8], salt: &[u8], secret: &[u8], ad: &[u8], out_len: usize) -> Zeroizing<[u8; 64]> {
    let mut h = Blake2b512::new();
    let le = |x: usize| (x as u32).to_le_bytes();
    h.update(v.params.p_cost().to_le_bytes());
    h.update(le(out_len));
    h.update(v.params.m_cost().to_le_bytes());
    h.update(v.params.t_cost().to_le_bytes());
    h.update(0x13u32.to_le_bytes());
    h.update(2u32.to_le_bytes()); // Argon2id
    for input in [password, salt, secret, ad] {
        h.update(le(input.len()));
        h.update(input);
    }
    let mut digest = h.finalize();
    let mut out = Zeroizing::new([0u8; 64]);
    out.copy_from_slice(&digest);
    digest.zeroize();
    out
}

/// Argon2id v1.3 with explicit parameters, including Argon2's optional secret (K) and associated
/// data (X) inputs, which libsodium's API does not have (the RFC 9106 known answer needs them).
/// Argon2's own limits apply (salt of at least 8 bytes, output of at least 4, m >= 8p, ...).
#[allow(clippy::too_many_arguments)]
pub fn argon2id_raw(password: &[u8], salt: &[u8], secret: &[u8], associated_data: &[u8], t_cost: u32, m_cost_kib: u32, p_cost: u32, out: &mut [u8]) -> Result<()> {
    argon2id_with(default_backend(), password, salt, secret, associated_data, t_cost, m_cost_kib, p_cost, out)
}

/// [`argon2id_raw`] through a chosen backend (tests compare the two). [`Backend::Avx2`] on a CPU
/// without AVX2 is an `ERR_INVALID_ARG_VALUE` error.
#[allow(clippy::too_many_arguments)]
pub fn argon2id_with(
    backend: Backend,
    password: &[u8],
    salt: &[u8],
    secret: &[u8],
    associated_data: &[u8],
    t_cost: u32,
    m_cost_kib: u32,
    p_cost: u32,
    out: &mut [u8],
) -> Result<()> {
    let v = validate(password, salt, secret, associated_data, t_cost, m_cost_kib, p_cost, out.len())?;
    match backend {
        Backend::Crate => {
            let ctx = if secret.is_empty() {
                Argon2::new(Algorithm::Argon2id, Version::V0x13, v.params)
            } else {
                Argon2::new_with_secret(secret, Algorithm::Argon2id, Version::V0x13, v.params).map_err(bad_params)?
            };
            let mut memory = BlockMemory::new(v.block_count)?;
            ctx.hash_password_into_with_memory(password, salt, out, memory.crate_blocks()).map_err(bad_params)
        }
        Backend::Avx2 => {
            if !avx2_available() {
                return Err(CryptoError::new(ErrorCode::InvalidArgValue, "This CPU has no AVX2"));
            }
            let h0 = initial_hash(&v, password, salt, secret, associated_data, out.len());
            #[allow(unused_mut)]
            let mut memory = BlockMemory::new(v.block_count)?;
            #[cfg(target_arch = "x86_64")]
            // SAFETY: AVX2 was detected above; the memory holds `block_count` zeroed blocks.
            unsafe {
                avx2::hash(memory.blocks.cast(), &v, &h0, out)
            };
            #[cfg(not(target_arch = "x86_64"))]
            let _ = (&h0, &mut memory);
            Ok(())
        }
    }
}

/// `crypto_pwhash` with the legacy parameters. The salt must be exactly 16 bytes (libsodium's
/// "invalid salt length", `ERR_INVALID_SALT`).
pub fn derive_interactive(password: &[u8], salt: &[u8]) -> Result<Zeroizing<[u8; OUTPUT_BYTES]>> {
    derive_interactive_with(default_backend(), password, salt)
}

/// [`derive_interactive`] through a chosen backend.
pub fn derive_interactive_with(backend: Backend, password: &[u8], salt: &[u8]) -> Result<Zeroizing<[u8; OUTPUT_BYTES]>> {
    if salt.len() != SALT_BYTES {
        return Err(CryptoError::new(
            ErrorCode::InvalidSalt,
            format!("The salt must be {SALT_BYTES} bytes, got {} (invalid salt length)", salt.len()),
        ));
    }
    let mut out = Zeroizing::new([0u8; OUTPUT_BYTES]);
    argon2id_with(backend, password, salt, &[], &[], T_COST, M_COST_KIB, P_COST, &mut out[..])?;
    Ok(out)
}

/// The salt argument: libsodium base64 (strict, [`crate::base64_sodium`]) of exactly 16 bytes,
/// from the code units JavaScript holds. Every failure is `ERR_INVALID_SALT`.
pub fn decode_salt(units: &[u16]) -> Result<[u8; SALT_BYTES]> {
    let bytes = base64_sodium::decode(units)
        .map_err(|e| CryptoError::new(ErrorCode::InvalidSalt, format!("The salt is not libsodium base64 ({e})")))?;
    <[u8; SALT_BYTES]>::try_from(bytes.as_slice()).map_err(|_| {
        CryptoError::new(
            ErrorCode::InvalidSalt,
            format!("The salt must decode to {SALT_BYTES} bytes, got {} (invalid salt length)", bytes.len()),
        )
    })
}

/// `AdvancedCryptoService.deriveKeyFromPassword`: the derived key as libsodium base64.
pub fn derive_key_from_password(password: &[u8], salt: &[u8; SALT_BYTES]) -> Result<Zeroizing<String>> {
    derive_key_from_password_with(default_backend(), password, salt)
}

/// [`derive_key_from_password`] through a chosen backend.
pub fn derive_key_from_password_with(backend: Backend, password: &[u8], salt: &[u8; SALT_BYTES]) -> Result<Zeroizing<String>> {
    let key = derive_interactive_with(backend, password, salt)?;
    Ok(Zeroizing::new(base64_sodium::to_base64(&key[..])))
}

/// The AVX2 core: the reference implementation's `opt.c` structure (the previous block stays in
/// 32 ymm-sized words of state; rows then columns of the BlaMka permutation, two rows or two
/// column pairs per pass), written with `core::arch` intrinsics.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use core::arch::x86_64::*;

    use super::{blake2b_long, Validated, ADDRESSES_IN_BLOCK, BLOCK_BYTES, SYNC_POINTS};

    /// One 1 KiB block as 128 little-endian u64 words.
    #[derive(Clone, Copy)]
    #[repr(C, align(64))]
    struct Blk([u64; 128]);

    const ZERO: Blk = Blk([0; 128]);

    macro_rules! rotr32 {
        ($x:expr) => {
            _mm256_shuffle_epi32::<0b10_11_00_01>($x)
        };
    }
    macro_rules! rotr24 {
        ($x:expr) => {
            _mm256_shuffle_epi8(
                $x,
                _mm256_setr_epi8(3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10, 3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10),
            )
        };
    }
    macro_rules! rotr16 {
        ($x:expr) => {
            _mm256_shuffle_epi8(
                $x,
                _mm256_setr_epi8(2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9, 2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9),
            )
        };
    }
    macro_rules! rotr63 {
        ($x:expr) => {
            _mm256_xor_si256(_mm256_srli_epi64::<63>($x), _mm256_add_epi64($x, $x))
        };
    }
    /// a = a + b + 2 * lo32(a) * lo32(b)
    macro_rules! blamka {
        ($a:expr, $b:expr) => {{
            let ml = _mm256_mul_epu32($a, $b);
            _mm256_add_epi64($a, _mm256_add_epi64($b, _mm256_add_epi64(ml, ml)))
        }};
    }
    /// First half of four BlaMka G functions in parallel (rotations 32 and 24).
    macro_rules! g1 {
        ($a:expr, $b:expr, $c:expr, $d:expr) => {
            $a = blamka!($a, $b);
            $d = rotr32!(_mm256_xor_si256($d, $a));
            $c = blamka!($c, $d);
            $b = rotr24!(_mm256_xor_si256($b, $c));
        };
    }
    /// Second half (rotations 16 and 63).
    macro_rules! g2 {
        ($a:expr, $b:expr, $c:expr, $d:expr) => {
            $a = blamka!($a, $b);
            $d = rotr16!(_mm256_xor_si256($d, $a));
            $c = blamka!($c, $d);
            $b = rotr63!(_mm256_xor_si256($b, $c));
        };
    }
    macro_rules! g_both {
        ($a0:expr, $a1:expr, $b0:expr, $b1:expr, $c0:expr, $c1:expr, $d0:expr, $d1:expr) => {
            g1!($a0, $b0, $c0, $d0);
            g1!($a1, $b1, $c1, $d1);
            g2!($a0, $b0, $c0, $d0);
            g2!($a1, $b1, $c1, $d1);
        };
    }
    /// The permutation on two rows (each row: a = words 0-3, b = 4-7, c = 8-11, d = 12-15).
    macro_rules! round_rows {
        ($a0:expr, $a1:expr, $b0:expr, $b1:expr, $c0:expr, $c1:expr, $d0:expr, $d1:expr) => {
            g_both!($a0, $a1, $b0, $b1, $c0, $c1, $d0, $d1);
            // Diagonalize within each row: b by one word, c by two, d by three.
            $b0 = _mm256_permute4x64_epi64::<0b00_11_10_01>($b0);
            $c0 = _mm256_permute4x64_epi64::<0b01_00_11_10>($c0);
            $d0 = _mm256_permute4x64_epi64::<0b10_01_00_11>($d0);
            $b1 = _mm256_permute4x64_epi64::<0b00_11_10_01>($b1);
            $c1 = _mm256_permute4x64_epi64::<0b01_00_11_10>($c1);
            $d1 = _mm256_permute4x64_epi64::<0b10_01_00_11>($d1);
            g_both!($a0, $a1, $b0, $b1, $c0, $c1, $d0, $d1);
            $b0 = _mm256_permute4x64_epi64::<0b10_01_00_11>($b0);
            $c0 = _mm256_permute4x64_epi64::<0b01_00_11_10>($c0);
            $d0 = _mm256_permute4x64_epi64::<0b00_11_10_01>($d0);
            $b1 = _mm256_permute4x64_epi64::<0b10_01_00_11>($b1);
            $c1 = _mm256_permute4x64_epi64::<0b01_00_11_10>($c1);
            $d1 = _mm256_permute4x64_epi64::<0b00_11_10_01>($d1);
        };
    }
    /// The permutation on two columns pairs: rows 0..7 of word pairs (4i, 4i+1) and (4i+2, 4i+3).
    macro_rules! round_columns {
        ($a0:expr, $a1:expr, $b0:expr, $b1:expr, $c0:expr, $c1:expr, $d0:expr, $d1:expr) => {
            g_both!($a0, $a1, $b0, $b1, $c0, $c1, $d0, $d1);
            let t1 = _mm256_blend_epi32::<0xCC>($b0, $b1);
            let t2 = _mm256_blend_epi32::<0x33>($b0, $b1);
            $b1 = _mm256_permute4x64_epi64::<0b10_11_00_01>(t1);
            $b0 = _mm256_permute4x64_epi64::<0b10_11_00_01>(t2);
            let t1 = $c0;
            $c0 = $c1;
            $c1 = t1;
            let t1 = _mm256_blend_epi32::<0xCC>($d0, $d1);
            let t2 = _mm256_blend_epi32::<0x33>($d0, $d1);
            $d0 = _mm256_permute4x64_epi64::<0b10_11_00_01>(t1);
            $d1 = _mm256_permute4x64_epi64::<0b10_11_00_01>(t2);
            g_both!($a0, $a1, $b0, $b1, $c0, $c1, $d0, $d1);
            let t1 = _mm256_blend_epi32::<0xCC>($b0, $b1);
            let t2 = _mm256_blend_epi32::<0x33>($b0, $b1);
            $b0 = _mm256_permute4x64_epi64::<0b10_11_00_01>(t1);
            $b1 = _mm256_permute4x64_epi64::<0b10_11_00_01>(t2);
            let t1 = $c0;
            $c0 = $c1;
            $c1 = t1;
            let t1 = _mm256_blend_epi32::<0x33>($d0, $d1);
            let t2 = _mm256_blend_epi32::<0xCC>($d0, $d1);
            $d0 = _mm256_permute4x64_epi64::<0b10_11_00_01>(t1);
            $d1 = _mm256_permute4x64_epi64::<0b10_11_00_01>(t2);
        };
    }

    type State = [__m256i; 32];

    /// `next = G(state, ref)` (or `next ^= G(state, ref)` with `xor`), leaving `next` in `state`.
    /// `word0` is called with the first word of the new block as soon as it is final (after the
    /// first of the four column rounds), to start loading the block the next step references
    /// while this one finishes.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn fill_block(s: &mut State, xy: &mut State, reference: *const Blk, next: *mut Blk, xor: bool, word0: impl FnOnce(u64)) {
        let r = reference.cast::<__m256i>();
        let n = next.cast::<__m256i>();
        for i in 0..32 {
            s[i] = _mm256_xor_si256(s[i], _mm256_load_si256(r.add(i)));
            xy[i] = if xor { _mm256_xor_si256(s[i], _mm256_load_si256(n.add(i))) } else { s[i] };
        }
        for i in 0..4 {
            round_rows!(s[8 * i], s[8 * i + 4], s[8 * i + 1], s[8 * i + 5], s[8 * i + 2], s[8 * i + 6], s[8 * i + 3], s[8 * i + 7]);
        }
        round_columns!(s[0], s[4], s[8], s[12], s[16], s[20], s[24], s[28]);
        // s[0] takes part in no later round: the new block's word 0 is known now.
        word0(_mm_cvtsi128_si64(_mm256_castsi256_si128(_mm256_xor_si256(s[0], xy[0]))) as u64);
        for i in 1..4 {
            round_columns!(s[i], s[4 + i], s[8 + i], s[12 + i], s[16 + i], s[20 + i], s[24 + i], s[28 + i]);
        }
        for i in 0..32 {
            s[i] = _mm256_xor_si256(s[i], xy[i]);
            _mm256_store_si256(n.add(i), s[i]);
        }
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn load_state(block: *const Blk) -> State {
        let b = block.cast::<__m256i>();
        let mut s = [_mm256_setzero_si256(); 32];
        for (i, w) in s.iter_mut().enumerate() {
            *w = _mm256_load_si256(b.add(i));
        }
        s
    }

    /// The next block of pseudo-random addresses (data-independent addressing).
    #[target_feature(enable = "avx2")]
    unsafe fn next_addresses(address: &mut Blk, input: &mut Blk) {
        input.0[6] += 1;
        // Made from public parameters only (pass, lane, slice, sizes, counter): nothing to wipe.
        let mut xy = [_mm256_setzero_si256(); 32];
        let mut s = load_state(&ZERO);
        fill_block(&mut s, &mut xy, input, address, false, |_| {});
        let first = *address;
        let mut s = load_state(&ZERO);
        fill_block(&mut s, &mut xy, &first, address, false, |_| {});
    }

    struct Position {
        pass: usize,
        lane: usize,
        slice: usize,
    }

    /// RFC 9106 section 3.4.1.2: the block that step `i` of the segment references, from its
    /// pseudo-random word (the high half picks the lane, the low half a block among those it may
    /// reference, biased towards recent ones).
    #[inline]
    fn reference_index(v: &Validated, pos: &Position, i: usize, rand: u64) -> usize {
        let (q, seg) = (v.lane_length, v.segment_length);
        let ref_lane = if pos.pass == 0 && pos.slice == 0 { pos.lane } else { ((rand >> 32) as usize) % v.lanes };
        let same_lane = ref_lane == pos.lane;
        let area = if pos.pass == 0 {
            if pos.slice == 0 {
                i - 1
            } else if same_lane {
                pos.slice * seg + i - 1
            } else {
                pos.slice * seg - usize::from(i == 0)
            }
        } else if same_lane {
            q - seg + i - 1
        } else {
            q - seg - usize::from(i == 0)
        };
        let x = ((rand & 0xFFFF_FFFF) * (rand & 0xFFFF_FFFF)) >> 32;
        let y = (area as u64 * x) >> 32;
        let relative = area - 1 - y as usize;
        let start_position = if pos.pass != 0 && pos.slice != SYNC_POINTS - 1 { (pos.slice + 1) * seg } else { 0 };
        ref_lane * q + (start_position + relative) % q
    }

    #[target_feature(enable = "avx2")]
    unsafe fn fill_segment(mem: *mut Blk, v: &Validated, t_cost: usize, pos: &Position) {
        let (q, seg) = (v.lane_length, v.segment_length);
        let data_independent = pos.pass == 0 && pos.slice < SYNC_POINTS / 2;
        let mut address = ZERO;
        let mut input = ZERO;
        if data_independent {
            input.0[..6].copy_from_slice(&[pos.pass as u64, pos.lane as u64, pos.slice as u64, v.block_count as u64, t_cost as u64, 2]);
        }
        let start = if pos.pass == 0 && pos.slice == 0 {
            if data_independent {
                next_addresses(&mut address, &mut input);
            }
            2
        } else {
            0
        };
        let first = pos.lane * q + pos.slice * seg + start;
        let mut prev = if first.is_multiple_of(q) { first + q - 1 } else { first - 1 };
        let mut state = load_state(mem.add(prev));
        let mut xy = [_mm256_setzero_si256(); 32];
        for (curr, i) in (first..).zip(start..seg) {
            let rand = if data_independent {
                if i % ADDRESSES_IN_BLOCK == 0 {
                    next_addresses(&mut address, &mut input);
                }
                address.0[i % ADDRESSES_IN_BLOCK]
            } else {
                (*mem.add(prev)).0[0]
            };
            let ref_index = reference_index(v, pos, i, rand);
            // The next step's pseudo-random word: from the address block (unless it must be
            // regenerated first) or the first word of the block made now.
            let next_known = data_independent && (i + 1) % ADDRESSES_IN_BLOCK != 0;
            let next_rand = address.0[(i + 1) % ADDRESSES_IN_BLOCK];
            let prefetch = |word0: u64| {
                if i + 1 < seg && (next_known || !data_independent) {
                    let r = if data_independent { next_rand } else { word0 };
                    let block = mem.add(reference_index(v, pos, i + 1, r)).cast::<i8>();
                    for line in 0..BLOCK_BYTES / 64 {
                        _mm_prefetch::<_MM_HINT_T0>(block.add(line * 64));
                    }
                }
            };
            fill_block(&mut state, &mut xy, mem.add(ref_index), mem.add(curr), pos.pass != 0, prefetch);
            prev = curr;
        }
        // The state and scratch held password-derived blocks: clear these stack copies too.
        for w in state.iter_mut().chain(xy.iter_mut()) {
            core::ptr::write_volatile(w, _mm256_setzero_si256());
        }
    }

    /// Fill `mem` (zeroed, `v.block_count` blocks) and write the tag to `out`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn hash(mem: *mut u8, v: &Validated, h0: &[u8; 64], out: &mut [u8]) {
        let mem = mem.cast::<Blk>();
        let q = v.lane_length;
        let mut bytes = [0u8; BLOCK_BYTES];
        for lane in 0..v.lanes {
            for i in 0..2u32 {
                blake2b_long(&[h0, &i.to_le_bytes(), &(lane as u32).to_le_bytes()], &mut bytes);
                let block = &mut *mem.add(lane * q + i as usize);
                for (w, chunk) in block.0.iter_mut().zip(bytes.chunks_exact(8)) {
                    *w = u64::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7]]);
                }
            }
        }
        let t_cost = v.params.t_cost() as usize;
        for pass in 0..t_cost {
            for slice in 0..SYNC_POINTS {
                for lane in 0..v.lanes {
                    fill_segment(mem, v, t_cost, &Position { pass, lane, slice });
                }
            }
        }
        let mut last = *mem.add(q - 1);
        for lane in 1..v.lanes {
            let other = &*mem.add(lane * q + q - 1);
            for (w, o) in last.0.iter_mut().zip(other.0.iter()) {
                *w ^= o;
            }
        }
        for (chunk, w) in bytes.chunks_exact_mut(8).zip(last.0.iter()) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        blake2b_long(&[&bytes], out);
        zeroize::Zeroize::zeroize(&mut bytes[..]);
        zeroize::Zeroize::zeroize(&mut last.0[..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salt_rules() {
        let u = |s: &str| s.encode_utf16().collect::<Vec<u16>>();
        assert!(decode_salt(&u("AAAAAAAAAAAAAAAAAAAAAA")).is_ok());
        for bad in ["AAAA", "AAAAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAAAAAAAB", "AAAAAAAAAAAAAAAAAAAAAAA", ""] {
            assert_eq!(decode_salt(&u(bad)).unwrap_err().code, ErrorCode::InvalidSalt, "{bad:?}");
        }
        assert_eq!(derive_interactive(b"pw", &[0; 8]).unwrap_err().code, ErrorCode::InvalidSalt);
    }

    #[test]
    fn invalid_parameters_are_errors() {
        let mut out = [0u8; 32];
        for backend in [Backend::Crate, default_backend()] {
            assert!(argon2id_with(backend, b"pw", &[1; 4], &[], &[], 1, 8, 1, &mut out).is_err(), "short salt");
            assert!(argon2id_with(backend, b"pw", &[1; 16], &[], &[], 0, 8, 1, &mut out).is_err(), "t = 0");
            assert!(argon2id_with(backend, b"pw", &[1; 16], &[], &[], 1, 7, 1, &mut out).is_err(), "m < 8p");
            assert!(argon2id_with(backend, b"pw", &[1; 16], &[], &[], 1, 8, 1, &mut [0u8; 3]).is_err(), "output < 4");
        }
    }

    #[test]
    fn h_prime_lengths_match_the_crate() {
        // Outputs of every length class of H' (<= 64, 65..=96 with a short last piece, > 96),
        // through both backends (the tag is H' of the final block).
        for len in [4usize, 31, 32, 33, 63, 64, 65, 80, 96, 97, 100, 128, 200, 1024] {
            let mut a = vec![0u8; len];
            let mut b = vec![0u8; len];
            argon2id_with(Backend::Crate, b"password", b"somesalt", &[], &[], 1, 16, 2, &mut a).unwrap();
            if avx2_available() {
                argon2id_with(Backend::Avx2, b"password", b"somesalt", &[], &[], 1, 16, 2, &mut b).unwrap();
                assert_eq!(a, b, "output length {len}");
            }
        }
    }
}
