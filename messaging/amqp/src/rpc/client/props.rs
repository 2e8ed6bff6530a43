//! The reply decoder on hostile bodies: refused with an error, never a
//! panic, whatever the bytes.

use std::fmt::Debug;

use proptest::{prop_assert_eq, test_runner::TestCaseError};
use serde_json::json;

use super::*;
use crate::rpc::reply::REPLY_KIND;
use contract::{Money, RefusalReason, ReleaseCreditReply, VerifyOrCreateReply};
use testkit::hostile::{DecoderUnderTest, check_decoder};

const REPLY: [&str; 8] = [
    "/message_id",
    "/type",
    "/schema_version",
    "/correlation_id",
    "/timestamp",
    "/payload",
    "/payload/status",
    "/payload/result",
];

fn reply(result: serde_json::Value) -> serde_json::Value {
    let envelope = Envelope::new(
        REPLY_KIND,
        RpcReply::Ok { result },
        MessageMeta {
            correlation_id: Some("saga".into()),
            causation_id: Some("request".into()),
            request_id: Some("request".into()),
        },
    );
    serde_json::to_value(envelope).unwrap()
}

fn decode<Resp: DeserializeOwned>(data: &[u8]) -> Result<Resp, String> {
    decode_reply(data).map_err(|e| e.to_string())
}

/// An accepted answer encodes back to itself.
fn round_trips<Resp: Serialize + DeserializeOwned + PartialEq + Debug>(
    answer: &Resp,
) -> Result<(), TestCaseError> {
    let value = serde_json::to_value(answer).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let again: Resp =
        serde_json::from_value(value).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&again, answer);
    Ok(())
}

#[test]
fn hostile_verify_or_create_replies_are_refused_never_panic() {
    let reserved = reply(json!({"outcome": "reserved", "customer_id": Uuid::from_u128(3)}));
    let required = [
        &REPLY[..],
        &["/payload/result/outcome", "/payload/result/customer_id"],
    ]
    .concat();
    check_decoder(DecoderUnderTest {
        valid: reserved,
        required: &required,
        values: &[],
        decode: &decode::<VerifyOrCreateReply>,
        accepted: &round_trips::<VerifyOrCreateReply>,
    });
    let refused = reply(
        serde_json::to_value(VerifyOrCreateReply::Refused {
            customer_id: None,
            reason: RefusalReason::CreditLimitExceeded,
        })
        .unwrap(),
    );
    let required = [
        &REPLY[..],
        &["/payload/result/outcome", "/payload/result/reason"],
    ]
    .concat();
    check_decoder(DecoderUnderTest {
        valid: refused,
        required: &required,
        values: &[],
        decode: &decode::<VerifyOrCreateReply>,
        accepted: &round_trips::<VerifyOrCreateReply>,
    });
}

#[test]
fn hostile_release_credit_replies_are_refused_never_panic() {
    let released = ReleaseCreditReply {
        released: Money::parse("12.50").unwrap(),
    };
    let required = [&REPLY[..], &["/payload/result/released"]].concat();
    check_decoder(DecoderUnderTest {
        valid: reply(serde_json::to_value(released).unwrap()),
        required: &required,
        values: &["/payload/result/released"],
        decode: &decode::<ReleaseCreditReply>,
        accepted: &round_trips::<ReleaseCreditReply>,
    });
}
