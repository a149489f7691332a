//! Strategy knobs: the jsonb a caller passes, checked strictly (unknown keys and wrong
//! types are errors) and echoed back with defaults filled in for telemetry.

use crate::error::{AutoassignError, Result};
use pgrx::Uuid;
use serde::Serialize;
use serde_json::{Map, Value};

pub use autoassign_planner::Weights;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Strategy {
    pub max_tables: u8,
    pub require_adjacency: bool,
    pub max_overage: i32,
    #[serde(serialize_with = "ser_uuid_opt")]
    pub zone_id: Option<Uuid>,
    #[serde(serialize_with = "ser_uuids")]
    pub avoid_tables: Vec<Uuid>,
    pub deadline_ms: Option<u32>,
    pub exhaustive: bool,
    pub lookahead: bool,
    pub weights: Weights,
    /// When no plan is free, move other confirmed (not seated, not pinned, not
    /// frozen) bookings to seat this one (issue 13).
    pub reassign: bool,
    /// Most bookings one confirm may move, `0..=6`.
    pub max_moves: u8,
    /// Set by the sweep when it relaxed a knob after a timeout; echoed to the events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relaxed: Option<String>,
}

impl Default for Strategy {
    fn default() -> Self {
        Strategy {
            max_tables: 3,
            require_adjacency: true,
            max_overage: 4,
            zone_id: None,
            avoid_tables: Vec::new(),
            deadline_ms: None,
            exhaustive: false,
            lookahead: true,
            relaxed: None,
            weights: Weights::default(),
            reassign: true,
            max_moves: 2,
        }
    }
}

fn ser_uuid_opt<S: serde::Serializer>(
    v: &Option<Uuid>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match v {
        Some(u) => s.serialize_str(&u.to_string()),
        None => s.serialize_none(),
    }
}

fn ser_uuids<S: serde::Serializer>(v: &[Uuid], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|u| u.to_string()))
}

fn bad(msg: String) -> AutoassignError {
    AutoassignError::InvalidStrategy(msg)
}

fn int_in(key: &str, v: &Value, min: i64, max: i64) -> Result<i64> {
    match v.as_i64() {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        Some(n) => Err(bad(format!("{key} = {n} is out of range {min}..{max}"))),
        None => Err(bad(format!("{key} must be an integer, got {v}"))),
    }
}

fn boolean(key: &str, v: &Value) -> Result<bool> {
    v.as_bool()
        .ok_or_else(|| bad(format!("{key} must be true or false, got {v}")))
}

pub fn parse_uuid(key: &str, v: &Value) -> Result<Uuid> {
    let text = v
        .as_str()
        .ok_or_else(|| bad(format!("{key} must be a uuid string, got {v}")))?;
    parse_uuid_text(text).ok_or_else(|| bad(format!("{key}: {text:?} is not a uuid")))
}

