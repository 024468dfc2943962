//! Compute kernels. Each fast kernel has a plain reference beside it ([`reference`]) and is
//! tested against it: integer kernels bit for bit, float kernels within rounding.
//!
//! Layouts (all row-major, one image at a time, NCHW):
//! * activations `[C, H, W]`; conv weights `[M, C, kH, kW]`; linear weights `[N_out, N_in]`.
//! * fp32 conv: `im2col` writes `col[K, Pp]` (K = C·kH·kW rows, one per weight tap; Pp = output
//!   pixels P rounded up to 8, zero-filled); the GEMM computes a 4 (channels) × 8 (pixels) tile
//!   of `out[M, P]` per step, broadcasting one weight against 8 pixels.
//! * int8 conv: the same tile, but over *pairs* of taps: `col[K2, Pp, 2]` (K2 = ⌈K/2⌉) holds i16
//!   values with taps `2j, 2j+1` of one pixel side by side, and the weights `[M, K2, 2]` i16, so
//!   `i32x4.dot_i16x8_s` of a splatted weight pair with a col vector adds two products per
//!   pixel for 4 pixels at once.
//!
//! Kernels never allocate: callers hand in scratch buffers ([`Scratch`]).

pub mod fp32;
// Kernels take ONNX's arguments one by one (data, scales, zero points, shapes); bundling them
// into structs would only move the list.
#[allow(clippy::too_many_arguments)]
pub mod int8;
#[allow(clippy::too_many_arguments)]
pub mod reference;

/// Output pixels per GEMM tile, and channels per tile.
pub const TILE_P: usize = 8;
pub const TILE_M: usize = 4;

pub fn round_up(n: usize, m: usize) -> usize {
    n.div_ceil(m) * m
}

/// Geometry of one conv: input `[c, h, w]`, `k×k` kernel, stride 1, `pad` on every side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvShape {
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub m: usize,
    pub k: usize,
    pub pad: usize,
}

impl ConvShape {
    pub fn out_h(&self) -> usize {
        self.h + 2 * self.pad + 1 - self.k
    }
    pub fn out_w(&self) -> usize {
        self.w + 2 * self.pad + 1 - self.k
    }
    /// Output pixels per channel.
    pub fn p(&self) -> usize {
        self.out_h() * self.out_w()
    }
    /// P rounded up to the tile width.
    pub fn pp(&self) -> usize {
        round_up(self.p(), TILE_P)
    }
    /// Taps per output value, `c·k·k`.
    pub fn taps(&self) -> usize {
        self.c * self.k * self.k
    }
    pub fn tap_pairs(&self) -> usize {
        self.taps().div_ceil(2)
    }
}

/// Reusable buffers for one forward pass; grows to the largest layer once.
#[derive(Default, Debug)]
pub struct Scratch {
    pub col_f32: Vec<f32>,
    pub col_i16: Vec<i16>,
    pub x_i16: Vec<i16>,
    pub w_f32: Vec<f32>,
}

impl Scratch {
    pub fn col_f32(&mut self, n: usize) -> &mut [f32] {
        if self.col_f32.len() < n {
            self.col_f32.resize(n, 0.0);
        }
        &mut self.col_f32[..n]
    }
    pub fn col_i16(&mut self, n: usize) -> &mut [i16] {
        if self.col_i16.len() < n {
            self.col_i16.resize(n, 0);
        }
        &mut self.col_i16[..n]
    }
}
