//! The shop's deployment configuration (what is not an admin-editable setting).

use std::{fmt, time::Duration};

use subtle::ConstantTimeEq;
use time::UtcOffset;

use crate::{error::InvalidValue, ids::OrderPrefix, money::Currency};

/// Words Safaricom refuses in callback URLs (any case), so a token must not contain them.
const FORBIDDEN_IN_URLS: [&str; 8] = [
    "mpesa",
    "m-pesa",
    "safaricom",
    "exe",
    "exec",
    "cmd",
    "sql",
    "query",
];

/// The secret path segment of payment callback URLs (`/api/pay/callbacks/stk/{token}`).
///
/// 16 to 128 characters of letters, digits, `-` and `_`, without the words Safaricom refuses
/// in callback URLs. Compared in constant time; never shown by `Debug`.
#[derive(Clone)]
pub struct CallbackToken(String);

impl CallbackToken {
    /// Parses a token.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let text = text.trim();
        if !(16..=128).contains(&text.len())
            || !text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(InvalidValue::new(
                "must be 16 to 128 characters of letters, digits, '-' and '_'",
            ));
        }
        let lower = text.to_ascii_lowercase();
        if let Some(word) = FORBIDDEN_IN_URLS.iter().find(|w| lower.contains(*w)) {
            return Err(InvalidValue::owned(format!(
                "must not contain \"{word}\": Safaricom refuses callback URLs that do"
            )));
        }
        Ok(CallbackToken(text.to_owned()))
    }

    /// The token, for building callback URLs.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is this token (constant time).
    pub fn matches(&self, candidate: &str) -> bool {
        self.0.as_bytes().ct_eq(candidate.as_bytes()).into()
    }
}

impl fmt::Debug for CallbackToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallbackToken(redacted)")
    }
}

/// How the shop runs: currency, order numbers, time zone and the timings of payments and
/// expiry.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ShopConfig {
    /// The currency of every price (default KES).
    pub currency: Currency,
    /// The order-number prefix (default `POCHI`).
    pub order_prefix: OrderPrefix,
    /// The shop's time zone for "today" in statistics (default East Africa Time, UTC+3).
    pub utc_offset: UtcOffset,
    /// How long an order may stay unpaid before it is cancelled and its stock released
    /// (default 30 minutes).
    pub unpaid_order_ttl: Duration,
    /// How long an order for which no payment was ever started is held before it is cancelled
    /// and its stock released (default 10 minutes; never longer than `unpaid_order_ttl`).
    /// A payment attempt extends the hold while it is pending (up to `unpaid_order_ttl`, or
    /// the hard bound `in_flight_hold` past it); once every attempt has ended, the order is
    /// held for this long again from the last attempt's end (never past `unpaid_order_ttl`
    /// from placing). Anonymous orders nobody pays cannot keep a product off sale for long.
    pub unstarted_order_ttl: Duration,
    /// At most this many units of one product in one order (default 10; `None`: no cap). A
    /// product's own [`Product::max_per_order`](crate::Product::max_per_order) wins.
    pub max_units_per_product: Option<u32>,
    /// At most this many unpaid orders open at once for one phone number (default 3; `None`:
    /// no limit).
    pub open_orders_per_phone: Option<u32>,
    /// At most this many unpaid orders open at once from one client network, an IPv4 address
    /// or an IPv6 /64 (default 20, for the many customers a mobile carrier puts behind one
    /// address; `None`: no limit). Counted only for orders placed with an address
    /// ([`Shop::place_order_from`](crate::Shop::place_order_from)).
    pub open_orders_per_client: Option<u32>,
    /// At most this many payment requests (pushes) to one phone number within
    /// `payment_request_window`, across all orders (default 5; `None`: no limit), so nobody
    /// can prompt a stranger's phone again and again.
    pub payment_requests_per_phone: Option<u32>,
    /// The window of `payment_requests_per_phone` (default 1 hour).
    pub payment_request_window: Duration,
    /// How much longer an unpaid order is kept while one of its payment attempts is still in
    /// flight (`pending`: the customer may be entering their PIN; `pending_verification`: an
    /// admin has a code to check), before it expires anyway (default 1 hour).
    pub in_flight_hold: Duration,
    /// A push is not started for an order that expires within this time: the customer could
    /// not finish paying before it is cancelled (default 2 minutes).
    pub payment_start_margin: Duration,
    /// The secret token in callback URLs; without it, notifications are refused.
    pub callback_token: Option<CallbackToken>,
    /// The token callback URLs carried before the current one, still accepted while it is
    /// rotated out (none by default). To rotate: make the current token the previous one, set
    /// a new current one (and register the new URLs with the provider), and drop the previous
    /// one once no callback uses it: no callback is lost in between.
    pub previous_callback_token: Option<CallbackToken>,
    /// How long to wait for a provider's callback before asking it (default 90 s).
    pub first_payment_check_after: Duration,
    /// The first pause between later checks; it doubles each time (default 30 s).
    pub payment_check_backoff: Duration,
    /// The longest pause between checks (default 10 minutes).
    pub max_payment_check_interval: Duration,
    /// Checks without a final answer before an attempt is marked for review (default 8).
    pub max_payment_checks: u32,
    /// How long a push stays "in progress" before the customer may ask for another (default
    /// 2 minutes: Safaricom refuses the same amount to the same phone within 2 minutes).
    pub resend_interval: Duration,
    /// How many notifications refused for a wrong callback token are kept for review per hour
    /// (by this process; default 20). Every one is still counted
    /// ([`ShopEvent::CallbackRefused`](crate::ShopEvent::CallbackRefused)); beyond the sample
    /// they are not stored, so forged requests cannot fill the review list and bury the
    /// payments an owner must see.
    pub refused_callbacks_kept_per_hour: u32,
    /// Whether a direct payment (C2B confirmation) waits as `pending_verification` until its
    /// provider confirms the transaction (M-Pesa: Transaction Status) instead of paying its
    /// order at once (default off). Only with a provider that
    /// [checks transactions](crate::PaymentProvider::checks_transactions).
    pub confirm_direct_payments: bool,
}

