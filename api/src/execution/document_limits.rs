//! Limits on what a GraphQL document may cost before it is validated.
//!
//! async-graphql validates a document by walking it with every fragment
//! spread expanded, and it does so synchronously: a 1 KB document whose
//! fragments each spread the next one twice expands to billions of
//! selections, which no request timeout can interrupt. The pipeline checks
//! these first, on HTTP and websockets alike: it counts the document's tokens
//! before parsing, then its expanded selections, aliases, directives and
//! nesting with each fragment counted once (memoised), so its own cost is
//! linear in the document's size. A refusal is a request error with its own
//! `extensions.code`; nothing is validated or executed.

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensionValues, Request, ServerError, ServerResult};

use crate::graphql::error::code;

/// Deepest nesting of selection sets, fragment spreads included. The same
/// bound as async-graphql's own recursion limit, which it checks only after
/// expanding every spread.
pub const MAX_NESTING: usize = 32;

/// Most `__schema` and `__type` fields a document may ask for, fragments
/// expanded. GraphiQL asks once; each answer is the whole schema, which no
/// other cost limit weighs.
pub const MAX_INTROSPECTION: usize = 2;

/// Deepest nesting of brackets (`{`, `[`, `(`) a document may have. The
/// parser recurses on each, values included (a list in a list in a list
/// ...), so a deep enough document would overflow its stack: this is
/// checked before anything parses a document.
pub const MAX_BRACKETS: usize = 64;

/// The settings, from `Limits`.
#[derive(Clone, Copy, Debug)]
pub struct DocumentLimits {
    pub tokens: usize,
    pub selections: usize,
    pub aliases: usize,
    pub directives: usize,
}

impl DocumentLimits {
    pub fn from_limits(limits: &crate::app::Limits) -> Self {
        Self {
            tokens: limits.max_query_tokens,
            selections: limits.max_query_selections,
            aliases: limits.max_query_aliases,
            directives: limits.max_query_directives,
        }
    }

    /// Checks the document's size, parses it (once: async-graphql reuses
    /// the parsed document) and checks what it expands to. Returns its
    /// lexical tokens, which its parsed size grows with.
    pub fn admit(&self, request: &mut Request) -> ServerResult<usize> {
        let tokens = self.check_tokens(&request.query)?;
        let document = request.parsed_query()?;
        self.check(document)?;
        Ok(tokens)
    }

    fn check_tokens(&self, query: &str) -> ServerResult<usize> {
        let scan = scan(query, self.tokens);
        if scan.tokens > self.tokens {
            return Err(refusal(
                code::TOO_MANY_TOKENS,
                format!("the document has more than {} tokens", self.tokens),
            ));
        }
        if scan.brackets > MAX_BRACKETS {
            return Err(refusal(
                code::QUERY_TOO_DEEP,
                format!("the document nests brackets more than {MAX_BRACKETS} deep"),
            ));
        }
        Ok(scan.tokens)
    }

    /// Refuses a document whose expansion exceeds a limit.
    pub fn check(&self, document: &ExecutableDocument) -> ServerResult<()> {
        let mut walk = Walk {
            document,
            limits: self,
            fragments: HashMap::new(),
        };
        let mut total = Cost::default();
        for (_, operation) in document.operations.iter() {
            let operation = &operation.node;
            total.directives = total
                .directives
                .saturating_add(operation.directives.len())
                .saturating_add(
                    operation
                        .variable_definitions
                        .iter()
                        .map(|v| v.node.directives.len())
                        .sum(),
                );
            let cost = walk.selection_set(&operation.selection_set.node, 0)?;
            total.add(cost);
            self.within(&total)?;
        }
        Ok(())
    }

    fn within(&self, cost: &Cost) -> ServerResult<()> {
        if cost.selections > self.selections {
            return Err(refusal(
                code::QUERY_TOO_COMPLEX,
                format!(
                    "the document selects more than {} fields and fragments once its fragments are expanded",
                    self.selections
                ),
            ));
        }
        if cost.aliases > self.aliases {
            return Err(refusal(
                code::TOO_MANY_ALIASES,
                format!("the document has more than {} aliases", self.aliases),
            ));
        }
        if cost.introspection > MAX_INTROSPECTION {
            return Err(refusal(
                code::QUERY_TOO_COMPLEX,
                format!("the document asks for the schema more than {MAX_INTROSPECTION} times"),
            ));
        }
        if cost.directives > self.directives {
            return Err(refusal(
                code::TOO_MANY_DIRECTIVES,
                format!("the document has more than {} directives", self.directives),
            ));
        }
        Ok(())
    }
}

/// What a selection set costs once expanded. `height` counts the nested
/// selection sets, itself included.
#[derive(Clone, Copy, Default, Debug)]
struct Cost {
    selections: usize,
    aliases: usize,
    directives: usize,
    introspection: usize,
    height: usize,
}

