//! Distorted-text CAPTCHA images, drawn here without any third party and encoded as a small PNG.
//!
//! ## Approach
//!
//! Made to be read by people at a glance and not by off-the-shelf OCR (docs/captcha.md has the
//! measured figures: a first-time reader, and Debian's `tesseract-ocr` given the alphabet).
//!
//! - The text uses [`ALPHABET`] only: 12 upper-case letters and digits chosen so that no two look
//!   alike, in print or tilted (6 characters: 12⁶ ≈ 3 million texts). Left out: the print
//!   look-alikes `0/O/Q/D`, `1/I/J`, `2/Z`, `5/S`, `8/B`, `U/V`, and those a tilted blocky glyph
//!   makes look like one that stays or like each other (`K`, `Y` like `X`; `M`, `N`, `W` like
//!   `H`; `G` like `C` and `6`; `F` like `E`; `A` and `4`; `7` and `T`). `L` is in: with `1`,
//!   `I` and `J` out it looks like nothing else. Answers are upper-cased, and a look-alike of a
//!   left-out letter is read as the alphabet character it can only stand for ([`LOOK_ALIKES`]:
//!   a reader who types `K` for a tilted `X` passes).
//! - Every character is a bold 7×9 bitmap glyph (two-cell stems, one-cell bars), drawn large
//!   (about 25 × 44 px, strokes 4–8 px) by inverse mapping: every pixel near the glyph is taken
//!   back through a per-glyph rotation, shear (±0.16) and scale into font space, so strokes stay
//!   solid whatever the distortion. Each glyph leans its own way (up to 21°), so there is no
//!   common slant to correct; centres move up and down by up to 8 px, so there is no baseline to
//!   find; every glyph keeps clear of the frame.
//! - Clutter fills the rest, kept out of a 4-pixel halo around every letter, so no glyph's
//!   outline is ever crossed or merged (crossing curves made `X/K/Y`, `H/N/M`, `R/T/A`
//!   unreadable to people): short solid strokes almost as thick as a letter's thin strokes, thin
//!   arcs and specks. A reader sees debris beside whole letters; OCR sees pieces of characters
//!   at every angle and reads characters into them.
//! - The whole image is then bent by two slow sine waves (x displaced along y, y along x), which
//!   bends strokes and clutter together without breaking a glyph.
//! - Distortion parameters come from a SplitMix64 generator seeded with the caller's 32 bytes:
//!   the same `(text, seed)` gives the same bytes (on one platform; `sin` may differ by an ulp
//!   between platforms). The seed should come from a CSPRNG so images cannot be predicted.
//! - The image is 2 colours, 1 bit per pixel, palette PNG: the raw pixel data is at most
//!   `30 × 84 + 84` = 2,604 bytes, so even incompressible noise stays within the 4 KiB budget of
//!   a base64 data URL in Cognito challenge parameters (typical files are about 1.2 KB).
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

/// Characters a CAPTCHA text may use: upper-case letters and digits no two of which look alike,
/// in print or tilted (see the module documentation for what is left out and why).
pub const ALPHABET: &[u8] = b"CEHLPRTX3469";

/// Characters outside [`ALPHABET`] that a reader may see in a tilted glyph, each with the one of
/// the alphabet it can only stand for: an answer is read through [`read_as`], so a reader who
/// types `K` for `X`, or `A` for `4`, is not failed for it. (OCR told the alphabet gains nothing.)
pub const LOOK_ALIKES: [(char, u8); 9] = [
    ('K', b'X'),
    ('Y', b'X'),
    ('A', b'4'),
    ('7', b'T'),
    ('G', b'C'),
    ('F', b'E'),
    ('M', b'H'),
    ('N', b'H'),
    ('W', b'H'),
];

/// How a typed character is read: upper-cased, and a look-alike ([`LOOK_ALIKES`]) as the
/// alphabet character it stands for.
pub fn read_as(typed: char) -> char {
    let upper = typed.to_ascii_uppercase();
    LOOK_ALIKES
        .iter()
        .find(|(alike, _)| *alike == upper)
        .map_or(upper, |(_, meant)| char::from(*meant))
}

/// Image width in pixels.
pub const WIDTH: u32 = 240;

