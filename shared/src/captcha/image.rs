//! Distorted-text CAPTCHA images, drawn here without any third party and encoded as a small PNG.
//!
//! ## Approach
//!
//! - The text uses [`ALPHABET`] only: upper-case letters and digits with the look-alikes left out
//!   (`0/O/Q/D`, `1/I/L/J`, `2/Z`, `5/S`, `8/B`, `U/V`), so a human never has to guess between two
//!   shapes. Input is upper-cased first, so answers can be compared case-insensitively.
//! - Every character is a bold 7×9 bitmap glyph (two-cell stems, one-cell bars). Each glyph is
//!   drawn by inverse mapping: every pixel near the glyph is taken back through a per-glyph
//!   rotation (±7°), shear (±0.18) and anisotropic scale (×2.2–3.1 across, depending on the text
//!   length, ×3.1–3.6 down) into font space, so strokes stay solid at 3–6 px whatever the
//!   distortion. Glyph centres jitter a little left, right, up and down.
//! - Two sinuous curves about as thick as a thin stroke (2–2.6 px) cross the text on a slant,
//!   then the whole image is warped by two sine waves (x displaced along y, y displaced along
//!   x), which bends strokes, baseline and curves together, and finally sparse speckles (ink dots
//!   and background holes) are added.
//! - Distortion parameters come from a SplitMix64 generator seeded with the caller's 32 bytes:
//!   the same `(text, seed)` gives the same bytes (on one platform; `sin` may differ by an ulp
//!   between platforms). The seed should come from a CSPRNG so images cannot be predicted.
//! - The image is 2 colours, 1 bit per pixel, palette PNG: the raw pixel data is at most
//!   `23 × 64 + 64` = 1,536 bytes, so even incompressible noise stays well under the 4 KiB budget
//!   of a base64 data URL in Cognito challenge parameters (typical files are well under 1 KB).
//!
//! ## Limits
//!
//! A self-hosted image CAPTCHA slows down bots; it does not stop them. Modern OCR, trained
//! solvers and paid human-solving services read images like these reliably, and an image alone is
//! not accessible to users who cannot see it. Treat it as friction (together with rate limits and
//! attempt counting), not as proof of a human. Widget providers (risk scoring, proof of work,
//! behavioural signals) are considerably stronger.

use std::f32::consts::TAU;
use std::fmt;

/// Characters a CAPTCHA text may use: upper-case letters and digits with the ambiguous ones left
/// out (no `0/O/Q/D`, `1/I/L/J`, `2/Z`, `5/S`, `8/B`, `U/V`).
pub const ALPHABET: &[u8] = b"ACEFGHKMNPRTWXY34679";

/// Image width in pixels.
pub const WIDTH: u32 = 180;

/// Image height in pixels.
pub const HEIGHT: u32 = 64;

/// Most characters one image holds.
pub const MAX_CHARS: usize = 8;

/// Why an image could not be rendered.
#[derive(Debug)]
pub enum RenderError {
    /// The text holds a character outside [`ALPHABET`] (after upper-casing); the original
    /// character is reported.
    UnsupportedCharacter(char),
    /// The text holds more than [`MAX_CHARS`] characters; the character count is reported.
    TooLong(usize),
    /// The PNG encoder failed.
    Encoding(String),
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedCharacter(c) => {
                write!(f, "character {c:?} is not in the CAPTCHA alphabet")
            }
            Self::TooLong(count) => write!(
                f,
                "CAPTCHA text has {count} characters, an image holds at most {MAX_CHARS}"
            ),
            Self::Encoding(message) => write!(f, "CAPTCHA PNG encoding failed: {message}"),
        }
    }
}

impl std::error::Error for RenderError {}

