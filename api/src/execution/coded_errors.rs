//! Every error a client receives carries an `extensions.code`, on HTTP and
//! websockets alike. The resolvers' own errors have one already (see
//! `error.rs`); the pipeline labels the ones async-graphql raises itself
//! (parse and validation failures, its own limits, and input coercion, which
//! async-graphql does lazily, as each field reads its arguments) in every
//! response it hands to a transport.

use async_graphql::{Response, ServerError, Value};

use crate::graphql::error::code;

/// Gives each uncoded error the code of what went wrong.
pub fn label(response: &mut Response) {
    let nothing_ran = response.data == Value::Null;
    for error in &mut response.errors {
        if error
            .extensions
            .as_ref()
            .is_some_and(|x| x.get("code").is_some())
        {
            continue;
        }
        let message = error.message.as_str();
        let code = if is_coercion_error(error) {
            code::BAD_USER_INPUT
        } else if message == "Query is nested too deep."
            || message.starts_with("The recursion depth of the query")
        {
            code::QUERY_TOO_DEEP
        } else if message == "Query is too complex." {
            code::QUERY_TOO_COMPLEX
        } else if message.starts_with("The number of directives on the field") {
            code::TOO_MANY_DIRECTIVES
        } else if error.path.is_empty() && nothing_ran {
            code::GRAPHQL_VALIDATION_FAILED
        } else {
            // A resolver error without a code would be a bug of ours; the
            // client still gets a code it can switch on.
            code::INTERNAL
        };
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
}

/// An argument or variable that does not fit its type, found as a field
/// read it: the client's mistake, which no resolver saw.
fn is_coercion_error(error: &ServerError) -> bool {
    let message = error.message.as_str();
    message.starts_with("Failed to parse \"")
        || message.starts_with("Expected input type \"")
        || (message.starts_with("Variable ") && message.ends_with(" is not defined."))
}

/// Whether the request failed before anything executed: a parse,
/// validation or limit error, or input that does not fit its types. The
/// GraphQL-over-HTTP spec answers those with a 4xx. async-graphql coerces
/// arguments lazily, so a coercion error comes with a path and maybe a
/// `data` of nulls; when every error is one and no field produced a value,
/// nothing ran.
pub fn never_executed(response: &Response) -> bool {
    if response.errors.is_empty() {
        return false;
    }
    if response.data == Value::Null && response.errors.iter().all(|e| e.path.is_empty()) {
        return true;
    }
    let no_values = match &response.data {
        Value::Null => true,
        Value::Object(fields) => fields.values().all(|v| *v == Value::Null),
        _ => false,
    };
    no_values && response.errors.iter().all(is_coercion_error)
}
