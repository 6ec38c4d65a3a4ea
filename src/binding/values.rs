//! Reading Janet values into Rust values, with an error that names the
//! argument or option at fault; and building the Janet values we return.

use std::cell::Cell;

use janetrs::lowlevel as raw;
use janetrs::{Janet, JanetArray, JanetKeyword, JanetString, JanetTable, TaggedJanet};

use crate::core::error::{named_on_error, CaError, CaResult};
use crate::core::error::shown;
use crate::core::secret::Secret;
use crate::core::serial::Serial;
use crate::core::time;

/// A new Janet string with these bytes.
pub fn janet_string(s: &str) -> raw::Janet {
    let len = i32::try_from(s.len()).unwrap_or(i32::MAX);
    // SAFETY: janet_string copies `len` bytes from a valid slice.
    unsafe { raw::janet_wrap_string(raw::janet_string(s.as_ptr(), len)) }
}

/// The tagged view of a value, to match on its type. (janetrs names this
/// `Janet::unwrap`; it never panics.)
pub trait Tagged {
    fn tagged<'data>(&self) -> TaggedJanet<'data>;
}

impl Tagged for Janet {
    fn tagged<'data>(&self) -> TaggedJanet<'data> {
        Janet::unwrap(*self)
    }
}

/// Janet's name for a value's type, for error messages.
pub fn type_name(v: &Janet) -> &'static str {
    match v.tagged() {
        TaggedJanet::Abstract(_) => match int_kind(v) {
            Some(IntKind::S64) => "int/s64",
            Some(IntKind::U64) => "int/u64",
            None => "abstract value",
        },
        TaggedJanet::Array(_) => "array",
        TaggedJanet::Boolean(_) => "boolean",
        TaggedJanet::Buffer(_) => "buffer",
        TaggedJanet::CFunction(_) => "cfunction",
        TaggedJanet::Fiber(_) => "fiber",
        TaggedJanet::Function(_) => "function",
        TaggedJanet::Keyword(_) => "keyword",
        TaggedJanet::Nil => "nil",
        TaggedJanet::Number(_) => "number",
        TaggedJanet::Pointer(_) => "pointer",
        TaggedJanet::String(_) => "string",
        TaggedJanet::Struct(_) => "struct",
        TaggedJanet::Symbol(_) => "symbol",
        TaggedJanet::Table(_) => "table",
        TaggedJanet::Tuple(_) => "tuple",
    }
}

fn wrong_type(v: &Janet, what: &str, expected: &str) -> CaError {
    CaError::param(format!("{what} must be {expected}, got {}", type_name(v)))
}

enum IntKind {
    S64,
    U64,
}

fn int_kind(v: &Janet) -> Option<IntKind> {
    // SAFETY: janet_is_int only inspects the value's tag and abstract type.
    match unsafe { raw::janet_is_int(v.raw_data()) } {
        raw::JanetIntType_JANET_INT_S64 => Some(IntKind::S64),
        raw::JanetIntType_JANET_INT_U64 => Some(IntKind::U64),
        _ => None,
    }
}

/// The bytes of a string or buffer.
pub fn bytes<'a>(v: &'a Janet, what: &str) -> CaResult<&'a [u8]> {
    match v.tagged() {
        // SAFETY: the slice borrows GC memory that the argument keeps alive for
        // this cfunction call; Janet strings are never NULL.
        TaggedJanet::String(s) => Ok(unsafe { std::slice::from_raw_parts(s.as_raw(), s.len()) }),
        TaggedJanet::Buffer(b) => {
            // SAFETY: as above; a buffer made by ffi/pointer-buffer may have NULL data.
            let data = unsafe { (*b.as_raw()).data };
            if data.is_null() || b.is_empty() {
                return Ok(&[]);
            }
            // SAFETY: non-NULL data of `len` initialised bytes, kept alive by the argument.
            Ok(unsafe { std::slice::from_raw_parts(data, b.len()) })
        }
        _ => Err(wrong_type(v, what, "a string or buffer")),
    }
}

