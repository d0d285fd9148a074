//! Byte classes of a 64-byte block as bit masks (bit i set when byte i is in the class): the
//! first step of the fast paths that look for runs and patterns of bytes (the digit gate, the
//! regions of the normalised view, the base64 runs of the decoding layer). A class is written
//! once, over 16 lanes at a time; on x86-64 the lanes are SSE2 registers (part of its
//! baseline), elsewhere plain bytes.

/// Sixteen bytes, or after a test sixteen lanes that are all ones (in the class) or zeros.
#[derive(Clone, Copy)]
pub(crate) struct Lanes(imp::Vector);

impl Lanes {
    /// Lanes equal to `c`.
    #[inline]
    pub fn eq(self, c: u8) -> Lanes {
        Lanes(imp::eq(self.0, c))
    }

    /// Lanes within `lo..=lo + n`.
    #[inline]
    pub fn within(self, lo: u8, n: u8) -> Lanes {
        Lanes(imp::within(self.0, lo, n))
    }

    /// Lanes in either class.
    #[inline]
    pub fn or(self, other: Lanes) -> Lanes {
        Lanes(imp::or(self.0, other.0))
    }

    /// Lanes that are ASCII letters of either case.
    #[inline]
    pub fn ascii_letter(self) -> Lanes {
        // b | 0x20 folds capitals to lower case (and nothing else into a..=z).
        Lanes(imp::within(imp::or(self.0, imp::splat(0x20)), b'a', 25))
    }

    /// Sixteen bytes as lanes.
    #[inline]
    pub fn load(bytes: &[u8; 16]) -> Lanes {
        Lanes(imp::load(bytes))
    }

    /// Sixteen lanes holding `b`.
    #[inline]
    pub fn splat(b: u8) -> Lanes {
        Lanes(imp::splat(b))
    }

    /// One bit per lane (bit i for lane i): its byte's top bit, so of a test's result whether
    /// the test held.
    #[inline]
    pub fn bits(self) -> u16 {
        imp::bits(self.0)
    }

    /// Of a test's result: `yes`'s lane where the test held, `no`'s elsewhere.
    #[inline]
    pub fn select(self, yes: Lanes, no: Lanes) -> Lanes {
        Lanes(imp::or(imp::and(self.0, yes.0), imp::and_not(self.0, no.0)))
    }

    /// The sixteen bytes.
    #[inline]
    pub fn to_bytes(self) -> [u8; 16] {
        imp::store(self.0)
    }

    /// Lanes equal to any of `bytes`.
    #[inline]
    pub fn any_of(self, bytes: &[u8]) -> Lanes {
        // Zero lanes: the empty class.
        let none = Lanes(imp::splat(0));
        bytes.iter().fold(none, |acc, &c| acc.or(self.eq(c)))
    }
}

/// Offset of the first byte of `bytes` that is not ASCII, sixteen bytes at a time.
pub(crate) fn first_non_ascii(bytes: &[u8]) -> Option<usize> {
    let mut blocks = bytes.chunks_exact(16);
    let mut at = 0;
    for block in &mut blocks {
        // A lane's top bit is set exactly when its byte is not ASCII.
        let high = Lanes::load(block.try_into().expect("16 bytes")).bits();
        if high != 0 {
            return Some(at + high.trailing_zeros() as usize);
        }
        at += 16;
    }
    let rest = blocks.remainder();
    rest.iter().position(|b| !b.is_ascii()).map(|p| at + p)
}

/// The `N` masks `classify` gives for the 64 bytes of `block`.
#[inline]
pub(crate) fn masks64<const N: usize>(
    block: &[u8; 64],
    classify: impl Fn(Lanes) -> [Lanes; N],
) -> [u64; N] {
    let mut masks = [0u64; N];
    for k in 0..4 {
        let lanes = Lanes(imp::load(
            block[16 * k..16 * k + 16].try_into().expect("16"),
        ));
        for (mask, class) in masks.iter_mut().zip(classify(lanes)) {
            *mask |= u64::from(imp::bits(class.0)) << (16 * k);
        }
    }
    masks
}