impl Default for ShopConfig {
    fn default() -> Self {
        ShopConfig {
            currency: Currency::Kes,
            order_prefix: OrderPrefix::default(),
            utc_offset: UtcOffset::from_hms(3, 0, 0).unwrap_or(UtcOffset::UTC),
            unpaid_order_ttl: Duration::from_secs(30 * 60),
            unstarted_order_ttl: Duration::from_secs(10 * 60),
            max_units_per_product: Some(10),
            open_orders_per_phone: Some(3),
            open_orders_per_client: Some(20),
            payment_requests_per_phone: Some(5),
            payment_request_window: Duration::from_secs(60 * 60),
            in_flight_hold: Duration::from_secs(60 * 60),
            payment_start_margin: Duration::from_secs(120),
            callback_token: None,
            previous_callback_token: None,
            first_payment_check_after: Duration::from_secs(90),
            payment_check_backoff: Duration::from_secs(30),
            max_payment_check_interval: Duration::from_secs(600),
            max_payment_checks: 8,
            resend_interval: Duration::from_secs(120),
            refused_callbacks_kept_per_hour: 20,
            confirm_direct_payments: false,
        }
    }
}

impl ShopConfig {
    /// Sets the currency.
    pub fn with_currency(mut self, currency: Currency) -> Self {
        self.currency = currency;
        self
    }

    /// Sets the order-number prefix.
    pub fn with_order_prefix(mut self, prefix: OrderPrefix) -> Self {
        self.order_prefix = prefix;
        self
    }

    /// Sets the callback token.
    pub fn with_callback_token(mut self, token: CallbackToken) -> Self {
        self.callback_token = Some(token);
        self
    }

    /// Sets the previous callback token, accepted as well as the current one while it is
    /// rotated out.
    pub fn with_previous_callback_token(mut self, token: CallbackToken) -> Self {
        self.previous_callback_token = Some(token);
        self
    }

    /// Whether `candidate` is the current or the previous callback token. Both are compared
    /// (in constant time) whatever the first comparison gave, so the time taken does not tell
    /// which one matched.
    pub fn accepts_callback_token(&self, candidate: &str) -> bool {
        let current = self
            .callback_token
            .as_ref()
            .is_some_and(|token| token.matches(candidate));
        let previous = self
            .previous_callback_token
            .as_ref()
            .is_some_and(|token| token.matches(candidate));
        current | previous
    }

