//! Relay connections built from service pages.

use async_graphql::OutputType;
use async_graphql::connection::{Connection, CursorType, Edge};
use serde::Serialize;
use serde::de::DeserializeOwned;
use service::pagination::{Page, decode_cursor, encode_cursor};

/// A row's sort key, encoded as an opaque cursor only when a client asks
/// for one: most lists are read by their nodes alone.
pub struct Cursor<Key>(Key);

impl<Key: Serialize + DeserializeOwned> CursorType for Cursor<Key> {
    type Error = service::Error;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        decode_cursor("cursor", s).map(Cursor)
    }

    fn encode_cursor(&self) -> String {
        encode_cursor(&self.0)
    }
}

/// Wraps a page of rows as a connection whose cursors are the rows' sort keys.
pub fn from_page<Row, Key, Node, Fields>(
    page: Page<Row>,
    key: impl Fn(&Row) -> Key,
    node: impl Fn(Row) -> Node,
    fields: Fields,
) -> Connection<Cursor<Key>, Node, Fields>
where
    Key: Serialize + DeserializeOwned + Send + Sync,
    Node: OutputType,
    Fields: async_graphql::ObjectType,
{
    let mut connection =
        Connection::with_additional_fields(page.has_previous_page, page.has_next_page, fields);
    connection.edges.extend(
        page.rows
            .into_iter()
            .map(|row| Edge::new(Cursor(key(&row)), node(row))),
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