fn utf8<'a>(b: &'a [u8], what: &str) -> CaResult<&'a str> {
    std::str::from_utf8(b).map_err(|_| CaError::param(format!("{what} must be valid UTF-8 text")))
}

/// A password: string or buffer bytes, held zero-on-drop.
pub fn secret(v: &Janet, what: &str) -> CaResult<Secret> {
    Ok(Secret::new(bytes(v, what)?.to_vec()))
}

/// Text from a string or buffer.
pub fn text(v: &Janet, what: &str) -> CaResult<String> {
    utf8(bytes(v, what)?, what).map(str::to_owned)
}

/// A name given as a keyword or a string of the same name (`:ec-p256` / "ec-p256").
pub fn name(v: &Janet, what: &str) -> CaResult<String> {
    match v.tagged() {
        TaggedJanet::Keyword(k) => utf8(k.as_bytes(), what).map(str::to_owned),
        TaggedJanet::String(_) | TaggedJanet::Buffer(_) => {
            let s = text(v, what)?;
            Ok(s.strip_prefix(':').map(str::to_owned).unwrap_or(s))
        }
        _ => Err(wrong_type(v, what, "a keyword or string")),
    }
}

pub fn boolean(v: &Janet, what: &str) -> CaResult<bool> {
    match v.tagged() {
        TaggedJanet::Boolean(b) => Ok(b),
        _ => Err(wrong_type(v, what, "true or false")),
    }
}

/// A number as a message shows it: 1e300 stays short.
fn short_number(n: f64) -> String {
    if n.is_finite() && n.abs() >= 1e15 {
        format!("{n:e}")
    } else {
        format!("{n}")
    }
}

/// An integer: a number with no fraction (exactly representable), an
/// int/s64, or an int/u64.
pub fn integer(v: &Janet, what: &str) -> CaResult<i128> {
    match v.tagged() {
        TaggedJanet::Number(n) => {
            if !n.is_finite() || n.fract() != 0.0 {
                return Err(CaError::param(format!("{what} must be an integer, got {}", short_number(n))));
            }
            if n.abs() > 9_007_199_254_740_992.0 {
                return Err(CaError::param(format!(
                    "{what} {} is too large to be exact as a number; pass an int/s64 or a hex string",
                    short_number(n)
                )));
            }
            Ok(n as i128)
        }
        TaggedJanet::Abstract(_) => match int_kind(v) {
            // SAFETY: the kind was checked to be int/s64, so the unwrap cannot raise.
            Some(IntKind::S64) => Ok(i128::from(unsafe { raw::janet_unwrap_s64(v.raw_data()) })),
            // SAFETY: the kind was checked to be int/u64, so the unwrap cannot raise.
            Some(IntKind::U64) => Ok(i128::from(unsafe { raw::janet_unwrap_u64(v.raw_data()) })),
            None => Err(wrong_type(v, what, "an integer")),
        },
        _ => Err(wrong_type(v, what, "an integer")),
    }
}

/// An integer in `min..=max`.
pub fn int_in(v: &Janet, what: &str, min: i128, max: i128) -> CaResult<i128> {
    let n = integer(v, what)?;
    if n < min || n > max {
        return Err(CaError::param(format!("{what} must be between {min} and {max}, got {n}")));
    }
    Ok(n)
}

/// A number of days: 1 to 3,000,000 (the certificate end is checked later).
pub fn days(v: &Janet, what: &str) -> CaResult<u32> {
    let n = integer(v, what)?;
    if n <= 0 {
        return Err(CaError::param(format!("{what} must be a positive number of days, got {n}")));
    }
    if n > 3_000_000 {
        return Err(CaError::param(format!("{what} {n} is beyond year 9999")));
    }
    Ok(n as u32)
}

