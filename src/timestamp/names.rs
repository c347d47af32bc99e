//! Names inside timestamps: month and weekday names in English, French,
//! German, Spanish, Italian and Portuguese (full and abbreviated, with or
//! without a final `.`), and time zone abbreviations with their standard
//! offsets.
//!
//! Each table is an open-addressing hash table built at compile time from
//! the names packed into a `u128` (case folded), so a lookup costs one
//! multiply and a probe or two: the detector asks on every line that does
//! not fit its file's layout.

/// Longest name, in bytes.
const MAX_NAME: usize = 16;
/// Table size (a power of two, well above the number of names).
const SLOTS: usize = 512;

/// A compile-time hash table from packed names to small values.
struct NameTable {
    keys: [u128; SLOTS],
    values: [i16; SLOTS],
}

/// Folds a byte for comparison: ASCII upper case to lower case, and the
/// second byte of an upper-case Latin-1 letter (`É` = `C3 89`) to that of
/// its lower-case form (`é` = `C3 A9`).
#[inline]
const fn fold(b: u8) -> u8 {
    match b {
        b'A'..=b'Z' | 0x80..=0x9e => b | 0x20,
        _ => b,
    }
}

/// A name's bytes, folded, little-endian in a `u128` (never 0 for a
/// non-empty name: names hold no NUL).
#[inline]
const fn pack(name: &[u8]) -> u128 {
    let mut key = 0u128;
    let mut k = 0;
    while k < name.len() && k < MAX_NAME {
        key |= (fold(name[k]) as u128) << (8 * k);
        k += 1;
    }
    key
}

#[inline]
const fn slot(key: u128) -> usize {
    let mixed = (key as u64 ^ (key >> 64) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (mixed >> 55) as usize % SLOTS
}

impl NameTable {
    const fn build(entries: &[(&str, i16)]) -> NameTable {
        let mut keys = [0u128; SLOTS];
        let mut values = [0i16; SLOTS];
        let mut e = 0;
        while e < entries.len() {
            let name = entries[e].0.as_bytes();
            assert!(!name.is_empty() && name.len() <= MAX_NAME);
            let key = pack(name);
            let mut i = slot(key);
            while keys[i] != 0 && keys[i] != key {
                i = (i + 1) % SLOTS;
            }
            keys[i] = key;
            values[i] = entries[e].1;
            e += 1;
        }
        NameTable { keys, values }
    }

    #[inline]
    fn get(&self, name: &[u8]) -> Option<i16> {
        if name.is_empty() || name.len() > MAX_NAME {
            return None;
        }
        let key = pack(name);
        let mut i = slot(key);
        loop {
            match self.keys[i] {
                0 => return None,
                k if k == key => return Some(self.values[i]),
                _ => i = (i + 1) % SLOTS,
            }
        }
    }
}

/// Whether a byte may be part of a name: an ASCII letter or a byte of a
/// multi-byte UTF-8 character (`é`, `ä`, `û`).
#[inline]
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphabetic() || b >= 0x80
}

/// The run of name bytes at `i`, and the index after it.
#[inline]
fn word(s: &[u8], i: usize) -> Option<(&[u8], usize)> {
    let rest = s.get(i..)?;
    let len = rest
        .iter()
        .take(MAX_NAME + 1)
        .take_while(|&&b| is_name_byte(b))
        .count();
    (len > 0).then(|| (&rest[..len], i + len))
}