/// Renders `text` (characters from [`ALPHABET`], case-insensitive: it is upper-cased) as a PNG,
/// distortions drawn from `seed`. Deterministic for the same `(text, seed)`.
///
/// The result is a `WIDTH` × `HEIGHT`, 1-bit palette PNG (dark ink on a light background) of at
/// most about 1.6 KB. An empty text gives an image with curves and speckles only.
pub fn render_png(text: &str, seed: [u8; 32]) -> Result<Vec<u8>, RenderError> {
    let glyphs = glyphs_for(text)?;
    let mut rng = Rng::from_seed(&seed);

    let mut canvas = Canvas::blank();
    draw_text(&mut canvas, &glyphs, &mut rng);
    for _ in 0..CROSSING_CURVES {
        draw_curve(&mut canvas, &mut rng);
    }
    let mut image = warp(&canvas, &mut rng);
    speckle(&mut image, &mut rng);

    encode(&image)
}

// ---------------------------------------------------------------------------------------------
// Geometry and constants
// ---------------------------------------------------------------------------------------------

const W: usize = WIDTH as usize;
const H: usize = HEIGHT as usize;
const W_I32: i32 = WIDTH as i32;
const H_I32: i32 = HEIGHT as i32;
const W_F32: f32 = WIDTH as f32;
const H_F32: f32 = HEIGHT as f32;

/// Bytes per PNG row at 1 bit per pixel.
const ROW_BYTES: usize = W.div_ceil(8);

/// Background first (index 0), ink second (index 1); RGB triples.
const PALETTE: [u8; 6] = [0xF4, 0xF2, 0xEA, 0x1C, 0x2A, 0x4B];

/// Horizontal room kept free on each side of the text.
const SIDE_MARGIN: f32 = 7.0;
/// Widest character cell; shorter texts are centred rather than spread out.
const MAX_ADVANCE: f32 = 30.0;
/// Widest horizontal scale (pixels per font cell).
const MAX_SCALE_X: f32 = 2.9;
/// How many stroke-thick curves cross the text.
const CROSSING_CURVES: usize = 2;

// ---------------------------------------------------------------------------------------------
// Font: bold 7×9 glyphs, one `u8` per row, bit 6 is the leftmost column.
// ---------------------------------------------------------------------------------------------

const GLYPH_COLS: usize = 7;
const GLYPH_ROWS: usize = 9;

type Glyph = [u8; GLYPH_ROWS];

