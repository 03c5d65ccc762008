//! Building a shop: provider names and the one callback token.

use super::*;

fn with_token(token: Option<&str>) -> MockPaymentProvider {
    let mut provider = MockPaymentProvider::new();
    provider.expect_name().return_const("testpay".to_owned());
    let token = token.map(|t| CallbackToken::parse(t).unwrap());
    provider.expect_callback_token().return_const(token);
    provider
}

fn builder(provider: MockPaymentProvider) -> ShopBuilder {
    Shop::builder(Arc::new(MemoryStore::new())).provider(Arc::new(provider))
}

#[test]
fn a_shop_given_no_token_adopts_its_providers() {
    let shop = builder(with_token(Some(TOKEN))).build().unwrap();
    let token = shop.config().callback_token.as_ref().unwrap();
    assert!(token.matches(TOKEN));
}

#[test]
fn a_provider_with_another_token_than_the_shops_is_refused() {
    let shop_token = CallbackToken::parse("another-token-0123456789").unwrap();
    let err = builder(with_token(Some(TOKEN)))
        .config(ShopConfig::default().with_callback_token(shop_token))
        .build()
        .unwrap_err();
    assert_eq!(err.field(), Some("callback_token"));
    assert!(
        !err.to_string().contains(TOKEN),
        "the token stays secret: {err}"
    );
}

#[test]
fn the_same_token_on_both_sides_is_accepted() {
    let shop = builder(with_token(Some(TOKEN)))
        .config(ShopConfig::default().with_callback_token(CallbackToken::parse(TOKEN).unwrap()))
        .build()
        .unwrap();
    assert!(
        shop.config()
            .callback_token
            .as_ref()
            .unwrap()
            .matches(TOKEN)
    );
}

#[test]
fn a_shop_whose_providers_hand_out_no_callback_urls_needs_no_token() {
    let shop = builder(with_token(None)).build().unwrap();
    assert!(shop.config().callback_token.is_none());
}

#[test]
fn the_callback_path_is_the_route_the_http_layer_serves_with_the_token_in_it() {
    let token = CallbackToken::parse(TOKEN).unwrap();
    assert_eq!(
        crate::provider::callback_path("stk", &token),
        format!("/api/pay/callbacks/stk/{TOKEN}")
    );
}