/// A time: Unix seconds (number, int/s64) or an ISO 8601 UTC string.
pub fn time(v: &Janet, what: &str) -> CaResult<i64> {
    match v.tagged() {
        TaggedJanet::String(_) | TaggedJanet::Buffer(_) => time::parse_iso(&text(v, what)?, what),
        TaggedJanet::Number(_) | TaggedJanet::Abstract(_) => {
            let n = integer(v, what)
                .map_err(|_| wrong_type(v, what, "Unix seconds or an ISO 8601 UTC string"))?;
            let t = i64::try_from(n).map_err(|_| CaError::param(format!("{what} is out of range")))?;
            time::check_range(t, what)
        }
        _ => Err(wrong_type(v, what, "Unix seconds or an ISO 8601 UTC string")),
    }
}

/// A serial: a positive integer (number, int/s64, int/u64) or a hex string "0x...".
pub fn serial(v: &Janet, what: &str) -> CaResult<Serial> {
    match v.tagged() {
        TaggedJanet::String(_) | TaggedJanet::Buffer(_) => Serial::from_hex(&text(v, what)?, what),
        TaggedJanet::Number(_) | TaggedJanet::Abstract(_) => {
            let n = integer(v, what)?;
            if n <= 0 {
                return Err(CaError::param(format!("{what} must be positive, got {n}")));
            }
            Serial::from_u64(n as u64)
        }
        _ => Err(wrong_type(v, what, "a positive integer or a hex string \"0x...\"")),
    }
}

/// The elements of an array or tuple.
pub fn list(v: &Janet, what: &str) -> CaResult<Vec<Janet>> {
    match v.tagged() {
        TaggedJanet::Array(a) => Ok(a.iter().copied().collect()),
        TaggedJanet::Tuple(t) => Ok(t.iter().copied().collect()),
        _ => Err(wrong_type(v, what, "an array or tuple")),
    }
}

/// A list of strings; a single string counts as a one-element list.
pub fn string_list(v: &Janet, what: &str) -> CaResult<Vec<String>> {
    match v.tagged() {
        TaggedJanet::String(_) | TaggedJanet::Buffer(_) => Ok(vec![text(v, what)?]),
        TaggedJanet::Array(_) | TaggedJanet::Tuple(_) => list(v, what)?
            .iter()
            .enumerate()
            .map(|(i, item)| named_on_error(|w| text(item, w), || format!("{what} item {}", i + 1)))
            .collect(),
        _ => Err(wrong_type(v, what, "a list of strings")),
    }
}

/// OpenSSL's comma list ("serverAuth,clientAuth"), a keyword, or a list of
/// keywords/strings (each one name).
pub fn usage_list(v: &Janet, what: &str) -> CaResult<Vec<String>> {
    match v.tagged() {
        TaggedJanet::String(_) | TaggedJanet::Buffer(_) => {
            Ok(text(v, what)?.split(',').map(|s| s.trim().to_string()).collect())
        }
        TaggedJanet::Keyword(_) => Ok(vec![name(v, what)?]),
        TaggedJanet::Array(_) | TaggedJanet::Tuple(_) => list(v, what)?
            .iter()
            .enumerate()
            .map(|(i, item)| name(item, &format!("{what} item {}", i + 1)))
            .collect(),
        _ => Err(wrong_type(v, what, "a comma list string, a keyword, or a list of keywords")),
    }
}

/// The string pairs of a table or struct with any keys (keywords, strings
/// or symbols): `:eab-keys {kid key ...}`.
pub fn string_pairs(x: &Janet, what: &str) -> CaResult<Vec<(String, String)>> {
    let pairs: Vec<(Janet, Janet)> = match x.tagged() {
        TaggedJanet::Table(t) => t.iter().map(|(k, v)| (*k, *v)).collect(),
        TaggedJanet::Struct(s) => s.iter().map(|(k, v)| (*k, *v)).collect(),
        _ => return Err(wrong_type(x, what, "a table or struct")),
    };
    pairs
        .iter()
        .map(|(k, val)| {
            let key = match k.tagged() {
                TaggedJanet::Keyword(_) | TaggedJanet::String(_) | TaggedJanet::Symbol(_) => text(k, what)?,
                _ => return Err(CaError::param(format!("{what} keys must be strings or keywords"))),
            };
            Ok((key, text(val, what)?))
        })
        .collect()
}