/// The glyph for an upper-case [`ALPHABET`] byte.
fn glyph(c: u8) -> Option<Glyph> {
    let rows: Glyph = match c {
        b'A' => [
            0b0011100, 0b0110110, 0b1100011, 0b1100011, 0b1100011, 0b1111111, 0b1100011, 0b1100011,
            0b1100011,
        ],
        b'C' => [
            0b0011110, 0b0110011, 0b1100000, 0b1100000, 0b1100000, 0b1100000, 0b1100000, 0b0110011,
            0b0011110,
        ],
        b'E' => [
            0b1111111, 0b1100000, 0b1100000, 0b1100000, 0b1111110, 0b1100000, 0b1100000, 0b1100000,
            0b1111111,
        ],
        b'F' => [
            0b1111111, 0b1100000, 0b1100000, 0b1100000, 0b1111110, 0b1100000, 0b1100000, 0b1100000,
            0b1100000,
        ],
        b'G' => [
            0b0011110, 0b0110011, 0b1100000, 0b1100000, 0b1100111, 0b1100011, 0b1100011, 0b0110011,
            0b0011111,
        ],
        b'H' => [
            0b1100011, 0b1100011, 0b1100011, 0b1100011, 0b1111111, 0b1100011, 0b1100011, 0b1100011,
            0b1100011,
        ],
        b'K' => [
            0b1100011, 0b1100110, 0b1101100, 0b1111000, 0b1110000, 0b1111000, 0b1101100, 0b1100110,
            0b1100011,
        ],
        b'M' => [
            0b1100011, 0b1110111, 0b1111111, 0b1101011, 0b1101011, 0b1101011, 0b1100011, 0b1100011,
            0b1100011,
        ],
        b'N' => [
            0b1100011, 0b1110011, 0b1110011, 0b1111011, 0b1101111, 0b1100111, 0b1100111, 0b1100011,
            0b1100011,
        ],
        b'P' => [
            0b1111110, 0b1100011, 0b1100011, 0b1100011, 0b1111110, 0b1100000, 0b1100000, 0b1100000,
            0b1100000,
        ],
        b'R' => [
            0b1111110, 0b1100011, 0b1100011, 0b1100011, 0b1111110, 0b1101100, 0b1100110, 0b1100011,
            0b1100011,
        ],
        b'T' => [
            0b1111111, 0b0011100, 0b0011100, 0b0011100, 0b0011100, 0b0011100, 0b0011100, 0b0011100,
            0b0011100,
        ],
        b'W' => [
            0b1100011, 0b1100011, 0b1100011, 0b1101011, 0b1101011, 0b1101011, 0b1111111, 0b1110111,
            0b1100011,
        ],
        b'X' => [
            0b1100011, 0b0110110, 0b0110110, 0b0011100, 0b0011100, 0b0011100, 0b0110110, 0b0110110,
            0b1100011,
        ],
        b'Y' => [
            0b1100011, 0b1100011, 0b0110110, 0b0110110, 0b0011100, 0b0011100, 0b0011100, 0b0011100,
            0b0011100,
        ],
        b'3' => [
            0b0111110, 0b1100011, 0b0000011, 0b0000011, 0b0011110, 0b0000011, 0b0000011, 0b1100011,
            0b0111110,
        ],
        b'4' => [
            0b0000110, 0b0001110, 0b0011110, 0b0110110, 0b1100110, 0b1111111, 0b0000110, 0b0000110,
            0b0000110,
        ],
        b'6' => [
            0b0011110, 0b0110000, 0b1100000, 0b1100000, 0b1111110, 0b1100011, 0b1100011, 0b1100011,
            0b0111110,
        ],
        b'7' => [
            0b1111111, 0b0000011, 0b0000110, 0b0000110, 0b0001100, 0b0001100, 0b0011000, 0b0011000,
            0b0011000,
        ],
        b'9' => [
            0b0111110, 0b1100011, 0b1100011, 0b1100011, 0b0111111, 0b0000011, 0b0000011, 0b0000110,
            0b0111100,
        ],
        _ => return None,
    };
    Some(rows)
}

/// Whether font-space point `(u, v)` (columns, rows; cell `(0, 0)` is top left) is ink.
fn glyph_ink(glyph: &Glyph, u: f32, v: f32) -> bool {
    if u < 0.0 || v < 0.0 {
        return false;
    }
    // Non-negative here; `as` truncates (and saturates for huge values).
    let (col, row) = (u as usize, v as usize);
    if col >= GLYPH_COLS {
        return false;
    }
    let Some(bits) = glyph.get(row) else {
        return false;
    };
    let Ok(shift) = u32::try_from(GLYPH_COLS - 1 - col) else {
        return false;
    };
    bits.checked_shr(shift).is_some_and(|b| b & 1 == 1)
}

