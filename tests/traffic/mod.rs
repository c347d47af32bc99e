//! Generated traffic for the anomaly and health tests: Poisson counts per
//! minute at a rate, with an optional daily swing, from a small
//! deterministic generator.
#![allow(dead_code)]

/// splitmix64: a small deterministic generator for the series.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn uniform(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    /// A Poisson count: exact inversion for small means, the normal
    /// approximation with its skew correction for large ones.
    pub fn poisson(&mut self, mean: f64) -> u64 {
        if mean < 200.0 {
            let u = self.uniform();
            let mut k = 0u64;
            let mut p = (-mean).exp();
            let mut cdf = p;
            while u > cdf && k < 10_000 {
                k += 1;
                p *= mean / k as f64;
                cdf += p;
            }
            k
        } else {
            let z = self.normal();
            (mean + mean.sqrt() * z + (z * z - 1.0) / 6.0)
                .round()
                .max(0.0) as u64
        }
    }
}

pub const DAY: usize = 1440;

/// Per-minute (volume, errors) over `days`, at `rate` records a minute
/// with `error_share` of them errors, swinging ±`swing` over each day.
pub fn series(
    rng: &mut Rng,
    rate: f64,
    error_share: f64,
    swing: f64,
    days: usize,
) -> (Vec<u64>, Vec<u64>) {
    let mut volume = Vec::with_capacity(days * DAY);
    let mut errors = Vec::with_capacity(days * DAY);
    for t in 0..days * DAY {
        let phase = 2.0 * std::f64::consts::PI * t as f64 / DAY as f64;
        let mean = rate * (1.0 + swing * phase.sin());
        volume.push(rng.poisson(mean * (1.0 - error_share)));
        errors.push(rng.poisson(mean * error_share));
        let last = volume.len() - 1;
        volume[last] += errors[last];
    }
    (volume, errors)
}

/// The usual rate at minute `t` of a day swinging ±`swing` around `rate`.
pub fn rate_at(rate: f64, swing: f64, t: usize) -> f64 {
    let phase = 2.0 * std::f64::consts::PI * t as f64 / DAY as f64;
    rate * (1.0 + swing * phase.sin())
}

/// Messages of a healthy service, and of its errors.
const INFO: [&str; 4] = [
    "GET /api/orders/{n} 200 in {m}ms",
    "cache hit for user {n}",
    "job {n} from exports completed in {m}s",
    "POST /api/payments 201 in {m}ms",
];
const ERROR: [&str; 2] = [
    "connection timeout to postgres at 10.0.0.{m} after {n}ms",
    "payment {n} failed: card declined",
];

/// A day of log lines (`YYYY-MM-DDTHH:MM:SS.mmmZ LEVEL message`) at `rate`
/// records a minute with 2 % errors, swinging ±`swing` over the day; with
/// `storm`, five minutes from that minute on get eight times the usual
/// error rate.
pub fn day_log(rate: f64, swing: f64, storm: Option<usize>, seed: u64) -> String {
    let mut rng = Rng(seed);
    let mut out = String::with_capacity((rate * DAY as f64 * 80.0) as usize);
    let start = 1_768_003_200_000i64; // 2026-01-10T00:00:00Z
    for t in 0..DAY {
        let usual = rate_at(rate, swing, t);
        let in_storm = storm.is_some_and(|s| (s..s + 5).contains(&t));
        let errors = rng.poisson(usual * 0.02 * if in_storm { 8.0 } else { 1.0 });
        let infos = rng.poisson(usual * 0.98);
        let mut stamps: Vec<(i64, bool)> = (0..infos + errors)
            .map(|k| {
                let ms = start + t as i64 * 60_000 + (rng.next() % 60_000) as i64;
                (ms, k < errors)
            })
            .collect();
        stamps.sort_unstable();
        for (ms, error) in stamps {
            let (level, templates): (&str, &[&str]) = if error {
                ("ERROR", &ERROR)
            } else {
                ("INFO ", &INFO)
            };
            let text = templates[(rng.next() % templates.len() as u64) as usize]
                .replace("{n}", &(rng.next() % 100_000).to_string())
                .replace("{m}", &(rng.next() % 250).to_string());
            let secs = ms / 1000;
            out.push_str(&format!(
                "2026-01-10T{:02}:{:02}:{:02}.{:03}Z {level} {text}\n",
                secs / 3600 % 24,
                secs / 60 % 60,
                secs % 60,
                ms % 1000
            ));
        }
    }
    out
}
