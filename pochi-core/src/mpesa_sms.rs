//! Reading the M-Pesa confirmation SMS a customer pastes, and checking it against the shop's
//! M-Pesa account and the order.
//!
//! Safaricom's confirmation messages take a few shapes (Buy Goods: "paid to"; Pay Bill: "sent
//! to … for account …"; Send Money and Pochi la Biashara: "sent to NAME \[PHONE\]"), and real
//! ones vary: line breaks for spaces, a missing full stop before "on" or "New", two- or
//! four-digit years, adverts at the end. The parser reads each part by its meaning (the code
//! before "Confirmed", the amount after it, the recipient after "paid to" or "sent to", the
//! account after "for account", the date after "on") instead of matching one exact pattern.
//!
//! ```
//! use pochi_core::mpesa_sms::{ConfirmationSms, Recipient};
//!
//! let sms = ConfirmationSms::parse(
//!     "TKT4FVBL1Z Confirmed. Ksh1,510.00 paid to DUKA LA MAMA WANJIKU. on 29/11/25 \
//!      at 7:25 PM.New M-PESA balance is Ksh3,240.50.",
//! )
//! .unwrap();
//! assert_eq!(sms.code.as_str(), "TKT4FVBL1Z");
//! assert_eq!(sms.amount.to_string(), "1510.00");
//! assert_eq!(sms.recipient, Recipient::PaidTo("DUKA LA MAMA WANJIKU".into()));
//! ```

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, Month, PrimitiveDateTime, Time};

use crate::{
    error::{ConflictReason, Error, InvalidValue, Result},
    ids::OrderNumber,
    money::Money,
    payment::Receipt,
    text::bounded_text,
};

/// Who an M-Pesa confirmation says the money went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// Buy Goods: "paid to NAME" (a till).
    PaidTo(String),
    /// Pay Bill: "sent to NAME for account ACCOUNT".
    PayBill {
        /// The business's name.
        name: String,
        /// The account the customer typed.
        account: String,
    },
    /// Send Money or a Pochi la Biashara wallet: "sent to NAME \[PHONE\]".
    SentTo {
        /// The person's or wallet's name.
        name: String,
        /// The phone, digits only, when the message shows one (a person).
        phone: Option<String>,
    },
}

impl Recipient {
    /// How the message names the recipient, for people: `DUKA LA MAMA (Buy Goods)`.
    pub fn describe(&self) -> String {
        match self {
            Recipient::PaidTo(name) => format!("{name} (Buy Goods)"),
            Recipient::PayBill { name, .. } => format!("{name} (Pay Bill)"),
            Recipient::SentTo {
                name,
                phone: Some(phone),
            } => format!("{name} {phone}"),
            Recipient::SentTo { name, phone: None } => format!("{name} (Send Money)"),
        }
    }

    /// The recipient's name as the message prints it.
    pub fn name(&self) -> &str {
        match self {
            Recipient::PaidTo(name)
            | Recipient::PayBill { name, .. }
            | Recipient::SentTo { name, .. } => name,
        }
    }
}

/// What a pasted M-Pesa confirmation SMS says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmationSms {
    /// The transaction code.
    pub code: Receipt,
    /// The amount paid, in shillings.
    pub amount: Decimal,
    /// Who was paid.
    pub recipient: Recipient,
    /// When, in the phone's local time (East Africa Time), when the message shows it.
    pub at: Option<PrimitiveDateTime>,
}

/// How the shop is paid by hand: the kind of M-Pesa account, its number and the name M-Pesa
/// shows customers (it appears in their confirmation SMS).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MpesaAccount {
    /// Till, paybill or a phone (Send Money, Pochi la Biashara).
    pub kind: MpesaAccountKind,
    /// The till or paybill number, or the phone.
    pub number: String,
    /// The name M-Pesa prints as the recipient ("DUKA LA MAMA WANJIKU").
    pub name: String,
}

/// The kinds of M-Pesa account a shop can be paid on by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MpesaAccountKind {
    /// Buy Goods and Services (a till number).
    Till,
    /// Pay Bill: the customer types the order number as the account.
    Paybill,
    /// Send Money to a phone, or a Pochi la Biashara wallet.
    Phone,
}

