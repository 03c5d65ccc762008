//! The M-Pesa provider for the configured mode: the real Daraja (sandbox or production), or
//! the fake Daraja started in process and reached over loopback HTTP like the real one.

use pochi_core::CallbackToken;
use pochi_pay_mpesa::{MpesaProvider, fake::FakeDaraja};

use crate::{StartError, settings::Settings};

/// The provider, and the fake it talks to in simulated mode. `own_url` is where this server
/// listens: the fake's callbacks go there.
pub(crate) async fn provider(
    settings: &Settings,
    own_url: &str,
    token: &CallbackToken,
) -> Result<(MpesaProvider, Option<FakeDaraja>), StartError> {
    let (config, fake) = match &settings.mpesa {
        Some(builder) => (
            builder
                .clone()
                .with_callback_token(token)
                .with_c2b(settings.c2b)
                .build(),
            None,
        ),
        None => {
            let fake = FakeDaraja::start().await.map_err(|source| StartError::Io {
                context: "starting the simulated M-Pesa",
                source,
            })?;
            let config = fake
                .config_builder()
                .with_callback_base_url(own_url)
                .with_callback_token(token)
                .with_c2b(settings.c2b)
                .build();
            (config, Some(fake))
        }
    };
    let config = config.map_err(|e| StartError::Mpesa(e.to_string()))?;
    let provider = MpesaProvider::new(config).map_err(|e| StartError::Mpesa(e.to_string()))?;
    Ok((provider, fake))
}
