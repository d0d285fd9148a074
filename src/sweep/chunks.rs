//! Scanning bytes that may be larger than one message: in chunks, each scanned with `OVERLAP`
//! bytes of context on both sides and keeping only the findings that start in its own part, so
//! a match across a boundary is found exactly once and look-behind (`\b`, a preceding
//! character) sees what it would see in the whole text. Regular files: chunks read by position
//! and scanned in parallel; streams (stdin, pipes, decompressed data): one chunk at a time;
//! memory bounded either way.

use std::io::Read;

use anyhow::Result;
use parapet_engine::{Category, Detection, Scanner};
use rayon::prelude::*;

/// One finding with its place and, when asked for, the matched bytes.
#[derive(Debug, Clone)]
pub struct Found {
    pub detection: Detection,
    pub line: usize,
    /// 1-based, in bytes.
    pub column: usize,
    /// 1-based, in UTF-16 code units (what SARIF counts); 0 when unknown.
    pub column_utf16: usize,
    pub value: Option<Vec<u8>>,
}

/// UTF-16 code units of `buf[range]`, the way an editor shows the text: one per character of
/// well-formed UTF-8 (two outside the BMP), and one per byte that is not part of a well-formed
/// sequence (a Latin-1 or Windows-1252 file, a stray byte), as that byte is one character in
/// those encodings and one U+FFFD when read as UTF-8. A character is counted in the range that
/// holds its first byte: the bytes around the range decide whether its ends are inside one,
/// so counts over adjacent ranges add up to the count over both.
pub fn utf16_units(buf: &[u8], range: std::ops::Range<usize>) -> usize {
    let bytes = &buf[range.clone()];
    if bytes.is_ascii() {
        return bytes.len();
    }
    let at_boundary = |i: usize| buf.get(i).is_none_or(|&b| !is_continuation(b));
    if at_boundary(range.start) && at_boundary(range.end) && std::str::from_utf8(bytes).is_ok() {
        return bytes
            .iter()
            .map(|&b| match b {
                0x80..=0xBF => 0,
                0xF0..=0xFF => 2,
                _ => 1,
            })
            .sum();
    }
    let mut i = range.start;
    if !at_boundary(i) {
        // Continuation bytes of a character that starts before the range were counted there.
        let covering = (1..=3)
            .filter_map(|k| i.checked_sub(k))
            .find_map(|j| well_formed_at(buf, j).map(|len| j + len))
            .filter(|&end| end > i);
        if let Some(end) = covering {
            i = end;
        }
    }
    let mut units = 0;
    while i < range.end {
        match well_formed_at(buf, i) {
            Some(len) => {
                units += if len == 4 { 2 } else { 1 };
                i += len;
            }
            None => {
                units += 1;
                i += 1;
            }
        }
    }
    units
}

fn is_continuation(b: u8) -> bool {
    (0x80..=0xBF).contains(&b)
}

/// The length of the well-formed UTF-8 character that starts at `buf[i]`, if one does.
fn well_formed_at(buf: &[u8], i: usize) -> Option<usize> {
    let len = match buf[i] {
        0x00..=0x7F => 1,
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return None,
    };
    let seq = buf.get(i..i + len)?;
    std::str::from_utf8(seq).is_ok().then_some(len)
}

#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub chunk: usize,
    pub overlap: usize,
}

/// Context on each side of a chunk: longer than any match, PEM blocks included.
pub const FULL_OVERLAP: usize = 64 << 10;

impl Plan {
    /// Chunks of up to 8 MiB with 64 KiB of context, within the scanner's byte cap.
    pub fn for_scanner(scanner: &Scanner) -> Plan {
        Plan::for_max_bytes(scanner.max_bytes())
    }

    /// The plan for a byte cap: a cap under 256 KiB leaves less context than [`FULL_OVERLAP`].
    pub fn for_max_bytes(cap: usize) -> Plan {
        let overlap = FULL_OVERLAP.min(cap / 4);
        let chunk = (8usize << 20).min(cap.saturating_sub(2 * overlap)).max(1);
        Plan { chunk, overlap }
    }
}

