//! SplitMix64: a tiny, fast, fully specified PRNG (Steele, Lea, Flood 2014).
//! Used for weight init, shuffling and augmentation, so a seed fixes every random choice.
//!
//!   state += 0x9E3779B97F4A7C15
//!   z = state
//!   z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
//!   z = (z ^ (z >> 27)) * 0x94D049BB133111EB
//!   return z ^ (z >> 31)

#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Integer in [0, n): the high 64 bits of the 128-bit product u64 * n (Lemire's method,
    /// bias below 2^-64 * n, irrelevant here).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// f32 in [0, 1) from the top 24 bits: exact multiples of 2^-24.
    pub fn unit_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u32 << 24) as f32)
    }

    /// f32 uniform in [-bound, bound).
    pub fn symmetric(&mut self, bound: f32) -> f32 {
        (self.unit_f32() * 2.0 - 1.0) * bound
    }

    /// Fisher-Yates shuffle: for i = n-1 down to 1, swap v[i] with v[j], j uniform in [0, i].
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}
