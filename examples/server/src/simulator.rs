//! The simulated customer's phone: in simulated M-Pesa mode the payment page chooses what the
//! customer does with a push (pay, cancel, ignore), and the fake Daraja sends the real callback
//! to the shop over HTTP.
//!
//! - `GET /api/simulator` answers `{"enabled": true}`;
//! - `POST /api/simulator/payments/{paymentId}` with `{"outcome": "paid" | "cancelled" |
//!   "noAnswer"}` resolves the payment's open push and answers `{"paymentId", "outcome"}` once
//!   the shop has taken the callback: 404 for an unknown payment, 409 when the payment has no
//!   open push, 422 for another outcome, 503 (`temporarily_unavailable`, `storage_full`) when
//!   the shop could not record the callback (it settles the payment when it reconciles).
//!
//! Outside simulated mode these routes are not mounted (404 like any unknown path). A payment
//! is resolved only for a request made on the shop's own machine (403 `simulator_local_only`
//! otherwise), unless `POCHI_DANGER_SIMULATED_PAYMENTS_IN_PUBLIC` is set.

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    routing::{get, post},
};
use pochi_core::{Entity, Error, PaymentId, Shop};
use pochi_http::{ApiError, Json, Path};
use pochi_pay_mpesa::fake::{FakeDaraja, FakeError, PushOutcome, PushState};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Clone)]
struct Simulator {
    shop: Shop,
    fake: FakeDaraja,
    /// `POCHI_DANGER_SIMULATED_PAYMENTS_IN_PUBLIC`: answer requests from other machines too.
    public: bool,
}

/// The simulator's routes. Unless `public`, a payment is resolved only for a request made on
/// this machine: one that names a loopback host and came through no proxy.
pub(crate) fn router(shop: Shop, fake: FakeDaraja, public: bool) -> Router {
    Router::new()
        .route("/api/simulator", get(enabled))
        .route("/api/simulator/payments/{paymentId}", post(resolve))
        .with_state(Simulator { shop, fake, public })
}

/// Whether a request was made on this machine: its `Host` is `localhost` or a loopback
/// address, and it carries none of the headers a reverse proxy adds. The server refuses to
/// start simulated where it is known to be reachable (see the settings); this catches a proxy
/// it was not told about.
fn made_locally(headers: &HeaderMap) -> bool {
    const PROXY_HEADERS: [&str; 4] = [
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-real-ip",
    ];
    if PROXY_HEADERS.iter().any(|name| headers.contains_key(*name)) {
        return false;
    }
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(crate::settings::values::is_loopback_authority)
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

/// The shop answered the simulated callback with a server error (its database away, its disk
/// full): the customer's answer is given, but the shop has not recorded it. Said with the
/// shop's own code (503 `temporarily_unavailable` or `storage_full`), never as a success; the
/// shop learns the outcome when it next reconciles the payment with (simulated) M-Pesa.
fn callback_not_taken(refused: &pochi_pay_mpesa::fake::CallbackResponse) -> ApiError {
    let full = refused
        .json()
        .is_some_and(|body| body["error"]["code"] == "storage_full");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        if full {
            "storage_full"
        } else {
            "temporarily_unavailable"
        },
        "the shop could not record the payment now; it will when it reconciles with M-Pesa",
    )
}

async fn resolve(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(input): Json<OutcomeInput>,
) -> Result<axum::Json<Resolved>, ApiError> {
    if !sim.public && !made_locally(&headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "simulator_local_only",
            "the M-Pesa simulator answers only on the shop's own machine",
        ));
    }
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
        .filter(|_| payment.provider == crate::payments::SIMULATED_PROVIDER)
    else {
        return Err(no_open_push());
    };
    match sim.fake.push(&reference).map(|p| p.state) {
        Some(PushState::Pending | PushState::Unanswered) => {}
        _ => return Err(no_open_push()),
    }
    match sim.fake.resolve(&reference, outcome).await {
        Ok(resolution) => {
            if let Some(refused) = resolution.responses.iter().find(|r| r.status >= 500) {
                return Err(callback_not_taken(refused));
            }
        }
        Err(FakeError::UnknownPush(_) | FakeError::AlreadyResolved(_)) => {
            return Err(no_open_push());
        }
        Err(err) => {
            // Not delivered: the shop is stopping (its listener closed) or did not answer in
            // time. As with a refused callback, the answer is given and the shop learns it when
            // it reconciles; the client hears the shop's own "not now", never a gateway error.
            tracing::warn!(error = %err, "the simulated callback was not delivered");
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the shop could not record the payment now; it will when it reconciles with M-Pesa",
            ));
        }
    }
    Ok(axum::Json(Resolved {
        payment_id: id.to_string(),
        outcome: input.outcome,
    }))
}
