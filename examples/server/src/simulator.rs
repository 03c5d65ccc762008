//! The simulated customer's phone: in simulated M-Pesa mode the payment page chooses what the
//! customer does with a push (pay, cancel, ignore), and the fake Daraja sends the real callback
//! to the shop over HTTP.
//!
//! - `GET /api/simulator` answers `{"enabled": true}`;
//! - `POST /api/simulator/payments/{paymentId}` with `{"outcome": "paid" | "cancelled" |
//!   "noAnswer"}` resolves the payment's open push and answers `{"paymentId", "outcome"}` once
//!   the shop has taken the callback: 404 for an unknown payment, 409 when the payment has no
//!   open push, 422 for another outcome.
//!
//! Outside simulated mode these routes are not mounted (404 like any unknown path).

use axum::{
    Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use pochi_core::{Entity, Error, PaymentId, Shop};
use pochi_http::{ApiError, Json, Path};
use pochi_pay_mpesa::{
    MpesaProvider,
    fake::{FakeDaraja, FakeError, PushOutcome, PushState},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Clone)]
struct Simulator {
    shop: Shop,
    fake: FakeDaraja,
}

/// The simulator's routes.
pub(crate) fn router(shop: Shop, fake: FakeDaraja) -> Router {
    Router::new()
        .route("/api/simulator", get(enabled))
        .route("/api/simulator/payments/{paymentId}", post(resolve))
        .with_state(Simulator { shop, fake })
}

async fn enabled() -> axum::Json<Value> {
    axum::Json(json!({ "enabled": true }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomeInput {
    outcome: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Resolved {
    payment_id: String,
    outcome: String,
}

fn outcome(text: &str) -> Result<PushOutcome, Error> {
    match text {
        "paid" => Ok(PushOutcome::Paid),
        "cancelled" => Ok(PushOutcome::Cancelled),
        "noAnswer" => Ok(PushOutcome::NoAnswer),
        _ => Err(Error::invalid(
            "outcome",
            "must be paid, cancelled or noAnswer",
        )),
    }
}

fn no_open_push() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "conflict",
        "this payment has no prompt waiting on the phone",
    )
}

async fn resolve(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    Json(input): Json<OutcomeInput>,
) -> Result<axum::Json<Resolved>, ApiError> {
    let id = PaymentId::parse(&id).map_err(|e| e.at("paymentId"))?;
    let outcome = outcome(&input.outcome)?;
    let payment = sim
        .shop
        .store()
        .payment(id)
        .await?
        .ok_or_else(|| Error::not_found(Entity::Payment, id))?;
    let Some(reference) = payment
        .provider_reference
        .filter(|_| payment.provider == MpesaProvider::NAME)
    else {
        return Err(no_open_push());
    };
    match sim.fake.push(&reference).map(|p| p.state) {
        Some(PushState::Pending | PushState::Unanswered) => {}
        _ => return Err(no_open_push()),
    }
    match sim.fake.resolve(&reference, outcome).await {
        Ok(_) => {}
        Err(FakeError::UnknownPush(_) | FakeError::AlreadyResolved(_)) => {
            return Err(no_open_push());
        }
        Err(err) => {
            tracing::warn!(error = %err, "the simulated callback was not delivered");
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "payment_provider_error",
                "the simulated M-Pesa could not reach the shop",
            ));
        }
    }
    Ok(axum::Json(Resolved {
        payment_id: id.to_string(),
        outcome: input.outcome,
    }))
}
