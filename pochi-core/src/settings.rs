//! Store settings: the shop's name and contacts, delivery fees, payment instructions.

use serde::{Deserialize, Deserializer, Serialize};

use crate::{
    county::County,
    error::{Error, Result},
    money::{Currency, Money},
    mpesa_sms::MpesaAccount,
    notify::{TemplateOverride, parse_overrides},
    text::{bounded_text, optional_text},
};

/// The most delivery-fee rules (county or area) settings may hold.
pub const MAX_FEE_RULES: usize = 500;

/// The shop's settings, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreSettings {
    /// The shop's name.
    pub store_name: String,
    /// A phone number customers can call.
    pub contact_phone: Option<String>,
    /// An e-mail address customers can write to.
    pub contact_email: Option<String>,
    /// Delivery fees.
    pub delivery: DeliveryFees,
    /// What to tell customers about paying (the till or paybill number for manual payments).
    pub payment_instructions: Option<String>,
    /// Whether prices must be whole currency units (M-Pesa charges whole shillings).
    pub whole_units_only: bool,
    /// The owner's own texts for the shop's messages (the defaults for the others).
    #[serde(default)]
    pub notification_templates: Vec<TemplateOverride>,
    /// The M-Pesa account customers pay by hand (manual payments): shown on the payment page,
    /// and a pasted confirmation SMS must name it.
    #[serde(default)]
    pub mpesa_account: Option<MpesaAccount>,
}

impl StoreSettings {
    /// The settings a new shop starts with: no delivery fee, whole shillings only.
    pub fn defaults(currency: Currency) -> Self {
        StoreSettings {
            store_name: "Pochi Shop".to_owned(),
            contact_phone: None,
            contact_email: None,
            delivery: DeliveryFees {
                default_fee: Money::zero(currency),
                counties: Vec::new(),
                free_delivery_over: None,
            },
            payment_instructions: None,
            whole_units_only: true,
            notification_templates: Vec::new(),
            mpesa_account: None,
        }
    }
}

/// Delivery fees: the most specific rule wins (area in county, then county, then default), and
/// orders whose subtotal reaches `free_delivery_over` ship free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryFees {
    /// The fee where no rule matches.
    pub default_fee: Money,
    /// Per-county fees, with per-area fees inside them.
    pub counties: Vec<CountyFee>,
    /// Subtotal from which delivery is free.
    pub free_delivery_over: Option<Money>,
}

/// The fee for one county, with fees for particular areas in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountyFee {
    /// The county.
    pub county: County,
    /// Its fee.
    pub fee: Money,
    /// Areas in it with their own fee.
    #[serde(default)]
    pub areas: Vec<AreaFee>,
}

/// The fee for one delivery area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AreaFee {
    /// The area's name (matched ignoring case and surrounding spaces).
    pub area: String,
    /// Its fee.
    pub fee: Money,
}

impl DeliveryFees {
    /// The fee for delivering an order with `subtotal` to `area` in `county`.
    pub fn fee_for(&self, county: County, area: &str, subtotal: Money) -> Money {
        if let Some(threshold) = self.free_delivery_over {
            if subtotal.partial_cmp(&threshold).is_some_and(|o| o.is_ge()) {
                return Money::zero(subtotal.currency());
            }
        }
        let area = area.trim().to_lowercase();
        match self.counties.iter().find(|rule| rule.county == county) {
            Some(rule) => rule
                .areas
                .iter()
                .find(|a| a.area.trim().to_lowercase() == area)
                .map_or(rule.fee, |a| a.fee),
            None => self.default_fee,
        }
    }
}

/// Settings as an admin submits them, before validation: amounts are decimal strings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsInput {
    /// The shop's name.
    pub store_name: String,
    /// Contact phone.
    #[serde(default)]
    pub contact_phone: Option<String>,
    /// Contact e-mail.
    #[serde(default)]
    pub contact_email: Option<String>,
    /// Default delivery fee.
    pub default_delivery_fee: String,
    /// Per-county fees.
    #[serde(default)]
    pub county_fees: Vec<CountyFeeInput>,
    /// Subtotal from which delivery is free.
    #[serde(default)]
    pub free_delivery_over: Option<String>,
    /// Payment instructions for customers.
    #[serde(default)]
    pub payment_instructions: Option<String>,
    /// Whether prices must be whole units (default true).
    #[serde(default)]
    pub whole_units_only: Option<bool>,
    /// The owner's own texts for the shop's messages; absent keeps those saved, an empty list
    /// goes back to the defaults.
    #[serde(default)]
    pub notification_templates: Option<Vec<TemplateOverride>>,
    /// The M-Pesa account paid by hand; absent keeps the one saved, `null` removes it.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub mpesa_account: Option<Option<MpesaAccountInput>>,
}

