//! Pretty JSON of long lists, rendered on every core.
//!
//! `scope --format json` on a long range is mostly a list of changes: 56 MB of
//! pretty JSON for 100,000 commits, written after the walk has ended, on one core
//! while the other sat idle (a tenth of the command's time, BENCHMARKS.md). Here the
//! elements are rendered in blocks by worker threads and written in order, byte for
//! byte what `serde_json::to_writer_pretty` writes for the same value, with only a
//! few blocks in memory at a time. `PrettyObject` writes such an element field by
//! field, faster than serde_json's general machinery, to the same bytes.

use std::io::{self, Write};
use std::sync::mpsc;

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter, Serializer};

/// Elements per block: a block of changes is about 2 MB of JSON.
const BLOCK: usize = 4096;

/// Below this many elements, threads cost more than they save.
const PARALLEL_FROM: usize = 2 * BLOCK;

/// Writes `value` as `to_writer_pretty` would where it sits `depth` levels deep in an
/// enclosing value: the first line unindented (it follows a key or a list
/// separator), the following ones indented for that depth.
pub fn write_pretty_at<W: Write, T: Serialize + ?Sized>(
    out: &mut W,
    value: &T,
    depth: usize,
) -> serde_json::Result<()> {
    let mut formatter = PrettyFormatter::new();
    // The formatter's indentation is its count of open arrays and objects.
    for _ in 0..depth {
        formatter
            .begin_array(&mut io::sink())
            .map_err(serde_json::Error::io)?;
    }
    value.serialize(&mut Serializer::with_formatter(out, formatter))
}

/// Writes `items` as a JSON array `depth` levels deep (as `write_pretty_at`), the
/// elements rendered in parallel when there are many. `element(item, buf, depth)`
/// appends one element to `buf`: `write_pretty_at` itself, or a faster writer of the
/// same bytes (`Change::write_json`).
pub fn write_pretty_seq<W: Write, T: Sync>(
    out: &mut W,
    items: &[T],
    depth: usize,
    element: impl Fn(&T, &mut Vec<u8>, usize) -> serde_json::Result<()> + Sync,
) -> serde_json::Result<()> {
    if items.is_empty() {
        return out.write_all(b"[]").map_err(serde_json::Error::io);
    }
    out.write_all(b"[").map_err(serde_json::Error::io)?;
    let render = |block: &[T], first: bool, buf: &mut Vec<u8>| -> serde_json::Result<()> {
        for (i, item) in block.iter().enumerate() {
            buf.extend_from_slice(if first && i == 0 { b"\n" } else { b",\n" });
            push_indent(buf, depth + 1);
            element(item, buf, depth + 1)?;
        }
        Ok(())
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    if items.len() < PARALLEL_FROM || workers < 2 {
        let mut buf = Vec::new();
        for (b, block) in items.chunks(BLOCK).enumerate() {
            buf.clear();
            render(block, b == 0, &mut buf)?;
            out.write_all(&buf).map_err(serde_json::Error::io)?;
        }
    } else {
        // Worker `w` renders blocks w, w + workers, ...; this thread takes them from
        // the workers in turn and writes them, so the output keeps its order. Each
        // worker is at most two blocks ahead, and gets its buffers back to reuse.
        let blocks: Vec<&[T]> = items.chunks(BLOCK).collect();
        std::thread::scope(|scope| -> serde_json::Result<()> {
            let mut lanes = Vec::with_capacity(workers);
            for w in 0..workers {
                let (done_tx, done_rx) = mpsc::sync_channel::<serde_json::Result<Vec<u8>>>(2);
                let (back_tx, back_rx) = mpsc::channel::<Vec<u8>>();
                let blocks = &blocks;
                let render = &render;
                scope.spawn(move || {
                    for b in (w..blocks.len()).step_by(workers) {
                        let mut buf = back_rx.try_recv().unwrap_or_default();
                        buf.clear();
                        let rendered = render(blocks[b], b == 0, &mut buf).map(|_| buf);
                        let failed = rendered.is_err();
                        // The receiver is gone only when writing failed: stop.
                        if done_tx.send(rendered).is_err() || failed {
                            return;
                        }
                    }
                });
                lanes.push((done_rx, back_tx));
            }
            for b in 0..blocks.len() {
                let (done, back) = &lanes[b % workers];
                let buf = done
                    .recv()
                    .expect("a JSON worker ended before rendering its block")?;
                out.write_all(&buf).map_err(serde_json::Error::io)?;
                let _ = back.send(buf);
            }
            Ok(())
        })?;
    }
    let mut end = b"\n".to_vec();
    push_indent(&mut end, depth);
    end.push(b']');
    out.write_all(&end).map_err(serde_json::Error::io)
}

/// Writes one JSON object as `to_writer_pretty` writes it `depth` levels deep, field
/// by field, straight into a buffer: for values written by the hundred thousand
/// (`Change::write_json`), where serde_json's general machinery (a formatter call per
/// token, indentation a level at a time) was most of the cost.
pub struct PrettyObject<'a> {
    out: &'a mut Vec<u8>,
    depth: usize,
    empty: bool,
}

/// Spaces for any indentation up to 16 levels deep, sliced instead of looped.
const SPACES: &[u8; 32] = b"                                ";

