//! The adapter's configuration ([`MpesaConfig`]) and its builder.

use std::{fmt, time::Duration};

use pochi_core::CallbackToken;
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use time::UtcOffset;

use crate::{
    business::{Business, ShortCode},
    initiator::{CertificateSource, Initiator},
    timestamp::EAST_AFRICA_TIME,
};

/// Safaricom's public sandbox shortcode for M-Pesa Express.
pub(crate) const SANDBOX_SHORTCODE: &str = "174379";
/// Safaricom's public sandbox passkey for [`SANDBOX_SHORTCODE`].
pub(crate) const SANDBOX_PASSKEY: &str =
    "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919";

/// Words Safaricom refuses anywhere in a callback URL (any case).
pub(crate) const FORBIDDEN_IN_URLS: [&str; 8] = [
    "mpesa",
    "m-pesa",
    "safaricom",
    "exe",
    "exec",
    "cmd",
    "sql",
    "query",
];
/// Tunnel and request-inspection hosts Safaricom refuses in production.
const REFUSED_HOSTS: [&str; 3] = ["ngrok", "mockbin", "requestbin"];

/// A configuration that was refused, naming the setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("M-Pesa configuration: {field}: {message}")]
pub struct ConfigError {
    /// The setting (`callback_base_url`, `passkey`...).
    pub field: &'static str,
    /// What is wrong, and how to fix it.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(field: &'static str, message: impl Into<String>) -> Self {
        ConfigError {
            field,
            message: message.into(),
        }
    }
}

impl From<ConfigError> for pochi_core::Error {
    fn from(err: ConfigError) -> Self {
        pochi_core::Error::invalid(format!("mpesa.{}", err.field), err.message)
    }
}

/// The settings of the M-Pesa adapter, checked: where Daraja is, the shop's account and
/// secrets, and where Daraja should send callbacks.
///
/// Build it with [`MpesaConfig::builder`] (or [`MpesaConfigBuilder::from_env`], or serde), then
/// [`MpesaConfigBuilder::build`], which refuses with a clear message what Safaricom would refuse
/// later or what must never reach production (sandbox values, plain HTTP, a forbidden word in a
/// callback URL). There are no silent defaults for credentials.
#[derive(Clone)]
#[non_exhaustive]
pub struct MpesaConfig {
    pub(crate) environment: Environment,
    pub(crate) base_url: Option<String>,
    pub(crate) business: Business,
    pub(crate) passkey: SecretString,
    pub(crate) consumer_key: String,
    pub(crate) consumer_secret: SecretString,
    pub(crate) callback_base_url: String,
    pub(crate) callback_token: CallbackToken,
    pub(crate) timestamp_offset: UtcOffset,
    pub(crate) c2b: bool,
    pub(crate) stk_push: bool,
    pub(crate) c2b_version: C2bVersion,
    pub(crate) c2b_response_type: C2bResponseType,
    pub(crate) phone_format: PhoneFormat,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) token_refresh_margin: Duration,
    pub(crate) initiator: Option<Initiator>,
}

impl MpesaConfig {
    /// Starts an empty builder.
    pub fn builder() -> MpesaConfigBuilder {
        MpesaConfigBuilder::default()
    }

    /// The environment.
    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    /// Where Daraja's API is reached: the base URL set with
    /// [`MpesaConfigBuilder::with_base_url`] (a proxy, a test double), else the environment's.
    pub fn base_url(&self) -> &str {
        self.base_url.as_deref().map_or_else(
            || self.environment.base_url(),
            |url| url.trim_end_matches('/'),
        )
    }

    /// The shop's account.
    pub fn business(&self) -> &Business {
        &self.business
    }

    /// The consumer key (an identifier, not a secret on its own).
    pub fn consumer_key(&self) -> &str {
        &self.consumer_key
    }

    /// The zone of STK timestamps (default East Africa Time).
    pub fn timestamp_offset(&self) -> UtcOffset {
        self.timestamp_offset
    }

    /// Whether the shop takes C2B payments (customers paying the paybill or till directly):
    /// only then does the provider read the `c2b-validation` and `c2b-confirmation` channels;
    /// without it, those callback routes answer as unknown paths (default: off).
    pub fn c2b(&self) -> bool {
        self.c2b
    }

