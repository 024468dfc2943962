//! The training GEMM: one kernel for the forward product and both backward products.
//!
//! ```text
//! C[m×n] += A[m×k] · B[k×n]      A(i, p) = a[i·rsa + p·csa]   (strides: A or Aᵀ)
//!                                 B, C row-major, rows of n
//! C(i, j) = ((c + A(i,0)·B(0,j)) + A(i,1)·B(1,j)) + …        in this order, no FMA
//! ```
//!
//! Why not the inference kernels: training must give the same bits natively and in every wasm
//! build (a test checks it), so each output element is summed in one fixed order whatever the
//! tile, with a separate multiply and add (Rust never contracts them into an FMA). Register
//! tiles of 4 rows × 8 columns vectorize to SIMD128 (two f32x4 per row) without changing that
//! order, because the lanes are different output elements, never parts of one sum.

const MR: usize = 4;
const NR: usize = 8;

/// `C += A·B` (formula above). Panics if a slice is too short (a bug, never user input).
/// Never inlined: one copy serves the three products of every layer (the wasm stays smaller).
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub fn gemm_acc(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    rsa: usize,
    csa: usize,
    b: &[f32],
    c: &mut [f32],
) {
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    assert!(c.len() >= m * n && b.len() >= k * n);
    assert!(a.len() > (m - 1) * rsa + (k - 1) * csa);
    let mut i = 0;
    while i < m {
        let rows = MR.min(m - i);
        let mut j = 0;
        while j + NR <= n {
            if rows == MR {
                tile4(k, n, &a[i * rsa..], rsa, csa, &b[j..], &mut c[i * n + j..]);
            } else {
                for r in 0..rows {
                    tile1(
                        k,
                        n,
                        &a[(i + r) * rsa..],
                        csa,
                        &b[j..],
                        &mut c[(i + r) * n + j..],
                    );
                }
            }
            j += NR;
        }
        // Columns left over: one element at a time, same order.
        for r in 0..rows {
            let ar = &a[(i + r) * rsa..];
            for jj in j..n {
                let mut s = c[(i + r) * n + jj];
                for p in 0..k {
                    s += ar[p * csa] * b[p * n + jj];
                }
                c[(i + r) * n + jj] = s;
            }
        }
        i += MR;
    }
}

/// Four rows × eight columns; `a` starts at row i, `b` and `c` at column j.
#[inline(always)]
fn tile4(k: usize, n: usize, a: &[f32], rsa: usize, csa: usize, b: &[f32], c: &mut [f32]) {
    let mut acc = [[0f32; NR]; MR];
    for (r, row) in acc.iter_mut().enumerate() {
        row.copy_from_slice(&c[r * n..r * n + NR]);
    }
    for p in 0..k {
        let bv: &[f32; NR] = b[p * n..p * n + NR].try_into().expect("NR columns");
        for (r, row) in acc.iter_mut().enumerate() {
            let av = a[r * rsa + p * csa];
            for (o, &bb) in row.iter_mut().zip(bv) {
                *o += av * bb;
            }
        }
    }
    for (r, row) in acc.iter().enumerate() {
        c[r * n..r * n + NR].copy_from_slice(row);
    }
}

#[inline(always)]
fn tile1(k: usize, n: usize, a: &[f32], csa: usize, b: &[f32], c: &mut [f32]) {
    let mut acc: [f32; NR] = c[..NR].try_into().expect("NR columns");
    for p in 0..k {
        let bv: &[f32; NR] = b[p * n..p * n + NR].try_into().expect("NR columns");
        let av = a[p * csa];
        for (o, &bb) in acc.iter_mut().zip(bv) {
            *o += av * bb;
        }
    }
    c[..NR].copy_from_slice(&acc);
}

/// `Σ a[i]·b[i]` in a fixed order: eight interleaved partial sums (lane l takes i ≡ l mod 8),
/// then the lanes added left to right, then the tail. Vectorizes; the same bits everywhere.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let mut lanes = [0f32; NR];
    let mut i = 0;
    while i + NR <= n {
        let av: &[f32; NR] = a[i..i + NR].try_into().expect("NR");
        let bv: &[f32; NR] = b[i..i + NR].try_into().expect("NR");
        for l in 0..NR {
            lanes[l] += av[l] * bv[l];
        }
        i += NR;
    }
    let mut s = lanes.iter().fold(0f32, |acc, &v| acc + v);
    for t in i..n {
        s += a[t] * b[t];
    }
    s
}

/// `y += alpha · x`, element by element.
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (o, &v) in y.iter_mut().zip(x) {
        *o += alpha * v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against the plain triple loop, bit for bit, on shapes that are and are not tile multiples,
    /// with A read directly and transposed.
    #[test]
    fn matches_the_triple_loop_bit_for_bit() {
        let mut s = 1u32;
        let mut rnd = || {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        for &(m, k, n) in &[
            (1, 1, 1),
            (4, 3, 8),
            (5, 7, 9),
            (9, 13, 17),
            (32, 9, 30),
            (3, 0, 5),
        ] {
            for trans in [false, true] {
                let a: Vec<f32> = (0..m * k).map(|_| rnd()).collect();
                let b: Vec<f32> = (0..k * n).map(|_| rnd()).collect();
                let c0: Vec<f32> = (0..m * n).map(|_| rnd()).collect();
                let (rsa, csa) = if trans { (1, m) } else { (k, 1) };
                let mut c = c0.clone();
                gemm_acc(m, k, n, &a, rsa, csa, &b, &mut c);
                for i in 0..m {
                    for j in 0..n {
                        let mut e = c0[i * n + j];
                        for p in 0..k {
                            e += a[i * rsa + p * csa] * b[p * n + j];
                        }
                        assert_eq!(c[i * n + j].to_bits(), e.to_bits(), "{m}x{k}x{n} ({i},{j})");
                    }
                }
            }
        }
    }
}
