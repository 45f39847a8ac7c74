use wasm_bindgen::prelude::*;

/// A newtype that represents Serde errors as JavaScript exceptions.
#[derive(Debug)]
pub struct Error(JsValue);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        #[wasm_bindgen]
        extern "C" {
            #[wasm_bindgen(js_name = String)]
            pub fn to_string(value: &JsValue) -> String;
        }

        to_string(&self.0).fmt(f)
    }
}

impl std::error::Error for Error {}

impl Error {
    /// Creates a JavaScript `Error` with a given message.
    pub fn new<T: std::fmt::Display>(msg: T) -> Self {
        Error(JsError::new(&msg.to_string()).into())
    }
}

impl serde::ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error::new(msg)
    }
}

impl serde::de::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error::new(msg)
    }

    // serde's default `invalid_type`/`invalid_value` format the value through
    // `Unexpected`'s `Display`, which uses `f64`'s `Display` and `str`'s `Debug`: every module
    // that deserializes anything links Rust's float and escape formatting (several KB of
    // wasm) for an error message. JavaScript formats those values itself, as serde_json
    // formats floats with its own `JsonUnexpected`.
    #[cold]
    fn invalid_type(unexp: serde::de::Unexpected, exp: &dyn serde::de::Expected) -> Self {
        Error::new(format_args!(
            "invalid type: {}, expected {}",
            JsUnexpected(unexp),
            exp
        ))
    }

    #[cold]
    fn invalid_value(unexp: serde::de::Unexpected, exp: &dyn serde::de::Expected) -> Self {
        Error::new(format_args!(
            "invalid value: {}, expected {}",
            JsUnexpected(unexp),
            exp
        ))
    }
}

/// `serde::de::Unexpected`, shown as serde shows it, with numbers and strings formatted by
/// JavaScript (`String(n)`, `JSON.stringify(s)`) rather than by `core::fmt`.
struct JsUnexpected<'a>(serde::de::Unexpected<'a>);

impl std::fmt::Display for JsUnexpected<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        use serde::de::Unexpected;

        #[wasm_bindgen]
        extern "C" {
            #[wasm_bindgen(js_name = String)]
            fn number_to_string(value: f64) -> String;
            #[wasm_bindgen(js_namespace = JSON, js_name = stringify)]
            fn quote(value: &str) -> String;
        }

        match self.0 {
            Unexpected::Bool(b) => write!(f, "boolean `{}`", b),
            Unexpected::Unsigned(i) => write!(f, "integer `{}`", i),
            Unexpected::Signed(i) => write!(f, "integer `{}`", i),
            Unexpected::Float(v) => {
                let text = number_to_string(v);
                // serde writes `1.0`, not `1`, so that a float never reads as an integer.
                let whole = text.bytes().all(|b| b.is_ascii_digit() || b == b'-');
                write!(f, "floating point `{}{}`", text, if whole { ".0" } else { "" })
            }
            Unexpected::Char(c) => write!(f, "character `{}`", c),
            Unexpected::Str(s) => write!(f, "string {}", quote(s)),
            Unexpected::Bytes(_) => f.write_str("byte array"),
            Unexpected::Unit => f.write_str("unit value"),
            Unexpected::Option => f.write_str("Option value"),
            Unexpected::NewtypeStruct => f.write_str("newtype struct"),
            Unexpected::Seq => f.write_str("sequence"),
            Unexpected::Map => f.write_str("map"),
            Unexpected::Enum => f.write_str("enum"),
            Unexpected::UnitVariant => f.write_str("unit variant"),
            Unexpected::NewtypeVariant => f.write_str("newtype variant"),
            Unexpected::TupleVariant => f.write_str("tuple variant"),
            Unexpected::StructVariant => f.write_str("struct variant"),
            Unexpected::Other(other) => f.write_str(other),
        }
    }
}

/// This conversion is needed for `?` to just work when using wasm-bindgen
/// imports that return JavaScript exceptions as `Result<T, JsValue>`.
impl From<JsValue> for Error {
    fn from(error: JsValue) -> Error {
        Error(error)
    }
}

// This conversion is needed for `?` to just work in wasm-bindgen exports
// that return `Result<T, JsValue>` to throw JavaScript exceptions.
impl From<Error> for JsValue {
    fn from(error: Error) -> JsValue {
        error.0
    }
}
