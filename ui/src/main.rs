//! The browser storefront: a product list with search, categories and paging,
//! a cart that survives a reload, a checkout that cannot order twice, and the
//! customer's order history with cancellation. Rust compiled to WebAssembly
//! with Leptos; no JavaScript beyond wasm-bindgen's glue.

mod api;
mod app;
mod cart;
mod components;
mod reasons;
mod store;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