impl MpesaAccount {
    /// How customers know the account: `till 123456, Duka la Mama`.
    pub fn describe(&self) -> String {
        let kind = match self.kind {
            MpesaAccountKind::Till => "till",
            MpesaAccountKind::Paybill => "paybill",
            MpesaAccountKind::Phone => "M-Pesa number",
        };
        format!("{kind} {}, {}", self.number, self.name)
    }

    /// Checks an account as submitted: kind `till`, `paybill` or `phone`; a number of 5 to 7
    /// digits (till, paybill) or 9 to 12 (a phone, which may start with `+`), spaces allowed;
    /// the name M-Pesa prints, one line of at most 100 characters.
    pub fn parse(kind: &str, number: &str, name: &str) -> Result<Self> {
        let kind = match kind {
            "till" => MpesaAccountKind::Till,
            "paybill" => MpesaAccountKind::Paybill,
            "phone" => MpesaAccountKind::Phone,
            _ => return Err(Error::invalid("kind", "must be till, paybill or phone")),
        };
        let trimmed = number.trim_matches(' ');
        let digits: String = trimmed
            .strip_prefix('+')
            .unwrap_or(trimmed)
            .chars()
            .filter(|c| *c != ' ')
            .collect();
        let limit = if kind == MpesaAccountKind::Phone {
            9..=12
        } else {
            5..=7
        };
        if !digits.chars().all(|c| c.is_ascii_digit()) || !limit.contains(&digits.len()) {
            return Err(Error::invalid(
                "number",
                match kind {
                    MpesaAccountKind::Phone => "must be a phone number such as 0722 000 111",
                    _ => "must be the 5 to 7 digits of the till or paybill number",
                },
            ));
        }
        let name = bounded_text(name, 100, false).map_err(|e| e.at("name"))?;
        Ok(MpesaAccount {
            kind,
            number: digits,
            name: squeeze(&name),
        })
    }

    /// Whether `recipient` is this account: a message of the account's kind (Buy Goods for a
    /// till, Pay Bill for a paybill, Send Money for a phone) naming it. A message that shows a
    /// phone is decided by the number; one without (a Pochi la Biashara wallet, a till, a
    /// paybill) by the name, case, spaces and punctuation aside.
    pub fn is(&self, recipient: &Recipient) -> bool {
        match (self.kind, recipient) {
            (
                MpesaAccountKind::Phone,
                Recipient::SentTo {
                    phone: Some(phone), ..
                },
            ) => same_phone(phone, &self.number),
            (MpesaAccountKind::Phone, Recipient::SentTo { phone: None, name })
            | (MpesaAccountKind::Till, Recipient::PaidTo(name))
            | (MpesaAccountKind::Paybill, Recipient::PayBill { name, .. }) => {
                same_name(name, &self.name)
            }
            _ => false,
        }
    }
}

impl ConfirmationSms {
    /// Reads a pasted confirmation message: the first "CODE Confirmed. KshAMOUNT paid to /
    /// sent to …" in it (words before it, such as "payment confirmed", are skipped).
    pub fn parse(text: &str) -> std::result::Result<Self, InvalidValue> {
        let text = squeeze(text);
        let upper = text.to_ascii_uppercase();
        let mut from = 0;
        while let Some(i) = upper[from..].find(" CONFIRMED") {
            if let Some(sms) = Self::parse_at(&text, &upper, from + i) {
                return Ok(sms);
            }
            from += i + 1;
        }
        Err(InvalidValue::new(
            "this is not an M-Pesa confirmation message: paste the whole SMS from M-Pesa, or \
             type its confirmation code",
        ))
    }