/// The M-Pesa account paid by hand, as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MpesaAccountInput {
    /// `till`, `paybill` or `phone` (Send Money, Pochi la Biashara).
    pub kind: String,
    /// The till or paybill number, or the phone.
    pub number: String,
    /// The name M-Pesa shows as the recipient.
    pub name: String,
}

/// A field that was present (`Some(None)` when `null`), for fields where absent and `null`
/// mean different things.
fn present<'de, D, T>(deserializer: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A county fee as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CountyFeeInput {
    /// County name.
    pub county: String,
    /// Fee.
    pub fee: String,
    /// Area fees in the county.
    #[serde(default)]
    pub areas: Vec<AreaFeeInput>,
}

/// An area fee as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AreaFeeInput {
    /// Area name.
    pub area: String,
    /// Fee.
    pub fee: String,
}

fn fee(text: &str, currency: Currency, whole: bool, field: &str) -> Result<Money> {
    let fee = Money::parse(text, currency).map_err(|e| e.at(field))?;
    if whole && !fee.fits_precision(0) {
        return Err(Error::invalid(field, "must be a whole amount"));
    }
    if fee.amount() > rust_decimal::Decimal::from(crate::product::MAX_UNIT_PRICE) {
        return Err(Error::invalid(field, "is too large"));
    }
    Ok(fee)
}

impl SettingsInput {
    /// Validates a submission, naming the first bad field.
    pub fn parse(&self, currency: Currency) -> Result<StoreSettings> {
        let whole = self.whole_units_only.unwrap_or(true);
        let store_name =
            bounded_text(&self.store_name, 100, false).map_err(|e| e.at("storeName"))?;
        let contact_phone = optional_text(self.contact_phone.as_deref(), 40, false)
            .map_err(|e| e.at("contactPhone"))?;
        let contact_email = optional_text(self.contact_email.as_deref(), 200, false)
            .map_err(|e| e.at("contactEmail"))?;
        if let Some(email) = &contact_email {
            let looks_like_email = email.split_once('@').is_some_and(|(user, domain)| {
                !user.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace)
            });
            if !looks_like_email {
                return Err(Error::invalid("contactEmail", "must be an e-mail address"));
            }
        }
        let default_fee = fee(
            &self.default_delivery_fee,
            currency,
            whole,
            "defaultDeliveryFee",
        )?;
        let free_delivery_over = self
            .free_delivery_over
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .map(|t| fee(t, currency, whole, "freeDeliveryOver"))
            .transpose()?;
        let rules: usize = self.county_fees.iter().map(|c| 1 + c.areas.len()).sum();
        if rules > MAX_FEE_RULES {
            return Err(Error::invalid(
                "countyFees",
                format!("must hold at most {MAX_FEE_RULES} county and area fees"),
            ));
        }
        let mut counties: Vec<CountyFee> = Vec::with_capacity(self.county_fees.len());
        for (i, input) in self.county_fees.iter().enumerate() {
            let at = |field: &str| format!("countyFees[{i}].{field}");
            let county = County::parse(&input.county).map_err(|e| e.at(at("county")))?;
            if counties.iter().any(|c| c.county == county) {
                return Err(Error::invalid(
                    at("county"),
                    format!("{county} is listed twice"),
                ));
            }
            let fee_amount = fee(&input.fee, currency, whole, &at("fee"))?;
            let mut areas: Vec<AreaFee> = Vec::with_capacity(input.areas.len());
            for (j, area) in input.areas.iter().enumerate() {
                let area_at = |field: &str| format!("countyFees[{i}].areas[{j}].{field}");
                let name =
                    bounded_text(&area.area, 100, false).map_err(|e| e.at(area_at("area")))?;
                if areas
                    .iter()
                    .any(|a| a.area.to_lowercase() == name.to_lowercase())
                {
                    return Err(Error::invalid(
                        area_at("area"),
                        format!("{name} is listed twice"),
                    ));
                }
                areas.push(AreaFee {
                    area: name,
                    fee: fee(&area.fee, currency, whole, &area_at("fee"))?,
                });
            }
            counties.push(CountyFee {
                county,
                fee: fee_amount,
                areas,
            });
        }
        let payment_instructions = optional_text(self.payment_instructions.as_deref(), 1_000, true)
            .map_err(|e| e.at("paymentInstructions"))?;
        Ok(StoreSettings {
            store_name,
            contact_phone,
            contact_email,
            delivery: DeliveryFees {
                default_fee,
                counties,
                free_delivery_over,
            },
            payment_instructions,
            whole_units_only: whole,
            notification_templates: parse_overrides(
                self.notification_templates.as_deref().unwrap_or_default(),
            )?,
            mpesa_account: self
                .mpesa_account
                .as_ref()
                .and_then(Option::as_ref)
                .map(|a| {
                    MpesaAccount::parse(&a.kind, &a.number, &a.name)
                        .map_err(|e| e.within("mpesaAccount"))
                })
                .transpose()?,
        })
    }
}

