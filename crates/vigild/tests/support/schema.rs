//! A checker for the JSON Schema keywords docs/status.schema.json uses, shared by the unit
//! test of the status document and the test against a running vigild.

use serde_json::Value;

/// The JSON Schema keywords docs/status.schema.json uses: type, enum, required,
/// properties, additionalProperties, items. Returns every violation.
pub fn violations(schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let is = |t: &str| match t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "number" => value.is_number(),
            "integer" => value.is_i64() || value.is_u64(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            _ => false,
        };
        if !types.iter().any(|t| is(t)) {
            out.push(format!("{path}: {value} is not {types:?}"));
            return;
        }
    }
    if let Some(Value::Array(allowed)) = schema.get("enum") {
        if !allowed.contains(value) {
            out.push(format!("{path}: {value} is not one of {allowed:?}"));
        }
    }
    if let Value::Object(fields) = value {
        for key in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !fields.contains_key(key) {
                out.push(format!("{path}: no {key}"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (key, v) in fields {
            let at = format!("{path}.{key}");
            match (properties.and_then(|p| p.get(key)), schema.get("additionalProperties")) {
                (Some(s), _) => violations(s, v, &at, out),
                (None, Some(Value::Bool(false))) => out.push(format!("{at}: not in the schema")),
                (None, Some(s)) if s.is_object() => violations(s, v, &at, out),
                (None, _) => {}
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (value, schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            violations(s, v, &format!("{path}[{i}]"), out);
        }
    }
}