fn owned(
    scanner: &Scanner,
    data: &[u8],
    from: usize,
    own: (usize, usize),
    to: usize,
) -> Result<Vec<Detection>> {
    let verdict = scanner.scan_bytes(&data[from..to])?;
    Ok(verdict
        .detections
        .into_iter()
        .filter_map(|mut d| {
            d.span = (d.span.0 + from, d.span.1 + from);
            let inside = d.span.0 >= own.0 && (d.span.0 < own.1 || (own.1 == to && d.span.0 == to));
            inside.then_some(d)
        })
        .collect())
}

/// 1-based line, column in bytes and column in UTF-16 units of each of `offsets` (sorted
/// ascending, none before `from`) in `data`, given the line at `from`, where that line starts
/// (before `data` when negative) and how many UTF-16 units it has before `data`.
fn places(
    data: &[u8],
    offsets: &[usize],
    from: usize,
    (mut line, mut line_start, mut hidden): (usize, isize, usize),
) -> Vec<(usize, usize, usize)> {
    let mut pos = from;
    // UTF-16 units of the line from its start (or data's) up to `counted`, carried from one
    // offset to the next: many findings on one long line (minified JSON) are counted once.
    let (mut counted, mut units) = (line_start.max(0) as usize, 0usize);
    let mut out = Vec::with_capacity(offsets.len());
    for &o in offsets {
        let o = o.min(data.len());
        if let Some(nl) = memchr::memrchr(b'\n', &data[pos..o]) {
            line += memchr::memchr_iter(b'\n', &data[pos..o]).count();
            line_start = (pos + nl + 1) as isize;
            hidden = 0;
            (counted, units) = (line_start as usize, 0);
        }
        pos = o;
        units += utf16_units(data, counted..o);
        counted = o;
        out.push((
            line,
            (o as isize - line_start + 1) as usize,
            hidden + units + 1,
        ));
    }
    out
}

/// `(from, line, line_start, hidden)`: see [`places`].
fn finish(
    data: &[u8],
    mut dets: Vec<Detection>,
    keep_values: bool,
    (from, line, line_start, hidden): (usize, usize, isize, usize),
) -> Vec<Found> {
    dets.sort_by_key(|d| d.span);
    let offsets: Vec<usize> = dets.iter().map(|d| d.span.0).collect();
    let places = places(data, &offsets, from, (line, line_start, hidden));
    dets.into_iter()
        .zip(places)
        .map(|(d, (line, column, column_utf16))| {
            let value = (keep_values && d.category != Category::Validation)
                .then(|| data.get(d.span.0..d.span.1).map(<[u8]>::to_vec))
                .flatten();
            Found {
                detection: d,
                line,
                column,
                column_utf16,
                value,
            }
        })
        .collect()
}

/// Scans bytes held in memory, chunks in parallel.
pub fn scan_slice(
    scanner: &Scanner,
    data: &[u8],
    plan: Plan,
    keep_values: bool,
) -> Result<Vec<Found>> {
    let starts: Vec<usize> = if data.is_empty() {
        vec![0]
    } else {
        (0..data.len()).step_by(plan.chunk).collect()
    };
    let per_chunk: Vec<Vec<Detection>> = starts
        .par_iter()
        .map(|&s| {
            let own_end = (s + plan.chunk).min(data.len());
            let from = s.saturating_sub(plan.overlap);
            let to = (own_end + plan.overlap).min(data.len());
            owned(scanner, data, from, (s, own_end), to)
        })
        .collect::<Result<_>>()?;
    Ok(finish(
        data,
        per_chunk.into_iter().flatten().collect(),
        keep_values,
        (0, 1, 0, 0),
    ))
}

