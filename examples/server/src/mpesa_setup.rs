//! `pochi-server mpesa register-c2b`: tells Daraja where to send the shop's C2B validation and
//! confirmation requests (customers paying the paybill or till directly, outside the checkout).
//! Safaricom needs it once per shortcode, and again whenever the shop's public URL or callback
//! token changes.

use pochi_pay_mpesa::{CallbackChannel, MpesaProvider};

use crate::{StartError, datadir, settings::Settings};

/// What Daraja answered, and where it will call (with the secret token hidden).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct C2bRegistered {
    /// Daraja's reference for the request, to quote to Safaricom support.
    pub conversation_id: String,
    /// What Daraja said.
    pub message: String,
    /// The validation URL registered, its token replaced by `…`.
    pub validation_url: String,
    /// The confirmation URL registered, its token replaced by `…`.
    pub confirmation_url: String,
}

/// Registers the shop's C2B URLs with Daraja, with the callback token the server itself uses
/// (`POCHI_MPESA_CALLBACK_TOKEN`, else the one in the data directory). Refused unless the shop
/// takes C2B payments through Daraja (`POCHI_MPESA_MODE` sandbox or production and
/// `POCHI_MPESA_C2B=on`): registering URLs that answer 404 would make Daraja refuse every
/// direct payment.
pub async fn register_c2b(settings: &Settings) -> Result<C2bRegistered, StartError> {
    let Some(builder) = &settings.mpesa else {
        return Err(StartError::Config(crate::ConfigError::new(
            "POCHI_MPESA_MODE",
            "C2B URLs are registered with Daraja: set POCHI_MPESA_MODE=sandbox or production \
             with the shop's Daraja keys",
        )));
    };
    if !settings.c2b {
        return Err(StartError::Config(crate::ConfigError::new(
            "POCHI_MPESA_C2B",
            "is off: set POCHI_MPESA_C2B=on so the shop answers the URLs it registers",
        )));
    }
    let token = match &settings.callback_token {
        Some(token) => token.clone(),
        None => datadir::callback_token(&settings.data_dir)?,
    };
    let config = builder
        .clone()
        .with_callback_token(&token)
        .with_c2b(true)
        .build()
        .map_err(|e| StartError::Mpesa(e.to_string()))?;
    let hide = |url: String| url.replace(token.expose(), "…");
    let validation_url = hide(config.callback_url(CallbackChannel::C2bValidation));
    let confirmation_url = hide(config.callback_url(CallbackChannel::C2bConfirmation));
    let provider = MpesaProvider::new(config).map_err(|e| StartError::Mpesa(e.to_string()))?;
    let answer = provider
        .register_c2b_urls()
        .await
        .map_err(|e| StartError::Mpesa(format!("Daraja refused the registration: {e}")))?;
    Ok(C2bRegistered {
        conversation_id: answer.conversation_id,
        message: answer.message,
        validation_url,
        confirmation_url,
    })
}
