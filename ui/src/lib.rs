//! The browser storefront, compiled to WebAssembly. Not built yet: it arrives
//! with its own issue.