// ------------------------------------------------------------ options

/// Most option keys one reader asks for (ca/generate-intermediate asks 23);
/// more is a programming error that test/options.janet would show.
const MAX_ASKED: usize = 48;

/// An options argument (a table or struct, or nil/absent) as its reader sees
/// it. The keys a function accepts are the keys its reader asks for: every
/// [`Opts::get`], [`Opts::with`], [`Opts::opt`] and
/// [`Opts::ignore`] records its key, and [`Opts::parse`] refuses any key of
/// the argument that the reader never asked for, once the reader is done.
/// So a misspelt option never silently yields a different certificate, and
/// an option is declared once: where it is read.
///
/// A reader must ask every key it accepts on every path that succeeds (a
/// key read only when another is set is asked first with [`Opts::opt`]).
/// Asking records a `&'static str` in a fixed array: nothing is allocated
/// per key.
pub struct Opts<'j> {
    function: &'j str,
    /// The argument's pairs, each key's bytes (a keyword or string) read once.
    entries: Vec<(&'j [u8], Janet)>,
    /// Which of the first 64 entries a reader found.
    found: Cell<u64>,
    /// The keys asked for, in order: the first `count`.
    asked: [Cell<&'static str>; MAX_ASKED],
    count: Cell<usize>,
    overflow: Cell<bool>,
}

/// One option as a reader asked for it: its key and its value (None when
/// absent or nil). A copy of the value, which the options argument keeps
/// alive for the call: it can be returned from the reader and read later.
#[derive(Clone, Copy)]
pub struct Opt {
    key: &'static str,
    value: Option<Janet>,
}

impl Opt {
    pub fn key(&self) -> &'static str {
        self.key
    }

    pub fn value(&self) -> Option<&Janet> {
        self.value.as_ref()
    }

    pub fn is_set(&self) -> bool {
        self.value.is_some()
    }

    /// Reads the value with `reader`, naming it ":key" in errors.
    pub fn read<'s, T>(&'s self, reader: impl FnOnce(&'s Janet, &str) -> CaResult<T>) -> CaResult<Option<T>> {
        match &self.value {
            Some(v) => read_named(self.key, v, reader).map(Some),
            None => Ok(None),
        }
    }
}

/// `reader` on `v`, naming it ":key".
fn read_named<'s, T>(key: &str, v: &'s Janet, reader: impl FnOnce(&'s Janet, &str) -> CaResult<T>) -> CaResult<T> {
    let mut buf = [0u8; 64];
    match colon_name(key, &mut buf) {
        Some(what) => reader(v, what),
        None => reader(v, &format!(":{key}")),
    }
}

/// The bytes of a keyword or string key. Its lifetime is the call's: the
/// options argument, which the caller's stack keeps alive, holds the key.
fn key_bytes<'k>(k: &Janet) -> Option<&'k [u8]> {
    match k.tagged() {
        // SAFETY: the key is kept alive by the options table for this call.
        TaggedJanet::Keyword(kw) => Some(unsafe { std::slice::from_raw_parts(kw.as_raw(), kw.len()) }),
        TaggedJanet::String(st) => Some(unsafe { std::slice::from_raw_parts(st.as_raw(), st.len()) }),
        _ => None,
    }
}