fn push_indent(out: &mut Vec<u8>, depth: usize) {
    let mut n = 2 * depth;
    while n > 0 {
        let k = n.min(SPACES.len());
        out.extend_from_slice(&SPACES[..k]);
        n -= k;
    }
}

impl<'a> PrettyObject<'a> {
    pub fn begin(out: &'a mut Vec<u8>, depth: usize) -> PrettyObject<'a> {
        out.push(b'{');
        PrettyObject {
            out,
            depth,
            empty: true,
        }
    }

    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        self.out
            .extend_from_slice(if self.empty { b"\n" } else { b",\n" });
        self.empty = false;
        push_indent(self.out, self.depth + 1);
        push_string(self.out, key);
        self.out.extend_from_slice(b": ");
        self.out
    }

    pub fn string(&mut self, key: &str, value: &str) {
        let out = self.key(key);
        push_string(out, value);
    }

    pub fn opt_string(&mut self, key: &str, value: Option<&str>) {
        let out = self.key(key);
        match value {
            Some(v) => push_string(out, v),
            None => out.extend_from_slice(b"null"),
        }
    }

    pub fn bool(&mut self, key: &str, value: bool) {
        let out = self.key(key);
        out.extend_from_slice(if value { b"true" } else { b"false" });
    }

    pub fn opt_u64(&mut self, key: &str, value: Option<u64>) {
        let out = self.key(key);
        match value {
            Some(n) => {
                let _ = write!(out, "{n}");
            }
            None => out.extend_from_slice(b"null"),
        }
    }

    pub fn strings<S: AsRef<str>>(&mut self, key: &str, values: impl IntoIterator<Item = S>) {
        let depth = self.depth + 1;
        let out = self.key(key);
        let mut values = values.into_iter().peekable();
        if values.peek().is_none() {
            out.extend_from_slice(b"[]");
            return;
        }
        out.push(b'[');
        for (i, v) in values.enumerate() {
            out.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
            push_indent(out, depth + 1);
            push_string(out, v.as_ref());
        }
        out.push(b'\n');
        push_indent(out, depth);
        out.push(b']');
    }

    pub fn end(self) {
        if !self.empty {
            self.out.push(b'\n');
            push_indent(self.out, self.depth);
        }
        self.out.push(b'}');
    }
}

/// A JSON string as serde_json writes it: `"` and `\\` escaped, control characters
/// as `\b \t \n \f \r` or `\u00xx`, everything else (all of UTF-8) as is.
pub fn push_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    // Nearly every string needs no escape: find out without branching per byte (the
    // fold compiles to vector compares), then copy it whole.
    let plain = !bytes.iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if plain {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        start = i + 1;
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pretty_seq(items: &[serde_json::Value], depth: usize) -> String {
        let mut out = Vec::new();
        write_pretty_seq(&mut out, items, depth, |v, buf, d| {
            write_pretty_at(buf, v, d)
        })
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The list written inside `depth` levels of objects, as a whole document.
    fn nested(list: String, depth: usize) -> String {
        let mut doc = String::new();
        for d in 0..depth {
            doc.push_str(&format!("{{\n{}\"k\": ", "  ".repeat(d + 1)));
        }
        doc.push_str(&list);
        for d in (0..depth).rev() {
            doc.push_str(&format!("\n{}}}", "  ".repeat(d)));
        }
        doc
    }

    fn wrap(value: serde_json::Value, depth: usize) -> serde_json::Value {
        (0..depth).fold(value, |v, _| json!({ "k": v }))
    }

    #[test]
    fn lists_match_serde_json_at_any_depth_and_length() {
        let item = |i: usize| {
            json!({
                "id": format!("c{i}"),
                "text": "line\nbreak \"quoted\" \u{1F600}",
                "list": [i, {"deep": []}, {}],
                "none": null,
                "n": i,
            })
        };
        // Short lists render on this thread, long ones (over PARALLEL_FROM) on
        // workers, with a partial last block.
        for len in [0, 1, 2, BLOCK, PARALLEL_FROM + 3, 3 * BLOCK + 17] {
            let items: Vec<_> = (0..len).map(item).collect();
            for depth in [0, 1, 3] {
                let expected =
                    serde_json::to_string_pretty(&wrap(json!(items.clone()), depth)).unwrap();
                assert_eq!(
                    nested(pretty_seq(&items, depth), depth),
                    expected,
                    "{len} items at depth {depth}"
                );
            }
        }
    }

    #[test]
    fn values_match_serde_json_at_depth() {
        let value = json!({"a": [1, {"b": "c"}], "d": {}});
        let mut out = Vec::new();
        write_pretty_at(&mut out, &value, 2).unwrap();
        let expected = serde_json::to_string_pretty(&wrap(value, 2)).unwrap();
        assert_eq!(nested(String::from_utf8(out).unwrap(), 2), expected);
    }

    #[test]
    fn a_failed_write_is_an_error_not_a_hang() {
        struct Full(usize);
        impl Write for Full {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                if self.0 < buf.len() {
                    return Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"));
                }
                self.0 -= buf.len();
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let items: Vec<_> = (0..5 * BLOCK).map(|i| json!({ "n": i })).collect();
        let error = write_pretty_seq(&mut Full(100_000), &items, 1, |v, buf, d| {
            write_pretty_at(buf, v, d)
        })
        .unwrap_err();
        assert!(error.is_io(), "{error}");
    }
}