    /// The message whose " CONFIRMED" is at `confirmed`, if it is one.
    fn parse_at(text: &str, upper: &str, confirmed: usize) -> Option<Self> {
        let code = text[..confirmed]
            .split(' ')
            .next_back()
            .map(|t| t.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
            .filter(|t| looks_like_code(t))?;
        let code = Receipt::parse(code).ok()?;

        // The amount: "Ksh1,510.00" (or "Ksh 1,510.00", "KES1,510.00") after "Confirmed".
        let after = confirmed + " CONFIRMED".len();
        let rest = upper[after..].trim_start_matches(['.', ' ']);
        let rest_at = upper.len() - rest.len();
        let currency = ["KSH", "KES"].iter().find(|c| rest.starts_with(**c))?;
        let number_at = rest_at + currency.len();
        let digits = upper[number_at..].trim_start();
        let digits_at = upper.len() - digits.len();
        let end = digits
            .find(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.'))
            .unwrap_or(digits.len());
        let amount_text = digits[..end].trim_end_matches('.').replace(',', "");
        let amount = Decimal::from_str(&amount_text).ok()?;
        let mut at = digits_at + end;

        // The recipient: "paid to" (Buy Goods) or "sent to".
        let paid = upper[at..].trim_start();
        let (paid_to, skip) = if paid.starts_with("PAID TO ") {
            (true, "PAID TO ".len())
        } else if paid.starts_with("SENT TO ") {
            (false, "SENT TO ".len())
        } else {
            return None;
        };
        at = upper.len() - paid.len() + skip;
        let date_at = date_position(upper, at);
        let recipient_end = date_at.map(|(end, _)| end).unwrap_or_else(|| {
            upper[at..]
                .find(" NEW M-PESA")
                .map_or(upper.len(), |i| at + i)
        });
        let recipient_text = &text[at..recipient_end];
        let recipient_upper = &upper[at..recipient_end];
        let recipient = match recipient_upper.find(" FOR ACCOUNT ") {
            Some(i) if !paid_to => Recipient::PayBill {
                name: clean(&recipient_text[..i]),
                account: clean(&recipient_text[i + " FOR ACCOUNT ".len()..]),
            },
            _ if paid_to => Recipient::PaidTo(clean(recipient_text)),
            _ => {
                let (name, phone) = split_phone(&clean(recipient_text));
                Recipient::SentTo { name, phone }
            }
        };
        if recipient.name().is_empty() {
            return None;
        }
        let at = date_at.and_then(|(_, date)| read_date(&upper[date..]));
        Some(ConfirmationSms {
            code,
            amount,
            recipient,
            at,
        })
    }

    /// Whether the message is dated more than a day before `placed` (the order's time, in
    /// the message's zone): an old SMS of another purchase, not a payment for this order. A
    /// message without a date is not refused for it.
    pub fn predates(&self, placed: PrimitiveDateTime) -> bool {
        self.at
            .is_some_and(|at| at < placed - time::Duration::days(1))
    }

    /// Checks the message against the shop's account (when it has one set) and what the order
    /// needs: the recipient, the amount and, on a paybill, the account typed. Each mismatch is
    /// a `Conflict` whose reason says which.
    pub fn check(
        &self,
        account: Option<&MpesaAccount>,
        due: Money,
        order: &OrderNumber,
    ) -> Result<()> {
        if let Some(account) = account {
            if !account.is(&self.recipient) {
                return Err(Error::conflict(
                    ConflictReason::PaymentToOtherRecipient,
                    format!(
                        "this M-Pesa message shows a payment to {}, not to the shop's {}",
                        self.recipient.describe(),
                        account.describe()
                    ),
                ));
            }
        }
        if self.amount != due.amount() {
            return Err(Error::conflict(
                ConflictReason::PaymentAmountMismatch,
                format!(
                    "this M-Pesa message shows Ksh {}, but the order needs {due}",
                    self.amount
                ),
            ));
        }
        if let Recipient::PayBill { account: typed, .. } = &self.recipient {
            let typed = alnum(typed);
            if typed != alnum(order.as_str()) && typed != alnum(order.code()) {
                return Err(Error::conflict(
                    ConflictReason::PaymentAccountMismatch,
                    format!(
                        "this M-Pesa message was paid for account {typed}, not for order {order}"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// What a customer typed or pasted: a bare confirmation code, or the whole SMS.
pub fn read_code_or_sms(text: &str) -> std::result::Result<CodeOrSms, InvalidValue> {
    let trimmed = text.trim();
    if !trimmed.contains(char::is_whitespace) {
        return Receipt::parse(trimmed).map(CodeOrSms::Code);
    }
    ConfirmationSms::parse(trimmed).map(|sms| CodeOrSms::Sms(Box::new(sms)))
}

/// A bare code or a whole message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeOrSms {
    /// The customer typed the code only.
    Code(Receipt),
    /// The customer pasted the SMS.
    Sms(Box<ConfirmationSms>),
}

/// A transaction code: 8 to 12 letters and digits with at least one of each.
fn looks_like_code(token: &str) -> bool {
    (8..=12).contains(&token.len())
        && token.chars().all(|c| c.is_ascii_alphanumeric())
        && token.chars().any(|c| c.is_ascii_digit())
        && token.chars().any(|c| c.is_ascii_alphabetic())
}

/// Where the recipient ends and the date begins, for the first "ON d/m/y" after `from`
/// preceded by a space or a full stop ("WANJIKU. ON", "WANJIKU.ON", "WANJIKU ON").
fn date_position(upper: &str, from: usize) -> Option<(usize, usize)> {
    let mut search = from;
    while let Some(i) = upper[search..].find("ON ") {
        let at = search + i;
        search = at + 1;
        let before = upper[..at].chars().next_back();
        if at <= from || !matches!(before, Some(' ' | '.')) {
            continue;
        }
        let date_at = at + "ON ".len();
        let date = upper[date_at..].split(' ').next().unwrap_or("");
        if date.split('/').count() == 3 && date.starts_with(|c: char| c.is_ascii_digit()) {
            let end = if before == Some(' ') { at - 1 } else { at };
            return Some((end, date_at));
        }
    }
    None
}

/// "29/11/25 AT 7:25 PM" or "29/11/2025 AT 19:25".
fn read_date(text: &str) -> Option<PrimitiveDateTime> {
    let mut words = text.split(' ');
    let date = words.next()?;
    let mut parts = date.split('/').map(|p| p.trim_end_matches('.'));
    let day: u8 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let year_text = parts.next()?;
    let year: i32 = year_text.parse().ok()?;
    let year = if year_text.len() == 2 {
        2000 + year
    } else {
        year
    };
    let date = Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()?;
    if words.next() != Some("AT") {
        return Some(date.midnight());
    }
    let clock = words.next()?.trim_end_matches('.');
    // "7:25PM" or "7:25 PM."
    // "PM", "PM." or "PMNEW" (no space before "New"): the first two letters.
    let letters = |w: &str| -> String {
        w.chars()
            .take_while(char::is_ascii_alphabetic)
            .take(2)
            .collect()
    };
    let (clock, meridiem) = match clock.find(['A', 'P']) {
        Some(i) => (&clock[..i], letters(&clock[i..])),
        None => (clock, words.next().map(letters).unwrap_or_default()),
    };
    let (hour, minute) = clock.split_once(':')?;
    let mut hour: u8 = hour.parse().ok()?;
    let minute: u8 = minute.get(..2).unwrap_or(minute).parse().ok()?;
    match meridiem.as_str() {
        "PM" if hour < 12 => hour += 12,
        "AM" if hour == 12 => hour = 0,
        _ => {}
    }
    Some(PrimitiveDateTime::new(
        date,
        Time::from_hms(hour, minute, 0).ok()?,
    ))
}

/// Splits a trailing phone ("AMINA OTIENO 0722 000 111") off a recipient.
fn split_phone(recipient: &str) -> (String, Option<String>) {
    let words: Vec<&str> = recipient.split(' ').collect();
    let name_words = words
        .iter()
        .rposition(|w| {
            !w.trim_start_matches('+')
                .chars()
                .all(|c| c.is_ascii_digit())
        })
        .map_or(0, |i| i + 1);
    let phone: String = words[name_words..]
        .concat()
        .trim_start_matches('+')
        .to_owned();
    let name = words[..name_words].join(" ");
    if (9..=12).contains(&phone.len()) {
        (name, Some(phone))
    } else {
        (recipient.to_owned(), None)
    }
}

/// Whether two phones are the same number (local `07…`, `2547…` or `7…`).
fn same_phone(a: &str, b: &str) -> bool {
    let tail = |p: &str| {
        let digits: String = p.chars().filter(char::is_ascii_digit).collect();
        digits[digits.len().saturating_sub(9)..].to_owned()
    };
    let (a, b) = (tail(a), tail(b));
    a.len() == 9 && a == b
}

/// Whether two names are the same, case, spaces and punctuation aside.
fn same_name(a: &str, b: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_uppercase)
            .collect()
    };
    let a = words(a);
    !a.is_empty() && a == words(b)
}

/// Letters and digits only, upper case.
fn alnum(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Runs of whitespace as one space, trimmed.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A part of the message without the full stops and spaces around it.
fn clean(text: &str) -> String {
    text.trim_matches(|c: char| c == '.' || c == ' ' || c == ',')
        .to_owned()
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;
    use time::macros::datetime;

    use super::*;
    use crate::money::Currency;

    const TILL: &str = "TKT4FVBL1Z Confirmed. Ksh1,510.00 paid to DUKA LA MAMA WANJIKU. on 29/11/25 at 7:25 PM.New M-PESA balance is Ksh3,240.50. Transaction cost, Ksh0.00. Amount you can transact within the day is 498,490.00.";
    const PAYBILL: &str = "TKS9FVBG9G Confirmed. Ksh2,400.00 sent to POCHI SHOP for account POCHI-7K3M9QXA2B on 28/11/25 at 3:06 PM New M-PESA balance is Ksh840.00. Transaction cost, Ksh0.00.Amount you can transact within the day is 497,600.00.";
    const PERSON: &str = "TKR2HD7QXA Confirmed. Ksh950.00 sent to AMINA OTIENO 0722 000 111 on 27/11/25 at 11:52 AM. New M-PESA balance is Ksh5,050.00. Transaction cost, Ksh13.00.";
    const POCHI: &str = "TKR7PLB3NC Confirmed. Ksh1,200.00 sent to AMINA ENTERPRISES on 27/11/25 at 12:04 PM. New M-PESA balance is Ksh3,850.00. Transaction cost, Ksh0.00.";

    fn kes(amount: Decimal) -> Money {
        Money::new(amount, Currency::Kes).unwrap()
    }

    fn order() -> OrderNumber {
        OrderNumber::parse("POCHI-7K3M9QXA2B").unwrap()
    }

    #[test]
    fn reads_the_four_shapes() {
        let till = ConfirmationSms::parse(TILL).unwrap();
        assert_eq!(till.code.as_str(), "TKT4FVBL1Z");
        assert_eq!(till.amount, dec!(1510.00));
        assert_eq!(
            till.recipient,
            Recipient::PaidTo("DUKA LA MAMA WANJIKU".into())
        );
        assert_eq!(till.at, Some(datetime!(2025-11-29 19:25)));

        let paybill = ConfirmationSms::parse(PAYBILL).unwrap();
        assert_eq!(paybill.amount, dec!(2400));
        assert_eq!(
            paybill.recipient,
            Recipient::PayBill {
                name: "POCHI SHOP".into(),
                account: "POCHI-7K3M9QXA2B".into()
            }
        );
        assert_eq!(paybill.at, Some(datetime!(2025-11-28 15:06)));

        let person = ConfirmationSms::parse(PERSON).unwrap();
        assert_eq!(
            person.recipient,
            Recipient::SentTo {
                name: "AMINA OTIENO".into(),
                phone: Some("0722000111".into())
            }
        );
        assert_eq!(person.at, Some(datetime!(2025-11-27 11:52)));

        let pochi = ConfirmationSms::parse(POCHI).unwrap();
        assert_eq!(
            pochi.recipient,
            Recipient::SentTo {
                name: "AMINA ENTERPRISES".into(),
                phone: None
            }
        );
        assert_eq!(pochi.at, Some(datetime!(2025-11-27 12:04)));
    }

    #[test]
    fn tolerates_line_breaks_missing_stops_long_years_and_adverts() {
        let text = "Hi, here it is:\n\nTKT4FVBL1Z Confirmed.\nKsh 1,510.00 paid to\nDuka la Mama Wanjiku on 29/11/2025 at 7:25PM\nNew M-PESA balance is Ksh3,240.50. PIN YAKO SIRI YAKO";
        let sms = ConfirmationSms::parse(text).unwrap();
        assert_eq!(sms.code.as_str(), "TKT4FVBL1Z");
        assert_eq!(sms.amount, dec!(1510));
        assert_eq!(sms.recipient.name(), "Duka la Mama Wanjiku");
        assert_eq!(sms.at, Some(datetime!(2025-11-29 19:25)));
        // An older nine-character code, lower case, no date at all.
        let sms = ConfirmationSms::parse(
            "nlj7rt61s confirmed. Ksh500.00 paid to DUKA LA MAMA WANJIKU. New M-PESA balance is Ksh10.00.",
        )
        .unwrap();
        assert_eq!(sms.code.as_str(), "NLJ7RT61S");
        assert_eq!(sms.recipient.name(), "DUKA LA MAMA WANJIKU");
        assert_eq!(sms.at, None);
        // Words before the message that say "confirmed" too; no space before "on" and "New".
        let sms = ConfirmationSms::parse(
            "Hi, payment confirmed. TKT4FVBL1Z Confirmed. Ksh1,510.00 paid to DUKA LA MAMA \
             WANJIKU.on 29/11/25 at 7:25 PMNew M-PESA balance is Ksh3,240.50.",
        )
        .unwrap();
        assert_eq!(sms.code.as_str(), "TKT4FVBL1Z");
        assert_eq!(sms.recipient.name(), "DUKA LA MAMA WANJIKU");
        assert_eq!(sms.at, Some(datetime!(2025-11-29 19:25)));
        // Midnight and noon.
        let sms = ConfirmationSms::parse(
            "TKT4FVBL1Z Confirmed. Ksh5.00 paid to X on 1/2/26 at 12:05 AM.",
        )
        .unwrap();
        assert_eq!(sms.at, Some(datetime!(2026-02-01 00:05)));
    }

    #[test]
    fn refuses_what_is_not_a_confirmation() {
        for text in [
            "",
            "hello there",
            "I paid already, code TKT4FVBL1Z",
            "TKT4FVBL1Z Failed. Insufficient funds.",
            "TKT4FVBL1Z Confirmed. You have received Ksh100.00 from JOHN",
            "TKT4FVBL1Z Confirmed. Ksh paid to X",
            "Confirmed. Ksh100.00 paid to X on 1/2/26",
            "TKT4FVBL1Z Confirmed. Ksh100.00 paid to . on 1/2/26",
        ] {
            let err = ConfirmationSms::parse(text).unwrap_err();
            assert!(
                err.message().contains("not an M-Pesa confirmation"),
                "{text:?}: {err}"
            );
        }
    }

    #[test]
    fn checks_recipient_amount_and_account() {
        let till = MpesaAccount::parse("till", "123 456", "Duka la Mama Wanjiku").unwrap();
        let sms = ConfirmationSms::parse(TILL).unwrap();
        sms.check(Some(&till), kes(dec!(1510)), &order()).unwrap();
        sms.check(None, kes(dec!(1510)), &order()).unwrap();

        let other = MpesaAccount::parse("till", "123456", "DUKA LA BABA").unwrap();
        let err = sms
            .check(Some(&other), kes(dec!(1510)), &order())
            .unwrap_err();
        assert_eq!(
            err.conflict_reason(),
            Some(ConflictReason::PaymentToOtherRecipient)
        );
        assert!(
            err.to_string().contains(
                "DUKA LA MAMA WANJIKU (Buy Goods), not to the shop's till 123456, DUKA LA BABA"
            ),
            "{err}"
        );

        let err = sms
            .check(Some(&till), kes(dec!(1500)), &order())
            .unwrap_err();
        assert_eq!(
            err.conflict_reason(),
            Some(ConflictReason::PaymentAmountMismatch)
        );
        assert!(err.to_string().contains("1510.00"), "{err}");

        let paybill = MpesaAccount::parse("paybill", "400200", "POCHI SHOP").unwrap();
        let sms = ConfirmationSms::parse(PAYBILL).unwrap();
        sms.check(Some(&paybill), kes(dec!(2400)), &order())
            .unwrap();
        let another = OrderNumber::parse("POCHI-2222222222").unwrap();
        let err = sms
            .check(Some(&paybill), kes(dec!(2400)), &another)
            .unwrap_err();
        assert_eq!(
            err.conflict_reason(),
            Some(ConflictReason::PaymentAccountMismatch)
        );
        // A paybill is paid by Pay Bill: the same name by Send Money or Buy Goods is not it,
        // and a message without "for account" cannot skip the account check.
        for other in [
            PAYBILL.replace(" for account POCHI-7K3M9QXA2B", ""),
            PAYBILL.replace(
                "sent to POCHI SHOP for account POCHI-7K3M9QXA2B",
                "paid to POCHI SHOP",
            ),
        ] {
            let err = ConfirmationSms::parse(&other)
                .unwrap()
                .check(Some(&paybill), kes(dec!(2400)), &order())
                .unwrap_err();
            assert_eq!(
                err.conflict_reason(),
                Some(ConflictReason::PaymentToOtherRecipient),
                "{other}"
            );
        }
        // The account typed as the code alone is the same order.
        let typed_code = PAYBILL.replace("POCHI-7K3M9QXA2B", "7k3m9qxa2b");
        ConfirmationSms::parse(&typed_code)
            .unwrap()
            .check(Some(&paybill), kes(dec!(2400)), &order())
            .unwrap();
    }

    #[test]
    fn a_message_from_before_the_order_is_old() {
        let sms = ConfirmationSms::parse(TILL).unwrap();
        assert!(!sms.predates(datetime!(2025-11-29 19:20)));
        assert!(!sms.predates(datetime!(2025-11-30 19:25)));
        assert!(sms.predates(datetime!(2025-11-30 19:26)));
        let undated = ConfirmationSms { at: None, ..sms };
        assert!(!undated.predates(datetime!(2026-11-30 19:26)));
    }

    #[test]
    fn a_phone_account_matches_by_name_or_number() {
        let sms = ConfirmationSms::parse(PERSON).unwrap();
        let by_number = MpesaAccount::parse("phone", "+254 722 000 111", "Amina O.").unwrap();
        assert!(by_number.is(&sms.recipient));
        // A message that shows a phone is decided by the number: the same name on another
        // number is another person.
        let namesake = MpesaAccount::parse("phone", "0799 999 999", "Amina Otieno").unwrap();
        assert!(!namesake.is(&sms.recipient));
        // A Pochi la Biashara wallet shows no number: its name decides.
        let wallet = ConfirmationSms::parse(POCHI).unwrap();
        let pochi = MpesaAccount::parse("phone", "0799 999 999", "Amina Enterprises").unwrap();
        assert!(pochi.is(&wallet.recipient));
        assert!(!namesake.is(&wallet.recipient));
        // A till never matches by a phone number.
        let till = MpesaAccount {
            kind: MpesaAccountKind::Till,
            number: "722000111".into(),
            name: "X".into(),
        };
        assert!(!till.is(&sms.recipient));
    }

    #[test]
    fn accounts_are_checked() {
        assert_eq!(
            MpesaAccount::parse("bank", "123456", "X")
                .unwrap_err()
                .field(),
            Some("kind")
        );
        assert_eq!(
            MpesaAccount::parse("till", "12a456", "X")
                .unwrap_err()
                .field(),
            Some("number")
        );
        assert_eq!(
            MpesaAccount::parse("phone", "12345", "X")
                .unwrap_err()
                .field(),
            Some("number")
        );
        assert_eq!(
            MpesaAccount::parse("till", "123456", "  ")
                .unwrap_err()
                .field(),
            Some("name")
        );
        assert_eq!(
            MpesaAccount::parse("till", "\t123456", "X")
                .unwrap_err()
                .field(),
            Some("number")
        );
        assert_eq!(
            MpesaAccount::parse("Till", "123456", "X")
                .unwrap_err()
                .field(),
            Some("kind")
        );
    }

    #[test]
    fn a_bare_code_or_a_message() {
        assert_eq!(
            read_code_or_sms(" tkt4fvbl1z ").unwrap(),
            CodeOrSms::Code(Receipt::parse("TKT4FVBL1Z").unwrap())
        );
        assert!(matches!(read_code_or_sms(TILL).unwrap(), CodeOrSms::Sms(_)));
        assert!(read_code_or_sms("not a code").is_err());
    }
}