/// What a checkout page needs to know: the public part of the settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicSettings {
    /// The shop's name.
    pub store_name: String,
    /// Currency of all prices.
    pub currency: Currency,
    /// Contact phone.
    pub contact_phone: Option<String>,
    /// Contact e-mail.
    pub contact_email: Option<String>,
    /// Delivery fees.
    pub delivery: DeliveryFees,
    /// The 47 counties, in official order.
    pub counties: Vec<&'static str>,
    /// Payment instructions.
    pub payment_instructions: Option<String>,
    /// The payment methods the shop offers (provider names).
    pub payment_methods: Vec<String>,
    /// The M-Pesa account customers pay by hand, when the shop set one.
    pub mpesa_account: Option<MpesaAccount>,
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn kes(amount: rust_decimal::Decimal) -> Money {
        Money::new(amount, Currency::Kes).unwrap()
    }

    fn input() -> SettingsInput {
        SettingsInput {
            store_name: "Duka la Mama".into(),
            default_delivery_fee: "300".into(),
            county_fees: vec![CountyFeeInput {
                county: "nairobi".into(),
                fee: "150".into(),
                areas: vec![AreaFeeInput {
                    area: "Westlands".into(),
                    fee: "100".into(),
                }],
            }],
            free_delivery_over: Some("5000".into()),
            ..SettingsInput::default()
        }
    }

    #[test]
    fn the_most_specific_fee_wins() {
        let settings = input().parse(Currency::Kes).unwrap();
        let fees = &settings.delivery;
        let nairobi = County::parse("Nairobi").unwrap();
        let kisumu = County::parse("Kisumu").unwrap();
        assert_eq!(
            fees.fee_for(nairobi, " westlands ", kes(dec!(100))),
            kes(dec!(100))
        );
        assert_eq!(
            fees.fee_for(nairobi, "Kilimani", kes(dec!(100))),
            kes(dec!(150))
        );
        assert_eq!(
            fees.fee_for(kisumu, "Milimani", kes(dec!(100))),
            kes(dec!(300))
        );
        assert_eq!(
            fees.fee_for(kisumu, "Milimani", kes(dec!(5000))),
            kes(dec!(0))
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let mut bad = input();
        bad.county_fees[0].areas[0].fee = "-5".into();
        assert_eq!(
            bad.parse(Currency::Kes).unwrap_err().field(),
            Some("countyFees[0].areas[0].fee")
        );
        let mut bad = input();
        bad.county_fees[0].county = "Atlantis".into();
        assert_eq!(
            bad.parse(Currency::Kes).unwrap_err().field(),
            Some("countyFees[0].county")
        );
        let mut bad = input();
        bad.default_delivery_fee = "10.50".into();
        assert_eq!(
            bad.parse(Currency::Kes).unwrap_err().field(),
            Some("defaultDeliveryFee")
        );
        let mut bad = input();
        bad.contact_email = Some("not an email".into());
        assert_eq!(
            bad.parse(Currency::Kes).unwrap_err().field(),
            Some("contactEmail")
        );
        let mut bad = input();
        bad.county_fees.push(bad.county_fees[0].clone());
        assert_eq!(
            bad.parse(Currency::Kes).unwrap_err().field(),
            Some("countyFees[1].county")
        );
    }
}
