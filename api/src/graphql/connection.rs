//! Relay connections built from service pages.

use async_graphql::OutputType;
use async_graphql::connection::{Connection, Edge};
use serde::Serialize;
use service::pagination::{Page, encode_cursor};

/// Wraps a page of rows as a connection whose cursors are the rows' sort keys.
pub fn from_page<Row, Key, Node, Fields>(
    page: Page<Row>,
    key: impl Fn(&Row) -> Key,
    node: impl Fn(Row) -> Node,
    fields: Fields,
) -> Connection<String, Node, Fields>
where
    Key: Serialize,
    Node: OutputType,
    Fields: async_graphql::ObjectType,
{
    let mut connection =
        Connection::with_additional_fields(page.has_previous_page, page.has_next_page, fields);
    connection.edges.extend(
        page.rows
            .into_iter()
            .map(|row| Edge::new(encode_cursor(&key(&row)), node(row))),
    );
    connection
}

/// The page size a list field will return, for complexity accounting.
pub fn page_size(first: Option<i32>, last: Option<i32>) -> usize {
    first
        .or(last)
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(service::pagination::DEFAULT_PAGE as usize)
        .min(service::pagination::MAX_PAGE as usize)
}