/// Checks length and characters and looks up every glyph.
fn glyphs_for(text: &str) -> Result<Vec<Glyph>, RenderError> {
    let count = text.chars().count();
    if count > MAX_CHARS {
        return Err(RenderError::TooLong(count));
    }
    text.chars()
        .map(|c| {
            u8::try_from(c.to_ascii_uppercase())
                .ok()
                .filter(|b| ALPHABET.contains(b))
                .and_then(glyph)
                .ok_or(RenderError::UnsupportedCharacter(c))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Deterministic generator (SplitMix64): distortion parameters only, never secrets.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Rng {
    state: u64,
}

impl Rng {
    const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

    fn from_seed(seed: &[u8; 32]) -> Self {
        let mut state: u64 = 0x243F_6A88_85A3_08D3;
        for chunk in seed.chunks_exact(8) {
            let word = chunk
                .iter()
                .rev()
                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            state = Self::mix(state.wrapping_add(Self::GAMMA) ^ word);
        }
        Self { state }
    }

    /// The SplitMix64 finaliser (a bijection on `u64`).
    fn mix(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(Self::GAMMA);
        Self::mix(self.state)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f32 {
        // 24 random bits are exact in an f32 mantissa.
        (self.next_u64() >> 40) as f32 / (1u32 << 24) as f32
    }

    /// Uniform in `[lo, hi)`.
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform in `[-magnitude, magnitude)`.
    fn signed(&mut self, magnitude: f32) -> f32 {
        self.range(-magnitude, magnitude)
    }

    /// Uniform in `0..n` (0 when `n` is 0); the modulo bias is irrelevant for distortions.
    fn below(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        u32::try_from(self.next_u64() % u64::from(n)).unwrap_or(0)
    }
}

// ---------------------------------------------------------------------------------------------
// Canvas: one bool per pixel, `true` is ink. Out-of-bounds reads are background, writes no-ops.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Canvas {
    ink: Vec<bool>,
}

impl Canvas {
    fn blank() -> Self {
        Self {
            ink: vec![false; W * H],
        }
    }

    fn index(x: i32, y: i32) -> Option<usize> {
        let x = usize::try_from(x).ok()?;
        let y = usize::try_from(y).ok()?;
        if x < W && y < H {
            Some(y * W + x)
        } else {
            None
        }
    }

    fn get(&self, x: i32, y: i32) -> bool {
        Self::index(x, y)
            .and_then(|i| self.ink.get(i))
            .copied()
            .unwrap_or(false)
    }

    fn set(&mut self, x: i32, y: i32, ink: bool) {
        if let Some(pixel) = Self::index(x, y).and_then(|i| self.ink.get_mut(i)) {
            *pixel = ink;
        }
    }

    /// Inks every pixel whose centre lies within `radius` of `(cx, cy)`.
    fn stamp_disc(&mut self, cx: f32, cy: f32, radius: f32) {
        let r2 = radius * radius;
        let (x0, x1) = ((cx - radius).floor() as i32, (cx + radius).ceil() as i32);
        let (y0, y1) = ((cy - radius).floor() as i32, (cy + radius).ceil() as i32);
        for y in y0..=y1 {
            for x in x0..=x1 {
                let (dx, dy) = (x as f32 - cx, y as f32 - cy);
                if dx * dx + dy * dy <= r2 {
                    self.set(x, y, true);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------------------------

/// Where and how one glyph is drawn: centre, pixels per font cell, shear, rotation.
#[derive(Debug, Clone, Copy)]
struct Placement {
    cx: f32,
    cy: f32,
    scale_x: f32,
    scale_y: f32,
    shear: f32,
    cos: f32,
    sin: f32,
}

fn draw_text(canvas: &mut Canvas, glyphs: &[Glyph], rng: &mut Rng) {
    let count = glyphs.len();
    if count == 0 {
        return;
    }
    let n = count as f32;
    let advance = ((W_F32 - 2.0 * SIDE_MARGIN) / n).min(MAX_ADVANCE);
    let first_centre = (W_F32 - advance * n) / 2.0 + advance / 2.0;
    // About 82 % of the cell for the glyph body, the rest for gaps (rotation eats some of it).
    let base_scale_x = (advance * 0.82 / GLYPH_COLS as f32).min(MAX_SCALE_X);

    for (i, glyph) in glyphs.iter().enumerate() {
        let angle = rng.signed(0.12);
        let placement = Placement {
            cx: first_centre + i as f32 * advance + rng.signed(advance * 0.08),
            cy: H_F32 / 2.0 + rng.signed(5.0),
            scale_x: base_scale_x * rng.range(0.92, 1.08),
            scale_y: rng.range(3.1, 3.6),
            shear: rng.signed(0.18),
            cos: angle.cos(),
            sin: angle.sin(),
        };
        draw_glyph(canvas, glyph, &placement);
    }
}

/// Inverse mapping: every pixel around the centre is taken back to font space and inked if it
/// lands on a set cell, so strokes stay solid under any scale, shear and rotation.
fn draw_glyph(canvas: &mut Canvas, glyph: &Glyph, p: &Placement) {
    let half_cols = GLYPH_COLS as f32 / 2.0;
    let half_rows = GLYPH_ROWS as f32 / 2.0;
    let half_w = half_cols * p.scale_x + p.shear.abs() * half_rows * p.scale_y;
    let half_h = half_rows * p.scale_y;
    let reach = half_w.hypot(half_h).ceil() + 1.0;

    let (x0, x1) = ((p.cx - reach).floor() as i32, (p.cx + reach).ceil() as i32);
    let (y0, y1) = ((p.cy - reach).floor() as i32, (p.cy + reach).ceil() as i32);
    for y in y0.max(0)..=y1.min(H_I32 - 1) {
        for x in x0.max(0)..=x1.min(W_I32 - 1) {
            let (dx, dy) = (x as f32 - p.cx, y as f32 - p.cy);
            // Undo the rotation, then the shear, then the scale.
            let along = dx * p.cos + dy * p.sin;
            let down = dy * p.cos - dx * p.sin;
            let u = (along - p.shear * down) / p.scale_x + half_cols;
            let v = down / p.scale_y + half_rows;
            if glyph_ink(glyph, u, v) {
                canvas.set(x, y, true);
            }
        }
    }
}

/// A sinuous curve about as thick as a thin stroke, crossing most of the width on a slant (from
/// the upper half to the lower or back), so it cuts through glyphs instead of running along their
/// bars.
fn draw_curve(canvas: &mut Canvas, rng: &mut Rng) {
    let x_start = rng.range(0.0, W_F32 * 0.2);
    let x_end = rng.range(W_F32 * 0.8, W_F32);
    let high = rng.range(H_F32 * 0.2, H_F32 * 0.42);
    let low = rng.range(H_F32 * 0.58, H_F32 * 0.8);
    let (y_start, y_end) = if rng.below(2) == 0 {
        (high, low)
    } else {
        (low, high)
    };
    let amplitude = rng.range(3.0, 8.0);
    let frequency = TAU / rng.range(60.0, 150.0);
    let phase = rng.range(0.0, TAU);
    let radius = rng.range(0.9, 1.3);

    // Half-pixel steps: the steepest slope (~1 px per px) still leaves the stamps overlapping.
    let steps = ((x_end - x_start) * 2.0).max(1.0) as u32;
    for step in 0..=steps {
        let t = step as f32 / steps as f32;
        let x = x_start + (x_end - x_start) * t;
        let y = y_start + (y_end - y_start) * t + amplitude * (x * frequency + phase).sin();
        canvas.stamp_disc(x, y, radius);
    }
}

/// Whole-image sine warp: x is displaced along y and y along x (nearest-neighbour sampling).
fn warp(source: &Canvas, rng: &mut Rng) -> Canvas {
    let amplitude_x = rng.range(1.0, 2.2);
    let frequency_x = TAU / rng.range(40.0, 70.0);
    let phase_x = rng.range(0.0, TAU);
    let amplitude_y = rng.range(1.5, 3.0);
    let frequency_y = TAU / rng.range(70.0, 140.0);
    let phase_y = rng.range(0.0, TAU);

    let mut out = Canvas::blank();
    for y in 0..H_I32 {
        let shift_x = amplitude_x * (y as f32 * frequency_x + phase_x).sin();
        for x in 0..W_I32 {
            let shift_y = amplitude_y * (x as f32 * frequency_y + phase_y).sin();
            let sx = (x as f32 + shift_x).round() as i32;
            let sy = (y as f32 + shift_y).round() as i32;
            if source.get(sx, sy) {
                out.set(x, y, true);
            }
        }
    }
    out
}

/// Sparse noise: small ink specks anywhere, a few single-pixel holes.
fn speckle(canvas: &mut Canvas, rng: &mut Rng) {
    let specks = 90 + rng.below(50);
    for _ in 0..specks {
        let x = rng.below(WIDTH) as i32;
        let y = rng.below(HEIGHT) as i32;
        canvas.set(x, y, true);
        match rng.below(3) {
            0 => canvas.set(x + 1, y, true),
            1 => canvas.set(x, y + 1, true),
            _ => {}
        }
    }
    let holes = 25 + rng.below(20);
    for _ in 0..holes {
        let x = rng.below(WIDTH) as i32;
        let y = rng.below(HEIGHT) as i32;
        canvas.set(x, y, false);
    }
}

// ---------------------------------------------------------------------------------------------
// PNG
// ---------------------------------------------------------------------------------------------

/// Packs the canvas to 1 bit per pixel (MSB first, 1 = ink) and encodes a 2-colour palette PNG.
fn encode(canvas: &Canvas) -> Result<Vec<u8>, RenderError> {
    let mut packed = vec![0u8; ROW_BYTES * H];
    for (pixels, row) in canvas.ink.chunks(W).zip(packed.chunks_mut(ROW_BYTES)) {
        for (x, _) in pixels.iter().enumerate().filter(|(_, ink)| **ink) {
            if let Some(byte) = row.get_mut(x / 8) {
                *byte |= 0x80u8 >> (x % 8);
            }
        }
    }

    let encoding = |error: png::EncodingError| RenderError::Encoding(error.to_string());
    let mut out = Vec::with_capacity(2048);
    {
        let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Indexed);
        encoder.set_depth(png::BitDepth::One);
        encoder.set_palette(PALETTE.to_vec());
        encoder.set_compression(png::Compression::High);
        let mut writer = encoder.write_header().map_err(encoding)?;
        writer.write_image_data(&packed).map_err(encoding)?;
        writer.finish().map_err(encoding)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Look-alike characters the alphabet must never contain.
    const AMBIGUOUS: &[u8] = b"0OQD1ILJ2Z5S8BUV";

    fn seed(n: u32) -> [u8; 32] {
        let mut s = [0u8; 32];
        s[..4].copy_from_slice(&n.to_le_bytes());
        s[31] = 0xA5;
        s
    }

    /// A text of `len` alphabet characters chosen by `n`.
    fn text(n: u32, len: usize) -> String {
        let mut rng = Rng::from_seed(&seed(n ^ 0x5555_0000));
        (0..len)
            .map(|_| char::from(ALPHABET[rng.below(ALPHABET.len() as u32) as usize]))
            .collect()
    }

    struct Decoded {
        width: u32,
        height: u32,
        indexed_one_bit: bool,
        palette: Vec<u8>,
        line_size: usize,
        data: Vec<u8>,
    }

    impl Decoded {
        fn ink_pixels(&self) -> usize {
            self.data
                .chunks(self.line_size)
                .map(|row| {
                    (0..self.width as usize)
                        .filter(|x| row[x / 8] & (0x80 >> (x % 8)) != 0)
                        .count()
                })
                .sum()
        }
    }

    fn decode(bytes: &[u8]) -> Decoded {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut data = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut data).unwrap();
        let info = reader.info();
        Decoded {
            width: frame.width,
            height: frame.height,
            indexed_one_bit: matches!(info.color_type, png::ColorType::Indexed)
                && matches!(info.bit_depth, png::BitDepth::One),
            palette: info.palette.as_deref().unwrap_or_default().to_vec(),
            line_size: frame.line_size,
            data,
        }
    }

    #[test]
    fn alphabet_has_no_ambiguous_characters() {
        for c in AMBIGUOUS {
            assert!(
                !ALPHABET.contains(c),
                "ambiguous {:?} in alphabet",
                char::from(*c)
            );
        }
        assert!((20..=24).contains(&ALPHABET.len()));
        for (i, c) in ALPHABET.iter().enumerate() {
            assert!(c.is_ascii_uppercase() || c.is_ascii_digit());
            assert!(
                !ALPHABET[i + 1..].contains(c),
                "duplicate {:?}",
                char::from(*c)
            );
        }
    }

    #[test]
    fn every_alphabet_character_has_a_distinct_glyph() {
        let glyphs: Vec<Glyph> = ALPHABET.iter().map(|&c| glyph(c).unwrap()).collect();
        for (i, g) in glyphs.iter().enumerate() {
            assert!(g.iter().all(|row| *row < 1 << GLYPH_COLS));
            assert!(g.iter().any(|row| *row != 0));
            assert!(!glyphs[i + 1..].contains(g));
        }
        for c in AMBIGUOUS {
            assert!(glyph(*c).is_none());
        }
    }

    #[test]
    fn every_alphabet_character_renders() {
        for (i, &c) in ALPHABET.iter().enumerate() {
            let single = char::from(c).to_string();
            let image = decode(&render_png(&single, seed(i as u32)).unwrap());
            assert_eq!((image.width, image.height), (WIDTH, HEIGHT));
            // The glyph alone (no curves, no noise): its thinnest shape has 23 cells of >= 7.8 px.
            let mut canvas = Canvas::blank();
            let mut rng = Rng::from_seed(&seed(i as u32));
            draw_text(&mut canvas, &[glyph(c).unwrap()], &mut rng);
            let ink = canvas.ink.iter().filter(|&&p| p).count();
            assert!(ink > 120, "{single} drew only {ink} pixels");
            let six = single.repeat(6);
            assert!(render_png(&six, seed(i as u32)).is_ok());
        }
    }

    #[test]
    fn decodes_to_a_two_colour_image_of_the_declared_size() {
        let bytes = render_png("AC3K7W", seed(1)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let image = decode(&bytes);
        assert_eq!((image.width, image.height), (WIDTH, HEIGHT));
        assert!(image.indexed_one_bit);
        assert_eq!(image.palette, PALETTE);
        assert_eq!(image.line_size, ROW_BYTES);
        let ink = image.ink_pixels();
        let total = (WIDTH * HEIGHT) as usize;
        assert!(ink > total / 20 && ink < total / 2, "ink {ink} of {total}");
    }

    #[test]
    fn six_characters_fit_the_size_budget() {
        for n in 0..50 {
            let text = text(n, 6);
            let bytes = render_png(&text, seed(n)).unwrap();
            assert!(bytes.len() <= 4096, "{text}: {} bytes", bytes.len());
        }
        for n in 0..10 {
            let bytes = render_png(&text(n, MAX_CHARS), seed(n)).unwrap();
            assert!(bytes.len() <= 4096);
            decode(&bytes);
        }
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let a = render_png("HKM467", seed(7)).unwrap();
        let b = render_png("HKM467", seed(7)).unwrap();
        let c = render_png("HKM467", seed(8)).unwrap();
        let mut high_byte = seed(7);
        high_byte[20] ^= 1;
        let d = render_png("HKM467", high_byte).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert_ne!(a, render_png("HKM469", seed(7)).unwrap());
    }

    #[test]
    fn input_is_case_insensitive() {
        assert_eq!(
            render_png("ack3", seed(3)).unwrap(),
            render_png("ACK3", seed(3)).unwrap()
        );
    }

    #[test]
    fn unsupported_characters_are_refused() {
        for (text, bad) in [
            ("AC0", '0'),
            ("Ao", 'o'),
            ("B", 'B'),
            ("A C", ' '),
            ("Aé", 'é'),
            ("A-", '-'),
        ] {
            match render_png(text, seed(0)) {
                Err(RenderError::UnsupportedCharacter(c)) => assert_eq!(c, bad, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn too_long_text_is_refused() {
        let long = "ACEFGHKMN";
        assert!(matches!(
            render_png(long, seed(0)),
            Err(RenderError::TooLong(9))
        ));
        assert!(render_png(&long[..MAX_CHARS], seed(0)).is_ok());
        let error = render_png(long, seed(0)).unwrap_err();
        assert!(error.to_string().contains('9'));
    }

    #[test]
    fn empty_text_renders_noise_only() {
        let image = decode(&render_png("", seed(2)).unwrap());
        assert_eq!((image.width, image.height), (WIDTH, HEIGHT));
    }

    #[test]
    fn generator_is_roughly_uniform() {
        let mut rng = Rng::from_seed(&seed(42));
        let mut buckets = [0u32; 10];
        for _ in 0..10_000 {
            let u = rng.unit();
            assert!((0.0..1.0).contains(&u));
            buckets[(u * 10.0) as usize] += 1;
        }
        assert!(
            buckets.iter().all(|&b| (800..1200).contains(&b)),
            "{buckets:?}"
        );
        assert_eq!(rng.below(0), 0);
    }
}
