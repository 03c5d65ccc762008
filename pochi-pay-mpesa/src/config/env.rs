//! Reading the configuration from environment variables.

use secrecy::SecretString;

use super::{
    C2bResponseType, C2bVersion, ConfigError, Environment, MpesaConfigBuilder, PhoneFormat,
};
use crate::business::{Business, ShortCode};

impl MpesaConfigBuilder {
    /// A builder filled from the `MPESA_*` environment variables. Unset variables stay
    /// unset; [`build`](Self::build) says which are required.
    ///
    /// | variable | meaning |
    /// |---|---|
    /// | `MPESA_ENVIRONMENT` | `sandbox`, `production` or a base URL (the fake Daraja) |
    /// | `MPESA_BASE_URL` | optional, a Daraja-compatible base URL (a proxy) used instead of the environment's host, under the environment's rules |
    /// | `MPESA_SHORTCODE` | the paybill number, or a till's store (head-office) number |
    /// | `MPESA_TILL_NUMBER` | set for a till: the till number (`PartyB`) |
    /// | `MPESA_PASSKEY` | the Lipa na M-Pesa Online passkey |
    /// | `MPESA_CONSUMER_KEY`, `MPESA_CONSUMER_SECRET` | the Daraja app's credentials |
    /// | `MPESA_CALLBACK_BASE_URL` | the shop's public base URL |
    /// | `MPESA_CALLBACK_TOKEN` | the secret path token of callback URLs |
    /// | `MPESA_TIMESTAMP_UTC_OFFSET` | optional, default `+03:00` |
    /// | `MPESA_C2B` | optional, `on` to take C2B payments (paybill or till paid directly; default `off`) |
    /// | `MPESA_C2B_VERSION` | optional, `v1` or `v2` (default) |
    /// | `MPESA_C2B_RESPONSE_TYPE` | optional, `Completed` (default) or `Cancelled` |
    /// | `MPESA_PHONE_FORMAT` | optional, `number` (default) or `string` |
    /// | `MPESA_INITIATOR_NAME`, `MPESA_INITIATOR_PASSWORD` | optional, the initiator (API operator) for Reversal, B2C and Transaction Status |
    /// | `MPESA_INITIATOR_CERTIFICATE` | with them, the path of Safaricom's certificate (PEM or DER) that encrypts the initiator password |
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut builder = MpesaConfigBuilder::default();
        if let Some(env) = get("MPESA_ENVIRONMENT") {
            builder.environment = Some(Environment::parse(&env)?);
        }
        builder.base_url = get("MPESA_BASE_URL");
        let shortcode = get("MPESA_SHORTCODE")
            .map(|s| ShortCode::parse(&s))
            .transpose()
            .map_err(|e| ConfigError::new("business", format!("MPESA_SHORTCODE {e}")))?;
        let till = get("MPESA_TILL_NUMBER")
            .map(|s| ShortCode::parse(&s))
            .transpose()
            .map_err(|e| ConfigError::new("business", format!("MPESA_TILL_NUMBER {e}")))?;
        builder.business = match (shortcode, till) {
            (Some(shortcode), None) => Some(Business::PayBill { shortcode }),
            (Some(store_number), Some(till_number)) => Some(Business::Till {
                store_number,
                till_number,
            }),
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    "business",
                    "MPESA_TILL_NUMBER needs MPESA_SHORTCODE set to the till's store number",
                ));
            }
            (None, None) => None,
        };
        builder.passkey = get("MPESA_PASSKEY").map(SecretString::from);
        builder.consumer_key = get("MPESA_CONSUMER_KEY");
        builder.consumer_secret = get("MPESA_CONSUMER_SECRET").map(SecretString::from);
        builder.callback_base_url = get("MPESA_CALLBACK_BASE_URL");
        builder.callback_token = get("MPESA_CALLBACK_TOKEN").map(SecretString::from);
        builder.timestamp_utc_offset = get("MPESA_TIMESTAMP_UTC_OFFSET");
        builder.initiator_name = get("MPESA_INITIATOR_NAME");
        builder.initiator_password = get("MPESA_INITIATOR_PASSWORD").map(SecretString::from);
        builder.initiator_certificate = get("MPESA_INITIATOR_CERTIFICATE");
        if let Some(c2b) = get("MPESA_C2B") {
            builder.c2b = Some(match c2b.trim().to_ascii_lowercase().as_str() {
                "on" | "true" | "yes" | "1" => true,
                "off" | "false" | "no" | "0" => false,
                _ => return Err(ConfigError::new("c2b", "must be on or off")),
            });
        }
        if let Some(version) = get("MPESA_C2B_VERSION") {
            builder.c2b_version = Some(match version.trim().to_ascii_lowercase().as_str() {
                "v1" | "1" => C2bVersion::V1,
                "v2" | "2" => C2bVersion::V2,
                _ => return Err(ConfigError::new("c2b_version", "must be v1 or v2")),
            });
        }
        if let Some(kind) = get("MPESA_C2B_RESPONSE_TYPE") {
            builder.c2b_response_type = Some(match kind.trim() {
                "Completed" => C2bResponseType::Completed,
                "Cancelled" => C2bResponseType::Cancelled,
                _ => {
                    return Err(ConfigError::new(
                        "c2b_response_type",
                        "must be Completed or Cancelled",
                    ));
                }
            });
        }
        if let Some(format) = get("MPESA_PHONE_FORMAT") {
            builder.phone_format = Some(match format.trim().to_ascii_lowercase().as_str() {
                "number" => PhoneFormat::Number,
                "string" => PhoneFormat::String,
                _ => return Err(ConfigError::new("phone_format", "must be number or string")),
            });
        }
        Ok(builder)
    }
}