/// The masks of the (up to) 64 bytes at `base` of `hay`; bytes past its end are zeros.
#[inline]
pub(crate) fn masks_at<const N: usize>(
    hay: &[u8],
    base: usize,
    classify: impl Fn(Lanes) -> [Lanes; N],
) -> [u64; N] {
    let rest = hay.get(base..).unwrap_or_default();
    match <&[u8; 64]>::try_from(rest.get(..64).unwrap_or(rest)) {
        Ok(block) => masks64(block, classify),
        Err(_) => {
            let mut block = [0u8; 64];
            block[..rest.len()].copy_from_slice(rest);
            masks64(&block, classify)
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod imp {
    use std::arch::x86_64::*;

    pub type Vector = __m128i;

    // SAFETY (every function here): SSE2 is part of the x86-64 baseline; the load reads 16
    // bytes from a 16-byte array and the store writes 16 bytes into one, both unaligned.
    #[inline]
    pub fn load(bytes: &[u8; 16]) -> Vector {
        unsafe { _mm_loadu_si128(bytes.as_ptr() as *const __m128i) }
    }

    #[inline]
    pub fn splat(b: u8) -> Vector {
        unsafe { _mm_set1_epi8(b as i8) }
    }

    #[inline]
    pub fn eq(v: Vector, c: u8) -> Vector {
        unsafe { _mm_cmpeq_epi8(v, splat(c)) }
    }

    #[inline]
    pub fn within(v: Vector, lo: u8, n: u8) -> Vector {
        // (b - lo) as unsigned <= n.
        unsafe {
            let t = _mm_sub_epi8(v, splat(lo));
            _mm_cmpeq_epi8(_mm_min_epu8(t, splat(n)), t)
        }
    }

    #[inline]
    pub fn or(a: Vector, b: Vector) -> Vector {
        unsafe { _mm_or_si128(a, b) }
    }

    #[inline]
    pub fn and(a: Vector, b: Vector) -> Vector {
        unsafe { _mm_and_si128(a, b) }
    }

    /// `b` where `a` is zero.
    #[inline]
    pub fn and_not(a: Vector, b: Vector) -> Vector {
        unsafe { _mm_andnot_si128(a, b) }
    }

    #[inline]
    pub fn bits(v: Vector) -> u16 {
        unsafe { _mm_movemask_epi8(v) as u16 }
    }

    #[inline]
    pub fn store(v: Vector) -> [u8; 16] {
        let mut out = [0u8; 16];
        unsafe { _mm_storeu_si128(out.as_mut_ptr() as *mut __m128i, v) };
        out
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod imp {
    pub type Vector = [u8; 16];

    #[inline]
    pub fn load(bytes: &[u8; 16]) -> Vector {
        *bytes
    }

    #[inline]
    pub fn splat(b: u8) -> Vector {
        [b; 16]
    }

    #[inline]
    fn lanes(v: Vector, f: impl Fn(u8) -> bool) -> Vector {
        v.map(|b| if f(b) { 0xFF } else { 0 })
    }

    #[inline]
    pub fn eq(v: Vector, c: u8) -> Vector {
        lanes(v, |b| b == c)
    }

    #[inline]
    pub fn within(v: Vector, lo: u8, n: u8) -> Vector {
        lanes(v, |b| b.wrapping_sub(lo) <= n)
    }

    #[inline]
    pub fn or(a: Vector, b: Vector) -> Vector {
        std::array::from_fn(|i| a[i] | b[i])
    }

    #[inline]
    pub fn and(a: Vector, b: Vector) -> Vector {
        std::array::from_fn(|i| a[i] & b[i])
    }

    /// `b` where `a` is zero.
    #[inline]
    pub fn and_not(a: Vector, b: Vector) -> Vector {
        std::array::from_fn(|i| !a[i] & b[i])
    }

    #[inline]
    pub fn store(v: Vector) -> [u8; 16] {
        v
    }

    #[inline]
    pub fn bits(v: Vector) -> u16 {
        v.iter()
            .enumerate()
            .fold(0, |m, (i, &b)| m | (u16::from(b >> 7) << i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_are_the_classes_of_each_byte() {
        let block: [u8; 64] = std::array::from_fn(|i| (i * 37 + 11) as u8);
        let [digit, lower_letter, some] = masks64(&block, |v| {
            [v.within(b'0', 9), v.ascii_letter(), v.any_of(b"+/=\xff")]
        });
        for (i, &b) in block.iter().enumerate() {
            assert_eq!(digit >> i & 1 == 1, b.is_ascii_digit(), "byte {b}");
            assert_eq!(
                lower_letter >> i & 1 == 1,
                b.is_ascii_alphabetic(),
                "byte {b}"
            );
            assert_eq!(some >> i & 1 == 1, b"+/=\xff".contains(&b), "byte {b}");
        }
        for (text, first) in [
            (&b"plain ascii text, longer than a block"[..], None),
            ("0123456789abcdef\u{e9}".as_bytes(), Some(16)),
            ("ab\u{e9}".as_bytes(), Some(2)),
            ("\u{200b}".as_bytes(), Some(0)),
            (b"", None),
        ] {
            assert_eq!(first_non_ascii(text), first, "{text:?}");
        }
        // Past the end of the text, no byte is in any class.
        let [none] = masks_at(b"0123", 0, |v| [v.within(b'0', 9)]);
        assert_eq!(none, 0b1111);
    }
}