/// Month names: full and abbreviated, in English, French, German, Spanish,
/// Italian and Portuguese.
static MONTHS: NameTable = NameTable::build(&[
    // English.
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("may", 5),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("sept", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("april", 4),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("september", 9),
    ("october", 10),
    ("november", 11),
    ("december", 12),
    // French.
    ("janv", 1),
    ("févr", 2),
    ("fév", 2),
    ("fevr", 2),
    ("mars", 3),
    ("avr", 4),
    ("mai", 5),
    ("juin", 6),
    ("juil", 7),
    ("août", 8),
    ("aout", 8),
    ("déc", 12),
    ("janvier", 1),
    ("février", 2),
    ("fevrier", 2),
    ("avril", 4),
    ("juillet", 7),
    ("septembre", 9),
    ("octobre", 10),
    ("novembre", 11),
    ("décembre", 12),
    ("decembre", 12),
    // German.
    ("mär", 3),
    ("mrz", 3),
    ("okt", 10),
    ("dez", 12),
    ("juni", 6),
    ("juli", 7),
    ("januar", 1),
    ("februar", 2),
    ("märz", 3),
    ("maerz", 3),
    ("oktober", 10),
    ("dezember", 12),
    // Spanish.
    ("ene", 1),
    ("abr", 4),
    ("ago", 8),
    ("dic", 12),
    ("set", 9),
    ("enero", 1),
    ("febrero", 2),
    ("marzo", 3),
    ("abril", 4),
    ("mayo", 5),
    ("junio", 6),
    ("julio", 7),
    ("agosto", 8),
    ("septiembre", 9),
    ("setiembre", 9),
    ("octubre", 10),
    ("noviembre", 11),
    ("diciembre", 12),
    // Italian.
    ("gen", 1),
    ("mag", 5),
    ("giu", 6),
    ("lug", 7),
    ("ott", 10),
    ("gennaio", 1),
    ("febbraio", 2),
    ("aprile", 4),
    ("maggio", 5),
    ("giugno", 6),
    ("luglio", 7),
    ("settembre", 9),
    ("ottobre", 10),
    ("dicembre", 12),
    // Portuguese.
    ("fev", 2),
    ("out", 10),
    ("janeiro", 1),
    ("fevereiro", 2),
    ("março", 3),
    ("marco", 3),
    ("maio", 5),
    ("junho", 6),
    ("julho", 7),
    ("setembro", 9),
    ("outubro", 10),
    ("novembro", 11),
    ("dezembro", 12),
]);

/// Weekday names, full and abbreviated, in the same languages (the value
/// is unused: a weekday only has to be recognised).
static WEEKDAYS: NameTable = NameTable::build(&[
    // English.
    ("mon", 1),
    ("tue", 2),
    ("tues", 2),
    ("wed", 3),
    ("thu", 4),
    ("thur", 4),
    ("thurs", 4),
    ("fri", 5),
    ("sat", 6),
    ("sun", 7),
    ("monday", 1),
    ("tuesday", 2),
    ("wednesday", 3),
    ("thursday", 4),
    ("friday", 5),
    ("saturday", 6),
    ("sunday", 7),
    // French.
    ("lun", 1),
    ("mar", 2),
    ("mer", 3),
    ("jeu", 4),
    ("ven", 5),
    ("sam", 6),
    ("dim", 7),
    ("lundi", 1),
    ("mardi", 2),
    ("mercredi", 3),
    ("jeudi", 4),
    ("vendredi", 5),
    ("samedi", 6),
    ("dimanche", 7),
    // German.
    ("mo", 1),
    ("di", 2),
    ("mi", 3),
    ("do", 4),
    ("fr", 5),
    ("sa", 6),
    ("so", 7),
    ("montag", 1),
    ("dienstag", 2),
    ("mittwoch", 3),
    ("donnerstag", 4),
    ("freitag", 5),
    ("samstag", 6),
    ("sonntag", 7),
    // Spanish.
    ("mié", 3),
    ("mie", 3),
    ("jue", 4),
    ("vie", 5),
    ("sáb", 6),
    ("sab", 6),
    ("dom", 7),
    ("lunes", 1),
    ("martes", 2),
    ("miércoles", 3),
    ("miercoles", 3),
    ("jueves", 4),
    ("viernes", 5),
    ("sábado", 6),
    ("sabado", 6),
    ("domingo", 7),
    // Italian.
    ("gio", 4),
    ("lunedì", 1),
    ("martedì", 2),
    ("mercoledì", 3),
    ("giovedì", 4),
    ("venerdì", 5),
    ("sabato", 6),
    ("domenica", 7),
    // Portuguese.
    ("seg", 1),
    ("ter", 2),
    ("qua", 3),
    ("qui", 4),
    ("sex", 5),
    ("segunda", 1),
    ("terça", 2),
    ("terca", 2),
    ("quarta", 3),
    ("quinta", 4),
    ("sexta", 5),
]);

/// Time zone abbreviations and their offsets in minutes east of UTC.
/// Ambiguous ones take their most common meaning in logs: `CST` is US
/// Central, `IST` India, `BST` British Summer Time.
static ZONES: NameTable = NameTable::build(&[
    ("utc", 0),
    ("gmt", 0),
    ("ut", 0),
    ("z", 0),
    ("wet", 0),
    ("west", 60),
    ("bst", 60),
    ("ist", 330),
    ("cet", 60),
    ("cest", 120),
    ("met", 60),
    ("mest", 120),
    ("eet", 120),
    ("eest", 180),
    ("msk", 180),
    ("trt", 180),
    ("sast", 120),
    ("cat", 120),
    ("eat", 180),
    ("wat", 60),
    ("pkt", 300),
    ("ict", 420),
    ("wib", 420),
    ("hkt", 480),
    ("sgt", 480),
    ("pht", 480),
    ("awst", 480),
    ("jst", 540),
    ("kst", 540),
    ("acst", 570),
    ("acdt", 630),
    ("aest", 600),
    ("aedt", 660),
    ("nzst", 720),
    ("nzdt", 780),
    ("pst", -480),
    ("pdt", -420),
    ("mst", -420),
    ("mdt", -360),
    ("cst", -360),
    ("cdt", -300),
    ("est", -300),
    ("edt", -240),
    ("ast", -240),
    ("adt", -180),
    ("nst", -210),
    ("ndt", -150),
    ("akst", -540),
    ("akdt", -480),
    ("hst", -600),
    ("brt", -180),
    ("art", -180),
    ("clt", -240),
]);

/// A month name at `i` in any of the languages, with an optional final
/// `.` (`janv.`): (month, next index). English three-letter names take a
/// fast path.
#[inline]
pub fn month_name(s: &[u8], i: usize) -> Option<(u32, usize)> {
    let (name, next) = word(s, i)?;
    let month = MONTHS.get(name)?;
    Some((
        month as u32,
        if s.get(next) == Some(&b'.') {
            next + 1
        } else {
            next
        },
    ))
}

/// A weekday name at `i`, with an optional final `.` or `,`: the index
/// after it.
#[inline]
pub fn weekday_name(s: &[u8], i: usize) -> Option<usize> {
    let (name, next) = word(s, i)?;
    WEEKDAYS.get(name)?;
    Some(if matches!(s.get(next), Some(b'.' | b',')) {
        next + 1
    } else {
        next
    })
}

/// A time zone written as letters at `i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneName {
    /// A known abbreviation: its offset in seconds east of UTC.
    Known(i32),
    /// An upper-case word shaped like a zone abbreviation (`XST`, `ABDT`)
    /// that is not in the table: read as local time.
    Unknown,
}