    /// The C2B register-URL version.
    pub fn c2b_version(&self) -> C2bVersion {
        self.c2b_version
    }

    /// The C2B `ResponseType`.
    pub fn c2b_response_type(&self) -> C2bResponseType {
        self.c2b_response_type
    }

    /// How phone numbers are sent.
    pub fn phone_format(&self) -> PhoneFormat {
        self.phone_format
    }

    /// The connect timeout of HTTP requests.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The overall timeout of HTTP requests.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// How long before its expiry an access token is replaced.
    pub fn token_refresh_margin(&self) -> Duration {
        self.token_refresh_margin
    }

    /// The URL Daraja posts `channel` notifications to: `{callback_base_url}` followed by
    /// [`pochi_core::callback_path`] (`/api/pay/callbacks/{channel}/{token}`). It contains the
    /// secret token.
    pub fn callback_url(&self, channel: CallbackChannel) -> String {
        format!(
            "{}{}",
            self.callback_base_url,
            pochi_core::callback_path(channel.as_str(), &self.callback_token)
        )
    }

    /// The URL Daraja posts an initiator request's result (or queue timeout) to on `channel`:
    /// `{callback_base_url}` followed by [`pochi_core::callback_path`]. It contains the secret
    /// token.
    pub fn result_url(&self, channel: InitiatorChannel) -> String {
        format!(
            "{}{}",
            self.callback_base_url,
            pochi_core::callback_path(channel.as_str(), &self.callback_token)
        )
    }

    /// The initiator's name, when initiator credentials are configured
    /// ([`MpesaConfigBuilder::with_initiator`]): only then can the provider request reversals,
    /// B2C payments and transaction status.
    pub fn initiator_name(&self) -> Option<&str> {
        self.initiator.as_ref().map(|i| i.name.as_str())
    }

    /// The token in the callback URLs (see [`MpesaConfig::callback_url`]).
    pub fn callback_token(&self) -> &CallbackToken {
        &self.callback_token
    }
}

impl fmt::Debug for MpesaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpesaConfig")
            .field("environment", &self.environment)
            .field("business", &self.business)
            .field("passkey", &"(redacted)")
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &"(redacted)")
            .field("callback_base_url", &self.callback_base_url)
            .field("callback_token", &self.callback_token)
            .field("timestamp_offset", &self.timestamp_offset)
            .field("c2b", &self.c2b)
            .field("c2b_version", &self.c2b_version)
            .field("c2b_response_type", &self.c2b_response_type)
            .field("phone_format", &self.phone_format)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("initiator", &self.initiator)
            .finish_non_exhaustive()
    }
}

impl<'de> Deserialize<'de> for MpesaConfig {
    /// Deserialises a [`MpesaConfigBuilder`] and [builds](MpesaConfigBuilder::build) it.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        MpesaConfigBuilder::deserialize(deserializer)?
            .build()
            .map_err(serde::de::Error::custom)
    }
}

/// Collects settings for an [`MpesaConfig`]. Deserialisable (snake_case keys, every one
/// optional here; [`build`](Self::build) says what is missing).
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct MpesaConfigBuilder {
    pub(crate) environment: Option<Environment>,
    /// A Daraja-compatible base URL that replaces the environment's (the environment's checks
    /// still apply: production stays production behind a proxy).
    pub(crate) base_url: Option<String>,
    pub(crate) business: Option<Business>,
    pub(crate) passkey: Option<SecretString>,
    pub(crate) consumer_key: Option<String>,
    pub(crate) consumer_secret: Option<SecretString>,
    pub(crate) callback_base_url: Option<String>,
    pub(crate) callback_token: Option<SecretString>,
    /// `+03:00`-style offset.
    pub(crate) timestamp_utc_offset: Option<String>,
    /// Whether C2B payments are taken (default false).
    pub(crate) c2b: Option<bool>,
    /// Whether the shop sends STK pushes (default true); without, no passkey is needed.
    pub(crate) stk_push: Option<bool>,
    pub(crate) c2b_version: Option<C2bVersion>,
    pub(crate) c2b_response_type: Option<C2bResponseType>,
    pub(crate) phone_format: Option<PhoneFormat>,
    pub(crate) connect_timeout_secs: Option<u64>,
    pub(crate) request_timeout_secs: Option<u64>,
    pub(crate) token_refresh_margin_secs: Option<u64>,
    /// The initiator (API operator) name.
    pub(crate) initiator_name: Option<String>,
    pub(crate) initiator_password: Option<SecretString>,
    /// The path of Safaricom's certificate (PEM or DER).
    pub(crate) initiator_certificate: Option<String>,
    /// The certificate as PEM text (in code only).
    #[serde(skip)]
    pub(crate) initiator_certificate_pem: Option<String>,
}