impl<'j> Opts<'j> {
    /// Reads the options argument `v` of `function` ("ca/issue", or a nested
    /// table's name such as ":name-constraints") with `reader`; then, when the
    /// reader succeeded, refuses a key it never asked for:
    /// "{function} has no option :key; valid: :a, :b, ..." (the keys in the
    /// order asked). A bad value of a known key may so be reported before an
    /// unknown key; an unknown key is always reported when the values are fine.
    pub fn parse<T>(v: Option<&Janet>, function: &'j str, reader: impl FnOnce(&Opts<'j>) -> CaResult<T>) -> CaResult<T> {
        let o = Opts::new(v, function)?;
        let out = reader(&o)?;
        o.finish()?;
        Ok(out)
    }

    fn new(v: Option<&Janet>, function: &'j str) -> CaResult<Opts<'j>> {
        let entries = match v.map(|v| v.tagged()) {
            None | Some(TaggedJanet::Nil) => Vec::new(),
            Some(TaggedJanet::Table(t)) => Opts::pairs(t.len(), t.iter(), function)?,
            Some(TaggedJanet::Struct(s)) => Opts::pairs(s.len(), s.iter(), function)?,
            Some(_) => {
                let v = v.copied().unwrap_or_else(Janet::nil);
                return Err(CaError::param(format!("{function} options must be a table or struct, got {}", type_name(&v))));
            }
        };
        Ok(Opts {
            function,
            entries,
            found: Cell::new(0),
            asked: [const { Cell::new("") }; MAX_ASKED],
            count: Cell::new(0),
            overflow: Cell::new(false),
        })
    }

    /// The pairs of a table or struct (`count` of them), each key checked to
    /// be a keyword or string. Read straight from the collection's slots: no
    /// copy of the pairs first (janetrs sizes such a copy by the slots' bytes).
    fn pairs<'p>(
        count: usize,
        pairs: impl Iterator<Item = (&'p Janet, &'p Janet)>,
        function: &str,
    ) -> CaResult<Vec<(&'j [u8], Janet)>> {
        let mut entries = Vec::with_capacity(count);
        for (k, val) in pairs {
            let Some(key) = key_bytes(k) else {
                return Err(CaError::param(format!("{function} option keys must be keywords, got {}", type_name(k))));
            };
            entries.push((key, *val));
        }
        Ok(entries)
    }

    fn asked(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.asked[..self.count.get()].iter().map(Cell::get)
    }

    fn record(&self, key: &'static str) {
        let n = self.count.get();
        if n < MAX_ASKED {
            self.asked[n].set(key);
            self.count.set(n + 1);
        } else if !self.asked().any(|a| a == key) {
            self.overflow.set(true);
        }
    }

    /// The value of option `key` (without the colon), when given and not nil;
    /// asks for `key`.
    pub fn get(&self, key: &'static str) -> Option<&Janet> {
        self.record(key);
        let i = self.entries.iter().position(|(k, _)| *k == key.as_bytes())?;
        if i < 64 {
            self.found.set(self.found.get() | 1 << i);
        }
        Some(&self.entries[i].1).filter(|v| !v.is_nil())
    }

    /// Option `key`, asked for now and read later (when another option says
    /// whether it is read at all).
    pub fn opt(&self, key: &'static str) -> Opt {
        Opt { key, value: self.get(key).copied() }
    }

    /// Reads option `key` with `reader`, naming it ":key" in errors.
    pub fn with<'s, T>(&'s self, key: &'static str, reader: impl FnOnce(&'s Janet, &str) -> CaResult<T>) -> CaResult<Option<T>> {
        match self.get(key) {
            Some(v) => read_named(key, v, reader).map(Some),
            None => Ok(None),
        }
    }

    /// Accepts option `key` and leaves it unread (a field that a result of
    /// this module carries and that may be passed back, such as :issuer-match).
    pub fn ignore(&self, key: &'static str) {
        self.record(key);
    }

    /// Refuses a key the reader never asked for.
    fn finish(&self) -> CaResult<()> {
        if self.overflow.get() {
            return Err(CaError::config(format!(
                "{} asks for more than {MAX_ASKED} options (a bug of jsec/ca)",
                self.function
            )));
        }
        let found = self.found.get();
        for (i, (bytes, _)) in self.entries.iter().enumerate() {
            if (i < 64 && found & 1 << i != 0) || self.asked().any(|a| a.as_bytes() == *bytes) {
                continue;
            }
            let mut valid = String::new();
            for (i, a) in self.asked().enumerate() {
                if !self.asked().take(i).any(|b| b == a) {
                    valid.push_str(if valid.is_empty() { ":" } else { ", :" });
                    valid.push_str(a);
                }
            }
            return Err(CaError::param(format!(
                "{} has no option :{}; valid: {valid}",
                self.function,
                shown(&String::from_utf8_lossy(bytes)).trim_matches('"'),
            )));
        }
        Ok(())
    }
}

