//! JSON input: NDJSON, values one after the other (pretty-printed or not), or one array of
//! them, told by the first byte that is not white space. The input is cut into top-level
//! values by a scanner that follows strings and nesting, and each value is parsed alone, so
//! a malformed one is reported with its line and skipped. A raw line break inside a string
//! (never valid JSON) ends the malformed value there, so that what follows is read again;
//! a value whose brackets do not balance swallows what follows it up to where they do (or
//! to the end).

use std::io::Read;

use cairn_storage::Value;

use super::{BadRecord, Item, Place};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Nothing but white space seen yet.
    Start,
    /// Top-level values one after the other.
    Values,
    /// Inside a top-level array.
    Array,
    /// After the array's closing bracket.
    AfterArray,
}

/// The records of a JSON input.
pub(super) struct JsonRecords {
    input: Box<dyn Read + Send>,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
    mode: Mode,
    /// The line the scanner is on.
    line: u64,
    /// The value being cut out, the line it began on, and the scanner's state inside it.
    value: Vec<u8>,
    value_line: u64,
    depth: u32,
    in_string: bool,
    escaped: bool,
    done: bool,
}

impl JsonRecords {
    pub(super) fn new(input: Box<dyn Read + Send>) -> JsonRecords {
        JsonRecords {
            input,
            buf: vec![0; 256 << 10],
            pos: 0,
            end: 0,
            eof: false,
            mode: Mode::Start,
            line: 1,
            value: Vec::new(),
            value_line: 1,
            depth: 0,
            in_string: false,
            escaped: false,
            done: false,
        }
    }

    /// The next byte, without taking it; None at the end (or when reading failed: then the
    /// error).
    fn peek(&mut self) -> Result<Option<u8>, std::io::Error> {
        if self.pos == self.end {
            if self.eof {
                return Ok(None);
            }
            self.pos = 0;
            self.end = loop {
                match self.input.read(&mut self.buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            if self.end == 0 {
                self.eof = true;
                return Ok(None);
            }
        }
        Ok(Some(self.buf[self.pos]))
    }

    fn take(&mut self, b: u8) {
        self.pos += 1;
        if b == b'\n' {
            self.line += 1;
        }
    }

    /// The value cut out so far, parsed, and the scanner reset for the next one.
    fn finish(&mut self, complete: bool) -> Item {
        let place = Place::Line(self.value_line);
        let bytes = std::mem::take(&mut self.value);
        let unterminated = !complete || self.in_string || self.depth > 0;
        self.depth = 0;
        self.in_string = false;
        self.escaped = false;
        if unterminated {
            return Err(BadRecord { place, reason: "malformed JSON: the value ends before it is closed".into() });
        }
        Value::from_json_slice(&bytes).map_err(|e| BadRecord { place, reason: format!("malformed JSON: {e}") })
    }

    fn bad(&self, reason: String) -> Item {
        Err(BadRecord { place: Place::Line(self.line), reason })
    }

    fn step(&mut self) -> Option<Item> {
        loop {
            let b = match self.peek() {
                Ok(Some(b)) => b,
                Ok(None) => {
                    self.done = true;
                    if !self.value.is_empty() {
                        return Some(self.finish(self.depth == 0 && !self.in_string));
                    }
                    if self.mode == Mode::Array {
                        return Some(self.bad("malformed JSON: the array is not closed".into()));
                    }
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return Some(self.bad(format!("cannot read the input: {e}")));
                }
            };
            if self.value.is_empty() {
                // Between values.
                if b.is_ascii_whitespace() {
                    self.take(b);
                    continue;
                }
                match (self.mode, b) {
                    (Mode::Start, b'[') => {
                        self.take(b);
                        self.mode = Mode::Array;
                        continue;
                    }
                    (Mode::Start, _) => self.mode = Mode::Values,
                    // Separators between values are skipped (a comma between top-level
                    // values is not JSON, but a stray one must not stop the reading).
                    (Mode::Array | Mode::Values, b',') => {
                        self.take(b);
                        continue;
                    }
                    (Mode::Array, b']') => {
                        self.take(b);
                        self.mode = Mode::AfterArray;
                        continue;
                    }
                    (Mode::AfterArray, _) => {
                        self.done = true;
                        return Some(self.bad("malformed JSON: more input after the array's closing bracket".into()));
                    }
                    _ => {}
                }
                self.value_line = self.line;
            }
            if self.in_string {
                if b == b'\n' {
                    // Not valid inside a string: the value ends here, malformed.
                    return Some(self.finish(false));
                }
                self.take(b);
                self.value.push(b);
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                    if self.depth == 0 {
                        return Some(self.finish(true));
                    }
                }
                continue;
            }
            match b {
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' if self.depth == 0 => {
                    // A top-level scalar ends at the array's end, or a stray bracket.
                    if self.mode == Mode::Array && b == b']' {
                        return Some(self.finish(true));
                    }
                    self.take(b);
                    self.value.push(b);
                    return Some(self.finish(false));
                }
                b'}' | b']' => self.depth -= 1,
                b'"' => self.in_string = true,
                b',' if self.depth == 0 => return Some(self.finish(true)),
                _ if b.is_ascii_whitespace() && self.depth == 0 => return Some(self.finish(true)),
                _ => {}
            }
            self.take(b);
            self.value.push(b);
            if self.depth == 0 && matches!(b, b'}' | b']') {
                return Some(self.finish(true));
            }
        }
    }
}

impl Iterator for JsonRecords {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if self.done {
            return None;
        }
        self.step()
    }
}
