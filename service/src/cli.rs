//! Turns a bad flag or environment variable into one line that names it.

use std::error::Error as _;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};

/// Parses the command line and environment. On a bad value, prints one line
/// naming the variable and exits with status 2; `--help` and `--version`
/// behave as usual.
pub fn parse_or_exit<T: Parser>() -> T {
    match T::try_parse() {
        Ok(parsed) => parsed,
        Err(err) => match err.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => err.exit(),
            _ => {
                eprintln!("error: {}", describe::<T>(&err));
                std::process::exit(2);
            }
        },
    }
}

/// One line for a clap error: `PORT (--port): invalid value 'x': …`.
pub fn describe<T: CommandFactory>(err: &clap::Error) -> String {
    let string_context = |kind| match err.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    let Some(arg_text) = string_context(ContextKind::InvalidArg) else {
        return first_line(&err.to_string());
    };
    let value = string_context(ContextKind::InvalidValue).unwrap_or_default();
    let name = variable_name::<T>(&arg_text).unwrap_or(arg_text);
    let reason = match (err.source(), err.get(ContextKind::ValidValue)) {
        (Some(source), _) => source.to_string(),
        (None, Some(ContextValue::Strings(valid))) => {
            format!("expected one of {}", valid.join(", "))
        }
        _ => first_line(&err.to_string()),
    };
    format!("{name}: invalid value '{value}': {reason}")
}

/// `--port <PORT>` -> `PORT (--port)`, using the argument's environment variable.
fn variable_name<T: CommandFactory>(arg_text: &str) -> Option<String> {
    let long = arg_text.split_whitespace().next()?.strip_prefix("--")?;
    let command = T::command();
    let arg = command
        .get_arguments()
        .find(|a| a.get_long() == Some(long))?;
    let env = arg.get_env()?.to_string_lossy().into_owned();
    Some(format!("{env} (--{long})"))
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_owned()
}