/// Reads up to `len` bytes of `file` at `offset` into the front of `buf` (grown when shorter,
/// never shrunk or zeroed again) and returns how many it read: fewer at the end of the file
/// (or if it shrank meanwhile). Positional reads: chunks are read by several threads at once.
fn read_at(file: &std::fs::File, buf: &mut Vec<u8>, offset: u64, len: usize) -> Result<usize> {
    #[cfg(unix)]
    use std::os::unix::fs::FileExt;
    #[cfg(windows)]
    use std::os::windows::fs::FileExt;
    if buf.len() < len {
        buf.resize(len, 0);
    }
    let mut got = 0;
    while got < len {
        #[cfg(unix)]
        let n = file.read_at(&mut buf[got..len], offset + got as u64);
        #[cfg(windows)]
        let n = file.seek_read(&mut buf[got..len], offset + got as u64);
        match n {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(got)
}

thread_local! {
    /// Each worker's chunk buffer, kept from one chunk to the next: a fresh 8 MiB buffer per
    /// chunk cost page faults and zeroing every time.
    static CHUNK_BUF: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// What one chunk of a file holds: its findings (lines counted from the chunk's start, line
/// 0 being the part before its first newline, columns from the chunk's start on that line),
/// and its newlines, to place the next chunks.
struct FileChunk {
    found: Vec<Found>,
    newlines: usize,
    /// UTF-16 units of the chunk's own part after its last newline (all of it without one).
    tail_utf16: usize,
    /// Offset in the file just past the chunk's last newline.
    after_last_newline: Option<usize>,
    own_end: usize,
}

/// Scans a regular file of `len` bytes in parallel chunks read with positional reads, each
/// chunk with its context on both sides: memory stays at a few chunks per thread, and a file
/// that shrinks while it is read is scanned as far as it goes (a memory map faults there).
/// The findings come one vector per chunk, in order.
pub fn scan_file(
    scanner: &Scanner,
    file: &std::fs::File,
    len: u64,
    plan: Plan,
    keep_values: bool,
) -> Result<Vec<Vec<Found>>> {
    let len = len as usize;
    let starts: Vec<usize> = (0..len.max(1)).step_by(plan.chunk).collect();
    let chunks: Vec<FileChunk> = starts
        .par_iter()
        .map(|&s| {
            let from = s.saturating_sub(plan.overlap);
            let mut held = CHUNK_BUF.with(std::cell::Cell::take);
            let got = read_at(
                file,
                &mut held,
                from as u64,
                (s + plan.chunk + plan.overlap).min(len) - from,
            );
            let chunk = got.and_then(|got| {
                scan_chunk(scanner, &held[..got], (s, from, len), plan, keep_values)
            });
            CHUNK_BUF.with(|b| b.set(held));
            chunk
        })
        .collect::<Result<_>>()?;
    // Lines and columns from the start of the file: each chunk's line 0 continues the line
    // the chunks before it ended on.
    let (mut line, mut line_start, mut carry_utf16) = (1usize, 0usize, 0usize);
    // Each chunk's findings stay in their own vector (placed where they are): the caller moves
    // them out one chunk at a time, so a file with a finding on every line (millions) is held
    // about once, not once here and once more in the report.
    let mut out = Vec::with_capacity(chunks.len());
    for (mut c, &s) in chunks.into_iter().zip(&starts) {
        for f in &mut c.found {
            if f.line == 0 {
                f.column += s - line_start;
                f.column_utf16 += carry_utf16;
            }
            f.line += line;
        }
        out.push(c.found);
        line += c.newlines;
        match c.after_last_newline {
            Some(p) => {
                line_start = p;
                carry_utf16 = c.tail_utf16;
            }
            None => carry_utf16 += c.tail_utf16,
        }
        if c.own_end < (s + plan.chunk).min(len) {
            break; // the file shrank while it was read
        }
    }
    Ok(out)
}

/// Scans one chunk read from a file: `buf` starts at offset `from` and holds the chunk that
/// starts at `s` with its context; `len` is the file's length.
fn scan_chunk(
    scanner: &Scanner,
    buf: &[u8],
    (s, from, len): (usize, usize, usize),
    plan: Plan,
    keep_values: bool,
) -> Result<FileChunk> {
    let (own_start, own_end) = (s - from, (s + plan.chunk).min(len) - from);
    let own_end = own_end.min(buf.len());
    let own_start = own_start.min(own_end);
    let dets = owned(scanner, buf, 0, (own_start, own_end), buf.len())?;
    let mut found = finish(
        buf,
        dets,
        keep_values,
        (own_start, 0, own_start as isize, 0),
    );
    for f in &mut found {
        f.detection.span.0 += from;
        f.detection.span.1 += from;
    }
    let own = &buf[own_start..own_end];
    let tail_start = memchr::memrchr(b'\n', own).map_or(own_start, |p| own_start + p + 1);
    Ok(FileChunk {
        found,
        tail_utf16: utf16_units(buf, tail_start..own_end),
        newlines: memchr::memchr_iter(b'\n', own).count(),
        after_last_newline: memchr::memrchr(b'\n', own).map(|p| from + own_start + p + 1),
        own_end: from + own_end,
    })
}

/// Scans a stream one chunk at a time; memory stays at about chunk + 2 × overlap.
/// `progress` is told how many bytes each step consumed. Returns the findings, the length, and
/// the read error that ended the stream early, if one did: what was read before it is scanned.
pub fn scan_stream(
    scanner: &Scanner,
    r: &mut dyn Read,
    plan: Plan,
    keep_values: bool,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Vec<Found>, u64, Option<std::io::Error>)> {
    let mut buf: Vec<u8> = Vec::with_capacity(plan.chunk + 2 * plan.overlap);
    let mut failed = None;
    // Offset in the stream of buf[0]; where our own part starts in buf; line bookkeeping at it.
    let (mut base, mut own_start) = (0u64, 0usize);
    // ...and its UTF-16 units before own_start.
    let (mut line, mut col0, mut col0_utf16) = (1usize, 0usize, 0usize);
    let mut found = Vec::new();
    loop {
        let want = own_start + plan.chunk + plan.overlap;
        let before = buf.len();
        if buf.len() < want {
            if let Err(e) = (&mut *r)
                .take((want - buf.len()) as u64)
                .read_to_end(&mut buf)
            {
                failed = Some(e);
            }
        }
        progress((buf.len() - before) as u64);
        let eof = buf.len() < want || failed.is_some();
        let own_end = if eof {
            buf.len()
        } else {
            own_start + plan.chunk
        };
        let dets = owned(scanner, &buf, 0, (own_start, own_end), buf.len())?;
        // Lines: `line` is the line at own_start, `col0` the bytes of it before own_start.
        let line_start = own_start as isize - col0 as isize;
        // The units of the line's part no longer in the buffer.
        let hidden = if line_start < 0 {
            col0_utf16.saturating_sub(utf16_units(&buf, 0..own_start))
        } else {
            0
        };
        let mut f = finish(
            &buf[..],
            dets,
            keep_values,
            (own_start, line, line_start, hidden),
        );
        for x in &mut f {
            x.detection.span.0 += base as usize;
            x.detection.span.1 += base as usize;
        }
        found.extend(f);
        if eof {
            return Ok((found, base + buf.len() as u64, failed));
        }
        let own = &buf[own_start..own_end];
        let newlines = memchr::memchr_iter(b'\n', own).count();
        line += newlines;
        (col0, col0_utf16) = match memchr::memrchr(b'\n', own) {
            Some(p) => (
                own.len() - p - 1,
                utf16_units(&buf, own_start + p + 1..own_end),
            ),
            None => (
                col0 + own.len(),
                col0_utf16 + utf16_units(&buf, own_start..own_end),
            ),
        };
        // Keep `overlap` bytes before the next own part as context, from the start of a
        // character: the bytes before a kept continuation byte would be gone, and with them
        // what tells whether it is one.
        let mut keep_from = own_end.saturating_sub(plan.overlap);
        for _ in 0..3 {
            if keep_from > 0 && buf.get(keep_from).is_some_and(|&b| is_continuation(b)) {
                keep_from -= 1;
            }
        }
        buf.drain(..keep_from);
        base += keep_from as u64;
        own_start = own_end - keep_from;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "ghp_Qm3kV9ZtR2xW8pLc4NbY7dFh1JsG6a0AbCdE";

    /// Lines and columns of each offset the slow way: from the text before it.
    fn naive_place(text: &str, at: usize) -> (usize, usize, usize) {
        let line_start = text[..at].rfind('\n').map_or(0, |p| p + 1);
        (
            text[..at].matches('\n').count() + 1,
            at - line_start + 1,
            text[line_start..at].encode_utf16().count() + 1,
        )
    }

    #[test]
    fn places_of_many_offsets_on_long_lines_match_a_fresh_count() {
        let text = format!(
            "{}\n\n{}\n{}",
            "aé🙂 ".repeat(300),
            "x".repeat(50),
            "日本 z".repeat(200)
        );
        let offsets: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .filter(|i| i % 7 == 0 || text[*i..].starts_with('\n'))
            .collect();
        let got = places(text.as_bytes(), &offsets, 0, (1, 0, 0));
        let want: Vec<_> = offsets.iter().map(|&o| naive_place(&text, o)).collect();
        assert_eq!(got, want);
        // Starting inside the text: the line at `from` began 3 bytes earlier, with 3 units.
        let from = text.find('x').unwrap() + 3;
        let later: Vec<usize> = offsets.iter().copied().filter(|&o| o >= from).collect();
        let got = places(text.as_bytes(), &later, from, (3, from as isize - 3, 0));
        let want: Vec<_> = later.iter().map(|&o| naive_place(&text, o)).collect();
        assert_eq!(got, want);
    }

    /// The findings of `text` scanned as a file and as a stream, labelled.
    fn file_and_stream(
        scanner: &Scanner,
        text: &[u8],
        plan: Plan,
    ) -> [(&'static str, Vec<Found>); 2] {
        let path = std::env::temp_dir().join(format!(
            "parapet-columns-{}-{}",
            std::process::id(),
            text.len()
        ));
        std::fs::write(&path, text).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let from_file = scan_file(scanner, &file, text.len() as u64, plan, false)
            .unwrap()
            .concat();
        std::fs::remove_file(&path).unwrap();
        let streamed = scan_stream(scanner, &mut &text[..], plan, false, &|_| {})
            .unwrap()
            .0;
        [("file", from_file), ("stream", streamed)]
    }

    /// UTF-16 units of text read as UTF-8 with one unit per byte of each ill-formed part.
    fn reference_units(bytes: &[u8]) -> usize {
        bytes
            .utf8_chunks()
            .map(|c| c.valid().encode_utf16().count() + c.invalid().len())
            .sum()
    }

    #[test]
    fn utf16_units_count_latin1_bytes_as_characters_and_add_up_over_ranges() {
        // "café © 2024 ñó" in Latin-1, then the same in UTF-8, a truncated sequence, an emoji.
        let mut text = b"caf\xe9 \xa9 2024 \xf1\xf3 | ".to_vec();
        text.extend_from_slice("café © 2024 ñó \u{1F642} ".as_bytes());
        text.extend_from_slice(b"\xe2\x82 end");
        assert_eq!(utf16_units(&text, 0..17), 17);
        assert_eq!(utf16_units(&text, 0..text.len()), reference_units(&text));
        // Pseudo-random bytes, mostly high ones, cut at pseudo-random points.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..200 {
            let bytes: Vec<u8> = (0..64)
                .map(|_| match next() % 4 {
                    0 => b'a',
                    1 => 0x80 + (next() % 64) as u8,
                    _ => 0xC0 + (next() % 64) as u8,
                })
                .collect();
            let mut cuts: Vec<usize> = (0..5).map(|_| (next() % 65) as usize).collect();
            cuts.extend([0, 64]);
            cuts.sort_unstable();
            let parts: usize = cuts
                .windows(2)
                .map(|w| utf16_units(&bytes, w[0]..w[1]))
                .sum();
            assert_eq!(parts, reference_units(&bytes), "{bytes:x?} cut at {cuts:?}");
        }
    }

    #[test]
    fn a_stream_without_context_bytes_is_scanned_whole() {
        // A byte cap under 4 leaves no overlap: each chunk is kept from its own end.
        let scanner = crate::rule_cache::default_scanner();
        let plan = Plan {
            chunk: 64,
            overlap: 0,
        };
        let text = "é ".repeat(300);
        let (_, len, failed) =
            scan_stream(&scanner, &mut text.as_bytes(), plan, false, &|_| {}).unwrap();
        assert_eq!(len, text.len() as u64);
        assert!(failed.is_none());
    }

    #[test]
    fn latin1_columns_carry_across_chunks() {
        let scanner = crate::rule_cache::default_scanner();
        let plan = Plan {
            chunk: 64,
            overlap: 48,
        };
        // A long Latin-1 line ("© ° " is four bytes), then the token on the same line.
        let mut text = b"x\n".to_vec();
        text.extend(b"\xa9 \xb0 ".repeat(25));
        text.extend_from_slice(format!(" {TOKEN} end\n").as_bytes());
        let at = memchr::memmem::find(&text, TOKEN.as_bytes()).unwrap();
        for (label, found) in file_and_stream(&scanner, &text, plan) {
            let f = found
                .iter()
                .find(|f| f.detection.kind == "github_token")
                .unwrap_or_else(|| panic!("{label}: not found"));
            assert_eq!(f.column, at - 2 + 1, "{label}");
            assert_eq!(f.column_utf16, at - 2 + 1, "{label}");
        }
    }

    #[test]
    fn utf16_columns_carry_across_chunks() {
        let scanner = crate::rule_cache::default_scanner();
        let plan = Plan {
            chunk: 64,
            overlap: 48,
        };
        for before in ["", "abc\n", "x\n🙂\n"] {
            // A long line of two-byte characters, then the token on the same line.
            let text = format!("{before}{} {TOKEN} end\n", "é".repeat(100));
            let line_start = text[..text.find('é').unwrap()].len();
            let at = text.find(TOKEN).unwrap();
            let want = text[line_start..at].encode_utf16().count() + 1;
            for (label, found) in file_and_stream(&scanner, text.as_bytes(), plan) {
                let f = found
                    .iter()
                    .find(|f| f.detection.kind == "github_token")
                    .unwrap_or_else(|| panic!("{label}: not found"));
                assert_eq!(f.column_utf16, want, "{label}, prefix {before:?}");
                assert_eq!(f.column, at - line_start + 1, "{label}, prefix {before:?}");
            }
        }
    }

    #[test]
    fn every_boundary_planted_found_once_with_its_line() {
        let scanner = crate::rule_cache::default_scanner();
        let plan = Plan {
            chunk: 4096,
            overlap: 1024,
        };
        // Tokens planted so that one straddles every chunk boundary, at every small shift.
        for shift in [0usize, 1, 7, 20, 39, 40] {
            let mut text = String::new();
            let mut expect = Vec::new();
            let mut line = 1;
            for k in 1..6 {
                let boundary = k * plan.chunk;
                let at = boundary - shift;
                while text.len() + 1 < at {
                    if text.len() % 80 == 79 {
                        text.push('\n');
                        line += 1;
                    } else {
                        text.push('x');
                    }
                }
                text.push(' ');
                expect.push((text.len(), line));
                text.push_str(TOKEN);
                text.push(' ');
            }
            let bytes = text.as_bytes();
            let path = std::env::temp_dir()
                .join(format!("parapet-chunks-{}-{shift}.txt", std::process::id()));
            std::fs::write(&path, bytes).unwrap();
            let file = std::fs::File::open(&path).unwrap();
            let from_file: Vec<Found> = scan_file(&scanner, &file, bytes.len() as u64, plan, false)
                .unwrap()
                .concat();
            std::fs::remove_file(&path).unwrap();
            let column = |at: usize| at - text[..at].rfind('\n').map_or(0, |p| p + 1) + 1;
            let columns: Vec<usize> = from_file
                .iter()
                .filter(|f| f.detection.kind == "github_token")
                .map(|f| f.column)
                .collect();
            let want: Vec<usize> = expect.iter().map(|&(at, _)| column(at)).collect();
            assert_eq!(columns, want, "file columns, shift {shift}");
            for (label, found) in [
                ("file", from_file),
                ("slice", scan_slice(&scanner, bytes, plan, false).unwrap()),
                (
                    "stream",
                    scan_stream(&scanner, &mut &bytes[..], plan, false, &|_| {})
                        .unwrap()
                        .0,
                ),
            ] {
                let got: Vec<(usize, usize)> = found
                    .iter()
                    .filter(|f| f.detection.kind == "github_token")
                    .map(|f| (f.detection.span.0, f.line))
                    .collect();
                assert_eq!(got, expect, "{label}, shift {shift}");
            }
        }
    }
}
