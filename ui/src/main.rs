//! The browser storefront: a product list with search, categories and paging,
//! a cart that survives a reload, accounts to sign up and in to, a checkout
//! (as a guest or signed in) that cannot order twice, the shopper's orders
//! with cancellation, and each order's saga timeline in plain words. Rust
//! compiled to WebAssembly with Leptos; no JavaScript beyond wasm-bindgen's
//! glue.

mod api;
mod app;
mod cart;
mod components;
mod reasons;
mod session;
mod store;
mod timeline;
mod your_orders;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