/// Parses the canonical 8-4-4-4-12 form (hyphens optional), as PostgreSQL prints it.
pub fn parse_uuid_text(text: &str) -> Option<Uuid> {
    let hex: Vec<u8> = text.bytes().filter(|b| *b != b'-').collect();
    if hex.len() != 32 || !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut bytes = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        bytes[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(Uuid::from_bytes(bytes))
}

fn weights(v: &Value, into: &mut Weights) -> Result<()> {
    let obj = v
        .as_object()
        .ok_or_else(|| bad(format!("weights must be an object, got {v}")))?;
    for (key, val) in obj {
        let n = int_in(&format!("weights.{key}"), val, 0, 1_000_000)?;
        match key.as_str() {
            "waste" => into.waste = n,
            "tables" => into.tables = n,
            "lookahead" => into.lookahead = n,
            "zone" => into.zone = n,
            "priority" => into.priority = n,
            other => return Err(bad(format!("unknown key weights.{other}"))),
        }
    }
    Ok(())
}

/// The longest strategy text accepted, in bytes (a real one is under 1 kB).
pub const MAX_STRATEGY_BYTES: usize = 16 * 1024;

impl Strategy {
    /// Parses a strategy from its jsonb text; `None` (SQL NULL) means all defaults.
    /// Every failure is [`AutoassignError::InvalidStrategy`] (22023): text over
    /// [`MAX_STRATEGY_BYTES`], numbers outside f64 (`1e400`), nesting deeper than
    /// serde_json's 128 levels, and everything [`Strategy::parse`] refuses.
    pub fn parse_text(text: Option<&str>) -> Result<Strategy> {
        let Some(text) = text else {
            return Ok(Strategy::default());
        };
        if text.len() > MAX_STRATEGY_BYTES {
            return Err(bad(format!(
                "the strategy is {} bytes; at most {MAX_STRATEGY_BYTES} are accepted",
                text.len()
            )));
        }
        let value: Value = serde_json::from_str(text)
            .map_err(|e| bad(format!("cannot read the strategy: {e}")))?;
        Strategy::parse(Some(&value))
    }

    /// Parses a strategy object; `None` (SQL NULL) means all defaults.
    pub fn parse(json: Option<&Value>) -> Result<Strategy> {
        let mut s = Strategy::default();
        let Some(json) = json else { return Ok(s) };
        let obj: &Map<String, Value> = json
            .as_object()
            .ok_or_else(|| bad(format!("strategy must be a jsonb object, got {json}")))?;
        for (key, v) in obj {
            match key.as_str() {
                "max_tables" => s.max_tables = int_in(key, v, 1, 6)? as u8,
                "require_adjacency" => s.require_adjacency = boolean(key, v)?,
                "max_overage" => s.max_overage = int_in(key, v, 0, 1000)? as i32,
                "zone_id" => {
                    s.zone_id = if v.is_null() {
                        None
                    } else {
                        Some(parse_uuid(key, v)?)
                    }
                }
                "avoid_tables" => {
                    let items = v.as_array().ok_or_else(|| {
                        bad(format!("avoid_tables must be an array of uuids, got {v}"))
                    })?;
                    s.avoid_tables = items
                        .iter()
                        .map(|item| parse_uuid("avoid_tables", item))
                        .collect::<Result<_>>()?;
                }
                "deadline_ms" => s.deadline_ms = Some(int_in(key, v, 1, 600_000)? as u32),
                "exhaustive" => s.exhaustive = boolean(key, v)?,
                "lookahead" => s.lookahead = boolean(key, v)?,
                "weights" => weights(v, &mut s.weights)?,
                "reassign" => s.reassign = boolean(key, v)?,
                "max_moves" => s.max_moves = int_in(key, v, 0, 6)? as u8,
                "relaxed" => {
                    let note = v
                        .as_str()
                        .filter(|n| n.len() <= 200)
                        .ok_or_else(|| bad(format!("relaxed must be a short string, got {v}")))?;
                    s.relaxed = Some(note.to_string());
                }
                other => return Err(bad(format!("unknown key {other:?}"))),
            }
        }
        Ok(s)
    }

    /// The effective knobs after defaults, as recorded in events and last_result.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// `source` says who called: api, inline, job, ops, manual, or any `[a-z_]{1,32}`.
pub fn check_source(source: &str) -> Result<()> {
    let ok = (1..=32).contains(&source.len())
        && source.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(AutoassignError::InvalidSource(source.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategy_table() {
        type Check = fn(&Strategy) -> bool;
        let ok: &[(Value, Check)] = &[
            (json!({}), |s| {
                s.max_tables == 3 && s.require_adjacency && s.max_overage == 4
            }),
            (json!({"max_tables": 1}), |s| s.max_tables == 1),
            (json!({"max_tables": 6}), |s| s.max_tables == 6),
            (json!({"require_adjacency": false}), |s| {
                !s.require_adjacency
            }),
            (json!({"deadline_ms": 5}), |s| s.deadline_ms == Some(5)),
            (json!({"weights": {"zone": 0}}), |s| s.weights.zone == 0),
            (json!({}), |s| s.reassign && s.max_moves == 2),
            (json!({"reassign": false, "max_moves": 0}), |s| {
                !s.reassign && s.max_moves == 0
            }),
            (
                json!({"zone_id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}),
                |s| s.zone_id.is_some(),
            ),
        ];
        for (input, check) in ok {
            let s = Strategy::parse(Some(input)).unwrap();
            assert!(check(&s), "{input}");
        }
        let bad = [
            json!({"max_tables": 0}),
            json!({"max_tables": 7}),
            json!({"max_tables": "3"}),
            json!({"max_overage": -1}),
            json!({"require_adjacency": 1}),
            json!({"deadline_ms": 0}),
            json!({"zone_id": "nope"}),
            json!({"avoid_tables": "x"}),
            json!({"weights": {"speed": 1}}),
            json!({"max_moves": 7}),
            json!({"reassign": "yes"}),
            json!({"colour": "red"}),
            json!([1, 2]),
        ];
        for input in bad {
            assert!(Strategy::parse(Some(&input)).is_err(), "{input} accepted");
        }
    }

    #[test]
    fn sources() {
        for ok in ["api", "inline", "job", "ops", "manual", "my_tool"] {
            assert!(check_source(ok).is_ok());
        }
        for bad in ["", "API", "a-b", "x y", &"a".repeat(33)] {
            assert!(check_source(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hostile_texts_are_22023() {
        let digits = format!("{{\"max_tables\": 1{}}}", "0".repeat(400));
        let deep = format!("{}1{}", "{\"a\":".repeat(200), "}".repeat(200));
        let long = format!("{{\"relaxed\": \"{}\"}}", "x".repeat(1_000_000));
        for text in [
            "{\"max_tables\": 1e400}",
            digits.as_str(),
            deep.as_str(),
            long.as_str(),
            "",
            "{",
            "NaN",
            "{\"max_tables\": NaN}",
            "{\"max_tables\": 3.0000000001}",
            "{\"deadline_ms\": 18446744073709551616}",
            "{\"weights\": {\"waste\": -1e308}}",
        ] {
            match Strategy::parse_text(Some(text)) {
                Err(AutoassignError::InvalidStrategy(msg)) => assert!(!msg.is_empty()),
                other => panic!("{:.60}: expected InvalidStrategy, got {other:?}", text),
            }
        }
        assert_eq!(Strategy::parse_text(None).unwrap(), Strategy::default());
        assert_eq!(
            Strategy::parse_text(Some("{}")).unwrap(),
            Strategy::default()
        );
    }

    /// Any JSON text at all: parse_text returns a strategy or InvalidStrategy (22023),
    /// never panics (which PostgreSQL would report as XX000).
    fn arb_json() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let key = prop_oneof![
            Just("max_tables".to_string()),
            Just("require_adjacency".to_string()),
            Just("max_overage".to_string()),
            Just("zone_id".to_string()),
            Just("avoid_tables".to_string()),
            Just("deadline_ms".to_string()),
            Just("exhaustive".to_string()),
            Just("lookahead".to_string()),
            Just("weights".to_string()),
            Just("waste".to_string()),
            Just("relaxed".to_string()),
            "[a-z_]{0,12}",
        ];
        let leaf = prop_oneof![
            Just("null".to_string()),
            any::<bool>().prop_map(|b| b.to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|f| format!("{f:e}")),
            "-?[0-9]{1,450}(\\.[0-9]{0,5})?(e[+-]?[0-9]{1,4})?",
            "\"[ -~]{0,40}\"",
            Just("\"0b5c7f4e-1f2a-4c3d-9e8f-0123456789ab\"".to_string()),
        ];
        leaf.prop_recursive(8, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec((key.clone(), inner), 0..6).prop_map(|kv| {
                    let body: Vec<String> = kv
                        .into_iter()
                        .map(|(k, v)| format!("\"{k}\":{v}"))
                        .collect();
                    format!("{{{}}}", body.join(","))
                }),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn any_json_is_a_strategy_or_22023(text in arb_json()) {
            match Strategy::parse_text(Some(&text)) {
                Ok(_) | Err(AutoassignError::InvalidStrategy(_)) => {}
                Err(other) => proptest::prop_assert!(false, "{text:.80}: {other:?}"),
            }
        }

        #[test]
        fn any_text_is_a_strategy_or_22023(text in "\\PC{0,200}") {
            match Strategy::parse_text(Some(&text)) {
                Ok(_) | Err(AutoassignError::InvalidStrategy(_)) => {}
                Err(other) => proptest::prop_assert!(false, "{text:.80}: {other:?}"),
            }
        }
    }
}