impl fmt::Debug for MpesaConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |s: &Option<SecretString>| if s.is_some() { "(redacted)" } else { "(unset)" };
        f.debug_struct("MpesaConfigBuilder")
            .field("environment", &self.environment)
            .field("business", &self.business)
            .field("passkey", &set(&self.passkey))
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &set(&self.consumer_secret))
            .field("callback_base_url", &self.callback_base_url)
            .field("callback_token", &set(&self.callback_token))
            .field("initiator_name", &self.initiator_name)
            .field("initiator_password", &set(&self.initiator_password))
            .field("initiator_certificate", &self.initiator_certificate)
            .finish_non_exhaustive()
    }
}

impl MpesaConfigBuilder {
    /// Reaches Daraja at `url` (an `http` or `https` base URL: an egress proxy, a test double)
    /// instead of the environment's host. The environment's rules still apply, so production
    /// behind a proxy is checked as production.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Sets the environment.
    pub fn with_environment(mut self, environment: Environment) -> Self {
        self.environment = Some(environment);
        self
    }

    /// Sets the shop's account.
    pub fn with_business(mut self, business: Business) -> Self {
        self.business = Some(business);
        self
    }

    /// A paybill with this shortcode.
    pub fn with_paybill(self, shortcode: ShortCode) -> Self {
        self.with_business(Business::PayBill { shortcode })
    }

    /// A till with its store (head-office) number.
    pub fn with_till(self, store_number: ShortCode, till_number: ShortCode) -> Self {
        self.with_business(Business::Till {
            store_number,
            till_number,
        })
    }

    /// Safaricom's public sandbox paybill (174379) and its passkey. Refused by `build` in
    /// production.
    pub fn with_public_sandbox_paybill(mut self) -> Self {
        self.business = Some(Business::PayBill {
            shortcode: ShortCode::sandbox(),
        });
        self.passkey = Some(SecretString::from(SANDBOX_PASSKEY));
        self
    }

    /// Whether the shop sends STK pushes (default true). A shop that only checks transactions
    /// and sends refunds through Daraja (its customers pay by hand:
    /// [`CheckedManualCodes`](crate::CheckedManualCodes)) turns them off and needs no passkey;
    /// [`MpesaProvider`](crate::MpesaProvider) then refuses to start a push.
    pub fn with_stk_push(mut self, on: bool) -> Self {
        self.stk_push = Some(on);
        self
    }

    /// Sets the Lipa na M-Pesa Online passkey.
    pub fn with_passkey(mut self, passkey: impl Into<String>) -> Self {
        self.passkey = Some(SecretString::from(passkey.into()));
        self
    }

    /// Sets the Daraja app's consumer key and secret.
    pub fn with_credentials(
        mut self,
        consumer_key: impl Into<String>,
        consumer_secret: impl Into<String>,
    ) -> Self {
        self.consumer_key = Some(consumer_key.into());
        self.consumer_secret = Some(SecretString::from(consumer_secret.into()));
        self
    }

    /// Sets the public base URL of the shop (`https://shop.example.co.ke`).
    pub fn with_callback_base_url(mut self, url: impl Into<String>) -> Self {
        self.callback_base_url = Some(url.into());
        self
    }

