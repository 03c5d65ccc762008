//! The admin's order export: the list's orders as a CSV file for the shop's accounts.
//!
//! RFC 4180 quoting is the `csv` crate's; on top of it every cell that a spreadsheet would read
//! as a formula (one starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a
//! leading `'`, so a customer named `=HYPERLINK(..)` stays text when the owner opens the file.

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use pochi_core::{Error, ExportedOrder, OrderListInput};
use serde::Deserialize;
use time::{UtcOffset, macros::format_description};
use utoipa::IntoParams;

use crate::{
    error::{ApiResult, ErrorBody},
    extract::Query,
    routes::orders::{status_filter_schema, time_filter_schema},
    state::AppState,
};

/// The list's filters, without paging: any other parameter is a 400.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportQuery {
    /// A status; empty for any.
    #[param(schema_with = status_filter_schema)]
    status: Option<String>,
    /// A Kenyan mobile number (`0712345678`, `254712345678`, `+254712345678`; the server also
    /// forgives spaces, dashes, dots and brackets); empty for any.
    #[param(pattern = "^((\\+?254|0)?[17][0-9]{8})?$")]
    phone: Option<String>,
    /// Placed on or after: a date (shop time) or an RFC 3339 time; empty for any.
    #[param(schema_with = time_filter_schema)]
    from: Option<String>,
    /// Placed on or before: a date (the whole day) or an RFC 3339 time (exclusive); empty for
    /// any.
    #[param(schema_with = time_filter_schema)]
    to: Option<String>,
    /// Part of an order number (`pochi-7k3m`, `7K3M`) or of a customer's name, in any case;
    /// at most 100 characters, no control characters; empty for any.
    #[param(max_length = 100, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    q: Option<String>,
}

/// Every order the filters pass, newest first, as CSV (UTF-8, RFC 4180): placed at (shop
/// time, `YYYY-MM-DD HH:MM`), number, status, customer, phone, county, area, lines
/// (`2 × Kikoi; 1 × Basket`), subtotal, delivery fee, total, the M-Pesa receipts of the
/// succeeded payments (`;`-separated), the money sent back (refunded), the money still owed
/// back (owed, being sent, or failed to send), and the M-Pesa references of the money sent
/// back (`;`-separated). At most 50,000 orders.
#[utoipa::path(
    get, path = "/api/admin/orders/export.csv", tag = "admin",
    params(ExportQuery),
    security(("basic" = [])),
    responses(
        (status = 200, description = "The orders as CSV, as an attachment named `orders-YYYY-MM-DD.csv`", content_type = "text/csv; charset=utf-8", body = String,
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"orders-YYYY-MM-DD.csv\"` (today in shop time)"))),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 422, description = "A filter is invalid (named in `field`), or more than 50,000 orders match (`field`: `from`: export a shorter period)", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn export_orders(
    State(state): State<AppState>,
    Query(query): Query<ExportQuery>,
) -> ApiResult<Response> {
    let input = OrderListInput {
        status: query.status,
        phone: query.phone,
        from: query.from,
        to: query.to,
        q: query.q,
        ..OrderListInput::default()
    };
    let orders = state.shop.export_orders(&input).await?;
    let config = state.shop.config();
    let body = orders_csv(&orders, config.utc_offset)?;
    let today = state.shop.now().to_offset(config.utc_offset).date();
    let disposition = format!("attachment; filename=\"orders-{today}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

/// The CSV file of `orders`, times in `offset`.
fn orders_csv(orders: &[ExportedOrder], offset: UtcOffset) -> Result<Vec<u8>, Error> {
    let backend = |e: csv::Error| Error::backend("order export", e);
    let zone = if offset == UtcOffset::from_hms(3, 0, 0).unwrap_or(UtcOffset::UTC) {
        "EAT".to_owned()
    } else {
        let (h, m, _) = offset.as_hms();
        format!("UTC{h:+03}:{:02}", m.unsigned_abs())
    };
    let placed_at = format_description!("[year]-[month]-[day] [hour]:[minute]");
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    out.write_record([
        format!("Placed at ({zone})"),
        "Order number".to_owned(),
        "Status".to_owned(),
        "Customer".to_owned(),
        "Phone".to_owned(),
        "County".to_owned(),
        "Area".to_owned(),
        "Lines".to_owned(),
        "Subtotal".to_owned(),
        "Delivery fee".to_owned(),
        "Total".to_owned(),
        "M-Pesa receipts".to_owned(),
        "Refunded".to_owned(),
        "Refund owed".to_owned(),
        "Refund references".to_owned(),
    ])
    .map_err(backend)?;
    for exported in orders {
        let ExportedOrder {
            order, receipts, ..
        } = exported;
        let placed = order
            .created_at
            .to_offset(offset)
            .format(placed_at)
            .map_err(|e| Error::backend("order export", e))?;
        let lines = order
            .lines
            .iter()
            .map(|line| format!("{} × {}", line.quantity, line.name))
            .collect::<Vec<_>>()
            .join("; ");
        let receipts = receipts
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(";");
        let cells = [
            placed,
            order.number.to_string(),
            order.status.as_str().to_owned(),
            order.customer.name.clone(),
            order.customer.phone.as_str().to_owned(),
            order.delivery.county.name().to_owned(),
            order.delivery.area.clone(),
            lines,
            order.subtotal.amount().to_string(),
            order.delivery_fee.amount().to_string(),
            order.total.amount().to_string(),
            receipts,
            exported.refunded()?.amount().to_string(),
            exported.owed_back()?.amount().to_string(),
            exported.refund_references().join(";"),
        ];
        out.write_record(cells.iter().map(|cell| neutralised(cell).into_owned()))
            .map_err(backend)?;
    }
    out.into_inner()
        .map_err(|e| Error::backend("order export", e.to_string()))
}

/// `cell`, with a leading `'` when a spreadsheet would take it for a formula.
fn neutralised(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_get_a_quote_mark() {
        for cell in ["=1+1", "+254", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralised(cell), format!("'{cell}"));
        }
        assert_eq!(neutralised("Wanjiru = boss"), "Wanjiru = boss");
        assert_eq!(neutralised(""), "");
    }
}