impl Cost {
    /// Adds a sibling's cost (saturating: a huge count is refused anyway).
    fn add(&mut self, other: Cost) {
        self.selections = self.selections.saturating_add(other.selections);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.directives = self.directives.saturating_add(other.directives);
        self.introspection = self.introspection.saturating_add(other.introspection);
        self.height = self.height.max(other.height);
    }

    /// Adds the cost of a selection set nested one level below.
    fn nest(&mut self, inner: Cost) {
        self.add(Cost {
            height: inner.height + 1,
            ..inner
        });
    }
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    limits: &'a DocumentLimits,
    /// Each fragment's cost once known; `None` while it is being walked,
    /// so that a cycle is caught instead of followed.
    fragments: HashMap<&'a str, Option<Cost>>,
}

impl<'a> Walk<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet, depth: usize) -> ServerResult<Cost> {
        if set.items.is_empty() {
            return Ok(Cost::default());
        }
        if depth > MAX_NESTING {
            return Err(too_deep());
        }
        let mut cost = Cost {
            height: 1,
            ..Cost::default()
        };
        for selection in &set.items {
            cost.selections = cost.selections.saturating_add(1);
            cost.directives = cost
                .directives
                .saturating_add(selection.node.directives().len());
            let inner = match &selection.node {
                Selection::Field(field) => {
                    if field.node.alias.is_some() {
                        cost.aliases = cost.aliases.saturating_add(1);
                    }
                    if matches!(field.node.name.node.as_str(), "__schema" | "__type") {
                        cost.introspection = cost.introspection.saturating_add(1);
                    }
                    self.selection_set(&field.node.selection_set.node, depth + 1)?
                }
                Selection::InlineFragment(fragment) => {
                    self.selection_set(&fragment.node.selection_set.node, depth + 1)?
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str(), depth + 1)?
                }
            };
            cost.nest(inner);
            // A fragment's own cost is part of every operation that spreads
            // it, so checking as we go refuses a bomb at its first fragment
            // past the limit.
            self.limits.within(&cost)?;
        }
        Ok(cost)
    }

    fn fragment(&mut self, name: &'a str, depth: usize) -> ServerResult<Cost> {
        match self.fragments.get(name) {
            Some(Some(cost)) => {
                if depth + cost.height > MAX_NESTING + 1 {
                    return Err(too_deep());
                }
                return Ok(*cost);
            }
            Some(None) => {
                return Err(refusal(
                    code::GRAPHQL_VALIDATION_FAILED,
                    format!("fragment {name} spreads itself"),
                ));
            }
            None => {}
        }
        // An unknown fragment costs nothing here; validation names it.
        let Some(fragment) = self.document.fragments.get(name) else {
            return Ok(Cost::default());
        };
        self.fragments.insert(name, None);
        let mut cost = self.selection_set(&fragment.node.selection_set.node, depth)?;
        cost.directives = cost
            .directives
            .saturating_add(fragment.node.directives.len());
        self.fragments.insert(name, Some(cost));
        Ok(cost)
    }
}

fn too_deep() -> ServerError {
    refusal(
        code::QUERY_TOO_DEEP,
        format!("the document nests selections and fragments more than {MAX_NESTING} levels deep"),
    )
}

pub(crate) fn refusal(code: &str, message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
    error
}

/// Whether a document can be parsed without risk to the parser's stack.
pub fn parses_safely(query: &str) -> bool {
    scan(query, usize::MAX).brackets <= MAX_BRACKETS
}

/// What a lexical pass over a document finds.
#[derive(Debug, PartialEq, Eq)]
pub struct Scan {
    /// Tokens, up to one past the `max` given.
    pub tokens: usize,
    /// The deepest nesting of brackets, up to one past `MAX_BRACKETS`.
    pub brackets: usize,
}