    /// Sets the secret path token of callback URLs (the same as the shop's
    /// `ShopConfig::callback_token`).
    pub fn with_callback_token(mut self, token: &CallbackToken) -> Self {
        self.callback_token = Some(SecretString::from(token.expose()));
        self
    }

    /// Sets the zone STK timestamps are written in (default East Africa Time, UTC+3).
    pub fn with_timestamp_offset(mut self, offset: UtcOffset) -> Self {
        self.timestamp_utc_offset = Some(format_offset(offset));
        self
    }

    /// Takes C2B payments (customers paying the paybill or till directly) or not (the
    /// default): see [`MpesaConfig::c2b`].
    pub fn with_c2b(mut self, enabled: bool) -> Self {
        self.c2b = Some(enabled);
        self
    }

    /// Sets the C2B register-URL version.
    pub fn with_c2b_version(mut self, version: C2bVersion) -> Self {
        self.c2b_version = Some(version);
        self
    }

    /// Sets the C2B `ResponseType`.
    pub fn with_c2b_response_type(mut self, response_type: C2bResponseType) -> Self {
        self.c2b_response_type = Some(response_type);
        self
    }

    /// Sets how phone numbers are sent.
    pub fn with_phone_format(mut self, format: PhoneFormat) -> Self {
        self.phone_format = Some(format);
        self
    }

    /// Sets the connect and overall timeouts of HTTP requests (defaults 10 s and 30 s).
    pub fn with_timeouts(mut self, connect: Duration, overall: Duration) -> Self {
        self.connect_timeout_secs = Some(connect.as_secs().max(1));
        self.request_timeout_secs = Some(overall.as_secs().max(1));
        self
    }

    /// Sets how long before expiry a token is replaced (default 60 s).
    pub fn with_token_refresh_margin(mut self, margin: Duration) -> Self {
        self.token_refresh_margin_secs = Some(margin.as_secs());
        self
    }

    /// Sets the initiator (the API operator created on the M-Pesa organisation portal with the
    /// roles for reversals, B2C or transaction status) and its password. Needs the certificate
    /// too ([`with_initiator_certificate`](Self::with_initiator_certificate)).
    pub fn with_initiator(mut self, name: impl Into<String>, password: impl Into<String>) -> Self {
        self.initiator_name = Some(name.into());
        self.initiator_password = Some(SecretString::from(password.into()));
        self
    }

    /// Sets the path of the certificate Safaricom issues for encrypting the initiator password
    /// (PEM or DER; the sandbox and production certificates differ).
    pub fn with_initiator_certificate(mut self, path: impl Into<String>) -> Self {
        self.initiator_certificate = Some(path.into());
        self.initiator_certificate_pem = None;
        self
    }

    /// Sets that certificate as PEM text instead of a file.
    pub fn with_initiator_certificate_pem(mut self, pem: impl Into<String>) -> Self {
        self.initiator_certificate_pem = Some(pem.into());
        self.initiator_certificate = None;
        self
    }

