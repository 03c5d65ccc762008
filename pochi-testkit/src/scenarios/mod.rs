//! The store scenarios, one `pub async fn name(store: Arc<dyn Store>)` each.
//!
//! Each gets a fresh, empty store. They are grouped by subject; the macro
//! [`store_conformance_tests!`](crate::store_conformance_tests) lists them all.

mod catalogue;
mod exactness;
mod lifecycle;
mod limits;
mod notifications;
mod on_delivery;
mod orders;
mod payments;
mod refunds;
mod reports;
mod stock;
mod tracking;

pub use self::{
    catalogue::*, exactness::*, lifecycle::*, limits::*, notifications::*, on_delivery::*,
    orders::*, payments::*, refunds::*, reports::*, stock::*, tracking::*,
};