/// Image height in pixels.
pub const HEIGHT: u32 = 84;

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
/// most about 2.6 KB. An empty text gives an image with clutter only.
pub fn render_png(text: &str, seed: [u8; 32]) -> Result<Vec<u8>, RenderError> {
    let glyphs = glyphs_for(text)?;
    let mut rng = Rng::from_seed(&seed);
    let (_, image) = compose(&glyphs, &mut rng);
    let image = warp(&image, &mut rng);
    encode(&image)
}

/// The letters alone, and the letters with the clutter around them (before the warp).
fn compose(glyphs: &[Glyph], rng: &mut Rng) -> (Canvas, Canvas) {
    let mut letters = Canvas::blank();
    draw_text(&mut letters, glyphs, rng);
    let mut clutter = Canvas::blank();
    for _ in 0..FRAGMENTS {
        draw_fragment(&mut clutter, rng);
    }
    for _ in 0..ARCS {
        draw_arc(&mut clutter, rng);
    }
    speckle(&mut clutter, rng);
    // The clutter never touches a letter: a clear halo keeps every glyph's outline whole.
    let halo = letters.dilated(HALO);
    let mut image = letters.clone();
    for ((pixel, noise), near) in image.ink.iter_mut().zip(&clutter.ink).zip(&halo.ink) {
        *pixel |= *noise && !*near;
    }
    (letters, image)
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
const SIDE_MARGIN: f32 = 14.0;
/// Widest character cell; shorter texts are centred rather than spread out.
const MAX_ADVANCE: f32 = 40.0;
/// Widest horizontal scale (pixels per font cell).
const MAX_SCALE_X: f32 = 3.9;
/// Short strokes of clutter around the letters.
const FRAGMENTS: usize = 34;
/// Thin arcs of clutter around the letters.
const ARCS: usize = 3;
/// The clear margin kept around every letter, in pixels.
const HALO: i32 = 4;

// ---------------------------------------------------------------------------------------------
// Font: bold 7×9 glyphs, one `u8` per row, bit 6 is the leftmost column.
// ---------------------------------------------------------------------------------------------

const GLYPH_COLS: usize = 7;
const GLYPH_ROWS: usize = 9;

type Glyph = [u8; GLYPH_ROWS];

/// The glyph for an upper-case [`ALPHABET`] byte.
fn glyph(c: u8) -> Option<Glyph> {
    let rows: Glyph = match c {
        b'C' => [
            0b0011110, 0b0110011, 0b1100000, 0b1100000, 0b1100000, 0b1100000, 0b1100000, 0b0110011,
            0b0011110,
        ],
        b'E' => [
            0b1111111, 0b1100000, 0b1100000, 0b1100000, 0b1111110, 0b1100000, 0b1100000, 0b1100000,
            0b1111111,
        ],
        b'H' => [
            0b1100011, 0b1100011, 0b1100011, 0b1100011, 0b1111111, 0b1100011, 0b1100011, 0b1100011,
            0b1100011,
        ],
        b'L' => [
            0b1100000, 0b1100000, 0b1100000, 0b1100000, 0b1100000, 0b1100000, 0b1100000, 0b1100000,
            0b1111111,
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
        b'X' => [
            0b1100011, 0b0110110, 0b0110110, 0b0011100, 0b0011100, 0b0011100, 0b0110110, 0b0110110,
            0b1100011,
        ],
        // Flat-topped, open on the left from top to bottom: a tilted round `3` reads as `9`.
        b'3' => [
            0b1111111, 0b0000011, 0b0000110, 0b0001100, 0b0011110, 0b0000011, 0b0000011, 0b0000011,
            0b1111110,
        ],
        b'4' => [
            0b0000110, 0b0001110, 0b0011110, 0b0110110, 0b1100110, 0b1111111, 0b0000110, 0b0000110,
            0b0000110,
        ],
        b'6' => [
            0b0011110, 0b0110000, 0b1100000, 0b1100000, 0b1111110, 0b1100011, 0b1100011, 0b1100011,
            0b0111110,
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

    /// The canvas with every ink pixel grown to a square of `radius` pixels each way.
    fn dilated(&self, radius: i32) -> Self {
        let mut rows = Self::blank();
        for y in 0..H_I32 {
            for x in 0..W_I32 {
                if (-radius..=radius).any(|d| self.get(x + d, y)) {
                    rows.set(x, y, true);
                }
            }
        }
        let mut out = Self::blank();
        for y in 0..H_I32 {
            for x in 0..W_I32 {
                if (-radius..=radius).any(|d| rows.get(x, y + d)) {
                    out.set(x, y, true);
                }
            }
        }
        out
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
    // About 72 % of the cell for the glyph body, the rest for gaps (rotation eats some of it,
    // and the halo needs room between letters).
    let base_scale_x = (advance * 0.72 / GLYPH_COLS as f32).min(MAX_SCALE_X);

    for (i, glyph) in glyphs.iter().enumerate() {
        let angle = rng.signed(0.36);
        let placement = Placement {
            cx: first_centre + i as f32 * advance + rng.signed(advance * 0.06),
            cy: H_F32 / 2.0 + rng.signed(8.0),
            scale_x: base_scale_x * rng.range(0.84, 1.08),
            scale_y: rng.range(4.2, 5.6),
            shear: rng.signed(0.16),
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

/// A short solid stroke almost as thick as a letter's thin strokes, anywhere: to a machine that
/// segments strokes, pieces of characters at every angle; to a reader, debris beside whole
/// letters (it never comes within the halo of one).
fn draw_fragment(canvas: &mut Canvas, rng: &mut Rng) {
    let (x, y) = (rng.range(0.0, W_F32), rng.range(0.0, H_F32));
    let angle = rng.range(0.0, TAU);
    let length = rng.range(8.0, 20.0);
    let radius = rng.range(1.8, 3.0);
    let steps = (length * 2.0) as u32;
    for step in 0..=steps {
        let t = step as f32 / steps as f32 * length;
        canvas.stamp_disc(x + t * angle.cos(), y + t * angle.sin(), radius);
    }
}

/// A thin arc of a circle, anywhere.
fn draw_arc(canvas: &mut Canvas, rng: &mut Rng) {
    let (cx, cy) = (rng.range(0.0, W_F32), rng.range(0.0, H_F32));
    let r = rng.range(12.0, 40.0);
    let start = rng.range(0.0, TAU);
    let sweep = rng.range(1.0, 2.5);
    let radius = rng.range(0.8, 1.3);
    let steps = (r * sweep * 2.0) as u32;
    for step in 0..=steps {
        let angle = start + sweep * step as f32 / steps as f32;
        canvas.stamp_disc(cx + r * angle.cos(), cy + r * angle.sin(), radius);
    }
}

/// Whole-image sine warp: x is displaced along y and y along x (nearest-neighbour sampling).
fn warp(source: &Canvas, rng: &mut Rng) -> Canvas {
    let amplitude_x = rng.range(1.0, 2.0);
    let frequency_x = TAU / rng.range(60.0, 100.0);
    let phase_x = rng.range(0.0, TAU);
    let amplitude_y = rng.range(2.0, 4.0);
    let frequency_y = TAU / rng.range(90.0, 180.0);
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

/// Sparse noise: small ink specks anywhere (kept off the letters with the rest of the clutter).
fn speckle(canvas: &mut Canvas, rng: &mut Rng) {
    let specks = 120 + rng.below(60);
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
    /// Look-alikes in print, and characters that tilting makes look like one in the alphabet or
    /// like each other (`K`, `Y` like `X`; `M`, `N`, `W` like `H`; `G` like `C` and `6`; `F`
    /// like `E`; `A` and `4`; `7` and `T`).
    const AMBIGUOUS: &[u8] = b"0OQD1IJ2Z5S8BUVKYMNWGFA7";

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
        assert_eq!(ALPHABET.len(), 12);
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
    fn look_alikes_are_read_as_the_alphabet_character_they_stand_for() {
        for (alike, meant) in LOOK_ALIKES {
            assert!(ALPHABET.contains(&meant), "{alike} stands for {meant}");
            assert!(
                !ALPHABET.contains(&(alike as u8)),
                "{alike} is in the alphabet"
            );
            assert!(
                AMBIGUOUS.contains(&(alike as u8)),
                "{alike} is a known look-alike"
            );
            assert_eq!(read_as(alike), char::from(meant));
            assert_eq!(read_as(alike.to_ascii_lowercase()), char::from(meant));
        }
        assert_eq!(read_as('k'), 'X');
        assert_eq!(read_as('a'), '4');
        assert_eq!(read_as('7'), 'T');
        // Every alphabet character reads as itself, in either case; anything else is only
        // upper-cased.
        for &c in ALPHABET {
            let c = char::from(c);
            assert_eq!(read_as(c), c);
            assert_eq!(read_as(c.to_ascii_lowercase()), c);
        }
        for c in ['0', 'O', 'B', '8', '1', 'z', ' ', 'é'] {
            assert_eq!(read_as(c), c.to_ascii_uppercase());
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
        let bytes = render_png("CE3X6H", seed(1)).unwrap();
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
        let a = render_png("HXP463", seed(7)).unwrap();
        let b = render_png("HXP463", seed(7)).unwrap();
        let c = render_png("HXP463", seed(8)).unwrap();
        let mut high_byte = seed(7);
        high_byte[20] ^= 1;
        let d = render_png("HXP463", high_byte).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert_ne!(a, render_png("HXP469", seed(7)).unwrap());
    }

    #[test]
    fn input_is_case_insensitive() {
        assert_eq!(
            render_png("ech3", seed(3)).unwrap(),
            render_png("ECH3", seed(3)).unwrap()
        );
    }

    #[test]
    fn unsupported_characters_are_refused() {
        for (text, bad) in [
            ("CE0", '0'),
            ("Co", 'o'),
            ("B", 'B'),
            ("C E", ' '),
            ("Cé", 'é'),
            ("C-", '-'),
            ("CA", 'A'),
            ("C7", '7'),
        ] {
            match render_png(text, seed(0)) {
                Err(RenderError::UnsupportedCharacter(c)) => assert_eq!(c, bad, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn too_long_text_is_refused() {
        let long = "CEHLPRTX3";
        assert!(matches!(
            render_png(long, seed(0)),
            Err(RenderError::TooLong(9))
        ));
        assert!(render_png(&long[..MAX_CHARS], seed(0)).is_ok());
        let error = render_png(long, seed(0)).unwrap_err();
        assert!(error.to_string().contains('9'));
    }

    #[test]
    fn the_clutter_never_touches_a_letter() {
        for n in 0..40 {
            let glyphs = glyphs_for(&text(n, 6)).unwrap();
            let (letters, image) = compose(&glyphs, &mut Rng::from_seed(&seed(n)));
            let halo = letters.dilated(HALO);
            let mut clutter = 0;
            for (i, &ink) in image.ink.iter().enumerate() {
                if halo.ink[i] {
                    // Within a letter's halo: exactly the letter, nothing added or taken away.
                    assert_eq!(ink, letters.ink[i], "image {n}, pixel {i}");
                } else if ink {
                    clutter += 1;
                }
            }
            assert!(clutter > 300, "image {n}: only {clutter} pixels of clutter");
        }
        // The halo reaches HALO pixels each way, and no further.
        let mut dot = Canvas::blank();
        dot.set(100, 40, true);
        let grown = dot.dilated(HALO);
        assert!(grown.get(100 + HALO, 40 - HALO) && grown.get(100 - HALO, 40 + HALO));
        assert!(!grown.get(100 + HALO + 1, 40) && !grown.get(100, 40 - HALO - 1));
        assert_eq!(
            grown.ink.iter().filter(|&&p| p).count(),
            ((2 * HALO + 1) * (2 * HALO + 1)) as usize
        );
    }

    #[test]
    fn no_letter_is_cut_by_the_frame() {
        // The warp moves pixels by at most 2 across and 4 down: letters keep clear of the edge
        // by more, so no glyph loses a stroke (a clipped `3` reads as a `9`).
        for n in 0..100 {
            for length in [1, 6, MAX_CHARS] {
                let glyphs = glyphs_for(&text(n, length)).unwrap();
                let (letters, _) = compose(&glyphs, &mut Rng::from_seed(&seed(n)));
                for y in 0..H_I32 {
                    for x in 0..W_I32 {
                        let near_edge =
                            !(3..W_I32 - 3).contains(&x) || !(5..H_I32 - 5).contains(&y);
                        assert!(
                            !(near_edge && letters.get(x, y)),
                            "image {n} of {length}: ink at ({x}, {y})"
                        );
                    }
                }
            }
        }
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