    /// Checks the settings.
    ///
    /// Refuses: a missing environment, account, passkey, consumer key or secret, callback URL or
    /// token; in production, Safaricom's public sandbox shortcode or passkey, a callback URL
    /// that is not HTTPS or points at a local, private or tunnel host; anywhere, a callback
    /// URL containing a word Safaricom refuses (`mpesa`, `safaricom`, `exe`, `cmd`, `sql`,
    /// `query`...). The initiator's name, password and certificate are optional, but only
    /// together: a partial set is refused, naming what is missing, and so is a certificate
    /// that cannot be read or holds no RSA key.
    pub fn build(self) -> Result<MpesaConfig, ConfigError> {
        let initiator = initiator(
            self.initiator_name,
            self.initiator_password,
            self.initiator_certificate,
            self.initiator_certificate_pem,
        )?;
        let environment = self.environment.ok_or_else(|| {
            ConfigError::new(
                "environment",
                "is required: sandbox, production or a base URL",
            )
        })?;
        if let Environment::Custom(url) = &environment {
            Url::parse(url).map_err(|_| ConfigError::new("environment", "is not a valid URL"))?;
        }
        let base_url = self
            .base_url
            .map(|url| {
                let trimmed = url.trim().to_owned();
                match Url::parse(&trimmed) {
                    Ok(parsed)
                        if matches!(parsed.scheme(), "http" | "https")
                            && parsed.host_str().is_some()
                            && parsed.query().is_none()
                            && parsed.fragment().is_none() =>
                    {
                        Ok(trimmed)
                    }
                    _ => Err(ConfigError::new(
                        "base_url",
                        "must be an http or https base URL such as https://proxy.example:8443",
                    )),
                }
            })
            .transpose()?;
        let production = environment.is_production();
        let business = self
            .business
            .ok_or_else(|| ConfigError::new("business", "is required: a paybill or a till"))?;
        let stk_push = self.stk_push.unwrap_or(true);
        let passkey = match stk_push {
            true => required_secret(self.passkey, "passkey")?,
            false => self.passkey.unwrap_or_else(|| SecretString::from("")),
        };
        let consumer_key = self
            .consumer_key
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty())
            .ok_or_else(|| ConfigError::new("consumer_key", "is required"))?;
        let consumer_secret = required_secret(self.consumer_secret, "consumer_secret")?;
        if production {
            if business.business_short_code().as_str() == SANDBOX_SHORTCODE
                || business.party_b().as_str() == SANDBOX_SHORTCODE
            {
                return Err(ConfigError::new(
                    "business",
                    "is Safaricom's public sandbox shortcode 174379; production needs the shop's own",
                ));
            }
            if passkey.expose_secret().trim() == SANDBOX_PASSKEY {
                return Err(ConfigError::new(
                    "passkey",
                    "is Safaricom's public sandbox passkey; production needs the one e-mailed after Go Live",
                ));
            }
        }
        let token = required_secret(self.callback_token, "callback_token")?;
        let callback_token = CallbackToken::parse(token.expose_secret())
            .map_err(|e| ConfigError::new("callback_token", e.message().to_owned()))?;
        let callback_base_url = check_callback_base(
            self.callback_base_url.as_deref().unwrap_or_default(),
            production,
        )?;
        for channel in CallbackChannel::ALL {
            let path = pochi_core::callback_path(channel.as_str(), &callback_token);
            check_forbidden_words(&format!("{callback_base_url}{path}"))?;
        }
        for channel in InitiatorChannel::ALL {
            let path = pochi_core::callback_path(channel.as_str(), &callback_token);
            check_forbidden_words(&format!("{callback_base_url}{path}"))?;
        }
        let timestamp_offset = match self.timestamp_utc_offset.as_deref() {
            None => EAST_AFRICA_TIME,
            Some(text) => parse_offset(text)?,
        };
        Ok(MpesaConfig {
            environment,
            base_url,
            business,
            passkey,
            consumer_key,
            consumer_secret,
            callback_base_url,
            callback_token,
            timestamp_offset,
            c2b: self.c2b.unwrap_or(false),
            stk_push,
            c2b_version: self.c2b_version.unwrap_or_default(),
            c2b_response_type: self.c2b_response_type.unwrap_or_default(),
            phone_format: self.phone_format.unwrap_or_default(),
            connect_timeout: Duration::from_secs(self.connect_timeout_secs.unwrap_or(10).max(1)),
            request_timeout: Duration::from_secs(self.request_timeout_secs.unwrap_or(30).max(1)),
            token_refresh_margin: Duration::from_secs(self.token_refresh_margin_secs.unwrap_or(60)),
            initiator,
        })
    }
}