/// ":key" written into `buf` (no allocation on the success path of every option read).
fn colon_name<'b>(key: &str, buf: &'b mut [u8; 64]) -> Option<&'b str> {
    let n = key.len() + 1;
    if n > buf.len() {
        return None;
    }
    buf[0] = b':';
    buf[1..n].copy_from_slice(key.as_bytes());
    std::str::from_utf8(&buf[..n]).ok()
}

/// Prefixes an error with the context `what` ("request-info"): the same text as
/// passing `"{what} :key"` to a reader, built only when there is an error.
pub fn within(what: &str) -> impl Fn(CaError) -> CaError + '_ {
    move |e| CaError::new(e.category, format!("{what} {}", e.message))
}

// ------------------------------------------------------------ building

pub fn jstring(s: &str) -> Janet {
    Janet::string(JanetString::new(s))
}

/// A Janet string copied from secret bytes (the Rust copy is zeroed on drop).
pub fn jsecret(s: &Secret) -> Janet {
    Janet::string(JanetString::new(s.as_bytes()))
}

pub fn jbuffer(b: &[u8]) -> Janet {
    let mut buf = janetrs::JanetBuffer::with_capacity(b.len());
    buf.push_bytes(b);
    Janet::buffer(buf)
}

pub fn jkeyword(s: &str) -> Janet {
    Janet::keyword(JanetKeyword::new(s))
}

pub fn js64(n: i64) -> Janet {
    // SAFETY: janet_wrap_s64 allocates a boxed int/s64; no preconditions.
    Janet::from(unsafe { raw::janet_wrap_s64(n) })
}

/// A serial as Janet sees it: int/s64 when it fits, else a hex string.
pub fn jserial(s: &Serial) -> Janet {
    match s.to_i64() {
        Some(n) => js64(n),
        None => jstring(&s.to_hex()),
    }
}

/// The capacity to ask `janet_table` for so that `pairs` pairs fit without a
/// rehash and in the fewest slots. Janet rounds the request up to the next
/// power of two above it (`janet_tablen(n)`: 16 for 12 to 15, but 32 for 16)
/// and grows a table once 2 * (count + 1) exceeds its capacity, so `pairs`
/// need 2 * pairs slots: asking 2 * pairs - 1 gives the least power of two
/// that holds them (asking 2 * pairs + 2, as before, gave seven pairs 32 slots,
/// twice the memory to zero and write for every result table).
pub fn table_capacity(pairs: usize) -> i32 {
    i32::try_from((2 * pairs).saturating_sub(1)).unwrap_or(i32::MAX)
}

pub fn table(pairs: &[(&str, Janet)]) -> Janet {
    // Room for every pair up front spares the rehash (a quarter of ca/parse-ocsp-request).
    let mut t = JanetTable::with_capacity(table_capacity(pairs.len()) as usize);
    for (k, v) in pairs {
        t.insert(jkeyword(k), *v);
    }
    Janet::table(t)
}

pub fn array(items: impl IntoIterator<Item = Janet>) -> Janet {
    let mut a = JanetArray::new();
    for item in items {
        a.push(item);
    }
    Janet::array(a)
}
