//! Accounts, sign-in and the doors of customer-svc: who may read, change and
//! list customers, on the real service.

mod access;
mod accounts;
mod sign_in_limits;

const PASSWORD: &str = "correct horse battery staple";