    /// Sets how long orders may stay unpaid.
    pub fn with_unpaid_order_ttl(mut self, ttl: Duration) -> Self {
        self.unpaid_order_ttl = ttl;
        self
    }

    /// Sets how long orders nobody started to pay are held.
    pub fn with_unstarted_order_ttl(mut self, ttl: Duration) -> Self {
        self.unstarted_order_ttl = ttl;
        self
    }

    /// Sets how many units of one product one order may hold, unless the product says
    /// otherwise (`None`: no cap).
    pub fn with_max_units_per_product(mut self, max: Option<u32>) -> Self {
        self.max_units_per_product = max;
        self
    }

    /// Sets how many unpaid orders may be open at once per phone number and per client
    /// network (`None`: no limit).
    pub fn with_open_order_limits(
        mut self,
        per_phone: Option<u32>,
        per_client: Option<u32>,
    ) -> Self {
        self.open_orders_per_phone = per_phone;
        self.open_orders_per_client = per_client;
        self
    }

    /// Sets how many payment requests may go to one phone number within `window` (`None`: no
    /// limit).
    pub fn with_payment_requests_per_phone(mut self, max: Option<u32>, window: Duration) -> Self {
        self.payment_requests_per_phone = max;
        self.payment_request_window = window;
        self
    }

    /// Sets the reconciliation timings.
    pub fn with_payment_checks(
        mut self,
        first_after: Duration,
        backoff: Duration,
        max_checks: u32,
    ) -> Self {
        self.first_payment_check_after = first_after;
        self.payment_check_backoff = backoff;
        self.max_payment_checks = max_checks;
        self
    }

    /// Sets whether direct payments wait for their provider's confirmation
    /// ([`confirm_direct_payments`](Self::confirm_direct_payments)).
    pub fn with_direct_payments_confirmed(mut self, confirm: bool) -> Self {
        self.confirm_direct_payments = confirm;
        self
    }

    /// Sets the resend interval for push payments.
    pub fn with_resend_interval(mut self, interval: Duration) -> Self {
        self.resend_interval = interval;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_url_safe_and_free_of_refused_words() {
        assert!(CallbackToken::parse("k3J9_x-Q2mP7vL0aZ").is_ok());
        assert!(CallbackToken::parse("short").is_err());
        assert!(CallbackToken::parse("has space in the middle!").is_err());
        let err = CallbackToken::parse("my-MPesa-token-1234").unwrap_err();
        assert!(err.message().contains("mpesa"));
        assert!(CallbackToken::parse("aaaaaaaaaaaaaQUERYbbbb").is_err());
    }

    #[test]
    fn tokens_compare_exactly_and_never_print() {
        let token = CallbackToken::parse("k3J9_x-Q2mP7vL0aZ").unwrap();
        assert!(token.matches("k3J9_x-Q2mP7vL0aZ"));
        assert!(!token.matches("k3J9_x-Q2mP7vL0a"));
        assert!(!token.matches("K3J9_x-Q2mP7vL0aZ"));
        assert_eq!(format!("{token:?}"), "CallbackToken(redacted)");
        let config = ShopConfig::default().with_callback_token(token);
        assert!(!format!("{config:?}").contains("k3J9"));
    }

    #[test]
    fn the_previous_token_is_accepted_beside_the_current_one() {
        let current = CallbackToken::parse("current-token-000001").unwrap();
        let previous = CallbackToken::parse("previous-token-00001").unwrap();
        let config = ShopConfig::default().with_callback_token(current.clone());
        assert!(config.accepts_callback_token("current-token-000001"));
        assert!(!config.accepts_callback_token("previous-token-00001"));
        let config = config.with_previous_callback_token(previous);
        assert!(config.accepts_callback_token("current-token-000001"));
        assert!(config.accepts_callback_token("previous-token-00001"));
        assert!(!config.accepts_callback_token("another-token-000001"));
        assert!(!ShopConfig::default().accepts_callback_token(""));
        assert!(!format!("{config:?}").contains("previous-token"));
    }
}