/// The initiator, when all three settings are given; none is fine; some is an error naming the
/// missing ones.
fn initiator(
    name: Option<String>,
    password: Option<SecretString>,
    certificate: Option<String>,
    certificate_pem: Option<String>,
) -> Result<Option<Initiator>, ConfigError> {
    let name = name.filter(|n| !n.trim().is_empty());
    let password = password.filter(|p| !p.expose_secret().is_empty());
    let certificate = match (
        certificate.filter(|c| !c.trim().is_empty()),
        certificate_pem.filter(|p| !p.trim().is_empty()),
    ) {
        (Some(path), _) => Some(CertificateSource::File(path.trim().to_owned())),
        (None, Some(pem)) => Some(CertificateSource::Pem(pem)),
        (None, None) => None,
    };
    match (name, password, certificate) {
        (None, None, None) => Ok(None),
        (Some(name), Some(password), Some(certificate)) => {
            Initiator::new(&name, password, &certificate).map(Some)
        }
        (name, password, certificate) => {
            let missing: Vec<&str> = [
                (name.is_none(), "initiator_name"),
                (password.is_none(), "initiator_password"),
                (certificate.is_none(), "initiator_certificate"),
            ]
            .into_iter()
            .filter_map(|(absent, field)| absent.then_some(field))
            .collect();
            Err(ConfigError::new(
                "initiator",
                format!(
                    "the initiator name, password and certificate go together; missing: {}",
                    missing.join(", ")
                ),
            ))
        }
    }
}

fn required_secret(
    value: Option<SecretString>,
    field: &'static str,
) -> Result<SecretString, ConfigError> {
    value
        .filter(|s| !s.expose_secret().trim().is_empty())
        .ok_or_else(|| ConfigError::new(field, "is required"))
}

/// Checks the callback base URL and returns it without a trailing slash.
fn check_callback_base(text: &str, production: bool) -> Result<String, ConfigError> {
    const FIELD: &str = "callback_base_url";
    let text = text.trim().trim_end_matches('/');
    if text.is_empty() {
        return Err(ConfigError::new(
            FIELD,
            "is required: the shop's public base URL",
        ));
    }
    let url = Url::parse(text).map_err(|_| ConfigError::new(FIELD, "is not a valid URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::new(FIELD, "must be an http(s) URL"));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(ConfigError::new(
            FIELD,
            "must not carry a query, fragment or user name",
        ));
    }
    if production {
        if url.scheme() != "https" {
            return Err(ConfigError::new(FIELD, "must be HTTPS in production"));
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let local = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_private() || ip.is_loopback() || ip.is_link_local(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(_)) => host == "localhost" || host.ends_with(".local"),
            None => true,
        };
        if local {
            return Err(ConfigError::new(
                FIELD,
                "must be a public host in production (Safaricom cannot reach a local address)",
            ));
        }
        if let Some(word) = REFUSED_HOSTS.iter().find(|w| host.contains(*w)) {
            return Err(ConfigError::new(
                FIELD,
                format!("must not be a {word} host: Safaricom refuses them"),
            ));
        }
    }
    Ok(text.to_owned())
}

fn check_forbidden_words(url: &str) -> Result<(), ConfigError> {
    let lower = url.to_ascii_lowercase();
    match FORBIDDEN_IN_URLS.iter().find(|w| lower.contains(*w)) {
        Some(word) => Err(ConfigError::new(
            "callback_base_url",
            format!(
                "contains \"{word}\": Safaricom refuses callback URLs containing mpesa, m-pesa, \
                 safaricom, exe, exec, cmd, sql or query"
            ),
        )),
        None => Ok(()),
    }
}

fn parse_offset(text: &str) -> Result<UtcOffset, ConfigError> {
    const FIELD: &str = "timestamp_utc_offset";
    let text = text.trim();
    let err = || ConfigError::new(FIELD, "must be an offset such as +03:00 or UTC");
    if text.eq_ignore_ascii_case("utc") || text == "Z" {
        return Ok(UtcOffset::UTC);
    }
    let (sign, rest) = match text.split_at_checked(1) {
        Some(("+", rest)) => (1i8, rest),
        Some(("-", rest)) => (-1i8, rest),
        _ => return Err(err()),
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
    let hours: i8 = hours.parse().map_err(|_| err())?;
    let minutes: i8 = minutes.parse().map_err(|_| err())?;
    UtcOffset::from_hms(sign * hours, sign * minutes, 0).map_err(|_| err())
}

fn format_offset(offset: UtcOffset) -> String {
    let (h, m, _) = offset.as_hms();
    let sign = if offset.is_negative() { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
}

mod choices;
mod env;

pub use self::choices::{
    C2bResponseType, C2bVersion, CallbackChannel, Environment, InitiatorChannel, PhoneFormat,
};
#[cfg(test)]
mod tests;
