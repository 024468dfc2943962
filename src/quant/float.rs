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
/// round(x) = round_half_even(x / q) · q            in float64: every step is exact
/// ```
pub fn round_to_f16(x: f32) -> f32 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let a = x.abs() as f64;
    if a >= 65520.0 {
        return f32::INFINITY.copysign(x);
    }
    // floor(log2 a) from float32's exponent field (an f32 subnormal is far below 2^-14).
    let e = ((x.to_bits() >> 23) & 0xff) as i32 - 127;
    let q = if e < -14 {
        2f64.powi(-24)
    } else {
        2f64.powi(e - 10)
    };
    ((a / q).round_ties_even() * q).copysign(x as f64) as f32
}

/// `x` rounded to the nearest bfloat16 value (float32's top 16 bits), as a float32.
///
/// ```text
/// bits' = bits + 0x7fff + (bits >> 16 & 1)   round half to even on the 16 dropped bits;
/// keep bits' & 0xffff0000                    a carry into the exponent is the next binade,
///                                            and past the largest value it is infinity
/// ```
pub fn round_to_bf16(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    let b = x.to_bits();
    let r = b.wrapping_add(0x7fff + ((b >> 16) & 1));
    f32::from_bits(r & 0xffff_0000)
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