/// Words that end like a zone abbreviation (`…ST`, `…DT`) but are not one.
const NOT_ZONES: [&[u8]; 16] = [
    b"POST", b"LIST", b"HOST", b"LAST", b"TEST", b"REST", b"BEST", b"FAST", b"PAST", b"MOST",
    b"COST", b"LOST", b"JUST", b"MUST", b"EAST", b"DIST",
];

/// A zone abbreviation at `i`, ending at a word end: (zone, next index).
/// Only upper-case words count (`PDT`, `CEST`, and `Z`/`UTC`/`GMT`), so
/// ordinary words after a time are left alone.
#[inline]
pub fn zone_name(s: &[u8], i: usize) -> Option<(ZoneName, usize)> {
    let rest = s.get(i..)?;
    let len = rest
        .iter()
        .take(6)
        .take_while(|b| b.is_ascii_uppercase())
        .count();
    if len == 0 || len > 5 || rest.get(len).is_some_and(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let name = &rest[..len];
    // Nearly every abbreviation ends in `T`: level words after a time
    // (`INFO`, `WARN`, `ERROR`) are turned away before hashing.
    if name[len - 1] != b'T' && !matches!(name, b"UTC" | b"MSK" | b"WIB" | b"Z") {
        return None;
    }
    if let Some(minutes) = ZONES.get(name) {
        return Some((ZoneName::Known(i32::from(minutes) * 60), i + len));
    }
    let zone_shaped = (3..=4).contains(&len)
        && (name.ends_with(b"ST") || name.ends_with(b"DT"))
        && !NOT_ZONES.contains(&name);
    zone_shaped.then_some((ZoneName::Unknown, i + len))
}

/// Names an unknown zone abbreviation on stderr, once per abbreviation per
/// run: the time is read as local time instead.
#[cold]
pub fn report_unknown_zone(name: &[u8]) {
    use std::sync::Mutex;
    static REPORTED: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
    let Ok(mut reported) = REPORTED.lock() else {
        return;
    };
    if reported.iter().any(|r| r == name) {
        return;
    }
    reported.push(name.to_vec());
    eprintln!(
        "velos: unknown time zone `{}`: its times are read as local time (use --since/--until with an explicit offset to compare)",
        String::from_utf8_lossy(name)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_in_six_languages() {
        for (name, month) in [
            ("Jan", 1),
            ("janv.", 1),
            ("Januar", 1),
            ("enero", 1),
            ("gennaio", 1),
            ("janeiro", 1),
            ("févr.", 2),
            ("FÉVR", 2),
            ("Feb", 2),
            ("fev", 2),
            ("März", 3),
            ("Mär", 3),
            ("mars", 3),
            ("Mai", 5),
            ("mag", 5),
            ("mayo", 5),
            ("août", 8),
            ("ago", 8),
            ("Aug.", 8),
            ("set", 9),
            ("Sept.", 9),
            ("Okt", 10),
            ("out", 10),
            ("ott", 10),
            ("déc.", 12),
            ("Dez", 12),
            ("dic", 12),
            ("dezembro", 12),
        ] {
            let got = month_name(name.as_bytes(), 0);
            assert_eq!(got, Some((month, name.len())), "{name}");
        }
        for name in ["Janu", "x", "", "12", "Mayday", "Monday"] {
            assert_eq!(month_name(name.as_bytes(), 0), None, "{name}");
        }
    }

    #[test]
    fn weekdays_in_six_languages() {
        for name in [
            "Mon", "lun.", "Mo", "mié", "giovedì", "sáb", "Sexta", "Thu,", "dimanche",
        ] {
            assert_eq!(weekday_name(name.as_bytes(), 0), Some(name.len()), "{name}");
        }
        assert_eq!(weekday_name(b"Moon", 0), None);
    }

    #[test]
    fn every_zone_but_four_ends_in_t() {
        // `zone_name` relies on it to turn level words away early.
        for (k, &key) in ZONES.keys.iter().enumerate() {
            if key == 0 {
                continue;
            }
            let bytes = key.to_le_bytes();
            let len = bytes.iter().position(|&b| b == 0).unwrap_or(MAX_NAME);
            let name = bytes[..len].to_ascii_uppercase();
            let found = zone_name(&name, 0).map(|(zone, _)| zone);
            let want = ZoneName::Known(i32::from(ZONES.values[k]) * 60);
            assert_eq!(found, Some(want), "{}", String::from_utf8_lossy(&name));
        }
    }

    #[test]
    fn zones_known_unknown_and_words() {
        assert_eq!(
            zone_name(b"PDT [12]", 0),
            Some((ZoneName::Known(-7 * 3600), 3))
        );
        assert_eq!(zone_name(b"CEST", 0), Some((ZoneName::Known(2 * 3600), 4)));
        assert_eq!(zone_name(b"IST x", 0), Some((ZoneName::Known(19_800), 3)));
        assert_eq!(zone_name(b"AEDT", 0), Some((ZoneName::Known(11 * 3600), 4)));
        assert_eq!(zone_name(b"MSK", 0), Some((ZoneName::Known(3 * 3600), 3)));
        assert_eq!(zone_name(b"WIB", 0), Some((ZoneName::Known(7 * 3600), 3)));
        assert_eq!(zone_name(b"UTC", 0), Some((ZoneName::Known(0), 3)));
        assert_eq!(zone_name(b"XYST x", 0), Some((ZoneName::Unknown, 4)));
        for word in ["INFO", "POST", "GET", "pdt", "PDTX", "WARN", "ERROR", "ST"] {
            assert_eq!(zone_name(word.as_bytes(), 0), None, "{word}");
        }
    }
}
