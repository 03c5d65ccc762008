//! The shapes of single values: database URLs, public URLs, proxy headers, rate limits and
//! durations. Each parser returns the message for the variable's error.

use std::time::Duration;

use axum::http::HeaderName;
use pochi_http::{RateLimit, TrustedProxy};

use super::Database;

pub(super) fn database(text: &str) -> Result<Database, String> {
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("sqlite:") {
        Ok(Database::Sqlite(text.to_owned()))
    } else if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        Ok(Database::Postgres(text.to_owned()))
    } else if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
        Ok(Database::MySql(text.to_owned()))
    } else {
        // Only the scheme is repeated: the rest may hold a password.
        let scheme = lower.split_once(':').map_or("(none)", |(s, _)| s);
        Err(format!(
            "the scheme {scheme:?} is not supported: use sqlite://, postgres:// or mysql://"
        ))
    }
}

pub(super) fn public_url(text: &str) -> Result<String, String> {
    let text = text.trim_end_matches('/');
    let err = || "must be the shop's base URL such as https://duka.example.co.ke".to_owned();
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or_else(err)?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || rest.contains(['?', '#', ' ', '@']) {
        return Err(err());
    }
    Ok(text.to_owned())
}

/// Whether a base URL (as [`public_url`] accepted it) names this machine: `localhost`, a
/// loopback IPv4 address or `[::1]`, with any port.
pub(super) fn is_loopback_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    is_loopback_authority(rest.split('/').next().unwrap_or_default())
}

/// Whether a URL's authority or a `Host` header (`host`, `host:port`, `[v6]:port`) names this
/// machine: `localhost` or a loopback address.
pub(crate) fn is_loopback_authority(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `true`/`yes`/`1`/`on` or `false`/`no`/`0`/`off`, in any case.
pub(super) fn boolean(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Ok(true),
        "false" | "no" | "0" | "off" => Ok(false),
        _ => Err("must be true or false".to_owned()),
    }
}

/// `X-Forwarded-For`, `X-Forwarded-For:2`, `X-Real-IP`, or `none`.
pub(super) fn trusted_proxy(text: &str) -> Result<Option<TrustedProxy>, String> {
    if text.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let err = || {
        "must be a header with an optional hop count, such as X-Forwarded-For or X-Forwarded-For:2 (or none)".to_owned()
    };
    let (name, hops) = match text.split_once(':') {
        Some((name, hops)) => (name, hops.trim().parse::<usize>().map_err(|_| err())?),
        None => (text, 1),
    };
    let header = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| err())?;
    Ok(Some(TrustedProxy::header(header, hops)))
}

/// `600/120` (per minute / burst), `600` (burst = a fifth), or `off`.
pub(super) fn rate_limit(text: &str) -> Result<Option<RateLimit>, String> {
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let err = || "must be PER_MINUTE/BURST such as 600/120, or off".to_owned();
    let (per_minute, burst) = match text.split_once('/') {
        Some((p, b)) => (
            p.trim().parse::<u32>().map_err(|_| err())?,
            b.trim().parse::<u32>().map_err(|_| err())?,
        ),
        None => {
            let p = text.parse::<u32>().map_err(|_| err())?;
            (p, (p / 5).max(1))
        }
    };
    Ok(Some(RateLimit::new(per_minute, burst)))
}

/// A count of at least one, or `off`.
pub(super) fn count_or_off(text: &str) -> Result<Option<u32>, String> {
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err("must be a whole number of at least 1, or off".to_owned()),
    }
}

/// `COUNT/DURATION` such as `5/1h`, or `off`.
pub(super) fn count_per_window(text: &str) -> Result<Option<(u32, Duration)>, String> {
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let err = || "must be COUNT/DURATION such as 5/1h, or off".to_owned();
    let (count, window) = text.split_once('/').ok_or_else(err)?;
    let count = count_or_off(count.trim()).ok().flatten().ok_or_else(err)?;
    let window = duration(window.trim()).map_err(|_| err())?;
    Ok(Some((count, window)))
}

/// `90s`, `30m`, `2h`, `1d`, `500ms`, or plain seconds; more than zero.
pub(super) fn duration(text: &str) -> Result<Duration, String> {
    let err = || "must be a duration such as 90s, 30m, 2h or 1d".to_owned();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| err())?;
    if unit.trim() == "ms" {
        if number == 0 {
            return Err("must be more than zero".to_owned());
        }
        return Ok(Duration::from_millis(number));
    }
    let seconds = match unit.trim() {
        "" | "s" => Some(number),
        "m" | "min" => number.checked_mul(60),
        "h" => number.checked_mul(3600),
        "d" => number.checked_mul(86_400),
        _ => None,
    }
    .ok_or_else(err)?;
    if seconds == 0 {
        return Err("must be more than zero".to_owned());
    }
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_rate_limits_and_proxies_parse() {
        assert_eq!(duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(duration("45"), Ok(Duration::from_secs(45)));
        assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(duration("0s").is_err());
        assert!(duration("0ms").is_err());
        assert!(duration("soon").is_err());
        assert_eq!(rate_limit("600/120"), Ok(Some(RateLimit::new(600, 120))));
        assert_eq!(rate_limit("off"), Ok(None));
        assert_eq!(count_or_off("3"), Ok(Some(3)));
        assert_eq!(count_or_off("off"), Ok(None));
        assert!(count_or_off("0").is_err());
        assert!(count_or_off("-2").is_err());
        assert_eq!(
            count_per_window("5/1h"),
            Ok(Some((5, Duration::from_secs(3600))))
        );
        assert_eq!(count_per_window("OFF"), Ok(None));
        assert!(count_per_window("5").is_err());
        assert!(count_per_window("0/1h").is_err());
        assert_eq!(trusted_proxy("X-Forwarded-For:2").unwrap().unwrap().hops, 2);
    }
}
