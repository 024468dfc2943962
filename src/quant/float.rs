//! Float formats narrower than float32, as ONNX Cast to FLOAT16 / BFLOAT16 and back computes
//! them: round to nearest, ties to even; too large for the format becomes ±infinity; below
//! float16's normal range, its subnormals (steps of 2^-24); NaN stays NaN, ±0 and ±inf stay.
//! WebAssembly has no float16 arithmetic: these save memory, not time.

/// `x` rounded to the nearest float16 value, as a float32 (every float16 value is one).
///
/// ```text
/// |x| >= 65520                    -> ±inf      (65504 is the largest float16; 65520 is halfway
///                                                to 65536 and ties go to the even mantissa: inf)
/// |x| <  2^-14 (subnormal range)  -> q = 2^-24
/// otherwise                       -> q = 2^(e - 10),  e = floor(log2 |x|)
/// round(x) = round_half_even(x / q) · q
/// ```
/// Computed on the bits, without branches, so a loop over a tensor vectorizes (the sweep and the
/// QDQ path round every activation): in the normal range float16 keeps float32's top 10 mantissa
/// bits, so the 13 dropped bits round half to even, `a' = a + 0xfff + (a >> 13 & 1)`, and a carry
/// is the next binade (from 65504 it is 65536: infinity). Below 2^-14, `(|x| + 0.5) − 0.5` rounds
/// |x| to a multiple of 2^-24, which is ulp(0.5) in float32, half to even (0.5 is an even
/// multiple), and the subtraction is exact. tests/laws.rs checks this against the formula above.
#[inline]
pub fn round_to_f16(x: f32) -> f32 {
    let b = x.to_bits();
    let (sign, a) = (b & 0x8000_0000, b & 0x7fff_ffff);
    let normal = (a + 0xfff + ((a >> 13) & 1)) & !0x1fff;
    let normal = if normal >= 0x4780_0000 {
        0x7f80_0000
    } else {
        normal
    };
    let tiny = ((f32::from_bits(a) + 0.5) - 0.5).to_bits();
    let r = if a < 0x3880_0000 { tiny } else { normal };
    if a > 0x7f80_0000 {
        x
    } else {
        f32::from_bits(r | sign)
    }
}

/// `x` rounded to the nearest bfloat16 value (float32's top 16 bits), as a float32.
///
/// ```text
/// bits' = bits + 0x7fff + (bits >> 16 & 1)   round half to even on the 16 dropped bits;
/// keep bits' & 0xffff0000                    a carry into the exponent is the next binade,
///                                            and past the largest value it is infinity
/// ```
#[inline]
pub fn round_to_bf16(x: f32) -> f32 {
    let b = x.to_bits();
    let r = f32::from_bits(b.wrapping_add(0x7fff + ((b >> 16) & 1)) & 0xffff_0000);
    if x.is_nan() {
        x
    } else {
        r
    }
}

/// float16 bits to float32 (exact).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0f32 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f32;
    match exp {
        0 => sign * frac * 2f32.powi(-24),
        31 if frac == 0.0 => sign * f32::INFINITY,
        31 => f32::NAN,
        e => sign * (1.0 + frac / 1024.0) * 2f32.powi(e - 15),
    }
}