/// Counts the document's lexical tokens and its deepest nesting of
/// brackets, stopping once past a limit so that a huge document costs no
/// more than a small one. Strings and comments are skipped whole;
/// anything the lexer does not know counts as a token and is left to the
/// parser to refuse.
pub fn scan(source: &str, max_tokens: usize) -> Scan {
    let bytes = source.as_bytes();
    let mut i = 0;
    let mut tokens = 0;
    let (mut depth, mut deepest) = (0usize, 0usize);
    while i < bytes.len() && tokens <= max_tokens && deepest <= MAX_BRACKETS {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'.' if bytes[i..].starts_with(b"...") => i += 3,
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                while i < bytes.len()
                    && matches!(bytes[i], b'_' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
                {
                    i += 1;
                }
            }
            b'-' | b'0'..=b'9' => {
                i += 1;
                while i < bytes.len()
                    && matches!(bytes[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    i += 1;
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
                i += 1;
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += 1,
        }
        tokens += 1;
    }
    Scan {
        tokens,
        brackets: deepest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: DocumentLimits = DocumentLimits {
        tokens: 2000,
        selections: 1000,
        aliases: 50,
        directives: 50,
    };

    fn check(query: &str) -> Result<(), String> {
        let document = async_graphql::parser::parse_query(query).unwrap();
        LIMITS.check(&document).map_err(|e| {
            e.extensions
                .and_then(|x| x.get("code").cloned())
                .map(|c| c.to_string())
                .unwrap_or_default()
        })
    }

    #[test]
    fn doubling_fragments_are_refused_as_too_complex() {
        let query = test_support::doubling_fragments(30);
        assert!(query.len() < 1300, "{}", query.len());
        assert_eq!(check(&query), Err("\"QUERY_TOO_COMPLEX\"".into()));
    }

    #[test]
    fn a_few_doublings_are_fine() {
        assert_eq!(check(&test_support::doubling_fragments(5)), Ok(()));
    }

    #[test]
    fn a_fragment_that_spreads_itself_is_refused() {
        let query = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        assert_eq!(check(query), Err("\"GRAPHQL_VALIDATION_FAILED\"".into()));
    }

    #[test]
    fn aliases_count_once_per_expansion() {
        let aliases: String = (0..30).map(|i| format!("a{i}: __typename ")).collect();
        let once = format!("{{ ...F }} fragment F on Query {{ {aliases} }}");
        assert_eq!(check(&once), Ok(()));
        let twice = format!(
            "{{ ...F x: teams {{ ...G }} }} fragment F on Query {{ {aliases} }} fragment G on Query {{ ...F }}"
        );
        assert_eq!(check(&twice), Err("\"TOO_MANY_ALIASES\"".into()));
    }

    #[test]
    fn the_schema_may_be_asked_for_twice_at_most() {
        assert_eq!(
            check("{ __schema { queryType { name } } __type(name: \"Match\") { name } }"),
            Ok(())
        );
        let thrice = "{ a: __schema { queryType { name } } b: __schema { queryType { name } } c: __type(name: \"Match\") { name } }";
        assert_eq!(check(thrice), Err("\"QUERY_TOO_COMPLEX\"".into()));
    }

    #[test]
    fn directives_are_counted() {
        let directives = "@skip(if: false) ".repeat(51);
        let query = format!("{{ __typename {directives} }}");
        assert_eq!(check(&query), Err("\"TOO_MANY_DIRECTIVES\"".into()));
    }

    #[test]
    fn a_fragment_chain_deeper_than_the_nesting_limit_is_refused() {
        let mut query = "{ ...F0 }".to_owned();
        for i in 0..40 {
            query.push_str(&format!(" fragment F{i} on Query {{ ...F{} }}", i + 1));
        }
        query.push_str(" fragment F40 on Query { __typename }");
        assert_eq!(check(&query), Err("\"QUERY_TOO_DEEP\"".into()));
    }

    #[test]
    fn a_fragment_used_twice_at_different_depths_is_checked_at_each() {
        // F is 30 levels tall: fine at the top, too deep under two fields.
        let mut body = "__typename".to_owned();
        for _ in 0..29 {
            body = format!("a {{ {body} }}");
        }
        let fine = format!("{{ ...F }} fragment F on Query {{ {body} }}");
        assert_eq!(check(&fine), Ok(()));
        let deep =
            format!("{{ ...F b {{ c {{ d {{ ...F }} }} }} }} fragment F on Query {{ {body} }}");
        assert_eq!(check(&deep), Err("\"QUERY_TOO_DEEP\"".into()));
    }

    fn count_tokens(source: &str, max: usize) -> usize {
        scan(source, max).tokens
    }

    #[test]
    fn brackets_too_deep_for_the_parser_are_found_before_it_runs() {
        let deep = format!(
            "{{ teams(search: {}\"x\"{}) {{ totalCount }} }}",
            "[".repeat(5000),
            "]".repeat(5000)
        );
        assert!(!parses_safely(&deep));
        assert_eq!(scan(&deep, usize::MAX).brackets, MAX_BRACKETS + 1);
        assert!(parses_safely("{ a(b: [[1]], c: \"[[[[[[\") { d } }"));
        assert_eq!(scan("{ a(b: [[1]]) { d } }", 100).brackets, 4);
    }

    #[test]
    fn tokens_are_counted_as_the_lexer_sees_them() {
        assert_eq!(count_tokens("{ a(b: \"x y, z\") ...F }", 100), 10);
        assert_eq!(count_tokens("# a comment\n{ a }", 100), 3);
        assert_eq!(
            count_tokens("{ a(b: \"\"\"x \\\"\"\" y\"\"\", c: -1.5e3) }", 100),
            11
        );
        assert_eq!(count_tokens(&"a ".repeat(1_000_000), 10), 11);
    }
}
